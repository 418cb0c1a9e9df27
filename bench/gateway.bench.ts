/**
 * `npm run bench`: where the time goes, each alternative measured side by side in one run.
 *
 * - signing: our signer against the official SDK's, on the list call the gateway makes most;
 * - decoding: our checked decoding of a 100-item page (validation, parsing, schema) against a bare parse;
 * - serving: a 100-execution page through the whole gateway against the same upstream call made directly,
 *   both over loopback HTTP to the emulator, so the ratio is the gateway's own overhead;
 * - paging: a walk through all 257 runs that changes `first` on every query, against one that keeps it; after
 *   the run it prints the upstream calls each made per query;
 * - telemetry: 10 runs with their tasks (11 upstream calls, no cache) through a gateway without metrics or traces,
 *   with metrics, and with metrics and traces (every request sampled, spans exported over OTLP to a local
 *   receiver): the cost of each on the hot path;
 * - live updates: 1, 100 and 1,000 SSE subscribers to the same workflow, and the upstream calls they cause per
 *   minute (printed after the run): one poller per key, whatever the number of subscribers.
 */
import { createRequire } from 'node:module';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, bench, describe } from 'vitest';
import { encodeQuery } from '../src/ci/encoding.js';
import { ReadCache } from '../src/ci/read-cache.js';
import { decodeListWorkflowExecutions } from '../src/ci/responses.js';
import { formatKeyTime, signRequest } from '../src/ci/signer.js';
import { DEMO_WORKFLOW_IDS } from '../src/emulator/demo-data.js';
import { DEMO_CREDENTIALS } from '../src/emulator/server.js';
import { createMetrics } from '../src/telemetry/metrics.js';
import { startTracing, type Tracing, upstreamSpans } from '../src/telemetry/tracing.js';
import { EMULATED_BUCKET as BENCH_BUCKET } from '../test/support/emulator.js';
import { type GatewayFixture, startGateway } from '../test/support/gateway.js';
import { type OtlpReceiver, startOtlpReceiver } from '../test/support/otlp-receiver.js';
import { subscribe } from '../test/support/sse.js';

const require = createRequire(import.meta.url);
const COS = require('cos-nodejs-sdk-v5') as {
  getAuthorization(options: Record<string, unknown>): string;
};

const host = 'examplebucket-1250000000.ci.ap-guangzhou.myqcloud.com';
const query: Array<[string, string]> = [
  ['workflowId', DEMO_WORKFLOW_IDS.large],
  ['orderByTime', 'Desc'],
  ['size', '100'],
  ['states', 'Success,Failed'],
  ['startCreationTime', '2026-11-01T00:00:00+0000'],
  ['nextToken', '0115716'],
];
const keyTime = formatKeyTime(Date.now());

describe('signing a list request', () => {
  bench('ours', () => {
    signRequest(
      { method: 'GET', path: '/workflowexecution', query, headers: [['host', host]] },
      DEMO_CREDENTIALS,
      keyTime,
    );
  });
  bench('cos-nodejs-sdk-v5', () => {
    COS.getAuthorization({
      SecretId: DEMO_CREDENTIALS.secretId,
      SecretKey: DEMO_CREDENTIALS.secretKey,
      Method: 'GET',
      Pathname: '/workflowexecution',
      Query: Object.fromEntries(query),
      Headers: { host },
      KeyTime: keyTime,
    });
  });
});

let fixture: GatewayFixture;
let pageXml = '';

beforeAll(async () => {
  fixture = await startGateway();
  // A real 100-item page as the emulator serves it.
  const signed = signRequest(
    {
      method: 'GET',
      path: '/workflowexecution',
      query: query.slice(0, 3),
      headers: [['host', new URL(fixture.emulator.url).host]],
    },
    DEMO_CREDENTIALS,
    formatKeyTime(Date.now()),
  );
  pageXml = await fetch(`${fixture.emulator.url}/workflowexecution${encodeQuery(query.slice(0, 3))}`, {
    headers: { authorization: signed.authorization },
  }).then((r) => r.text());
});
afterAll(() => fixture.close());

