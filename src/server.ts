/**
 * The gateway as an HTTP handler: the yoga app with GraphiQL, CORS, health and readiness, error mapping and one
 * structured log line per request. No port and no `process.env` here: `index.ts` owns those, tests call
 * `yoga.fetch` directly.
 */
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { GraphQLError, getOperationAST, type ValidationContext } from 'graphql';
import {
  type CORSOptions,
  createYoga,
  type Plugin,
  useReadinessCheck,
  type YogaServerInstance,
} from 'graphql-yoga';
import type { UpstreamAttempt } from './ci/client.js';
import type { Logger } from './logger.js';
import { useBodyLimit } from './plugins/body-limit.js';
import { useCacheControl } from './plugins/cache-control.js';
import { type Caller, type CallerAuthOptions, useCallerAuth } from './plugins/caller-auth.js';
import { useCiCallbacks } from './plugins/ci-callbacks.js';
import { CSRF_HEADERS, useCsrfCheck } from './plugins/csrf.js';
import { documentCaches, useDocumentLimit } from './plugins/document-limit.js';
import { useGraphiQLPage } from './plugins/graphiql.js';
import { useHostCheck } from './plugins/host-check.js';
import { type PersistedQueryOptions, usePersistedQueries } from './plugins/persisted-queries.js';
import { useUpstreamRateLimit } from './plugins/rate-limit.js';
import { useRequestLifetime } from './plugins/request-lifetime.js';
import { useSubscriptionCallbacks } from './plugins/subscription-callbacks.js';
import { useSubscriptionEvents } from './plugins/subscription-events.js';
import { useSubscriptionLimit } from './plugins/subscription-limit.js';
import { chooseRequestId, currentRequestId, REQUEST_ID_HEADER } from './request-context.js';
import { createGraphQLContext, type GatewayServices, type GraphQLContext } from './schema/context.js';
import { USER_INPUT_ERROR } from './schema/errors.js';
import { buildSchema } from './schema/index.js';
import { DEFAULT_SCOPES } from './schema/scopes.js';
import { METRICS_PATH, type Metrics } from './telemetry/metrics.js';
import { useTracing } from './telemetry/tracing.js';

export const GRAPHQL_PATH = '/graphql';
export const HEALTH_PATH = '/health';
export const READY_PATH = '/ready';
/**
 * Limits on the shape of a document, checked before anything runs. Generous for real queries (the deepest useful
 * one, workflow → executions → node → workflow → executions → node → tasks, is 10 deep), tight enough that a
 * crafted document cannot spend the server's CPU on parsing and validation.
 */
export const DOCUMENT_LIMITS = { maxTokens: 5_000, maxDepth: 15, maxAliases: 30 } as const;
/** What yoga's parse and validation caches may hold, in bytes of the documents they key on. */
const PARSE_CACHE_BYTES = 16 * 1024 * 1024;

export const EXAMPLE_QUERY = `# The large demo workflow's latest runs. Run with the ▶ button and pick an operation; for the next page, put
# pageInfo.endCursor into the Variables pane below: { "after": "v2.…" }
query RecentExecutions($after: String) {
  workflowExecutions(
    filter: { workflowId: "w5f1e0c8a9b2d4e6f8a0b1c2d3e4f5a6b", states: [SUCCESS, FAILED, RUNNING] }
    first: 5
    after: $after
  ) {
    pageInfo { hasNextPage endCursor }
    edges {
      node { runId objectKey state createdAt failedTask { type message } }
    }
  }
}

# Start a run of the same workflow on an object: it shows at the top of RecentExecutions as RUNNING and finishes
# about 20 seconds later (an object key containing "fail" fails its transcode).
mutation TriggerRun {
  triggerWorkflow(input: { workflowId: "w5f1e0c8a9b2d4e6f8a0b1c2d3e4f5a6b", objectKey: "uploads/my clip.mp4" }) {
    runId
    execution { state tasks { type state job { progress } } }
  }
}
`;

