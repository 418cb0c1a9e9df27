/**
 * CI's quota, spent as a scarce resource: a token bucket per account that every call draws from before it is sent.
 *
 * - **Priorities.** A user's read or change may take the last token; a subscription's poll only while the bucket
 *   is at least half full; background work only while it is three quarters full. So when the budget runs short,
 *   polls slow down (they are refused and back off) before any user request waits.
 * - **A bounded wait.** A user request waits for a token at most `maxWaitMs`, then fails `throttled` with the time
 *   after which one will be there: CI is never asked past the budget.
 * - **AIMD.** CI's own 429 halves the account's rate at once; every second without one gives back a twentieth of
 *   the configured rate, until it is whole again. The 429s of one episode (those of calls sent before the cut took
 *   effect, within {@link THROTTLE_EPISODE_MS}) cut once, as TCP cuts once per round trip: a burst of ten refusals
 *   is one signal, not ten.
 * - **Shared or not.** The state lives in a {@link GovernorStore}: this process's memory, or Redis, where every
 *   replica draws from the same bucket (`src/live/redis-governor.ts`, the same arithmetic in one Lua script).
 *   `measure` mode grants everything and only counts, so an operator can learn the real quota first.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { CallPriority } from './attempts.js';
import { CiError } from './errors.js';
import { cancellation } from './single-flight.js';

export type { CallPriority };

/** The share of the bucket each priority must leave for the ones above it. */
export const PRIORITY_RESERVE: Readonly<Record<CallPriority, number>> = {
  interactive: 0,
  poll: 0.5,
  background: 0.75,
};
/** What a 429 leaves of the rate. */
export const THROTTLED_FACTOR = 0.5;
/** The share of the configured rate given back per second without a 429. */
export const RECOVERY_PER_SECOND = 0.05;
/** The rate never falls below this share of the configured one. */
export const MIN_RATE_SHARE = 0.05;
/** 429s this soon after a cut belong to the same episode: they cut no further. */
export const THROTTLE_EPISODE_MS = 1_000;

/** One account's bucket, as stored. */
export interface BucketState {
  tokens: number;
  /** The allowed rate now, calls per second: the configured one, lowered by 429s and recovering. */
  rate: number;
  /** When it was last brought up to date, in ms. */
  at: number;
  /** When a 429 last cut the rate, in ms. */
  cutAt?: number | undefined;
}

export interface TakeResult {
  readonly granted: boolean;
  /** When not granted: how long until a token for this priority is likely. */
  readonly waitMs: number;
}

/** Where the buckets live; every method is one atomic step. */
export interface GovernorStore {
  take(account: string, limit: number, priority: CallPriority, now: number): Promise<TakeResult>;
  throttled(account: string, limit: number, now: number): Promise<void>;
}

/** Brings a bucket up to `now`: tokens refilled at the current rate, the rate recovered towards `limit`. */
export function refill(state: BucketState | undefined, limit: number, now: number): BucketState {
  if (!state) return { tokens: limit, rate: limit, at: now };
  const seconds = Math.max(0, now - state.at) / 1000;
  const rate = Math.min(limit, state.rate + limit * RECOVERY_PER_SECOND * seconds);
  const capacity = Math.max(1, rate);
  return {
    tokens: Math.min(capacity, state.tokens + seconds * state.rate),
    rate,
    at: now,
    cutAt: state.cutAt,
  };
}

/** Takes a token for `priority` if the bucket holds enough beyond what it must leave for the others. */
export function take(state: BucketState, priority: CallPriority): TakeResult {
  const reserve = Math.max(1, state.rate) * PRIORITY_RESERVE[priority];
  if (state.tokens - 1 >= reserve - 1e-9) {
    state.tokens -= 1;
    return { granted: true, waitMs: 0 };
  }
  const missing = reserve + 1 - state.tokens;
  return { granted: false, waitMs: Math.ceil((missing / Math.max(state.rate, 1e-3)) * 1000) };
}

/**
 * CI said 429: what is left in the bucket is spent, and the rate halves (never below a floor) unless this 429
 * belongs to the episode of the last cut.
 */
export function throttle(state: BucketState, limit: number, now: number): void {
  if (state.cutAt === undefined || now - state.cutAt >= THROTTLE_EPISODE_MS) {
    state.rate = Math.max(limit * MIN_RATE_SHARE, state.rate * THROTTLED_FACTOR);
    state.cutAt = now;
  }
  state.tokens = Math.min(state.tokens, 0);
}

/** The buckets in this process: what a replica alone, or one cut off from Redis, governs with. */
export class LocalGovernorStore implements GovernorStore {
  readonly #buckets = new Map<string, BucketState>();

  async take(account: string, limit: number, priority: CallPriority, now: number): Promise<TakeResult> {
    const state = refill(this.#buckets.get(account), limit, now);
    this.#buckets.set(account, state);
    return take(state, priority);
  }

  async throttled(account: string, limit: number, now: number): Promise<void> {
    const state = refill(this.#buckets.get(account), limit, now);
    throttle(state, limit, now);
    this.#buckets.set(account, state);
  }
}

export interface AccountGovernorOptions {
  /** The account whose quota this is (its name in the bucket file). */
  readonly account: string;
  /** Calls per second CI allows the account, as configured. */
  readonly callsPerSecond: number;
  /** `enforce` limits; `measure` grants everything (the metrics count calls and 429s). */
  readonly mode: 'enforce' | 'measure';
  readonly store: GovernorStore;
  /** Longest a user request waits for a token before `throttled`. @default 2000 */
  readonly maxWaitMs?: number | undefined;
  readonly now?: (() => number) | undefined;
  readonly sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /** A call was refused (metrics count it). */
  readonly onRefused?: ((priority: CallPriority) => void) | undefined;
}

/** One account's governor, as the transport asks it before every attempt. */
export class AccountGovernor {
  readonly #options: AccountGovernorOptions;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(options: AccountGovernorOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
  }

  /**
   * Resolves once the attempt may be sent. A user request waits up to `maxWaitMs`; a poll or background call does
   * not wait: refused, it fails `throttled` at once and its poller backs off. An abort while waiting is the caller's
   * cancellation.
   */
  async acquire(priority: CallPriority, signal?: AbortSignal): Promise<void> {
    const { account, callsPerSecond, mode, store } = this.#options;
    if (mode === 'measure') return;
    const maxWaitMs = priority === 'interactive' ? (this.#options.maxWaitMs ?? 2_000) : 0;
    const started = this.#now();
    for (;;) {
      const result = await store.take(account, callsPerSecond, priority, this.#now());
      if (result.granted) return;
      const waited = this.#now() - started;
      if (waited + result.waitMs > maxWaitMs) {
        this.#options.onRefused?.(priority);
        throw new CiError('throttled', `The CI quota of account ${account} is spent for now`, {
          retryAfterSeconds: Math.max(1, Math.ceil(result.waitMs / 1000)),
        });
      }
      try {
        await this.#sleep(result.waitMs, signal);
      } catch (error) {
        if (signal?.aborted) throw cancellation(signal);
        throw error;
      }
    }
  }

  /** CI answered 429: every replica sharing the store slows down. Never rejects. */
  async throttled(): Promise<void> {
    try {
      await this.#options.store.throttled(this.#options.account, this.#options.callsPerSecond, this.#now());
    } catch {
      // The stores fall back to this process's own buckets themselves; nothing is left to do here.
    }
  }
}
