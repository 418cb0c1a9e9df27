/**
 * Subscriptions over WebSocket (`graphql-ws`) on the GraphQL path: the same stream as SSE, the caller checked when
 * the connection opens (token in `connectionParams`), scopes per field, and a cap on subscriptions per connection.
 */
import { type Client, createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { faults } from '../../src/emulator/server.js';
import { TASK_SECONDS } from '../../src/emulator/world.js';
import { manualClock, triggerRun } from '../support/console.js';
import { closeAfterEach, listenOnLoopback, startGateway } from '../support/gateway.js';
import {
  AUDIENCE,
  type IdentityProvider,
  ISSUER,
  type SigningKey,
  signingKey,
  startIdentityProvider,
  token,
} from '../support/jwks.js';
import { subscribe } from '../support/sse.js';

const track = closeAfterEach();
const TOKEN = 'callback-token-0123456789abcdef0123456789';
const RUN = `subscription Run($runId: ID!) { workflowExecutionUpdated(runId: $runId) { runId state } }`;

async function startSocketGateway(
  options: Parameters<typeof startGateway>[0] & {
    maxSubscriptions?: number;
    allowedOrigins?: '*' | readonly string[];
  } = {},
) {
  const clock = manualClock();
  const fixture = track(
    await startGateway({
      ...options,
      emulator: { now: clock.now },
      gateway: { callbackToken: TOKEN, ...options.gateway },
    }),
  );
  const loopback = track(
    await listenOnLoopback(fixture.gateway, {
      maxSubscriptionsPerConnection: options.maxSubscriptions ?? 10,
      allowedOrigins: options.allowedOrigins ?? '*',
    }),
  );
  const url = loopback.url.replace('http:', 'ws:');
  return { fixture, url, advance: clock.advance };
}

function client(url: string, connectionParams: Record<string, string> = {}): Client {
  const created = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
  });
  track({ close: async () => created.dispose() });
  return created;
}

/** Collects a subscription's results until it completes or errors. */
function collect(
  socketClient: Client,
  query: string,
  variables: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  const results: Array<{ data?: Record<string, unknown> | null; errors?: unknown }> = [];
  let settle: (outcome: { completed: boolean; error?: unknown }) => void = () => {};
  const done = new Promise<{ completed: boolean; error?: unknown }>((resolve) => {
    settle = resolve;
  });
  const stop = socketClient.subscribe(
    { query, variables, ...extra },
    {
      next: (result) => results.push(result as (typeof results)[number]),
      error: (error) => settle({ completed: false, error }),
      complete: () => settle({ completed: true }),
    },
  );
  return { results, done, stop };
}

