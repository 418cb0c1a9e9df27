/**
 * The one generic signed request under every typed CI call: sign, send, read, retry. It knows HTTP, q-sign and
 * failure handling; the typed calls in `client.ts` only say which request to make and how to decode the answer.
 *
 * - One undici Agent: one keep-alive pool per upstream origin.
 * - Every attempt is signed afresh (a retry after a long back-off must not reuse an expiring key time), has its
 *   own timeout covering connect, headers and body, and is reported (`onAttempt`) and paid for (`beforeAttempt`).
 * - Network errors, timeouts, 5xx and 429 are retried with full-jitter exponential back-off honouring
 *   `Retry-After`, within the call's limit and the gateway-wide {@link RetryBudget}; other 4xx never are. A call
 *   that must not run twice (`idempotent: false`) is retried only when CI certainly did not act on it.
 * - A caller's abort stops everything at once: the attempt in flight, the back-off, and any further attempt. It is
 *   reported as `cancelled`, never as the upstream being unavailable, and never retried.
 * - A signature rejected as expired or skewed corrects the clock offset from the server's `Date`, once.
 * - Identical reads in flight at the same moment are made once (single-flight), keyed by everything that makes the
 *   signed request what it is: method, path, every parameter, and (flights being kept per transport) credentials.
 *   Each caller still pays for every attempt from its own budget, stops waiting on its own abort, and gets the
 *   shared failure as its own; the shared call is abandoned only when no caller waits any more.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, type Dispatcher } from 'undici';
import { DEFAULT_TIMEOUT_MS } from '../config.js';
import { encodePath, encodeQuery } from './encoding.js';
import {
  CiError,
  type CiErrorKind,
  classifyHttpFailure,
  isClockSkewError,
  isRetryable,
  mayHaveActed,
} from './errors.js';
import { decodeErrorBody } from './responses.js';
import { RetryBudget } from './retry-budget.js';
import { DEFAULT_SIGNATURE_TTL_SECONDS, formatKeyTime, type KeyValuePairs, signRequest } from './signer.js';

export const DEFAULT_MAX_RETRIES = 3;
const DEFAULT_RETRY_BASE_DELAY_MS = 200;
const DEFAULT_RETRY_MAX_DELAY_MS = 5_000;
/** A `Retry-After` longer than this is not waited for: the caller gets the throttling error at once. */
const DEFAULT_MAX_RETRY_AFTER_MS = 20_000;
const DEFAULT_MAX_CONNECTIONS_PER_ORIGIN = 128;
/** A page of 100 executions is about 30 KiB; anything near this is not an answer we can use. */
const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
const RESPONSE_TOO_LARGE = 'UND_ERR_RES_EXCEEDED_MAX_SIZE';
/** Network errors that mean the request never left: nothing reached CI. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);
const CONNECT_TIMEOUT = 'UND_ERR_CONNECT_TIMEOUT';
/** undici's timeouts: connecting, waiting for the answer to start, and waiting for more of its body. */
const TIMEOUT_CODES = new Set([CONNECT_TIMEOUT, 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const KEEP_ALIVE_TIMEOUT_MS = 30_000;
export const SESSION_TOKEN_HEADER = 'x-ci-security-token';
const REQUEST_ID_HEADER = 'x-ci-request-id';

export interface CiCredentials {
  readonly secretId: string;
  readonly secretKey: string;
  /** Temporary (STS) credentials' token, sent as `x-ci-security-token`. */
  readonly sessionToken?: string | undefined;
}

/** The subset of a pino logger the transport uses. */
export interface CiLogger {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface CiTransportOptions {
  /** Base URL without a path, e.g. `https://examplebucket-1250000000.ci.ap-guangzhou.myqcloud.com`. */
  readonly endpoint: string;
  readonly credentials: CiCredentials;
  /** Per attempt. */
  readonly timeoutMs?: number | undefined;
  readonly maxRetries?: number | undefined;
  readonly retryBaseDelayMs?: number | undefined;
  readonly retryMaxDelayMs?: number | undefined;
  readonly maxRetryAfterMs?: number | undefined;
  /** Shared by every call of this transport; a fresh default budget when absent. */
  readonly retryBudget?: RetryBudget | undefined;
  readonly maxConnectionsPerOrigin?: number | undefined;
  /** Larger bodies are abandoned as unreadable rather than buffered. */
  readonly maxResponseBytes?: number | undefined;
  readonly signatureTtlSeconds?: number | undefined;
  readonly logger?: CiLogger | undefined;
  /** Injectable for tests. */
  readonly now?: (() => number) | undefined;
  readonly random?: (() => number) | undefined;
  readonly sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /** Use a shared dispatcher instead of the transport's own Agent (the transport then does not close it). */
  readonly dispatcher?: Dispatcher | undefined;
  /** See every attempt of every call (metrics, traces), whoever made it. */
  readonly observers?: readonly UpstreamObserver[] | undefined;
}

/** An attempt about to be sent. */
export interface AttemptStart {
  readonly operation: string;
  readonly method: UpstreamRequest['method'];
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
}

/** One caller waiting on a shared call. */
interface Waiter {
  readonly options: CallOptions;
  readonly fail: (error: unknown) => void;
}

interface Flight {
  readonly waiters: Set<Waiter>;
  readonly controller: AbortController;
  readonly result: Promise<unknown>;
}

export interface UpstreamRequest {
  /** The call's name in logs, e.g. `ListWorkflowExecutions`. */
  readonly operation: string;
  readonly method: 'GET' | 'POST' | 'PUT';
  /** Decoded path, as signed. */
  readonly path: string;
  readonly query: KeyValuePairs;
  /** An XML request body; requests with a body (or a POST) sign `content-type` and `content-length`. */
  readonly body?: string | undefined;
  /** False for calls that must not run twice (a trigger): retried only when CI certainly did not act. */
  readonly idempotent: boolean;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly body: string;
  readonly requestId: string | undefined;
  readonly date: string | undefined;
  readonly retryAfter: string | undefined;
}

export class CiTransport {
  readonly #origin: URL;
  readonly #credentials: CiCredentials;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #retryBaseDelayMs: number;
  readonly #retryMaxDelayMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #retryBudget: RetryBudget;
  readonly #signatureTtlSeconds: number;
  readonly #logger: CiLogger | undefined;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #observers: readonly UpstreamObserver[];
  /** Server time minus local time, learnt from a skew error's `Date` header. */
  #clockOffsetMs = 0;
  /** Reads in flight, by request identity. */
  readonly #flights = new Map<string, Flight>();

  constructor(options: CiTransportOptions) {
    this.#origin = new URL(options.endpoint);
    if (this.#origin.pathname !== '/' || this.#origin.search !== '') {
      throw new TypeError('CI endpoint must be an origin without path or query');
    }
    this.#credentials = options.credentials;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.#retryBaseDelayMs = options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS;
    this.#retryMaxDelayMs = options.retryMaxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS;
    this.#maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
    this.#retryBudget = options.retryBudget ?? new RetryBudget();
    this.#signatureTtlSeconds = options.signatureTtlSeconds ?? DEFAULT_SIGNATURE_TTL_SECONDS;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#sleep = options.sleep ?? sleep;
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#observers = options.observers ?? [];
    this.#dispatcher =
      options.dispatcher ??
      new Agent({
        connections: options.maxConnectionsPerOrigin ?? DEFAULT_MAX_CONNECTIONS_PER_ORIGIN,
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        maxResponseSize: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
        connect: { timeout: this.#timeoutMs },
      });
  }

  /** The clock correction currently applied to signatures, in milliseconds. */
  get clockOffsetMs(): number {
    return this.#clockOffsetMs;
  }

  /**
   * Makes the request (with retries as its kind allows) and decodes a 2xx answer; every failure is a CiError.
   * A read identical to one already in flight joins it instead of making another.
   */
  call<T>(request: UpstreamRequest, decode: (body: string) => T, options: CallOptions = {}): Promise<T> {
    if (request.method !== 'GET' || !request.idempotent) return this.#callAlone(request, decode, options);
    return this.#join(request, decode, options);
  }

  #join<T>(request: UpstreamRequest, decode: (body: string) => T, options: CallOptions): Promise<T> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(cancellation(signal));
    const key = this.#identity(request);
    let flight = this.#flights.get(key);
    // Joining a call already under way pays for one attempt, as making it would have.
    if (flight) options.beforeAttempt?.();
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        options,
        fail: (error) => {
          leave();
          reject(error);
        },
      };
      const onAbort = () => {
        const why = cancellation(signal as AbortSignal);
        const shared = flight as Flight;
        if (shared.waiters.size === 1 && shared.waiters.has(waiter)) {
          // The last caller: stop the call itself, for its reason, and fail with it once the call has reported
          // the attempt it cut short, so that attempt shows in this caller's log.
          if (this.#flights.get(key) === shared) this.#flights.delete(key);
          shared.controller.abort(why);
        } else {
          waiter.fail(why);
        }
      };
      // Every other way out (an answer, a failure, a spent budget) comes with the call itself over, or with
      // other callers still waiting: leaving only stops listening.
      const leave = () => {
        signal?.removeEventListener('abort', onAbort);
        flight?.waiters.delete(waiter);
      };
      if (flight) flight.waiters.add(waiter);
      else flight = this.#startFlight(key, request, decode, waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      flight.result.then(
        (value) => {
          leave();
          resolve(value as T);
        },
        (error: unknown) => waiter.fail(error),
      );
    });
  }

  #startFlight<T>(key: string, request: UpstreamRequest, decode: (body: string) => T, first: Waiter): Flight {
    const waiters = new Set<Waiter>([first]);
    const controller = new AbortController();
    let attempts = 0;
    const flight: Flight = {
      waiters,
      controller,
      result: this.#callAlone(request, decode, {
        signal: controller.signal,
        maxRetries: first.options.maxRetries,
        onAttempt: (attempt) => {
          for (const waiter of waiters) waiter.options.onAttempt?.(attempt);
        },
        // Every waiter pays for every attempt; one whose budget is spent fails alone and the rest go on.
        beforeAttempt: () => {
          attempts += 1;
          for (const waiter of [...waiters]) {
            // Those who joined before the first attempt paid when they joined.
            if (attempts === 1 && waiter !== first) continue;
            try {
              waiter.options.beforeAttempt?.();
            } catch (error) {
              waiters.delete(waiter);
              waiter.fail(error);
            }
          }
          if (waiters.size === 0) throw new CiError('cancelled', 'No caller can pay for another attempt');
        },
      }),
    };
    this.#flights.set(key, flight);
    // A settled call leaves the table at once: the next identical read is a new call, with fresh data.
    const land = () => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    };
    flight.result.then(land, land);
    return flight;
  }

  /**
   * Everything that makes two reads the same signed request. Credentials are left out because flights are kept
   * per transport, and a transport signs with one set of credentials: calls under other credentials never meet.
   */
  #identity(request: UpstreamRequest): string {
    return JSON.stringify([request.method, request.path, request.query]);
  }

  async #callAlone<T>(
    request: UpstreamRequest,
    decode: (body: string) => T,
    options: CallOptions,
  ): Promise<T> {
    const { signal, onAttempt, beforeAttempt } = options;
    const maxRetries = options.maxRetries ?? this.#maxRetries;
    let clockCorrected = false;
    let retries = 0;
    for (let attempt = 1; ; attempt += 1) {
      if (signal?.aborted) throw cancellation(signal);
      beforeAttempt?.();
      if (attempt === 1) this.#retryBudget.recordFirstAttempt();
      const started = performance.now();
      const observations = this.#observe(request, attempt);
      const report = (outcome: UpstreamAttempt['outcome'], response?: UpstreamResponse, error?: CiError) => {
        const reported: UpstreamAttempt = {
          operation: request.operation,
          attempt,
          status: response?.status,
          requestId: response?.requestId,
          durationMs: Math.round(performance.now() - started),
          outcome,
          errorKind: error?.kind,
          errorCode: error?.code,
          errorMessage: error?.upstreamMessage,
        };
        onAttempt?.(reported);
        for (const observation of observations) observation.ended(reported);
      };

      let response: UpstreamResponse | undefined;
      let failure: CiError;
      try {
        response = await this.#send(request, signal, observations);
        if (response.status >= 200 && response.status < 300) {
          const value = decodeOrExplain(decode, response);
          report('ok', response);
          return value;
        }
        failure = httpFailure(response, this.#now());
      } catch (error) {
        if (!(error instanceof CiError)) {
          report('error', response);
          throw error;
        }
        failure = error;
      }
      if (failure.kind === 'cancelled' || signal?.aborted) {
        const stopped = signal?.aborted ? cancellation(signal) : failure;
        report(stopped.kind === 'cancelled' ? 'cancelled' : 'error', response, stopped);
        throw stopped.withContext({ operation: request.operation, attempts: attempt });
      }

      // A rejected signature time proves CI did nothing: safe to repeat even a trigger.
      if (!clockCorrected && isClockSkewError(failure) && this.#correctClock(response?.date)) {
        clockCorrected = true;
        report('retry', response, failure);
        this.#logger?.warn(
          { operation: request.operation, clockOffsetMs: this.#clockOffsetMs, requestId: failure.requestId },
          'CI rejected the signature time; corrected the clock from its Date header and retrying',
        );
        continue;
      }

      const delayMs = this.#retryDelay(request, failure, retries, maxRetries);
      if (delayMs === undefined) {
        report('error', response, failure);
        throw failure.withContext({ operation: request.operation, attempts: attempt });
      }
      retries += 1;
      report('retry', response, failure);
      this.#logger?.debug(
        {
          operation: request.operation,
          attempt,
          delayMs,
          kind: failure.kind,
          code: failure.code,
          status: failure.status,
          requestId: failure.requestId,
        },
        'CI call failed; retrying',
      );
      try {
        await this.#sleep(delayMs, signal);
      } catch (error) {
        if (signal?.aborted) {
          throw cancellation(signal).withContext({ operation: request.operation, attempts: attempt });
        }
        throw error;
      }
    }
  }

  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  /** Milliseconds to wait before the next attempt, or undefined when the failure must not be retried. */
  #retryDelay(
    request: UpstreamRequest,
    failure: CiError,
    retriesSoFar: number,
    maxRetries: number,
  ): number | undefined {
    if (retriesSoFar >= maxRetries || !isRetryable(failure)) return undefined;
    if (!request.idempotent && mayHaveActed(failure)) return undefined;
    const requested = failure.retryAfterSeconds === undefined ? undefined : failure.retryAfterSeconds * 1000;
    if (requested !== undefined && requested > this.#maxRetryAfterMs) return undefined;
    // Checked last, so only a retry that would really be made spends the shared budget.
    if (!this.#retryBudget.tryRetry()) {
      this.#logger?.debug({ operation: request.operation }, 'retry budget spent; not retrying');
      for (const observer of this.#observers) observer.retryBudgetSpent?.(request.operation);
      return undefined;
    }
    if (requested !== undefined) return requested;
    // Full jitter: uniformly random up to the exponential ceiling, so retrying replicas spread out.
    const ceiling = Math.min(this.#retryMaxDelayMs, this.#retryBaseDelayMs * 2 ** retriesSoFar);
    return Math.round(this.#random() * ceiling);
  }

  #correctClock(date: string | undefined): boolean {
    const serverTime = date === undefined ? Number.NaN : Date.parse(date);
    if (Number.isNaN(serverTime)) return false;
    this.#clockOffsetMs = serverTime - this.#now();
    return true;
  }

  #observe(request: UpstreamRequest, attempt: number): AttemptObservation[] {
    const observations: AttemptObservation[] = [];
    const start: AttemptStart = {
      operation: request.operation,
      method: request.method,
      path: request.path,
      attempt,
      serverAddress: this.#origin.hostname,
      serverPort: Number(this.#origin.port || (this.#origin.protocol === 'https:' ? 443 : 80)),
    };
    for (const observer of this.#observers) {
      const observation = observer.attemptStarted(start);
      if (observation) observations.push(observation);
    }
    return observations;
  }

  async #send(
    request: UpstreamRequest,
    callerSignal: AbortSignal | undefined,
    observations: readonly AttemptObservation[],
  ): Promise<UpstreamResponse> {
    const hasBody = request.body !== undefined || request.method === 'POST';
    const body = request.body ?? '';
    const headersToSign: Array<[string, string]> = [['host', this.#origin.host]];
    if (hasBody) {
      headersToSign.push(
        ['content-type', 'application/xml'],
        ['content-length', String(Buffer.byteLength(body))],
      );
    }
    const keyTime = formatKeyTime(this.#now() + this.#clockOffsetMs, this.#signatureTtlSeconds);
    const { authorization } = signRequest(
      { method: request.method, path: request.path, query: request.query, headers: headersToSign },
      this.#credentials,
      keyTime,
    );
    const headers: Record<string, string> = {};
    for (const observation of observations) Object.assign(headers, observation.headers);
    Object.assign(headers, Object.fromEntries(headersToSign), { authorization, accept: 'application/xml' });
    // Sent unsigned, as the official Node SDK does.
    if (this.#credentials.sessionToken) headers[SESSION_TOKEN_HEADER] = this.#credentials.sessionToken;

    try {
      const response = await this.#dispatcher.request({
        origin: this.#origin.origin,
        path: encodePath(request.path) + encodeQuery(request.query),
        method: request.method,
        headers,
        body: hasBody ? body : null,
        // undici's own timers (cheaper than a timeout signal per attempt): the answer must start, and then keep
        // coming, within the attempt's timeout; connecting has the same limit, set on the pool.
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        signal: callerSignal,
      });
      const text = await response.body.text();
      return {
        status: response.statusCode,
        body: text,
        requestId: header(response.headers, REQUEST_ID_HEADER),
        date: header(response.headers, 'date'),
        retryAfter: header(response.headers, 'retry-after'),
      };
    } catch (error) {
      if (callerSignal?.aborted) throw cancellation(callerSignal);
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
        throw new CiError('timeout', `CI did not answer within ${this.#timeoutMs} ms`, {
          cause: error,
          requestSent: code !== CONNECT_TIMEOUT,
        });
      }
      if (code === RESPONSE_TOO_LARGE) {
        throw new CiError('unreadable_response', 'CI sent a response larger than the gateway accepts', {
          cause: error,
        });
      }
      throw new CiError(
        'unavailable',
        `CI could not be reached${typeof code === 'string' ? ` (${code})` : ''}`,
        {
          cause: error,
          requestSent: !(typeof code === 'string' && NOT_SENT_CODES.has(code)),
        },
      );
    }
  }
}

/** The error a call fails with when its caller aborts: the abort's own CiError, else `cancelled`. */
function cancellation(signal: AbortSignal): CiError {
  const reason: unknown = signal.reason;
  if (reason instanceof CiError) return reason;
  return new CiError('cancelled', 'The caller stopped waiting before CI answered', { cause: reason });
}

function decodeOrExplain<T>(decode: (body: string) => T, response: UpstreamResponse): T {
  try {
    return decode(response.body);
  } catch (error) {
    if (!(error instanceof CiError)) throw error;
    throw new CiError(error.kind, error.message, {
      ...error.details(),
      status: response.status,
      requestId: response.requestId,
    });
  }
}

function httpFailure(response: UpstreamResponse, nowMs: number): CiError {
  const body = decodeErrorBody(response.body);
  const code = body?.code;
  const kind = classifyHttpFailure(response.status, code);
  const what = code ? `${code}${body?.message ? `: ${body.message}` : ''}` : 'no error body';
  return new CiError(kind, `CI answered HTTP ${response.status} (${what})`, {
    code,
    upstreamMessage: body?.message,
    requestId: body?.requestId ?? response.requestId,
    status: response.status,
    retryAfterSeconds: secondsOrUndefined(parseRetryAfter(response.retryAfter, nowMs)),
  });
}

function secondsOrUndefined(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.ceil(ms / 1000);
}

/** `Retry-After` as delay-seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Waits, rejecting with the abort reason (not a generic AbortError) when the caller gives up. */
async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (error) {
    throw signal?.aborted ? signal.reason : error;
  }
}
