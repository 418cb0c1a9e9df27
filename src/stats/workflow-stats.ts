/**
 * A workflow's statistics over a window, which no CI API gives: its runs by state, the commonest reasons they
 * failed, how long finished runs took, and the runs stuck running or paused. Computed from what CI lists and what
 * its run details say, at a bounded cost: at most `maxRuns` runs listed (pages of 100, newest first) and at most
 * `maxDetails` read in detail (failed runs first, for their reasons, then the newest finished ones, for their
 * durations); `complete` says whether everything in the window was seen. Knows nothing of GraphQL or HTTP.
 */
import type { RunId } from '../ci/inputs.js';
import {
  type ExecutionState,
  isFinishedState,
  isStuck,
  MAX_UPSTREAM_PAGE_SIZE,
  runDurationSeconds,
  type WorkflowExecutionDetail,
  type WorkflowExecutionSummary,
} from '../ci/types.js';

export interface StatsBounds {
  /** Runs listed at most. */
  readonly maxRuns: number;
  /** Runs read in detail at most. */
  readonly maxDetails: number;
  /** How many failure reasons to answer, commonest first. */
  readonly topReasons: number;
  /** A run running or paused this long is stuck. */
  readonly stuckAfterMs: number;
  /** How many equal intervals the window's runs are counted in, for `timeline`. */
  readonly intervals: number;
}

export const DEFAULT_STATS_BOUNDS: StatsBounds = {
  maxRuns: 1_000,
  maxDetails: 200,
  topReasons: 5,
  stuckAfterMs: 60 * 60 * 1000,
  intervals: 24,
};

export interface FailureReason {
  /** The type of the task that failed (`Transcode`); empty when CI names no failed task. */
  readonly taskType: string;
  /** CI's code for it (`InternalError`). */
  readonly code: string;
  /** Its message with numbers, ids and quoted values blanked, so the same failure groups together. */
  readonly messagePattern: string;
  readonly count: number;
  /** The newest run that failed this way. */
  readonly exampleRun: WorkflowExecutionSummary;
}

export interface DurationPercentiles {
  /** Seconds from a run's start to its last task's end, nearest-rank percentiles. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  /** Finished runs measured. */
  readonly runs: number;
}

export type StateCounts = ReadonlyArray<{ readonly state: ExecutionState; readonly count: number }>;

/** One of the equal intervals the window is cut into, with the runs started in it by their state now. */
export interface StatsInterval {
  readonly from: Date;
  readonly to: Date;
  readonly byState: StateCounts;
}

export interface WorkflowStats {
  readonly from: Date;
  readonly to: Date;
  /** Runs listed in the window (at most `maxRuns`). */
  readonly scannedRuns: number;
  /** Runs read in detail (at most `maxDetails`). */
  readonly detailedRuns: number;
  /** Every run in the window was listed, and every finished one read. */
  readonly complete: boolean;
  readonly byState: StateCounts;
  /** The listed runs by state in `bounds.intervals` equal intervals of the window, oldest first. */
  readonly timeline: readonly StatsInterval[];
  readonly failureReasons: readonly FailureReason[];
  /** Undefined when no finished run was measured. */
  readonly durations: DurationPercentiles | undefined;
  /** Runs running or paused for longer than `stuckAfterMs`, oldest first. */
  readonly stuckRuns: readonly WorkflowExecutionSummary[];
}

/** What the computation reads from CI: the window's runs a page at a time, newest first, and run details. */
export interface StatsSource {
  listPage(
    size: number,
    nextToken: string | undefined,
  ): Promise<{ readonly executions: readonly WorkflowExecutionSummary[]; readonly nextToken: string | null }>;
  details(runIds: readonly RunId[]): Promise<ReadonlyArray<WorkflowExecutionDetail | null>>;
}

/** The runs of a window as listed: newest first, at most `maxRuns`; `listedAll` when none was left out. */
export interface RunListing {
  readonly runs: readonly WorkflowExecutionSummary[];
  readonly listedAll: boolean;
}

/** Lists a window's runs a page at a time, newest first, until CI has no more or `maxRuns` were listed. */
export async function listRuns(listPage: StatsSource['listPage'], maxRuns: number): Promise<RunListing> {
  const runs: WorkflowExecutionSummary[] = [];
  let nextToken: string | undefined;
  while (runs.length < maxRuns) {
    const size = Math.min(MAX_UPSTREAM_PAGE_SIZE, maxRuns - runs.length);
    const page = await listPage(size, nextToken);
    runs.push(...page.executions.slice(0, maxRuns - runs.length));
    nextToken = page.nextToken ?? undefined;
    if (nextToken === undefined) return { runs, listedAll: true };
  }
  return { runs, listedAll: false };
}

