/**
 * A watched run: its subscribers get its current state at once, then each change, and end after its final state.
 * It is not read on a timer of its own: while unfinished it holds its workflow's scan (`run-scan.ts`), one list of
 * the workflow's unfinished runs per interval, and it is read in detail when that list shows its state changed or
 * that it finished. Between state changes, task-level news comes from CI's callbacks (`TaskFinish`), each of which
 * re-reads the run. Its poller only holds its lease, so that of the replicas watching it one reads it.
 */
import type { RunId } from '../ci/inputs.js';
import { isFinishedState, type WorkflowExecutionDetail } from '../ci/types.js';
import type { Observation, WatchKind } from './watch-registry.js';

/** One read of a run, as published. */
export interface RunObservation extends Observation {
  readonly detail: WorkflowExecutionDetail;
}

export interface RunState {
  latest: WorkflowExecutionDetail | undefined;
  /** Gives back the workflow's scan this run holds while it is unfinished. */
  releaseScan: (() => void) | undefined;
}

export class RunNotFound extends Error {}

/**
 * Channel names are prefixed like the lease keys (a Redis shared with other services sees whose they are) and name
 * the bucket: a run is only ever heard of in its own bucket.
 */
export const runChannel = (bucketId: string, runId: string) => `ci-gateway:live:${bucketId}:run:${runId}`;

/** Reads the run and publishes what CI said; null for a run CI does not know. */
export type ReadRun = (runId: RunId) => Promise<WorkflowExecutionDetail | null>;

export interface RunWatchOptions {
  readonly bucketId: string;
  readonly read: ReadRun;
  /** Keeps the workflow's scan going until the returned function is called. */
  readonly holdScan: (workflowId: WorkflowExecutionDetail['workflowId']) => () => void;
}

export function runWatch(
  options: RunWatchOptions,
): WatchKind<RunId, RunState, WorkflowExecutionDetail, RunObservation> {
  const { bucketId, read } = options;
  /** An unfinished run holds its workflow's scan, once; a finished one gives it back. */
  const followScan = (state: RunState) => {
    const latest = state.latest;
    if (!latest) return;
    if (isFinishedState(latest.state)) {
      state.releaseScan?.();
      state.releaseScan = undefined;
    } else {
      state.releaseScan ??= options.holdScan(latest.workflowId);
    }
  };
  return {
    name: 'run',
    key: (runId) => `${bucketId}/${runId}`,
    channel: (runId) => runChannel(bucketId, runId),
    initialState: () => ({ latest: undefined, releaseScan: undefined }),
    observe(watch, { detail }) {
      const previous = watch.state.latest;
      if (previous && fingerprint(previous) === fingerprint(detail)) return;
      // A read that started before the run finished may arrive after one that saw it finish.
      if (previous && isFinishedState(previous.state) && !isFinishedState(detail.state)) return;
      watch.state.latest = detail;
      followScan(watch.state);
      if (isFinishedState(detail.state)) {
        // A finished run changes no more: its poller stops; its subscribers end after this last state.
        void watch.poller?.stop();
        watch.poller = undefined;
      }
      for (const sink of [...watch.sinks]) sink(detail);
    },
    // The scan finds what changed; the run's own poll has nothing to read.
    poll: async () => false,
    open(_runId, watch) {
      return () => {
        watch.state.releaseScan?.();
        watch.state.releaseScan = undefined;
      };
    },
    async prepare(runId, watch) {
      if (!watch.state.latest) {
        const detail = await read(runId);
        if (!detail) throw new RunNotFound(runId);
        // The observation may not have come back yet (over Redis it travels).
        watch.state.latest ??= detail;
      }
      followScan(watch.state);
    },
    current: (watch) => (watch.state.latest ? [watch.state.latest] : []),
    isLast: (detail) => isFinishedState(detail.state),
  };
}

/** What a subscriber sees change: the run's state and each task's state and end. */
function fingerprint(detail: WorkflowExecutionDetail): string {
  return JSON.stringify([
    detail.state,
    detail.tasks.map((task) => [task.type, task.state, task.endedAt?.getTime()]),
  ]);
}
