/**
 * The response cache's store in Redis (`plugins/response-cache.ts`), shared by every replica: each answer under its
 * key for its max-age, and for each run, workflow or job it shows a set of the answers showing it, so a callback or
 * a mutation taken by one replica evicts them for all. Every key expires (an answer with its max-age, a set with the
 * longest answer in it), so nothing grows without bound; Redis out of reach is a miss, never an error.
 */
import type { Redis } from 'ioredis';

/** A GraphQL object an answer shows, as the response cache names it: its type and its `id`. */
export interface ShownEntity {
  readonly typename: string;
  readonly id?: string | number | undefined;
}

export interface ResponseStore {
  get(key: string): Promise<string | undefined>;
  /** Keeps an answer for `ttlMs`, findable by each entity it shows. */
  set(key: string, value: string, shows: Iterable<ShownEntity>, ttlMs: number): Promise<void>;
  /** Forgets every answer that shows one of these entities (those without an id name none). */
  evict(entities: Iterable<ShownEntity>): Promise<void>;
}

const ANSWER_PREFIX = 'ci-gateway:response:';
const SHOWN_PREFIX = 'ci-gateway:response-shows:';

/**
 * KEYS[1]: the answer; KEYS[2..]: the sets of the entities it shows. ARGV: the answer, its lifetime in ms. A set
 * lives as long as its longest-lived answer (a fresh set has no lifetime yet: PTTL answers -1).
 */
const SET = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local ttl = tonumber(ARGV[2])
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end`;
/** KEYS: the sets of the entities that changed. Deletes every answer in them, then the sets. */
const EVICT = `
for i = 1, #KEYS do
  local answers = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #answers, 500 do
    redis.call('DEL', unpack(answers, j, math.min(j + 499, #answers)))
  end
  redis.call('DEL', KEYS[i])
end`;

const shownKey = (entity: ShownEntity) => `${SHOWN_PREFIX}${entity.typename}:${String(entity.id)}`;
const withId = (entities: Iterable<ShownEntity>) =>
  [...entities].filter((entity) => entity.id !== undefined && entity.id !== null);

export function redisResponseStore(client: Redis, onOutage: (error: unknown) => void): ResponseStore {
  return {
    async get(key) {
      try {
        return (await client.get(ANSWER_PREFIX + key)) ?? undefined;
      } catch (error) {
        onOutage(error);
        return undefined;
      }
    },
    async set(key, value, shows, ttlMs) {
      if (ttlMs <= 0) return;
      const sets = [...new Set(withId(shows).map(shownKey))];
      try {
        await client.eval(
          SET,
          1 + sets.length,
          ANSWER_PREFIX + key,
          ...sets,
          value,
          String(Math.ceil(ttlMs)),
        );
      } catch (error) {
        onOutage(error);
      }
    },
    async evict(entities) {
      const sets = [...new Set(withId(entities).map(shownKey))];
      if (sets.length === 0) return;
      try {
        await client.eval(EVICT, sets.length, ...sets);
      } catch (error) {
        onOutage(error);
      }
    },
  };
}