export async function workflowStats(
  source: StatsSource,
  window: { readonly from: Date; readonly to: Date },
  bounds: StatsBounds,
  now: Date,
): Promise<WorkflowStats> {
  return statsOfListing(await listRuns(source.listPage, bounds.maxRuns), source.details, window, bounds, now);
}

/** The statistics of listed runs, reading in detail those whose failure or duration they need. */
export async function statsOfListing(
  listing: RunListing,
  readDetails: StatsSource['details'],
  window: { readonly from: Date; readonly to: Date },
  bounds: StatsBounds,
  now: Date,
): Promise<WorkflowStats> {
  const { runs, listedAll } = listing;
  const finished = runs.filter((run) => isFinishedState(run.state));
  // Failed runs first: their reasons are the point; then the newest others, for how long runs take.
  const toDetail = [
    ...finished.filter((run) => run.state === 'Failed'),
    ...finished.filter((run) => run.state !== 'Failed'),
  ].slice(0, bounds.maxDetails);
  const details = (await readDetails(toDetail.map((run) => run.runId))).filter(
    (detail): detail is WorkflowExecutionDetail => detail !== null,
  );

  return {
    from: window.from,
    to: window.to,
    scannedRuns: runs.length,
    detailedRuns: details.length,
    complete: listedAll && toDetail.length === finished.length,
    byState: countByState(runs),
    timeline: timeline(runs, window, bounds.intervals),
    failureReasons: failureReasons(details, bounds.topReasons),
    durations: durationPercentiles(details),
    stuckRuns: runs
      .filter((run) => isStuck(run, now, bounds.stuckAfterMs))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()),
  };
}

function countByState(runs: readonly WorkflowExecutionSummary[]): StateCounts {
  const counts = new Map<ExecutionState, number>();
  for (const run of runs) counts.set(run.state, (counts.get(run.state) ?? 0) + 1);
  return [...counts].map(([state, count]) => ({ state, count })).sort((a, b) => b.count - a.count);
}

/** The runs counted by state in `intervals` equal intervals of the window; a run on a boundary counts in the later. */
function timeline(
  runs: readonly WorkflowExecutionSummary[],
  window: { readonly from: Date; readonly to: Date },
  intervals: number,
): StatsInterval[] {
  const from = window.from.getTime();
  const step = (window.to.getTime() - from) / intervals;
  const slots = Array.from({ length: intervals }, (): WorkflowExecutionSummary[] => []);
  for (const run of runs) {
    const slot = Math.min(intervals - 1, Math.floor((run.createdAt.getTime() - from) / step));
    slots[Math.max(0, slot)]?.push(run);
  }
  return slots.map((slotRuns, index) => ({
    from: new Date(from + index * step),
    to: new Date(from + (index + 1) * step),
    byState: countByState(slotRuns),
  }));
}

/** Failed runs grouped by the task that failed, its code and its message's pattern; commonest first. */
function failureReasons(details: readonly WorkflowExecutionDetail[], top: number): FailureReason[] {
  const groups = new Map<string, { reason: Omit<FailureReason, 'count'>; count: number }>();
  const failed = details
    .filter((detail) => detail.state === 'Failed')
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  for (const run of failed) {
    const task = run.tasks.find((candidate) => candidate.state === 'Failed');
    const reason = {
      taskType: task?.type ?? '',
      code: task?.code ?? '',
      messagePattern: messagePattern(task?.message ?? ''),
      exampleRun: run,
    };
    const key = JSON.stringify([reason.taskType, reason.code, reason.messagePattern]);
    const group = groups.get(key);
    if (group) group.count += 1;
    else groups.set(key, { reason, count: 1 });
  }
  return [...groups.values()]
    .sort((a, b) => b.count - a.count)
    .slice(0, top)
    .map(({ reason, count }) => ({ ...reason, count }));
}

/** A message with what varies between runs of the same failure (numbers, ids, quoted values) blanked. */
export function messagePattern(message: string): string {
  return message
    .replace(/(["'`]).*?\1/g, '$1…$1')
    .replace(/\b[0-9a-f]{8,}\b/gi, '…')
    .replace(/\d+(\.\d+)?/g, '#')
    .slice(0, 200);
}

function durationPercentiles(details: readonly WorkflowExecutionDetail[]): DurationPercentiles | undefined {
  const seconds = details
    .map((detail) => runDurationSeconds(detail))
    .filter((value): value is number => value !== undefined && value >= 0)
    .sort((a, b) => a - b);
  if (seconds.length === 0) return undefined;
  const rank = (p: number) => seconds[Math.max(0, Math.ceil((p / 100) * seconds.length) - 1)] ?? Number.NaN;
  return { p50: rank(50), p90: rank(90), p99: rank(99), runs: seconds.length };
}
