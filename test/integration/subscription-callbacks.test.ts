/**
 * Apollo's HTTP callback protocol against a fake router that checks every message: `check` before the answer,
 * `next` per result, `complete` at the end, heartbeats, and a 404 from the router stopping the subscription.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { TASK_SECONDS } from '../../src/emulator/world.js';
import { manualClock, triggerRun } from '../support/console.js';
import { closeAfterEach, type GatewayFixture, startGateway } from '../support/gateway.js';

const track = closeAfterEach();
const TOKEN = 'callback-token-0123456789abcdef0123456789';

interface RouterMessage {
  readonly kind: string;
  readonly action: 'check' | 'next' | 'complete';
  readonly id: string;
  readonly verifier: string;
  readonly payload?: { data?: Record<string, { state: string }> };
  readonly errors?: unknown[];
}

/** A router's callback endpoint: records messages, checks their envelope, answers as told. */
async function startFakeRouter() {
  const messages: RouterMessage[] = [];
  const router = {
    messages,
    status: 204,
    url: '',
    redirectTo: undefined as string | undefined,
    /** What the router says of the protocol on its answers; Hive Gateway says nothing. */
    protocolHeader: 'callback/1.0' as string | undefined,
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RouterMessage;
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['subscription-protocol']).toBe('callback/1.0');
      expect(message).toMatchObject({ kind: 'subscription', id: 'sub-1', verifier: 'verifier-1' });
      messages.push(message);
      if (router.redirectTo) {
        response.writeHead(307, { location: router.redirectTo }).end();
        return;
      }
      response
        .writeHead(
          router.status,
          router.protocolHeader ? { 'subscription-protocol': router.protocolHeader } : {},
        )
        .end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  track({ close: () => new Promise((resolve) => server.close(resolve)) });
  router.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return router;
}

async function startWithRouter(origins: (routerUrl: string) => string[] = (url) => [url]) {
  const router = await startFakeRouter();
  const clock = manualClock();
  const fixture = track(
    await startGateway({
      emulator: { now: clock.now },
      gateway: { callbackToken: TOKEN, subscriptionCallbackOrigins: origins(router.url) },
    }),
  );
  return { fixture, router, advance: clock.advance };
}

