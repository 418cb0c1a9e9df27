/**
 * The only module that reads the environment. Everything is validated at once, every problem is reported
 * together, and the rest of the service receives a typed, frozen {@link Config}.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export const DEFAULT_PORT = 4000;
/** Each upstream attempt's timeout. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/**
 * Media jobs asked for in one `GET /jobs/<id>,<id>,…`. CI documents no limit; the official SDKs' examples stay at
 * 10, so this is where to start.
 */
export const DEFAULT_JOB_IDS_PER_LOOKUP = 10;

/**
 * The OAuth scopes reading and changing things need, unless configured otherwise. One place, because the schema
 * declares them to the router (`@requiresScopes`), the gateway checks them, and the configuration defaults to them.
 */
export interface Scopes {
  readonly read: string;
  readonly write: string;
}
export const DEFAULT_SCOPES: Scopes = { read: 'ci.workflows.read', write: 'ci.workflows.write' };

/** The OTLP encodings shipped: protobuf or JSON over HTTP (gRPC is not). */
export type OtlpProtocol = 'http/protobuf' | 'http/json';
export const DEFAULT_MAX_PAGE_SIZE = 100;
/**
 * Most upstream calls one GraphQL request may have in flight. A page of 100 runs with tasks still finishes in
 * about 13 rounds of detail calls, and a few requests stuck on a hanging upstream hold a few connections each,
 * never the pool.
 */
export const DEFAULT_UPSTREAM_CONCURRENCY_PER_REQUEST = 8;
/** Enough for a full page with tasks (101 calls) several times over, or `_entities` for hundreds of runs. */
export const DEFAULT_MAX_UPSTREAM_CALLS_PER_REQUEST = 500;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;
export const DEFAULT_MAX_DOCUMENT_BYTES = 32 * 1024;
/** How long a draining replica keeps serving after SIGTERM, in production, while load balancers notice. */
export const DEFAULT_PRODUCTION_SHUTDOWN_DELAY_MS = 5_000;
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 20_000;
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 1_200;
export const DEFAULT_DETAIL_CACHE_ENTRIES = 10_000;
export const DEFAULT_WORKFLOW_CACHE_TTL_MS = 30_000;
export const DEFAULT_POLL_INTERVAL_MS = 5_000;
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION = 50;
/** Across all of one caller's connections and streams on a replica: a console with many rows, not a crawler. */
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_CALLER = 200;
/** The names a developer's browser uses for a gateway on the same machine. */
const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface UpstreamConfig {
  /** Base URL of the CI API (or of an emulator). */
  readonly endpoint: string;
  readonly secretId: string;
  readonly secretKey: string;
  readonly sessionToken: string | undefined;
  readonly timeoutMs: number;
}

