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
 * - Identical reads in flight at the same moment are made once (`single-flight.ts`), keyed by everything that
 *   makes the signed request what it is: method, path, every parameter, and (flights being kept per transport)
 *   credentials.
 * - What is the service's own (its header names, its error body) is its {@link ServiceDialect}: CI's by default.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, type Dispatcher } from 'undici';
import { DEFAULT_TIMEOUT_MS } from '../defaults.js';
import type {
  AttemptObservation,
  AttemptStart,
  CallOptions,
  HttpMethod,
  Tenant,
  UpstreamAttempt,
  UpstreamObserver,
} from './attempts.js';
import { type CredentialSource, fixedCredentials, type SigningKeys } from './credential-source.js';
import { CI_DIALECT, type ServiceDialect } from './dialect.js';
import { encodePath, encodeQuery } from './encoding.js';
import {
  CiError,
  classifyHttpFailure,
  isClockSkewError,
  isRetryable,
  mayHaveActed,
  networkFailure,
  parseRetryAfter,
  secondsOrUndefined,
} from './errors.js';
import type { AccountGovernor } from './governor.js';
import { RetryBudget } from './retry-budget.js';
import { DEFAULT_SIGNATURE_TTL_SECONDS, formatKeyTime, type KeyValuePairs, signRequest } from './signer.js';
import { cancellation, SingleFlight } from './single-flight.js';

export const DEFAULT_MAX_RETRIES = 3;
const DEFAULT_RETRY_BASE_DELAY_MS = 200;
const DEFAULT_RETRY_MAX_DELAY_MS = 5_000;
/** A `Retry-After` longer than this is not waited for: the caller gets the throttling error at once. */
const DEFAULT_MAX_RETRY_AFTER_MS = 20_000;
const DEFAULT_MAX_CONNECTIONS_PER_ORIGIN = 128;
/** A page of 100 executions is about 30 KiB; anything near this is not an answer we can use. */
const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
const KEEP_ALIVE_TIMEOUT_MS = 30_000;

/** A key pair (and, for temporary credentials, the token sent in the dialect's session-token header). */
export type CiCredentials = SigningKeys;

/** The subset of a pino logger the transport uses. */
export interface CiLogger {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface CiTransportOptions {
  /** Base URL without a path, e.g. `https://examplebucket-1250000000.ci.ap-guangzhou.myqcloud.com`. */
  readonly endpoint: string;
  /** Fixed keys, or a source of them (temporary credentials kept fresh), asked for each attempt. */
  readonly credentials: CiCredentials | CredentialSource;
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
  /** The service's header names and error body; CI's when absent. */
  readonly dialect?: ServiceDialect | undefined;
  /** Named in every attempt reported, so metrics, traces and logs tell buckets and accounts apart. */
  readonly tenant?: Tenant | undefined;
  /** The account's quota: asked before every attempt, told of CI's throttling. */
  readonly governor?: QuotaGovernor | undefined;
}

/** What the transport needs of the quota governor (`governor.ts`). */
export type QuotaGovernor = Pick<AccountGovernor, 'acquire' | 'throttled'>;

export interface UpstreamRequest {
  /** The call's name in logs, e.g. `ListWorkflowExecutions`. */
  readonly operation: string;
  readonly method: HttpMethod;
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
  readonly #credentials: CredentialSource;
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
  readonly #dialect: ServiceDialect;
  readonly #tenant: Tenant | undefined;
  readonly #governor: QuotaGovernor | undefined;
  /** Server time minus local time, learnt from a skew error's `Date` header. */
  #clockOffsetMs = 0;
  readonly #flights = new SingleFlight();

  constructor(options: CiTransportOptions) {
    this.#origin = new URL(options.endpoint);
    if (this.#origin.pathname !== '/' || this.#origin.search !== '') {
      throw new TypeError('CI endpoint must be an origin without path or query');
    }
    this.#credentials =
      'current' in options.credentials ? options.credentials : fixedCredentials(options.credentials);
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
    this.#dialect = options.dialect ?? CI_DIALECT;
    this.#tenant = options.tenant;
    this.#governor = options.governor;
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
    return this.#flights.run(this.#identity(request), options, (shared) =>
      this.#callAlone(request, decode, shared),
    );
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
      // Within the account's quota, or not at all: a refusal is the caller's answer, never retried here.
      await this.#governor?.acquire(options.priority ?? 'interactive', signal);
      if (attempt === 1) this.#retryBudget.recordFirstAttempt();
      const started = performance.now();
      const observations = this.#observe(request, attempt);
      const report = (outcome: UpstreamAttempt['outcome'], response?: UpstreamResponse, error?: CiError) => {
        const reported: UpstreamAttempt = {
          operation: request.operation,
          tenant: this.#tenant,
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
        failure = this.#httpFailure(response);
      } catch (error) {
        if (!(error instanceof CiError)) {
          report('error', response);
          throw error;
        }
        failure = error;
      }
      // CI itself throttled the account: every replica sharing its quota slows down.
      if (failure.kind === 'throttled' && failure.status !== undefined) void this.#governor?.throttled();
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

  #httpFailure(response: UpstreamResponse): CiError {
    const body = this.#dialect.decodeError(response.body);
    const code = body?.code;
    const kind = classifyHttpFailure(response.status, code);
    const what = code ? `${code}${body?.message ? `: ${body.message}` : ''}` : 'no error body';
    return new CiError(kind, `CI answered HTTP ${response.status} (${what})`, {
      code,
      upstreamMessage: body?.message,
      requestId: body?.requestId ?? response.requestId,
      status: response.status,
      retryAfterSeconds: secondsOrUndefined(parseRetryAfter(response.retryAfter, this.#now())),
    });
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
      tenant: this.#tenant,
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
    const keys = await this.#credentials.current();
    const keyTime = formatKeyTime(this.#now() + this.#clockOffsetMs, this.#signatureTtlSeconds);
    const { authorization } = signRequest(
      { method: request.method, path: request.path, query: request.query, headers: headersToSign },
      keys,
      keyTime,
    );
    const headers: Record<string, string> = {};
    for (const observation of observations) Object.assign(headers, observation.headers);
    Object.assign(headers, Object.fromEntries(headersToSign), { authorization, accept: 'application/xml' });
    // Sent unsigned, as the official Node SDK does.
    if (keys.sessionToken) headers[this.#dialect.sessionTokenHeader] = keys.sessionToken;

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
        requestId: header(response.headers, this.#dialect.requestIdHeader),
        date: header(response.headers, 'date'),
        retryAfter: header(response.headers, 'retry-after'),
      };
    } catch (error) {
      if (callerSignal?.aborted) throw cancellation(callerSignal);
      throw networkFailure(error, this.#timeoutMs);
    }
  }
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
