/**
 * Cross-site request forgery: a browser sends a GET, or a POST as `text/plain`, form-encoded or multipart, to any
 * site without asking first, so a page elsewhere could make the gateway spend upstream calls on a user's behalf.
 * Such requests must carry a header a browser only sends after a CORS preflight. yoga's plugin does the check; this
 * gives its refusal a stable code and a message that says how to comply.
 */
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { ErrorCode } from '../error-codes.js';

/** Any one of these (with any value) makes a request non-simple. */
export const CSRF_HEADERS = [
  'x-graphql-csrf',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'graphql-client-name',
] as const;

/**
 * Headers that are no proof of intent by themselves but force a preflight all the same, which is what the check
 * needs: a router's secret or a bearer token (so a router subscribing over an SSE GET passes as it is).
 */
const CREDENTIAL_HEADERS = ['x-router-secret', 'authorization'] as const;

export function useCsrfCheck(): Plugin {
  const check = useCSRFPrevention({ requestHeaders: [...CSRF_HEADERS, ...CREDENTIAL_HEADERS] });
  return {
    onRequestParse(payload) {
      try {
        check.onRequestParse?.(payload);
      } catch {
        throw new GraphQLError(
          `A GET, or a POST that is not JSON, must carry one of the headers ${CSRF_HEADERS.join(', ')} (any value).`,
          { extensions: { code: ErrorCode.CSRF_PREVENTED, http: { status: 403 } } },
        );
      }
    },
  };
}
