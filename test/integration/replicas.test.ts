/**
 * Two gateway processes sharing a real `redis-server`, as replicas behind a load balancer: a callback taken by one
 * reaches a subscriber on the other, and a watched key is polled by one replica at a time, moving to the other
 * when its holder dies.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { type CiEmulator, createCiEmulator } from '../../src/emulator/server.js';
import { leaseKey } from '../../src/live/redis.js';
import { CALLBACK_PATH_PREFIX } from '../../src/plugins/ci-callbacks.js';
import { manualClock } from '../support/console.js';
import {
  emulatorUpstream,
  type RunningGateway,
  type RunningRedis,
  spawnGateway,
  startRedis,
} from '../support/processes.js';
import { redisTestsCanRun } from '../support/redis.js';
import { type SseSubscription, subscribe } from '../support/sse.js';

const available = redisTestsCanRun();

const root = new URL('../..', import.meta.url).pathname;
const CALLBACK_TOKEN = 'replica-callback-token-0123456789abcdef';
const WORKFLOW = DEMO_WORKFLOW_IDS.large;

let redis: RunningRedis;
let emulator: CiEmulator;
const clock = manualClock();
const running: RunningGateway[] = [];
const subscriptions: Array<SseSubscription<unknown>> = [];

/** A replica: the source entry point in its own process, pointed at the test's emulator and Redis. */
async function startReplica(env: Record<string, string>): Promise<RunningGateway> {
  const gateway = await spawnGateway(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: root,
    env: {
      ...emulatorUpstream(emulator.url),
      REDIS_URL: redis.url,
      CI_CALLBACK_TOKEN: CALLBACK_TOKEN,
      CURSOR_SECRET: 'replicas-share-this-cursor-secret-0123456789',
      LOG_LEVEL: 'debug',
      ...env,
    },
  });
  running.push(gateway);
  return gateway;
}

const fetchFrom = (gateway: RunningGateway) => (input: string, init: RequestInit) =>
  fetch(input.replace('http://gateway', gateway.url), init);

