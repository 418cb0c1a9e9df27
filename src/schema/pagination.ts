/**
 * Forward-only Relay paging over CI's page tokens, for any of its token-paged lists (executions, batch triggers).
 *
 * A cursor names a position: "the upstream page fetched with token T (null: the first page) and size N, after
 * skipping K of its items". A query asks the upstream for exactly what it still needs (`K + first`, at most the
 * upstream's 100 per page), so a query of `first` items costs at most `ceil(first / 100) + 1` upstream calls
 * whatever `first` the cursor was issued with, and a client that keeps its `first` pays one call per query
 * (an `endCursor` on a page boundary holds the next token directly).
 *
 * Continuing a token with another size than it was issued with is what most token-paged APIs allow and what the
 * emulator does; CI's documentation does not say. If the upstream refuses a resized token (HTTP 400), the query
 * is repeated with the size the cursor recorded, and the gateway remembers to keep sizes from then on.
 */
import { GraphQLError } from 'graphql';
import type { ExecutionFilter } from '../ci/client.js';
import { MAX_UPSTREAM_PAGE_SIZE } from '../ci/types.js';
import { ErrorCode } from '../error-codes.js';
import { CACHE_SECONDS, type CacheHints } from './cache-hints.js';
import type { BucketScope, GatewayServices } from './context.js';
import { type CursorCodec, CursorError, fingerprint, type UpstreamPosition } from './cursor.js';
import { upstreamGraphQLError, userInputError } from './errors.js';
import type { Connection, Edge, ExecutionParent } from './shapes.js';

export type ExecutionConnection = Connection<ExecutionParent>;

/** One token-paged upstream list. */
export interface UpstreamList<T> {
  /** Names the list and its filter: a cursor is accepted only by the list it came from. */
  readonly key: string;
  fetch(size: number, token: string | null): Promise<UpstreamPage<T>>;
}

export interface UpstreamPage<T> {
  readonly items: readonly T[];
  /** Null on the last page. */
  readonly nextToken: string | null;
  readonly requestId: string | undefined;
}

/** How many upstream pages in a row may bring nothing new before a query stops reading. */
const MAX_CALLS_WITHOUT_AN_EXECUTION = 10;

/** `first` when a query does not say. */
export const DEFAULT_PAGE_SIZE = 10;

export interface PageRequest {
  /** Absent or null means {@link DEFAULT_PAGE_SIZE}. */
  readonly first?: number | null | undefined;
  readonly after?: string | null | undefined;
}

export type PagingContext = {
  readonly services: Pick<GatewayServices, 'cursors' | 'maxPageSize' | 'pageTokens'>;
  readonly cacheHints: Pick<CacheHints, 'limit'>;
};

/** The bucket a list is read from: its cursors name it, so a cursor never continues in another bucket. */
export type PagedBucket = Pick<BucketScope, 'bucketId' | 'isDefault'> & {
  readonly ci: Pick<BucketScope['ci'], 'listWorkflowExecutions'>;
};

/** A workflow's executions in one bucket, as a connection: the filter is the canonical one `executionFilter` builds. */
export function paginateExecutions(
  context: PagingContext,
  bucket: PagedBucket,
  filter: ExecutionFilter,
  pageRequest: PageRequest,
): Promise<ExecutionConnection> {
  return paginate(
    context,
    {
      key: listKey(bucket, filter),
      fetch: async (size, token) => {
        const page = await bucket.ci.listWorkflowExecutions({
          ...filter,
          size,
          nextToken: token ?? undefined,
        });
        // CI's answers do not name the batch job that started a run; the filter does.
        const startedBy = filter.batchJobId;
        const items = startedBy ? page.executions.map((run) => ({ ...run, startedBy })) : page.executions;
        return { items, nextToken: page.nextToken, requestId: page.requestId };
      },
    },
    pageRequest,
  );
}

/**
 * What a list's cursors are bound to: its filter and its bucket. The default bucket's lists keep the key they had
 * before cursors named buckets, so a walk survives the upgrade; every other bucket's key names it, so no cursor
 * continues in a bucket other than its own.
 */
export function listKey(bucket: Pick<BucketScope, 'bucketId' | 'isDefault'>, filter: object): string {
  return fingerprint(bucket.isDefault ? filter : { ...filter, bucketId: bucket.bucketId });
}

