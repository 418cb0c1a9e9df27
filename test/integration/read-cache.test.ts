/** Finished runs, their finished media jobs and recent workflow lookups are answered without asking CI again; nothing else is. */
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { assume, runIdRule } from '../../src/ci/inputs.js';
import { ReadCache } from '../../src/ci/read-cache.js';
import type { WorkflowExecutionDetail } from '../../src/ci/types.js';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { EMULATED_BUCKET } from '../support/emulator.js';
import { closeAfterEach, startGateway } from '../support/gateway.js';
import { demoExecutions } from '../support/oracle.js';

const closeLater = closeAfterEach();
const gateway = async (cache: ReadCache) => closeLater(await startGateway({ client: { cache } }));

const runIn = (state: string) =>
  demoExecutions().find((execution) => execution.state === state)?.runId as string;
const detailQuery = (runId: string) =>
  `{ workflowExecution(runId: "${runId}") { state tasks { type state } } }`;

describe('finished runs', () => {
  it.each(['Success', 'Failed', 'Cancel'])('answers a %s run’s second read from the cache', async (state) => {
    const cache = new ReadCache();
    const fixture = await gateway(cache);
    const first = await fixture.query(detailQuery(runIn(state)));
    const second = await fixture.query(detailQuery(runIn(state)));
    expect(second).toEqual(first);
    expect(fixture.emulator.requests).toHaveLength(1);
    expect(cache.detailCounts).toEqual({ hits: 1, misses: 1 });
  });

  it('answers a finished run’s media jobs from the cache too: the second look costs CI nothing', async () => {
    const cache = new ReadCache();
    const fixture = await gateway(cache);
    const query = `{ workflowExecution(runId: "${runIn('Success')}") { tasks { job { state progress } } } }`;
    const first = await fixture.query(query);
    expect(fixture.emulator.requests.map((request) => request.path.split('/')[1])).toEqual([
      'workflowexecution',
      'jobs',
    ]);
    fixture.emulator.clearRequests();
    expect(await fixture.query(query)).toEqual(first);
    expect(fixture.emulator.requests).toHaveLength(0);
    expect(cache.jobCounts).toEqual({ hits: 2, misses: 2 });
  });

  it.each(['Running', 'Pause'])('always asks CI about a %s run', async (state) => {
    const fixture = await gateway(new ReadCache());
    await fixture.query(detailQuery(runIn(state)));
    await fixture.query(detailQuery(runIn(state)));
    expect(fixture.emulator.requests).toHaveLength(2);
  });

  it('keeps at most the configured number of runs, least recently used out first', async () => {
    const cache = new ReadCache({ detailEntries: 2 });
    const details = ['a', 'b', 'c'].map((letter) =>
      detail(
        letter
          .repeat(32)
          .slice(0, 32)
          .replace(/[^0-9a-f]/g, 'a'),
        letter,
      ),
    );
    for (const item of details.slice(0, 2)) cache.rememberDetail(item);
    expect(await cache.detail(details[0]?.runId as never)).toBeDefined(); // a is now the most recently used
    cache.rememberDetail(details[2] as WorkflowExecutionDetail);
    expect(await cache.detail(details[1]?.runId as never)).toBeUndefined();
    expect(await cache.detail(details[0]?.runId as never)).toBeDefined();
    expect(await cache.detail(details[2]?.runId as never)).toBeDefined();
  });

  it('keeps at most the configured number of bytes', async () => {
    const cache = new ReadCache({ detailEntries: 1_000, detailBytes: 5_000 });
    const big = Array.from({ length: 10 }, (_, index) =>
      detail(index.toString(16).padStart(32, '0'), 'x'.repeat(500)),
    );
    for (const item of big) cache.rememberDetail(item);
    const found = await Promise.all(big.map((item) => cache.detail(item.runId as never)));
    const kept = big.filter((_, index) => found[index] !== undefined);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(big.length);
    expect(kept.at(-1)).toBe(big.at(-1));
  });
});

describe('workflow lookups', () => {
  it('reuses a lookup for its TTL, then asks again, and asks only for what it lacks', async () => {
    const cache = new ReadCache({ workflowTtlMs: 150 });
    const fixture = await gateway(cache);
    const names = (ids: string[]) =>
      fixture.query(
        `{ ${ids.map((id, index) => `w${index}: workflow(workflowId: "${id}") { name }`).join(' ')} }`,
      );
    await names([DEMO_WORKFLOW_IDS.large]);
    await names([DEMO_WORKFLOW_IDS.large]);
    expect(fixture.emulator.requests).toHaveLength(1);
    await names([DEMO_WORKFLOW_IDS.large, DEMO_WORKFLOW_IDS.single]);
    expect(fixture.emulator.requests).toHaveLength(2);
    expect(fixture.emulator.requests[1]?.params['ids']).toBe(DEMO_WORKFLOW_IDS.single);
    await delay(200);
    await names([DEMO_WORKFLOW_IDS.large]);
    expect(fixture.emulator.requests).toHaveLength(3);
  });

  it('is off with a TTL of 0', async () => {
    const fixture = await gateway(new ReadCache({ workflowTtlMs: 0 }));
    const query = `{ workflow(workflowId: "${DEMO_WORKFLOW_IDS.large}") { name } }`;
    await fixture.query(query);
    await fixture.query(query);
    expect(fixture.emulator.requests).toHaveLength(2);
  });
});

function detail(hex: string, text: string): WorkflowExecutionDetail {
  return {
    bucketId: EMULATED_BUCKET,
    runId: assume(runIdRule, `i${hex}`),
    workflowId: DEMO_WORKFLOW_IDS.large,
    objectKey: text,
    state: 'Success',
    createdAt: new Date(0),
    requestId: undefined,
    workflowName: text,
    tasks: [],
  };
}
