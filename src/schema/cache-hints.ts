/**
 * How long what a request read stays true, gathered while it runs: every read says how long its answer may be
 * reused, and the response may be reused for the shortest of them. The HTTP layer turns that into `Cache-Control`.
 */
import { type ExecutionState, isFinishedState, type JobState } from '../ci/types.js';

/** Seconds each kind of answer may be reused. */
export const CACHE_SECONDS = {
  /** A page of executions: new runs appear and running ones change state. */
  page: 5,
  /** A run or job still running or paused: its state and tasks change. */
  unfinishedRun: 5,
  /** A finished run or job (success, failure, cancel) never changes again. */
  finishedRun: 3_600,
  /** A run or workflow CI does not know may be created soon after. */
  notFound: 5,
  /** A workflow changes when someone edits, pauses or activates it. */
  workflow: 30,
} as const;

export class CacheHints {
  #maxAge: number | undefined;

  /** The response may be reused for at most this many seconds. */
  limit(seconds: number): void {
    this.#maxAge = this.#maxAge === undefined ? seconds : Math.min(this.#maxAge, seconds);
  }

  /**
   * A run, a media job or a batch trigger was read in this state (undefined: CI does not know it). Finished ones
   * never change again.
   */
  read(state: ExecutionState | JobState | undefined): void {
    if (state === undefined) this.limit(CACHE_SECONDS.notFound);
    else this.limit(isFinishedState(state) ? CACHE_SECONDS.finishedRun : CACHE_SECONDS.unfinishedRun);
  }

  /** Seconds the whole response may be reused; undefined when nothing it read said (nothing to cache, then). */
  get maxAge(): number | undefined {
    return this.#maxAge;
  }
}
