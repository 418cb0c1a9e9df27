/**
 * A gateway-wide retry budget in the style of Finagle's and Envoy's: retries may be at most a fraction of the
 * first attempts made over a sliding window, plus a small floor so a quiet gateway can still retry. Per-call
 * limits alone let a failing upstream see up to (1 + maxRetries) × the offered load exactly when it can least
 * take it; with the budget it sees at most about (1 + ratio) ×.
 */

export interface RetryBudgetOptions {
  /** Retries allowed per first attempt in the window. @default 0.2 */
  readonly ratio?: number;
  /** Retries per second always allowed, however few first attempts there were. @default 5 */
  readonly minRetriesPerSecond?: number;
  /** @default 10_000 */
  readonly windowMs?: number;
  /** Injectable for tests. */
  readonly now?: () => number;
}

/** The window is kept as this many buckets, so old counts expire a slice at a time. */
const BUCKETS = 10;

export class RetryBudget {
  readonly #ratio: number;
  readonly #floor: number;
  readonly #bucketMs: number;
  readonly #now: () => number;
  readonly #firstAttempts = new Array<number>(BUCKETS).fill(0);
  readonly #retries = new Array<number>(BUCKETS).fill(0);
  #currentBucket = 0;
  #currentSlot = 0;

  constructor(options: RetryBudgetOptions = {}) {
    const windowMs = options.windowMs ?? 10_000;
    this.#ratio = options.ratio ?? 0.2;
    this.#floor = (options.minRetriesPerSecond ?? 5) * (windowMs / 1000);
    this.#bucketMs = windowMs / BUCKETS;
    this.#now = options.now ?? Date.now;
    this.#currentSlot = Math.floor(this.#now() / this.#bucketMs);
  }

  /** Counts a first attempt: it earns `ratio` of a retry. */
  recordFirstAttempt(): void {
    this.#advance();
    this.#firstAttempts[this.#currentBucket] = (this.#firstAttempts[this.#currentBucket] ?? 0) + 1;
  }

  /** Takes one retry from the budget; false when the window's retries are spent. */
  tryRetry(): boolean {
    this.#advance();
    const allowed = this.#floor + this.#ratio * sum(this.#firstAttempts);
    if (sum(this.#retries) + 1 > allowed) return false;
    this.#retries[this.#currentBucket] = (this.#retries[this.#currentBucket] ?? 0) + 1;
    return true;
  }

  /** Moves the window to now, clearing the buckets that fell out of it. */
  #advance(): void {
    const slot = Math.floor(this.#now() / this.#bucketMs);
    const elapsed = Math.min(slot - this.#currentSlot, BUCKETS);
    for (let step = 1; step <= elapsed; step += 1) {
      const bucket = (this.#currentBucket + step) % BUCKETS;
      this.#firstAttempts[bucket] = 0;
      this.#retries[bucket] = 0;
    }
    if (elapsed > 0) {
      this.#currentBucket = (this.#currentBucket + elapsed) % BUCKETS;
      this.#currentSlot = slot;
    }
  }
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
