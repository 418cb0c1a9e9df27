/**
 * The response cache replicas share through a real redis-server: an identical read on another replica costs CI
 * nothing and says how long it has left; callers with other rights never share an answer; a CI callback taken by
 * one replica, or a mutation on one, evicts what changed for every replica; Redis out of reach is a miss.
 */
import { createClient } from 'graphql-ws';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { TASK_SECONDS } from '../../src/emulator/world.js';
import type { Gateway } from '../../src/http/gateway.js';
import { connectRedisLive } from '../../src/live/redis.js';
import { redisResponseStore } from '../../src/live/redis-response-store.js';
import { manualClock, triggerRun } from '../support/console.js';
import { closeAfterEach, listenOnLoopback, startGateway } from '../support/gateway.js';
import { AUDIENCE, ISSUER, signingKey, startIdentityProvider, token } from '../support/jwks.js';
import { redisTestsCanRun, unreachableRedis, useRedisServer } from '../support/redis.js';

const track = closeAfterEach();
const LARGE = DEMO_WORKFLOW_IDS.large;
const TOKEN = 'callback-token-0123456789abcdef0123456789';
const PAGE = `query Page($first: Int) {
  workflowExecutions(filter: { workflowId: "${LARGE}" }, first: $first) { edges { node { id runId state } } }
}`;

async function post(gateway: Gateway, query: string, variables = {}, headers: Record<string, string> = {}) {
  const response = await gateway.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { cacheControl: response.headers.get('cache-control'), body: (await response.json()) as object };
}

