/**
 * Statistics of settled windows, kept: a window wholly in the past whose runs have all finished never changes
 * again (its stuck runs are none, whatever the threshold), so its answer is computed once per replica, and once
 * for every replica where they share a store (Redis). An in-process LRU stands in front; what the shared store
 * gives back is checked before it is believed; a store out of reach is a miss.
 */
import { LRUCache } from 'lru-cache';
import { readShared, type SharedReadStore, writeShared } from '../ci/read-cache.js';
import { isRecord } from '../records.js';
import type { WorkflowStats } from './workflow-stats.js';

/** How long a settled window is kept: it never changes, but windows stop being asked for. */
export const SETTLED_STATS_TTL_MS = 24 * 60 * 60 * 1000;
const KEY_PREFIX = 'ci-gateway:stats:';

export interface SettledWindow {
  readonly bucketId: string;
  readonly workflowId: string;
  readonly from: Date;
  readonly to: Date;
}

export class SettledStats {
  readonly #local = new LRUCache<string, WorkflowStats>({ max: 1_000, ttl: SETTLED_STATS_TTL_MS });
  readonly #shared: SharedReadStore | undefined;

  constructor(shared?: SharedReadStore) {
    this.#shared = shared;
  }

  async get(window: SettledWindow): Promise<WorkflowStats | undefined> {
    const key = keyOf(window);
    const local = this.#local.get(key);
    if (local || !this.#shared) return local;
    const [stats] = await readShared(this.#shared, [key]);
    if (!isStatsOf(stats, window)) return undefined;
    this.#local.set(key, stats);
    return stats;
  }

  /** Keeps the statistics of a window the caller found settled. */
  set(window: SettledWindow, stats: WorkflowStats): void {
    const key = keyOf(window);
    this.#local.set(key, stats);
    if (this.#shared) writeShared(this.#shared, key, stats, SETTLED_STATS_TTL_MS);
  }
}

const keyOf = (window: SettledWindow) =>
  `${KEY_PREFIX}${window.bucketId}:${window.workflowId}:${window.from.getTime()}:${window.to.getTime()}`;

/** What the store gave back, checked to be this window's statistics (another version may have written it). */
function isStatsOf(value: unknown, window: SettledWindow): value is WorkflowStats {
  if (!isRecord(value)) return false;
  const { from, to } = value;
  return (
    from instanceof Date &&
    from.getTime() === window.from.getTime() &&
    to instanceof Date &&
    to.getTime() === window.to.getTime() &&
    typeof value['scannedRuns'] === 'number' &&
    ['byState', 'timeline', 'failureReasons', 'stuckRuns'].every((list) => Array.isArray(value[list]))
  );
}
