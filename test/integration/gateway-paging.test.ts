import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_WORKFLOW_IDS, LARGE_WORKFLOW_EXECUTION_COUNT } from '../../src/emulator/demo-data.js';
import { type GatewayFixture, startGateway } from '../support/gateway.js';
import { demoExecutions, expectedRunIds } from '../support/oracle.js';

const PAGE = `
  query Page($filter: WorkflowExecutionFilter!, $first: Int, $after: String) {
    workflowExecutions(filter: $filter, first: $first, after: $after) {
      edges { cursor node { runId workflowId objectKey state createdAt } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }`;

interface Page {
  workflowExecutions: {
    edges: Array<{
      cursor: string;
      node: { runId: string; objectKey: string; state: string; createdAt: string };
    }>;
    pageInfo: {
      hasNextPage: boolean;
      hasPreviousPage: boolean;
      startCursor: string | null;
      endCursor: string | null;
    };
  };
}

const large = { workflowId: DEMO_WORKFLOW_IDS.large };

let fixture: GatewayFixture;

async function page(filter: Record<string, unknown>, first?: number, after?: string | null) {
  const response = await fixture.query<Page>(PAGE, { filter, first, after });
  expect(response.errors).toBeUndefined();
  return (response.data as Page).workflowExecutions;
}

async function badInput(filter: Record<string, unknown>, first?: number, after?: string | null) {
  const response = await fixture.query<Page>(PAGE, { filter, first, after });
  expect(response.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
  expect(response.data).toBeNull();
  return response.errors?.[0]?.message;
}

beforeAll(async () => {
  fixture = await startGateway();
});
beforeEach(() => {
  fixture.emulator.clearRequests();
});
afterAll(() => fixture.close());

describe('first', () => {
  it.each([0, -1, 101, 10_000])('rejects first: %d before any upstream call', async (first) => {
    expect(await badInput(large, first)).toMatch(/first must be between 1 and 100/);
    expect(fixture.emulator.requests).toHaveLength(0);
  });

  it('defaults to 10', async () => {
    expect((await page(large)).edges).toHaveLength(10);
  });

  it('spans several upstream pages when MAX_PAGE_SIZE is above 100', async () => {
    const wide = await startGateway({ maxPageSize: 250 });
    try {
      const response = await wide.query<Page>(PAGE, { filter: large, first: 250 });
      const connection = (response.data as Page).workflowExecutions;
      expect(connection.edges.map((e) => e.node.runId)).toEqual(expectedRunIds().slice(0, 250));
      expect(connection.pageInfo.hasNextPage).toBe(true);
      // Whole upstream pages while more than a page is needed, then exactly what is left.
      expect(wide.emulator.requests.map((r) => r.params['size'])).toEqual(['100', '100', '50']);
      const rest = await wide.query<Page>(PAGE, {
        filter: large,
        first: 250,
        after: connection.pageInfo.endCursor,
      });
      expect((rest.data as Page).workflowExecutions.edges.map((e) => e.node.runId)).toEqual(
        expectedRunIds().slice(250),
      );
      const tooMany = await wide.query<Page>(PAGE, { filter: large, first: 251 });
      expect(tooMany.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    } finally {
      await wide.close();
    }
  });
});

describe('cursors', () => {
  it('resume exactly after their edge, mid-page and at page boundaries alike', async () => {
    const all = expectedRunIds();
    const first = await page(large, 10);
    for (const [index, edge] of first.edges.entries()) {
      const next = await page(large, 5, edge.cursor);
      expect(next.edges.map((e) => e.node.runId)).toEqual(all.slice(index + 1, index + 6));
    }
  });

  it('resume from a page-boundary endCursor with the next token, without refetching the page before', async () => {
    const first = await page(large, 7);
    fixture.emulator.clearRequests();
    const second = await page(large, 7, first.pageInfo.endCursor);
    expect(second.edges.map((e) => e.node.runId)).toEqual(expectedRunIds().slice(7, 14));
    expect(fixture.emulator.requests).toHaveLength(1);
    expect(fixture.emulator.requests[0]?.params['nextToken']).toMatch(/^0\d+$/);
  });

  it('are opaque, versioned strings that any replica continues', async () => {
    const first = await page(large, 3);
    const cursor = first.pageInfo.endCursor as string;
    expect(cursor).toMatch(/^v2\./);
    expect(cursor).not.toContain(first.edges[2]?.node.runId);
    const replica = fixture.replica();
    const response = await replica.fetch('http://replica/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: PAGE, variables: { filter: large, first: 3, after: cursor } }),
    });
    const body = (await response.json()) as { data: Page };
    expect(body.data.workflowExecutions.edges.map((e) => e.node.runId)).toEqual(expectedRunIds().slice(3, 6));
  });

  it('are bound to their filter', async () => {
    const first = await page(large, 3);
    const cursor = first.pageInfo.endCursor;
    expect(await badInput({ ...large, states: ['SUCCESS'] }, 3, cursor)).toMatch(/different filter/);
    expect(await badInput({ ...large, order: 'ASC' }, 3, cursor)).toMatch(/different filter/);
    expect(await badInput({ workflowId: DEMO_WORKFLOW_IDS.single }, 3, cursor)).toMatch(/different filter/);
    // Equal filters written differently are the same filter.
    const reordered = await page({ order: 'DESC', workflowId: DEMO_WORKFLOW_IDS.large }, 3, cursor);
    expect(reordered.edges).toHaveLength(3);
  });

  it('reject malformed, tampered and foreign cursors', async () => {
    // A cursor in the middle of its upstream page, so its skip count is not zero.
    const cursor = (await page(large, 5)).edges[2]?.cursor as string;
    const [version, part, skip, mac] = cursor.split('.') as [string, string, string, string];
    expect(skip).toBe('3');
    // The same page with another token: well-formed, but not what the gateway signed.
    const fields = JSON.parse(Buffer.from(part, 'base64url').toString()) as [string, string | null, number];
    const forgedPage = Buffer.from(JSON.stringify(fields.with(1, '0999'))).toString('base64url');
    for (const bad of [
      'garbage',
      '',
      `v3.${part}.${skip}.${mac}`,
      `${version}.${part}.4.${mac}`,
      `${version}.${part}.03.${mac}`,
      `${version}.${forgedPage}.${skip}.${mac}`,
      `${version}.${part}.${skip}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}`,
      `${cursor}.extra`,
      `v1.${part}.${mac}`,
      Buffer.from('{"offset":10}').toString('base64'),
    ]) {
      expect(await badInput(large, 3, bad)).toMatch(/Invalid after cursor/);
    }
    const foreign = fixture.replica({ cursorSecret: 'another-deployment-secret-0123456789' });
    const response = await foreign.fetch('http://replica/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: PAGE, variables: { filter: large, first: 3, after: cursor } }),
    });
    const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
    expect(fixture.emulator.requests.filter((r) => r.params['nextToken'] !== undefined)).toHaveLength(0);
  });
});

