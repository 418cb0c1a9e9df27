/** The statistics' arithmetic: nearest-rank percentiles, failure grouping by pattern, the bounds and `complete`. */
import { describe, expect, it } from 'vitest';
import { assume, bucketIdRule, type RunId, runIdRule, workflowIdRule } from '../../src/ci/inputs.js';
import type { ExecutionState, WorkflowExecutionDetail } from '../../src/ci/types.js';
import {
  DEFAULT_STATS_BOUNDS,
  messagePattern,
  type StatsSource,
  workflowStats,
} from '../../src/stats/workflow-stats.js';

const BUCKET = assume(bucketIdRule, 'media-1250000000');
const WORKFLOW = assume(workflowIdRule, `w${'2'.repeat(32)}`);
const START = Date.parse('2026-11-01T00:00:00Z');

function run(index: number, state: ExecutionState, seconds: number, message = ''): WorkflowExecutionDetail {
  const createdAt = new Date(START + index * 60_000);
  return {
    bucketId: BUCKET,
    runId: assume(runIdRule, `i${index.toString(16).padStart(32, '0')}`),
    workflowId: WORKFLOW,
    objectKey: `o/${index}.mp4`,
    state,
    createdAt,
    requestId: undefined,
    workflowName: 'w',
    tasks: [
      {
        bucketId: BUCKET,
        type: 'Transcode',
        name: undefined,
        state: state === 'Failed' ? 'Failed' : state === 'Success' ? 'Success' : 'Running',
        jobId: undefined,
        templateId: undefined,
        templateName: undefined,
        code: state === 'Failed' ? 'InternalError' : 'Success',
        message,
        createdAt,
        startedAt: createdAt,
        endedAt: state === 'Running' ? undefined : new Date(createdAt.getTime() + seconds * 1000),
      },
    ],
  };
}

/** CI as the computation sees it: these runs, newest first, in pages; every call counted. */
function source(runs: readonly WorkflowExecutionDetail[]) {
  const calls = { lists: 0, details: 0 };
  const newestFirst = runs.toSorted((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const byId = new Map(runs.map((detail) => [detail.runId, detail]));
  const ci: StatsSource = {
    async listPage(size, nextToken) {
      calls.lists += 1;
      const from = Number(nextToken ?? 0);
      const executions = newestFirst.slice(from, from + size);
      return { executions, nextToken: from + size < newestFirst.length ? String(from + size) : null };
    },
    async details(runIds: readonly RunId[]) {
      calls.details += runIds.length;
      return runIds.map((runId) => byId.get(runId) ?? null);
    },
  };
  return { ci, calls };
}

const window = { from: new Date(START), to: new Date(START + 86_400_000) };
const now = new Date(START + 86_400_000);

describe('workflowStats', () => {
  it('counts states, groups failures by pattern, and gives nearest-rank duration percentiles', async () => {
    const runs = [
      ...Array.from({ length: 100 }, (_, i) => run(i, 'Success', i + 1)),
      run(100, 'Failed', 5, 'decode error at frame 1234 in "a.mp4"'),
      run(101, 'Failed', 5, 'decode error at frame 99 in "b.mp4"'),
      run(102, 'Failed', 5, 'out of memory'),
      run(103, 'Running', 0),
    ];
    const { ci, calls } = source(runs);
    const stats = await workflowStats(ci, window, DEFAULT_STATS_BOUNDS, now);
    expect(stats.scannedRuns).toBe(104);
    expect(stats.complete).toBe(true);
    expect(stats.byState).toEqual([
      { state: 'Success', count: 100 },
      { state: 'Failed', count: 3 },
      { state: 'Running', count: 1 },
    ]);
    expect(stats.failureReasons.map(({ exampleRun, ...reason }) => [reason, exampleRun.runId])).toEqual([
      [
        {
          taskType: 'Transcode',
          code: 'InternalError',
          messagePattern: 'decode error at frame # in "…"',
          count: 2,
        },
        runs[101]?.runId,
      ],
      [
        { taskType: 'Transcode', code: 'InternalError', messagePattern: 'out of memory', count: 1 },
        runs[102]?.runId,
      ],
    ]);
    // 103 finished runs: 1..100 s and three of 5 s. Nearest rank: the 52nd, 93rd and 102nd smallest.
    expect(stats.durations).toEqual({ p50: 49, p90: 90, p99: 99, runs: 103 });
    // The running run started 23 h before `now`: stuck after an hour.
    expect(stats.stuckRuns.map((stuck) => stuck.runId)).toEqual([runs[103]?.runId]);
    expect(calls).toEqual({ lists: 2, details: 103 });
  });

  it('stops at its bounds and says it saw only part of the window', async () => {
    const runs = Array.from({ length: 250 }, (_, i) => run(i, i % 10 === 0 ? 'Failed' : 'Success', 10));
    const { ci, calls } = source(runs);
    const bounds = { ...DEFAULT_STATS_BOUNDS, maxRuns: 120, maxDetails: 30 };
    const stats = await workflowStats(ci, window, bounds, now);
    expect(stats).toMatchObject({ scannedRuns: 120, detailedRuns: 30, complete: false });
    // The newest 120 hold 12 failed runs: all of them read, before any other.
    expect(stats.failureReasons[0]?.count).toBe(12);
    expect(calls).toEqual({ lists: 2, details: 30 });
  });

  it('is not complete when it lists everything but cannot read every finished run', async () => {
    const { ci } = source(Array.from({ length: 40 }, (_, i) => run(i, 'Success', 10)));
    const stats = await workflowStats(ci, window, { ...DEFAULT_STATS_BOUNDS, maxDetails: 39 }, now);
    expect(stats).toMatchObject({ scannedRuns: 40, detailedRuns: 39, complete: false });
  });

  it('blanks what varies between runs of one failure', () => {
    expect(messagePattern("bad value 'x1' for job 3fa85f64a1b2c3d4 after 12.5 s")).toBe(
      "bad value '…' for job … after # s",
    );
  });
});

describe('the timeline', () => {
  it('counts each run once, in the interval of its start, by its state now', async () => {
    // Runs every 10 minutes over the day: 6 an hour from the window's start, each hour's last Failed, one Running.
    const runs = Array.from({ length: 144 }, (_, i) => {
      const state = i % 6 === 5 ? 'Failed' : i === 142 ? 'Running' : 'Success';
      return { ...run(0, state, 1), runId: assume(runIdRule, `i${i.toString(16).padStart(32, '0')}`) };
    }).map((detail, i) => ({ ...detail, createdAt: new Date(START + i * 600_000) }));
    const { ci } = source(runs);
    const stats = await workflowStats(ci, window, DEFAULT_STATS_BOUNDS, now);
    expect(stats.timeline).toHaveLength(24);
    expect(stats.timeline[0]?.from).toEqual(window.from);
    expect(stats.timeline[23]?.to).toEqual(window.to);
    expect(stats.timeline[0]?.byState).toEqual([
      { state: 'Success', count: 5 },
      { state: 'Failed', count: 1 },
    ]);
    expect(stats.timeline[23]?.byState).toEqual([
      { state: 'Success', count: 4 },
      { state: 'Failed', count: 1 },
      { state: 'Running', count: 1 },
    ]);
    const total = stats.timeline.flatMap((interval) => interval.byState).reduce((sum, c) => sum + c.count, 0);
    expect(total).toBe(144);
  });
});
