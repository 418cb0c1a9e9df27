/** The emulator is as strict as the real service: these requests are made by hand, not by our client. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePath, encodeQuery } from '../../src/ci/encoding.js';
import { decodeErrorBody, decodeListWorkflowExecutions } from '../../src/ci/responses.js';
import { formatKeyTime, type KeyValuePairs, signRequest } from '../../src/ci/signer.js';
import {
  createDemoDataset,
  DEMO_WORKFLOW_IDS,
  LARGE_WORKFLOW_EXECUTION_COUNT,
} from '../../src/emulator/demo-data.js';
import { type CiEmulator, createCiEmulator, DEMO_CREDENTIALS } from '../../src/emulator/server.js';
import { EMULATED_BUCKET } from '../support/emulator.js';

interface HandMadeRequest {
  readonly path?: string;
  readonly query?: KeyValuePairs;
  /** Parameters sent but left out of the signature. */
  readonly unsignedQuery?: KeyValuePairs;
  readonly signHost?: boolean;
  readonly keyTime?: string;
  readonly secretKey?: string;
  /** Replaces the encoded query on the wire. */
  readonly wireQuery?: string;
  readonly authorization?: string | null;
}

let emulator: CiEmulator;
let host: string;

async function get(request: HandMadeRequest = {}) {
  const path = request.path ?? '/workflowexecution';
  const query = request.query ?? [['workflowId', DEMO_WORKFLOW_IDS.large]];
  const signed = signRequest(
    { method: 'GET', path, query, headers: request.signHost === false ? [] : [['host', host]] },
    { secretId: DEMO_CREDENTIALS.secretId, secretKey: request.secretKey ?? DEMO_CREDENTIALS.secretKey },
    request.keyTime ?? formatKeyTime(Date.now()),
  );
  const headers: { authorization?: string } = {};
  if (request.authorization !== null) headers.authorization = request.authorization ?? signed.authorization;
  const wireQuery = request.wireQuery ?? encodeQuery([...query, ...(request.unsignedQuery ?? [])]);
  const response = await fetch(`${emulator.url}${encodePath(path)}${wireQuery}`, { headers });
  const body = await response.text();
  return {
    status: response.status,
    body,
    error: decodeErrorBody(body),
    requestId: response.headers.get('x-ci-request-id'),
  };
}

beforeAll(async () => {
  emulator = createCiEmulator();
  host = new URL(await emulator.listen(0)).host;
});
afterAll(() => emulator.close());

describe('signature checks', () => {
  it('accepts a correctly signed request and logs it as verified', async () => {
    emulator.clearRequests();
    const response = await get();
    expect(response.status).toBe(200);
    expect(response.requestId).toMatch(/\S/);
    expect(emulator.requests[0]).toMatchObject({
      path: '/workflowexecution',
      signatureVerified: true,
      status: 200,
    });
  });

  it.each<[string, HandMadeRequest, number, string]>([
    ['no Authorization header', { authorization: null }, 401, 'MissingAuthorization'],
    [
      'a malformed Authorization header',
      { authorization: 'q-sign-algorithm=sha1&q-ak=x' },
      401,
      'InvalidAuthorization',
    ],
    ['the wrong secret key', { secretKey: 'nope' }, 403, 'SignatureDoesNotMatch'],
    ['an unsigned query parameter', { unsignedQuery: [['size', '5']] }, 403, 'SignatureDoesNotMatch'],
    ['an unsigned host', { signHost: false }, 403, 'AccessDenied'],
    ['an expired key time', { keyTime: formatKeyTime(Date.now() - 3_600_000) }, 401, 'SignatureExpired'],
    [
      'a key time in the future',
      { keyTime: formatKeyTime(Date.now() + 3_600_000) },
      403,
      'RequestTimeTooSkewed',
    ],
    [
      // A literal + in a time offset is read as a space: the server sees another value than was signed.
      'a + sent unencoded',
      {
        query: [
          ['workflowId', DEMO_WORKFLOW_IDS.large],
          ['startCreationTime', '2026-11-01T00:00:00+0800'],
        ],
        wireQuery: `?workflowId=${DEMO_WORKFLOW_IDS.large}&startCreationTime=2026-11-01T00%3A00%3A00+0800`,
      },
      403,
      'SignatureDoesNotMatch',
    ],
  ])('rejects %s', async (_name, request, status, code) => {
    emulator.clearRequests();
    const response = await get(request);
    expect(response.status).toBe(status);
    expect(response.error?.code).toBe(code);
    expect(response.error?.requestId).toBe(response.requestId);
    expect(emulator.requests[0]?.signatureVerified).toBe(false);
  });

  it('requires the session token it was configured with', async () => {
    const strict = createCiEmulator({ sessionToken: 'tok' });
    const url = await strict.listen(0);
    try {
      const path = '/workflowexecution';
      const query: KeyValuePairs = [['workflowId', 'w']];
      const { authorization } = signRequest(
        { method: 'GET', path, query, headers: [['host', new URL(url).host]] },
        DEMO_CREDENTIALS,
        formatKeyTime(Date.now()),
      );
      const without = await fetch(`${url}${path}${encodeQuery(query)}`, { headers: { authorization } });
      expect(without.status).toBe(403);
      const withToken = await fetch(`${url}${path}${encodeQuery(query)}`, {
        headers: { authorization, 'x-ci-security-token': 'tok' },
      });
      expect(withToken.status).toBe(200);
    } finally {
      await strict.close();
    }
  });
});

