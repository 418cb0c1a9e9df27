/**
 * A watched workflow (optionally only one batch trigger's runs): its subscribers get every new run (STARTED) and
 * every change of a run (UPDATED, FINISHED) from now on. Each replica's first look tells it which runs are old
 * news; polls compare the newest page with what was last told.
 */
import type { BatchJobId, WorkflowId } from '../ci/inputs.js';
import {
  type ExecutionState,
  isFinishedState,
  type WorkflowExecutionDetail,
  type WorkflowExecutionSummary,
} from '../ci/types.js';
import type { Observation, WatchKind } from './watch-registry.js';

/** Runs of a workflow compared between polls: the newest page. */
export const WORKFLOW_POLL_PAGE_SIZE = 20;
/** Runs whose last state a workflow watch remembers; the oldest are forgotten first. */
const REMEMBERED_RUNS_PER_WATCH = 1_000;

export const WORKFLOW_EVENT_KINDS = ['STARTED', 'UPDATED', 'FINISHED'] as const;
export type WorkflowEventKind = (typeof WORKFLOW_EVENT_KINDS)[number];

export interface WorkflowEvent {
  readonly kind: WorkflowEventKind;
  readonly execution: WorkflowExecutionSummary | WorkflowExecutionDetail;
  readonly at: Date;
}

export interface WorkflowWatch {
  readonly workflowId: WorkflowId;
  readonly batchJobId?: BatchJobId | undefined;
}

/** One read of some of a workflow's runs, oldest first, as published. */
export interface WorkflowObservation extends Observation {
  readonly runs: ReadonlyArray<WorkflowExecutionSummary | WorkflowExecutionDetail>;
  /** Set when every run read belongs to this batch trigger (a read filtered by it). */
  readonly batchJobId?: string | undefined;
  /** Set when `runs` is every unfinished run of the workflow (a scan): a run missing from it has finished. */
  readonly unfinished?: boolean | undefined;
}

export interface WorkflowState {
  readonly spec: WorkflowWatch;
  /** The last state told for each run; undefined until the first look (what exists then is not news). */
  runs: Map<string, ExecutionState> | undefined;
}

export const workflowChannel = (bucketId: string, workflowId: string) =>
  `ci-gateway:live:${bucketId}:workflow:${workflowId}`;

export interface WorkflowWatchOptions {
  /** The bucket whose workflows are watched: it names their keys and channels. */
  readonly bucketId: string;
  /** Lists the workflow's newest runs, oldest first, as an observation (not yet published). */
  readonly list: (watch: WorkflowWatch) => Promise<WorkflowObservation>;
  readonly publish: (channel: string, observation: WorkflowObservation) => void;
  readonly now: () => Date;
  /** How long to wait before trying a failed first look again. */
  readonly retryMs: number;
  readonly warn: (fields: object, message: string) => void;
}

export function workflowWatch(
  options: WorkflowWatchOptions,
): WatchKind<WorkflowWatch, WorkflowState, WorkflowEvent, WorkflowObservation> {
  return {
    name: 'workflow',
    key: (watch) => `${options.bucketId}/${watch.workflowId}|${watch.batchJobId ?? ''}`,
    channel: (watch) => workflowChannel(options.bucketId, watch.workflowId),
    initialState: (spec) => ({ spec, runs: undefined }),
    observe(watch, { runs, batchJobId }) {
      const known = watch.state.runs;
      if (!known) return;
      const watched = watch.state.spec.batchJobId;
      for (const run of runs) {
        // A batch trigger's watch knows its runs from reads filtered by it; a plain workflow watch takes any run.
        const member = watched === undefined || batchJobId === watched || known.has(run.runId);
        const previous = known.get(run.runId);
        if (!member || previous === run.state || (previous !== undefined && isFinishedState(previous)))
          continue;
        remember(known, run.runId, run.state);
        const kind: WorkflowEventKind =
          previous === undefined ? 'STARTED' : isFinishedState(run.state) ? 'FINISHED' : 'UPDATED';
        const event: WorkflowEvent = { kind, execution: run, at: options.now() };
        for (const sink of [...watch.sinks]) sink(event);
      }
    },
    async poll(spec, watch) {
      const observation = await options.list(spec);
      // Decided before publishing: in-process, publishing updates the states at once.
      const known = watch.state.runs;
      const changed =
        known !== undefined && observation.runs.some((run) => known.get(run.runId) !== run.state);
      options.publish(workflowChannel(options.bucketId, spec.workflowId), observation);
      return changed;
    },
    /**
     * Each replica's first look at a watched workflow, taken whether or not it holds the poll lease: it tells this
     * replica which runs are old news. Retried until it succeeds or the last subscriber leaves.
     */
    open(spec, watch, isOpen) {
      let retry: NodeJS.Timeout | undefined;
      const look = async () => {
        try {
          const observation = await options.list(spec);
          if (!isOpen()) return;
          watch.state.runs ??= new Map();
          for (const run of observation.runs) {
            if (!watch.state.runs.has(run.runId)) remember(watch.state.runs, run.runId, run.state);
          }
          // Other replicas watching the workflow learn from it too; here it is the baseline, so nothing is news.
          options.publish(workflowChannel(options.bucketId, spec.workflowId), observation);
        } catch (error) {
          if (!isOpen()) return;
          options.warn(
            { reason: error instanceof Error ? error.message : String(error) },
            'live updates: a first look failed; retrying',
          );
          retry = setTimeout(() => void look(), options.retryMs);
          retry.unref();
        }
      };
      void look();
      return () => clearTimeout(retry);
    },
  };
}

function remember(states: Map<string, ExecutionState>, runId: string, state: ExecutionState): void {
  states.delete(runId);
  states.set(runId, state);
  for (const oldest of states.keys()) {
    if (states.size <= REMEMBERED_RUNS_PER_WATCH) break;
    states.delete(oldest);
  }
}
