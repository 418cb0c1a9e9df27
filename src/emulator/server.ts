/**
 * A local emulator of the CI API: a real HTTP server that answers the list, detail and workflow-search calls with
 * CI's XML, and is as strict as the real service about signatures and parameters. Tests start it on port 0 and
 * script failures into it; `npm run emulator` and the gateway's demo mode run it standalone.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SESSION_TOKEN_HEADER } from '../ci/client.js';
import { canonicalizePairs, parseKeyTime, signRequest } from '../ci/signer.js';
import { type CallbackSender, startCallbackSender } from './callbacks.js';
import type { CallContext, MediaBucket } from './context.js';
import { createDemoDataset, type Dataset } from './demo-data.js';
import { PageTokens } from './page-tokens.js';
import { HttpError } from './params.js';
import type { EmulatedQuota } from './quota.js';
import { answerCall } from './routes.js';
import { EmulatedSts } from './sts.js';
import { EmulatorWorld } from './world.js';
import { xmlDocument } from './xml-writer.js';

/** Credentials the emulator accepts by default. They protect nothing: the emulator serves demo data only. */
export const DEMO_CREDENTIALS = {
  secretId: 'AKIDdemo0emulator0local0only00000000',
  secretKey: 'demo-emulator-secret-key-00000000',
} as const;
/** The account the emulator's bucket belongs to by default. */
export const DEMO_UIN = '100000000001';
/** The bucket the emulator serves by default. */
export const DEMO_MEDIA_BUCKET: MediaBucket = {
  bucketId: 'demo-1250000000',
  region: 'ap-guangzhou',
  createdAt: new Date('2026-10-29T08:00:00Z'),
};

export type Fault =
  /** Answer with this status and an `<Error>` body. */
  | { readonly type: 'error'; readonly status: number; readonly code: string; readonly retryAfter?: string }
  /** Answer 200 with a body that is not the expected XML. */
  | { readonly type: 'malformed'; readonly body?: string }
  /** Never answer (until the client gives up or the emulator closes). */
  | { readonly type: 'hang' }
  /** Answer normally, but only after this many milliseconds. */
  | { readonly type: 'delay'; readonly ms: number };

export const faults = {
  unavailable: (): Fault => ({ type: 'error', status: 503, code: 'ServiceUnavailable' }),
  internalError: (): Fault => ({ type: 'error', status: 500, code: 'InternalError' }),
  throttled: (retryAfter?: string): Fault =>
    retryAfter === undefined
      ? { type: 'error', status: 429, code: 'SlowDown' }
      : { type: 'error', status: 429, code: 'SlowDown', retryAfter },
  malformed: (body?: string): Fault =>
    body === undefined ? { type: 'malformed' } : { type: 'malformed', body },
  hang: (): Fault => ({ type: 'hang' }),
  slow: (ms: number): Fault => ({ type: 'delay', ms }),
};

/** Which requests a scripted fault applies to: a path prefix, or a test of the path and query parameters. */
export type FaultTarget = string | ((path: string, params: Readonly<Record<string, string>>) => boolean);

export interface RecordedRequest {
  readonly method: string;
  /** Decoded path. */
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly signatureVerified: boolean;
  /** Why verification failed, when it did. */
  readonly signatureProblem: string | undefined;
  /** The headers the signature covers (`q-header-list`), as sent. */
  readonly signedHeaders: readonly string[];
  readonly sessionTokenSent: boolean;
  /** The W3C trace context the client sent, if any. */
  readonly traceparent: string | undefined;
  readonly fault: Fault['type'] | undefined;
  readonly status: number | undefined;
  readonly requestId: string;
}

