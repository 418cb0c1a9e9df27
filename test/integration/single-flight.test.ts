/**
 * Identical reads in flight at the same moment are made once, while each caller keeps its own budget, abort and
 * failure. Counted at the emulator.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CiClient, UpstreamAttempt } from '../../src/ci/client.js';
import { CiError } from '../../src/ci/errors.js';
import { CiTransport } from '../../src/ci/transport.js';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { DEMO_CREDENTIALS, faults } from '../../src/emulator/server.js';
import { type EmulatorFixture, startEmulator } from '../support/emulator.js';
import { type GatewayFixture, startGateway } from '../support/gateway.js';

let fixture: EmulatorFixture;
let client: CiClient;
beforeAll(async () => {
  fixture = await startEmulator();
  client = fixture.client();
});
beforeEach(() => {
  fixture.emulator.clearScript();
  fixture.emulator.clearRequests();
});
afterAll(() => fixture.close());

const list = (size = 10, options = {}) =>
  client.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.large, size }, options);

describe('single-flight reads', () => {
  it('makes 50 identical concurrent reads once, and gives each caller the answer', async () => {
    fixture.emulator.script(faults.slow(100), 1);
    const pages = await Promise.all(Array.from({ length: 50 }, () => list()));
    expect(fixture.emulator.requests).toHaveLength(1);
    expect(new Set(pages.map((page) => page.executions.map((e) => e.runId).join()))).toHaveProperty(
      'size',
      1,
    );
  });

  it('keeps reads with other parameters, or made after the first settled, apart', async () => {
    await Promise.all([list(10), list(11), list(10)]);
    expect(fixture.emulator.requests).toHaveLength(2);
    await list(10);
    expect(fixture.emulator.requests).toHaveLength(3);
  });

  it('never shares between clients, and so never across credentials', async () => {
    const other = fixture.client({ credentials: { secretId: 'AKIDother', secretKey: 'other-key' } });
    const results = await Promise.allSettled([
      list(),
      other.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.large, size: 10 }),
    ]);
    expect(fixture.emulator.requests).toHaveLength(2);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected']);
  });

  it('lets one caller stop waiting without cancelling the others', async () => {
    fixture.emulator.script(faults.slow(300), 1);
    const leaving = new AbortController();
    const calls = [list(10, { signal: leaving.signal }), list(), list()];
    setTimeout(() => leaving.abort(new Error('client went away')), 50);
    const [left, ...stayed] = await Promise.allSettled(calls);
    expect(left).toMatchObject({ status: 'rejected', reason: { kind: 'cancelled' } });
    expect(stayed.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(fixture.emulator.requests).toHaveLength(1);
  });

  it('stops the call itself when every caller has left', async () => {
    fixture.emulator.script(faults.hang(), 1);
    const controller = new AbortController();
    const calls = [list(10, { signal: controller.signal }), list(10, { signal: controller.signal })];
    setTimeout(() => controller.abort(), 50);
    const results = await Promise.allSettled(calls);
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    expect(fixture.emulator.requests).toHaveLength(1);
    // The next identical read is a new call, not the abandoned one.
    await list();
    expect(fixture.emulator.requests).toHaveLength(2);
  });

  it('gives a shared failure to each caller, with every attempt reported to each', async () => {
    fixture.emulator.script(faults.unavailable(), 4);
    const seen: UpstreamAttempt[][] = [[], []];
    const results = await Promise.allSettled(
      seen.map((attempts) => list(10, { onAttempt: (attempt: UpstreamAttempt) => attempts.push(attempt) })),
    );
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(CiError);
      expect((result as PromiseRejectedResult).reason).toMatchObject({ kind: 'unavailable' });
    }
    expect(seen.map((attempts) => attempts.map((attempt) => attempt.outcome))).toEqual([
      ['retry', 'retry', 'retry', 'error'],
      ['retry', 'retry', 'retry', 'error'],
    ]);
    expect(fixture.emulator.requests).toHaveLength(4);
  });

  it('charges every attempt to every caller: one whose budget is spent fails alone', async () => {
    fixture.emulator.script(faults.unavailable(), 1);
    let poorLeft = 1;
    const poor = list(10, {
      beforeAttempt: () => {
        if (poorLeft <= 0) throw new Error('budget spent');
        poorLeft -= 1;
      },
    });
    let richPaid = 0;
    const rich = list(10, {
      beforeAttempt: () => {
        richPaid += 1;
      },
    });
    const [poorResult, richResult] = await Promise.allSettled([poor, rich]);
    expect(poorResult).toMatchObject({ status: 'rejected', reason: new Error('budget spent') });
    expect(richResult.status).toBe('fulfilled');
    expect(richPaid).toBe(2);
    expect(fixture.emulator.requests).toHaveLength(2);
  });

  it('never shares a call that must not run twice', async () => {
    const transport = new CiTransport({ endpoint: fixture.emulator.url, credentials: DEMO_CREDENTIALS });
    const trigger = {
      operation: 'TriggerWorkflow',
      method: 'POST',
      path: '/triggerworkflow',
      query: [['workflowId', DEMO_WORKFLOW_IDS.single]],
      idempotent: false,
    } as const;
    await Promise.allSettled([transport.call(trigger, String), transport.call(trigger, String)]);
    await transport.close();
    expect(fixture.emulator.requests.map((request) => request.method)).toEqual(['POST', 'POST']);
  });
});

describe('through the gateway', () => {
  let gateway: GatewayFixture;
  beforeAll(async () => {
    gateway = await startGateway();
  });
  afterAll(() => gateway.close());

  it('answers 50 identical concurrent queries with one list call, and with tasks with 11', async () => {
    const query = (withTasks: boolean) =>
      gateway.query(
        `{ workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }, first: 10) {
          edges { node { runId ${withTasks ? 'tasks { type state }' : ''} } } } }`,
      );
    gateway.emulator.script(faults.slow(100), 1);
    const plain = await Promise.all(Array.from({ length: 50 }, () => query(false)));
    expect(plain.every((response) => response.errors === undefined)).toBe(true);
    expect(gateway.emulator.requests).toHaveLength(1);

    gateway.emulator.clearRequests();
    gateway.emulator.script(faults.slow(100), 1);
    const withTasks = await Promise.all(Array.from({ length: 50 }, () => query(true)));
    expect(withTasks.every((response) => response.errors === undefined)).toBe(true);
    expect(gateway.emulator.requests).toHaveLength(11);
  });
});
