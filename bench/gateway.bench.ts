/**
 * `npm run bench`: where the time goes, each alternative measured side by side in one run.
 *
 * - signing: our signer against the official SDK's, on the list call the gateway makes most;
 * - decoding: our checked decoding of a 100-item page (validation, parsing, schema) against a bare parse;
 * - serving: a 100-execution page through the whole gateway against the same upstream call made directly,
 *   both over loopback HTTP to the emulator, so the ratio is the gateway's own overhead.
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
