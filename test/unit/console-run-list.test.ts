/** The console's merge of pages and events into one list: newest first, each run once, finishes never undone. */
import { describe, expect, it } from 'vitest';
import { merge, type Run } from '../../src/console/run-list.js';

const run = (n: number, state: Run['state'], createdAt = `2026-12-07T10:00:0${n}.000Z`): Run => ({
  id: `id-${n}`,
  bucketId: 'demo-1250000000',
  runId: `i${String(n).padStart(32, '0')}`,
  workflowId: 'w5f1e0c8a9b2d4e6f8a0b1c2d3e4f5a6b',
  objectKey: `o/${n}.mp4`,
  state,
  createdAt,
});

describe('merge', () => {
  it('keeps the newest first and each run once, pages and events alike', () => {
    const page1 = [run(5, 'RUNNING'), run(4, 'SUCCESS')];
    const page2 = [run(4, 'SUCCESS'), run(3, 'FAILED'), run(2, 'CANCEL')];
    const shown = merge(merge(merge([], page1, true), page2, true), [run(6, 'RUNNING')], false);
    expect(shown.map((r) => r.runId)).toEqual([6, 5, 4, 3, 2].map((n) => run(n, 'RUNNING').runId));
  });

  it('updates a run in place from an event, and a page read earlier never undoes a finish', () => {
    const shown = merge([], [run(5, 'RUNNING'), run(4, 'RUNNING')], true);
    const finished = merge(shown, [run(5, 'FAILED')], false);
    expect(finished.map((r) => r.state)).toEqual(['FAILED', 'RUNNING']);
    // The page was read before the event: it still says RUNNING.
    const stale = merge(finished, [run(5, 'RUNNING'), run(4, 'PAUSE')], true);
    expect(stale.map((r) => r.state)).toEqual(['FAILED', 'PAUSE']);
  });

  it('orders runs started in the same second by id, as every merge does', () => {
    const second = '2026-12-07T10:00:00.000Z';
    const a = merge([], [run(1, 'RUNNING', second)], false);
    const b = merge(a, [run(2, 'RUNNING', second)], false);
    expect(b.map((r) => r.runId)).toEqual([run(2, 'RUNNING').runId, run(1, 'RUNNING').runId]);
  });
});
