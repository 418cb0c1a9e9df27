/**
 * Every default of the configuration, in one leaf module: the environment's rules (`environment.ts`) fall back to
 * these, and the modules that need a default (the CI client's timeout, the scopes the schema declares) import it
 * from here rather than from whatever uses it.
 */

export const DEFAULT_PORT = 4000;
/** Each upstream attempt's timeout. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/**
 * Media jobs asked for in one `GET /jobs/<id>,<id>,…`. CI documents no limit; the official SDKs' examples stay at
 * 10, so this is where to start.
 */
export const DEFAULT_JOB_IDS_PER_LOOKUP = 10;
/** Longest a user's call waits for the account's quota before `UPSTREAM_THROTTLED`. */
export const DEFAULT_QUOTA_MAX_WAIT_MS = 2_000;

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
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** Workflows with series of their own in the per-workflow run metrics; the rest share `other`. */
export const DEFAULT_MAX_WORKFLOW_LABELS = 100;
