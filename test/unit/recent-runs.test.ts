/** The kept runs of windows that end now: when they are topped up, when listed afresh, and what they learn. */
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { assume, bucketIdRule, runIdRule, workflowIdRule } from '../../src/ci/inputs.js';
import type {
  ExecutionState,
  WorkflowExecutionDetail,
  WorkflowExecutionSummary,
} from '../../src/ci/types.js';
import { type ListWindow, RecentRuns, type RunWindow } from '../../src/stats/recent-runs.js';

const BUCKET = assume(bucketIdRule, 'demo-1250000000');
const WORKFLOW = assume(workflowIdRule, 'w5f1e0c8a9b2d4e6f8a0b1c2d3e4f5a6b');
const NOW = Date.parse('2026-12-07T12:00:00Z');
const HOUR = 3_600_000;

function run(index: number, createdAt: number, state: ExecutionState = 'Running'): WorkflowExecutionSummary {
  return {
    bucketId: BUCKET,
    runId: assume(runIdRule, `i${index.toString(16).padStart(32, '0')}`),
    workflowId: WORKFLOW,
    objectKey: `o/${index}.mp4`,
    state,
    createdAt: new Date(createdAt),
  };
}

/** What a read of `summary` gives once the run is in `state`. */
function detailOf(
  summary: WorkflowExecutionSummary | undefined,
  state: ExecutionState,
): WorkflowExecutionDetail {
  if (!summary) throw new Error('no such run');
  return { ...summary, state, requestId: undefined, workflowName: 'w', tasks: [] };
}

/** CI as the kept runs see it: these runs, listed by window, every listing recorded. */
function ci(runs: WorkflowExecutionSummary[]) {
  const listings: RunWindow[] = [];
  const list: ListWindow = async (window, maxRuns) => {
    listings.push(window);
    const inside = runs
      .filter((r) => r.createdAt >= window.from && r.createdAt <= window.to)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    return { runs: inside.slice(0, maxRuns), listedAll: inside.length <= maxRuns };
  };
  return { list, listings };
}

const windowOf = (hours: number, to = NOW): RunWindow => ({
  from: new Date(to - hours * HOUR),
  to: new Date(to),
});
const ids = (listing: { runs: readonly WorkflowExecutionSummary[] }) => listing.runs.map((r) => r.runId);

describe('RecentRuns', () => {
  it('lists a window once, then only what started since, for it and for any window it covers', async () => {
    const runs = [run(1, NOW - 20 * HOUR), run(2, NOW - 2 * HOUR), run(3, NOW - 10 * 60_000)];
    const { list, listings } = ci(runs);
    const recent = new RecentRuns();
    const first = await recent.listing(BUCKET, WORKFLOW, windowOf(24), 1_000, list);
    expect(ids(first)).toEqual([runs[2], runs[1], runs[0]].map((r) => r?.runId));

    runs.push(run(4, NOW + 30_000));
    const later = await recent.listing(BUCKET, WORKFLOW, windowOf(24, NOW + 60_000), 1_000, list);
    expect(later.runs.map((r) => r.runId)[0]).toBe(runs[3]?.runId);
    expect(later.runs).toHaveLength(4);
    // The top-up: from a little before the last listing's end to now.
    expect(listings[1]).toEqual({ from: new Date(NOW - 5_000), to: new Date(NOW + 60_000) });

    // A narrower window that ends now is the kept runs filtered; a wider one is listed afresh.
    const hour = await recent.listing(BUCKET, WORKFLOW, windowOf(1, NOW + 60_000), 1_000, list);
    expect(ids(hour)).toEqual([runs[3], runs[2]].map((r) => r?.runId));
    expect(listings).toHaveLength(3);
    await recent.listing(BUCKET, WORKFLOW, windowOf(48, NOW + 60_000), 1_000, list);
    expect(listings[3]).toEqual(windowOf(48, NOW + 60_000));
  });

  it('takes the finishes read elsewhere, and lists afresh once the ledger is old', async () => {
    const runs = [run(1, NOW - HOUR), run(2, NOW - 2 * HOUR)];
    const { list, listings } = ci(runs);
    const recent = new RecentRuns({ ttlMs: 50 });
    await recent.listing(BUCKET, WORKFLOW, windowOf(24), 1_000, list);
    recent.observe(BUCKET, detailOf(runs[0], 'Failed'));
    // Another workflow's run, or a bucket's with no ledger, changes nothing.
    recent.observe('other-1250000000', {
      ...runs[1],
      state: 'Success',
      tasks: [],
    } as unknown as WorkflowExecutionDetail);
    const patched = await recent.listing(BUCKET, WORKFLOW, windowOf(24), 1_000, list);
    expect(patched.runs.map((r) => r.state)).toEqual(['Failed', 'Running']);
    expect(listings).toHaveLength(2);

    await delay(60);
    await recent.listing(BUCKET, WORKFLOW, windowOf(24), 1_000, list);
    expect(listings[2]).toEqual(windowOf(24));
  });

  it('covers only what a listing cut short by its bound reached, and lists afresh when too many started since', async () => {
    const runs = Array.from({ length: 10 }, (_, i) => run(i, NOW - (i + 1) * HOUR));
    const { list, listings } = ci(runs);
    const recent = new RecentRuns();
    const cut = await recent.listing(BUCKET, WORKFLOW, windowOf(24), 5, list);
    expect(cut.listedAll).toBe(false);
    // Reached back to the 5th run (5 h ago): a 4-hour window is kept runs, a 6-hour one a new listing.
    const four = await recent.listing(BUCKET, WORKFLOW, windowOf(4), 5, list);
    expect(four).toMatchObject({ listedAll: true });
    expect(four.runs).toHaveLength(4);
    expect(listings).toHaveLength(2);
    await recent.listing(BUCKET, WORKFLOW, windowOf(6), 5, list);
    expect(listings[2]).toEqual(windowOf(6));

    // More runs started since than the bound: the top-up is not believed, the window is listed whole.
    runs.push(...Array.from({ length: 6 }, (_, i) => run(100 + i, NOW + (i + 1) * 1_000)));
    const busy = await recent.listing(BUCKET, WORKFLOW, windowOf(6, NOW + 10_000), 5, list);
    expect(listings.at(-1)).toEqual(windowOf(6, NOW + 10_000));
    expect(busy).toMatchObject({ listedAll: false });
  });
});
