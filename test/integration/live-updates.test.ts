/**
 * Live updates over SSE: the run's state at once, a change announced by a CI callback (polling off) or found by
 * polling (callbacks off), completion on finish; a workflow's new runs; what forged and malformed callbacks cost;
 * one upstream poll per interval whatever the number of subscribers.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ReadCache } from '../../src/ci/read-cache.js';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { TASK_SECONDS } from '../../src/emulator/world.js';
import { manualClock, triggerRun } from '../support/console.js';
import { closeAfterEach, type GatewayFixture, startGateway } from '../support/gateway.js';
import { subscribe } from '../support/sse.js';

const track = closeAfterEach();
const LARGE = DEMO_WORKFLOW_IDS.large;
const TOKEN = 'callback-token-0123456789abcdef0123456789';

async function startLive(options: { pollIntervalMs?: number } = {}) {
  const clock = manualClock();
  const fixture = track(
    await startGateway({
      pollIntervalMs: options.pollIntervalMs ?? 0,
      emulator: { now: clock.now },
      gateway: { callbackToken: TOKEN },
    }),
  );
  return { fixture, advance: clock.advance };
}

const workflowFinish = (runId: string) =>
  `<Response><EventName>WorkflowFinish</EventName><WorkflowExecution><WorkflowId>${LARGE}</WorkflowId>` +
  `<RunId>${runId}</RunId><State>Success</State><Object>live/clip.mp4</Object>` +
  '<CreateTime>2026-11-28 14:54:17+0800</CreateTime></WorkflowExecution></Response>';

async function postCallback(
  fixture: GatewayFixture,
  body: string,
  token = TOKEN,
  contentType = 'application/xml',
) {
  const response = await fixture.gateway.fetch(`http://gateway/ci/callback/${token}`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  return response.status;
}

const RUN = `subscription Run($runId: ID!) { workflowExecutionUpdated(runId: $runId) { runId state tasks { type state } } }`;
type RunEvent = { data?: { workflowExecutionUpdated: { state: string; tasks: Array<{ state: string }> } } };

describe('workflowExecutionUpdated over SSE', () => {
  it('sends the state at once, a change announced by a callback, and completes when the run finishes', async () => {
    const { fixture, advance } = await startLive();
    const runId = await triggerRun(fixture, 'live/clip.mp4');
    const subscription = await subscribe<RunEvent>(fixture.gateway.fetch, RUN, { runId });
    try {
      expect((await subscription.next())?.data?.workflowExecutionUpdated.state).toBe('RUNNING');
      advance(2 * TASK_SECONDS + 1);
      expect(await postCallback(fixture, workflowFinish(runId))).toBe(204);
      const finished = await subscription.next();
      expect(finished?.data?.workflowExecutionUpdated.state).toBe('SUCCESS');
      expect(await subscription.next()).toBeUndefined();
    } finally {
      await subscription.close();
    }
  });

  it('finds a finish by its workflow’s scan when no callback comes, reading the run only when it changed', async () => {
    const { fixture, advance } = await startLive({ pollIntervalMs: 50 });
    const runId = await triggerRun(fixture, 'live/clip.mp4');
    fixture.emulator.clearRequests();
    const subscription = await subscribe<RunEvent>(fixture.gateway.fetch, RUN, { runId });
    const detailReads = () =>
      fixture.emulator.requests.filter((r) => r.path === `/workflowexecution/${runId}`);
    const scans = () => fixture.emulator.requests.filter((r) => r.params['states'] === 'Running,Pause');
    try {
      expect((await subscription.next())?.data?.workflowExecutionUpdated.state).toBe('RUNNING');
      await expect.poll(() => scans().length).toBeGreaterThanOrEqual(3);
      // Scans see it still running: no read of its own beyond the first look.
      expect(detailReads()).toHaveLength(1);
      advance(2 * TASK_SECONDS + 1);
      expect((await subscription.next())?.data?.workflowExecutionUpdated.state).toBe('SUCCESS');
      expect(await subscription.next()).toBeUndefined();
      expect(detailReads()).toHaveLength(2);
    } finally {
      await subscription.close();
    }
  });

  it('answers EXECUTION_NOT_FOUND for a run CI does not know, and BAD_USER_INPUT for a malformed id', async () => {
    const { fixture } = await startLive();
    const unknown = await subscribe<{ errors?: Array<{ extensions?: { code?: string } }> }>(
      fixture.gateway.fetch,
      RUN,
      { runId: `i${'e'.repeat(32)}` },
    );
    expect((await unknown.next())?.errors?.[0]?.extensions?.code).toBe('EXECUTION_NOT_FOUND');
    await unknown.close();
    const malformed = await subscribe<{ errors?: Array<{ extensions?: { code?: string } }> }>(
      fixture.gateway.fetch,
      RUN,
      { runId: '../x' },
    );
    expect((await malformed.next())?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await malformed.close();
  });

  it('watches ten runs of a workflow, a hundred subscribers, with one list per interval and one read per change', async () => {
    const { fixture, advance } = await startLive({ pollIntervalMs: 100 });
    const runIds = await Promise.all(
      Array.from({ length: 10 }, (_, i) => triggerRun(fixture, `live/many-${i}.mp4`)),
    );
    fixture.emulator.clearRequests();
    const subscriptions = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        subscribe<RunEvent>(fixture.gateway.fetch, RUN, { runId: runIds[i % 10] }),
      ),
    );
    const detailReads = () =>
      fixture.emulator.requests.filter((r) => r.path.startsWith('/workflowexecution/'));
    const scans = () => fixture.emulator.requests.filter((r) => r.params['states'] === 'Running,Pause');
    try {
      for (const subscription of subscriptions) {
        expect((await subscription.next())?.data?.workflowExecutionUpdated.state).toBe('RUNNING');
      }
      // The first looks: one per run, shared by its ten subscribers.
      expect(detailReads()).toHaveLength(10);
      const before = scans().length;
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const elapsed = performance.now() - started;
      // One scan of the workflow per interval for all ten runs, and no run read while nothing changed.
      expect(scans().length - before).toBeGreaterThanOrEqual(5);
      expect(scans().length - before).toBeLessThanOrEqual(1 + Math.ceil(elapsed / 100));
      expect(detailReads()).toHaveLength(10);
      // They all finish: each is read once more, and every subscription ends.
      advance(2 * TASK_SECONDS + 1);
      for (const subscription of subscriptions) {
        let last: string | undefined;
        for (;;) {
          const event = await subscription.next(5_000);
          if (!event) break;
          last = event.data?.workflowExecutionUpdated.state;
        }
        expect(last).toBe('SUCCESS');
      }
      expect(detailReads()).toHaveLength(20);
    } finally {
      await Promise.all(subscriptions.map((subscription) => subscription.close()));
    }
  });
});

describe('the emulator’s callbacks, as in demo mode', () => {
  it('finish a subscribed run with no polling at all', async () => {
    const { fixture, advance } = await startLive();
    const server = createServer(fixture.gateway);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    track({ close: () => new Promise((resolve) => server.close(resolve)) });
    const { port } = server.address() as AddressInfo;
    fixture.emulator.sendCallbacksTo(`http://127.0.0.1:${port}/ci/callback/${TOKEN}`);
    const runId = await triggerRun(fixture, 'live/clip.mp4');
    const subscription = await subscribe<RunEvent>(fixture.gateway.fetch, RUN, { runId });
    try {
      expect((await subscription.next())?.data?.workflowExecutionUpdated.state).toBe('RUNNING');
      advance(2 * TASK_SECONDS + 1);
      expect((await subscription.next(5_000))?.data?.workflowExecutionUpdated.state).toBe('SUCCESS');
      expect(await subscription.next()).toBeUndefined();
    } finally {
      await subscription.close();
      fixture.emulator.sendCallbacksTo(undefined);
    }
  });
});

describe('workflowExecutionEvents over SSE', () => {
  it('reports a new run and its finish, filtered by object key', async () => {
    const { fixture, advance } = await startLive({ pollIntervalMs: 50 });
    type Event = {
      data?: { workflowExecutionEvents: { kind: string; execution: { runId: string; state: string } } };
    };
    const subscription = await subscribe<Event>(
      fixture.gateway.fetch,
      `subscription { workflowExecutionEvents(filter: { workflowId: "${LARGE}", objectKey: "live/watched.mp4" }) {
        kind execution { runId state objectKey } } }`,
    );
    try {
      // Let the first poll take its baseline before anything happens.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await triggerRun(fixture, 'live/other.mp4');
      const runId = await triggerRun(fixture, 'live/watched.mp4');
      const started = await subscription.next();
      expect(started?.data?.workflowExecutionEvents).toMatchObject({
        kind: 'STARTED',
        execution: { runId, state: 'RUNNING' },
      });
      advance(2 * TASK_SECONDS + 1);
      const finished = await subscription.next();
      expect(finished?.data?.workflowExecutionEvents).toMatchObject({
        kind: 'FINISHED',
        execution: { runId, state: 'SUCCESS' },
      });
    } finally {
      await subscription.close();
    }
  });
});

describe('POST /ci/callback/<token>', () => {
  it('answers 404 to a wrong token and 400 to a body that is not a callback, publishing nothing', async () => {
    const { fixture } = await startLive();
    fixture.emulator.clearRequests();
    const runId = `i${'a'.repeat(32)}`;
    expect(await postCallback(fixture, workflowFinish(runId), 'wrong-token-0123456789abcdef0123456789')).toBe(
      404,
    );
    expect(await postCallback(fixture, '<Response><EventName>Nope</EventName></Response>')).toBe(400);
    expect(await postCallback(fixture, 'not xml at all <')).toBe(400);
    expect(await postCallback(fixture, '{"EventName":"WorkflowFinish"}', TOKEN, 'application/json')).toBe(
      400,
    );
    expect(fixture.emulator.requests).toHaveLength(0);
    expect(
      fixture.logLines.some((line) => line['msg'] === 'CI callback with a wrong token or path: refused'),
    ).toBe(true);
    // A refused body is logged with the request id it was answered with.
    const refused = await fixture.gateway.fetch(`http://gateway/ci/callback/${TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml', 'x-request-id': 'ci-delivery-42' },
      body: 'not a callback',
    });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('x-request-id')).toBe('ci-delivery-42');
    expect(
      fixture.logLines.find(
        (line) =>
          line['msg'] === 'CI callback body unreadable: nothing published' &&
          line['requestId'] === 'ci-delivery-42',
      ),
    ).toBeDefined();
  });

  it('reads a body without a declared length only up to the cap, then answers 413', async () => {
    const { fixture } = await startLive();
    let pulled = 0;
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    // `duplex` is required for a streamed body, and missing from the type declarations.
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: endless,
      duplex: 'half',
    };
    const response = await fixture.gateway.fetch(`http://gateway/ci/callback/${TOKEN}`, init as RequestInit);
    expect(response.status).toBe(413);
    // Stopped at the cap (256 KiB), give or take what the stream had queued: not the endless body.
    expect(pulled).toBeLessThan(1024 * 1024);
  });

  it('answers 404 to a malformed escape in the path, logs it, and shows no stack', async () => {
    const { fixture } = await startLive();
    const response = await fixture.gateway.fetch('http://gateway/ci/callback/%E0%A4%A', { method: 'POST' });
    expect(response.status).toBe(404);
    const text = await response.text();
    expect(text).not.toMatch(/\bat |URIError|\.ts:|\.js:/);
    expect(
      fixture.logLines.some((line) => line['msg'] === 'CI callback with a wrong token or path: refused'),
    ).toBe(true);
  });

  it('throttles one client’s wrong-token guesses and logs them once per window, not once each', async () => {
    const { fixture } = await startLive();
    const statuses: number[] = [];
    for (let guess = 0; guess < 40; guess += 1) {
      statuses.push(await postCallback(fixture, 'x', `wrong-${guess}-0123456789abcdef0123456789`));
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(404));
    expect(statuses.slice(10)).toEqual(Array(30).fill(429));
    const lines = fixture.logLines.filter((line) => String(line['msg']).startsWith('CI callback'));
    expect(lines.length).toBeLessThanOrEqual(11);
    // The right token still gets through: only wrong guesses are refused unheard.
    expect(await postCallback(fixture, 'not a callback')).toBe(400);
  });

  it('treats a forged callback for an unchanged run as a hint: one read, nothing new published', async () => {
    const { fixture } = await startLive();
    const runId = await triggerRun(fixture, 'live/clip.mp4');
    const subscription = await subscribe<RunEvent>(fixture.gateway.fetch, RUN, { runId });
    try {
      expect((await subscription.next())?.data?.workflowExecutionUpdated.state).toBe('RUNNING');
      fixture.emulator.clearRequests();
      // It claims success; CI says the run is still running.
      expect(await postCallback(fixture, workflowFinish(runId))).toBe(204);
      await expect(subscription.next(500)).rejects.toThrow(/no event/);
      expect(fixture.emulator.requests.map((r) => r.path)).toEqual([`/workflowexecution/${runId}`]);
    } finally {
      await subscription.close();
    }
  });

  it('reads JSON and root-less bodies, and TaskFinish callbacks naming the run of their job', async () => {
    const { fixture } = await startLive();
    const runId = await triggerRun(fixture, 'live/clip.mp4');
    fixture.emulator.clearRequests();
    const json = JSON.stringify({
      EventName: 'WorkflowFinish',
      WorkflowExecution: { RunId: runId, State: 'Success' },
    });
    expect(await postCallback(fixture, json, TOKEN, 'application/json')).toBe(204);
    const task = `<EventName>TaskFinish</EventName><JobsDetail><JobId>j${'1'.repeat(32)}</JobId><Workflow><RunId>${runId}</RunId></Workflow></JobsDetail>`;
    expect(await postCallback(fixture, `<Response>${task}</Response>`)).toBe(204);
    await expect
      .poll(() => fixture.emulator.requests.filter((r) => r.path === `/workflowexecution/${runId}`).length)
      .toBeGreaterThanOrEqual(1);
  });
});

describe('Workflow.notifyConfig and callbacksReachGateway', () => {
  it('show where CI sends a workflow’s callbacks, token masked, and whether they lead to this gateway', async () => {
    const base = 'https://ci-gateway.example.com';
    const fixture = track(
      await startGateway({
        publicCallbackBaseUrl: base,
        gateway: { callbackToken: TOKEN },
        // Each look must ask CI, not remember the workflow for 30 s.
        client: { cache: new ReadCache({ workflowTtlMs: 0 }) },
      }),
    );
    const query = `{ workflow(workflowId: "${LARGE}") {
      notifyConfig { enabled type url events resultFormat } callbacksReachGateway } }`;
    expect((await fixture.query(query)).data).toEqual({
      workflow: { notifyConfig: null, callbacksReachGateway: false },
    });

    fixture.emulator.sendCallbacksTo(`${base}/ci/callback/${TOKEN}`);
    const here = await fixture.query(query);
    expect(here.data).toEqual({
      workflow: {
        notifyConfig: {
          enabled: true,
          type: 'Url',
          url: `${base}/ci/callback/****`,
          events: ['TaskFinish', 'WorkflowFinish'],
          resultFormat: 'XML',
        },
        callbacksReachGateway: true,
      },
    });
    expect(JSON.stringify(here)).not.toContain(TOKEN);

    fixture.emulator.sendCallbacksTo(`${base}/ci/callback/an-old-token-0123456789abcdef0123`);
    expect((await fixture.query(query)).data?.['workflow']).toMatchObject({ callbacksReachGateway: false });
    fixture.emulator.sendCallbacksTo(undefined);
  });
});