export interface Config {
  /**
   * `demo`: no credentials outside production; the gateway starts the built-in emulator and talks to it.
   * `upstream`: the configured CI endpoint with the configured credentials.
   */
  readonly mode: 'demo' | 'upstream';
  readonly production: boolean;
  /** Absent in demo mode until the emulator is listening. */
  readonly upstream: UpstreamConfig | undefined;
  readonly timeoutMs: number;
  readonly port: number;
  readonly maxPageSize: number;
  readonly upstreamConcurrency: number;
  readonly maxUpstreamCallsPerRequest: number;
  /** Media jobs asked for in one `GET /jobs/<id>,…`. */
  readonly jobIdsPerLookup: number;
  /** Each request's deadline for its upstream work. */
  readonly requestTimeoutMs: number;
  /** Larger request bodies are refused with 413. */
  readonly maxRequestBytes: number;
  /** Larger GraphQL documents are refused before they are parsed. */
  readonly maxDocumentBytes: number;
  /** After SIGTERM: how long to keep serving while `/ready` says 503. */
  readonly shutdownDelayMs: number;
  /** Then: how long in-flight requests may take before their upstream calls are aborted. */
  readonly shutdownTimeoutMs: number;
  /** `*` for any origin, an empty list for none. */
  readonly corsOrigins: '*' | readonly string[];
  /** Whether GETs and non-JSON POSTs must carry a header that forces a preflight (see where it is decided). */
  readonly csrfPrevention: boolean;
  readonly logLevel: LogLevel;
  /** Signs cursors; replicas must share it. Derived from the secret key unless set; random in demo mode. */
  readonly cursorSecret: string | undefined;
  /** Serve `Query.node` / `Query.nodes` (standalone use only: they break composition beside another Relay subgraph). */
  readonly relayNodeQueries: boolean;
  /** Who may call; see {@link AuthConfig}. */
  readonly auth: AuthConfig;
  /** Upstream attempts one caller may cause per minute, per replica; 0 for no limit. */
  readonly rateLimitPerMinute: number;
  /** Finished runs whose detail is kept; 0 keeps none. */
  readonly detailCacheEntries: number;
  /** How long a workflow lookup is reused, in milliseconds; 0 never. */
  readonly workflowCacheTtlMs: number;
  readonly introspection: boolean;
  readonly graphiql: boolean;
  /**
   * `Host` header values served, beside the probes; undefined for any. Outside production with real credentials it
   * defaults to the loopback names, so a web page cannot reach real data through a rebinding DNS name.
   */
  readonly allowedHosts: readonly string[] | undefined;
  /** Serve `/metrics` on this port alone; undefined serves it on the main port. */
  readonly metricsPort: number | undefined;
  /** A manifest of persisted documents, known from the start; with `onlyPersisted`, the only ones that run. */
  readonly persistedDocumentsFile: string | undefined;
  readonly onlyPersisted: boolean;
  /** The secret part of the CI callback URL (`/ci/callback/<token>`); no callbacks are taken without it. */
  readonly callbackToken: string | undefined;
  /** How often watched runs and workflows are read; 0: only callbacks bring news. */
  readonly pollIntervalMs: number;
  /** Origins Apollo's subscription callback protocol may post to (the routers'). */
  readonly subscriptionCallbackOrigins: readonly string[];
  /** Most subscriptions one WebSocket connection may hold at once. */
  readonly maxSubscriptionsPerConnection: number;
  /** Most subscriptions one caller may hold at once on one replica, over every transport. */
  readonly maxSubscriptionsPerCaller: number;
  /** Redis shares live updates (events and poll leases) between replicas; without it they stay in the process. */
  readonly redisUrl: string | undefined;
  /** This gateway's public base URL as CI reaches it, to tell whether a workflow's callbacks come here. */
  readonly publicCallbackBaseUrl: string | undefined;
  /** Traces are exported when an OTLP endpoint is set; the SDK reads the other `OTEL_*` variables itself. */
  readonly tracing: { readonly protocol: OtlpProtocol } | undefined;
}

export interface AuthConfig {
  /** Callers must present a JWT verified against this JWKS. */
  readonly jwksUrl: string | undefined;
  readonly issuer: string | undefined;
  readonly audience: string | undefined;
  readonly readScope: string;
  readonly writeScope: string;
  /** Callers must present this value in `x-router-secret`: only the company router reaches the subgraph. */
  readonly routerSecret: string | undefined;
  /** Production with neither mechanism, said on purpose: the network alone protects the gateway. */
  readonly disabled: boolean;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly errors: string[] };