async function graphql<T>(gateway: RunningGateway, query: string): Promise<T> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function eventually<T>(read: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(!available)('replicas sharing Redis', () => {
  beforeAll(async () => {
    redis = await startRedis();
    emulator = createCiEmulator({ now: clock.now });
    await emulator.listen(0);
  });

  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((subscription) => subscription.close()));
    emulator.sendCallbacksTo(undefined);
    for (const gateway of running.splice(0)) {
      gateway.child.kill('SIGKILL');
      await gateway.exited;
    }
  });

  afterAll(async () => {
    await emulator?.close();
    await redis?.stop();
  });

  it('delivers a callback taken by one replica to a subscriber on the other', async () => {
    // No polling anywhere: only the callback, through Redis, can tell replica B that the run finished.
    const [a, b] = await Promise.all([
      startReplica({ POLL_INTERVAL_MS: '0' }),
      startReplica({ POLL_INTERVAL_MS: '0' }),
    ]);
    if (!a || !b) throw new Error('replicas did not start');
    const { triggerWorkflow } = await graphql<{ triggerWorkflow: { runId: string } }>(
      a,
      `mutation { triggerWorkflow(input: { workflowId: "${WORKFLOW}", objectKey: "replicas/clip.mp4" }) { runId } }`,
    );
    const runId = triggerWorkflow.runId;
    const subscription = await subscribe<{ data: { workflowExecutionUpdated: { state: string } } }>(
      fetchFrom(b),
      'subscription ($runId: ID!) { workflowExecutionUpdated(runId: $runId) { state } }',
      { runId },
    );
    subscriptions.push(subscription);
    expect((await subscription.next())?.data.workflowExecutionUpdated.state).toBe('RUNNING');

    emulator.clearRequests();
    clock.advance(120);
    emulator.sendCallbacksTo(`${a.url}${CALLBACK_PATH_PREFIX}${CALLBACK_TOKEN}`);
    const states: string[] = [];
    for (;;) {
      const event = await subscription.next(10_000);
      if (!event) break;
      states.push(event.data.workflowExecutionUpdated.state);
    }
    expect(states.at(-1)).toBe('SUCCESS');
    // The news came from replica A's re-reads of the run, the answers to its callbacks: B polls nothing and was
    // sent no callback.
    const reads = emulator.requests.filter((r) => r.path === `/workflowexecution/${runId}`);
    expect(reads.length).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('polls a watched workflow from one replica, and from the other within two intervals of its death', async () => {
    const intervalMs = 600;
    const [a, b] = await Promise.all([
      startReplica({ POLL_INTERVAL_MS: String(intervalMs) }),
      startReplica({ POLL_INTERVAL_MS: String(intervalMs) }),
    ]);
    if (!a || !b) throw new Error('replicas did not start');
    const query = `subscription { workflowExecutionEvents(filter: { workflowId: "${WORKFLOW}" }) { kind } }`;
    for (const replica of [a, b]) {
      const subscription = await subscribe(fetchFrom(replica), query);
      subscriptions.push(subscription);
    }
    // Lease keys name the bucket: a workflow id is only ever polled in its own bucket.
    const key = `workflow:demo-1250000000/${WORKFLOW}|`;
    const polls = (gateway: RunningGateway) =>
      gateway.lines.filter(
        (line) => line['key'] === key && line['msg'] === 'live updates: this replica polls the key',
      );

    // Exactly one of them takes the lease, and Redis names it.

    const holder = await eventually(() => [a, b].find((replica) => polls(replica).length > 0));
    const other = holder === a ? b : a;
    const client = new Redis(redis.url);
    try {
      const leaseHolder = await client.get(leaseKey(key));
      expect(leaseHolder?.split('/')[1]).toBe(String(holder.child.pid));
      await new Promise((resolve) => setTimeout(resolve, intervalMs * 3));
      expect(polls(other)).toHaveLength(0);

      const listPath = '/workflowexecution';
      emulator.clearRequests();
      holder.child.kill('SIGKILL');
      const diedAt = Date.now();
      await holder.exited;
      await eventually(() => (polls(other).length > 0 ? true : undefined), intervalMs * 4);
      await eventually(
        () => (emulator.requests.some((r) => r.path === listPath) ? true : undefined),
        intervalMs * 4,
      );
      const movedAfterMs = Date.now() - diedAt;
      // The lease runs out one interval after its last renewal (half an interval before the death at most), the
      // survivor tries every half interval and polls as soon as it holds it.
      expect(movedAfterMs).toBeLessThanOrEqual(2 * intervalMs);
      expect((await client.get(leaseKey(key)))?.split('/')[1]).toBe(String(other.child.pid));
    } finally {
      client.disconnect();
    }
  }, 30_000);

  it('rides out a Redis outage: nothing unhandled, queries served, subscribers hear again once it is back', async () => {
    const own = await startRedis();
    let restarted: RunningRedis | undefined;
    try {
      const replica = (env: Record<string, string>) => startReplica({ REDIS_URL: own.url, ...env });
      const [a, b] = await Promise.all([
        replica({ POLL_INTERVAL_MS: '0' }),
        replica({ POLL_INTERVAL_MS: '0' }),
      ]);
      if (!a || !b) throw new Error('replicas did not start');
      const trigger = (objectKey: string) =>
        graphql<{ triggerWorkflow: { runId: string } }>(
          a,
          `mutation { triggerWorkflow(input: { workflowId: "${WORKFLOW}", objectKey: "${objectKey}" }) { runId } }`,
        ).then((data) => data.triggerWorkflow.runId);
      const runId = await trigger('replicas/outage.mp4');
      const subscription = await subscribe<{ data: { workflowExecutionUpdated: { state: string } } }>(
        fetchFrom(a),
        'subscription ($runId: ID!) { workflowExecutionUpdated(runId: $runId) { state } }',
        { runId },
      );
      subscriptions.push(subscription);
      expect((await subscription.next())?.data.workflowExecutionUpdated.state).toBe('RUNNING');

      await own.stop();
      // Callbacks to B during the outage: its re-reads publish into a Redis that is not there.
      const callback = () =>
        fetch(`${b.url}${CALLBACK_PATH_PREFIX}${CALLBACK_TOKEN}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ EventName: 'WorkflowFinish', WorkflowExecution: { RunId: runId } }),
        });
      for (let i = 0; i < 5; i += 1) expect((await callback()).status).toBe(204);
      // Queries need only CI: still served, by both.
      expect(await trigger('replicas/during-outage.mp4')).toMatch(/^i/);
      expect((await fetch(`${b.url}/ready`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const unhandled = (gateway: RunningGateway) =>
        gateway.lines.filter((line) => line['msg'] === 'unhandled promise rejection');
      expect([...unhandled(a), ...unhandled(b)]).toEqual([]);

      restarted = await startRedis(own.port);
      await eventually(
        () =>
          [a, b].every((gateway) => gateway.lines.some((line) => line['msg'] === 'redis: connection back'))
            ? true
            : undefined,
        10_000,
      );
      clock.advance(120);
      expect((await callback()).status).toBe(204);
      const states: string[] = [];
      for (;;) {
        const event = await subscription.next(10_000);
        if (!event) break;
        states.push(event.data.workflowExecutionUpdated.state);
      }
      expect(states.at(-1)).toBe('SUCCESS');
      for (const gateway of [a, b]) {
        expect(unhandled(gateway)).toEqual([]);
        // Once per client per outage, however many commands failed.
        expect(
          gateway.lines.filter((line) => line['msg'] === 'redis: connection lost; reconnecting').length,
        ).toBeLessThanOrEqual(2);
      }
    } finally {
      await restarted?.stop();
    }
  }, 60_000);

  it('refuses to start a replica whose bucket ids mean other buckets than a live replica’s, and shares with one serving others', async () => {
    await startReplica({});
    // The same bucket id behind another endpoint: its events and leases would be taken for the first one's.
    const elsewhere = startReplica({ CI_ENDPOINT: emulator.url.replace('127.0.0.1', 'localhost') });
    await expect(elsewhere).rejects.toThrow(/exited with 1 before listening/);
    await expect(elsewhere).rejects.toThrow(/disagree on what bucket ids mean/);
    await expect(elsewhere).rejects.toThrow(/demo-1250000000/);
    // Another bucket id (another bucket): nothing shared is misread, so it starts.
    const other = await startReplica({ CI_BUCKET: 'other-1250000000' });
    expect(other.url).toMatch(/^http:/);
  }, 30_000);
});
