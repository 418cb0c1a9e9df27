/**
 * Identical reads answered once for every replica: envelop's response cache (`@envelop/response-cache`) over a
 * store the replicas share (`live/redis-response-store.ts`). Envelop's, not yoga's wrapper of it: the wrapper keys
 * answers in yoga's request hooks, which graphql-ws operations never pass, so it fails them; envelop's keys them
 * where they execute, the same on every transport (and a mutation over a WebSocket evicts as one over HTTP does).
 *
 * - Identical means the same document, variables and access scope (`sessionOf`: what the caller may read, not who
 *   the caller is), so callers with the same rights share one answer and no answer reaches a caller who could not
 *   have read it.
 * - An answer is kept for the max-age its own reads allowed (`context.cacheHints`, as `Cache-Control` says): a page
 *   or a running run for seconds, a finished run for an hour. What has no max-age (errors, mutations,
 *   introspection, `_service`) is never kept.
 * - A mutation evicts every answer showing what it returned (the plugin's own rule); a CI callback evicts every
 *   answer showing the run it names (the services call the store's `evict`). A new run appears in cached
 *   pages when their seconds are up.
 * - A hit says how many seconds it has left, through {@link freshnessOf}, so `Cache-Control` stays truthful.
 */
import { type Cache, useResponseCache } from '@envelop/response-cache';
import type { ExecutionResult } from 'graphql';
import type { Plugin, YogaInitialContext } from 'graphql-yoga';
import type { ResponseStore } from '../live/redis-response-store.js';
import { CacheHints } from '../schema/cache-hints.js';

/** Larger answers are not kept: a handful of them must not crowd out thousands of ordinary pages. */
export const MAX_KEPT_ANSWER_BYTES = 256 * 1024;

/** Seconds a cached answer has left, on the answer a hit returns. */
const FRESHNESS = Symbol('seconds left');

/** What the store keeps for one answer. */
interface KeptAnswer {
  readonly storedAt: number;
  readonly ttlMs: number;
  readonly result: ExecutionResult;
}

export interface ResponseCacheOptions<ServerContext> {
  readonly store: ResponseStore;
  /**
   * The access scope of an operation's caller: answers are shared between operations with the same one only. Its
   * context holds its request and, merged in, its server context (a WebSocket operation's `socket` among them).
   */
  readonly sessionOf: (request: Request, serverContext: ServerContext) => string;
  readonly now?: () => number;
}

export function useSharedResponseCache<ServerContext>(
  options: ResponseCacheOptions<ServerContext>,
): Plugin<YogaInitialContext & ServerContext> {
  const now = options.now ?? Date.now;
  const cache: Cache = {
    async get(key) {
      const kept = await options.store.get(key);
      if (kept === undefined) return undefined;
      const answer = JSON.parse(kept) as KeptAnswer;
      const secondsLeft = Math.floor((answer.storedAt + answer.ttlMs - now()) / 1000);
      return secondsLeft < 0 ? undefined : Object.assign(answer.result, { [FRESHNESS]: secondsLeft });
    },
    async set(key, result, shows, ttlMs) {
      const kept: KeptAnswer = { storedAt: now(), ttlMs, result };
      const value = JSON.stringify(kept);
      if (value.length > MAX_KEPT_ANSWER_BYTES) return;
      await options.store.set(key, value, shows, ttlMs);
    },
    invalidate: (entities) => options.store.evict(entities),
  };
  return useResponseCache<YogaInitialContext & ServerContext>({
    cache,
    session: (context) => options.sessionOf(context.request, context),
    // Not the schema's types: the reads the answer made say how long it stays true.
    onTtl: ({ context }) => {
      const hints = 'cacheHints' in context ? context.cacheHints : undefined;
      return hints instanceof CacheHints && hints.maxAge !== undefined ? hints.maxAge * 1000 : 0;
    },
    includeExtensionMetadata: false,
  });
}

/** Seconds a result served from the response cache may still be reused; undefined for a result just computed. */
export function freshnessOf(result: unknown): number | undefined {
  if (typeof result !== 'object' || result === null || !(FRESHNESS in result)) return undefined;
  const seconds: unknown = result[FRESHNESS];
  return typeof seconds === 'number' ? seconds : undefined;
}
