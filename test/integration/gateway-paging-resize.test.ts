/**
 * Walks that change `first` between queries, as Apollo's `fetchMore({ variables: { first } })` and Relay's
 * `loadNext(n)` do: every continuation starts right after its cursor, with no gap, no duplicate and no error, and
 * costs at most `ceil(first / 100) + 1` upstream calls. Against an upstream that refuses resized tokens, the same
 * walks still answer correctly.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_WORKFLOW_IDS, LARGE_WORKFLOW_EXECUTION_COUNT } from '../../src/emulator/demo-data.js';
import { type GatewayFixture, startGateway } from '../support/gateway.js';
import { expectedRunIds } from '../support/oracle.js';

const PAGE = `
  query Page($filter: WorkflowExecutionFilter!, $first: Int, $after: String) {
    workflowExecutions(filter: $filter, first: $first, after: $after) {
      edges { cursor node { runId } }
      pageInfo { hasNextPage endCursor }
    }
  }`;

interface Connection {
  edges: Array<{ cursor: string; node: { runId: string } }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const MAX_PAGE_SIZE = 1000;
const large = { workflowId: DEMO_WORKFLOW_IDS.large };
const all = expectedRunIds();

/** One query; how many list calls it made upstream. */
async function query(fixture: GatewayFixture, first: number, after?: string | null) {
  const before = fixture.emulator.requests.length;
  const response = await fixture.query<{ workflowExecutions: Connection }>(PAGE, {
    filter: large,
    first,
    after,
  });
  expect(response.errors).toBeUndefined();
  const connection = (response.data as { workflowExecutions: Connection }).workflowExecutions;
  const calls = fixture.emulator.requests.slice(before);
  expect(calls.every((call) => call.path === '/workflowexecution')).toBe(true);
  return { connection, calls: calls.length, runIds: connection.edges.map((edge) => edge.node.runId) };
}

/** A walk through every run with these page sizes in turn (repeating the last); checks it saw each run once. */
async function walk(fixture: GatewayFixture, sizes: readonly number[]) {
  const seen: string[] = [];
  let after: string | null = null;
  for (let index = 0; ; index += 1) {
    const first = sizes[Math.min(index, sizes.length - 1)] as number;
    const { connection, runIds } = await query(fixture, first, after);
    seen.push(...runIds);
    if (!connection.pageInfo.hasNextPage) break;
    after = connection.pageInfo.endCursor;
  }
  expect(seen).toEqual(all);
}

const CHANGES: Array<[number, number]> = [
  [5, 51],
  [7, 100],
  [3, 250],
  [20, 3],
  [51, 5],
  [100, 7],
  [1, 1000],
  [250, 1],
];

describe('changing first within a walk', () => {
  let fixture: GatewayFixture;
  beforeAll(async () => {
    fixture = await startGateway({ maxPageSize: MAX_PAGE_SIZE });
  });
  afterAll(() => fixture.close());

  it.each(CHANGES)(
    'continues %d → %d right after the cursor, within ceil(first/100)+1 calls',
    async (a, b) => {
      const first = await query(fixture, a);
      expect(first.runIds).toEqual(all.slice(0, a));
      const next = await query(fixture, b, first.connection.pageInfo.endCursor);
      expect(next.runIds).toEqual(all.slice(a, a + b));
      expect(next.connection.pageInfo.hasNextPage).toBe(a + b < LARGE_WORKFLOW_EXECUTION_COUNT);
      expect(next.calls).toBeLessThanOrEqual(Math.ceil(b / 100) + 1);
      expect(fixture.emulator.requests.every((request) => request.status === 200)).toBe(true);
    },
  );

  it('continues from a cursor in the middle of a page with another first', async () => {
    const first = await query(fixture, 60);
    const middle = first.connection.edges[36]?.cursor;
    const next = await query(fixture, 80, middle);
    expect(next.runIds).toEqual(all.slice(37, 117));
    expect(next.calls).toBeLessThanOrEqual(2);
  });

  it('walks every run once whatever the sequence of page sizes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 12 }), (sizes) =>
        walk(fixture, [...sizes, 300]),
      ),
      { numRuns: 25 },
    );
  });
});

describe('against an upstream that ties tokens to their page size', () => {
  let strict: GatewayFixture;
  beforeAll(async () => {
    strict = await startGateway({ maxPageSize: MAX_PAGE_SIZE, emulator: { pageTokensBoundToSize: true } });
  });
  afterAll(() => strict.close());

  it('falls back to the issued size and still answers each change correctly', async () => {
    for (const [a, b] of CHANGES) {
      const first = await query(strict, a);
      const next = await query(strict, b, first.connection.pageInfo.endCursor);
      expect(next.runIds).toEqual(all.slice(a, a + b));
    }
    const refused = strict.emulator.requests.filter((request) => request.status === 400);
    // Learnt once, on the first resized token; never tried again.
    expect(refused).toHaveLength(1);
  });

  it('walks every run once with changing sizes', async () => {
    await walk(strict, [5, 51, 3, 100, 7, 250, 20]);
  });
});