export interface EmulatorOptions {
  /** The bucket's account's own keys. */
  readonly credentials?: { readonly secretId: string; readonly secretKey: string };
  /** The bucket's account. @default DEMO_UIN */
  readonly uin?: string | undefined;
  /**
   * The STS whose temporary keys for this account are accepted: an emulated cloud's, shared by its buckets, which
   * also answers STS calls here; the emulator's own, knowing only its account, when absent.
   */
  readonly sts?: EmulatedSts | undefined;
  /** The bucket served, as `GET /mediabucket` lists it, beside its account's other buckets in `mediaBuckets`. */
  readonly mediaBuckets?: readonly MediaBucket[] | undefined;
  /** When set, every request must carry it in `x-ci-security-token`. */
  readonly sessionToken?: string | undefined;
  readonly dataset?: Dataset;
  /** The server's clock; also written to the `Date` header. */
  readonly now?: () => number;
  /**
   * Tie each NextToken to the page size it was issued with, refusing it (400) with any other size. Off by
   * default: like most token-paged APIs the emulator lets a token continue with another size; CI's
   * documentation does not say which it does.
   */
  readonly pageTokensBoundToSize?: boolean;
  /** The account's quota: calls past it are answered 429 `SlowDown`, as CI throttles. None by default. */
  readonly quota?: EmulatedQuota | undefined;
}

export interface CiEmulator {
  /** `http://127.0.0.1:<port>` once listening. */
  readonly url: string;
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
  /**
   * The next `times` requests fail this way: all of them, those whose path starts with `target` when it is a
   * string, or those it accepts when it is a function (to fail one workflow's calls, say).
   */
  script(fault: Fault, times?: number, target?: FaultTarget): void;
  /** Post CI's callbacks for runs started here to this URL as they finish (undefined: stop). */
  sendCallbacksTo(url: string | undefined): void;
  clearScript(): void;
  readonly requests: readonly RecordedRequest[];
  clearRequests(): void;
  /** TCP connections accepted so far: shows whether clients reuse keep-alive connections. */
  readonly connectionCount: number;
  /** The most requests in progress at once since the request log was last cleared. */
  readonly peakConcurrency: number;
}

interface ScriptedFault {
  readonly fault: Fault;
  remaining: number;
  readonly target: FaultTarget | undefined;
}

