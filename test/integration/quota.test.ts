/**
 * CI's quota across replicas: the governor's buckets in a real redis-server, shared by two replicas' stores; a
 * Redis that goes away (each replica governs alone, nothing fails); and a gateway that keeps CI under the account's
 * rate, answering what it cannot serve in time with UPSTREAM_THROTTLED and when to come back.
 */
import { describe, expect, it } from 'vitest';
import { AccountGovernor, LocalGovernorStore } from '../../src/ci/governor.js';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { EmulatedQuota } from '../../src/emulator/quota.js';
import { faults } from '../../src/emulator/server.js';
import { redisGovernorStore } from '../../src/live/redis-governor.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { closeAfterEach, startGateway } from '../support/gateway.js';
import { redisTestsCanRun, unreachableRedis, useRedisServer } from '../support/redis.js';

const track = closeAfterEach();

describe.skipIf(!redisTestsCanRun())('the quota governor in Redis', () => {
  const redis = useRedisServer();
  const client = () => redis.client({ maxRetriesPerRequest: 1, commandTimeout: 500 });

  it('is one bucket per account for every replica: two replicas together get what one would', async () => {
    let now = Date.now();
    const replica = () =>
      new AccountGovernor({
        account: 'account:shared-test',
        callsPerSecond: 10,
        mode: 'enforce',
        store: redisGovernorStore(client(), () => {
          throw new Error('Redis is up');
        }),
        maxWaitMs: 0,
        now: () => now,
      });
    const [a, b] = [replica(), replica()];
    const granted = async (governor: AccountGovernor) =>
      governor.acquire('interactive').then(
        () => 1,
        () => 0,
      );
    let total = 0;
    for (let i = 0; i < 20; i += 1) total += (await granted(a)) + (await granted(b));
    expect(total).toBe(10);
    // A 429 seen by one slows both, and the other's 429 of the same episode cuts no further: a second later there
    // are 5 tokens, not 10 (nor 2.5).
    await b.throttled();
    now += 200;
    await a.throttled();
    now += 1_000;
    total = 0;
    for (let i = 0; i < 20; i += 1) total += (await granted(a)) + (await granted(b));
    expect(total).toBe(5);
    // Past the episode a 429 cuts again: 2.5 calls a second (a second later, 2 whole tokens).
    await a.throttled();
    now += 1_000;
    total = 0;
    for (let i = 0; i < 20; i += 1) total += (await granted(a)) + (await granted(b));
    expect(total).toBe(2);
  });

  it('governs in the process when Redis is out of reach, saying so, and never fails a call for it', async () => {
    const gone = unreachableRedis();
    const outages: unknown[] = [];
    const governor = new AccountGovernor({
      account: 'account:cut-off',
      callsPerSecond: 3,
      mode: 'enforce',
      store: redisGovernorStore(gone, (error) => outages.push(error), new LocalGovernorStore()),
      maxWaitMs: 0,
    });
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        governor.acquire('interactive').then(
          () => 'granted',
          (error: { kind?: string }) => error.kind,
        ),
      ),
    );
    expect(results.filter((result) => result === 'granted')).toHaveLength(3);
    expect(results.filter((result) => result === 'throttled')).toHaveLength(2);
    expect(outages.length).toBeGreaterThan(0);
  });
});

describe('a gateway under an account quota', () => {
  it('keeps CI under the rate, making users wait a bounded while, then answering UPSTREAM_THROTTLED', async () => {
    const metrics = createMetrics();
    const fixture = track(
      await startGateway({
        quota: { callsPerSecond: 4, mode: 'enforce', maxWaitMs: 300 },
        upstreamConcurrency: 20,
        gateway: { metrics: { metrics, servePath: true } },
      }),
    );
    fixture.emulator.clearRequests();
    // Distinct filters: nothing is shared between them, every query is a call of its own.
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        fixture.query(
          `{ workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}", objectKey: "k${index}" }, first: 1) { edges { cursor } } }`,
        ),
      ),
    );
    const throttled = answers.filter(
      (answer) => answer.errors?.[0]?.extensions?.['code'] === 'UPSTREAM_THROTTLED',
    );
    const served = answers.filter((answer) => answer.errors === undefined);
    // 4 at once, then one per 250 ms while any may still wait: never more than the bucket and its refill allow.
    const elapsedMs = performance.now() - started;
    expect(served.length).toBeGreaterThanOrEqual(4);
    expect(served.length).toBeLessThanOrEqual(4 + Math.ceil(elapsedMs / 250));
    expect(throttled.length).toBeGreaterThan(0);
    expect(throttled.length + served.length).toBe(12);
    expect(throttled[0]?.errors?.[0]?.extensions).toMatchObject({
      code: 'UPSTREAM_THROTTLED',
      upstream: { retryAfterSeconds: 1 },
    });
    // CI never saw more than what was served.
    expect(fixture.emulator.requests).toHaveLength(served.length);
    const scrape = await (await fixture.gateway.fetch('http://gateway/metrics')).text();
    expect(scrape).toMatch(
      new RegExp(`^ci_upstream_refusals_total\\{reason="quota"\\} ${throttled.length}$`, 'm'),
    );
  });

  it('halves the account’s rate when CI answers 429, so the next burst is smaller', async () => {
    const fixture = track(
      await startGateway({
        quota: { callsPerSecond: 8, mode: 'enforce', maxWaitMs: 0 },
        upstreamConcurrency: 20,
      }),
    );
    fixture.emulator.script(faults.throttled('0'), 1);
    await fixture.query(`{ workflow(workflowId: "${DEMO_WORKFLOW_IDS.single}") { name } }`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    fixture.emulator.clearRequests();
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        fixture.query(
          `{ workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}", objectKey: "after-429-${index}" }, first: 1) { edges { cursor } } }`,
        ),
      ),
    );
    // At most about 4 a second now (half of 8, recovering a little): not the 8 a full bucket would let through.
    const served = answers.filter((answer) => answer.errors === undefined).length;
    expect(served).toBeGreaterThanOrEqual(3);
    expect(served).toBeLessThanOrEqual(6);
  });

  it('keeps CI from throttling the account at all when the quota is set below CI’s own limit', async () => {
    const burst = async (fixture: Awaited<ReturnType<typeof startGateway>>, tag: string) =>
      Promise.all(
        Array.from({ length: 24 }, (_, index) =>
          fixture.query(
            `{ workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}", objectKey: "${tag}-${index}" }, first: 1) { edges { cursor } } }`,
          ),
        ),
      );
    // CI allows the account 10 calls a second.
    const unguarded = new EmulatedQuota(10);
    const without = track(await startGateway({ emulator: { quota: unguarded }, upstreamConcurrency: 30 }));
    await burst(without, 'unguarded');
    expect(unguarded.refused).toBeGreaterThan(0);

    const guarded = new EmulatedQuota(10);
    const fixture = track(
      await startGateway({
        emulator: { quota: guarded },
        quota: { callsPerSecond: 8, mode: 'enforce', maxWaitMs: 5_000 },
        upstreamConcurrency: 30,
      }),
    );
    const answers = await burst(fixture, 'guarded');
    // Every query served, spread over a few seconds, and CI never had to say 429.
    expect(answers.filter((answer) => answer.errors !== undefined)).toEqual([]);
    expect(guarded.refused).toBe(0);
  });
});
