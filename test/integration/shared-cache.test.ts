/**
 * The read cache's shared level in a real redis-server: a finished run one replica read is answered to another with
 * no call to CI; with Redis out of reach every read is a miss, never an error.
 */
import { describe, expect, it } from 'vitest';
import { ReadCache } from '../../src/ci/read-cache.js';
import { redisReadStore } from '../../src/live/redis-read-store.js';
import { startEmulator } from '../support/emulator.js';
import { closeAfterEach } from '../support/gateway.js';
import { demoExecutions } from '../support/oracle.js';
import { redisTestsCanRun, unreachableRedis, useRedisServer } from '../support/redis.js';

const track = closeAfterEach();

describe.skipIf(!redisTestsCanRun())('the shared read cache in Redis', () => {
  const redis = useRedisServer();

  it('answers a finished run read by one replica to the other with no call to CI', async () => {
    const fixture = track(await startEmulator());
    const prefix = 'ci-gateway:cache:demo-1250000000:';
    const replica = () => {
      const store = redisReadStore(redis.client(), (error) => {
        throw error;
      });
      return fixture.client({ cache: new ReadCache({ shared: { store, prefix } }) });
    };
    const finished = demoExecutions().find((run) => run.state === 'Success');
    if (!finished) throw new Error('the demo has finished runs');
    const [a, b] = [replica(), replica()];
    const first = await a.getWorkflowExecution(finished.runId as never);
    fixture.emulator.clearRequests();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await b.getWorkflowExecution(finished.runId as never)).toEqual(first);
    expect(fixture.emulator.requests).toHaveLength(0);
  });

  it('misses, saying so, when Redis is out of reach', async () => {
    const gone = unreachableRedis();
    const outages: unknown[] = [];
    const store = redisReadStore(gone, (error) => outages.push(error));
    await store.set('k', 'v', 1_000);
    expect(await store.get(['k', 'l'])).toEqual([undefined, undefined]);
    await store.delete('k');
    expect(outages.length).toBe(3);
  });
});
