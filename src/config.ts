/**
 * The only reader of the environment. Everything is validated at once (`environment.ts`), every problem is
 * reported together, and the rest of the service receives a typed, frozen {@link Config}, in sections.
 */
import { randomBytes } from 'node:crypto';
import {
  DEFAULT_PRODUCTION_SHUTDOWN_DELAY_MS,
  DEFAULT_SCOPES,
  LOOPBACK_HOSTS,
  type LogLevel,
  type OtlpProtocol,
} from './defaults.js';
import { environment, isDemo, presenceErrors } from './environment.js';
import {
  keysFromEnvironment,
  singleBucketTenancy,
  type TenancyConfig,
  tenancyFromFile,
} from './tenancy-config.js';

export type { AccountConfig, BucketConfig, TenancyConfig } from './tenancy-config.js';

/**
 * The configuration, in the sections the gateway is built by (`services.ts` maps each onto the HTTP layer's
 * options, which are grouped the same way).
 */
export interface Config {
  /**
   * `demo`: no credentials outside production; the gateway starts the built-in emulator and talks to it.
   * `upstream`: the configured CI endpoint with the configured credentials.
   */
  readonly mode: 'demo' | 'upstream';
  readonly production: boolean;
  readonly http: HttpConfig;
  readonly upstream: UpstreamConfig;
  readonly limits: LimitsConfig;
  readonly auth: AuthConfig;
  readonly live: LiveConfig;
  readonly telemetry: TelemetryConfig;
}

/** What the HTTP layer serves, to whom, and how it stops. */
export interface HttpConfig {
  readonly port: number;
  /** `*` for any origin, an empty list for none. */
  readonly corsOrigins: '*' | readonly string[];
  /** Whether GETs and non-JSON POSTs must carry a header that forces a preflight (see where it is decided). */
  readonly csrfPrevention: boolean;
  /**
   * `Host` header values served, beside the probes; undefined for any. Outside production with real credentials it
   * defaults to the loopback names, so a web page cannot reach real data through a rebinding DNS name.
   */
  readonly allowedHosts: readonly string[] | undefined;
  readonly introspection: boolean;
  readonly graphiql: boolean;
  /**
   * The operations console at `/console`: on outside production (the demo among them); in production only when
   * asked for, behind an auth proxy that adds the bearer token to the console's GraphQL requests.
   */
  readonly console: boolean;
  /** Serve `Query.node` / `Query.nodes` (standalone use only: they break composition beside another Relay subgraph). */
  readonly relayNodeQueries: boolean;
  /** Signs cursors; replicas must share it. Derived from the accounts' secret keys unless set; random in demo mode. */
  readonly cursorSecret: string;
  /** A manifest of persisted documents, known from the start; with `onlyPersisted`, the only ones that run. */
  readonly persistedDocumentsFile: string | undefined;
  readonly onlyPersisted: boolean;
  /** After SIGTERM: how long to keep serving while `/ready` says 503. */
  readonly shutdownDelayMs: number;
  /** Then: how long in-flight requests may take before their upstream calls are aborted. */
  readonly shutdownTimeoutMs: number;
}

/** The CI API and what is kept of its answers. */
export interface UpstreamConfig {
  /** The buckets served and the accounts that sign for them; absent in demo mode, where the emulator's are used. */
  readonly tenancy: TenancyConfig | undefined;
  /** Each upstream attempt's timeout. */
  readonly timeoutMs: number;
  /** Media jobs asked for in one `GET /jobs/<id>,…`. */
  readonly jobIdsPerLookup: number;
  /** Finished runs whose detail is kept; 0 keeps none. */
  readonly detailCacheEntries: number;
  /** How long a workflow lookup is reused, in milliseconds; 0 never. */
  readonly workflowCacheTtlMs: number;
  /** CI's quota per account, shared by every replica through Redis (see `ci/governor.ts`). */
  readonly quota: QuotaConfig;
}

export interface QuotaConfig {
  /** Calls per second for an account the bucket file gives none; undefined: such accounts are not governed. */
  readonly callsPerSecond: number | undefined;
  /** `enforce` limits; `measure` only counts (`ci_upstream_requests_total` by account), to learn the quota first. */
  readonly mode: 'enforce' | 'measure';
  /** Longest a user's call waits for a token. */
  readonly maxWaitMs: number;
}

