/**
 * The runs of a window that ends now, kept up to date instead of listed again on every question. The first
 * question lists the window (up to the bound); the answer is kept per workflow as a ledger, and later questions
 * whose window the ledger covers cost one list call for the runs started since (newest first, from a little before
 * the last listing), not a list of the whole window again. Between listings the ledger takes every finished run
 * the gateway reads anyway: polls, the re-reads CI's callbacks cause, lookups (the read cache's finished-run hook).
 *
 * A change the gateway did not read (a run that finished unwatched) shows once the ledger is listed afresh: it is
 * kept `RECENT_RUNS_TTL_MS` from its full listing, whatever the top-ups. Per replica, in memory; knows no GraphQL.
 */
import { LRUCache } from 'lru-cache';
import type { RunId } from '../ci/inputs.js';
import type { WorkflowExecutionDetail, WorkflowExecutionSummary } from '../ci/types.js';
import type { RunListing } from './workflow-stats.js';

/** How long a ledger is topped up before its window is listed in full again. */
export const RECENT_RUNS_TTL_MS = 60_000;
/** CI's times are whole seconds, and its clock not ours: a top-up starts this long before the last listing's end. */
const TOP_UP_OVERLAP_MS = 5_000;

export interface RunWindow {
  readonly from: Date;
  readonly to: Date;
}

/** Lists a window's runs, newest first, at most `maxRuns`. */
export type ListWindow = (window: RunWindow, maxRuns: number) => Promise<RunListing>;

interface Ledger {
  /** Every run created at or after this instant was listed (up to `listedUpTo`). */
  readonly coveredFrom: number;
  /** The end of the last listing. */
  listedUpTo: number;
  readonly runs: Map<RunId, WorkflowExecutionSummary>;
}

export class RecentRuns {
  readonly #ledgers: LRUCache<string, Ledger>;

  constructor(options: { readonly ttlMs?: number } = {}) {
    this.#ledgers = new LRUCache({ max: 500, ttl: options.ttlMs ?? RECENT_RUNS_TTL_MS });
  }

  /** A finished run read anywhere: its state replaces what its workflow's ledger holds. */
  observe(bucketId: string, detail: WorkflowExecutionDetail): void {
    const ledger = this.#ledgers.get(keyOf(bucketId, detail.workflowId), { updateAgeOnGet: false });
    const known = ledger?.runs.get(detail.runId);
    if (ledger && known && known.state !== detail.state) {
      ledger.runs.set(detail.runId, { ...known, state: detail.state });
    }
  }

  /** The runs of `window` (which ends now), from the ledger topped up where it covers the window, else listed. */
  async listing(
    bucketId: string,
    workflowId: string,
    window: RunWindow,
    maxRuns: number,
    list: ListWindow,
  ): Promise<RunListing> {
    const key = keyOf(bucketId, workflowId);
    const ledger = this.#ledgers.get(key, { updateAgeOnGet: false });
    const to = window.to.getTime();
    if (ledger && ledger.coveredFrom <= window.from.getTime() && to >= ledger.listedUpTo) {
      const since = new Date(Math.max(ledger.coveredFrom, ledger.listedUpTo - TOP_UP_OVERLAP_MS));
      const started = await list({ from: since, to: window.to }, maxRuns);
      // More runs started since than one question may list: the window is listed afresh instead.
      if (started.listedAll) {
        for (const run of started.runs) ledger.runs.set(run.runId, run);
        ledger.listedUpTo = to;
        return fromLedger(ledger, window, maxRuns);
      }
    }
    const listed = await list(window, maxRuns);
    const oldest = listed.runs.at(-1)?.createdAt.getTime();
    this.#ledgers.set(key, {
      // Cut short by the bound, it covers what it reached: the runs after the oldest listed (that second's others
      // may have been left out).
      coveredFrom: listed.listedAll || oldest === undefined ? window.from.getTime() : oldest + 1_000,
      listedUpTo: to,
      runs: new Map(listed.runs.map((run) => [run.runId, run])),
    });
    return listed;
  }
}

const keyOf = (bucketId: string, workflowId: string) => `${bucketId}/${workflowId}`;

/** The ledger's runs in `window`, newest first, as a listing of it would give them (at most `maxRuns`). */
function fromLedger(ledger: Ledger, window: RunWindow, maxRuns: number): RunListing {
  const from = window.from.getTime();
  const to = window.to.getTime();
  const runs = [...ledger.runs.values()]
    .filter((run) => run.createdAt.getTime() >= from && run.createdAt.getTime() <= to)
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.runId < b.runId ? 1 : -1));
  return { runs: runs.slice(0, maxRuns), listedAll: runs.length <= maxRuns };
}
