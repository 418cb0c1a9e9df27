/**
 * Forward-only Relay paging over CI's page tokens.
 *
 * Each query makes one upstream call per upstream page it touches. The first query of a walk starts a token chain
 * with an upstream page size equal to `first` (at most the upstream's 100), so a client that keeps its `first`
 * gets exactly one upstream call per query, and an `endCursor` that falls on an upstream page boundary resumes
 * with the next token directly. Continuing a token always reuses the size it was issued with: whether the
 * upstream accepts another size mid-chain is not documented.
 */
import type {
  ExecutionState,
  SortOrder,
  WorkflowExecutionPage,
  WorkflowExecutionSummary,
} from '../ci/types.js';
import { MAX_UPSTREAM_PAGE_SIZE } from '../ci/types.js';
import type { GatewayServices, GraphQLContext } from './context.js';
import { type CursorCodec, CursorError, fingerprint, type UpstreamPosition } from './cursor.js';
import { upstreamGraphQLError, userInputError } from './errors.js';

export interface ExecutionFilter {
  readonly workflowId: string;
  readonly objectKey?: string | undefined;
  readonly states?: readonly ExecutionState[] | undefined;
  readonly createdAfter?: Date | undefined;
  readonly createdBefore?: Date | undefined;
  readonly batchJobId?: string | undefined;
  readonly order: SortOrder;
}

export interface ExecutionEdge {
  readonly cursor: string;
  readonly node: WorkflowExecutionSummary;
}

export interface ExecutionConnection {
  readonly edges: readonly ExecutionEdge[];
  readonly pageInfo: {
    readonly hasNextPage: boolean;
    readonly hasPreviousPage: boolean;
    readonly startCursor: string | null;
    readonly endCursor: string | null;
  };
}

/** How many empty upstream pages (each with a NextToken) one query reads before giving up. */
const MAX_CALLS_WITHOUT_AN_EXECUTION = 10;

/** `first` when a query does not say. */
export const DEFAULT_PAGE_SIZE = 10;

export interface PageRequest {
  /** Absent or null means {@link DEFAULT_PAGE_SIZE}. */
  readonly first?: number | null | undefined;
  readonly after?: string | null | undefined;
}

/** Validates the arguments, then walks upstream pages until `first` executions (or the end) are collected. */
export async function paginateExecutions(
  context: Pick<GraphQLContext, 'listExecutions'> & {
    readonly services: Pick<GatewayServices, 'cursors' | 'maxPageSize'>;
  },
  rawFilter: ExecutionFilter,
  pageRequest: PageRequest,
): Promise<ExecutionConnection> {
  const { cursors, maxPageSize } = context.services;
  const first = pageRequest.first ?? DEFAULT_PAGE_SIZE;
  const { after } = pageRequest;
  if (!Number.isInteger(first) || first < 1 || first > maxPageSize) {
    throw userInputError(`first must be between 1 and ${maxPageSize}`, 'first');
  }
  const filter = normalizeFilter(rawFilter);
  const filterKey = fingerprint(filter);
  let position: UpstreamPosition =
    after !== undefined && after !== null
      ? decodeCursor(cursors, after, filterKey)
      : { token: null, size: Math.min(first, MAX_UPSTREAM_PAGE_SIZE), skip: 0 };

  const edges: ExecutionEdge[] = [];
  // Enough calls for `first` items from this position, plus slack for short upstream pages; never unbounded.
  const maxCalls = Math.ceil((position.skip + first) / position.size) + 2;
  let hasNextPage = false;
  for (let call = 1; ; call += 1) {
    const upstreamPage: WorkflowExecutionPage = await context.listExecutions({
      ...filter,
      size: position.size,
      nextToken: position.token ?? undefined,
    });
    const items = upstreamPage.executions;
    let index = position.skip;
    for (; index < items.length && edges.length < first; index += 1) {
      const atPageEnd = index === items.length - 1 && upstreamPage.nextToken !== null;
      const resumeAt: UpstreamPosition = atPageEnd
        ? { token: upstreamPage.nextToken, size: position.size, skip: 0 }
        : { token: position.token, size: position.size, skip: index + 1 };
      edges.push({
        cursor: cursors.encode(filterKey, resumeAt),
        node: items[index] as WorkflowExecutionSummary,
      });
    }
    if (edges.length === first) {
      hasNextPage = index < items.length || upstreamPage.nextToken !== null;
      break;
    }
    if (upstreamPage.nextToken === null) break;
    if (call >= maxCalls && edges.length > 0) {
      // The upstream keeps answering short pages: return what we have; the end cursor continues from here.
      hasNextPage = true;
      break;
    }
    if (call >= MAX_CALLS_WITHOUT_AN_EXECUTION) {
      // Without an edge there is no cursor to continue from; an upstream that pages on and on through empty
      // pages is answering something other than what its API describes.
      throw upstreamGraphQLError({ kind: 'unreadable_response', requestId: upstreamPage.requestId });
    }
    position = { token: upstreamPage.nextToken, size: position.size, skip: 0 };
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

function decodeCursor(cursors: CursorCodec, after: string, filterKey: string): UpstreamPosition {
  try {
    const position = cursors.decode(after, filterKey);
    if (position.size > MAX_UPSTREAM_PAGE_SIZE) throw new CursorError('malformed cursor');
    return position;
  } catch (error) {
    if (error instanceof CursorError)
      throw userInputError(`Invalid after cursor: ${error.message}.`, 'after');
    throw error;
  }
}

/** Validates the filter and puts it in one canonical form, so equal filters give equal cursors. */
function normalizeFilter(filter: ExecutionFilter): ExecutionFilter {
  if (filter.workflowId.trim() === '') throw userInputError('filter.workflowId must not be empty', 'filter');
  if (filter.objectKey === '')
    throw userInputError('filter.objectKey must not be empty; omit it to match every object', 'filter');
  if (filter.batchJobId === '')
    throw userInputError('filter.batchJobId must not be empty; omit it to match every run', 'filter');
  if (filter.states?.length === 0) {
    throw userInputError('filter.states must not be empty; omit it to match every state', 'filter');
  }
  if (filter.createdAfter && filter.createdBefore && filter.createdAfter > filter.createdBefore) {
    throw userInputError('filter.createdAfter must not be later than filter.createdBefore', 'filter');
  }
  return {
    workflowId: filter.workflowId,
    objectKey: filter.objectKey,
    states: filter.states && [...new Set(filter.states)].sort(),
    createdAfter: filter.createdAfter,
    createdBefore: filter.createdBefore,
    batchJobId: filter.batchJobId,
    order: filter.order,
  };
}