const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value === '' ? undefined : value));
/** A whole number in [min, max], or undefined when unset. */
const optionalInteger = (min: number, max: number) =>
  optionalText.pipe(
    z
      .string()
      .regex(/^\d+$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
      .optional(),
  );
const integer = (min: number, max: number, fallback: number) =>
  optionalInteger(min, max).transform((value) => value ?? fallback);
/** A comma-separated list, each item trimmed, empty items dropped. */
const commaList = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
const flag = optionalText.pipe(z.enum(['true', 'false'], 'must be true or false').optional());
/** An OAuth scope token (RFC 6749 §3.3): printable ASCII without spaces, quotes or backslashes. */
const scopeName = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be one scope token, without spaces');
const origin = z
  .string()
  .refine(isOrigin, { message: 'must be an http(s) origin (scheme, host, optional port; no path)' });

/** A URL whose scheme `protocol` matches (with its colon, as `URL.protocol` gives it). */
const urlWithProtocol = (protocol: RegExp, message: string) =>
  z.string().refine((value) => protocol.test(URL.parse(value)?.protocol ?? ''), message);
const httpUrl = urlWithProtocol(/^https?:$/, 'must be an http(s) URL');
const otlpProtocol = optionalText.pipe(
  z
    .enum(
      ['http/protobuf', 'http/json'],
      'must be http/protobuf or http/json (gRPC is not shipped; use port 4318)',
    )
    .optional(),
);

const environment = z.object({
  NODE_ENV: optionalText,
  TENCENTCLOUD_SECRET_ID: optionalText,
  TENCENTCLOUD_SECRET_KEY: optionalText,
  TENCENTCLOUD_SESSION_TOKEN: optionalText,
  CI_BUCKET: optionalText.pipe(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*-\d+$/, 'must look like <BucketName-APPID>')
      .optional(),
  ),
  CI_REGION: optionalText.pipe(
    z
      .string()
      .regex(/^[a-z]+(-[a-z0-9]+)+$/, 'must look like ap-guangzhou')
      .optional(),
  ),
  CI_ENDPOINT: optionalText.pipe(origin.optional()),
  CI_TIMEOUT_MS: integer(100, 120_000, DEFAULT_TIMEOUT_MS),
  MAX_PAGE_SIZE: integer(1, 1_000, DEFAULT_MAX_PAGE_SIZE),
  UPSTREAM_CONCURRENCY_PER_REQUEST: integer(1, 100, DEFAULT_UPSTREAM_CONCURRENCY_PER_REQUEST),
  MAX_UPSTREAM_CALLS_PER_REQUEST: integer(1, 100_000, DEFAULT_MAX_UPSTREAM_CALLS_PER_REQUEST),
  JOB_IDS_PER_LOOKUP: integer(1, 100, DEFAULT_JOB_IDS_PER_LOOKUP),
  REQUEST_TIMEOUT_MS: integer(100, 600_000, DEFAULT_REQUEST_TIMEOUT_MS),
  MAX_REQUEST_BYTES: integer(1024, 100 * 1024 * 1024, DEFAULT_MAX_REQUEST_BYTES),
  MAX_DOCUMENT_BYTES: integer(1024, 1024 * 1024, DEFAULT_MAX_DOCUMENT_BYTES),
  // No fixed default: it depends on NODE_ENV.
  SHUTDOWN_DELAY_MS: optionalInteger(0, 300_000),
  SHUTDOWN_TIMEOUT_MS: integer(0, 600_000, DEFAULT_SHUTDOWN_TIMEOUT_MS),
  CORS_ORIGINS: optionalText.transform((value, context) => {
    if (value === undefined || value === '*') return value;
    const origins = commaList(value);
    for (const item of origins) {
      if (!origin.safeParse(item).success) {
        context.addIssue({
          code: 'custom',
          message: `"${item}" is not an origin such as https://app.example.com`,
        });
      }
    }
    return origins;
  }),
  LOG_LEVEL: optionalText.pipe(z.enum(LOG_LEVELS).optional()),
  PORT: integer(0, 65_535, DEFAULT_PORT),
  RELAY_NODE_QUERIES: flag,
  CURSOR_SECRET: optionalText.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  AUTH_JWKS_URL: optionalText.pipe(httpUrl.optional()),
  AUTH_ISSUER: optionalText,
  AUTH_AUDIENCE: optionalText,
  AUTH_READ_SCOPE: optionalText.pipe(scopeName.optional()),
  AUTH_WRITE_SCOPE: optionalText.pipe(scopeName.optional()),
  ROUTER_SECRET: optionalText.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  AUTH_DISABLED: flag,
  RATE_LIMIT_UPSTREAM_CALLS_PER_MINUTE: integer(0, 1_000_000, DEFAULT_RATE_LIMIT_PER_MINUTE),
  DETAIL_CACHE_ENTRIES: integer(0, 1_000_000, DEFAULT_DETAIL_CACHE_ENTRIES),
  WORKFLOW_CACHE_TTL_MS: integer(0, 3_600_000, DEFAULT_WORKFLOW_CACHE_TTL_MS),
  INTROSPECTION: flag,
  GRAPHIQL: flag,
  METRICS_PORT: optionalInteger(1, 65_535),
  CI_CALLBACK_TOKEN: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{32,}$/, 'must be 32 or more URL-safe characters (letters, digits, - and _)')
      .optional(),
  ),
  POLL_INTERVAL_MS: integer(0, 600_000, DEFAULT_POLL_INTERVAL_MS),
  SUBSCRIPTION_CALLBACK_ORIGINS: optionalText.transform((value, context) => {
    const origins = value === undefined ? [] : commaList(value);
    for (const item of origins) {
      if (!origin.safeParse(item).success) {
        context.addIssue({
          code: 'custom',
          message: `"${item}" is not an origin such as http://router:4000`,
        });
      }
    }
    return origins;
  }),
  MAX_SUBSCRIPTIONS_PER_CONNECTION: integer(1, 1_000, DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION),
  MAX_SUBSCRIPTIONS_PER_CALLER: integer(1, 100_000, DEFAULT_MAX_SUBSCRIPTIONS_PER_CALLER),
  REDIS_URL: optionalText.pipe(
    urlWithProtocol(/^rediss?:$/, 'must be a redis:// or rediss:// URL').optional(),
  ),
  PUBLIC_CALLBACK_BASE_URL: optionalText.pipe(httpUrl.optional()),
  PERSISTED_DOCUMENTS_FILE: optionalText,
  ONLY_PERSISTED: flag,
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalText.pipe(httpUrl.optional()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalText.pipe(httpUrl.optional()),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol,
  OTEL_TRACES_EXPORTER: optionalText.pipe(
    z.enum(['otlp', 'none'], 'must be otlp or none (the only exporters this service ships)').optional(),
  ),
  OTEL_SDK_DISABLED: flag,
  ALLOWED_HOSTS: optionalText.transform((value) =>
    value === undefined ? undefined : commaList(value.toLowerCase()),
  ),
});