export interface GatewayOptions {
  readonly services: GatewayServices;
  readonly logger: Logger;
  /** `*` for any origin, an empty list for none. */
  readonly corsOrigins: '*' | readonly string[];
  /** Resolves true when the upstream is configured and reachable. */
  readonly isReady: () => Promise<boolean>;
  /** Adds `Query.node` / `Query.nodes` for standalone use (off in a supergraph). */
  readonly relayNodeQueries?: boolean;
  /** Each request's deadline for its upstream work. */
  readonly requestTimeoutMs: number;
  /** Larger request bodies are refused with 413. */
  readonly maxRequestBytes: number;
  /** Larger GraphQL documents are refused before they are parsed. */
  readonly maxDocumentBytes: number;
  /** Aborts every request's upstream work: the end of a drain. */
  readonly shutdownSignal?: AbortSignal | undefined;
  /** Ends every open subscription (its stream completes): the start of a drain. */
  readonly subscriptionsEndSignal?: AbortSignal | undefined;
  /** Who may call: a verified JWT, the router's secret, both, or (absent) anyone who reaches the port. */
  readonly auth?:
    | (CallerAuthOptions & { readonly readScope?: string; readonly writeScope?: string })
    | undefined;
  /** Subscriptions one caller may hold open at once, over every transport; absent for no limit. */
  readonly maxSubscriptionsPerCaller?: number | undefined;
  /** Upstream attempts one caller may cause per minute; 0 or absent for no limit. */
  readonly rateLimitPerMinute?: number | undefined;
  /** @default true */
  readonly introspection?: boolean | undefined;
  /** @default true */
  readonly graphiql?: boolean | undefined;
  /** `Host` names served (probes aside); absent for any. */
  readonly allowedHosts?: readonly string[] | undefined;
  /** Prometheus metrics; `servePath` serves them at `/metrics` on this listener (else they have their own port). */
  readonly metrics?: { readonly metrics: Metrics; readonly servePath: boolean } | undefined;
  /** Automatic persisted queries (always), a manifest of documents, and whether only those may run. */
  readonly persistedQueries?: PersistedQueryOptions | undefined;
  /** Origins (the routers') that Apollo's subscription callback protocol may post to; none refuses it. */
  readonly subscriptionCallbackOrigins?: readonly string[] | undefined;
  /** Take CI's callbacks at `/ci/callback/<token>`. */
  readonly callbackToken?: string | undefined;
  /** Continue callers' traces with server and operation spans (an OpenTelemetry SDK must be registered). */
  readonly tracing?: boolean | undefined;
}

/** What the request-log plugin gathers about one HTTP request. */
interface RequestRecord {
  readonly id: string;
  readonly startedAt: number;
  readonly upstream: UpstreamAttempt[];
  operation?: string;
  errorCodes?: string[];
}

/** What a WebSocket connection brings instead of a request's own checks: its verified caller and lifetime. */
export interface SocketBinding {
  readonly caller: Caller;
  /** Aborted when the subscription or the connection ends. */
  readonly signal: AbortSignal;
}

export type Gateway = YogaServerInstance<Record<string, never>, GraphQLContext> & {
  /** The caller checks of a GraphQL request, for a connection that is not one (a WebSocket's). */
  authenticateSocket(headers: Headers): Promise<Caller>;
};

/**
 * The depth and alias limits report through the validation context, like every other validation rule, so their
 * errors carry the same `GRAPHQL_VALIDATION_FAILED` code instead of escaping as bare errors.
 */
const asValidationErrors = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
};

