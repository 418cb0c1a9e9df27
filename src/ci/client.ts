/**
 * The typed, signed, resilient client of the CI API. It knows HTTP, signing and retries; nothing of GraphQL.
 *
 * - One undici Agent per client: it keeps one keep-alive pool per upstream origin.
 * - Every attempt is signed afresh (a retry after a long back-off must not reuse an expiring key time) and has
 *   its own timeout covering connect, headers and body.
 * - Network errors, timeouts, 5xx and 429 are retried with full-jitter exponential back-off, honouring
 *   `Retry-After`; other 4xx never are.
 * - A signature rejected as expired or skewed corrects the clock offset from the server's `Date` and is
 *   retried once.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Agent, type Dispatcher } from 'undici';
import { encodePath, encodeQuery } from './encoding.js';
import { CiError, classifyHttpFailure, isClockSkewError, isRetryable } from './errors.js';
import {
  decodeErrorBody,
  decodeListWorkflowExecutions,
  decodeWorkflowExecutionDetail,
  decodeWorkflowLookup,
} from './responses.js';
import { DEFAULT_SIGNATURE_TTL_SECONDS, formatKeyTime, type KeyValuePairs, signRequest } from './signer.js';
import { formatCiTime } from './time.js';
import {
  isValidRunId,
  isValidWorkflowId,
  type ListWorkflowExecutionsParams,
  MAX_UPSTREAM_PAGE_SIZE,
  type WorkflowExecutionDetail,
  type WorkflowExecutionPage,
  type WorkflowLookup,
} from './types.js';

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RETRIES = 3;
const DEFAULT_RETRY_BASE_DELAY_MS = 200;
const DEFAULT_RETRY_MAX_DELAY_MS = 5_000;
/** A `Retry-After` longer than this is not waited for: the caller gets the throttling error at once. */
const DEFAULT_MAX_RETRY_AFTER_MS = 20_000;
const DEFAULT_MAX_CONNECTIONS_PER_ORIGIN = 64;
/** A page of 100 executions is about 30 KiB; anything near this is not an answer we can use. */
const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
const RESPONSE_TOO_LARGE = 'UND_ERR_RES_EXCEEDED_MAX_SIZE';
const KEEP_ALIVE_TIMEOUT_MS = 30_000;
/** The search call's page size limit, and so the most ids one lookup can resolve. */
export const MAX_WORKFLOW_IDS_PER_LOOKUP = 100;
export const SESSION_TOKEN_HEADER = 'x-ci-security-token';
const REQUEST_ID_HEADER = 'x-ci-request-id';

export interface CiCredentials {
  readonly secretId: string;
  readonly secretKey: string;
  /** Temporary (STS) credentials' token, sent as `x-ci-security-token`. */
  readonly sessionToken?: string | undefined;
}

/** The subset of a pino logger the client uses. */
export interface CiLogger {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface CiClientOptions {
  /** Base URL without a path, e.g. `https://examplebucket-1250000000.ci.ap-guangzhou.myqcloud.com`. */
  readonly endpoint: string;
  readonly credentials: CiCredentials;
  /** Per attempt. */
  readonly timeoutMs?: number | undefined;
  readonly maxRetries?: number | undefined;
  readonly retryBaseDelayMs?: number | undefined;
  readonly retryMaxDelayMs?: number | undefined;
  readonly maxRetryAfterMs?: number | undefined;
  readonly maxConnectionsPerOrigin?: number | undefined;
  /** Larger bodies are abandoned as unreadable rather than buffered. */
  readonly maxResponseBytes?: number | undefined;
  readonly signatureTtlSeconds?: number | undefined;
  readonly logger?: CiLogger | undefined;
  /** Injectable for tests. */
  readonly now?: (() => number) | undefined;
  readonly random?: (() => number) | undefined;
  readonly sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /** Use a shared dispatcher instead of the client's own Agent (the client then does not close it). */
  readonly dispatcher?: Dispatcher | undefined;
}

/** One attempt of one call, reported for logging and metrics. */
export interface UpstreamAttempt {
  readonly operation: string;
  readonly attempt: number;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly durationMs: number;
  /** `retry`: this attempt failed and another follows. */
  readonly outcome: 'ok' | 'retry' | 'error';
  readonly errorKind?: string | undefined;
  readonly errorCode?: string | undefined;
  /** The upstream's own explanation, for logs. */
  readonly errorMessage?: string | undefined;
}

export interface CallOptions {
  /** Aborts the call, including back-off waits; the abort reason is thrown. */
  readonly signal?: AbortSignal | undefined;
  readonly onAttempt?: ((attempt: UpstreamAttempt) => void) | undefined;
  /** Overrides the client's retry budget for this call (a health probe wants 0). */
  readonly maxRetries?: number | undefined;
}

interface UpstreamRequest {
  readonly operation: string;
  readonly method: 'GET';
  /** Decoded path, as signed. */
  readonly path: string;
  readonly query: KeyValuePairs;
}

interface UpstreamResponse {
  readonly status: number;
  readonly body: string;
  readonly requestId: string | undefined;
  readonly date: string | undefined;
  readonly retryAfter: string | undefined;
}

export class CiClient {
  readonly #origin: URL;
  readonly #credentials: CiCredentials;
  readonly #timeoutMs: number;
  readonly #maxRetries: number;
  readonly #retryBaseDelayMs: number;
  readonly #retryMaxDelayMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #signatureTtlSeconds: number;
  readonly #logger: CiLogger | undefined;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  /** Server time minus local time, learnt from a skew error's `Date` header. */
  #clockOffsetMs = 0;

