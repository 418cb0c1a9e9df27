/** Comparing a caller's secret with ours without telling, by timing, how much of it was right. */
import { createHash, timingSafeEqual } from 'node:crypto';

/** A test for offered values: equal-length digests are compared, so the time taken says nothing. */
export function secretMatcher(secret: string): (offered: string) => boolean {
  const expected = digest(secret);
  return (offered) => timingSafeEqual(digest(offered), expected);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
