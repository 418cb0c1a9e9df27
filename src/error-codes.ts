/**
 * Every `extensions.code` this gateway puts on an error: the public contract clients switch on, in one leaf module
 * that the schema, the plugins, telemetry and the HTTP layer all import. docs/errors.md explains each one.
 */
import { child } from './records.js';
export const ErrorCode = {
  // The request itself.
  BAD_REQUEST: 'BAD_REQUEST',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  REQUEST_ENTITY_TOO_LARGE: 'REQUEST_ENTITY_TOO_LARGE',
  DOCUMENT_TOO_LARGE: 'DOCUMENT_TOO_LARGE',
  CSRF_PREVENTED: 'CSRF_PREVENTED',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_ONLY: 'PERSISTED_QUERY_ONLY',
  PERSISTED_QUERY_MISMATCH: 'PERSISTED_QUERY_MISMATCH',
  // Who is calling.
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  AUTH_UNAVAILABLE: 'AUTH_UNAVAILABLE',
  // The gateway's own limits.
  RATE_LIMITED: 'RATE_LIMITED',
  UPSTREAM_CALL_BUDGET_EXCEEDED: 'UPSTREAM_CALL_BUDGET_EXCEEDED',
  SUBSCRIPTION_LIMIT: 'SUBSCRIPTION_LIMIT',
  SUBSCRIPTION_CALLBACK_REFUSED: 'SUBSCRIPTION_CALLBACK_REFUSED',
  REQUEST_CANCELLED: 'REQUEST_CANCELLED',
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  // What CI answered.
  UPSTREAM_UNAUTHORIZED: 'UPSTREAM_UNAUTHORIZED',
  UPSTREAM_BAD_REQUEST: 'UPSTREAM_BAD_REQUEST',
  UPSTREAM_THROTTLED: 'UPSTREAM_THROTTLED',
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  UPSTREAM_TIMEOUT: 'UPSTREAM_TIMEOUT',
  UPSTREAM_BAD_RESPONSE: 'UPSTREAM_BAD_RESPONSE',
  UPSTREAM_OUTCOME_UNKNOWN: 'UPSTREAM_OUTCOME_UNKNOWN',
  // What the caller must act on: the input alone could not decide them.
  WORKFLOW_NOT_FOUND: 'WORKFLOW_NOT_FOUND',
  WORKFLOW_PAUSED: 'WORKFLOW_PAUSED',
  EXECUTION_NOT_FOUND: 'EXECUTION_NOT_FOUND',
  BATCH_TRIGGER_NOT_FOUND: 'BATCH_TRIGGER_NOT_FOUND',
  /** An error that carries no code: an unexpected one, masked before it reaches the client. */
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The `extensions.code` of one error, whatever shape it reached us in; `fallback` (by default the internal-error
 * code) for one without: graphql-js's own parse and validation errors carry none.
 */
export function errorCodeOf(error: unknown, fallback: string = ErrorCode.INTERNAL_SERVER_ERROR): string {
  const code = child(child(error, 'extensions'), 'code');
  return typeof code === 'string' ? code : fallback;
}

/** The codes of a result's errors (one result, or each part of an incremental one), in order. */
export function errorCodesOf(result: unknown): string[] {
  const results = Array.isArray(result) ? result : [result];
  return results.flatMap((single) => {
    const errors = child(single, 'errors');
    return Array.isArray(errors) ? errors.map((error: unknown) => errorCodeOf(error)) : [];
  });
}
