/**
 * `/metrics` after real queries: the upstream counters move by exactly the calls the emulator logged, outcomes are
 * classified, GraphQL errors are counted by code, operation names are bounded, and the endpoint needs no token.
 */

import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ReadCache } from '../../src/ci/read-cache.js';
import { isFinishedState } from '../../src/ci/types.js';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { faults } from '../../src/emulator/server.js';
import { createMetrics, MAX_OPERATION_NAMES, OperationNameLabels } from '../../src/telemetry/metrics.js';
import { WorkflowRunMetrics } from '../../src/telemetry/workflow-metrics.js';
import { EMULATED_BUCKET } from '../support/emulator.js';
import { closeAfterEach, startGateway } from '../support/gateway.js';
import { demoExecutions } from '../support/oracle.js';
import { subscribe } from '../support/sse.js';

const track = closeAfterEach();

async function startMeasuredGateway(gateway: Parameters<typeof startGateway>[0] = {}) {
  const metrics = createMetrics();
  const cache = new ReadCache();
  metrics.watchReadCache(cache, EMULATED_BUCKET);
  const fixture = track(
    await startGateway({
      ...gateway,
      client: { observers: [metrics.upstream], cache, ...gateway.client },
      gateway: { metrics: { metrics, servePath: true }, ...gateway.gateway },
    }),
  );
  const scrape = async (headers: Record<string, string> = {}) => {
    const response = await fixture.gateway.fetch('http://gateway/metrics', { headers });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text();
  };
  return { fixture, metrics, scrape };
}