export function createGateway(options: GatewayOptions): Gateway {
  const records = new WeakMap<Request, RequestRecord>();
  const scopes = {
    read: options.auth?.readScope ?? DEFAULT_SCOPES.read,
    write: options.auth?.writeScope ?? DEFAULT_SCOPES.write,
  };
  const schema = buildSchema({
    relayNodeQueries: options.relayNodeQueries === true,
    readScope: scopes.read,
    writeScope: scopes.write,
  });
  const lifetimes = useRequestLifetime({
    timeoutMs: options.requestTimeoutMs,
    shutdownSignal: options.shutdownSignal,
  });
  const subscriptionEvents = useSubscriptionEvents({
    eventTimeoutMs: options.requestTimeoutMs,
    endSignal: options.subscriptionsEndSignal,
  });
  const documentLimit = useDocumentLimit(options.maxDocumentBytes);
  const auth = useCallerAuth(options.auth ?? {});
  /** A WebSocket subscription's caller was verified when its connection opened; a request's, by the auth plugin. */
  const callerOf = (request: Request, serverContext: unknown) =>
    (serverContext as { socket?: SocketBinding } | undefined)?.socket?.caller ?? auth.callerOf(request);
  /** Callers are told apart by their token's subject, else by their address (a router on its secret is one). */
  const callerKey = (request: Request, serverContext: unknown) => {
    const subject = callerOf(request, serverContext).subject;
    return subject === undefined ? `address:${clientAddress(serverContext)}` : `subject:${subject}`;
  };
  const rateLimit = options.rateLimitPerMinute
    ? useUpstreamRateLimit({ perMinute: options.rateLimitPerMinute, callerKey })
    : undefined;
  const subscriptionLimit = options.maxSubscriptionsPerCaller
    ? useSubscriptionLimit({
        perCaller: options.maxSubscriptionsPerCaller,
        callerKey: (context) => callerKey((context as { request: Request }).request, context),
      })
    : undefined;
  // Without a token requirement there are no scopes to check: the context's default grants everything.
  const rightsOf = (caller: Caller) => {
    const granted = caller.scopes;
    return (
      granted && {
        mayRead: granted.has(scopes.read),
        mayWrite: granted.has(scopes.write),
        expiresAt: caller.expiresAt,
      }
    );
  };

  const yoga = createYoga<Record<string, never>, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    healthCheckEndpoint: HEALTH_PATH,
    landingPage: false,
    // Served by its own plugin, compressed and cacheable.
    graphiql: false,
    cors: corsOptions(options.corsOrigins),
    // Only GraphQL errors we raise on purpose (bad input, mapped upstream failures) reach clients verbatim.
    maskedErrors: { isDev: false },
    // Checked by useBodyLimit instead, without a counting stream around every body.
    maxRequestBodySize: false,
    // Bounded by bytes as well as entries: a thousand distinct large documents must not fill the heap.
    parserAndValidationCache: documentCaches(PARSE_CACHE_BYTES),
    logging: options.logger,
    context: (initial) => {
      const { request } = initial;
      // A WebSocket subscription: authenticated when its connection opened, ended with it.
      const socket = (initial as { socket?: SocketBinding }).socket;
      const record = records.get(request);
      return createGraphQLContext(options.services, {
        signal: socket?.signal ?? lifetimes.signalFor(request),
        onAttempt: (attempt) => record?.upstream.push(attempt),
        chargeAttempt: rateLimit?.chargeFor(request),
        caller: rightsOf(callerOf(request, initial)),
      });
    },
    plugins: [
      // First: CI posts to the public host name, whatever ALLOWED_HOSTS says, and carries no caller credentials.
      options.callbackToken
        ? useCiCallbacks({
            token: options.callbackToken,
            hint: (runId) => options.services.live.hint(runId),
            logger: options.logger,
            clientKey: clientAddress,
          })
        : {},
      options.tracing ? useTracing({ graphqlPath: GRAPHQL_PATH }) : {},
      options.allowedHosts
        ? useHostCheck({
            allowedHosts: options.allowedHosts,
            // Probes and scrapes come from the platform, addressed by the pod's IP.
            exemptPaths: [HEALTH_PATH, READY_PATH, METRICS_PATH],
          })
        : {},
      options.metrics ? options.metrics.metrics.plugin({ servePath: options.metrics.servePath }) : {},
      options.graphiql === false
        ? {}
        : useGraphiQLPage({
            endpoint: GRAPHQL_PATH,
            title: 'CI workflow gateway',
            defaultQuery: EXAMPLE_QUERY,
          }),
      lifetimes.plugin,
      useBodyLimit(options.maxRequestBytes),
      useCsrfCheck(),
      auth.plugin,
      rateLimit?.plugin ?? {},
      // Subscriptions: each event run afresh, counted per caller while their streams last, then relayed.
      subscriptionEvents.plugin,
      subscriptionLimit ?? {},
      // Before automatic persisted queries keep a document's text.
      documentLimit.plugin,
      usePersistedQueries(options.persistedQueries ?? {}),
      useSubscriptionCallbacks({
        allowedOrigins: options.subscriptionCallbackOrigins ?? [],
        logger: options.logger,
      }),
      // `_service { sdl }` is a query, not introspection: the router and `rover` still get the schema.
      options.introspection === false ? useDisableIntrospection() : {},
      maxTokensPlugin({ n: DOCUMENT_LIMITS.maxTokens }),
      maxDepthPlugin({
        n: DOCUMENT_LIMITS.maxDepth,
        ignoreIntrospection: true,
        flattenFragments: true,
        ...asValidationErrors,
      }),
      maxAliasesPlugin({ n: DOCUMENT_LIMITS.maxAliases, ...asValidationErrors }),
      useReadinessCheck({ endpoint: READY_PATH, check: () => options.isReady() }),
      useVariableErrorCode(),
      useCacheControl({
        graphqlPath: GRAPHQL_PATH,
        private: Boolean(options.auth?.jwt || options.auth?.routerSecret),
      }),
      useRequestLog(options.logger, records),
    ],
  });
  return Object.assign(yoga, { authenticateSocket: auth.authenticate });
}

