/** Redis for the tests that need one: whether it can run here, and a throwaway server for a describe block. */
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll, onTestFinished } from 'vitest';
import { type RunningRedis, redisServerAvailable, startRedis } from './processes.js';

/**
 * Whether `redis-server` can run here. CI installs it and sets `REDIS_TESTS=required`, so there its absence fails
 * the run instead of skipping the tests.
 */
export function redisTestsCanRun(): boolean {
  const available = redisServerAvailable();
  if (!available && process.env['REDIS_TESTS'] === 'required') {
    throw new Error('REDIS_TESTS=required but redis-server cannot be started');
  }
  return available;
}

/**
 * For the describe block it is called in: a redis-server started before its tests, and the clients made on it,
 * all closed after them.
 */
export function useRedisServer(): { url(): string; client(options?: RedisOptions): Redis } {
  let redis: RunningRedis | undefined;
  const clients: Redis[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await redis?.stop();
  });
  const url = () => {
    if (!redis) throw new Error('redis-server is not started yet');
    return redis.url;
  };
  return {
    url,
    client(options = {}) {
      const made = new Redis(url(), options);
      clients.push(made);
      return made;
    },
  };
}

/**
 * A client of a Redis that is not there (port 1), failing each command at once, disconnected when the test ends:
 * what the stores meet in an outage.
 */
export function unreachableRedis(): Redis {
  const gone = new Redis('redis://127.0.0.1:1', {
    maxRetriesPerRequest: 0,
    commandTimeout: 200,
    lazyConnect: true,
    retryStrategy: () => null,
  });
  gone.on('error', () => {});
  onTestFinished(() => gone.disconnect());
  return gone;
}
