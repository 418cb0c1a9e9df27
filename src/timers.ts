/**
 * Node's timers hold at most 2^31 − 1 ms (24.86 days); a longer delay fires at once, with a warning. A token valid
 * for a month must end its subscriptions in a month, so long delays are waited out in steps.
 */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** Calls `fire` after `ms` (any length; at once when not positive); returns what cancels it. */
export function afterDelay(ms: number, fire: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = (left: number) => {
    timer = setTimeout(
      () => (left > LONGEST_TIMER_MS ? arm(left - LONGEST_TIMER_MS) : fire()),
      Math.max(0, Math.min(left, LONGEST_TIMER_MS)),
    );
    timer.unref();
  };
  arm(ms);
  return () => clearTimeout(timer);
}
