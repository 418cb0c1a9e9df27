/**
 * A per-caller limit on what callers really cost: upstream attempts, counted per minute and per bucket, so a
 * caller's use of one bucket never spends its allowance for another. A call to a bucket the caller is over its
 * limit for is refused before it is made; a request from a caller over its limit on every bucket together (the
 * limit times the buckets served) is answered 429 with `Retry-After` before it is parsed. A request under the
 * limits runs and its attempts are counted as they happen (a caller can overdraw once, by at most
 * `MAX_UPSTREAM_CALLS_PER_REQUEST`, and then waits). The same refusals and counts apply to operations that do not
 * come as HTTP requests (graphql-ws), through {@link RateLimit.refusal}, {@link RateLimit.admit} and
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
  /** Upstream attempts per caller per bucket per minute. */
  readonly perMinute: number;
  /** How many buckets are served: a caller may use each one's allowance. @default 1 */
  readonly buckets?: number | undefined;
  /** Who is calling: the same key for the same caller across requests. */
  readonly callerKey: (request: Request, serverContext: ServerContext) => string;
}

export interface RateLimit<ServerContext extends object> {
  readonly plugin: Plugin<object, ServerContext>;
  /** The refusal for a caller over its limit on every bucket together; undefined for one under it. */
  refusal(callerKey: string): Promise<GraphQLError | undefined>;
  /** What refuses a call to a bucket this caller is over its limit for. */
  admit(callerKey: string): (bucketId: string) => Promise<void>;
  /** What counts one upstream attempt to a bucket against this caller. */
  charge(callerKey: string): (bucketId: string) => void;
}

export function useUpstreamRateLimit<ServerContext extends object>(
  options: RateLimitOptions<ServerContext>,
): RateLimit<ServerContext> {
  const overallPoints = options.perMinute * Math.max(1, options.buckets ?? 1);
  const perBucket = new RateLimiterMemory({ points: options.perMinute, duration: WINDOW_SECONDS });
  const overall = new RateLimiterMemory({ points: overallPoints, duration: WINDOW_SECONDS });
  const bucketKey = (callerKey: string, bucketId: string) => `${callerKey}\n${bucketId}`;
  const over = async (limiter: RateLimiterMemory, points: number, key: string, what: string) => {
    const usage = await limiter.get(key);
    if (usage === null || usage.consumedPoints < points) return undefined;
    const retryAfterSeconds = Math.max(1, Math.ceil(usage.msBeforeNext / 1000));
    return new GraphQLError(
      `This caller has made ${points} calls to the CI service${what} in the last minute; retry in ${retryAfterSeconds} s.`,
      {
        extensions: {
          code: ErrorCode.RATE_LIMITED,
          retryAfterSeconds,
          http: { status: 429, headers: { 'retry-after': String(retryAfterSeconds) } },
        },
      },
    );
  };
  const refusal = (callerKey: string) => over(overall, overallPoints, callerKey, '');
  return {
    refusal,
    admit: (callerKey) => async (bucketId) => {
      const refused = await over(
        perBucket,
        options.perMinute,
        bucketKey(callerKey, bucketId),
        ` for ${bucketId}`,
      );
      if (refused) throw refused;
    },
    charge: (callerKey) => (bucketId) => {
      void perBucket.penalty(bucketKey(callerKey, bucketId), 1);
      void overall.penalty(callerKey, 1);
    },
    plugin: {
      async onRequestParse({ request, serverContext }) {
        const refused = await refusal(options.callerKey(request, serverContext));
        if (refused) throw refused;
      },
    },
  };
}
