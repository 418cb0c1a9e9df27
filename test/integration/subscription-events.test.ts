/**
 * Every subscription event is resolved as a query would be at that moment, on every transport: fields that need a
 * CI read of their own (a task's media job) are read afresh per event, within the request deadline per event, and
 * that work is aborted when the subscriber leaves.
 */
import { createClient } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { faults } from '../../src/emulator/server.js';
import { TASK_SECONDS } from '../../src/emulator/world.js';
import { manualClock, triggerRun } from '../support/console.js';
import { closeAfterEach, type GatewayFixture, listenOnLoopback, startGateway } from '../support/gateway.js';
import { subscribe } from '../support/sse.js';

const track = closeAfterEach();
const TOKEN = 'callback-token-0123456789abcdef0123456789';

const RUN_WITH_JOBS = `subscription Run($runId: ID!) {
  workflowExecutionUpdated(runId: $runId) { state tasks { type state job { state progress } } }
}`;
const EVENTS_WITH_JOBS = `subscription Events($workflowId: ID!) {
  workflowExecutionEvents(filter: { workflowId: $workflowId }) {
    kind execution { runId state tasks { type job { progress } } }
  }
}`;

interface RunEvent {
  data?: {
    workflowExecutionUpdated: {
      state: string;
      tasks: Array<{ type: string; state: string; job: { state: string; progress: number } | null }>;
    };
  } | null;
  errors?: Array<{ message: string; path?: unknown[]; extensions?: { code?: string } }>;
}

async function startLive(options: { requestTimeoutMs?: number } = {}) {
  const clock = manualClock();
  /** Every upstream attempt's operation and how it ended, as the CI client reports it. */
  const attempts: Array<{ operation: string; outcome: string }> = [];
  const fixture = track(
    await startGateway({
      emulator: { now: clock.now },
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
      gateway: { callbackToken: TOKEN },
      client: {
        observers: [{ attemptStarted: () => ({ ended: (attempt) => void attempts.push(attempt) }) }],
      },
    }),
  );
  return { fixture, advance: clock.advance, attempts };
}

