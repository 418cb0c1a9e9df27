/**
 * `npm run bench`: where the time goes, each alternative measured side by side in one run.
 *
 * - signing: our signer against the official SDK's, on the list call the gateway makes most;
 * - decoding: our checked decoding of a 100-item page (validation, parsing, schema) against a bare parse;
 * - serving: a 100-execution page through the whole gateway against the same upstream call made directly,
 *   both over loopback HTTP to the emulator, so the ratio is the gateway's own overhead;
 * - paging: a walk through all 257 runs that changes `first` on every query, against one that keeps it; after
 *   the run it prints the upstream calls each made per query.
 */
import { createRequire } from 'node:module';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, bench, describe } from 'vitest';
import { encodeQuery } from '../src/ci/encoding.js';
import { decodeListWorkflowExecutions } from '../src/ci/responses.js';
import { formatKeyTime, signRequest } from '../src/ci/signer.js';
import { DEMO_WORKFLOW_IDS } from '../src/emulator/demo-data.js';
import { DEMO_CREDENTIALS } from '../src/emulator/server.js';
import { type GatewayFixture, startGateway } from '../test/support/gateway.js';

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
    decodeListWorkflowExecutions(pageXml);
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

afterAll(() => {
  const rows = [...walks].map(
    ([name, { walks: count, queries, calls, bound }]) =>
      `  ${name}: ${(queries / count).toFixed(0)} queries per walk, ${(calls / queries).toFixed(2)} upstream calls per query (bound ceil(first/100)+1 averages ${(bound / queries).toFixed(2)})`,
  );
  process.stdout.write(`\nUpstream calls per query in a walk:\n${rows.join('\n')}\n`);
});