export function createCiEmulator(options: EmulatorOptions = {}): CiEmulator {
  const credentials = options.credentials ?? DEMO_CREDENTIALS;
  const dataset = options.dataset ?? createDemoDataset();
  const now = options.now ?? Date.now;
  const tokens = new PageTokens();
  const requests: RecordedRequest[] = [];
  const script: ScriptedFault[] = [];
  const world = new EmulatorWorld(dataset);
  const uin = options.uin ?? DEMO_UIN;
  const sts = options.sts ?? new EmulatedSts([{ uin, ...credentials }], now);
  const mediaBuckets = options.mediaBuckets ?? [DEMO_MEDIA_BUCKET];
  /** The account's own keys, or keys STS issued for its roles (which must come with their session token). */
  const keysFor = (secretId: string): CallerKeys | undefined => {
    if (secretId === credentials.secretId) return credentials;
    const issued = sts.issued(secretId);
    return issued?.uin === uin ? issued : undefined;
  };
  let callbacks: CallbackSender | undefined;
  /** Where callbacks go: every workflow's Start node names it, as CI's would once configured. */
  let callbackUrl: string | undefined;
  const clock = () => new Date(now());
  let requestCounter = 0;
  let url = '';
  let inProgress = 0;
  let peakConcurrency = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });

  function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    requestCounter += 1;
    inProgress += 1;
    peakConcurrency = Math.max(peakConcurrency, inProgress);
    res.once('close', () => {
      inProgress -= 1;
    });
    const requestId = Buffer.from(`emu_${requestCounter}_${randomBytes(4).toString('hex')}`).toString(
      'base64',
    );
    // Tencent Cloud API 3.0 calls (STS) name their action in a header; CI's calls never do.
    if (req.headers['x-tc-action'] !== undefined) {
      const answer = sts.answer(req.headers, body);
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
      return;
    }
    const target = new URL(req.url ?? '/', 'http://emulator');
    const path = safeDecode(target.pathname);
    const params = Object.fromEntries(target.searchParams);
    const problem = verifySignature(req, path, [...target.searchParams], keysFor, now());
    const tokenProblem =
      options.sessionToken !== undefined && req.headers[SESSION_TOKEN_HEADER] !== options.sessionToken
        ? 'missing or wrong security token'
        : undefined;
    const fault = takeFault(script, path, params);
    const record = (status: number | undefined) =>
      requests.push({
        method: req.method ?? '',
        path,
        params,
        signatureVerified: problem === undefined,
        signatureProblem: problem?.message,
        signedHeaders:
          /(?:^|&)q-header-list=([^&]*)/.exec(req.headers.authorization ?? '')?.[1]?.split(';') ?? [],
        sessionTokenSent: req.headers[SESSION_TOKEN_HEADER] !== undefined,
        traceparent: req.headers['traceparent']?.toString(),
        fault: fault?.type,
        status,
        requestId,
      });

    res.setHeader('x-ci-request-id', requestId);
    res.setHeader('date', new Date(now()).toUTCString());
    res.setHeader('server', 'ci-emulator');

    if (fault?.type === 'hang') {
      record(undefined);
      return; // The socket stays open until the client aborts or the emulator closes.
    }
    if (fault?.type === 'malformed') {
      record(200);
      send(res, 200, fault.body ?? '<Response><WorkflowExecutionList><RunId>i-trunc');
      return;
    }
    const delayMs = fault?.type === 'delay' ? fault.ms : 0;
    try {
      if (fault?.type === 'error') {
        if (fault.retryAfter !== undefined) res.setHeader('retry-after', fault.retryAfter);
        throw new HttpError(fault.status, fault.code, 'Scripted failure');
      }
      if (problem) throw problem;
      if (tokenProblem) throw new HttpError(403, 'AccessDenied', 'Invalid security token');
      if (options.quota && !options.quota.take(now())) {
        res.setHeader('retry-after', '1');
        throw new HttpError(429, 'SlowDown', 'Please reduce your request rate');
      }
      const answer = route(req.method ?? 'GET', path, target.searchParams, requestId, body);
      record(200);
      setTimeout(() => send(res, 200, answer), delayMs);
    } catch (error) {
      const failure =
        error instanceof HttpError ? error : new HttpError(500, 'InternalError', 'The emulator failed');
      record(failure.status);
      send(
        res,
        failure.status,
        xmlDocument('Error', {
          Code: failure.code,
          Message: failure.message,
          RequestId: requestId,
          TraceId: requestId,
        }),
      );
    }
  }
  server.keepAliveTimeout = 60_000;
  let connectionCount = 0;
  server.on('connection', () => {
    connectionCount += 1;
  });

  function route(
    method: string,
    path: string,
    query: URLSearchParams,
    requestId: string,
    body: string,
  ): string {
    const context: CallContext = {
      world,
      now: clock,
      requestId,
      tokens,
      pageTokensBoundToSize: options.pageTokensBoundToSize === true,
      callbackUrl,
      mediaBuckets,
    };
    return answerCall(context, method, path, { query, body });
  }

  return {
    get url() {
      return url;
    },
    get requests() {
      return requests;
    },
    get connectionCount() {
      return connectionCount;
    },
    get peakConcurrency() {
      return peakConcurrency;
    },
    async listen(port = 0, host = '127.0.0.1') {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address() as AddressInfo;
      url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
      return url;
    },
    sendCallbacksTo(url) {
      callbacks?.stop();
      callbackUrl = url;
      callbacks = url === undefined ? undefined : startCallbackSender(world, clock, url);
    },
    async close() {
      callbacks?.stop();
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
    script(fault, times = 1, target) {
      script.push({ fault, remaining: times, target });
    },
    clearScript() {
      script.length = 0;
    },
    clearRequests() {
      requests.length = 0;
      peakConcurrency = inProgress;
    },
  };
}

