/**
 * An account's quota as the emulator enforces it: a token bucket of `callsPerSecond`, one second deep. Past it, a
 * call is answered 429 `SlowDown`, as CI throttles. Shared by the emulators of one account's buckets, it is the
 * account's; alone, one bucket's. Tencent publishes no figure: simulations and tests choose one.
 */
export class EmulatedQuota {
  readonly callsPerSecond: number;
  #tokens: number;
  #at: number | undefined;
  /** Calls refused so far. */
  refused = 0;

  constructor(callsPerSecond: number) {
    this.callsPerSecond = callsPerSecond;
    this.#tokens = callsPerSecond;
  }

  /** Takes one call's token at `now` (ms); false when the account is over its quota. */
  take(now: number): boolean {
    if (this.#at !== undefined) {
      this.#tokens = Math.min(
        this.callsPerSecond,
        this.#tokens + ((now - this.#at) / 1000) * this.callsPerSecond,
      );
    }
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    this.refused += 1;
    return false;
  }
}
