/**
 * `Workflow.stats` on the emulator's deterministic demo data: exact counts, failure reasons, percentiles and stuck
 * runs; the bound and `complete: false`; windows refused before any call; a settled past window reusable for longer.
 */
import { describe, expect, it } from 'vitest';
import { isFinishedState } from '../../src/ci/types.js';
import { DEMO_WORKFLOW_IDS, type DemoExecution } from '../../src/emulator/demo-data.js';
import { closeAfterEach, startGateway } from '../support/gateway.js';
import { demoExecutions } from '../support/oracle.js';

const track = closeAfterEach();
const LARGE = DEMO_WORKFLOW_IDS.large;
const STATS = `query Stats($window: StatsWindow) {
  workflow(workflowId: "${LARGE}") {
    stats(window: $window) {
      scannedRuns detailedRuns complete
      byState { state count }
      failureReasons { taskType code messagePattern count exampleRun { runId } }
      durations { p50 p90 p99 runs }
      stuckRuns { runId state }
    }
  }
}`;

interface Stats {
  scannedRuns: number;
  detailedRuns: number;
  complete: boolean;
  byState: Array<{ state: string; count: number }>;
  failureReasons: Array<{
    taskType: string;
    code: string;
    messagePattern: string;
    count: number;
    exampleRun: { runId: string };
  }>;
  durations: { p50: number; p90: number; p99: number; runs: number } | null;
  stuckRuns: Array<{ runId: string; state: string }>;
}

const inWindow = (from: string, to: string) =>
  demoExecutions().filter(
    (run) => run.createdAt.getTime() >= Date.parse(from) && run.createdAt.getTime() <= Date.parse(to),
  );
const newestFirst = (runs: readonly DemoExecution[]) =>
  runs.toSorted((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.runId < b.runId ? 1 : -1));
const oldestFirst = (runs: readonly DemoExecution[]) => newestFirst(runs).reverse();

