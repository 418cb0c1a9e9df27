/**
 * Live updates across replicas, through Redis: events on Redis pub/sub (yoga's own `@graphql-yoga/redis-event-target`,
 * on `ioredis`), so a callback taken by one replica reaches subscribers on every other, and poll leases as Redis
 * keys, so each watched key is polled by one replica at a time.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
import type { GovernorStore } from '../ci/governor.js';
import type { SharedReadStore } from '../ci/read-cache.js';
import { DATE_PRESERVING_JSON } from '../records.js';
import type { PollLeases } from './poller.js';
import { redisGovernorStore } from './redis-governor.js';
import { redisReadStore } from './redis-read-store.js';
import { type ResponseStore, redisResponseStore } from './redis-response-store.js';

/** Keys this gateway writes; its channels are named by live updates' topics. */
const LEASE_PREFIX = 'ci-gateway:poll-lease:';
/** What each bucket id means to the replicas sharing this Redis (see {@link RedisLive.claimBuckets}). */
const BUCKET_PREFIX = 'ci-gateway:bucket:';
/** How long a bucket's meaning outlives the last replica that refreshes it. */
const BUCKET_CLAIM_TTL_MS = 60_000;
/** Longest wait for Redis on one command: a lease nobody can confirm is treated as held (see KeyPoller). */
const COMMAND_TIMEOUT_MS = 2_000;

/** Takes the lease when free, renews it when ours; one round trip, no race between the check and the write. */
const HOLD = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;
/**
 * Claims a bucket id for a meaning (its fingerprint), or keeps the claim alive when it already means the same;
 * answers the other meaning when another replica claimed it differently.
 */
const CLAIM = `
local held = redis.call('GET', KEYS[1])
if not held or held == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return false
end
return held`;
/** Deletes the lease only if it is still ours: it may have run out and been taken meanwhile. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

export interface RedisLive {
  readonly eventTarget: ReturnType<typeof createRedisEventTarget>;
  readonly leases: PollLeases;
  /** CI's quota buckets, one per account for every replica; this process's own while Redis is out of reach. */
  readonly quota: GovernorStore;
  /** The read cache's level every replica shares. */
  readonly reads: SharedReadStore;
  /** Whole answers to identical reads, for every replica. */
  readonly responses: ResponseStore;
  /** This process's name on its leases: host, pid and a random tag. */
  readonly replicaId: string;
  /**
   * Claims each bucket id for what it means here (a fingerprint of its region, endpoint and account), and keeps
   * the claims alive until closed. Events and leases are keyed by bucket id, so replicas sharing this Redis must
   * agree on what each id means: answers the ids another live replica means differently (none: all agreed).
   * Replicas serving different sets of buckets share it safely.
   */
  claimBuckets(fingerprints: ReadonlyMap<string, string>): Promise<string[]>;
  close(): Promise<void>;
}

export interface RedisLiveOptions {
  readonly logger: { warn(fields: object, message: string): void };
  /** How long to wait for Redis at start before giving up. */
  readonly connectTimeoutMs?: number;
}

