/**
 * Every failure of a CI call is a {@link CiError} with a kind the caller can branch on. Messages are built
 * only from the upstream's code and message and our own words: never from a secret, a signature or an
 * Authorization header.
 */

export type CiErrorKind =
  | 'unauthorized'
  | 'bad_request'
  | 'not_found'
  | 'throttled'
  | 'unavailable'
  | 'timeout'
  | 'unreadable_response'
  /** The caller stopped waiting (client gone, request deadline, shutdown); nothing more was attempted. */
  | 'cancelled';

export interface CiErrorDetails {
  /** The upstream's `<Code>`, when it sent one. */
  readonly code?: string | undefined;
  /** The upstream's `<Message>`, when it sent one. */
  readonly upstreamMessage?: string | undefined;
  readonly requestId?: string | undefined;
  /** HTTP status of the last attempt; undefined when no response arrived. */
  readonly status?: number | undefined;
  /** Which call failed, e.g. `ListWorkflowExecutions`. */
  readonly operation?: string | undefined;
  /** How many attempts were made. */
  readonly attempts?: number | undefined;
  /** Seconds the upstream asked us to wait, when it said. */
  readonly retryAfterSeconds?: number | undefined;
  /**
   * False when the request certainly did not reach CI (the connection was refused): even a call that must not
   * run twice may be retried then.
   */
  readonly requestSent?: boolean | undefined;
  readonly cause?: unknown;
}

export class CiError extends Error {
  override readonly name = 'CiError';
  readonly kind: CiErrorKind;
  readonly code: string | undefined;
  readonly upstreamMessage: string | undefined;
  readonly requestId: string | undefined;
  readonly status: number | undefined;
  readonly operation: string | undefined;
  readonly attempts: number | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly requestSent: boolean | undefined;

  constructor(kind: CiErrorKind, message: string, details: CiErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    this.code = details.code;
    this.upstreamMessage = details.upstreamMessage;
    this.requestId = details.requestId;
    this.status = details.status;
    this.operation = details.operation;
    this.attempts = details.attempts;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.requestSent = details.requestSent;
  }

  /** A copy with call-level facts (operation, attempts) filled in. */
  withContext(details: Pick<CiErrorDetails, 'operation' | 'attempts'>): CiError {
    return new CiError(this.kind, this.message, { ...this.details(), ...details });
  }

  details(): CiErrorDetails {
    return {
      code: this.code,
      upstreamMessage: this.upstreamMessage,
      requestId: this.requestId,
      status: this.status,
      operation: this.operation,
      attempts: this.attempts,
      retryAfterSeconds: this.retryAfterSeconds,
      requestSent: this.requestSent,
      cause: this.cause,
    };
  }
}

/** Codes that mean "the signature's time window does not cover the server's now". */
const CLOCK_SKEW_CODES = new Set(['SignatureExpired', 'RequestTimeTooSkewed']);

export function isClockSkewError(error: CiError): boolean {
  if (error.code !== undefined && CLOCK_SKEW_CODES.has(error.code)) return true;
  return error.code === 'AccessDenied' && /request has expired/i.test(error.upstreamMessage ?? '');
}

/** 5xx and throttling are transient; every other 4xx is the request's own fault and is never retried. */
export function isRetryable(error: CiError): boolean {
  return error.kind === 'unavailable' || error.kind === 'throttled' || error.kind === 'timeout';
}

/**
 * Whether CI may have acted on a request that failed this way. Only a refused connection and a throttling answer
 * (CI turned the request away) prove it did not; a timeout, a reset or a 5xx may come after the work was done.
 */
export function mayHaveActed(error: CiError): boolean {
  return error.kind !== 'throttled' && error.requestSent !== false;
}

/** Maps an HTTP status and upstream code to a kind. */
export function classifyHttpFailure(status: number, code: string | undefined): CiErrorKind {
  if (status === 429 || code === 'SlowDown') return 'throttled';
  if (status >= 500) return 'unavailable';
  if (code === 'ResourceNotFound' || code === 'NoSuchKey' || status === 404) return 'not_found';
  if (status === 401 || status === 403) return 'unauthorized';
  return 'bad_request';
}

const RESPONSE_TOO_LARGE = 'UND_ERR_RES_EXCEEDED_MAX_SIZE';
/** Network errors that mean the request never left: nothing reached CI. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);
const CONNECT_TIMEOUT = 'UND_ERR_CONNECT_TIMEOUT';
/** undici's timeouts: connecting, waiting for the answer to start, and waiting for more of its body. */
const TIMEOUT_CODES = new Set([CONNECT_TIMEOUT, 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** A request that got no usable answer (undici's error), as the CI error it is, saying whether CI may have it. */
export function networkFailure(error: unknown, timeoutMs: number): CiError {
  const code = error instanceof Error ? Reflect.get(error, 'code') : undefined;
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
    return new CiError('timeout', `CI did not answer within ${timeoutMs} ms`, {
      cause: error,
      requestSent: code !== CONNECT_TIMEOUT,
    });
  }
  if (code === RESPONSE_TOO_LARGE) {
    return new CiError('unreadable_response', 'CI sent a response larger than the gateway accepts', {
      cause: error,
    });
  }
  return new CiError(
    'unavailable',
    `CI could not be reached${typeof code === 'string' ? ` (${code})` : ''}`,
    {
      cause: error,
      requestSent: !(typeof code === 'string' && NOT_SENT_CODES.has(code)),
    },
  );
}

export function secondsOrUndefined(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.ceil(ms / 1000);
}

/** `Retry-After` as delay-seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