describe('graphql-ws on /graphql', () => {
  it('streams a run until it finishes, like SSE', async () => {
    const { fixture, url, advance } = await startSocketGateway();
    const runId = await triggerRun(fixture, 'ws/clip.mp4');
    const subscription = collect(client(url), RUN, { runId });
    await expect.poll(() => subscription.results.length).toBe(1);
    expect(subscription.results[0]?.data).toEqual({ workflowExecutionUpdated: { runId, state: 'RUNNING' } });
    advance(2 * TASK_SECONDS + 1);
    const response = await fixture.gateway.fetch(`http://gateway/ci/callback/${TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ EventName: 'WorkflowFinish', WorkflowExecution: { RunId: runId } }),
    });
    expect(response.status).toBe(204);
    expect(await subscription.done).toEqual({ completed: true });
    expect(
      subscription.results.map(
        (result) => (result.data?.['workflowExecutionUpdated'] as { state: string } | undefined)?.state,
      ),
    ).toEqual(['RUNNING', 'SUCCESS']);
  });

  it('finds the finish by polling when no callback comes, and completes', async () => {
    const { fixture, url, advance } = await startSocketGateway({ pollIntervalMs: 100 });
    const runId = await triggerRun(fixture, 'ws/polled.mp4');
    const subscription = collect(client(url), RUN, { runId });
    await expect.poll(() => subscription.results.length).toBe(1);
    advance(2 * TASK_SECONDS + 1);
    expect(await subscription.done).toEqual({ completed: true });
    expect(
      subscription.results.map(
        (result) => (result.data?.['workflowExecutionUpdated'] as { state: string } | undefined)?.state,
      ),
    ).toEqual(['RUNNING', 'SUCCESS']);
    // Nobody posted a callback: the news came from the run's poller, reading it after the first look.
    const reads = fixture.emulator.requests.filter((r) => r.path === `/workflowexecution/${runId}`);
    expect(reads.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses more subscriptions on one connection than allowed', async () => {
    const { fixture, url } = await startSocketGateway({ maxSubscriptions: 1 });
    const runId = await triggerRun(fixture, 'ws/clip.mp4');
    const socketClient = client(url);
    const first = collect(socketClient, RUN, { runId });
    await expect.poll(() => first.results.length).toBe(1);
    const second = collect(socketClient, RUN, { runId });
    const outcome = await second.done;
    expect(JSON.stringify(outcome.error)).toContain('SUBSCRIPTION_LIMIT');
    first.stop();
  });

  describe('with caller authentication', () => {
    let key: SigningKey;
    let idp: IdentityProvider;
    beforeAll(async () => {
      key = await signingKey('rsa-ws', 'RS256');
      idp = await startIdentityProvider([key]);
    });
    afterAll(() => idp.close());

    it('ends the connection when its token expires', async () => {
      const { fixture, url } = await startSocketGateway({
        gateway: { auth: { jwt: { jwksUrl: idp.jwksUrl, issuer: ISSUER, audience: AUDIENCE } } },
      });
      const writer = {
        authorization: `Bearer ${await token(key, { claims: { scope: 'ci.workflows.read ci.workflows.write' } })}`,
      };
      const runId = await triggerRun(fixture, 'ws/expiring.mp4', writer);
      const shortLived = collect(
        // `exp` is in whole seconds: 2 leaves between one and two, time for the first result under load.
        client(url, { authorization: `Bearer ${await token(key, { expiresIn: 2 })}` }),
        RUN,
        {
          runId,
        },
      );
      await expect.poll(() => shortLived.results.length, { timeout: 3_000 }).toBe(1);
      const outcome = await shortLived.done;
      // Ended on time either way: the subscription's own expiry (UNAUTHENTICATED) or the connection's (4403).
      expect(outcome.completed).toBe(false);
      const error = outcome.error as { code?: number } | Array<{ extensions?: { code?: string } }>;
      expect(String(Array.isArray(error) ? error[0]?.extensions?.code : error.code)).toMatch(
        /^(UNAUTHENTICATED|4403)$/,
      );
    });

    it('ends an SSE subscription when its token expires', async () => {
      const { fixture } = await startSocketGateway({
        gateway: { auth: { jwt: { jwksUrl: idp.jwksUrl, issuer: ISSUER, audience: AUDIENCE } } },
      });
      const writer = {
        authorization: `Bearer ${await token(key, { claims: { scope: 'ci.workflows.read ci.workflows.write' } })}`,
      };
      const runId = await triggerRun(fixture, 'sse/expiring.mp4', writer);
      const sse = await subscribe<{ data?: unknown; errors?: Array<{ extensions?: { code?: string } }> }>(
        fixture.gateway.fetch,
        RUN,
        { runId },
        // `exp` is in whole seconds: 2 leaves between one and two, time for the first event under load.
        { authorization: `Bearer ${await token(key, { expiresIn: 2 })}` },
      );
      try {
        expect((await sse.next())?.data).toEqual({ workflowExecutionUpdated: { runId, state: 'RUNNING' } });
        const expired = await sse.next(5_000);
        expect(expired?.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      } finally {
        await sse.close();
      }
    });

    it('keeps the subscriptions of a token valid for 30 days open, over WebSocket and SSE', async () => {
      const { fixture, url, advance } = await startSocketGateway({
        gateway: { auth: { jwt: { jwksUrl: idp.jwksUrl, issuer: ISSUER, audience: AUDIENCE } } },
      });
      const monthLong = `Bearer ${await token(key, {
        claims: { scope: 'ci.workflows.read ci.workflows.write' },
        expiresIn: 30 * 24 * 3600,
      })}`;
      const runId = await triggerRun(fixture, 'ws/long-lived.mp4', { authorization: monthLong });
      const overSocket = collect(client(url, { authorization: monthLong }), RUN, { runId });
      const overSse = await subscribe<{ data?: unknown; errors?: unknown[] }>(
        fixture.gateway.fetch,
        RUN,
        { runId },
        { authorization: monthLong },
      );
      try {
        await expect.poll(() => overSocket.results.length).toBe(1);
        expect((await overSse.next())?.data).toEqual({
          workflowExecutionUpdated: { runId, state: 'RUNNING' },
        });
        // A timer past 2^31 ms fires at once: give it time to, then see both still open and delivering.
        await new Promise((resolve) => setTimeout(resolve, 300));
        advance(2 * TASK_SECONDS + 1);
        await fixture.gateway.fetch(`http://gateway/ci/callback/${TOKEN}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ EventName: 'WorkflowFinish', WorkflowExecution: { RunId: runId } }),
        });
        expect(await overSocket.done).toEqual({ completed: true });
        expect((await overSse.next())?.data).toEqual({
          workflowExecutionUpdated: { runId, state: 'SUCCESS' },
        });
      } finally {
        await overSse.close();
      }
    });

    it('limits one caller’s open subscriptions across connections and transports, and no one else’s', async () => {
      const { fixture, url } = await startSocketGateway({
        gateway: {
          auth: { jwt: { jwksUrl: idp.jwksUrl, issuer: ISSUER, audience: AUDIENCE } },
          maxSubscriptionsPerCaller: 2,
        },
      });
      const EVENTS = `subscription { workflowExecutionEvents(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }) { kind } }`;
      const alice = `Bearer ${await token(key, { claims: { sub: 'alice' } })}`;
      const bob = `Bearer ${await token(key, { claims: { sub: 'bob' } })}`;
      const overSocket = collect(client(url, { authorization: alice }), EVENTS, {});
      const overSse = await subscribe(fixture.gateway.fetch, EVENTS, {}, { authorization: alice });
      try {
        await expect.poll(() => fixture.emulator.requests.length).toBeGreaterThanOrEqual(1);
        // Alice's third, on a new connection and to a workflow nobody watches yet, is refused before it reaches CI.
        const unwatched = DEMO_WORKFLOW_IDS.single;
        const third = collect(
          client(url, { authorization: alice }),
          `subscription { workflowExecutionEvents(filter: { workflowId: "${unwatched}" }) { kind } }`,
          {},
        );
        // graphql-ws delivers a refusal decided after validation as the subscription's only result.
        expect(JSON.stringify([(await third.done).error, third.results])).toContain('SUBSCRIPTION_LIMIT');
        expect(fixture.emulator.requests.filter((r) => r.params['workflowId'] === unwatched)).toEqual([]);
        const thirdOverSse = await subscribe<{ errors?: Array<{ extensions?: { code?: string } }> }>(
          fixture.gateway.fetch,
          EVENTS,
          {},
          { authorization: alice },
        );
        expect((await thirdOverSse.next())?.errors?.[0]?.extensions?.code).toBe('SUBSCRIPTION_LIMIT');
        await thirdOverSse.close();
        // Bob is another caller.
        const bobs = collect(client(url, { authorization: bob }), EVENTS, {});
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(bobs.results).toEqual([]);
        bobs.stop();
        // When one of Alice's ends, she may open another.
        overSocket.stop();
        await new Promise((resolve) => setTimeout(resolve, 100));
        const again = await subscribe<{ errors?: unknown }>(
          fixture.gateway.fetch,
          EVENTS,
          {},
          { authorization: alice },
        );
        await expect(again.next(300)).rejects.toThrow('no event');
        await again.close();
      } finally {
        overSocket.stop();
        await overSse.close();
      }
    });

    it('closes a connection without a valid token, and takes the token from connectionParams', async () => {
      const { fixture, url } = await startSocketGateway({
        gateway: { auth: { jwt: { jwksUrl: idp.jwksUrl, issuer: ISSUER, audience: AUDIENCE } } },
      });
      const runId = await triggerRun(fixture, 'ws/clip.mp4').catch(() => undefined);
      const refused = collect(client(url), RUN, { runId: runId ?? `i${'1'.repeat(32)}` });
      const outcome = await refused.done;
      expect((outcome.error as { code?: number }).code).toBe(4403);

      const reader = collect(client(url, { authorization: `Bearer ${await token(key)}` }), RUN, {
        runId: `i${'e'.repeat(32)}`,
      });
      // Through: the connection is accepted and the subscription runs; this run is unknown to CI, which
      // graphql-ws reports as the subscription's error.
      expect(JSON.stringify((await reader.done).error)).toContain('EXECUTION_NOT_FOUND');

      const noScope = collect(
        client(url, { authorization: `Bearer ${await token(key, { claims: { scope: 'openid' } })}` }),
        RUN,
        { runId: `i${'e'.repeat(32)}` },
      );
      const denied = await noScope.done;
      expect(JSON.stringify([denied.error, noScope.results])).toContain('FORBIDDEN');

      // The same over SSE, and neither asked CI anything for a caller without the read scope.
      const sse = await subscribe<{ errors?: Array<{ extensions?: { code?: string } }> }>(
        fixture.gateway.fetch,
        RUN,
        { runId: `i${'e'.repeat(32)}` },
        { authorization: `Bearer ${await token(key, { claims: { scope: 'openid' } })}` },
      );
      expect((await sse.next())?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      await sse.close();
      const asked = fixture.emulator.requests.filter(
        (r) => r.path === `/workflowexecution/i${'e'.repeat(32)}`,
      );
      expect(asked).toHaveLength(1); // the reader's, with the scope
    });
  });
});

