/**
 * A watched run: its subscribers get its current state at once, then each change of its state or of a task, and
 * end after its final state; its poller stops once it has finished.
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
}

export class RunNotFound extends Error {}

/**
 * Channel names are prefixed like the lease keys (a Redis shared with other services sees whose they are) and name
 * the bucket: a run is only ever heard of in its own bucket.
 */
export const runChannel = (bucketId: string, runId: string) => `ci-gateway:live:${bucketId}:run:${runId}`;

/** Reads the run and publishes what CI said; null for a run CI does not know. */
export type ReadRun = (runId: RunId) => Promise<WorkflowExecutionDetail | null>;

export function runWatch(
  bucketId: string,
  read: ReadRun,
): WatchKind<RunId, RunState, WorkflowExecutionDetail, RunObservation> {
  return {
    name: 'run',
    key: (runId) => `${bucketId}/${runId}`,
    channel: (runId) => runChannel(bucketId, runId),
    initialState: () => ({ latest: undefined }),
    observe(watch, { detail }) {
      const previous = watch.state.latest;
      if (previous && fingerprint(previous) === fingerprint(detail)) return;
      // A read that started before the run finished may arrive after one that saw it finish.
      if (previous && isFinishedState(previous.state) && !isFinishedState(detail.state)) return;
      watch.state.latest = detail;
      if (isFinishedState(detail.state)) {
        // A finished run changes no more: its poller stops; its subscribers end after this last state.
        void watch.poller?.stop();
        watch.poller = undefined;
      }
      for (const sink of [...watch.sinks]) sink(detail);
    },
    async poll(runId, watch) {
      const before = watch.state.latest;
      const detail = await read(runId);
      return detail !== null && (!before || fingerprint(before) !== fingerprint(detail));
    },
    async prepare(runId, watch) {
      if (watch.state.latest) return;
      const detail = await read(runId);
      if (!detail) throw new RunNotFound(runId);
      // The observation may not have come back yet (over Redis it travels).
      watch.state.latest ??= detail;
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
