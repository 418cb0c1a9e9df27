/**
 * Paging against scripted upstream behaviour the emulator does not show: short pages, a token on a full last
 * page, endless empty pages. The upstream here is a function; the emulator tests cover the real HTTP path.
 */
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { ListWorkflowExecutionsParams, WorkflowExecutionPage } from '../../src/ci/types.js';
import { CursorCodec } from '../../src/schema/cursor.js';
import { paginateExecutions } from '../../src/schema/pagination.js';

const executions = Array.from({ length: 30 }, (_, index) => ({
  runId: `i${index}`,
  workflowId: 'w',
  objectKey: `k${index}`,
  state: 'Success' as const,
  createdAt: new Date(Date.UTC(2026, 10, 1, 0, index)),
}));

/**
 * An upstream whose tokens are offsets and whose pages may come back shorter than asked (`shortBy`), and which may
 * hand out a token on the last page anyway.
 */
function upstream(options: { shortBy?: number; tokenOnLastPage?: boolean; items?: typeof executions } = {}) {
  const items = options.items ?? executions;
  const calls: ListWorkflowExecutionsParams[] = [];
  const listExecutions = async (params: ListWorkflowExecutionsParams): Promise<WorkflowExecutionPage> => {
    calls.push(params);
    const offset = params.nextToken === undefined ? 0 : Number(params.nextToken.slice(1));
    const size = Math.max(0, (params.size ?? 10) - (options.shortBy ?? 0));
    const page = items.slice(offset, offset + size);
    const end = offset + page.length;
    const more = end < items.length || (options.tokenOnLastPage === true && page.length > 0);
    return { requestId: `r${calls.length}`, executions: page, nextToken: more ? `t${end}` : null };
  };
  const context = {
    listExecutions,
    services: { cursors: new CursorCodec('unit-test-cursor-secret-0123456789'), maxPageSize: 100 },
  };
  return { calls, context };
}

const filter = { workflowId: 'w', order: 'Desc' as const };
const runIds = (connection: { edges: ReadonlyArray<{ node: { runId: string } }> }) =>
  connection.edges.map((e) => e.node.runId);

describe('paginateExecutions', () => {
  it('fills a page from several short upstream pages, and resumes exactly after it', async () => {
    const { calls, context } = upstream({ shortBy: 2 });
    const first = await paginateExecutions(context, filter, { first: 5 });
    expect(runIds(first)).toEqual(['i0', 'i1', 'i2', 'i3', 'i4']);
    expect(calls.map((c) => [c.size, c.nextToken])).toEqual([
      [5, undefined],
      [5, 't3'],
    ]);
    const second = await paginateExecutions(context, filter, { first: 5, after: first.pageInfo.endCursor });
    expect(runIds(second)).toEqual(['i5', 'i6', 'i7', 'i8', 'i9']);
  });

  it('continues a token with the size it was issued with, whatever first says now', async () => {
    const { calls, context } = upstream();
    const first = await paginateExecutions(context, filter, { first: 4 });
    calls.length = 0;
    const second = await paginateExecutions(context, filter, { first: 10, after: first.pageInfo.endCursor });
    expect(runIds(second)).toEqual(executions.slice(4, 14).map((e) => e.runId));
    expect(calls.map((c) => c.size)).toEqual([4, 4, 4]);
  });

  it('copes with a token on a full last page: the next page is empty and says it is the last', async () => {
    const items = executions.slice(0, 10);
    const { context } = upstream({ tokenOnLastPage: true, items });
    const first = await paginateExecutions(context, filter, { first: 10 });
    expect(runIds(first)).toHaveLength(10);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await paginateExecutions(context, filter, { first: 10, after: first.pageInfo.endCursor });
    expect(second).toEqual({
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
  });

  it('gives up with UPSTREAM_BAD_RESPONSE when the upstream pages on through empty pages', async () => {
    const { calls, context } = upstream();
    const endless = {
      ...context,
      listExecutions: async (params: ListWorkflowExecutionsParams): Promise<WorkflowExecutionPage> => {
        calls.push(params);
        return { requestId: 'r-empty', executions: [], nextToken: `t${calls.length}` };
      },
    };
    const error = await paginateExecutions(endless, filter, { first: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).extensions).toEqual({
      code: 'UPSTREAM_BAD_RESPONSE',
      upstream: { requestId: 'r-empty' },
    });
    expect(calls).toHaveLength(10);
  });

  it('returns what it has, with a cursor to continue, when short pages run past the call budget', async () => {
    const { calls, context } = upstream({ shortBy: 4 });
    const page = await paginateExecutions(context, filter, { first: 5 });
    // Budget: ceil(5 / 5) + 2 = 3 calls of one item each.
    expect(calls).toHaveLength(3);
    expect(runIds(page)).toEqual(['i0', 'i1', 'i2']);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const rest = await paginateExecutions(context, filter, { first: 2, after: page.pageInfo.endCursor });
    expect(runIds(rest)).toEqual(['i3', 'i4']);
  });
});
