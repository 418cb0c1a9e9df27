/**
 * `Workflow.stats`: what no CI API offers, a workflow's runs by state, its commonest failure reasons, its run
 * durations and its stuck runs over a window (`stats/workflow-stats.ts` computes them). Bounded in cost and priced
 * for a router's demand control. A window wholly in the past whose runs have all finished never changes again: its
 * statistics are kept (`stats/settled-stats.ts`, shared through Redis) and may be reused for an hour. A window that
 * ends now is answered from the runs kept since the last question, topped up (`stats/recent-runs.ts`).
 */
import { isFinishedState } from '../ci/types.js';
import type { ListWindow } from '../stats/recent-runs.js';
import {
  DEFAULT_STATS_BOUNDS,
  listRuns,
  statsOfListing,
  type WorkflowStats,
} from '../stats/workflow-stats.js';
import type { Builder } from './builder.js';
import { CACHE_SECONDS } from './cache-hints.js';
import { CI_CALL } from './costs.js';
import { ExecutionStateEnum } from './enums.js';
import { userInputError } from './errors.js';

/** The longest window one question may cover. */
export const MAX_STATS_WINDOW_DAYS = 31;
const DAY_MS = 24 * 60 * 60 * 1000;
/** The most a question may cost: a list per 100 runs, a read per run detailed. */
const STATS_CALLS = Math.ceil(DEFAULT_STATS_BOUNDS.maxRuns / 100) + DEFAULT_STATS_BOUNDS.maxDetails;

/** The window a question names, decided before any call: the last 24 hours unless it says. */
export function statsWindow(
  window:
    | { readonly from?: Date | null | undefined; readonly to?: Date | null | undefined }
    | null
    | undefined,
  now: Date,
): { from: Date; to: Date } {
  const to = window?.to ?? now;
  const from = window?.from ?? new Date(to.getTime() - DAY_MS);
  if (from.getTime() >= to.getTime()) throw userInputError('window.from must be before window.to.', 'window');
  if (to.getTime() - from.getTime() > MAX_STATS_WINDOW_DAYS * DAY_MS) {
    throw userInputError(`window may span at most ${MAX_STATS_WINDOW_DAYS} days.`, 'window');
  }
  return { from, to };
}