const finishCallback = (fixture: GatewayFixture, runId: string) =>
  fixture.gateway.fetch(`http://gateway/ci/callback/${TOKEN}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ EventName: 'WorkflowFinish', WorkflowExecution: { RunId: runId } }),
  });

const progressOf = (event: RunEvent | undefined) =>
  event?.data?.workflowExecutionUpdated.tasks.map((task) => task.job?.progress);

describe('subscription events that need CI reads of their own', () => {
  it('over SSE: every event carries each task’s job as CI reports it then, with no error', async () => {
    const { fixture, advance } = await startLive();
    const runId = await triggerRun(fixture, 'events/clip.mp4');
    const subscription = await subscribe<RunEvent>(fixture.gateway.fetch, RUN_WITH_JOBS, { runId });
    try {
      const first = await subscription.next();
      expect(first?.errors).toBeUndefined();
      expect(first?.data?.workflowExecutionUpdated.state).toBe('RUNNING');
      expect(first?.data?.workflowExecutionUpdated.tasks[0]?.job).not.toBeNull();
      advance(2 * TASK_SECONDS + 1);
      expect((await finishCallback(fixture, runId)).status).toBe(204);
      const last = await subscription.next();
      expect(last?.errors).toBeUndefined();
      expect(last?.data?.workflowExecutionUpdated.state).toBe('SUCCESS');
      expect(progressOf(last)).toEqual([100, 100]);
      expect(await subscription.next()).toBeUndefined();
    } finally {
      await subscription.close();
    }
  });

  it('over SSE: the request is logged once its stream ends, with every event’s CI calls', async () => {
    const { fixture, advance } = await startLive();
    const runId = await triggerRun(fixture, 'events/logged.mp4');
    const requestLines = () =>
      fixture.logLines.filter(
        (line) => line['msg'] === 'graphql request' && line['operation'] === 'subscription Run',
      );
    const subscription = await subscribe<RunEvent>(fixture.gateway.fetch, RUN_WITH_JOBS, { runId });
    try {
      await subscription.next();
      // The stream is open: its line waits for its end.
      expect(requestLines()).toEqual([]);
      advance(2 * TASK_SECONDS + 1);
      expect((await finishCallback(fixture, runId)).status).toBe(204);
      await subscription.next();
      expect(await subscription.next()).toBeUndefined();
    } finally {
      await subscription.close();
    }
    await expect.poll(() => requestLines()).toHaveLength(1);
    const [line] = requestLines();
    const operations = ((line?.['upstream'] ?? []) as Array<{ operation: string }>).map(
      (attempt) => attempt.operation,
    );
    // Each of the two events read its tasks' jobs afresh.
    expect(operations.filter((operation) => operation === 'GetMediaJobs').length).toBeGreaterThanOrEqual(2);
    expect(line).toMatchObject({ status: 200, upstreamCalls: operations.length });
  });

  it('over SSE: a workflow’s events resolve their runs’ tasks and jobs, never a null event', async () => {
    const { fixture, advance } = await startLive();
    const subscription = await subscribe<{
      data?: { workflowExecutionEvents: { kind: string; execution: { runId: string; tasks: unknown[] } } };
      errors?: unknown[];
    }>(fixture.gateway.fetch, EVENTS_WITH_JOBS, { workflowId: DEMO_WORKFLOW_IDS.large });
    try {
      // The watch's first look is taken before the run exists, so the run is news.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const runId = await triggerRun(fixture, 'events/new.mp4');
      advance(1);
      expect((await finishCallback(fixture, runId)).status).toBe(204);
      const started = await subscription.next();
      expect(started?.errors).toBeUndefined();
      expect(started?.data?.workflowExecutionEvents).toMatchObject({ kind: 'STARTED', execution: { runId } });
      expect(started?.data?.workflowExecutionEvents.execution.tasks.length).toBeGreaterThan(0);
    } finally {
      await subscription.close();
    }
  });

  it('over graphql-ws: each event reads the jobs afresh instead of reusing the first event’s answers', async () => {
    const { fixture, advance } = await startLive();
    const loopback = track(await listenOnLoopback(fixture.gateway));
    const client = createClient({
      url: loopback.url.replace('http:', 'ws:'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    track({ close: async () => client.dispose() });
    const runId = await triggerRun(fixture, 'events/ws.mp4');
    const events: RunEvent[] = [];
    const done = new Promise<void>((resolve, reject) =>
      client.subscribe(
        { query: RUN_WITH_JOBS, variables: { runId } },
        { next: (event) => void events.push(event as RunEvent), error: reject, complete: resolve },
      ),
    );
    await expect.poll(() => events.length).toBe(1);
    advance(2 * TASK_SECONDS + 1);
    await finishCallback(fixture, runId);
    await done;
    expect(events.map((event) => event.errors)).toEqual([undefined, undefined]);
    expect(events[1]?.data?.workflowExecutionUpdated.state).toBe('SUCCESS');
    expect(progressOf(events[1])).toEqual([100, 100]);
  });

  it('bounds each event by the request deadline: a hanging job read is UPSTREAM_TIMEOUT on that field only', async () => {
    const { fixture } = await startLive({ requestTimeoutMs: 400 });
    const runId = await triggerRun(fixture, 'events/slow.mp4');
    fixture.emulator.script(faults.hang(), 10, '/jobs/');
    const subscription = await subscribe<RunEvent>(fixture.gateway.fetch, RUN_WITH_JOBS, { runId });
    try {
      const started = performance.now();
      const first = await subscription.next();
      expect(performance.now() - started).toBeLessThan(3_000);
      expect(first?.data?.workflowExecutionUpdated.state).toBe('RUNNING');
      const jobs = first?.data?.workflowExecutionUpdated.tasks.map((task) => task.job) ?? [];
      expect(jobs.length).toBeGreaterThan(0);
      expect(jobs.every((job) => job === null)).toBe(true);
      expect(new Set(first?.errors?.map((error) => error.extensions?.code))).toEqual(
        new Set(['UPSTREAM_TIMEOUT']),
      );
    } finally {
      fixture.emulator.clearScript();
      await subscription.close();
    }
  });

  it('aborts an event’s upstream work when its subscriber leaves', async () => {
    const { fixture, attempts } = await startLive();
    const runId = await triggerRun(fixture, 'events/left.mp4');
    fixture.emulator.script(faults.hang(), 10, '/jobs/');
    fixture.emulator.clearRequests();
    const subscription = await subscribe<RunEvent>(fixture.gateway.fetch, RUN_WITH_JOBS, { runId });
    await expect.poll(() => fixture.emulator.requests.some((r) => r.path.startsWith('/jobs/'))).toBe(true);
    expect(attempts.filter((attempt) => attempt.operation === 'GetMediaJobs')).toEqual([]);
    await subscription.close();
    await expect
      .poll(() => attempts.filter((attempt) => attempt.operation === 'GetMediaJobs'))
      .toEqual([expect.objectContaining({ outcome: 'cancelled' })]);
    fixture.emulator.clearScript();
  });
});