describe('cursors issued before v2', () => {
  it('are still read, so a walk survives the deploy', async () => {
    // A v1 cursor as the previous version made it: one HMAC over [filter, token, size, skip].
    const filterKey = (
      JSON.parse(
        Buffer.from((await page(large, 3)).edges[0]?.cursor.split('.')[1] as string, 'base64url').toString(),
      ) as string[]
    )[0];
    const key = createHmac('sha256', 'test-cursor-secret-0123456789abcdef')
      .update('workflow-execution-cursor')
      .digest();
    const payload = Buffer.from(JSON.stringify([filterKey, null, 5, 3])).toString('base64url');
    const mac = createHmac('sha256', key)
      .update(`v1.${payload}`)
      .digest()
      .subarray(0, 16)
      .toString('base64url');
    const next = await page(large, 3, `v1.${payload}.${mac}`);
    expect(next.edges.map((e) => e.node.runId)).toEqual(expectedRunIds().slice(3, 6));
    expect(
      await badInput(large, 3, `v1.${payload}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}`),
    ).toMatch(/Invalid after cursor/);
  });
});

describe('pageInfo', () => {
  it('is empty with null cursors for a workflow with no executions', async () => {
    const connection = await page({ workflowId: DEMO_WORKFLOW_IDS.empty }, 5);
    expect(connection).toEqual({
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
  });

  it('says there is no next page when exactly the last execution was returned', async () => {
    const single = await page({ workflowId: DEMO_WORKFLOW_IDS.single }, 1);
    expect(single.edges).toHaveLength(1);
    expect(single.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
    expect(single.pageInfo.startCursor).toBe(single.edges[0]?.cursor);
    expect(single.pageInfo.endCursor).toBe(single.edges[0]?.cursor);
  });

  it('has a next page iff more executions exist, on exact multiples too', async () => {
    const jobId = demoExecutions().find((e) => e.batchJobId)?.batchJobId as string;
    const expected = expectedRunIds((e) => e.batchJobId === jobId);
    expect(expected).toHaveLength(40);
    const filter = { ...large, batchJobId: jobId };
    const first = await page(filter, 20);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await page(filter, 20, first.pageInfo.endCursor);
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect([...first.edges, ...second.edges].map((e) => e.node.runId)).toEqual(expected);
    const mid = await page(filter, 39);
    expect(mid.pageInfo.hasNextPage).toBe(true);
    const rest = await page(filter, 5, mid.pageInfo.endCursor);
    expect(rest.edges.map((e) => e.node.runId)).toEqual(expected.slice(39));
    expect(rest.pageInfo.hasNextPage).toBe(false);
  });
});

describe('walking a whole workflow', () => {
  it('with first: 7 yields every execution once, in upstream order, in one upstream call per query', async () => {
    const seen: string[] = [];
    const callsPerQuery: number[] = [];
    let after: string | null = null;
    for (let guard = 0; guard < 100; guard += 1) {
      fixture.emulator.clearRequests();
      const connection: Page['workflowExecutions'] = await page(large, 7, after);
      callsPerQuery.push(fixture.emulator.requests.length);
      seen.push(...connection.edges.map((e) => e.node.runId));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(seen).toEqual(expectedRunIds());
    expect(new Set(seen).size).toBe(LARGE_WORKFLOW_EXECUTION_COUNT);
    expect(callsPerQuery).toHaveLength(Math.ceil(LARGE_WORKFLOW_EXECUTION_COUNT / 7));
    expect(callsPerQuery.every((calls) => calls === 1)).toBe(true);
  });
});

describe('filters', () => {
  it('map every field to the upstream parameters', async () => {
    await page(
      {
        workflowId: DEMO_WORKFLOW_IDS.large,
        objectKey: 'raw/猫 & 狗/第1集.mkv',
        states: ['FAILED', 'SUCCESS', 'FAILED'],
        createdAfter: '2026-11-02T08:00:00+08:00',
        createdBefore: '2026-11-05T00:00:00Z',
        batchJobId: `b${'0'.repeat(32)}`,
        order: 'ASC',
      },
      5,
    );
    expect(fixture.emulator.requests[0]?.params).toEqual({
      workflowId: DEMO_WORKFLOW_IDS.large,
      name: 'raw/猫 & 狗/第1集.mkv',
      orderByTime: 'Asc',
      size: '5',
      states: 'Failed,Success',
      startCreationTime: '2026-11-02T00:00:00+0000',
      endCreationTime: '2026-11-05T00:00:00+0000',
      jobId: `b${'0'.repeat(32)}`,
    });
  });

  it('return what the upstream filters to, with times as RFC 3339 in UTC', async () => {
    const after = '2026-11-03T08:00:00+08:00';
    const before = '2026-11-04T12:00:00-02:00';
    const filter = {
      ...large,
      states: ['RUNNING', 'PAUSE'],
      createdAfter: after,
      createdBefore: before,
      order: 'ASC',
    };
    const connection = await page(filter, 100);
    const expected = expectedRunIds(
      (e) =>
        ['Running', 'Pause'].includes(e.state) &&
        e.createdAt >= new Date(after) &&
        e.createdAt <= new Date(before),
      'Asc',
    );
    expect(expected.length).toBeGreaterThan(3);
    expect(connection.edges.map((e) => e.node.runId)).toEqual(expected);
    expect(connection.edges[0]?.node.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(new Set(connection.edges.map((e) => e.node.state))).toEqual(new Set(['RUNNING', 'PAUSE']));
  });

  it.each<[string, Record<string, unknown>]>([
    ['an empty workflowId', { workflowId: '' }],
    ['an empty states list', { ...large, states: [] }],
    ['an empty objectKey', { ...large, objectKey: '' }],
    ['an objectKey over 850 bytes of UTF-8', { ...large, objectKey: `videos/${'视'.repeat(282)}` }],
    ['an objectKey holding a lone surrogate', { ...large, objectKey: 'clip \ud800.mp4' }],
    ['a workflowId that is a path', { workflowId: '..' }],
    ['a workflowId CI would never issue', { workflowId: 'w-not-hex' }],
    ['a batchJobId CI would never issue', { ...large, batchJobId: 'b/../x' }],
    [
      'createdAfter later than createdBefore',
      { ...large, createdAfter: '2026-11-05T00:00:00Z', createdBefore: '2026-11-04T00:00:00Z' },
    ],
  ])('rejects %s as bad user input', async (_name, filter) => {
    await badInput(filter, 5);
    expect(fixture.emulator.requests).toHaveLength(0);
  });

  it('takes an objectKey of exactly 850 bytes to the upstream', async () => {
    const objectKey = `v/${'视'.repeat(282)}`;
    expect(Buffer.byteLength(objectKey)).toBe(848);
    await page({ ...large, objectKey: `${objectKey}ab` }, 5);
    expect(fixture.emulator.requests[0]?.params['name']).toBe(`${objectKey}ab`);
  });

  it('names the argument and the rule it breaks', async () => {
    expect(await badInput({ ...large, objectKey: 'x'.repeat(851) }, 5)).toBe(
      'filter.objectKey is 851 bytes of UTF-8; COS keys are at most 850.',
    );
    expect(await badInput({ workflowId: '..' }, 5)).toBe(
      'filter.workflowId must be a workflow id as CI issues them: "w" and 32 lowercase hex digits.',
    );
  });

  it('rejects an unparseable DateTime variable with BAD_USER_INPUT', async () => {
    const response = await fixture.query(PAGE, {
      filter: { ...large, createdAfter: '2026-11-05' },
      first: 5,
    });
    expect(response.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(fixture.emulator.requests).toHaveLength(0);
  });
});
