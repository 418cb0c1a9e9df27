/**
 * The CI quota governor's buckets in Redis, so every replica draws from one bucket per account: the arithmetic of
 * `ci/governor.ts` (refill, priorities, AIMD) as one Lua script per step, atomic on the server. Redis out of reach:
 * the step is taken in this process's own buckets instead (said once per outage), so the gateway never stops
 * serving for want of Redis; it governs per replica until Redis is back.
 */
import type { Redis } from 'ioredis';
import {
  type CallPriority,
  type GovernorStore,
  LocalGovernorStore,
  MIN_RATE_SHARE,
  PRIORITY_RESERVE,
  RECOVERY_PER_SECOND,
  type TakeResult,
  THROTTLE_EPISODE_MS,
  THROTTLED_FACTOR,
} from '../ci/governor.js';

const KEY_PREFIX = 'ci-gateway:quota:';
/** A bucket nobody has drawn from for this long is forgotten (it would be full again anyway). */
const IDLE_TTL_MS = 60_000;

/** Brings the bucket in KEYS[1] up to ARGV[2] (now, ms) for limit ARGV[1]; what `refill` does. */
const REFILL = `
local limit = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'rate', 'at')
local tokens, rate, at = tonumber(state[1]), tonumber(state[2]), tonumber(state[3])
if not tokens then
  tokens, rate, at = limit, limit, now
end
local seconds = math.max(0, now - at) / 1000
local recovered = math.min(limit, rate + limit * ${RECOVERY_PER_SECOND} * seconds)
tokens = math.min(math.max(1, recovered), tokens + seconds * rate)
rate = recovered
`;

const SAVE = `
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'rate', tostring(rate), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ${IDLE_TTL_MS})
`;

/** ARGV[3]: the priority's reserve share. Answers {granted (0/1), waitMs}. */
const TAKE = `${REFILL}
local reserve = math.max(1, rate) * tonumber(ARGV[3])
local granted, wait = 0, 0
if tokens - 1 >= reserve - 1e-9 then
  tokens = tokens - 1
  granted = 1
else
  wait = math.ceil(((reserve + 1 - tokens) / math.max(rate, 0.001)) * 1000)
end
${SAVE}
return {granted, wait}`;

/** What `throttle` does: one cut per episode (the time of the last is the hash's `cut` field). */
const THROTTLED = `${REFILL}
local cut = tonumber(redis.call('HGET', KEYS[1], 'cut'))
if not cut or now - cut >= ${THROTTLE_EPISODE_MS} then
  rate = math.max(limit * ${MIN_RATE_SHARE}, rate * ${THROTTLED_FACTOR})
  redis.call('HSET', KEYS[1], 'cut', tostring(now))
end
tokens = math.min(tokens, 0)
${SAVE}
return 1`;

export function redisGovernorStore(
  client: Redis,
  onOutage: (error: unknown) => void,
  fallback: GovernorStore = new LocalGovernorStore(),
): GovernorStore {
  return {
    async take(account, limit, priority: CallPriority, now): Promise<TakeResult> {
      try {
        const answer: unknown = await client.eval(
          TAKE,
          1,
          KEY_PREFIX + account,
          String(limit),
          String(now),
          String(PRIORITY_RESERVE[priority]),
        );
        const [granted, waitMs] = Array.isArray(answer) ? answer : [];
        return { granted: granted === 1, waitMs: typeof waitMs === 'number' ? waitMs : 0 };
      } catch (error) {
        onOutage(error);
        return fallback.take(account, limit, priority, now);
      }
    },
    async throttled(account, limit, now) {
      try {
        await client.eval(THROTTLED, 1, KEY_PREFIX + account, String(limit), String(now));
      } catch (error) {
        onOutage(error);
        await fallback.throttled(account, limit, now);
      }
    },
  };
}