describe('parameter validation', () => {
  const list = (...extra: Array<[string, string]>) =>
    get({ query: [['workflowId', DEMO_WORKFLOW_IDS.large], ...extra] });

  it.each<[string, Array<[string, string]>]>([
    ['size 0', [['size', '0']]],
    ['size 101', [['size', '101']]],
    ['size abc', [['size', 'abc']]],
    ['orderByTime desc', [['orderByTime', 'desc']]],
    ['an unparseable start time', [['startCreationTime', '2026-11-01']]],
    ['an impossible end time', [['endCreationTime', '2026-02-30T00:00:00+0800']]],
    ['an unknown state', [['states', 'Success,Done']]],
    ['an unknown nextToken', [['nextToken', '0123456']]],
  ])('answers 400 InvalidArgument to %s', async (_name, extra) => {
    const response = await list(...extra);
    expect(response.status).toBe(400);
    expect(response.error?.code).toBe('InvalidArgument');
  });

  it('answers 400 InvalidArgument to a missing workflowId', async () => {
    const response = await get({ query: [['size', '5']] });
    expect(response).toMatchObject({ status: 400, error: { code: 'InvalidArgument' } });
  });

  it('binds a NextToken to the query that produced it', async () => {
    const first = decodeListWorkflowExecutions((await list(['size', '10'])).body, EMULATED_BUCKET);
    const token = first.nextToken as string;
    expect((await list(['size', '10'], ['nextToken', token])).status).toBe(200);
    // Another page size may continue it; another filter may not.
    expect((await list(['size', '20'], ['nextToken', token])).status).toBe(200);
    expect((await list(['orderByTime', 'Asc'], ['nextToken', token])).status).toBe(400);
    expect((await list(['states', 'Success'], ['nextToken', token])).status).toBe(400);
  });

  it('issues opaque tokens: not the offset, and empty on the last page', async () => {
    const first = decodeListWorkflowExecutions((await list(['size', '100'])).body, EMULATED_BUCKET);
    expect(first.nextToken).not.toBe('100');
    expect(first.nextToken).toMatch(/^0\d{10}$/);
    const second = decodeListWorkflowExecutions(
      (await list(['size', '100'], ['nextToken', first.nextToken as string])).body,
      EMULATED_BUCKET,
    );
    const third = await list(['size', '100'], ['nextToken', second.nextToken as string]);
    expect(third.body).toContain('<NextToken></NextToken>');
    const last = decodeListWorkflowExecutions(third.body, EMULATED_BUCKET);
    expect(last.nextToken).toBeNull();
    expect(first.executions.length + second.executions.length + last.executions.length).toBe(
      LARGE_WORKFLOW_EXECUTION_COUNT,
    );
  });

  it('answers 404 InvalidUrl to unknown paths', async () => {
    const response = await get({ path: '/nothing-here', query: [] });
    expect(response).toMatchObject({ status: 404, error: { code: 'InvalidUrl' } });
  });
});

describe('demo data', () => {
  const dataset = createDemoDataset();
  const large = dataset.workflows.find((w) => w.workflowId === DEMO_WORKFLOW_IDS.large);

  it('is deterministic', () => {
    expect(JSON.stringify(createDemoDataset())).toBe(JSON.stringify(dataset));
  });

  it('has a large workflow over several days, in every state, with batch jobs and awkward keys', () => {
    const executions = large?.executions ?? [];
    expect(executions.length).toBeGreaterThanOrEqual(250);
    expect(new Set(executions.map((e) => e.state))).toEqual(
      new Set(['Running', 'Success', 'Failed', 'Pause', 'Cancel']),
    );
    const days = new Set(executions.map((e) => e.createdAt.toISOString().slice(0, 10)));
    expect(days.size).toBeGreaterThanOrEqual(5);
    expect(new Set(executions.map((e) => e.batchJobId).filter(Boolean)).size).toBeGreaterThanOrEqual(2);
    const keys = executions.map((e) => e.objectKey);
    expect(keys.some((k) => /\P{ASCII}/u.test(k))).toBe(true);
    expect(keys.some((k) => k.includes(' '))).toBe(true);
    expect(keys.some((k) => k.includes('+'))).toBe(true);
    expect(keys.every((k) => k.includes('/'))).toBe(true);
    expect(new Set(executions.map((e) => e.runId)).size).toBe(executions.length);
    expect(executions.every((e) => e.tasks.length > 0)).toBe(true);
  });

  it('has a workflow with one execution and one with none', () => {
    const counts = dataset.workflows.map((w) => w.executions.length);
    expect(counts).toContain(1);
    expect(counts).toContain(0);
  });
});
