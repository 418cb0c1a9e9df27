/**
 * A per-caller limit on what callers really cost: upstream attempts, counted per minute. A request from a caller
 * already over the limit is answered 429 with `Retry-After` before it is parsed, so it makes no upstream call; a
 * request under it runs to completion and its attempts are counted as they happen (a caller can overdraw once,
 * by at most `MAX_UPSTREAM_CALLS_PER_REQUEST`, and then waits). The same refusal and the same count apply to
 * operations that do not come as HTTP requests (graphql-ws), through {@link RateLimit.refusal} and
 * {@link RateLimit.charge}.
 *
 * Counting is `rate-limiter-flexible`'s, in memory per replica: N replicas behind a load balancer let a caller
 * make up to N × the limit. Its Redis store is the way to one shared limit.
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { ErrorCode } from '../error-codes.js';

const WINDOW_SECONDS = 60;

export interface RateLimitOptions<ServerContext> {
  /** Upstream attempts per caller per minute. */
  readonly perMinute: number;
  /** Who is calling: the same key for the same caller across requests. */
  readonly callerKey: (request: Request, serverContext: ServerContext) => string;
}

export interface RateLimit<ServerContext extends object> {
  readonly plugin: Plugin<object, ServerContext>;
  /** The refusal for a caller over its limit; undefined for one under it. */
  refusal(callerKey: string): Promise<GraphQLError | undefined>;
  /** What counts one upstream attempt against this caller. */
  charge(callerKey: string): () => void;
}

export function useUpstreamRateLimit<ServerContext extends object>(
  options: RateLimitOptions<ServerContext>,
): RateLimit<ServerContext> {
  const limiter = new RateLimiterMemory({ points: options.perMinute, duration: WINDOW_SECONDS });
  const refusal = async (key: string) => {
    const usage = await limiter.get(key);
    if (usage === null || usage.consumedPoints < options.perMinute) return undefined;
    const retryAfterSeconds = Math.max(1, Math.ceil(usage.msBeforeNext / 1000));
    return new GraphQLError(
      `This caller has made ${options.perMinute} calls to the CI service in the last minute; retry in ${retryAfterSeconds} s.`,
      {
        extensions: {
          code: ErrorCode.RATE_LIMITED,
          retryAfterSeconds,
          http: { status: 429, headers: { 'retry-after': String(retryAfterSeconds) } },
        },
      },
    );
  };
  return {
    refusal,
    charge: (key) => () => void limiter.penalty(key, 1),
    plugin: {
      async onRequestParse({ request, serverContext }) {
        const refused = await refusal(options.callerKey(request, serverContext));
        if (refused) throw refused;
      },
    },
  };
}
