/** Settled windows' statistics: kept per replica, shared through the store, and checked before they are believed. */
import { describe, expect, it } from 'vitest';
import type { SharedReadStore } from '../../src/ci/read-cache.js';
import { SETTLED_STATS_TTL_MS, SettledStats } from '../../src/stats/settled-stats.js';
import type { WorkflowStats } from '../../src/stats/workflow-stats.js';

const window = {
  bucketId: 'media-1250000000',
  workflowId: `w${'2'.repeat(32)}`,
  from: new Date('2026-11-01T00:00:00Z'),
  to: new Date('2026-11-02T00:00:00Z'),
};
const stats: WorkflowStats = {
  from: window.from,
  to: window.to,
  scannedRuns: 3,
  detailedRuns: 3,
  complete: true,
  byState: [{ state: 'Success', count: 3 }],
  timeline: [{ from: window.from, to: window.to, byState: [{ state: 'Success', count: 3 }] }],
  failureReasons: [],
  durations: { p50: 10, p90: 12, p99: 12, runs: 3 },
  stuckRuns: [],
};

function memoryStore() {
  const values = new Map<string, { value: string; ttlMs: number }>();
  const store: SharedReadStore = {
    get: async (keys) => keys.map((key) => values.get(key)?.value),
    set: async (key, value, ttlMs) => void values.set(key, { value, ttlMs }),
    delete: async (key) => void values.delete(key),
  };
  return { store, values };
}

describe('SettledStats', () => {
  it('answers a window one replica settled to another, with its dates, for a day', async () => {
    const { store, values } = memoryStore();
    new SettledStats(store).set(window, stats);
    expect([...values.values()].map((entry) => entry.ttlMs)).toEqual([SETTLED_STATS_TTL_MS]);
    expect(await new SettledStats(store).get(window)).toEqual(stats);
    expect(
      await new SettledStats(store).get({ ...window, workflowId: `w${'3'.repeat(32)}` }),
    ).toBeUndefined();
  });

  it('believes nothing of another shape', async () => {
    const { store, values } = memoryStore();
    new SettledStats(store).set(window, stats);
    for (const entry of values.values())
      entry.value = entry.value.replace('"scannedRuns":3', '"scannedRuns":"3"');
    expect(await new SettledStats(store).get(window)).toBeUndefined();
  });
});
