/**
 * What can be answered without asking CI again, for one bucket:
 *
 * - a finished run (Success, Failed, Cancel) never changes, so its detail is kept in a bounded LRU, by entries and by
 *   bytes; running or paused runs are never kept;
 * - a workflow changes rarely (a rename, a pause), so a lookup is kept for a short TTL.
 *
 * Behind this process's LRU, a {@link SharedReadStore} (Redis, when replicas share it) keeps the same answers for
 * every replica, under the bucket's own keys with their own lifetimes, so a run one replica read is free for the
 * others. Hits and misses are counted for metrics. Shared by every request of the process: these are CI's own
 * answers for the bucket's account, never anything derived from a caller.
 */
import { LRUCache } from 'lru-cache';
import { DEFAULT_DETAIL_CACHE_ENTRIES, DEFAULT_WORKFLOW_CACHE_TTL_MS } from '../defaults.js';
import { child, DATE_PRESERVING_JSON, isRecord } from '../records.js';
import type { MediaJobId, RunId, WorkflowId } from './inputs.js';
import { isFinishedState, type MediaJob, type Workflow, type WorkflowExecutionDetail } from './types.js';

export interface ReadCacheOptions {
  /** Finished runs kept; 0 keeps none. @default 10_000 */
  readonly detailEntries?: number;
  /** Their estimated size in bytes, at most. @default 32 MiB */
  readonly detailBytes?: number;
  /** How long a workflow lookup is reused; 0 never. @default 30_000 */
  readonly workflowTtlMs?: number;
  /** The replicas' common store, and the prefix of this bucket's keys in it. */
  readonly shared?: { readonly store: SharedReadStore; readonly prefix: string } | undefined;
  /** CI reported a run finished (per-workflow metrics watch this). */
  readonly onFinishedRun?: ((detail: WorkflowExecutionDetail) => void) | undefined;
}

/** Values every replica reads and writes (Redis); failures are misses, never errors. */
export interface SharedReadStore {
  get(keys: readonly string[]): Promise<ReadonlyArray<string | undefined>>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
}

/**
 * The values under `keys` in a shared store, parsed with their dates restored; undefined where there is none. Not
 * yet checked: the caller checks each against what it asked for before believing it.
 */
export async function readShared(store: SharedReadStore, keys: readonly string[]): Promise<unknown[]> {
  const values = await store.get(keys);
  return values.map((value) => (value === undefined ? undefined : DATE_PRESERVING_JSON.parse(value)));
}

/** Keeps `value` under `key` for every replica, in the background: a store out of reach is a miss later. */
export function writeShared(store: SharedReadStore, key: string, value: object, ttlMs: number): void {
  void store.set(key, DATE_PRESERVING_JSON.stringify(value), ttlMs);
}

/** How long a finished run stays in the shared store: it never changes, but the store is not an archive. */
const SHARED_DETAIL_TTL_MS = 3_600_000;

export interface CacheCounts {
  hits: number;
  misses: number;
}

const MAX_WORKFLOWS = 10_000;

export class ReadCache {
  readonly #details: LRUCache<RunId, WorkflowExecutionDetail> | undefined;
  readonly #workflows: LRUCache<WorkflowId, Workflow> | undefined;
  readonly #jobs: LRUCache<MediaJobId, MediaJob> | undefined;
  readonly detailCounts: CacheCounts = { hits: 0, misses: 0 };
  readonly workflowCounts: CacheCounts = { hits: 0, misses: 0 };
  readonly jobCounts: CacheCounts = { hits: 0, misses: 0 };
  readonly #shared: ReadCacheOptions['shared'];
  readonly #onFinishedRun: ReadCacheOptions['onFinishedRun'];
  readonly #workflowTtlMs: number;

  constructor(options: ReadCacheOptions = {}) {
    const entries = options.detailEntries ?? DEFAULT_DETAIL_CACHE_ENTRIES;
    const ttl = options.workflowTtlMs ?? DEFAULT_WORKFLOW_CACHE_TTL_MS;
    this.#workflowTtlMs = ttl;
    // Each kind reaches the shared level only through its own LRU: a kind switched off (0) is not shared either.
    this.#shared = options.shared;
    this.#onFinishedRun = options.onFinishedRun;
    this.#details =
      entries > 0
        ? new LRUCache({
            max: entries,
            maxSize: options.detailBytes ?? 32 * 1024 * 1024,
            sizeCalculation: sizeOf,
          })
        : undefined;
    this.#workflows = ttl > 0 ? new LRUCache({ max: MAX_WORKFLOWS, ttl }) : undefined;
    // A finished media job never changes either: as many as finished runs, each a few hundred bytes.
    this.#jobs = entries > 0 ? new LRUCache({ max: entries }) : undefined;
  }