/** How much one request, one caller or one connection may take. */
export interface LimitsConfig {
  readonly maxPageSize: number;
  readonly upstreamConcurrency: number;
  readonly maxUpstreamCallsPerRequest: number;
  /** Each request's deadline for its upstream work. */
  readonly requestTimeoutMs: number;
  /** Larger request bodies are refused with 413. */
  readonly maxRequestBytes: number;
  /** Larger GraphQL documents are refused before they are parsed. */
  readonly maxDocumentBytes: number;
  /** Upstream attempts one caller may cause per minute, per replica; 0 for no limit. */
  readonly rateLimitPerMinute: number;
  /** Most subscriptions one WebSocket connection may hold at once. */
  readonly maxSubscriptionsPerConnection: number;
  /** Most subscriptions one caller may hold at once on one replica, over every transport; 0 for no limit. */
  readonly maxSubscriptionsPerCaller: number;
}

/** Live updates: polling, CI's callbacks in, routers' callbacks out, and sharing them between replicas. */
export interface LiveConfig {
  /** How often watched runs and workflows are read; 0: only callbacks bring news. */
  readonly pollIntervalMs: number;
  /** The secret part of the CI callback URL (`/ci/callback/<token>`); no callbacks are taken without it. */
  readonly callbackToken: string | undefined;
  /** This gateway's public base URL as CI reaches it, to tell whether a workflow's callbacks come here. */
  readonly publicCallbackBaseUrl: string | undefined;
  /** Origins Apollo's subscription callback protocol may post to (the routers'). */
  readonly subscriptionCallbackOrigins: readonly string[];
  /** Redis shares live updates (events and poll leases) between replicas; without it they stay in the process. */
  readonly redisUrl: string | undefined;
  /** With Redis, identical reads are answered once for every replica (`plugins/response-cache.ts`). */
  readonly responseCache: boolean;
}

export interface TelemetryConfig {
  readonly logLevel: LogLevel;
  /** Serve `/metrics` on this port alone; undefined serves it on the main port. */
  readonly metricsPort: number | undefined;
  /** Workflows with series of their own in the per-workflow run metrics. */
  readonly maxWorkflowLabels: number;
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
  /** The token claim listing the buckets a caller may use (`*` for all); undefined: every bucket. */
  readonly bucketsClaim: string | undefined;
  /** Production with neither mechanism, said on purpose: the network alone protects the gateway. */
  readonly disabled: boolean;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly errors: string[] };

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
  const tenancy = demo ? undefined : tenancyOf(e, env);
  if (tenancy && !tenancy.ok) return { ok: false, errors: tenancy.errors };
  // Cursors are signed with a secret every replica has: CURSOR_SECRET, else the accounts' own secret keys. The
  // demo's credentials are published, so a key derived from them would let anyone forge cursors.
  const cursorSecret =
    e.CURSOR_SECRET ??
    (demo ? randomBytes(32).toString('base64url') : tenancy && keyDerivedSecret(tenancy.tenancy));
  if (cursorSecret === undefined) {
    return {
      ok: false,
      errors: ['CURSOR_SECRET: required when no account in CI_BUCKETS_FILE is a key pair'],
    };
  }

  return {
    ok: true,
    config: deepFreeze({
      mode: demo ? 'demo' : 'upstream',
      production,
      http: {
        port: e.PORT,
        // Browsers may call the demo (public demo data) from anywhere; real data only from origins named.
        corsOrigins: e.CORS_ORIGINS ?? (demo ? '*' : []),
        // Cross-site request forgery needs something a browser adds by itself; this gateway's credentials (a
        // bearer token, the router's secret) are headers no page can add without a preflight, so with either
        // required, a forged request is refused as unauthenticated anyway, and the demo serves public demo data
        // from its own emulator. Only a gateway that trusts its network (AUTH_DISABLED, or real credentials
        // outside production with no caller checks) needs the preflight header, so that a page elsewhere cannot
        // spend its CI quota. Elsewhere GET queries work with no header at all, as urql and Relay send them.
        csrfPrevention: !demo && e.AUTH_JWKS_URL === undefined && e.ROUTER_SECRET === undefined,
        allowedHosts: e.ALLOWED_HOSTS ?? (production || demo ? undefined : [...LOOPBACK_HOSTS]),
        // The schema is no secret from allowed callers in development; in production only when asked.
        introspection: e.INTROSPECTION === undefined ? !production : e.INTROSPECTION === 'true',
        graphiql: e.GRAPHIQL === undefined ? !production : e.GRAPHIQL === 'true',
        console: e.CONSOLE === undefined ? !production : e.CONSOLE === 'true',
        relayNodeQueries: e.RELAY_NODE_QUERIES === 'true',
        cursorSecret,
        persistedDocumentsFile: e.PERSISTED_DOCUMENTS_FILE,
        onlyPersisted: e.ONLY_PERSISTED === 'true',
        // Only production sits behind load balancers that need time to notice; a laptop stops at once.
        shutdownDelayMs: e.SHUTDOWN_DELAY_MS ?? (production ? DEFAULT_PRODUCTION_SHUTDOWN_DELAY_MS : 0),
        shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      },
      upstream: {
        tenancy: tenancy?.tenancy,
        timeoutMs: e.CI_TIMEOUT_MS,
        jobIdsPerLookup: e.JOB_IDS_PER_LOOKUP,
        detailCacheEntries: e.DETAIL_CACHE_ENTRIES,
        workflowCacheTtlMs: e.WORKFLOW_CACHE_TTL_MS,
        quota: {
          callsPerSecond: e.CI_ACCOUNT_CALLS_PER_SECOND,
          mode: e.CI_QUOTA_MODE ?? 'enforce',
          maxWaitMs: e.CI_QUOTA_MAX_WAIT_MS,
        },
      },
      limits: {
        maxPageSize: e.MAX_PAGE_SIZE,
        upstreamConcurrency: e.UPSTREAM_CONCURRENCY_PER_REQUEST,
        maxUpstreamCallsPerRequest: e.MAX_UPSTREAM_CALLS_PER_REQUEST,
        requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
        maxRequestBytes: e.MAX_REQUEST_BYTES,
        maxDocumentBytes: e.MAX_DOCUMENT_BYTES,
        rateLimitPerMinute: e.RATE_LIMIT_UPSTREAM_CALLS_PER_MINUTE,
        maxSubscriptionsPerConnection: e.MAX_SUBSCRIPTIONS_PER_CONNECTION,
        maxSubscriptionsPerCaller: e.MAX_SUBSCRIPTIONS_PER_CALLER,
      },
      auth: {
        jwksUrl: e.AUTH_JWKS_URL,
        issuer: e.AUTH_ISSUER,
        audience: e.AUTH_AUDIENCE,
        readScope: e.AUTH_READ_SCOPE ?? DEFAULT_SCOPES.read,
        writeScope: e.AUTH_WRITE_SCOPE ?? DEFAULT_SCOPES.write,
        routerSecret: e.ROUTER_SECRET,
        bucketsClaim: e.AUTH_BUCKETS_CLAIM,
        disabled: e.AUTH_DISABLED === 'true',
      },
      live: {
        pollIntervalMs: e.POLL_INTERVAL_MS,
        callbackToken: e.CI_CALLBACK_TOKEN,
        publicCallbackBaseUrl: e.PUBLIC_CALLBACK_BASE_URL,
        subscriptionCallbackOrigins: e.SUBSCRIPTION_CALLBACK_ORIGINS,
        redisUrl: e.REDIS_URL,
        responseCache: e.REDIS_URL !== undefined && e.RESPONSE_CACHE !== 'false',
      },
      telemetry: {
        logLevel: e.LOG_LEVEL ?? 'info',
        metricsPort: e.METRICS_PORT,
        maxWorkflowLabels: e.METRICS_MAX_WORKFLOWS,
        tracing:
          (e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? e.OTEL_EXPORTER_OTLP_ENDPOINT) === undefined ||
          e.OTEL_SDK_DISABLED === 'true' ||
          e.OTEL_TRACES_EXPORTER === 'none'
            ? undefined
            : {
                protocol:
                  e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
              },
      },
    }),
  };
}

