/** A watched key's poller: back-off, and who polls when replicas share leases. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeyPoller, LOCAL_LEASES, MAX_BACKOFF, type PollLeases } from '../../src/live/poller.js';
import { DATE_PRESERVING_JSON } from '../../src/records.js';

const INTERVAL = 1_000;

/** Leases as Redis keeps them: one holder per key until its lease runs out. */
function sharedLeases(clock: () => number) {
  const leases = new Map<string, { holder: string; until: number }>();
  return (replica: string): PollLeases => ({
    shared: true,
    async hold(key, ttlMs) {
      const lease = leases.get(key);
      if (lease && lease.holder !== replica && lease.until > clock()) return false;
      leases.set(key, { holder: replica, until: clock() + ttlMs });
      return true;
    },
    async release(key) {
      if (leases.get(key)?.holder === replica) leases.delete(key);
    },
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('KeyPoller', () => {
  it('polls every interval while things change, and backs off to MAX_BACKOFF intervals while they do not', async () => {
    vi.useFakeTimers();
    const polls: number[] = [];
    let changing = true;
    const poller = new KeyPoller({
      key: 'k',
      intervalMs: INTERVAL,
      leases: LOCAL_LEASES,
      poll: async () => {
        polls.push(Date.now());
        return changing;
      },
      onError: () => {},
    });
    const start = Date.now();
    await vi.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(polls.map((at) => at - start)).toEqual([1, 2, 3].map((n) => n * INTERVAL));
    changing = false;
    polls.length = 0;
    await vi.advanceTimersByTimeAsync(40 * INTERVAL);
    const gaps = polls.slice(1).map((at, i) => (at - (polls[i] as number)) / INTERVAL);
    expect(gaps.slice(0, 4)).toEqual([2, 4, 8, 8]);
    expect(Math.max(...gaps)).toBe(MAX_BACKOFF);

    // A hint brings the next poll back to one interval from now.
    polls.length = 0;
    poller.resetBackoff();
    const hintedAt = Date.now();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(polls).toEqual([hintedAt + INTERVAL]);
    await poller.stop();
    await vi.advanceTimersByTimeAsync(20 * INTERVAL);
    expect(polls).toHaveLength(1);
  });

  it('polls from one replica at a time, and from another within two intervals of the holder’s death', async () => {
    vi.useFakeTimers();
    const leasesOf = sharedLeases(() => Date.now());
    const polls: string[] = [];
    const start = (replica: string, leases: PollLeases) =>
      new KeyPoller({
        key: 'k',
        intervalMs: INTERVAL,
        leases,
        poll: async () => {
          polls.push(`${replica}@${Date.now()}`);
          return true;
        },
        onError: () => {},
      });
    // A process that dies gives nothing up: its lease stays until it runs out.
    const a = start('a', { ...leasesOf('a'), release: async () => {} });
    const b = start('b', leasesOf('b'));
    await vi.advanceTimersByTimeAsync(10 * INTERVAL);
    expect(new Set(polls.map((poll) => poll.split('@')[0]))).toEqual(new Set(['a']));
    expect(polls.length).toBeGreaterThanOrEqual(9);
    expect(polls.length).toBeLessThanOrEqual(11);

    await a.stop();
    const diedAt = Date.now();
    polls.length = 0;
    await vi.advanceTimersByTimeAsync(3 * INTERVAL);
    const firstOfB = polls[0];
    expect(firstOfB?.startsWith('b@')).toBe(true);
    expect(Number(firstOfB?.split('@')[1]) - diedAt).toBeLessThanOrEqual(2 * INTERVAL);
    expect(polls.every((poll) => poll.startsWith('b@'))).toBe(true);
    await b.stop();
  });
});

describe('KeyPoller stopping on a drain', () => {
  it('hands its lease back, so another replica polls within half an interval instead of waiting for it to run out', async () => {
    vi.useFakeTimers();
    const leasesOf = sharedLeases(() => Date.now());
    const polls: string[] = [];
    const start = (replica: string) =>
      new KeyPoller({
        key: 'k',
        intervalMs: INTERVAL,
        leases: leasesOf(replica),
        poll: async () => {
          polls.push(`${replica}@${Date.now()}`);
          return true;
        },
        onError: () => {},
      });
    const a = start('a');
    const b = start('b');
    await vi.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(polls.every((poll) => poll.startsWith('a@'))).toBe(true);
    await a.stop();
    const stoppedAt = Date.now();
    polls.length = 0;
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(polls[0]?.startsWith('b@')).toBe(true);
    // At b's next renewal (every half interval), then a poll at once (a timer's 1 ms).
    expect(Number(polls[0]?.split('@')[1]) - stoppedAt).toBeLessThanOrEqual(INTERVAL / 2 + 1);
    await b.stop();
  });
});

describe('DATE_PRESERVING_JSON', () => {
  it('brings dates back as dates, nested or not, and leaves look-alike objects alone', () => {
    const value = {
      at: new Date(1_700_000_000_123),
      tasks: [{ endedAt: new Date(0) }],
      other: { $date: 'x' },
    };
    const copy = DATE_PRESERVING_JSON.parse(DATE_PRESERVING_JSON.stringify(value)) as typeof value;
    expect(copy).toEqual(value);
    expect(copy.at).toBeInstanceOf(Date);
    expect(copy.tasks[0]?.endedAt).toBeInstanceOf(Date);
  });
});
