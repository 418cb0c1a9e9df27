/** The quota governor's arithmetic: priorities, the bounded wait, AIMD on CI's 429s, measure-only mode. */
import { describe, expect, it } from 'vitest';
import { CiError } from '../../src/ci/errors.js';
import { AccountGovernor, type CallPriority, LocalGovernorStore } from '../../src/ci/governor.js';

/** A governor over its own buckets, on a clock the test moves; sleeping moves it too. */
function governed(callsPerSecond: number, mode: 'enforce' | 'measure' = 'enforce', maxWaitMs = 2_000) {
  let now = 1_000_000;
  const slept: number[] = [];
  const governor = new AccountGovernor({
    account: 'main',
    callsPerSecond,
    mode,
    store: new LocalGovernorStore(),
    maxWaitMs,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  });
  /** How many calls of this priority are let through at once, without waiting. */
  const burst = async (priority: CallPriority, tries = 1_000) => {
    let granted = 0;
    for (let i = 0; i < tries; i += 1) {
      const sleptBefore = slept.length;
      const outcome = await governor.acquire(priority).then(
        () => true,
        (error: unknown) => {
          if (error instanceof CiError && error.kind === 'throttled') return false;
          throw error;
        },
      );
      // Refused, or let through only after a wait: the burst is over.
      if (!outcome || slept.length > sleptBefore) break;
      granted += 1;
    }
    return granted;
  };
  return {
    governor,
    burst,
    slept,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('the quota governor', () => {
  it('leaves half the bucket to users when polls draw on it, and three quarters when background work does', async () => {
    const polls = governed(20);
    expect(await polls.burst('poll')).toBe(10);
    // Users still have the other half at once.
    expect(await polls.burst('interactive')).toBe(10);

    const background = governed(20);
    expect(await background.burst('background')).toBe(5);
    expect(await background.burst('poll')).toBe(5);
    expect(await background.burst('interactive')).toBe(10);
  });

  it('refuses a poll at once when the bucket runs short, but lets a user wait a bounded while', async () => {
    const { governor, slept } = governed(10, 'enforce', 2_000);
    for (let i = 0; i < 10; i += 1) await governor.acquire('interactive');
    await expect(governor.acquire('poll')).rejects.toMatchObject({ kind: 'throttled' });
    expect(slept).toEqual([]);
    // A user waits for the next token: a tenth of a second at 10/s.
    await governor.acquire('interactive');
    expect(slept).toEqual([100]);
  });

  it('answers throttled, with when to come back, once the wait would pass its bound', async () => {
    const { governor } = governed(1, 'enforce', 500);
    await governor.acquire('interactive');
    const refused = await governor.acquire('interactive').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(CiError);
    expect(refused).toMatchObject({ kind: 'throttled', retryAfterSeconds: 1 });
  });

  it('halves the rate on CI’s 429, once per episode, and gives it back a twentieth per second', async () => {
    const { governor, burst, advance } = governed(20);
    await governor.throttled();
    // The bucket was spent and the rate is 10/s: a second later, 10 calls (the rate has recovered to 11/s).
    advance(1_000);
    expect(await burst('interactive')).toBe(10);
    await governor.throttled();
    // The same episode: the calls sent before the cut took effect are refused too, and cut no further.
    advance(500);
    await governor.throttled();
    // 5.5/s after the one cut; 10 s later it has recovered by 10/s, to 15.5/s (two cuts would leave 12.75/s).
    advance(9_500);
    expect(await burst('interactive')).toBe(15);
    // A 429 past the episode cuts again: 7.75/s, so 7 calls a second later.
    await governor.throttled();
    advance(1_000);
    expect(await burst('interactive')).toBe(7);
    // And after long enough, the configured rate again, no more.
    advance(60_000);
    expect(await burst('interactive')).toBe(20);
  });

  it('counts but never limits in measure mode', async () => {
    const { burst, slept } = governed(1, 'measure');
    expect(await burst('background', 50)).toBe(50);
    expect(slept).toEqual([]);
  });
});
