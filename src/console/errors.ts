/**
 * What the console tells a person about a failed operation: the gateway's stable `extensions.code` decides it,
 * never the message's wording.
 */
import type { CombinedError } from '@urql/core';

/** The one code that means CI may have acted: a trigger must not be sent again before looking. */
export const OUTCOME_UNKNOWN = 'UPSTREAM_OUTCOME_UNKNOWN';

export interface Problem {
  readonly code: string;
  readonly text: string;
}

/** What the console adds to the gateway's message, where the person can do something about it. */
const ADVICE: Readonly<Record<string, string>> = {
  UNAUTHENTICATED: 'Open the console through the company’s sign-in proxy, which adds your token.',
  FORBIDDEN: 'Your token does not allow this: ask for the write scope.',
  RATE_LIMITED: 'Wait a little before the next action.',
  UPSTREAM_THROTTLED: 'CI’s request quota is used up for now: try again in a few seconds.',
  UPSTREAM_UNAVAILABLE: 'CI did not answer: try again shortly.',
  UPSTREAM_TIMEOUT: 'CI did not answer in time: try again shortly.',
};

export function problemOf(error: CombinedError): Problem {
  if (error.networkError) {
    return { code: 'NETWORK', text: `The gateway is out of reach (${error.networkError.message}).` };
  }
  const first = error.graphQLErrors[0];
  const code =
    typeof first?.extensions['code'] === 'string' ? first.extensions['code'] : 'INTERNAL_SERVER_ERROR';
  return { code, text: [first?.message, ADVICE[code]].filter(Boolean).join(' ') };
}