/** Validates the arguments, then walks upstream pages until `first` items (or the end) are collected. */
export async function paginate<T>(
  context: PagingContext,
  list: UpstreamList<T>,
  pageRequest: PageRequest,
): Promise<Connection<T>> {
  const { cursors, maxPageSize, pageTokens } = context.services;
  const first = pageRequest.first ?? DEFAULT_PAGE_SIZE;
  const { after } = pageRequest;
  if (!Number.isInteger(first) || first < 1 || first > maxPageSize) {
    throw userInputError(`first must be between 1 and ${maxPageSize}`, 'first');
  }
  const filterKey = list.key;
  context.cacheHints.limit(CACHE_SECONDS.page);
  let position: UpstreamPosition =
    after !== undefined && after !== null
      ? decodeCursor(cursors, after, filterKey)
      : { token: null, size: Math.min(first, MAX_UPSTREAM_PAGE_SIZE), skip: 0 };
  const startSkip = position.skip;

  const edges: Edge<T>[] = [];
  let hasNextPage = false;
  let calls = 0;
  /** Enough calls for `first` items at the first call's page size, plus slack for short pages. */
  let maxCalls = Number.POSITIVE_INFINITY;
  let callsWithoutProgress = 0;
  for (;;) {
    // Ask for what is still needed; a token continued with another size is a resize the upstream may refuse.
    const needed = Math.min(MAX_UPSTREAM_PAGE_SIZE, position.skip + first - edges.length);
    const size = position.token !== null && pageTokens.resizeRefused ? position.size : needed;
    let upstreamPage: UpstreamPage<T>;
    try {
      upstreamPage = await list.fetch(size, position.token);
    } catch (error) {
      if (position.token === null || size === position.size || !isRefusal(error)) throw error;
      // The upstream ties its tokens to their page size: keep sizes from now on and repeat this page.
      pageTokens.resizeRefused = true;
      continue;
    }
    calls += 1;
    if (calls === 1) maxCalls = Math.ceil((startSkip + first) / size) + 2;
    const items = upstreamPage.items;
    let index = position.skip;
    for (const item of items.slice(position.skip, position.skip + first - edges.length)) {
      const atPageEnd = index === items.length - 1 && upstreamPage.nextToken !== null;
      const resumeAt: UpstreamPosition = atPageEnd
        ? { token: upstreamPage.nextToken, size, skip: 0 }
        : { token: position.token, size, skip: index + 1 };
      edges.push({
        cursor: cursors.encode(filterKey, resumeAt),
        node: item,
      });
      index += 1;
    }
    if (edges.length === first) {
      hasNextPage = index < items.length || upstreamPage.nextToken !== null;
      break;
    }
    if (upstreamPage.nextToken === null) break;
    callsWithoutProgress = items.length > position.skip ? 0 : callsWithoutProgress + 1;
    // Never unbounded; what was collected is always returned, and its end cursor continues right after it.
    const stalled = calls >= maxCalls || callsWithoutProgress >= MAX_CALLS_WITHOUT_AN_EXECUTION;
    if (stalled && edges.length > 0) {
      hasNextPage = true;
      break;
    }
    if (callsWithoutProgress >= MAX_CALLS_WITHOUT_AN_EXECUTION) {
      // Without an edge there is no cursor to continue from; an upstream that pages on and on through empty
      // pages is answering something other than what its API describes.
      throw upstreamGraphQLError({ kind: 'unreadable_response', requestId: upstreamPage.requestId });
    }
    position = { token: upstreamPage.nextToken, size, skip: 0 };
  }

  return {
    edges,
    pageInfo: {
      hasNextPage,
      // Forward-only: the upstream cannot page backwards, and the Relay spec allows false here.
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

/** The upstream refused the request itself (HTTP 4xx other than auth): how a resized token is refused. */
function isRefusal(error: unknown): boolean {
  return error instanceof GraphQLError && error.extensions['code'] === ErrorCode.UPSTREAM_BAD_REQUEST;
}

function decodeCursor(cursors: CursorCodec, after: string, filterKey: string): UpstreamPosition {
  try {
    const position = cursors.decode(after, filterKey);
    if (position.size > MAX_UPSTREAM_PAGE_SIZE || position.skip >= position.size) {
      throw new CursorError('malformed cursor');
    }
    return position;
  } catch (error) {
    if (error instanceof CursorError)
      throw userInputError(`Invalid after cursor: ${error.message}.`, 'after');
    throw error;
  }
}
