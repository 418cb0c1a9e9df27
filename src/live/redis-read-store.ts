/**
 * The read cache's shared level in Redis (`ci/read-cache.ts`): plain keys with their lifetimes, written by any
 * replica, read by all. Redis out of reach is a miss, never an error: each replica answers from its own LRU and CI.
 */
import type { Redis } from 'ioredis';
import type { SharedReadStore } from '../ci/read-cache.js';

export function redisReadStore(client: Redis, onOutage: (error: unknown) => void): SharedReadStore {
  return {
    async get(keys) {
      if (keys.length === 0) return [];
      try {
        return (await client.mget(...keys)).map((value) => value ?? undefined);
      } catch (error) {
        onOutage(error);
        return keys.map(() => undefined);
      }
    },
    async set(key, value, ttlMs) {
      if (ttlMs <= 0) return;
      try {
        await client.set(key, value, 'PX', Math.ceil(ttlMs));
      } catch (error) {
        onOutage(error);
      }
    },
    async delete(key) {
      try {
        await client.del(key);
      } catch (error) {
        onOutage(error);
      }
    },
  };
}
