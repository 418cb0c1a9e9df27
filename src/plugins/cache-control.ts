/**
 * `Cache-Control` on GraphQL responses, computed from what the response read (`context.cacheHints`), for a
 * router's response cache or a CDN in front of GET queries:
 *
 * - a query whose every part succeeded may be reused for the shortest time any of its reads allows: seconds for
 *   pages and running runs, an hour for a finished run, which never changes again;
 * - anything else (a mutation, a subscription, any error, nothing read) is `no-store`;
 * - `private` whenever callers are authenticated, so a shared cache never hands one caller's answer to another;
 * - an answer from the response cache (`response-cache.ts`) for the seconds it has left.
 */
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { errorCodesOf } from '../error-codes.js';
import { CacheHints } from '../schema/cache-hints.js';
import { freshnessOf } from './response-cache.js';

export interface CacheControlOptions {
  readonly graphqlPath: string;
  /** Callers are authenticated: answers are for them alone. */
  readonly private: boolean;
}

/** What one operation of a request allows: seconds of reuse, or none. */
type Verdict = number | 'no-store';

export function useCacheControl(options: CacheControlOptions): Plugin {
  const verdicts = new WeakMap<Request, Verdict[]>();
  const queries = new WeakSet<object>();
  const record = (request: Request, verdict: Verdict) => {
    const list = verdicts.get(request);
    if (list) list.push(verdict);
    else verdicts.set(request, [verdict]);
  };
  return {
    onExecute({ args }) {
      if (getOperationAST(args.document, args.operationName)?.operation === 'query')
        queries.add(args.contextValue);
    },
    onExecutionResult({ request, result, context }) {
      const secondsLeft = freshnessOf(result);
      if (secondsLeft !== undefined) return record(request, secondsLeft);
      const single = result !== undefined && !Array.isArray(result) && !(Symbol.asyncIterator in result);
      const hints = 'cacheHints' in context ? context.cacheHints : undefined;
      const maxAge = hints instanceof CacheHints ? hints.maxAge : undefined;
      const clean = single && errorCodesOf(result).length === 0;
      record(request, clean && queries.has(context) && maxAge !== undefined ? maxAge : 'no-store');
    },
    onResponse({ request, response }) {
      if (new URL(request.url).pathname !== options.graphqlPath || response.headers.has('cache-control'))
        return;
      const found = verdicts.get(request) ?? ['no-store'];
      const seconds = found.filter((verdict) => verdict !== 'no-store');
      const maxAge = seconds.length < found.length ? undefined : Math.min(...seconds);
      response.headers.set(
        'cache-control',
        maxAge === undefined || response.status !== 200
          ? 'no-store'
          : `${options.private ? 'private' : 'public'}, max-age=${maxAge}`,
      );
    },
  };
}