describe('Workflow.stats', () => {
  it('answers exact counts, the failure reason, duration percentiles and stuck runs of a window', async () => {
    const fixture = track(await startGateway());
    const window = { from: '2026-11-01T00:00:00.000Z', to: '2026-11-02T23:59:59.000Z' };
    const answer = await fixture.query<{ workflow: { stats: Stats } }>(STATS, { window });
    expect(answer.errors).toBeUndefined();
    const stats = answer.data?.workflow.stats as Stats;

    const runs = inWindow(window.from, window.to);
    const count = (state: string) => runs.filter((run) => run.state === state).length;
    const states = [...new Set(runs.map((run) => run.state))];
    expect(stats.byState.toSorted((a, b) => a.state.localeCompare(b.state))).toEqual(
      states
        .map((state) => ({ state: state.toUpperCase(), count: count(state) }))
        .sort((a, b) => a.state.localeCompare(b.state)),
    );
    const finished = runs.filter((run) => isFinishedState(run.state));
    expect(stats).toMatchObject({ scannedRuns: runs.length, detailedRuns: finished.length, complete: true });
    const failed = newestFirst(runs.filter((run) => run.state === 'Failed'));
    expect(failed.length).toBeGreaterThan(0);
    expect(stats.failureReasons).toEqual([
      {
        taskType: 'Transcode',
        code: 'InternalError',
        messagePattern: 'transcode failed: unsupported codec in source',
        count: failed.length,
        exampleRun: { runId: failed[0]?.runId },
      },
    ]);
    // Every demo run that finished its tasks took 55 s from start to its last task's end; cancelled ones never end.
    expect(stats.durations).toEqual({ p50: 55, p90: 55, p99: 55, runs: count('Success') + count('Failed') });
    // The demo's running and paused runs started weeks ago: all stuck, oldest first.
    expect(stats.stuckRuns).toEqual(
      oldestFirst(runs.filter((run) => !isFinishedState(run.state))).map((run) => ({
        runId: run.runId,
        state: run.state.toUpperCase(),
      })),
    );
  });

  it('says how much it saw when the window holds more than it may read', async () => {
    const fixture = track(await startGateway());
    const window = { from: '2026-10-31T00:00:00.000Z', to: '2026-11-08T00:00:00.000Z' };
    const answer = await fixture.query<{ workflow: { stats: Stats } }>(STATS, { window });
    const stats = answer.data?.workflow.stats as Stats;
    const finished = demoExecutions().filter((run) => isFinishedState(run.state));
    expect(finished.length).toBeGreaterThan(200);
    expect(stats).toMatchObject({ scannedRuns: 257, detailedRuns: 200, complete: false });
    // Failed runs are read first: every one of them is counted.
    expect(stats.failureReasons[0]?.count).toBe(
      demoExecutions().filter((run) => run.state === 'Failed').length,
    );
    expect(
      fixture.emulator.requests.filter((request) => request.path.startsWith('/workflowexecution/')),
    ).toHaveLength(200);
  });

  it('refuses a window too long or the wrong way round before any list or read', async () => {
    const fixture = track(await startGateway());
    for (const window of [
      { from: '2026-10-01T00:00:00Z', to: '2026-11-02T00:00:00Z' },
      { from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' },
    ]) {
      const answer = await fixture.query(STATS, { window });
      expect(answer.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        argumentName: 'window',
      });
    }
    expect(
      fixture.emulator.requests.filter((request) => request.path.startsWith('/workflowexecution')),
    ).toEqual([]);
  });

  it('is kept, and may be reused as long as its workflow, when the window is past and all its runs finished', async () => {
    const fixture = track(await startGateway());
    const ask = async (from: Date, to: Date) => {
      const response = await fixture.gateway.fetch('http://gateway/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: STATS, variables: { window: { from, to } } }),
      });
      return response.headers.get('cache-control');
    };
    const settled = demoExecutions().find(
      (run, i, all) => run.state === 'Success' && all[i + 1]?.createdAt.getTime() !== run.createdAt.getTime(),
    );
    const unsettled = demoExecutions().find((run) => run.state === 'Running');
    if (!settled || !unsettled) throw new Error('the demo has finished and running runs');
    const settledWindow = [settled.createdAt, new Date(settled.createdAt.getTime() + 500)] as const;
    const unsettledWindow = [unsettled.createdAt, new Date(unsettled.createdAt.getTime() + 500)] as const;
    // The answer also read the workflow (30 s); a settled window does not shorten that, an unsettled one does.
    expect(await ask(...settledWindow)).toBe('public, max-age=30');
    expect(await ask(...unsettledWindow)).toBe('public, max-age=5');

    // A settled window is kept: asked again, it costs no list and no read; an unsettled one is computed afresh.
    const runCalls = () =>
      fixture.emulator.requests.filter((request) => request.path.startsWith('/workflowexecution'));
    fixture.emulator.clearRequests();
    expect(await ask(...settledWindow)).toBe('public, max-age=30');
    expect(runCalls()).toEqual([]);
    await ask(...unsettledWindow);
    expect(runCalls().length).toBeGreaterThan(0);
  });

  it('answers a window that ends now from the runs it keeps: a list of what started since, and the finishes read', async () => {
    // CI's clock a minute behind the gateway's: runs it starts lie inside a window that ends now.
    let nowMs = Date.now() - 60_000;
    const fixture = track(await startGateway({ emulator: { now: () => nowMs } }));
    // The last day: the runs this test starts (the demo's own lie weeks back).
    const window = { from: new Date(Date.now() - 86_400_000).toISOString() };
    const ask = async () => {
      const answer = await fixture.query<{ workflow: { stats: Stats } }>(STATS, { window });
      expect(answer.errors).toBeUndefined();
      return answer.data?.workflow.stats as Stats;
    };
    const countOf = (stats: Stats, state: string) =>
      stats.byState.find((entry) => entry.state === state)?.count;
    const calls = () => {
      const runCalls = fixture.emulator.requests.filter((request) =>
        request.path.startsWith('/workflowexecution'),
      );
      return {
        lists: runCalls.filter((request) => request.path === '/workflowexecution').length,
        reads: runCalls.filter((request) => request.path !== '/workflowexecution').length,
      };
    };
    const trigger = await fixture.query<{ triggerWorkflow: { runId: string } }>(
      `mutation { triggerWorkflow(input: { workflowId: "${LARGE}", objectKey: "fail/recent.mp4" }) { runId } }`,
    );
    const runId = trigger.data?.triggerWorkflow.runId as string;
    const other = await fixture.query<{ triggerWorkflow: { runId: string } }>(
      `mutation { triggerWorkflow(input: { workflowId: "${LARGE}", objectKey: "uploads/recent.mp4" }) { runId } }`,
    );
    const otherRunId = other.data?.triggerWorkflow.runId as string;

    const first = await ask();
    const running = countOf(first, 'RUNNING') ?? 0;
    const failed = countOf(first, 'FAILED') ?? 0;
    expect(first.scannedRuns).toBe(2);
    expect(running).toBe(2);

    // Asked again: one list call, for the runs started since; every finished run's detail is already known.
    fixture.emulator.clearRequests();
    const again = await ask();
    expect(calls()).toEqual({ lists: 1, reads: 0 });
    expect(again).toEqual(first);

    // The run fails. Once anything reads it (here a lookup; a poll or a callback's re-read alike), the kept
    // runs know, and the statistics show it with no further list of the window.
    nowMs += 21_000;
    const read = await fixture.query(`{ workflowExecution(runId: "${runId}") { state } }`);
    expect(read.data).toEqual({ workflowExecution: { state: 'FAILED' } });
    fixture.emulator.clearRequests();
    const after = await ask();
    expect(calls()).toEqual({ lists: 1, reads: 0 });
    expect(countOf(after, 'RUNNING') ?? 0).toBe(running - 1);
    expect(countOf(after, 'FAILED')).toBe(failed + 1);
    expect(after.failureReasons[0]?.exampleRun.runId).toBe(runId);
    // The other run succeeded too, but nothing read it: that shows at the next full listing (RECENT_RUNS_TTL_MS),
    // or as soon as something reads it.
    expect(countOf(after, 'SUCCESS')).toBeUndefined();
    await fixture.query(`{ workflowExecution(runId: "${otherRunId}") { state } }`);
    const read2 = await ask();
    expect(countOf(read2, 'SUCCESS')).toBe(1);
    expect(countOf(read2, 'RUNNING')).toBeUndefined();

    // The same answer as a replica that keeps nothing and lists the whole window.
    const fresh = fixture.replica();
    const response = await fresh.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: STATS, variables: { window } }),
    });
    const listed = ((await response.json()) as { data: { workflow: { stats: Stats } } }).data.workflow.stats;
    expect(listed.byState).toEqual(read2.byState);
    expect(listed.failureReasons).toEqual(read2.failureReasons);
  });
});