/** The value of one series in Prometheus text format; 0 when it is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(/,(?=[a-z_]+=")/);
    if (wanted.every((label) => present.includes(label))) total += Number(match[3]);
  }
  return total;
}

const LIST_WITH_TASKS = `query Runs($first: Int!) {
  workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }, first: $first) {
    edges { node { runId tasks { type state } } }
  }
}`;

describe('GET /metrics', () => {
  it('reports open subscriptions, the keys they watch and the keys this replica polls', async () => {
    const { fixture, scrape } = await startMeasuredGateway({ pollIntervalMs: 60_000 });
    const events = `subscription { workflowExecutionEvents(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }) { kind } }`;
    const subscriptions = await Promise.all([1, 2, 3].map(() => subscribe(fixture.gateway.fetch, events)));
    try {
      await expect.poll(async () => sample(await scrape(), 'live_subscribers')).toBe(3);
      const text = await scrape();
      expect(sample(text, 'live_watched_keys', { kind: 'workflow' })).toBe(1);
      expect(sample(text, 'live_watched_keys', { kind: 'run' })).toBe(0);
      expect(sample(text, 'live_polled_keys')).toBe(1);
    } finally {
      await Promise.all(subscriptions.map((subscription) => subscription.close()));
    }
    await expect.poll(async () => sample(await scrape(), 'live_subscribers')).toBe(0);
    expect(sample(await scrape(), 'live_polled_keys')).toBe(0);
  });

  it('counts exactly the upstream requests the emulator received, by operation and outcome', async () => {
    const { fixture, scrape } = await startMeasuredGateway();
    fixture.emulator.clearRequests();
    const result = await fixture.query(LIST_WITH_TASKS, { first: 5 });
    expect(result.errors).toBeUndefined();
    const text = await scrape();

    const logged = fixture.emulator.requests;
    const lists = logged.filter((request) => request.path === '/workflowexecution').length;
    const details = logged.filter((request) => request.path.startsWith('/workflowexecution/')).length;
    expect(lists).toBe(1);
    expect(details).toBe(5);
    expect(
      sample(text, 'ci_upstream_requests_total', { operation: 'ListWorkflowExecutions', outcome: 'ok' }),
    ).toBe(lists);
    expect(
      sample(text, 'ci_upstream_requests_total', { operation: 'GetWorkflowExecution', outcome: 'ok' }),
    ).toBe(details);
    expect(sample(text, 'ci_upstream_requests_total')).toBe(logged.length);
    expect(sample(text, 'ci_upstream_request_duration_seconds_count')).toBe(logged.length);
    expect(sample(text, 'ci_upstream_in_flight')).toBe(0);
    expect(sample(text, 'graphql_operation_duration_seconds_count', { operation_name: 'Runs' })).toBe(1);
    expect(
      sample(text, 'graphql_http_request_duration_seconds_count', {
        operation_name: 'Runs',
        status_code: '200',
      }),
    ).toBe(1);
    // Node's own metrics ride along.
    expect(text).toContain('process_cpu_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain('nodejs_heap_size_used_bytes');
  });

  it('counts the second read of finished runs as cache hits, with no upstream request', async () => {
    const { fixture, scrape } = await startMeasuredGateway();
    await fixture.query(LIST_WITH_TASKS, { first: 5 });
    fixture.emulator.clearRequests();
    const before = await scrape();
    await fixture.query(LIST_WITH_TASKS, { first: 5 });
    const after = await scrape();
    const detailCalls = fixture.emulator.requests.filter((r) =>
      r.path.startsWith('/workflowexecution/'),
    ).length;
    const hits = (text: string) =>
      sample(text, 'ci_read_cache_requests_total', { cache: 'detail', result: 'hit' });
    const upstream = (text: string) => sample(text, 'ci_upstream_requests_total');
    expect(upstream(after) - upstream(before)).toBe(fixture.emulator.requests.length);
    // The demo's large workflow has finished runs among its first five; each is a hit, each other is a call.
    expect(hits(after) - hits(before)).toBe(5 - detailCalls);
    expect(hits(after) - hits(before)).toBeGreaterThan(0);
  });

  it('classifies failed attempts and counts retries', async () => {
    const { fixture, scrape } = await startMeasuredGateway();
    fixture.emulator.script(faults.unavailable(), 2, '/workflowexecution');
    const result = await fixture.query(LIST_WITH_TASKS, { first: 1 });
    expect(result.errors).toBeUndefined();
    const text = await scrape();
    expect(
      sample(text, 'ci_upstream_requests_total', {
        operation: 'ListWorkflowExecutions',
        outcome: 'unavailable',
      }),
    ).toBe(2);
    expect(sample(text, 'ci_upstream_retries_total', { operation: 'ListWorkflowExecutions' })).toBe(2);
    expect(sample(text, 'ci_upstream_requests_total')).toBe(fixture.emulator.requests.length);

    fixture.emulator.script(faults.malformed(), 1, '/workflowexecution');
    await fixture.query(LIST_WITH_TASKS, { first: 2 });
    const later = await scrape();
    expect(sample(later, 'ci_upstream_requests_total', { outcome: 'bad_response' })).toBe(1);
  });

  it('counts GraphQL errors by extensions.code and refusals of upstream work', async () => {
    const { fixture, scrape } = await startMeasuredGateway({ maxUpstreamCallsPerRequest: 2 });
    await fixture.query(
      'query Bad { workflowExecutions(filter: { workflowId: "nope" }, first: 1) { edges { cursor } } }',
    );
    await fixture.query('query Broken { workflowExecutions(');
    const overBudget = await fixture.query(LIST_WITH_TASKS, { first: 3 });
    const budgetErrors = (overBudget.errors ?? []).filter(
      (error) => error.extensions?.['code'] === 'UPSTREAM_CALL_BUDGET_EXCEEDED',
    ).length;
    expect(budgetErrors).toBeGreaterThan(0);
    const text = await scrape();
    expect(sample(text, 'graphql_errors_total', { operation_name: 'Bad', code: 'BAD_USER_INPUT' })).toBe(1);
    expect(sample(text, 'graphql_errors_total', { code: 'GRAPHQL_PARSE_FAILED', phase: 'parse' })).toBe(1);
    expect(
      sample(text, 'graphql_errors_total', { operation_name: 'Runs', code: 'UPSTREAM_CALL_BUDGET_EXCEEDED' }),
    ).toBe(budgetErrors);
    expect(sample(text, 'ci_upstream_refusals_total', { reason: 'request_budget' })).toBe(budgetErrors);
  });

  it('counts rate-limit refusals, and is served without a token while GraphQL needs one', async () => {
    const { fixture, scrape } = await startMeasuredGateway({
      gateway: { rateLimitPerMinute: 1, auth: { routerSecret: 'router-secret-0123456789' } },
    });
    const headers = { 'x-router-secret': 'router-secret-0123456789' };
    expect((await fixture.query(LIST_WITH_TASKS, { first: 1 }, headers)).errors).toBeUndefined();
    const refused = await fixture.query(LIST_WITH_TASKS, { first: 1 }, headers);
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
    expect((await fixture.query(LIST_WITH_TASKS, { first: 1 })).status).toBe(401);
    const text = await scrape();
    expect(sample(text, 'ci_upstream_refusals_total', { reason: 'rate_limit' })).toBe(1);
  });

  it('keeps /metrics off the listener when it has a port of its own', async () => {
    const metrics = createMetrics();
    const fixture = track(await startGateway({ gateway: { metrics: { metrics, servePath: false } } }));
    expect((await fixture.gateway.fetch('http://gateway/metrics')).status).toBe(404);
    const server = await metrics.listen(0, '127.0.0.1');
    try {
      const { port } = server.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('ci_upstream_in_flight');
      expect((await fetch(`http://127.0.0.1:${port}/graphql`)).status).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('OperationNameLabels', () => {
  it('gives anonymous operations one value and names past the limit another', () => {
    const labels = new OperationNameLabels(3);
    expect(labels.of(undefined)).toBe('anonymous');
    expect(labels.of('')).toBe('anonymous');
    expect(['A', 'B', 'C', 'D', 'A'].map((name) => labels.of(name))).toEqual(['A', 'B', 'C', 'other', 'A']);
    expect(new OperationNameLabels().of('x'.repeat(101))).toBe('other');
    expect(new OperationNameLabels().of('has space')).toBe('other');
    // The default bound: that many names get their own value, the next one does not.
    const bounded = new OperationNameLabels();
    const names = Array.from({ length: MAX_OPERATION_NAMES }, (_, index) => `Operation${index}`);
    expect(names.map((name) => bounded.of(name))).toEqual(names);
    expect(bounded.of('OneTooMany')).toBe('other');
  });
});

describe('per-workflow run metrics', () => {
  it('counts each run CI reports finished once, by workflow and state, with its duration', async () => {
    const metrics = createMetrics();
    const fixture = track(await startGateway({ gateway: { metrics: { metrics, servePath: true } } }));
    const succeeded = demoExecutions().find((run) => run.state === 'Success');
    const failed = demoExecutions().find((run) => run.state === 'Failed');
    const running = demoExecutions().find((run) => !isFinishedState(run.state));
    if (!succeeded || !failed || !running) throw new Error('the demo has runs in every state');
    const RUN = 'query Run($runId: ID!) { workflowExecution(runId: $runId) { state } }';
    for (const run of [succeeded, succeeded, failed, running]) {
      expect((await fixture.query(RUN, { runId: run.runId })).errors).toBeUndefined();
    }
    const text = await (await fixture.gateway.fetch('http://gateway/metrics')).text();
    const workflow = { bucket: EMULATED_BUCKET, workflow: DEMO_WORKFLOW_IDS.large };
    expect(sample(text, 'ci_workflow_runs_finished_total', { ...workflow, state: 'Success' })).toBe(1);
    expect(sample(text, 'ci_workflow_runs_finished_total', { ...workflow, state: 'Failed' })).toBe(1);
    expect(sample(text, 'ci_workflow_runs_finished_total', workflow)).toBe(2);
    // Every demo run that finished its tasks took 55 s.
    expect(sample(text, 'ci_workflow_run_duration_seconds_count', workflow)).toBe(2);
    expect(sample(text, 'ci_workflow_run_duration_seconds_sum', workflow)).toBe(110);
    expect(sample(text, 'ci_workflow_run_duration_seconds_bucket', { ...workflow, le: '30' })).toBe(0);
    expect(sample(text, 'ci_workflow_run_duration_seconds_bucket', { ...workflow, le: '60' })).toBe(2);
  });

  it('counts stuck runs from the workflow’s scan, with when it was heard, and the callbacks taken', async () => {
    const metrics = createMetrics();
    const TOKEN = 'metrics-callback-token-0123456789abcdef';
    const fixture = track(
      await startGateway({
        pollIntervalMs: 100,
        gateway: { metrics: { metrics, servePath: true }, callbackToken: TOKEN },
      }),
    );
    const unfinished = demoExecutions().filter((run) => !isFinishedState(run.state));
    const [watched] = unfinished;
    if (!watched) throw new Error('the demo has unfinished runs');
    const subscription = await subscribe(
      fixture.gateway.fetch,
      'subscription Run($runId: ID!) { workflowExecutionUpdated(runId: $runId) { state } }',
      { runId: watched.runId },
    );
    const workflow = { bucket: EMULATED_BUCKET, workflow: DEMO_WORKFLOW_IDS.large };
    const scrape = async () => (await fixture.gateway.fetch('http://gateway/metrics')).text();
    try {
      await subscription.next();
      const before = Date.now() / 1000;
      await expect
        .poll(async () => sample(await scrape(), 'ci_workflow_last_scan_timestamp_seconds', workflow), {
          timeout: 3_000,
        })
        .toBeGreaterThanOrEqual(Math.floor(before));
      // The demo's running and paused runs started weeks ago: every one the scan lists is stuck.
      expect(sample(await scrape(), 'ci_workflow_runs_stuck', workflow)).toBe(unfinished.length);
    } finally {
      await subscription.close();
    }

    const callback = await fixture.gateway.fetch(`http://gateway/ci/callback/${TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body:
        `<Response><EventName>WorkflowFinish</EventName><WorkflowExecution><WorkflowId>${DEMO_WORKFLOW_IDS.large}` +
        `</WorkflowId><RunId>${watched.runId}</RunId><State>Running</State></WorkflowExecution></Response>`,
    });
    expect(callback.status).toBe(204);
    await expect
      .poll(async () => sample(await scrape(), 'ci_callbacks_total', { bucket: EMULATED_BUCKET }), {
        timeout: 2_000,
      })
      .toBe(1);
  });

  it('gives the first workflows series of their own and the rest `other`', async () => {
    const registry = new Registry();
    const runs = new WorkflowRunMetrics(registry, 2);
    const [template] = demoExecutions().filter((run) => run.state === 'Success');
    if (!template) throw new Error('the demo has finished runs');
    const detail = (workflowId: string, runId: string) => ({
      ...template,
      bucketId: EMULATED_BUCKET,
      workflowId,
      runId,
      requestId: undefined,
      tasks: [],
    });
    for (let i = 0; i < 5; i += 1) {
      runs.observe(EMULATED_BUCKET, detail(`w${String(i).repeat(32)}`, `i${String(i).repeat(32)}`) as never);
    }
    const text = await registry.metrics();
    const workflows = [
      ...text.matchAll(/ci_workflow_runs_finished_total\{[^}]*workflow="([^"]+)"[^}]*\} (\d+)/g),
    ].map((match) => [match[1], Number(match[2])]);
    expect(workflows).toEqual([
      [`w${'0'.repeat(32)}`, 1],
      [`w${'1'.repeat(32)}`, 1],
      ['other', 3],
    ]);
  });
});
