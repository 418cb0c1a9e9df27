/**
 * Work stops when nobody waits, every attempt is paid for, and a hanging upstream for some requests does not
 * starve the rest. These run the gateway behind a real HTTP server on 127.0.0.1 where the client's connection
 * matters, and count what reaches the emulator.
 */
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { RetryBudget } from '../../src/ci/retry-budget.js';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { faults } from '../../src/emulator/server.js';
import { createHttpServer, type TrackedServer } from '../../src/http/http-server.js';
import {
  closeAfterEach,
  type GatewayFixture,
  type GatewayFixtureOptions,
  startGateway,
} from '../support/gateway.js';
import { expectedRunIds } from '../support/oracle.js';

const LIST = (workflowId: string, alias = 'page', first = 5) =>
  `${alias}: workflowExecutions(filter: { workflowId: "${workflowId}" }, first: ${first}) { edges { node { runId } } }`;
/**
 * Non-null list fields: the first failure nulls the whole answer, which is then sent at once. Each asks for another
 * page size, so each is its own upstream call (identical ones would share one).
 */
const aliases = (count: number, workflowId: string = DEMO_WORKFLOW_IDS.single) =>
  `{ ${Array.from({ length: count }, (_, index) => LIST(workflowId, `a${index}`, index + 1)).join(' ')} }`;
/** Nullable detail fields, one per run: each fails on its own. */
const details = (runIds: readonly string[]) =>
  `{ ${runIds.map((runId, index) => `r${index}: workflowExecution(runId: "${runId}") { state }`).join(' ')} }`;

const closeLater = closeAfterEach();
const gateway = async (options: GatewayFixtureOptions) => closeLater(await startGateway(options));

/** The gateway behind a real HTTP server on a free loopback port. */
async function serve(fixture: GatewayFixture): Promise<{ port: number; tracked: TrackedServer }> {
  const tracked = createHttpServer(fixture.gateway);
  await new Promise<void>((resolve) => tracked.server.listen(0, '127.0.0.1', () => resolve()));
  closeLater({
    close: async () => {
      tracked.server.closeAllConnections();
      await new Promise((resolve) => tracked.server.close(resolve));
    },
  });
  return { port: (tracked.server.address() as AddressInfo).port, tracked };
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await delay(10);
  }
}

function lastRequestLog(fixture: GatewayFixture) {
  return fixture.logLines.filter((line) => line['msg'] === 'graphql request').at(-1) as {
    upstream: Array<{ outcome: string; errorKind?: string }>;
    errors?: string[];
  };
}

describe('a client that leaves', () => {
  it('aborts every upstream call of its request at once, logs them as cancelled, and retries none', async () => {
    const fixture = await gateway({ client: { timeoutMs: 300 } });
    fixture.emulator.script(faults.hang(), 1_000);
    const { port, tracked } = await serve(fixture);
    const client = httpRequest({
      port,
      host: '127.0.0.1',
      method: 'POST',
      path: '/graphql',
      headers: { 'content-type': 'application/json' },
    });
    client.on('error', () => {});
    client.end(JSON.stringify({ query: aliases(5) }));
    await until(() => fixture.emulator.requests.length === 5);
    client.destroy();
    await until(() => tracked.inFlight === 0);
    // Longer than the per-attempt timeout and several back-offs: a retry would have shown by now.
    await delay(800);
    expect(fixture.emulator.requests).toHaveLength(5);
    const log = lastRequestLog(fixture);
    expect(log.upstream.map((attempt) => attempt.outcome)).toEqual(Array(5).fill('cancelled'));
  });
});

