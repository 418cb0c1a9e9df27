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

const EXPLANATIONS: Readonly<Record<string, string>> = {
  BAD_USER_INPUT: 'The gateway refused the input',
  WORKFLOW_PAUSED: 'The workflow is paused: activate it first',
  WORKFLOW_NOT_FOUND: 'CI has no such workflow',
  EXECUTION_NOT_FOUND: 'CI has no such run',
  UNAUTHENTICATED: 'Not signed in: the console must be opened through the company’s sign-in proxy',
  FORBIDDEN: 'Your token does not allow this',
  UPSTREAM_THROTTLED: 'CI is busy (its request quota is used up): try again in a few seconds',
  UPSTREAM_UNAVAILABLE: 'CI did not answer: try again shortly',
  [OUTCOME_UNKNOWN]: 'CI may or may not have acted: the gateway lost its answer and sent nothing more',
};

export function problemOf(error: CombinedError): Problem {
  if (error.networkError)
    return { code: 'NETWORK', text: `The gateway is out of reach (${error.networkError.message})` };
  const first = error.graphQLErrors[0];
  const code =
    typeof first?.extensions['code'] === 'string' ? first.extensions['code'] : 'INTERNAL_SERVER_ERROR';
  const explanation = EXPLANATIONS[code];
  return {
    code,
    text: explanation ? `${explanation}. ${first?.message ?? ''}`.trim() : (first?.message ?? code),
  };
}