/** Every variable the service reads. */
export const ENVIRONMENT_VARIABLES: readonly string[] = Object.keys(environment.shape);

/** Reads and validates the environment; never throws. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): ConfigResult {
  const parsed = environment.safeParse(env);
  const errors = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  errors.push(...presenceErrors(env));
  if (!parsed.success || errors.length > 0) return { ok: false, errors };
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const demo = isDemo(env);
  const upstream: UpstreamConfig | undefined = demo
    ? undefined
    : {
        endpoint: (e.CI_ENDPOINT ?? `https://${e.CI_BUCKET}.ci.${e.CI_REGION}.myqcloud.com`).replace(
          /\/$/,
          '',
        ),
        secretId: e.TENCENTCLOUD_SECRET_ID as string,
        secretKey: e.TENCENTCLOUD_SECRET_KEY as string,
        sessionToken: e.TENCENTCLOUD_SESSION_TOKEN,
        timeoutMs: e.CI_TIMEOUT_MS,
      };

  return {
    ok: true,
    config: Object.freeze({
      mode: demo ? 'demo' : 'upstream',
      production,
      upstream,
      timeoutMs: e.CI_TIMEOUT_MS,
      port: e.PORT,
      maxPageSize: e.MAX_PAGE_SIZE,
      upstreamConcurrency: e.UPSTREAM_CONCURRENCY_PER_REQUEST,
      maxUpstreamCallsPerRequest: e.MAX_UPSTREAM_CALLS_PER_REQUEST,
      jobIdsPerLookup: e.JOB_IDS_PER_LOOKUP,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      maxRequestBytes: e.MAX_REQUEST_BYTES,
      maxDocumentBytes: e.MAX_DOCUMENT_BYTES,
      // Only production sits behind load balancers that need time to notice; a laptop stops at once.
      shutdownDelayMs: e.SHUTDOWN_DELAY_MS ?? (production ? DEFAULT_PRODUCTION_SHUTDOWN_DELAY_MS : 0),
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      // Browsers may call the demo (public demo data) from anywhere; real data only from origins named.
      corsOrigins: e.CORS_ORIGINS ?? (demo ? '*' : []),
      // Cross-site request forgery needs something a browser adds by itself; this gateway's credentials (a bearer
      // token, the router's secret) are headers no page can add without a preflight, so with either required, a
      // forged request is refused as unauthenticated anyway, and the demo serves public demo data from its own
      // emulator. Only a gateway that trusts its network (AUTH_DISABLED, or real credentials outside production
      // with no caller checks) needs the preflight header, so that a page elsewhere cannot spend its CI quota.
      // Elsewhere GET queries work with no header at all, as urql and Relay send them by default.
      csrfPrevention: !demo && e.AUTH_JWKS_URL === undefined && e.ROUTER_SECRET === undefined,
      logLevel: e.LOG_LEVEL ?? 'info',
      // The demo's credentials are published, so a key derived from them would let anyone forge cursors.
      cursorSecret: e.CURSOR_SECRET ?? (demo ? randomBytes(32).toString('base64url') : undefined),
      relayNodeQueries: e.RELAY_NODE_QUERIES === 'true',
      auth: {
        jwksUrl: e.AUTH_JWKS_URL,
        issuer: e.AUTH_ISSUER,
        audience: e.AUTH_AUDIENCE,
        readScope: e.AUTH_READ_SCOPE ?? DEFAULT_SCOPES.read,
        writeScope: e.AUTH_WRITE_SCOPE ?? DEFAULT_SCOPES.write,
        routerSecret: e.ROUTER_SECRET,
        disabled: e.AUTH_DISABLED === 'true',
      },
      rateLimitPerMinute: e.RATE_LIMIT_UPSTREAM_CALLS_PER_MINUTE,
      detailCacheEntries: e.DETAIL_CACHE_ENTRIES,
      workflowCacheTtlMs: e.WORKFLOW_CACHE_TTL_MS,
      // The schema is no secret from allowed callers in development; in production only when asked.
      introspection: e.INTROSPECTION === undefined ? !production : e.INTROSPECTION === 'true',
      graphiql: e.GRAPHIQL === undefined ? !production : e.GRAPHIQL === 'true',
      allowedHosts: e.ALLOWED_HOSTS ?? (production || demo ? undefined : [...LOOPBACK_HOSTS]),
      metricsPort: e.METRICS_PORT,
      callbackToken: e.CI_CALLBACK_TOKEN,
      pollIntervalMs: e.POLL_INTERVAL_MS,
      maxSubscriptionsPerConnection: e.MAX_SUBSCRIPTIONS_PER_CONNECTION,
      maxSubscriptionsPerCaller: e.MAX_SUBSCRIPTIONS_PER_CALLER,
      redisUrl: e.REDIS_URL,
      publicCallbackBaseUrl: e.PUBLIC_CALLBACK_BASE_URL,
      subscriptionCallbackOrigins: e.SUBSCRIPTION_CALLBACK_ORIGINS,
      persistedDocumentsFile: e.PERSISTED_DOCUMENTS_FILE,
      onlyPersisted: e.ONLY_PERSISTED === 'true',
      tracing:
        (e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? e.OTEL_EXPORTER_OTLP_ENDPOINT) === undefined ||
        e.OTEL_SDK_DISABLED === 'true' ||
        e.OTEL_TRACES_EXPORTER === 'none'
          ? undefined
          : {
              protocol:
                e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
            },
    }),
  };
}

const isSet = (env: Readonly<Record<string, string | undefined>>, name: string) =>
  (env[name] ?? '').trim() !== '';

/** Demo mode: outside production, with no credentials at all. */
function isDemo(env: Readonly<Record<string, string | undefined>>): boolean {
  return (
    (env['NODE_ENV'] ?? '').trim() !== 'production' &&
    !isSet(env, 'TENCENTCLOUD_SECRET_ID') &&
    !isSet(env, 'TENCENTCLOUD_SECRET_KEY')
  );
}