  constructor(options: CiClientOptions) {
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
    this.#signatureTtlSeconds = options.signatureTtlSeconds ?? DEFAULT_SIGNATURE_TTL_SECONDS;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#sleep = options.sleep ?? sleep;
    this.#ownsDispatcher = options.dispatcher === undefined;
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

  /** `GET /workflowexecution`: one page of a workflow's executions. */
  listWorkflowExecutions(
    params: ListWorkflowExecutionsParams,
    options?: CallOptions,
  ): Promise<WorkflowExecutionPage> {
    return this.#execute(
      {
        operation: 'ListWorkflowExecutions',
        method: 'GET',
        path: '/workflowexecution',
        query: listQuery(params),
      },
      decodeListWorkflowExecutions,
      options,
    );
  }

  /** `GET /workflowexecution/<RunId>`: one execution with its tasks. An unknown run is a `not_found` error. */
  getWorkflowExecution(runId: string, options?: CallOptions): Promise<WorkflowExecutionDetail> {
    if (!isValidRunId(runId)) throw new RangeError('runId must be a non-empty path segment');
    return this.#execute(
      { operation: 'GetWorkflowExecution', method: 'GET', path: `/workflowexecution/${runId}`, query: [] },
      decodeWorkflowExecutionDetail,
      options,
    );
  }

