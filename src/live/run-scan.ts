/**
 * A workflow's scan: one list of its unfinished runs per interval, however many of its runs are watched, on any
 * replica. What it lists is published as an observation that says it is complete, so every replica can tell which
 * of the runs it watches changed state (or, missing from the list, finished) and read only those in detail. Runs are
 * watched at the cost of one call per workflow per interval, plus one per change, instead of one per run.
 */
import type { Observation, WatchKind } from './watch-registry.js';
import { type WorkflowObservation, type WorkflowWatch, workflowChannel } from './workflow-watch.js';

/** Unfinished runs listed per scan at most: pages of 100. Past it a scan is incomplete and says so. */
export const MAX_SCAN_PAGES = 5;

export interface RunScanOptions {
  readonly bucketId: string;
  /** Lists the workflow's unfinished runs (up to {@link MAX_SCAN_PAGES} pages), as an observation to publish. */
  readonly list: (workflowId: WorkflowWatch['workflowId']) => Promise<WorkflowObservation>;
  readonly publish: (channel: string, observation: WorkflowObservation) => void;
  /** A complete scan's observation reached this replica: read the runs it watches that changed. */
  readonly reconcile: (workflowId: string, observation: WorkflowObservation) => void;
}

export function runScan(
  options: RunScanOptions,
): WatchKind<
  WorkflowWatch['workflowId'],
  WorkflowWatch['workflowId'],
  never,
  WorkflowObservation & Observation
> {
  return {
    name: 'scan',
    key: (workflowId) => `${options.bucketId}/${workflowId}`,
    channel: (workflowId) => workflowChannel(options.bucketId, workflowId),
    // What a scan remembers is only which workflow it is: the runs' states are their own watches'.
    initialState: (workflowId) => workflowId,
    observe(watch, seen) {
      if (seen.unfinished) options.reconcile(watch.state, seen);
    },
    async poll(workflowId) {
      options.publish(workflowChannel(options.bucketId, workflowId), await options.list(workflowId));
      // At the plain interval always: a scan stands for every run watched under it, and a quiet workflow's runs
      // still finish.
      return true;
    },
  };
}