/** Variables that are required, or forbidden, given the others. */
function presenceErrors(env: Readonly<Record<string, string | undefined>>): string[] {
  const errors = persistedErrors(env);
  if (isDemo(env)) {
    if (isSet(env, 'CI_ENDPOINT')) {
      errors.push(
        'CI_ENDPOINT: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY too, or unset it for demo mode',
      );
    }
    return errors;
  }
  const production = (env['NODE_ENV'] ?? '').trim() === 'production';
  if (
    production &&
    !isSet(env, 'AUTH_JWKS_URL') &&
    !isSet(env, 'ROUTER_SECRET') &&
    env['AUTH_DISABLED'] !== 'true'
  ) {
    errors.push(
      'AUTH_JWKS_URL or ROUTER_SECRET: one is required in production, or AUTH_DISABLED=true to rely on the network alone',
    );
  }
  for (const name of ['TENCENTCLOUD_SECRET_ID', 'TENCENTCLOUD_SECRET_KEY']) {
    if (!isSet(env, name)) errors.push(`${name}: required`);
  }
  if (!isSet(env, 'CI_ENDPOINT')) {
    for (const name of ['CI_BUCKET', 'CI_REGION']) {
      if (!isSet(env, name)) errors.push(`${name}: required unless CI_ENDPOINT is set`);
    }
  }
  return errors;
}

/** Persisted-documents-only needs the documents, and cannot serve a router, which sends query plans. */
function persistedErrors(env: Readonly<Record<string, string | undefined>>): string[] {
  if ((env['ONLY_PERSISTED'] ?? '').trim() !== 'true') return [];
  if (!isSet(env, 'PERSISTED_DOCUMENTS_FILE')) {
    return ['ONLY_PERSISTED: set PERSISTED_DOCUMENTS_FILE to the manifest of documents that may run'];
  }
  if (isSet(env, 'ROUTER_SECRET')) {
    return [
      'ONLY_PERSISTED: a router sends the documents of its query plans, not persisted ones; leave it off behind a router (the router keeps its own list)',
    ];
  }
  return [];
}

function isOrigin(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value.replace(/\/$/, '');
}