/** Connects two clients (pub/sub needs one of its own) and resolves once Redis answers. */
export async function connectRedisLive(url: string, options: RedisLiveOptions): Promise<RedisLive> {
  const replicaId = `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
  const clientOptions = {
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    maxRetriesPerRequest: 1,
  };
  const publishClient = new Redis(url, clientOptions);
  const subscribeClient = new Redis(url, clientOptions);
  /**
   * Redis going away is an outage to ride out, not a bug: ioredis reconnects (and resubscribes) by itself, and a
   * command that fails meanwhile (a publish, a subscribe) is lost. Each client says so once per outage, whether it
   * noticed by its connection or by a command.
   */
  const outageOf = (role: 'publish' | 'subscribe', client: Redis) => {
    let down = false;
    // Whatever a command rejected with, or the connection's error.
    const lost = (error: unknown) => {
      if (down) return;
      down = true;
      const reason = error instanceof Error ? error.message : String(error);
      options.logger.warn({ role, reason }, 'redis: connection lost; reconnecting');
    };
    client.on('error', lost);
    client.on('ready', () => {
      if (down) options.logger.warn({ role }, 'redis: connection back');
      down = false;
    });
    return lost;
  };
  const publishLost = outageOf('publish', publishClient);
  /** Said once per outage: meanwhile each replica governs CI's quota alone. */
  let quotaAlone = false;
  const quotaOutage = () => {
    if (quotaAlone) return;
    quotaAlone = true;
    options.logger.warn({}, 'redis: CI quota governed by this replica alone until Redis is back');
  };
  publishClient.on('ready', () => {
    quotaAlone = false;
  });
  const subscribeLost = outageOf('subscribe', subscribeClient);
  let claimTimer: NodeJS.Timeout | undefined;
  const close = async () => {
    clearInterval(claimTimer);
    await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
  };
  const claim = async (fingerprints: ReadonlyMap<string, string>): Promise<string[]> => {
    const conflicts: string[] = [];
    for (const [bucketId, fingerprint] of fingerprints) {
      const other = await publishClient.eval(
        CLAIM,
        1,
        BUCKET_PREFIX + bucketId,
        fingerprint,
        String(BUCKET_CLAIM_TTL_MS),
      );
      if (typeof other === 'string') conflicts.push(bucketId);
    }
    return conflicts;
  };
  try {
    await Promise.all([publishClient.ping(), subscribeClient.ping()]);
  } catch (error) {
    publishClient.disconnect();
    subscribeClient.disconnect();
    throw error;
  }

  const leases: PollLeases = {
    shared: true,
    async hold(key, ttlMs) {
      try {
        const held = await publishClient.eval(HOLD, 1, leaseKey(key), replicaId, String(Math.ceil(ttlMs)));
        return held === 1;
      } catch (error) {
        // Nobody can confirm the lease: poll rather than leave the key unwatched (a duplicate read is harmless,
        // silence is not). Said once per outage, not once per key and renewal.
        publishLost(error);
        return true;
      }
    },
    async release(key) {
      await publishClient.eval(RELEASE, 1, leaseKey(key), replicaId).catch(publishLost);
    },
  };
  // yoga's event target fires its publish and (un)subscribe commands without waiting on them: their failures are
  // handled here, or each one would be an unhandled rejection.
  const eventTarget = createRedisEventTarget({
    publishClient: withHandledCommands(publishClient, ['publish'], publishLost),
    subscribeClient: withHandledCommands(subscribeClient, ['subscribe', 'unsubscribe'], subscribeLost),
    serializer: DATE_PRESERVING_JSON,
  });
  return {
    eventTarget,
    leases,
    reads: redisReadStore(publishClient, publishLost),
    responses: redisResponseStore(publishClient, publishLost),
    quota: redisGovernorStore(publishClient, (error) => {
      publishLost(error);
      quotaOutage();
    }),
    replicaId,
    close,
    async claimBuckets(fingerprints) {
      const conflicts = await claim(fingerprints);
      if (conflicts.length > 0) return conflicts;
      clearInterval(claimTimer);
      claimTimer = setInterval(() => {
        claim(fingerprints).catch(publishLost);
      }, BUCKET_CLAIM_TTL_MS / 3);
      claimTimer.unref();
      return [];
    },
  };
}

/** The client, with these commands' failures passed to `onFailure` as well as to whoever awaits them. */
function withHandledCommands(
  client: Redis,
  commands: readonly string[],
  onFailure: (error: unknown) => void,
): Redis {
  const handled = new Set(commands);
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property !== 'string' || !handled.has(property) || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result: unknown = value.apply(target, args);
        if (result instanceof Promise) result.catch(onFailure);
        return result;
      };
    },
  });
}

/** The Redis key of a watched key's lease, for operators (and tests) who want to see who polls what. */
export const leaseKey = (key: string) => LEASE_PREFIX + key;