describe('the HTTP path’s guards over graphql-ws', () => {
  const LIST = `{ workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }, first: 2) { edges { node { runId } } } }`;
  const codesOf = (
    outcome: { completed: boolean; error?: unknown },
    results: Array<{ errors?: unknown }>,
  ) => {
    const errors = [
      ...(Array.isArray(outcome.error) ? outcome.error : []),
      ...results.flatMap((result) => (Array.isArray(result.errors) ? result.errors : [])),
    ] as Array<{ extensions?: { code?: string } }>;
    return errors.map((error) => error.extensions?.code);
  };
  async function run(url: string, query: string, variables: Record<string, unknown> = {}, extra = {}) {
    const operation = collect(client(url), query, variables, extra);
    const outcome = await operation.done;
    return { outcome, results: operation.results, codes: codesOf(outcome, operation.results) };
  }

  it('refuses a caller over its rate limit, as HTTP does, and counts what it spends over WebSocket', async () => {
    const { fixture, url } = await startSocketGateway({ gateway: { rateLimitPerMinute: 2 } });
    // Two list calls over WebSocket spend the caller's two calls a minute (both callers are 127.0.0.1 here).
    for (let i = 0; i < 2; i += 1) expect((await run(url, LIST)).codes).toEqual([]);
    fixture.emulator.clearRequests();
    expect((await run(url, LIST)).codes).toEqual(['RATE_LIMITED']);
    const overHttp = await fetch(url.replace('ws:', 'http:'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: LIST }),
    });
    expect(overHttp.status).toBe(429);
    expect(fixture.emulator.requests).toHaveLength(0);
  });

  it('runs nothing but manifest documents under ONLY_PERSISTED', async () => {
    const manifest = new Map([['list-two', LIST]]);
    const { url } = await startSocketGateway({
      gateway: { persistedQueries: { manifest, onlyManifest: true } },
    });
    expect((await run(url, LIST)).codes).toEqual(['PERSISTED_QUERY_ONLY']);
    const byId = await run(
      url,
      '',
      {},
      { extensions: { persistedQuery: { version: 1, sha256Hash: 'list-two' } } },
    );
    expect(byId.codes).toEqual([]);
    expect(byId.results).toHaveLength(1);
    expect(
      (await run(url, '', {}, { extensions: { persistedQuery: { version: 1, sha256Hash: 'nope' } } })).codes,
    ).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });

  it('refuses a document over MAX_DOCUMENT_BYTES before parsing it', async () => {
    const { url } = await startSocketGateway({ maxDocumentBytes: 2048 });
    expect((await run(url, `{ __typename }\n# ${'x'.repeat(4096)}`)).codes).toEqual(['DOCUMENT_TOO_LARGE']);
  });

  it('holds a query to REQUEST_TIMEOUT_MS', async () => {
    const { fixture, url } = await startSocketGateway({
      requestTimeoutMs: 300,
      client: { timeoutMs: 60_000 },
    });
    fixture.emulator.script(faults.hang(), 10, '/workflowexecution');
    const started = performance.now();
    const answer = await run(url, LIST);
    fixture.emulator.clearScript();
    expect(answer.codes).toEqual(['UPSTREAM_TIMEOUT']);
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('runs mutations (graphql-ws allows them), logging each operation as a request is logged', async () => {
    const { fixture, url } = await startSocketGateway();
    const triggered = await run(
      url,
      `mutation { triggerWorkflow(input: { workflowId: "${DEMO_WORKFLOW_IDS.large}", objectKey: "ws/mutation.mp4" }) { runId } }`,
    );
    expect(triggered.codes).toEqual([]);
    const runId = (triggered.results[0]?.data?.['triggerWorkflow'] as { runId: string } | undefined)?.runId;
    expect(fixture.emulator.requests.filter((r) => r.path === '/triggerworkflow')).toHaveLength(1);
    const line = fixture.logLines.find(
      (entry) => entry['transport'] === 'graphql-ws' && entry['operation'] === 'mutation (anonymous)',
    );
    // The workflow is looked up, then triggered: both attempts on the operation's line.
    expect(line).toMatchObject({ msg: 'graphql request', upstreamCalls: 2 });
    expect(JSON.stringify(line?.['upstream'])).toContain('"operation":"TriggerWorkflow"');
    expect(runId).toMatch(/^i/);
  });

  it('refuses an upgrade from a browser origin outside CORS_ORIGINS', async () => {
    const { url } = await startSocketGateway({ allowedOrigins: ['https://console.example.com'] });
    const attempt = (origin: string) =>
      new Promise<number | string>((resolve) => {
        const socket = new WebSocket(url, 'graphql-transport-ws', { origin });
        socket.on('open', () => {
          socket.close();
          resolve('open');
        });
        socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        socket.on('error', () => {});
      });
    expect(await attempt('https://evil.example.net')).toBe(403);
    expect(await attempt('https://console.example.com')).toBe('open');
  });
});