describe('decoding a 100-execution page', () => {
  const bare = new XMLParser();
  bench('checked: well-formedness, string values, list paths, schema', () => {
    decodeListWorkflowExecutions(pageXml, BENCH_BUCKET);
  });
  bench('bare fast-xml-parser parse, no checks', () => {
    bare.parse(pageXml);
  });
});

describe('a 100-execution page', () => {
  const document = JSON.stringify({
    query: `{ workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }, first: 100) {
      edges { cursor node { runId workflowId objectKey state createdAt } }
      pageInfo { hasNextPage endCursor }
    } }`,
  });
  bench('through the gateway (GraphQL, cursors, logging)', async () => {
    const response = await fixture.gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: document,
    });
    await response.text();
    fixture.emulator.clearRequests();
  });
  bench('the upstream call alone (CI client)', async () => {
    await fixture.client().listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.large, size: 100 });
    fixture.emulator.clearRequests();
  });
});

/** Upstream calls and queries per walk kind, printed after the run. */
const walks = new Map<string, { walks: number; queries: number; calls: number; bound: number }>();

async function walk(name: string, sizes: readonly number[]): Promise<void> {
  const stats = walks.get(name) ?? { walks: 0, queries: 0, calls: 0, bound: 0 };
  walks.set(name, stats);
  fixture.emulator.clearRequests();
  let after: string | null = null;
  for (let index = 0; ; index += 1) {
    const first = sizes[index % sizes.length] as number;
    const response = await fixture.gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `query Walk($after: String) { workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }, first: ${first}, after: $after) {
          edges { node { runId } } pageInfo { hasNextPage endCursor } } }`,
        variables: { after },
      }),
    });
    const { data } = (await response.json()) as {
      data: { workflowExecutions: { pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    };
    stats.queries += 1;
    stats.bound += Math.ceil(first / 100) + 1;
    if (!data.workflowExecutions.pageInfo.hasNextPage) break;
    after = data.workflowExecutions.pageInfo.endCursor;
  }
  stats.walks += 1;
  stats.calls += fixture.emulator.requests.length;
}

describe('a Relay walk through all 257 runs', () => {
  bench('changing first on every query (5, 51, 3, 100, 7, 20, …)', () =>
    walk('changing first', [5, 51, 3, 100, 7, 20]),
  );
  bench('keeping first: 20', () => walk('keeping first', [20]));
});

/** The three gateways of the telemetry comparison, started on first use (bench files run no describe-level hooks). */
interface TelemetryGateways {
  readonly plain: GatewayFixture;
  readonly metrics: GatewayFixture;
  readonly traced: GatewayFixture;
  readonly receiver: OtlpReceiver;
  readonly tracing: Tracing;
}
let telemetry: Promise<TelemetryGateways> | undefined;

async function startTelemetryGateways(): Promise<TelemetryGateways> {
  const receiver = await startOtlpReceiver();
  process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] = receiver.url;
  const tracing = await startTracing({ protocol: 'http/protobuf' });
  const noCache = () => new ReadCache({ detailEntries: 0, workflowTtlMs: 0 });
  const metrics = createMetrics();
  const tracedMetrics = createMetrics();
  return {
    receiver,
    tracing,
    plain: await startGateway({ client: { cache: noCache() } }),
    metrics: await startGateway({
      client: { cache: noCache(), observers: [metrics.upstream] },
      gateway: { metrics: { metrics, servePath: true } },
    }),
    traced: await startGateway({
      client: { cache: noCache(), observers: [tracedMetrics.upstream, upstreamSpans()] },
      gateway: { metrics: { metrics: tracedMetrics, servePath: true }, tracing: true },
    }),
  };
}

afterAll(async () => {
  if (!telemetry) return;
  const { plain, metrics, traced, receiver, tracing } = await telemetry;
  await Promise.all([plain.close(), metrics.close(), traced.close()]);
  await tracing.shutdown();
  await receiver.close();
  process.stdout.write(
    `\nTraces: ${receiver.rawBodies.length} OTLP exports received during the telemetry bench\n`,
  );
});