function takeFault(
  script: ScriptedFault[],
  path: string,
  params: Readonly<Record<string, string>>,
): Fault | undefined {
  const entry = script.find(
    (s) =>
      s.remaining > 0 &&
      (s.target === undefined ||
        (typeof s.target === 'string' ? path.startsWith(s.target) : s.target(path, params))),
  );
  if (!entry) return undefined;
  entry.remaining -= 1;
  if (entry.remaining === 0) script.splice(script.indexOf(entry), 1);
  return entry.fault;
}

/**
 * Checks a request's q-sign signature the way CI does: the key must be ours, the key time must cover now,
 * `host` and every query parameter must be signed, and the signature must match. Returns the failure, if any.
 */
/** Keys a request may be signed with: temporary ones carry their token and expiry. */
interface CallerKeys {
  readonly secretKey: string;
  readonly sessionToken?: string | undefined;
  readonly expiresAt?: number | undefined;
}

function verifySignature(
  req: IncomingMessage,
  path: string,
  query: Array<[string, string]>,
  keysFor: (secretId: string) => CallerKeys | undefined,
  nowMs: number,
): HttpError | undefined {
  const header = req.headers.authorization;
  if (!header) return new HttpError(401, 'MissingAuthorization', 'Authorization header is missing');
  const fields = new Map<string, string>();
  for (const part of header.split('&')) {
    const at = part.indexOf('=');
    if (at > 0) fields.set(part.slice(0, at), part.slice(at + 1));
  }
  const keyTime = fields.get('q-key-time');
  const signature = fields.get('q-signature');
  const headerList = fields.get('q-header-list');
  const paramList = fields.get('q-url-param-list');
  const window = keyTime === undefined ? undefined : parseKeyTime(keyTime);
  if (
    fields.get('q-sign-algorithm') !== 'sha1' ||
    fields.get('q-sign-time') !== keyTime ||
    !window ||
    signature === undefined ||
    headerList === undefined ||
    paramList === undefined
  ) {
    return new HttpError(401, 'InvalidAuthorization', 'Authorization header is malformed');
  }
  const secretId = fields.get('q-ak') ?? '';
  const keys = keysFor(secretId);
  if (!keys) return new HttpError(401, 'SecretidNotExist', 'SecretId does not exist');
  if (keys.sessionToken !== undefined) {
    if (req.headers[SESSION_TOKEN_HEADER] !== keys.sessionToken)
      return new HttpError(403, 'AccessDenied', 'Missing or wrong security token for temporary credentials');
    if ((keys.expiresAt ?? 0) <= nowMs)
      return new HttpError(403, 'AccessDenied', 'The temporary credentials have expired');
  }
  const nowSeconds = Math.floor(nowMs / 1000);
  if (window.end < nowSeconds) return new HttpError(401, 'SignatureExpired', 'Request has expired');
  if (window.start > nowSeconds)
    return new HttpError(
      403,
      'RequestTimeTooSkewed',
      'The difference between the request time and the server time is too large',
    );

  const signedHeaderNames = headerList === '' ? [] : headerList.split(';');
  if (!signedHeaderNames.includes('host'))
    return new HttpError(403, 'AccessDenied', 'The host header must be signed');
  if (paramList !== canonicalizePairs(query).list) {
    return new HttpError(403, 'SignatureDoesNotMatch', 'Every query parameter must be signed');
  }
  const headers: Array<[string, string]> = [];
  for (const name of signedHeaderNames) {
    const value = req.headers[name];
    if (typeof value !== 'string')
      return new HttpError(403, 'SignatureDoesNotMatch', `Signed header ${name} is missing`);
    headers.push([name, value]);
  }
  const expected = signRequest(
    { method: req.method ?? 'GET', path, query, headers },
    { secretId, secretKey: keys.secretKey },
    keyTime as string,
  ).signature;
  const matches =
    expected.length === signature.length && timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
  return matches
    ? undefined
    : new HttpError(403, 'SignatureDoesNotMatch', 'The request signature does not match');
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
