/**
 * The errors resolvers raise. Bad input and upstream failures become GraphQL errors with a stable `extensions.code`
 * (the codes are in `src/error-codes.ts`); anything else is left for the server to mask.
 */
import { GraphQLError } from 'graphql';
import { CiError, type CiErrorKind, mayHaveActed } from '../ci/errors.js';
import { ErrorCode } from '../error-codes.js';

export function userInputError(message: string, argumentName?: string): GraphQLError {
  const code = ErrorCode.BAD_USER_INPUT;
  return new GraphQLError(message, {
    extensions: argumentName === undefined ? { code } : { code, argumentName },
  });
}

/** A bucket this gateway does not serve. */
export function unknownBucket(bucketId: string, argumentName?: string): GraphQLError {
  return userInputError(
    `This gateway serves no bucket ${JSON.stringify(bucketId)}; Query.buckets lists them.`,
    argumentName,
  );
}

/** No bucket named, and none to fall back on: several are served and none is the default. */
export function bucketRequired(
  argumentName: string,
  served: readonly { readonly bucketId: string }[],
): GraphQLError {
  const names = served.map((bucket) => bucket.bucketId).join(', ');
  return userInputError(
    `${argumentName} is required: this gateway serves several buckets (${names}) and none is the default.`,
    argumentName,
  );
}

/** A bucket outside the caller's token's bucket claim: refused before any call. */
export function bucketForbidden(bucketId: string): GraphQLError {
  return new GraphQLError(`This caller may not use bucket ${bucketId}.`, {
    extensions: { code: ErrorCode.FORBIDDEN, bucketId },
  });
}

const UPSTREAM_ERRORS: Record<CiErrorKind, { code: ErrorCode; message: string }> = {
  unauthorized: {
    code: ErrorCode.UPSTREAM_UNAUTHORIZED,
    message: 'The CI service rejected the gateway’s credentials.',
  },
  bad_request: { code: ErrorCode.UPSTREAM_BAD_REQUEST, message: 'The CI service rejected the request.' },
  // Only reached where a missing resource is not simply `null` (which is how single lookups report it).
  not_found: {
    code: ErrorCode.UPSTREAM_BAD_REQUEST,
    message: 'The CI service does not know the requested resource.',
  },
  throttled: {
    code: ErrorCode.UPSTREAM_THROTTLED,
    message: 'The CI service is throttling requests; retry later.',
  },
  unavailable: { code: ErrorCode.UPSTREAM_UNAVAILABLE, message: 'The CI service is unavailable.' },
  timeout: { code: ErrorCode.UPSTREAM_TIMEOUT, message: 'The CI service did not answer in time.' },
  unreadable_response: {
    code: ErrorCode.UPSTREAM_BAD_RESPONSE,
    message: 'The CI service sent a response the gateway could not read.',
  },
  // Seen only when the gateway itself stops a request (it is shutting down); a client that left sees nothing.
  cancelled: {
    code: ErrorCode.REQUEST_CANCELLED,
    message: 'The gateway stopped this request before the CI service answered; retry it.',
  },
};

/**
 * An upstream failure as clients see it: our own message, a stable code and the facts that help whoever reports
 * it (the upstream's code, request id and status). The upstream's message stays in the logs.
 */
export function upstreamGraphQLError(
  error: Pick<CiError, 'kind'> &
    Partial<Pick<CiError, 'code' | 'requestId' | 'status' | 'retryAfterSeconds'>>,
): GraphQLError {
  const { code, message } = UPSTREAM_ERRORS[error.kind];
  const upstream: Record<string, string | number> = {};
  if (error.code !== undefined) upstream['code'] = error.code;
  if (error.requestId !== undefined) upstream['requestId'] = error.requestId;
  if (error.status !== undefined) upstream['status'] = error.status;
  if (error.retryAfterSeconds !== undefined) upstream['retryAfterSeconds'] = error.retryAfterSeconds;
  // No `originalError`: the server masks errors that wrap a non-GraphQL error, and the CI error's own message
  // (the upstream's wording) belongs in the logs, which get it from the client's attempt reports.
  return new GraphQLError(message, { extensions: { code, upstream } });
}

/** Rethrows a CI failure as its GraphQL error; anything else unchanged. */
export function asGraphQLError(error: unknown): unknown {
  return error instanceof CiError ? upstreamGraphQLError(error) : error;
}

/** The request would make more upstream calls than one request may. */
export function upstreamBudgetError(limit: number): GraphQLError {
  return new GraphQLError(
    `This request needs more than ${limit} calls to the CI service; ask for fewer items, aliases or detail fields.`,
    { extensions: { code: ErrorCode.UPSTREAM_CALL_BUDGET_EXCEEDED, limit } },
  );
}

export function actionError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

export const workflowNotFound = (workflowId: string) =>
  actionError(ErrorCode.WORKFLOW_NOT_FOUND, `CI has no workflow ${workflowId}.`, { workflowId });
export const executionNotFound = (runId: string) =>
  actionError(ErrorCode.EXECUTION_NOT_FOUND, `CI has no run ${runId}.`, { runId });
export const batchTriggerNotFound = (jobId: string) =>
  actionError(ErrorCode.BATCH_TRIGGER_NOT_FOUND, `CI has no batch trigger ${jobId}.`, { jobId });

/**
 * A change CI may or may not have made (`UPSTREAM_OUTCOME_UNKNOWN`): the request reached it (or may have) and no
 * answer came back. It is never sent again by the gateway; the caller checks (list the object's executions) before
 * trying again.
 *
 * A failed call that must not run twice, as clients see it: if CI may have acted (a timeout, a reset, a 5xx after
 * the request was written, an answer that cannot be read), `UPSTREAM_OUTCOME_UNKNOWN`; otherwise the usual mapping.
 */
export function asActionGraphQLError(error: unknown): unknown {
  if (!(error instanceof CiError)) return error;
  // No answer that says what CI did: none came, or one came that cannot be read (a 200 means CI acted).
  const unanswered =
    error.kind === 'timeout' ||
    error.kind === 'unavailable' ||
    error.kind === 'cancelled' ||
    error.kind === 'unreadable_response';
  if (!unanswered || !mayHaveActed(error)) return upstreamGraphQLError(error);
  const upstream: Record<string, string | number> = {};
  if (error.requestId !== undefined) upstream['requestId'] = error.requestId;
  if (error.status !== undefined) upstream['status'] = error.status;
  return new GraphQLError(
    'The CI service may or may not have made this change: the request reached it and no answer came back. ' +
      'Check before trying again (for a trigger: list the executions of the object).',
    { extensions: { code: ErrorCode.UPSTREAM_OUTCOME_UNKNOWN, upstream } },
  );
}