describe('10 runs with tasks (11 upstream calls, no cache)', () => {
  const document = JSON.stringify({
    query: `query WithTasks { workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }, first: 10) {
      edges { node { runId state tasks { type state } } } } }`,
  });
  const serve = async (which: 'plain' | 'metrics' | 'traced') => {
    telemetry ??= startTelemetryGateways();
    const fixture = (await telemetry)[which];
    const response = await fixture.gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
      body: document,
    });
    await response.text();
    fixture.emulator.clearRequests();
  };
  // Longer than the default: the difference is small beside the 11 loopback calls, so noise needs averaging out.
  const options = { time: 4_000, warmupTime: 500 };
  bench('no metrics, no traces', () => serve('plain'), options);
  bench('metrics', () => serve('metrics'), options);
  bench('metrics and traces (all sampled, exported)', () => serve('traced'), options);
});

afterAll(() => {
  const rows = [...walks].map(
    ([name, { walks: count, queries, calls, bound }]) =>
      `  ${name}: ${(queries / count).toFixed(0)} queries per walk, ${(calls / queries).toFixed(2)} upstream calls per query (bound ceil(first/100)+1 averages ${(bound / queries).toFixed(2)})`,
  );
  if (rows.length > 0) process.stdout.write(`\nUpstream calls per query in a walk:\n${rows.join('\n')}\n`);
});

/** Live updates: upstream calls caused by N subscribers to one workflow over a fixed window, by N. */
const SUBSCRIBER_POLL_INTERVAL_MS = 250;
const SUBSCRIBER_WINDOW_MS = 6_000;
/** Every pass's figures by subscriber count (the bench runner may make more than one pass). */
const subscriberPasses = new Map<number, Array<{ calls: number; heapKiBPerSubscriber: number }>>();

async function measureSubscribers(count: number): Promise<void> {
  const live = await startGateway({ pollIntervalMs: SUBSCRIBER_POLL_INTERVAL_MS });
  const document = `subscription { workflowExecutionEvents(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }) { kind } }`;
  const heapBefore = process.memoryUsage().heapUsed;
  const subscriptions = await Promise.all(
    Array.from({ length: count }, () => subscribe(live.gateway.fetch, document)),
  );
  try {
    // The first look (one list call) is shared by all; count what follows it.
    const deadline = Date.now() + 5_000;
    while (!live.emulator.requests.some((r) => r.path === '/workflowexecution') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    live.emulator.clearRequests();
    await new Promise((resolve) => setTimeout(resolve, SUBSCRIBER_WINDOW_MS));
    const passes = subscriberPasses.get(count) ?? [];
    passes.push({
      calls: live.emulator.requests.length,
      heapKiBPerSubscriber: (process.memoryUsage().heapUsed - heapBefore) / count / 1024,
    });
    subscriberPasses.set(count, passes);
  } finally {
    await Promise.all(subscriptions.map((subscription) => subscription.close()));
    await live.close();
  }
}

describe('live updates: subscribers to one workflow', () => {
  // One measured pass each: the figure is the upstream calls counted, not the time taken.
  const once = { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 };
  bench('1 subscriber', () => measureSubscribers(1), once);
  bench('100 subscribers', () => measureSubscribers(100), once);
  bench('1,000 subscribers', () => measureSubscribers(1_000), once);
});

afterAll(() => {
  if (subscriberPasses.size === 0) return;
  const rows = [...subscriberPasses].map(([count, passes]) => {
    const calls = passes.map((pass) => pass.calls);
    const perMinute = calls.map((n) => ((n * 60_000) / SUBSCRIBER_WINDOW_MS).toFixed(0));
    // Heap growth over one subscriber is mostly noise (garbage not yet collected); over many it is the cost of each.
    const heap =
      count >= 100
        ? `, heap ${passes.map((pass) => pass.heapKiBPerSubscriber.toFixed(0)).join('/')} KiB per subscriber`
        : '';
    return `  ${String(count).padStart(5)}: ${calls.join('/')} upstream calls in ${SUBSCRIBER_WINDOW_MS / 1000} s (${perMinute.join('/')} per minute)${heap}`;
  });
  process.stdout.write(
    `\nSubscribers to one workflow (POLL_INTERVAL_MS=${SUBSCRIBER_POLL_INTERVAL_MS}, nothing changing, so backing off; one figure per pass):\n${rows.join('\n')}\n`,
  );
});
