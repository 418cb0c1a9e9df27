/**
 * One watched key's poller: reads every interval, backs off while nothing changes, and polls only while this
 * replica holds the key's lease, so replicas sharing events share the polling too.
 *
 * Alone (no shared leases) the replica always holds them. With shared leases the holder renews its lease every
 * half interval for one interval; when it dies its lease runs out, another replica watching the key takes it at
 * its next renewal and polls at once: the poll moves within one and a half intervals.
 */

/** Who polls a key, decided among the replicas that watch it. */
export interface PollLeases {
  /** Takes the key's lease, or keeps it, for `ttlMs`; true while this replica holds it. */
  hold(key: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up (the last local subscriber left), so another replica need not wait for it to run out. */
  release(key: string): Promise<void>;
  /** Whether the leases are shared with other replicas (else every replica polls what it watches). */
  readonly shared: boolean;
}

/** One replica: it holds every lease. */
export const LOCAL_LEASES: PollLeases = {
  hold: async () => true,
  release: async () => {},
  shared: false,
};

/** Longest wait between polls of an unchanged key, as a multiple of the interval. */
export const MAX_BACKOFF = 8;

export interface KeyPollerOptions {
  readonly key: string;
  readonly intervalMs: number;
  readonly leases: PollLeases;
  /** One read; resolves true when it found a change. */
  readonly poll: () => Promise<boolean>;
  readonly onError: (error: unknown) => void;
  /** This replica took the key's lease (true) or lost it to another (false). */
  readonly onLeaseChange?: (holding: boolean) => void;
}

export class KeyPoller {
  readonly #options: KeyPollerOptions;
  #backoff = 1;
  /** Alone, the replica holds every lease; sharing, none until Redis says so. */
  #holding: boolean;
  #polling = false;
  #stopped = false;
  #pollTimer: NodeJS.Timeout | undefined;
  #leaseTimer: NodeJS.Timeout | undefined;

  constructor(options: KeyPollerOptions) {
    this.#options = options;
    this.#holding = !options.leases.shared;
    if (options.leases.shared) {
      void this.#renew();
      this.#leaseTimer = setInterval(() => void this.#renew(), options.intervalMs / 2);
      this.#leaseTimer.unref();
    }
    this.#schedule(options.intervalMs);
  }

  /** Whether this replica polls the key now. */
  get polling(): boolean {
    return this.#holding && !this.#stopped;
  }

  /** Something happened to the key (a callback, a change seen elsewhere): poll at the plain interval again. */
  resetBackoff(): void {
    if (this.#backoff === 1) return;
    this.#backoff = 1;
    // A poll put off by the back-off comes one interval from now instead (one in flight reschedules itself).
    if (this.#holding && !this.#polling && !this.#stopped) this.#schedule(this.#options.intervalMs);
  }

  /** Stops polling; resolves once the lease, if held, is given up (callers that do not wait need not). */
  stop(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#stopped = true;
    clearTimeout(this.#pollTimer);
    clearInterval(this.#leaseTimer);
    if (!this.#holding || !this.#options.leases.shared) return Promise.resolve();
    return this.#options.leases.release(this.#options.key).catch(this.#options.onError);
  }

  async #renew(): Promise<void> {
    const { leases, key, intervalMs } = this.#options;
    let holding: boolean;
    try {
      holding = await leases.hold(key, intervalMs);
    } catch (error) {
      // Without an answer, poll rather than leave the key unwatched: a duplicate read is harmless, silence is not.
      this.#options.onError(error);
      holding = true;
    }
    if (this.#stopped) return;
    const taken = holding && !this.#holding;
    if (holding !== this.#holding) this.#options.onLeaseChange?.(holding);
    this.#holding = holding;
    // The previous holder is gone (or never polled): poll now instead of an interval from now.
    if (taken) this.#schedule(0);
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#pollTimer);
    this.#pollTimer = setTimeout(() => void this.#tick(), delayMs);
    this.#pollTimer.unref();
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    if (this.#holding) {
      this.#polling = true;
      try {
        const changed = await this.#options.poll();
        this.#backoff = changed ? 1 : Math.min(MAX_BACKOFF, this.#backoff * 2);
      } catch (error) {
        this.#backoff = Math.min(MAX_BACKOFF, this.#backoff * 2);
        this.#options.onError(error);
      } finally {
        this.#polling = false;
      }
    }
    // Another replica polls meanwhile; taking the lease back (`#renew`) schedules a poll at once.
    if (!this.#stopped && this.#holding) this.#schedule(this.#options.intervalMs * this.#backoff);
  }
}