/** One structured line per GraphQL request: operation, duration, status, upstream calls and their request ids. */
function useRequestLog(logger: Logger, records: WeakMap<Request, RequestRecord>): Plugin<GraphQLContext> {
  return {
    onRequest({ request }) {
      records.set(request, {
        // The HTTP layer decides the id when there is one; yoga's own fetch (tests, serverless) decides it here.
        id: currentRequestId() ?? chooseRequestId(request.headers.get(REQUEST_ID_HEADER)),
        startedAt: performance.now(),
        upstream: [],
      });
    },
    onExecute({ args }) {
      const record = records.get((args.contextValue as { request: Request }).request);
      if (!record) return;
      const operation = getOperationAST(args.document, args.operationName);
      record.operation = `${operation?.operation ?? 'unknown'} ${operation?.name?.value ?? '(anonymous)'}`;
    },
    onExecutionResult({ request, result }) {
      const record = records.get(request);
      if (!record || Array.isArray(result) || !result || !('errors' in result) || !result.errors) return;
      record.errorCodes = result.errors.map((error) => String(error.extensions?.['code'] ?? 'UNKNOWN'));
    },
    onResponse({ request, response }) {
      const record = records.get(request);
      if (!record) return;
      response.headers.set(REQUEST_ID_HEADER, record.id);
      const path = new URL(request.url).pathname;
      const fields = {
        requestId: record.id,
        method: request.method,
        path,
        status: response.status,
        operation: record.operation,
        durationMs: Math.round(performance.now() - record.startedAt),
        upstreamCalls: record.upstream.length,
        upstream: record.upstream,
        errors: record.errorCodes,
      };
      if (path === GRAPHQL_PATH) logger.info(fields, 'graphql request');
      else logger.debug(fields, 'http request');
    },
  };
}

/**
 * graphql-js reports variables that fail coercion (an unparseable DateTime, a string for an Int) without a code;
 * give them the same `BAD_USER_INPUT` as every other bad input.
 */
function useVariableErrorCode(): Plugin {
  return {
    onExecutionResult({ result, setResult }) {
      if (Array.isArray(result) || !result || !('errors' in result) || !result.errors) return;
      const errors = result.errors.map((error) =>
        error.path === undefined &&
        error.extensions?.['code'] === undefined &&
        error.message.startsWith('Variable "$')
          ? new GraphQLError(error.message, {
              nodes: error.nodes ?? null,
              extensions: { code: USER_INPUT_ERROR },
            })
          : error,
      );
      setResult({ ...result, errors });
    },
  };
}

function corsOptions(origins: '*' | readonly string[]): CORSOptions | false {
  if (origins !== '*' && origins.length === 0) return false;
  return {
    origin: origins === '*' ? '*' : [...origins],
    methods: ['GET', 'POST', 'OPTIONS'],
    allowedHeaders: [
      'accept',
      'authorization',
      'content-type',
      'traceparent',
      'tracestate',
      REQUEST_ID_HEADER,
      'apollographql-client-name',
      'apollographql-client-version',
      ...CSRF_HEADERS,
    ],
    exposedHeaders: [REQUEST_ID_HEADER],
    credentials: false,
    maxAge: 600,
  };
}

/** The peer's address as Node saw it; behind a router or proxy, that of the router or proxy. */
function clientAddress(serverContext: unknown): string {
  const req = (serverContext as { req?: { socket?: { remoteAddress?: string } } } | undefined)?.req;
  return req?.socket?.remoteAddress ?? 'unknown';
}