export function registerWorkflowStats(builder: Builder): void {
  const StatsWindow = builder.inputType('StatsWindow', {
    description: `A span of run start times: \`from\` inclusive, \`to\` inclusive; at most ${MAX_STATS_WINDOW_DAYS} days.`,
    fields: (t) => ({
      from: t.field({ type: 'DateTime', description: 'Default: a day before `to`.' }),
      to: t.field({ type: 'DateTime', description: 'Default: now.' }),
    }),
  });

  const StateCount = builder
    .objectRef<WorkflowStats['byState'][number]>('WorkflowExecutionStateCount')
    .implement({
      fields: (t) => ({
        state: t.expose('state', { type: ExecutionStateEnum }),
        count: t.exposeInt('count'),
      }),
    });

  const Interval = builder.objectRef<WorkflowStats['timeline'][number]>('WorkflowStatsInterval').implement({
    description:
      'One of the equal intervals a window is cut into: the runs started in it, by their state now.',
    fields: (t) => ({
      from: t.expose('from', { type: 'DateTime' }),
      to: t.expose('to', { type: 'DateTime' }),
      byState: t.field({ type: [StateCount], resolve: (interval) => interval.byState }),
    }),
  });

  const FailureReason = builder
    .objectRef<WorkflowStats['failureReasons'][number]>('WorkflowFailureReason')
    .implement({
      description: 'Failed runs that failed the same way: the same task type, CI code and message pattern.',
      fields: (t) => ({
        taskType: t.exposeString('taskType', {
          description: 'The failed task’s type; empty if none failed.',
        }),
        code: t.exposeString('code', { description: 'CI’s code for the failure.' }),
        messagePattern: t.exposeString('messagePattern', {
          description: 'CI’s message with numbers, ids and quoted values blanked (`#`, `…`).',
        }),
        count: t.exposeInt('count'),
        exampleRun: t.field({
          type: 'WorkflowExecution',
          description: 'The newest run that failed this way.',
          resolve: (reason) => reason.exampleRun,
        }),
      }),
    });

  const Durations = builder
    .objectRef<NonNullable<WorkflowStats['durations']>>('WorkflowRunDurations')
    .implement({
      description:
        'Seconds from a finished run’s start to its last task’s end, as nearest-rank percentiles of the runs read.',
      fields: (t) => ({
        p50: t.exposeFloat('p50'),
        p90: t.exposeFloat('p90'),
        p99: t.exposeFloat('p99'),
        runs: t.exposeInt('runs', { description: 'Finished runs measured.' }),
      }),
    });

  const Stats = builder.objectRef<WorkflowStats>('WorkflowStats').implement({
    description:
      `A workflow’s runs over a window. At most ${DEFAULT_STATS_BOUNDS.maxRuns} runs are listed (newest first) ` +
      `and ${DEFAULT_STATS_BOUNDS.maxDetails} read in detail (failed runs first); \`complete\` says whether ` +
      'everything in the window was seen.',
    fields: (t) => ({
      from: t.expose('from', { type: 'DateTime' }),
      to: t.expose('to', { type: 'DateTime' }),
      scannedRuns: t.exposeInt('scannedRuns', { description: 'Runs listed.' }),
      detailedRuns: t.exposeInt('detailedRuns', { description: 'Runs read in detail.' }),
      complete: t.exposeBoolean('complete', {
        description: 'Every run in the window was listed and every finished one read.',
      }),
      byState: t.field({ type: [StateCount], resolve: (stats) => stats.byState }),
      timeline: t.field({
        type: [Interval],
        description: `The runs listed, by state, in ${DEFAULT_STATS_BOUNDS.intervals} equal intervals of the window, oldest first.`,
        resolve: (stats) => stats.timeline,
      }),
      failureReasons: t.field({
        type: [FailureReason],
        description: `The ${DEFAULT_STATS_BOUNDS.topReasons} commonest ways runs failed, commonest first.`,
        resolve: (stats) => stats.failureReasons,
      }),
      durations: t.field({
        type: Durations,
        nullable: true,
        description: 'Null when no finished run was measured.',
        resolve: (stats) => stats.durations,
      }),
      stuckRuns: t.field({
        type: ['WorkflowExecution'],
        description: 'Runs running or paused for longer than `stuckAfterSeconds`, oldest first.',
        resolve: (stats) => stats.stuckRuns,
      }),
    }),
  });

  builder.objectField('Workflow', 'stats', (t) =>
    t.field({
      type: Stats,
      cost: STATS_CALLS * CI_CALL,
      description:
        'What no CI API answers: this workflow’s runs by state, the commonest failure reasons, run durations and ' +
        'stuck runs, over a window of start times (the last 24 hours by default).',
      args: {
        window: t.arg({ type: StatsWindow }),
        stuckAfterSeconds: t.arg.int({
          defaultValue: DEFAULT_STATS_BOUNDS.stuckAfterMs / 1000,
          description: 'How long a run may run or pause before it counts as stuck (60 to 604800).',
        }),
      },
      resolve: async (workflow, args, context) => {
        const now = new Date();
        const window = statsWindow(args.window, now);
        const stuckAfterSeconds = args.stuckAfterSeconds ?? DEFAULT_STATS_BOUNDS.stuckAfterMs / 1000;
        if (stuckAfterSeconds < 60 || stuckAfterSeconds > 604_800) {
          throw userInputError('stuckAfterSeconds must be from 60 to 604800.', 'stuckAfterSeconds');
        }
        const bucket = context.bucket(workflow.bucketId);
        const settledWindow = { bucketId: workflow.bucketId, workflowId: workflow.workflowId, ...window };
        const past = window.to.getTime() < now.getTime();
        const kept = past ? await context.services.settledStats?.get(settledWindow) : undefined;
        if (kept) {
          context.cacheHints.limit(CACHE_SECONDS.finishedRun);
          return kept;
        }
        const list: ListWindow = (range, maxRuns) =>
          listRuns(
            (size, nextToken) =>
              bucket.ci.listWorkflowExecutions({
                workflowId: workflow.workflowId,
                createdAfter: range.from,
                createdBefore: range.to,
                order: 'Desc',
                size,
                nextToken,
              }),
            maxRuns,
          );
        const { maxRuns } = DEFAULT_STATS_BOUNDS;
        // A window that ends now is answered from the runs kept since the last question, topped up.
        const recent = past ? undefined : context.services.recentRuns;
        const listing = recent
          ? await recent.listing(workflow.bucketId, workflow.workflowId, window, maxRuns, list)
          : await list(window, maxRuns);
        const stats = await statsOfListing(
          listing,
          (runIds) => Promise.all(runIds.map((runId) => bucket.executionDetails.load(runId))),
          window,
          { ...DEFAULT_STATS_BOUNDS, stuckAfterMs: stuckAfterSeconds * 1000 },
          now,
        );
        // A past window whose runs have all finished never changes again; anything else is a page of the present.
        const settled =
          past && stats.complete && stats.byState.every((entry) => isFinishedState(entry.state));
        if (settled) context.services.settledStats?.set(settledWindow, stats);
        context.cacheHints.limit(settled ? CACHE_SECONDS.finishedRun : CACHE_SECONDS.page);
        return stats;
      },
    }),
  );
}