/** The buckets of `CI_BUCKETS_FILE`, or the one bucket of the single-bucket variables. */
function tenancyOf(
  e: ReturnType<typeof environment.parse>,
  env: Readonly<Record<string, string | undefined>>,
): { ok: true; tenancy: TenancyConfig } | { ok: false; errors: string[] } {
  if (e.CI_BUCKETS_FILE !== undefined) return tenancyFromFile(e.CI_BUCKETS_FILE, env);
  const keys = keysFromEnvironment(env);
  // presenceErrors has made sure of the keys outside demo mode.
  if (!keys) return { ok: false, errors: ['TENCENTCLOUD_SECRET_ID: required'] };
  return {
    ok: true,
    tenancy: singleBucketTenancy({
      bucket: e.CI_BUCKET,
      region: e.CI_REGION,
      endpoint: e.CI_ENDPOINT,
      keys,
      stsEndpoint: e.STS_ENDPOINT,
    }),
  };
}

/** A secret from the key pairs' secret keys (in a fixed order), so replicas with the same accounts agree on it. */
function keyDerivedSecret(tenancy: TenancyConfig): string | undefined {
  const keys = Object.keys(tenancy.accounts)
    .sort()
    .flatMap((name) => {
      const account = tenancy.accounts[name];
      return account?.kind === 'keys' ? [account.secretKey] : [];
    });
  return keys.length === 0 ? undefined : keys.join('\n');
}

/** Frozen all the way down: no module can change what another reads. */
function deepFreeze<T extends object>(value: T): T {
  for (const field of Object.values(value)) {
    if (typeof field === 'object' && field !== null && !Object.isFrozen(field)) deepFreeze(field);
  }
  return Object.freeze(value);
}
