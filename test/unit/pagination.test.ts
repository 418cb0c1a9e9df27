/**
 * Paging against scripted upstream behaviour the emulator does not show: short pages, a token on a full last
 * page, endless empty pages. The upstream here is a function; the emulator tests cover the real HTTP path.
 */
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { ListWorkflowExecutionsParams } from '../../src/ci/client.js';
import { assume, bucketIdRule, type RunId, type WorkflowId } from '../../src/ci/inputs.js';
import type { WorkflowExecutionPage } from '../../src/ci/types.js';
import { CacheHints } from '../../src/schema/cache-hints.js';
import { CursorCodec, fingerprint } from '../../src/schema/cursor.js';
import { upstreamGraphQLError } from '../../src/schema/errors.js';
import { PageTokenKnowledge } from '../../src/schema/page-tokens.js';
import { paginateExecutions } from '../../src/schema/pagination.js';

// The scripted upstream is not CI: its ids are short labels, branded as the decoders would brand CI's.
const BUCKET = assume(bucketIdRule, 'demo-1250000000');
const executions = Array.from({ length: 30 }, (_, index) => ({
  bucketId: BUCKET,
  runId: `i${index}` as RunId,
  workflowId: 'w' as WorkflowId,
  objectKey: `k${index}`,
  state: 'Success' as const,
  createdAt: new Date(Date.UTC(2026, 10, 1, 0, index)),
}));

/**
 * An upstream whose tokens are offsets, whose pages may come back shorter than asked (never more than `pageCap`),
 * which may hand out a token on the last page anyway, and which may tie each token to the size it was issued
 * with (`strictSizes`: a token continued with another size is refused with HTTP 400).
 */
function upstream(
  options: {
    pageCap?: number;
    tokenOnLastPage?: boolean;
    strictSizes?: boolean;
    items?: typeof executions;
  } = {},
) {
  const items = options.items ?? executions;
  const calls: ListWorkflowExecutionsParams[] = [];
  const listWorkflowExecutions = async (
    params: ListWorkflowExecutionsParams,
  ): Promise<WorkflowExecutionPage> => {
    calls.push(params);
    const [offset, issuedSize] =
      params.nextToken === undefined ? [0, undefined] : params.nextToken.slice(1).split('s').map(Number);
    if (options.strictSizes && issuedSize !== undefined && issuedSize !== params.size) {
      throw upstreamGraphQLError({ kind: 'bad_request', code: 'InvalidArgument', status: 400 });
    }
    const size = Math.min(params.size ?? 10, options.pageCap ?? Number.POSITIVE_INFINITY);
    const page = items.slice(offset, (offset ?? 0) + size);
    const end = (offset ?? 0) + page.length;
    const more = end < items.length || (options.tokenOnLastPage === true && page.length > 0);
    return {
      requestId: `r${calls.length}`,
      executions: page,
      nextToken: more ? `t${end}s${params.size}` : null,
    };
  };
  const context = {
    bucket: { bucketId: BUCKET, isDefault: true, ci: { listWorkflowExecutions } },
    services: {
      cursors: new CursorCodec('unit-test-cursor-secret-0123456789'),
      maxPageSize: 100,
      pageTokens: new PageTokenKnowledge(),
    },
    cacheHints: new CacheHints(),
  };
  return { calls, context };
}

/** An upstream that answers its n-th call (counting from 1) with `answer(n)`. */
function scripted(answer: (call: number) => WorkflowExecutionPage) {
  const { calls, context } = upstream();
  const listWorkflowExecutions = async (params: ListWorkflowExecutionsParams) => {
    calls.push(params);
    return answer(calls.length);
  };
  return {
    calls,
    context: { ...context, bucket: { bucketId: BUCKET, isDefault: true, ci: { listWorkflowExecutions } } },
  };
}

const filter = { workflowId: 'w' as WorkflowId, order: 'Desc' as const };
const runIds = (connection: { edges: ReadonlyArray<{ node: { runId: string } }> }) =>
  connection.edges.map((e) => e.node.runId);