  /** `GET /workflow?ids=…`: up to {@link MAX_WORKFLOW_IDS_PER_LOOKUP} workflows by id in one call. */
  getWorkflows(ids: readonly string[], options?: CallOptions): Promise<WorkflowLookup> {
    if (ids.length === 0 || ids.length > MAX_WORKFLOW_IDS_PER_LOOKUP) {
      throw new RangeError(`between 1 and ${MAX_WORKFLOW_IDS_PER_LOOKUP} workflow ids per lookup`);
    }
    if (!ids.every(isValidWorkflowId)) throw new RangeError('workflow ids must be non-empty, without commas');
    return this.#execute(
      {
        operation: 'GetWorkflows',
        method: 'GET',
        path: '/workflow',
        // The search pages its results (10 by default): ask for one page big enough for every id.
        query: [
          ['ids', ids.join(',')],
          ['pageNumber', '1'],
          ['pageSize', String(ids.length)],
        ],
      },
      decodeWorkflowLookup,
      options,
    );
  }

  /** A cheap signed call that proves the upstream is reachable and accepts our credentials; never retried. */
  async ping(options?: CallOptions): Promise<void> {
    await this.#execute(
      {
        operation: 'Ping',
        method: 'GET',
        path: '/workflow',
        query: [
          ['pageNumber', '1'],
          ['pageSize', '1'],
        ],
      },
      decodeWorkflowLookup,
      { ...options, maxRetries: 0 },
    );
  }

  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  async #execute<T>(
    request: UpstreamRequest,
    decode: (body: string) => T,
    options: CallOptions = {},
  ): Promise<T> {
    const { signal, onAttempt } = options;
    const maxRetries = options.maxRetries ?? this.#maxRetries;
    let clockCorrected = false;
    let retries = 0;
    for (let attempt = 1; ; attempt += 1) {
      const started = performance.now();
      const report = (outcome: UpstreamAttempt['outcome'], response?: UpstreamResponse, error?: CiError) =>
        onAttempt?.({
          operation: request.operation,
          attempt,
          status: response?.status,
          requestId: response?.requestId,
          durationMs: Math.round(performance.now() - started),
          outcome,
          errorKind: error?.kind,
          errorCode: error?.code,
          errorMessage: error?.upstreamMessage,
        });

      let response: UpstreamResponse | undefined;
      let failure: CiError;
      try {
        response = await this.#send(request, signal);
        if (response.status >= 200 && response.status < 300) {
          const value = decodeOrExplain(decode, response);
          report('ok', response);
          return value;
        }
        failure = httpFailure(response, this.#now());
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (!(error instanceof CiError)) throw error;
        failure = error;
      }

      if (!clockCorrected && isClockSkewError(failure) && this.#correctClock(response?.date)) {
        clockCorrected = true;
        report('retry', response, failure);
        this.#logger?.warn(
          { operation: request.operation, clockOffsetMs: this.#clockOffsetMs, requestId: failure.requestId },
          'CI rejected the signature time; corrected the clock from its Date header and retrying',
        );
        continue;
      }

      const delayMs = retries < maxRetries ? this.#retryDelay(failure, retries) : undefined;
      if (delayMs === undefined) {
        report('error', response, failure);
        throw failure.withContext({ operation: request.operation, attempts: attempt });
      }
      retries += 1;
      report('retry', response, failure);
      this.#logger?.warn(
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
      await this.#sleep(delayMs, signal);
    }
  }

  /** Milliseconds to wait before the next attempt, or undefined when the failure must not be retried. */
  #retryDelay(failure: CiError, retriesSoFar: number): number | undefined {
    if (!isRetryable(failure)) return undefined;
    const requested = failure.retryAfterSeconds === undefined ? undefined : failure.retryAfterSeconds * 1000;
    if (requested !== undefined) return requested <= this.#maxRetryAfterMs ? requested : undefined;
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

  async #send(request: UpstreamRequest, callerSignal: AbortSignal | undefined): Promise<UpstreamResponse> {
    const headersToSign: Array<[string, string]> = [['host', this.#origin.host]];
    const keyTime = formatKeyTime(this.#now() + this.#clockOffsetMs, this.#signatureTtlSeconds);
    const { authorization } = signRequest(
      { method: request.method, path: request.path, query: request.query, headers: headersToSign },
      this.#credentials,
      keyTime,
    );
    const headers: Record<string, string> = {
      host: this.#origin.host,
      authorization,
      accept: 'application/xml',
    };
    // Sent unsigned, as the official Node SDK does.
    if (this.#credentials.sessionToken) headers[SESSION_TOKEN_HEADER] = this.#credentials.sessionToken;

    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
    try {
      const response = await this.#dispatcher.request({
        origin: this.#origin.origin,
        path: encodePath(request.path) + encodeQuery(request.query),
        method: request.method,
        headers,
        signal,
      });
      const body = await response.body.text();
      return {
        status: response.statusCode,
        body,
        requestId: header(response.headers, REQUEST_ID_HEADER),
        date: header(response.headers, 'date'),
        retryAfter: header(response.headers, 'retry-after'),
      };
    } catch (error) {
      if (callerSignal?.aborted) throw callerSignal.reason;
      if (timeout.aborted) {
        throw new CiError('timeout', `CI did not answer within ${this.#timeoutMs} ms`, { cause: error });
      }
      const code = (error as { code?: unknown }).code;
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
        },
      );
    }
  }
}

/** The list call's query, in the order the API documents its parameters; absent ones are not sent. */
function listQuery(params: ListWorkflowExecutionsParams): Array<[string, string]> {
  if (params.workflowId === '') throw new RangeError('workflowId is required');
  if (
    params.size !== undefined &&
    !(Number.isInteger(params.size) && params.size >= 1 && params.size <= MAX_UPSTREAM_PAGE_SIZE)
  ) {
    throw new RangeError(`size must be an integer from 1 to ${MAX_UPSTREAM_PAGE_SIZE}`);
  }
  const entries: Array<[string, string | undefined]> = [
    ['workflowId', params.workflowId],
    ['name', params.objectKey],
    ['orderByTime', params.order],
    ['size', params.size?.toString()],
    ['states', params.states?.length ? params.states.join(',') : undefined],
    ['startCreationTime', params.createdAfter && formatCiTime(params.createdAfter)],
    ['endCreationTime', params.createdBefore && formatCiTime(params.createdBefore)],
    ['nextToken', params.nextToken],
    ['jobId', params.batchJobId],
  ];
  return entries.filter((entry): entry is [string, string] => entry[1] !== undefined);
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