/** Answers are written after they are sent: wait until the store has them before another replica asks. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

describe.skipIf(!redisTestsCanRun())('the response cache shared through Redis', () => {
  const redis = useRedisServer();
  const sharedRedis = async () => {
    const live = await connectRedisLive(redis.url(), { logger: { warn() {} } });
    onTestFinished(() => live.close());
    return live;
  };

  it('answers an identical read on another replica with no call to CI, for the seconds it has left', async () => {
    const fixture = track(await startGateway({ redis: await sharedRedis() }));
    const first = await post(fixture.gateway, PAGE, { first: 3 });
    expect(first.cacheControl).toBe('public, max-age=5');
    expect(fixture.emulator.requests.length).toBeGreaterThan(0);
    await settle();
    fixture.emulator.clearRequests();

    const other = fixture.replica();
    const again = await post(other, PAGE, { first: 3 });
    expect(again.body).toEqual(first.body);
    expect(fixture.emulator.requests).toHaveLength(0);
    expect(again.cacheControl).toMatch(/^public, max-age=[45]$/);

    // Other variables are another read.
    await post(other, PAGE, { first: 4 });
    expect(fixture.emulator.requests.length).toBeGreaterThan(0);
  });

  it('shares answers between callers with the same rights only', async () => {
    const key = await signingKey('k1', 'ES256');
    const idp = await startIdentityProvider([key]);
    onTestFinished(() => idp.close());
    const fixture = track(
      await startGateway({
        redis: await sharedRedis(),
        gateway: { auth: { jwt: { jwksUrl: idp.jwksUrl, issuer: ISSUER, audience: AUDIENCE } } },
      }),
    );
    const bearer = async (claims: Record<string, string>) => ({
      authorization: `Bearer ${await token(key, { claims })}`,
    });
    const reader = await post(fixture.gateway, PAGE, { first: 2 }, await bearer({ sub: 'reader-1' }));
    expect(reader.cacheControl).toBe('private, max-age=5');
    await settle();

    fixture.emulator.clearRequests();
    await post(fixture.replica(), PAGE, { first: 2 }, await bearer({ sub: 'reader-2' }));
    expect(fixture.emulator.requests).toHaveLength(0);

    await post(
      fixture.replica(),
      PAGE,
      { first: 2 },
      await bearer({ sub: 'reader-1', scope: 'ci.workflows.read ci.workflows.write' }),
    );
    expect(fixture.emulator.requests.length).toBeGreaterThan(0);
  });

  it('forgets a run on every replica when a CI callback to one says it changed', async () => {
    const clock = manualClock();
    const fixture = track(
      await startGateway({
        redis: await sharedRedis(),
        emulator: { now: clock.now },
        gateway: { callbackToken: TOKEN },
      }),
    );
    const runId = await triggerRun(fixture, 'cached/clip.mp4');
    const RUN = `query Run($runId: ID!) { workflowExecution(runId: $runId) { runId state } }`;
    const other = fixture.replica();
    const stateOn = async (gateway: Gateway) =>
      ((await post(gateway, RUN, { runId })).body as { data: { workflowExecution: { state: string } } }).data
        .workflowExecution.state;
    expect(await stateOn(fixture.gateway)).toBe('RUNNING');
    await settle();

    clock.advance(2 * TASK_SECONDS + 1);
    fixture.emulator.clearRequests();
    // Finished upstream, but the answer is still fresh: the other replica is told RUNNING, at no cost.
    expect(await stateOn(other)).toBe('RUNNING');
    expect(fixture.emulator.requests).toHaveLength(0);

    const callback = await fixture.gateway.fetch(`http://gateway/ci/callback/${TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body:
        `<Response><EventName>WorkflowFinish</EventName><WorkflowExecution><WorkflowId>${LARGE}</WorkflowId>` +
        `<RunId>${runId}</RunId><State>Success</State></WorkflowExecution></Response>`,
    });
    expect(callback.status).toBe(204);
    await expect.poll(() => stateOn(other), { timeout: 2_000, interval: 50 }).toBe('SUCCESS');
  });

  it('forgets on every replica what a mutation on one returned', async () => {
    const fixture = track(await startGateway({ redis: await sharedRedis() }));
    const WORKFLOW = `query { workflow(workflowId: "${LARGE}") { id state } }`;
    const stateOn = async (gateway: Gateway) =>
      ((await post(gateway, WORKFLOW)).body as { data: { workflow: { state: string } } }).data.workflow.state;
    expect(await stateOn(fixture.gateway)).toBe('ACTIVE');
    await settle();
    const other = fixture.replica();
    fixture.emulator.clearRequests();
    expect(await stateOn(other)).toBe('ACTIVE');
    expect(fixture.emulator.requests).toHaveLength(0);

    // Paused through the first replica: the answer both shared shows the workflow the mutation returned.
    const paused = await post(
      fixture.gateway,
      `mutation { pauseWorkflow(workflowId: "${LARGE}") { workflow { id state } } }`,
    );
    expect(JSON.stringify(paused.body)).toContain('PAUSED');
    expect(paused.cacheControl).toBe('no-store');
    await settle();
    // The shared answer is gone: the other replica reads afresh (the paused workflow the mutation stored).
    expect(await stateOn(other)).toBe('PAUSED');
  });

  it('answers and evicts over graphql-ws as over HTTP', async () => {
    // The test before paused the workflow in the Redis they share: start from an empty one.
    await redis.client().flushall();
    const fixture = track(await startGateway({ redis: await sharedRedis() }));
    const server = track(await listenOnLoopback(fixture.replica()));
    const socket = createClient({
      url: server.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    onTestFinished(() => socket.dispose());
    const overSocket = (query: string) =>
      new Promise<unknown>((resolve, reject) => {
        let result: unknown;
        socket.subscribe(
          { query },
          { next: (value) => (result = value), error: reject, complete: () => resolve(result) },
        );
      });
    const WORKFLOW = `{ workflow(workflowId: "${LARGE}") { id state } }`;

    // Read over HTTP, answered over the socket from the cache.
    expect(JSON.stringify((await post(fixture.gateway, WORKFLOW)).body)).toContain('ACTIVE');
    await settle();
    fixture.emulator.clearRequests();
    expect(JSON.stringify(await overSocket(WORKFLOW))).toContain('ACTIVE');
    expect(fixture.emulator.requests).toHaveLength(0);

    // Paused over the socket: the answer HTTP shared is gone.
    await overSocket(`mutation { pauseWorkflow(workflowId: "${LARGE}") { workflow { id state } } }`);
    await settle();
    expect(JSON.stringify((await post(fixture.replica(), WORKFLOW)).body)).toContain('PAUSED');
  });

  it('misses, saying so, when Redis is out of reach', async () => {
    const gone = unreachableRedis();
    const outages: unknown[] = [];
    const store = redisResponseStore(gone, (error) => outages.push(error));
    await store.set('k', '{}', [{ typename: 'WorkflowExecution', id: 'x' }], 1_000);
    expect(await store.get('k')).toBeUndefined();
    await store.evict([{ typename: 'WorkflowExecution', id: 'x' }]);
    expect(outages).toHaveLength(3);
  });
});