describe('paginateExecutions', () => {
  it('binds cursors to the bucket; the default bucket’s cursors are those issued before lists named buckets', async () => {
    const { context } = upstream();
    const before = context.services.cursors.encode(fingerprint(filter), { token: null, size: 5, skip: 2 });
    const resumed = await paginateExecutions(context, context.bucket, filter, { first: 2, after: before });
    expect(runIds(resumed)).toEqual(['i2', 'i3']);
    const other = { ...context.bucket, bucketId: assume(bucketIdRule, 'other-1250000000'), isDefault: false };
    await expect(
      paginateExecutions(context, other, filter, { first: 2, after: before }),
    ).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', argumentName: 'after' },
    });
    const own = await paginateExecutions(context, other, filter, { first: 2 });
    await expect(
      paginateExecutions(context, context.bucket, filter, { first: 2, after: own.pageInfo.endCursor }),
    ).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(
      runIds(await paginateExecutions(context, other, filter, { first: 2, after: own.pageInfo.endCursor })),
    ).toEqual(['i2', 'i3']);
  });

  it('fills a page from several short upstream pages, and resumes exactly after it', async () => {
    const { calls, context } = upstream({ pageCap: 3 });
    const first = await paginateExecutions(context, context.bucket, filter, { first: 5 });
    expect(runIds(first)).toEqual(['i0', 'i1', 'i2', 'i3', 'i4']);
    expect(calls.map((c) => [c.size, c.nextToken])).toEqual([
      [5, undefined],
      [2, 't3s5'],
    ]);
    const second = await paginateExecutions(context, context.bucket, filter, {
      first: 5,
      after: first.pageInfo.endCursor,
    });
    expect(runIds(second)).toEqual(['i5', 'i6', 'i7', 'i8', 'i9']);
  });

  it('asks a resumed token for what the query needs now, so a larger first costs one call', async () => {
    const { calls, context } = upstream();
    const first = await paginateExecutions(context, context.bucket, filter, { first: 4 });
    calls.length = 0;
    const second = await paginateExecutions(context, context.bucket, filter, {
      first: 10,
      after: first.pageInfo.endCursor,
    });
    expect(runIds(second)).toEqual(executions.slice(4, 14).map((e) => e.runId));
    expect(calls.map((c) => [c.size, c.nextToken])).toEqual([[10, 't4s4']]);
  });

  it('resumes mid-page with a smaller first by re-reading only up to what it needs', async () => {
    const { calls, context } = upstream();
    const first = await paginateExecutions(context, context.bucket, filter, { first: 20 });
    calls.length = 0;
    const fromMiddle = first.edges[6]?.cursor;
    const next = await paginateExecutions(context, context.bucket, filter, { first: 3, after: fromMiddle });
    expect(runIds(next)).toEqual(['i7', 'i8', 'i9']);
    expect(calls.map((c) => [c.size, c.nextToken])).toEqual([[10, undefined]]);
  });

  it('falls back to the issued size when the upstream refuses a resized token, and remembers it', async () => {
    const { calls, context } = upstream({ strictSizes: true });
    const first = await paginateExecutions(context, context.bucket, filter, { first: 5 });
    calls.length = 0;
    const second = await paginateExecutions(context, context.bucket, filter, {
      first: 12,
      after: first.pageInfo.endCursor,
    });
    expect(runIds(second)).toEqual(executions.slice(5, 17).map((e) => e.runId));
    // One refused resize, then pages of the issued size 5.
    expect(calls.map((c) => [c.size, c.nextToken])).toEqual([
      [12, 't5s5'],
      [5, 't5s5'],
      [5, 't10s5'],
      [5, 't15s5'],
    ]);
    calls.length = 0;
    const third = await paginateExecutions(context, context.bucket, filter, {
      first: 3,
      after: second.pageInfo.endCursor,
    });
    expect(runIds(third)).toEqual(['i17', 'i18', 'i19']);
    expect(calls.map((c) => [c.size, c.nextToken])).toEqual([[5, 't15s5']]);
  });

  it('keeps what it collected when pages stop bringing anything new', async () => {
    const { calls, context } = scripted((call) =>
      call === 1
        ? { requestId: 'r1', executions: executions.slice(0, 2), nextToken: 't2s50' }
        : { requestId: `r${call}`, executions: [], nextToken: `t2s${call}` },
    );
    const page = await paginateExecutions(context, context.bucket, filter, { first: 50 });
    expect(runIds(page)).toEqual(['i0', 'i1']);
    expect(page.pageInfo.hasNextPage).toBe(true);
    expect(calls.length).toBeLessThanOrEqual(11);
  });

  it('copes with a token on a full last page: the next page is empty and says it is the last', async () => {
    const items = executions.slice(0, 10);
    const { context } = upstream({ tokenOnLastPage: true, items });
    const first = await paginateExecutions(context, context.bucket, filter, { first: 10 });
    expect(runIds(first)).toHaveLength(10);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await paginateExecutions(context, context.bucket, filter, {
      first: 10,
      after: first.pageInfo.endCursor,
    });
    expect(second).toEqual({
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
  });

  it('gives up with UPSTREAM_BAD_RESPONSE when the upstream pages on through empty pages', async () => {
    const { calls, context } = scripted((call) => ({
      requestId: 'r-empty',
      executions: [],
      nextToken: `t0s${call}`,
    }));
    const error = await paginateExecutions(context, context.bucket, filter, { first: 5 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).extensions).toEqual({
      code: 'UPSTREAM_BAD_RESPONSE',
      upstream: { requestId: 'r-empty' },
    });
    expect(calls).toHaveLength(10);
  });

  it('returns what it has, with a cursor to continue, when short pages run past the call budget', async () => {
    const { calls, context } = upstream({ pageCap: 1 });
    const page = await paginateExecutions(context, context.bucket, filter, { first: 5 });
    // Budget: ceil(5 / 5) + 2 = 3 calls of one item each (the first asks for 5, later ones for what is left).
    expect(calls).toHaveLength(3);
    expect(runIds(page)).toEqual(['i0', 'i1', 'i2']);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const rest = await paginateExecutions(context, context.bucket, filter, {
      first: 2,
      after: page.pageInfo.endCursor,
    });
    expect(runIds(rest)).toEqual(['i3', 'i4']);
  });
});
