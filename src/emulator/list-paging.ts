/**
 * The token-paged lists (executions, batch triggers) as CI pages them: the common query parameters, checked as
 * strictly as CI checks them, items ordered by creation time, and a NextToken bound to the query that issued it.
 */
import type { CallContext } from './context.js';
import { invalid, parseSize, parseTime } from './params.js';

/** The parameters every token-paged list takes. */
export interface ListQuery {
  readonly size: number;
  readonly order: 'Asc' | 'Desc';
  readonly after: number | undefined;
  readonly before: number | undefined;
}

export function parseListQuery(query: URLSearchParams): ListQuery {
  const order = query.get('orderByTime') ?? 'Desc';
  if (order !== 'Asc' && order !== 'Desc') throw invalid('orderByTime must be Asc or Desc');
  return {
    size: parseSize(query.get('size')),
    order,
    after: parseTime(query.get('startCreationTime'), 'startCreationTime'),
    before: parseTime(query.get('endCreationTime'), 'endCreationTime'),
  };
}

/** Within the query's creation-time window, bounds inclusive. */
export function inWindow(list: ListQuery, createdAt: Date): boolean {
  const time = createdAt.getTime();
  return (
    (list.after === undefined || time >= list.after) && (list.before === undefined || time <= list.before)
  );
}

/**
 * One page of `matching` (sorted here by creation time, ties by id), from where the request's NextToken says, and
 * the token for the next page ('' on the last). `filter` names everything else the query filters by: a token is
 * only good for the query that issued it.
 */
export function tokenPage<T extends { readonly createdAt: Date }>(
  context: CallContext,
  query: URLSearchParams,
  list: ListQuery,
  filter: readonly unknown[],
  matching: readonly T[],
  idOf: (item: T) => string,
): { readonly page: readonly T[]; readonly nextToken: string } {
  const fingerprint = JSON.stringify([
    ...filter,
    list.order,
    list.after,
    list.before,
    context.pageTokensBoundToSize ? list.size : undefined,
  ]);
  const nextToken = query.get('nextToken');
  let offset = 0;
  if (nextToken !== null) {
    const resumed = context.tokens.resolve(nextToken, fingerprint);
    if (resumed === undefined) throw invalid('nextToken is invalid or belongs to another query');
    offset = resumed;
  }
  const sorted = matching.toSorted((a, b) => {
    const byTime = a.createdAt.getTime() - b.createdAt.getTime() || (idOf(a) < idOf(b) ? -1 : 1);
    return list.order === 'Asc' ? byTime : -byTime;
  });
  const page = sorted.slice(offset, offset + list.size);
  const end = offset + page.length;
  return { page, nextToken: end < sorted.length ? context.tokens.issue(fingerprint, end) : '' };
}