  /** The finished run's detail: from this process, else from the replicas' store (kept here from then on). */
  async detail(runId: RunId): Promise<WorkflowExecutionDetail | undefined> {
    if (!this.#details) return undefined;
    let hit = this.#details.get(runId);
    if (!hit && this.#shared) {
      const [stored] = await this.#read([`run:${runId}`]);
      hit = isStoredRun(stored, runId) ? stored : undefined;
      if (hit) this.#details.set(runId, hit);
    }
    count(this.detailCounts, hit !== undefined);
    return hit;
  }

  /** Keeps the detail only if the run has finished: nothing about it can change any more. */
  rememberDetail(detail: WorkflowExecutionDetail): void {
    if (!isFinishedState(detail.state)) return;
    this.#onFinishedRun?.(detail);
    if (!this.#details) return;
    this.#details.set(detail.runId, detail);
    this.#write(`run:${detail.runId}`, detail, SHARED_DETAIL_TTL_MS);
  }

  /** The cached workflows among `ids` (this process's, then the replicas' store), and the ids still to ask for. */
  workflows(ids: readonly WorkflowId[]): Promise<Found<WorkflowId, Workflow>> {
    return this.#many(ids, this.#workflows, 'workflow', this.workflowCounts, isStoredWorkflow);
  }

  rememberWorkflows(workflows: readonly Workflow[]): void {
    if (!this.#workflows) return;
    for (const workflow of workflows) {
      this.#workflows.set(workflow.workflowId, workflow);
      this.#write(`workflow:${workflow.workflowId}`, workflow, this.#workflowTtlMs);
    }
  }

  /** The cached finished media jobs among `ids`, and the ids still to ask for. */
  mediaJobs(ids: readonly MediaJobId[]): Promise<Found<MediaJobId, MediaJob>> {
    return this.#many(ids, this.#jobs, 'job', this.jobCounts, isStoredJob);
  }

  /** Keeps the jobs that have finished: nothing about them can change any more. */
  rememberMediaJobs(jobs: readonly MediaJob[]): void {
    if (!this.#jobs) return;
    for (const job of jobs) {
      if (!isFinishedState(job.state)) continue;
      this.#jobs.set(job.jobId, job);
      this.#write(`job:${job.jobId}`, job, SHARED_DETAIL_TTL_MS);
    }
  }

  /** Ids looked up in this process's LRU, then in the replicas' store (kept here from then on). */
  async #many<K extends string, V extends object>(
    ids: readonly K[],
    local: LRUCache<K, V> | undefined,
    kind: string,
    counts: CacheCounts,
    isStored: (value: unknown, id: K) => value is V,
  ): Promise<Found<K, V>> {
    const cached: V[] = [];
    let missing: K[] = [];
    if (!local) return { cached, missing: [...ids] };
    for (const id of ids) {
      const hit = local.get(id);
      if (hit) cached.push(hit);
      else missing.push(id);
    }
    if (missing.length > 0 && this.#shared) {
      const stored = await this.#read(missing.map((id) => `${kind}:${id}`));
      const stillMissing: K[] = [];
      missing.forEach((id, index) => {
        const value = stored[index];
        if (isStored(value, id)) {
          cached.push(value);
          local.set(id, value);
        } else stillMissing.push(id);
      });
      missing = stillMissing;
    }
    counts.hits += cached.length;
    counts.misses += missing.length;
    return { cached, missing };
  }

  /** The workflow changed (this gateway paused or activated it): the next read, on any replica, asks CI. */
  forgetWorkflow(id: WorkflowId): void {
    this.#workflows?.delete(id);
    const shared = this.#shared;
    if (shared) void shared.store.delete(`${shared.prefix}workflow:${id}`);
  }

  async #read(keys: readonly string[]): Promise<unknown[]> {
    const shared = this.#shared;
    if (!shared) return [];
    return readShared(
      shared.store,
      keys.map((key) => shared.prefix + key),
    );
  }

  #write(key: string, value: object, ttlMs: number): void {
    const shared = this.#shared;
    if (shared) writeShared(shared.store, shared.prefix + key, value, ttlMs);
  }
}

/**
 * What the store gave back, checked to be what was asked for: another version of the gateway may have written it,
 * and an answer for another id is no answer.
 */
export function isStoredRun(value: unknown, runId: RunId): value is WorkflowExecutionDetail {
  return (
    isRecord(value) &&
    value['runId'] === runId &&
    typeof child(value, 'state') === 'string' &&
    Array.isArray(value['tasks']) &&
    value['createdAt'] instanceof Date
  );
}

function isStoredWorkflow(value: unknown, workflowId: WorkflowId): value is Workflow {
  return isRecord(value) && value['workflowId'] === workflowId && typeof value['state'] === 'string';
}

function isStoredJob(value: unknown, jobId: MediaJobId): value is MediaJob {
  return isRecord(value) && value['jobId'] === jobId && Array.isArray(value['outputObjects']);
}

/** What a lookup found, and what is left to ask CI for. */
export interface Found<K, V> {
  readonly cached: V[];
  readonly missing: K[];
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