describe('the per-request budget', () => {
  it('counts every attempt, retries included, and no attempt starts after the response', async () => {
    const fixture = await gateway({ maxUpstreamCallsPerRequest: 40 });
    fixture.emulator.script(faults.throttled(), 10_000);
    // 30 runs × 4 attempts would be 120.
    const response = await fixture.query(details(expectedRunIds().slice(0, 30)));
    const atResponse = fixture.emulator.requests.length;
    expect(atResponse).toBe(40);
    const codes = response.errors?.map((error) => error.extensions?.['code']);
    expect(new Set(codes)).toEqual(new Set(['UPSTREAM_THROTTLED', 'UPSTREAM_CALL_BUDGET_EXCEEDED']));
    expect(codes).toHaveLength(30);
    await delay(300);
    expect(fixture.emulator.requests).toHaveLength(atResponse);
  });

  it('starts no queued call once the response is sent', async () => {
    const fixture = await gateway({ upstreamConcurrency: 2 });
    // The first call fails at once, the rest are slow; two run at a time. The first failure nulls the whole
    // answer (the fields are non-null), so it is sent while most calls are still queued.
    fixture.emulator.script({ type: 'error', status: 400, code: 'InvalidArgument' }, 1);
    fixture.emulator.script(faults.slow(300), 100);
    const response = await fixture.query(aliases(10));
    expect(response.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_BAD_REQUEST');
    await delay(800);
    // The two that were running when the answer went out; none of the eight queued behind them.
    expect(fixture.emulator.requests.length).toBeLessThanOrEqual(2);
  });
});

describe('the request deadline', () => {
  it('aborts every upstream call past REQUEST_TIMEOUT_MS and answers UPSTREAM_TIMEOUT', async () => {
    const fixture = await gateway({ requestTimeoutMs: 300, client: { timeoutMs: 10_000 } });
    fixture.emulator.script(faults.hang(), 1_000);
    const started = Date.now();
    const response = await fixture.query(details(expectedRunIds().slice(0, 3)));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(response.errors?.map((error) => error.extensions?.['code'])).toEqual(
      Array(3).fill('UPSTREAM_TIMEOUT'),
    );
    expect(fixture.emulator.requests).toHaveLength(3);
    expect(lastRequestLog(fixture).upstream.map((attempt) => attempt.errorKind)).toEqual(
      Array(3).fill('timeout'),
    );
  });
});

describe('the gateway-wide retry budget', () => {
  it('keeps a failing upstream from seeing a multiple of the offered load', async () => {
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 1 });
    const fixture = await gateway({ client: { retryBudget: budget } });
    fixture.emulator.script(faults.unavailable(), 10_000);
    const requests = 100;
    for (let index = 0; index < requests; index += 1) {
      const response = await fixture.query(`{ ${LIST(DEMO_WORKFLOW_IDS.single)} }`);
      expect(response.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_UNAVAILABLE');
    }
    // Without the budget: 4 attempts each. With it: 100 first attempts, 20 earned retries and a floor of 10.
    expect(fixture.emulator.requests.length).toBeLessThanOrEqual(requests * 1.2 + 10);
  });
});

describe('isolation from a hanging upstream', () => {
  it('keeps healthy queries fast while 3 clients × 30 aliases wait on a workflow whose upstream hangs', async () => {
    const fixture = await gateway({ client: { timeoutMs: 1_500 } });
    // Every call for one workflow hangs; calls for the others are answered.
    fixture.emulator.script(
      faults.hang(),
      1_000_000,
      (_path, params) => params['workflowId'] === DEMO_WORKFLOW_IDS.empty,
    );
    const attack = aliases(30, DEMO_WORKFLOW_IDS.empty);
    const end = Date.now() + 5_000;
    const attacker = async () => {
      while (Date.now() < end) await fixture.query(attack);
    };

    const latencies: number[] = [];
    const failures: unknown[] = [];
    const healthyClient = async () => {
      await delay(200); // the attack is under way first
      while (Date.now() < end) {
        const started = performance.now();
        const response = await fixture.query(`{ ${LIST(DEMO_WORKFLOW_IDS.large)} }`);
        latencies.push(performance.now() - started);
        if (response.errors) failures.push(response.errors);
      }
    };
    await Promise.all([...Array.from({ length: 3 }, attacker), ...Array.from({ length: 8 }, healthyClient)]);
    latencies.sort((a, b) => a - b);
    const p50 = latencies[Math.floor(latencies.length / 2)] as number;
    expect(failures).toEqual([]);
    expect(latencies.length).toBeGreaterThan(100);
    expect(p50).toBeLessThan(200);
    // The attack really held connections: its calls were at the upstream, hanging, the whole time.
    expect(
      fixture.emulator.requests.filter((r) => r.params['workflowId'] === DEMO_WORKFLOW_IDS.empty).length,
    ).toBeGreaterThanOrEqual(3 * 8);
    fixture.emulator.clearScript();
  }, 40_000);
});
