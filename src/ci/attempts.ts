/**
 * What one CI call is told and what it tells: the caller's options (its abort signal, its budget, its log), and the
 * report of every attempt, which observers (metrics, traces) see too.
 */
import type { CiErrorKind } from './errors.js';

/** Who is asking, for the quota governor: a user's request first, then a subscription's poll, then background work. */
export type CallPriority = 'interactive' | 'poll' | 'background';

export type HttpMethod = 'GET' | 'POST' | 'PUT';

export interface CallOptions {
  /**
   * Stops the call, including back-off waits, and prevents any further attempt. An abort whose reason is a
   * {@link CiError} fails the call with that error (a deadline says `timeout`); any other reason with `cancelled`.
   */
  readonly signal?: AbortSignal | undefined;
  readonly onAttempt?: ((attempt: UpstreamAttempt) => void) | undefined;
  /**
   * Called before every attempt, retries included, so a caller can pay for each; what it throws fails the call
   * without that attempt being made.
   */
  readonly beforeAttempt?: (() => void) | undefined;
  /** Overrides the transport's retry limit for this call (a health probe wants 0). */
  readonly maxRetries?: number | undefined;
  /** Whose call it is, for the quota governor: a user's by default. */
  readonly priority?: CallPriority | undefined;
}

/** Whose call an attempt is: the bucket it reads or changes, and the account it is signed for. */
export interface Tenant {
  readonly bucket: string;
  readonly account: string;
}

/** An attempt about to be sent. */
export interface AttemptStart {
  readonly operation: string;
  readonly tenant: Tenant | undefined;
  readonly method: HttpMethod;
  /** The path alone: queries are left out of everything observed. */
  readonly path: string;
  readonly attempt: number;
  /** The CI endpoint's host name and port. */
  readonly serverAddress: string;
  readonly serverPort: number;
}

/** Watches the transport's traffic; it cannot change what is sent, beyond unsigned headers. */
export interface UpstreamObserver {
  /** Called as each attempt starts; what it returns is told how the attempt ended. */
  attemptStarted(start: AttemptStart): AttemptObservation | undefined;
  /** A failed attempt that would have been retried was not, because the shared retry budget was spent. */
  retryBudgetSpent?(operation: string): void;
}

export interface AttemptObservation {
  /** Sent with the attempt, outside the signature (a `traceparent`, say). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  ended(attempt: UpstreamAttempt): void;
}

/** One attempt of one call, reported for logging and metrics. */
export interface UpstreamAttempt {
  readonly operation: string;
  readonly tenant: Tenant | undefined;
  readonly attempt: number;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly durationMs: number;
  /** `retry`: this attempt failed and another follows; `cancelled`: the caller stopped waiting. */
  readonly outcome: 'ok' | 'retry' | 'error' | 'cancelled';
  readonly errorKind?: CiErrorKind | undefined;
  readonly errorCode?: string | undefined;
  /** The upstream's own explanation, for logs. */
  readonly errorMessage?: string | undefined;
}

/** How an attempt ended, as metrics and traces name it. */
export type UpstreamOutcome =
  | 'ok'
  | 'not_found'
  | 'client_error'
  | 'unauthorized'
  | 'throttled'
  | 'unavailable'
  | 'timeout'
  | 'bad_response'
  | 'cancelled';

const OUTCOME_OF_KIND: Record<CiErrorKind, UpstreamOutcome> = {
  not_found: 'not_found',
  bad_request: 'client_error',
  unauthorized: 'unauthorized',
  throttled: 'throttled',
  unavailable: 'unavailable',
  timeout: 'timeout',
  unreadable_response: 'bad_response',
  cancelled: 'cancelled',
};

export function outcomeOf(attempt: UpstreamAttempt): UpstreamOutcome {
  if (attempt.outcome === 'ok') return 'ok';
  if (attempt.outcome === 'cancelled') return 'cancelled';
  return attempt.errorKind === undefined ? 'bad_response' : OUTCOME_OF_KIND[attempt.errorKind];
}