/** The router's subscription request, as Apollo Router sends it. */
async function subscribeAsRouter(
  fixture: GatewayFixture,
  routerUrl: string,
  runId: string,
  heartbeatIntervalMs = 0,
) {
  const response = await fixture.gateway.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json;callbackSpec=1.0' },
    body: JSON.stringify({
      query: `subscription Run($runId: ID!) { workflowExecutionUpdated(runId: $runId) { state } }`,
      variables: { runId },
      extensions: {
        subscription: {
          callbackUrl: `${routerUrl}/callback/sub-1`,
          subscriptionId: 'sub-1',
          verifier: 'verifier-1',
          heartbeatIntervalMs,
        },
      },
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const finish = (fixture: GatewayFixture, runId: string) =>
  fixture.gateway.fetch(`http://gateway/ci/callback/${TOKEN}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ EventName: 'WorkflowFinish', WorkflowExecution: { RunId: runId } }),
  });

describe('the subscription callback protocol', () => {
  it('checks, answers at once, then posts each result and a complete', async () => {
    const { fixture, router, advance } = await startWithRouter();
    const runId = await triggerRun(fixture, 'router/clip.mp4');
    const answer = await subscribeAsRouter(fixture, router.url, runId);
    expect(answer).toEqual({ status: 200, body: { data: null } });
    await expect.poll(() => router.messages.length).toBeGreaterThanOrEqual(2);
    expect(router.messages[0]?.action).toBe('check');
    expect(router.messages[1]).toMatchObject({
      action: 'next',
      payload: { data: { workflowExecutionUpdated: { state: 'RUNNING' } } },
    });
    advance(2 * TASK_SECONDS + 1);
    await finish(fixture, runId);
    await expect
      .poll(() => router.messages.map((message) => message.action))
      .toEqual(['check', 'next', 'next', 'complete']);
    expect(router.messages[2]?.payload?.data?.['workflowExecutionUpdated']?.state).toBe('SUCCESS');
  });

  it('sends heartbeats, and stops the subscription when the router answers 404', async () => {
    const { fixture, router, advance } = await startWithRouter();
    const runId = await triggerRun(fixture, 'router/clip.mp4');
    // The shortest interval accepted: the check before the answer, then one a second.
    await subscribeAsRouter(fixture, router.url, runId, 1_000);
    await expect
      .poll(() => router.messages.filter((message) => message.action === 'check').length, { timeout: 5_000 })
      .toBeGreaterThanOrEqual(2);
    // The router forgets the subscription: the next heartbeat gets 404.
    router.status = 404;
    const dropped = router.messages.length;
    await expect.poll(() => router.messages.length, { timeout: 5_000 }).toBeGreaterThan(dropped);
    const afterDrop = router.messages.length;
    // The run finishes and CI says so: a live subscription would post it; a stopped one posts nothing more.
    advance(2 * TASK_SECONDS + 1);
    expect((await finish(fixture, runId)).status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(router.messages.slice(afterDrop)).toEqual([]);
  });

  it('takes a router’s bare 204 to its check, as Hive Gateway answers, and refuses one naming another protocol', async () => {
    const { fixture, router } = await startWithRouter();
    const runId = await triggerRun(fixture, 'router/hive.mp4');
    router.protocolHeader = undefined;
    expect(await subscribeAsRouter(fixture, router.url, runId)).toEqual({
      status: 200,
      body: { data: null },
    });
    await expect.poll(() => router.messages.map((message) => message.action)).toEqual(['check', 'next']);
    router.protocolHeader = 'callback/2.0';
    const other = await subscribeAsRouter(fixture, router.url, runId);
    expect(JSON.stringify(other.body)).toContain('SUBSCRIPTION_CALLBACK_REFUSED');
  });

  it('never follows a redirect from the router’s origin to another', async () => {
    const internal: string[] = [];
    const elsewhere = createServer((request, response) => {
      internal.push(`${request.method} ${request.url}`);
      response.writeHead(204, { 'subscription-protocol': 'callback/1.0' }).end();
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    track({ close: () => new Promise((resolve) => elsewhere.close(resolve)) });
    const { fixture, router } = await startWithRouter();
    router.redirectTo = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/internal`;
    const runId = await triggerRun(fixture, 'router/redirect.mp4');
    const answer = await subscribeAsRouter(fixture, router.url, runId);
    expect(JSON.stringify(answer.body)).toContain('SUBSCRIPTION_CALLBACK_REFUSED');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(internal).toEqual([]);
  });

  it.each([1, 999, 3e9, -5])('refuses a heartbeat interval of %d ms, before any call', async (interval) => {
    const { fixture, router } = await startWithRouter();
    fixture.emulator.clearRequests();
    const answer = await subscribeAsRouter(fixture, router.url, `i${'a'.repeat(32)}`, interval);
    expect(JSON.stringify(answer.body)).toContain('SUBSCRIPTION_CALLBACK_REFUSED');
    expect(router.messages).toHaveLength(0);
    expect(fixture.emulator.requests).toHaveLength(0);
  });

  it('counts callback subscriptions against the caller’s limit while they stream, not while they are answered', async () => {
    const router = await startFakeRouter();
    const clock = manualClock();
    const fixture = track(
      await startGateway({
        emulator: { now: clock.now },
        gateway: {
          callbackToken: TOKEN,
          subscriptionCallbackOrigins: [router.url],
          maxSubscriptionsPerCaller: 2,
        },
      }),
    );
    const runId = await triggerRun(fixture, 'router/limited.mp4');
    const answers = [];
    for (let i = 0; i < 3; i += 1) answers.push(await subscribeAsRouter(fixture, router.url, runId));
    expect(answers.slice(0, 2)).toEqual([
      { status: 200, body: { data: null } },
      { status: 200, body: { data: null } },
    ]);
    expect(JSON.stringify(answers[2]?.body)).toContain('SUBSCRIPTION_LIMIT');
    await expect.poll(() => router.messages.filter((message) => message.action === 'next').length).toBe(2);
    // The run finishes: both streams complete, and the caller may subscribe again.
    clock.advance(2 * TASK_SECONDS + 1);
    await finish(fixture, runId);
    await expect
      .poll(() => router.messages.filter((message) => message.action === 'complete').length)
      .toBe(2);
    expect(await subscribeAsRouter(fixture, router.url, runId)).toEqual({
      status: 200,
      body: { data: null },
    });
  });

  it('refuses callback URLs outside the allowed origins, before any upstream call', async () => {
    const { fixture, router } = await startWithRouter(() => ['http://router.internal:4000']);
    fixture.emulator.clearRequests();
    const answer = await subscribeAsRouter(fixture, router.url, `i${'a'.repeat(32)}`);
    expect(JSON.stringify(answer.body)).toContain('SUBSCRIPTION_CALLBACK_REFUSED');
    expect(router.messages).toHaveLength(0);
    expect(fixture.emulator.requests).toHaveLength(0);
  });
});
