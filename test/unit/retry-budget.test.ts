import { describe, expect, it } from 'vitest';
import { RetryBudget } from '../../src/ci/retry-budget.js';

function budgetAt(start = 1_000_000) {
  let now = start;
  const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 1, windowMs: 10_000, now: () => now });
  return { budget, advance: (ms: number) => (now += ms) };
}

const retriesAllowed = (budget: RetryBudget, tries = 1_000) => {
  let allowed = 0;
  for (let index = 0; index < tries; index += 1) if (budget.tryRetry()) allowed += 1;
  return allowed;
};

describe('RetryBudget', () => {
  it('allows the floor when nothing else was attempted', () => {
    const { budget } = budgetAt();
    expect(retriesAllowed(budget)).toBe(10);
  });

  it('adds a fifth of a retry per first attempt in the window', () => {
    const { budget } = budgetAt();
    for (let index = 0; index < 100; index += 1) budget.recordFirstAttempt();
    expect(retriesAllowed(budget)).toBe(30);
  });

  it('forgets attempts and retries that fall out of the window', () => {
    const { budget, advance } = budgetAt();
    for (let index = 0; index < 100; index += 1) budget.recordFirstAttempt();
    expect(retriesAllowed(budget)).toBe(30);
    advance(5_000);
    expect(budget.tryRetry()).toBe(false);
    advance(5_001);
    // Both the earned retries and the spent ones have expired: the floor again.
    expect(retriesAllowed(budget)).toBe(10);
  });
});
