/**
 * The shipped bundle, in production mode behind its router secret, over every subscription transport: SSE,
 * graphql-ws and Apollo's callback protocol. Events resolve fields that need CI reads of their own, and a SIGTERM
 * ends every subscription on its own transport and exits in time, whatever is open.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { type CiEmulator, createCiEmulator, faults } from '../../src/emulator/server.js';
import { TASK_SECONDS } from '../../src/emulator/world.js';
import { manualClock } from '../support/console.js';
import { emulatorUpstream, type RunningGateway, spawnBundle } from '../support/processes.js';
import { subscribe } from '../support/sse.js';

const root = new URL('../..', import.meta.url).pathname;
const ROUTER_SECRET = 'router-secret-for-the-transport-test';
const CALLBACK_TOKEN = 'transport-callback-token-0123456789abcdef';
const fromRouter = { 'content-type': 'application/json', 'x-router-secret': ROUTER_SECRET };
const LARGE = DEMO_WORKFLOW_IDS.large;

const RUN_WITH_JOBS = `subscription Run($runId: ID!) {
  workflowExecutionUpdated(runId: $runId) { state tasks { type job { progress } } }
}`;
type RunEvent = {
  data?: { workflowExecutionUpdated: { state: string; tasks: Array<{ job: { progress: number } | null }> } };
  errors?: unknown[];
};

let emulator: CiEmulator;
const clock = manualClock();

beforeAll(async () => {
  emulator = createCiEmulator({ now: clock.now });
  await emulator.listen(0);
});

afterAll(async () => {
  await emulator?.close();
});

async function startBundle(env: Record<string, string>): Promise<RunningGateway> {
  return spawnBundle(root, inject('bundleFolder'), {
    ...emulatorUpstream(emulator.url),
    ROUTER_SECRET,
    CI_CALLBACK_TOKEN: CALLBACK_TOKEN,
    ...env,
  });
}

/** A router's callback endpoint: every message it is sent, answered as the protocol wants. */
async function startFakeRouter() {
  const messages: Array<{ action: string; payload?: RunEvent }> = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      messages.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as (typeof messages)[number]);
      response.writeHead(204, { 'subscription-protocol': 'callback/1.0' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    messages,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function post(gateway: RunningGateway, body: object, path = '/graphql') {
  const response = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: fromRouter,
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function trigger(gateway: RunningGateway, objectKey: string): Promise<string> {
  const { body } = await post(gateway, {
    query: `mutation { triggerWorkflow(input: { workflowId: "${LARGE}", objectKey: "${objectKey}" }) { runId } }`,
  });
  return (body['data'] as { triggerWorkflow: { runId: string } }).triggerWorkflow.runId;
}

const finishCallback = (gateway: RunningGateway, runId: string) =>
  fetch(`${gateway.url}/ci/callback/${CALLBACK_TOKEN}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ EventName: 'WorkflowFinish', WorkflowExecution: { RunId: runId } }),
  });

const subscribeAsRouter = (gateway: RunningGateway, routerUrl: string, query: string, variables: object) =>
  post(gateway, {
    query,
    variables,
    extensions: {
      subscription: {
        callbackUrl: `${routerUrl}/callback/sub-1`,
        subscriptionId: 'sub-1',
        verifier: 'verifier-1',
        heartbeatIntervalMs: 0,
      },
    },
  });

function socketClient(gateway: RunningGateway) {
  const closes: number[] = [];
  const client = createClient({
    url: `${gateway.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { 'x-router-secret': ROUTER_SECRET },
    retryAttempts: 0,
    on: { closed: (event) => void closes.push((event as { code: number }).code) },
  });
  return { client, closes };
}

describe('the bundle’s subscriptions on every transport', () => {
  it('resolve each event’s job reads afresh over SSE, graphql-ws and router callbacks', async () => {
    const router = await startFakeRouter();
    const gateway = await startBundle({ SUBSCRIPTION_CALLBACK_ORIGINS: router.url, SHUTDOWN_DELAY_MS: '0' });
    const { client } = socketClient(gateway);
    try {
      const runId = await trigger(gateway, 'bundle/events.mp4');
      const sse = await subscribe<RunEvent>(
        (input, init) => fetch(input.replace('http://gateway', gateway.url), init),
        RUN_WITH_JOBS,
        { runId },
        { 'x-router-secret': ROUTER_SECRET },
      );
      const overSocket: RunEvent[] = [];
      const socketDone = new Promise<void>((resolve, reject) =>
        client.subscribe(
          { query: RUN_WITH_JOBS, variables: { runId } },
          { next: (event) => void overSocket.push(event as RunEvent), error: reject, complete: resolve },
        ),
      );
      expect(await subscribeAsRouter(gateway, router.url, RUN_WITH_JOBS, { runId })).toEqual({
        status: 200,
        body: { data: null },
      });
      const firstSse = await sse.next();
      await expect.poll(() => overSocket.length).toBe(1);
      await expect.poll(() => router.messages.filter((m) => m.action === 'next').length).toBe(1);
      for (const first of [
        firstSse,
        overSocket[0],
        router.messages.find((m) => m.action === 'next')?.payload,
      ]) {
        expect(first?.errors).toBeUndefined();
        expect(first?.data?.workflowExecutionUpdated.state).toBe('RUNNING');
        expect(first?.data?.workflowExecutionUpdated.tasks[0]?.job).not.toBeNull();
      }

      clock.advance(2 * TASK_SECONDS + 1);
      expect((await finishCallback(gateway, runId)).status).toBe(204);
      const lastSse = await sse.next();
      await socketDone;
      await expect.poll(() => router.messages.at(-1)?.action).toBe('complete');
      const lastRouter = router.messages.filter((m) => m.action === 'next').at(-1)?.payload;
      for (const last of [lastSse, overSocket.at(-1), lastRouter]) {
        expect(last?.errors).toBeUndefined();
        expect(last?.data?.workflowExecutionUpdated.state).toBe('SUCCESS');
        expect(last?.data?.workflowExecutionUpdated.tasks.map((task) => task.job?.progress)).toEqual([
          100, 100,
        ]);
      }
      expect(await sse.next()).toBeUndefined();
    } finally {
      await client.dispose();
      gateway.child.kill('SIGKILL');
      await router.close();
    }
  });

  it('drains with subscriptions open on every transport and a poll stuck upstream: each ended cleanly, exit 0 in time', async () => {
    const router = await startFakeRouter();
    const delayMs = 300;
    const timeoutMs = 3_000;
    const gateway = await startBundle({
      SUBSCRIPTION_CALLBACK_ORIGINS: router.url,
      SHUTDOWN_DELAY_MS: String(delayMs),
      SHUTDOWN_TIMEOUT_MS: String(timeoutMs),
      POLL_INTERVAL_MS: '200',
      CI_TIMEOUT_MS: '60000',
    });
    const { client, closes } = socketClient(gateway);
    const EVENTS = `subscription { workflowExecutionEvents(filter: { workflowId: "${LARGE}" }) { kind } }`;
    try {
      // Idle subscriptions: nothing happens to the workflow, so none of them has anything to say.
      const sse = await subscribe(
        (input, init) => fetch(input.replace('http://gateway', gateway.url), init),
        EVENTS,
        {},
        { 'x-router-secret': ROUTER_SECRET },
      );
      let socketOutcome: string | undefined;
      client.subscribe(
        { query: EVENTS },
        {
          next: () => {},
          error: () => {
            socketOutcome = 'error';
          },
          complete: () => {
            socketOutcome = 'complete';
          },
        },
      );
      expect((await subscribeAsRouter(gateway, router.url, EVENTS, {})).status).toBe(200);
      // The workflow's poll hangs upstream from now on.
      emulator.clearRequests();
      emulator.script(faults.hang(), 1_000, '/workflowexecution');
      await expect
        .poll(() => emulator.requests.some((r) => r.fault === 'hang'), { timeout: 5_000 })
        .toBe(true);
      await expect.poll(() => closes.length === 0 && socketOutcome === undefined).toBe(true);

      const signalledAt = Date.now();
      gateway.child.kill('SIGTERM');
      expect(await gateway.exited).toBe(0);
      const tookMs = Date.now() - signalledAt;
      // Nothing waited for the timeout: every stream ended at the delay's end, the stuck poll was aborted.
      expect(tookMs).toBeLessThan(delayMs + 1_500);
      expect(await sse.next()).toBeUndefined();
      expect(closes).toEqual([1001]);
      expect(router.messages.at(-1)?.action).toBe('complete');
      const stopped = gateway.lines.find((line) => String(line['msg']).startsWith('stopped'));
      expect(stopped).toMatchObject({ cutShort: 0 });
    } finally {
      emulator.clearScript();
      await client.dispose();
      gateway.child.kill('SIGKILL');
      await router.close();
    }
  });
});
