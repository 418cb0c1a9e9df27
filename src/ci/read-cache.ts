/**
 * What can be answered without asking CI again:
 *
 * - a finished run (Success, Failed, Cancel) never changes, so its detail is kept in a bounded LRU, by entries and by
 *   bytes; running or paused runs are never kept;
 * - a workflow changes rarely (a rename, a pause), so a lookup is kept for a short TTL.
 *
 * Hits and misses are counted for metrics. Shared by every request of the process: these are CI's own answers for
 * the one set of credentials the process holds, never anything derived from a caller.
 */
import { LRUCache } from 'lru-cache';
import { DEFAULT_DETAIL_CACHE_ENTRIES, DEFAULT_WORKFLOW_CACHE_TTL_MS } from '../defaults.js';
import type { RunId, WorkflowId } from './inputs.js';
import { isFinishedState, type Workflow, type WorkflowExecutionDetail } from './types.js';

export interface ReadCacheOptions {
  /** Finished runs kept; 0 keeps none. @default 10_000 */
  readonly detailEntries?: number;
  /** Their estimated size in bytes, at most. @default 32 MiB */
  readonly detailBytes?: number;
  /** How long a workflow lookup is reused; 0 never. @default 30_000 */
  readonly workflowTtlMs?: number;
}

export interface CacheCounts {
  hits: number;
  misses: number;
}

const MAX_WORKFLOWS = 10_000;

export class ReadCache {
  readonly #details: LRUCache<RunId, WorkflowExecutionDetail> | undefined;
  readonly #workflows: LRUCache<WorkflowId, Workflow> | undefined;
  readonly detailCounts: CacheCounts = { hits: 0, misses: 0 };
  readonly workflowCounts: CacheCounts = { hits: 0, misses: 0 };

  constructor(options: ReadCacheOptions = {}) {
    const entries = options.detailEntries ?? DEFAULT_DETAIL_CACHE_ENTRIES;
    const ttl = options.workflowTtlMs ?? DEFAULT_WORKFLOW_CACHE_TTL_MS;
    this.#details =
      entries > 0
        ? new LRUCache({
            max: entries,
            maxSize: options.detailBytes ?? 32 * 1024 * 1024,
            sizeCalculation: sizeOf,
          })
        : undefined;
    this.#workflows = ttl > 0 ? new LRUCache({ max: MAX_WORKFLOWS, ttl }) : undefined;
  }

  detail(runId: RunId): WorkflowExecutionDetail | undefined {
    const hit = this.#details?.get(runId);
    if (this.#details) count(this.detailCounts, hit !== undefined);
    return hit;
  }

  /** Keeps the detail only if the run has finished: nothing about it can change any more. */
  rememberDetail(detail: WorkflowExecutionDetail): void {
    if (isFinishedState(detail.state)) this.#details?.set(detail.runId, detail);
  }

  /** The cached workflows among `ids`, and the ids still to ask for. */
  workflows(ids: readonly WorkflowId[]): { cached: Workflow[]; missing: WorkflowId[] } {
    const cached: Workflow[] = [];
    const missing: WorkflowId[] = [];
    for (const id of ids) {
      const hit = this.#workflows?.get(id);
      if (hit) cached.push(hit);
      else missing.push(id);
      if (this.#workflows) count(this.workflowCounts, hit !== undefined);
    }
    return { cached, missing };
  }

  rememberWorkflows(workflows: readonly Workflow[]): void {
    for (const workflow of workflows) this.#workflows?.set(workflow.workflowId, workflow);
  }

  /** The workflow changed (this gateway paused or activated it): the next read asks CI. */
  forgetWorkflow(id: WorkflowId): void {
    this.#workflows?.delete(id);
  }
}

function count(counts: CacheCounts, hit: boolean): void {
  if (hit) counts.hits += 1;
  else counts.misses += 1;
}

/** A cheap estimate of what a detail holds in memory: its strings, twice for UTF-16, plus per-object overhead. */
function sizeOf(detail: WorkflowExecutionDetail): number {
  let chars =
    detail.runId.length +
    detail.workflowId.length +
    detail.objectKey.length +
    (detail.workflowName?.length ?? 0);
  for (const task of detail.tasks) {
    chars += task.type.length + task.state.length + (task.name?.length ?? 0) + (task.jobId?.length ?? 0);
    chars += (task.templateId?.length ?? 0) + (task.templateName?.length ?? 0) + (task.code?.length ?? 0);
    chars += task.message?.length ?? 0;
  }
  return chars * 2 + 200 + detail.tasks.length * 300;
}
