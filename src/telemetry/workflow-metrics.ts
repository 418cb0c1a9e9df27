/**
 * Per-workflow run metrics, which CI's own monitoring (split by account and bucket only) does not give: runs
 * finished by workflow and state, and how long they took. Fed by what the gateway already observes: every run CI
 * reports finished to it, through any read (a query, a poll, a callback's re-read), counted once per replica (a run
 * already counted, or already in the read cache, is not counted again; with Redis a run one replica read is not
 * read again by the others).
 *
 * Stuck runs come from the workflows' scans (`live/run-scan.ts`): each scan of a workflow whose runs someone watches
 * says how many of its unfinished runs started more than {@link STUCK_AFTER_SECONDS} ago, and when it was made (so
 * an alert can tell a fresh answer from the last one of a scan that has stopped).
 *
 * Label values are bounded: the first `maxWorkflows` workflows seen get their own series, the rest share `other`.
 */
import { LRUCache } from 'lru-cache';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  isStuck,
  runDurationSeconds,
  type WorkflowExecutionDetail,
  type WorkflowExecutionSummary,
} from '../ci/types.js';
import { DEFAULT_MAX_WORKFLOW_LABELS } from '../defaults.js';
import { BoundedLabels } from './bounded-labels.js';

/** A run running or paused this long is stuck (as `Workflow.stats` counts it by default). */
export const STUCK_AFTER_SECONDS = 3_600;
/** Runs remembered as counted, so a run read twice is counted once. */
const COUNTED_RUNS = 100_000;

export class WorkflowRunMetrics {
  readonly #finished: Counter<'bucket' | 'workflow' | 'state'>;
  readonly #duration: Histogram<'bucket' | 'workflow'>;
  readonly #stuck: Gauge<'bucket' | 'workflow'>;
  readonly #scannedAt: Gauge<'bucket' | 'workflow'>;
  /** CI's workflow ids are unique across buckets: one bound for all of them. */
  readonly #workflows: BoundedLabels;
  readonly #counted = new LRUCache<string, true>({ max: COUNTED_RUNS });

  constructor(registry: Registry, maxWorkflows = DEFAULT_MAX_WORKFLOW_LABELS) {
    this.#workflows = new BoundedLabels(maxWorkflows);
    this.#finished = new Counter({
      name: 'ci_workflow_runs_finished_total',
      help: 'Runs this replica saw finished, by bucket, workflow (the first ones seen; the rest `other`) and state.',
      labelNames: ['bucket', 'workflow', 'state'],
      registers: [registry],
    });
    this.#duration = new Histogram({
      name: 'ci_workflow_run_duration_seconds',
      help: 'Seconds from a finished run’s start to its last task’s end, by bucket and workflow.',
      labelNames: ['bucket', 'workflow'],
      buckets: [5, 15, 30, 60, 120, 300, 600, 1_800, 3_600, 7_200, 21_600],
      registers: [registry],
    });
    this.#stuck = new Gauge({
      name: 'ci_workflow_runs_stuck',
      help: `Unfinished runs that started more than ${STUCK_AFTER_SECONDS} s ago, as the workflow's last scan listed them.`,
      labelNames: ['bucket', 'workflow'],
      registers: [registry],
    });
    this.#scannedAt = new Gauge({
      name: 'ci_workflow_last_scan_timestamp_seconds',
      help: "When this replica last heard a scan of the workflow's unfinished runs (Unix seconds).",
      labelNames: ['bucket', 'workflow'],
      registers: [registry],
    });
  }

  /** A complete scan of the workflow's unfinished runs, as this replica heard it. */
  observeScan(
    bucket: string,
    workflowId: string,
    runs: readonly WorkflowExecutionSummary[],
    now: Date,
  ): void {
    const workflow = this.#workflows.of(workflowId);
    const stuck = runs.filter((run) => isStuck(run, now, STUCK_AFTER_SECONDS * 1000)).length;
    this.#stuck.set({ bucket, workflow }, stuck);
    this.#scannedAt.set({ bucket, workflow }, now.getTime() / 1000);
  }

  /** CI reported this run finished: counted once, its duration observed if its tasks say when they ended. */
  observe(bucket: string, run: WorkflowExecutionDetail): void {
    const key = `${bucket}/${run.runId}`;
    if (this.#counted.has(key)) return;
    this.#counted.set(key, true);
    const workflow = this.#workflows.of(run.workflowId);
    this.#finished.inc({ bucket, workflow, state: run.state });
    const seconds = runDurationSeconds(run);
    if (seconds !== undefined && seconds >= 0) this.#duration.observe({ bucket, workflow }, seconds);
  }
}
