/**
 * The gateway as an HTTP handler: the yoga app and the plugins it runs, in order. Each concern is its own plugin
 * (`src/plugins`, `src/telemetry`); who the caller is comes from `caller-identity.ts`, and graphql-ws operations are
 * admitted by `socket-operations.ts` through the same plugins. No port and no `process.env` here: `index.ts` owns
 * those, tests call `yoga.fetch` directly.
 */

import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import type { GraphQLError, ValidationContext } from 'graphql';
import {
  type CORSOptions,
  createYoga,
  useReadinessCheck,
  type YogaInitialContext,
  type YogaServerInstance,
} from 'graphql-yoga';
import { DEFAULT_SCOPES } from '../defaults.js';
import type { ResponseStore } from '../live/redis-response-store.js';
import { useBodyLimit } from '../plugins/body-limit.js';
import { useCacheControl } from '../plugins/cache-control.js';
import { type CallerAuthOptions, useCallerAuth } from '../plugins/caller-auth.js';
import { type CiCallbackOptions, useCiCallbacks } from '../plugins/ci-callbacks.js';
import { type ConsolePageOptions, useConsolePage } from '../plugins/console-page.js';
import { CSRF_HEADERS, useCsrfCheck } from '../plugins/csrf.js';
import { documentCaches, useDocumentLimit } from '../plugins/document-limit.js';
import { useGraphiQLOffPage, useGraphiQLPage } from '../plugins/graphiql.js';
import { useHostCheck } from '../plugins/host-check.js';
import { useMultipartSubscriptions } from '../plugins/multipart-subscriptions.js';
import { type PersistedQueryOptions, usePersistedQueries } from '../plugins/persisted-queries.js';
import { useUpstreamRateLimit } from '../plugins/rate-limit.js';
import { guardRequestHooks } from '../plugins/request-hook-guard.js';
import { useRequestLifetime } from '../plugins/request-lifetime.js';
import { createRequestLog } from '../plugins/request-log.js';
import { useSharedResponseCache } from '../plugins/response-cache.js';
import { useSubscriptionCallbacks } from '../plugins/subscription-callbacks.js';
import { useSubscriptionEvents } from '../plugins/subscription-events.js';
import { useSubscriptionLimit } from '../plugins/subscription-limit.js';
import { useVariableErrorCode } from '../plugins/variable-error-code.js';
import { REQUEST_ID_HEADER } from '../request-context.js';
import { createGraphQLContext, type GatewayServices, type GraphQLContext } from '../schema/context.js';
import { buildSchema } from '../schema/index.js';
import type { Logger } from '../telemetry/logger.js';
import { METRICS_PATH, type Metrics } from '../telemetry/metrics.js';
import { useTracing } from '../telemetry/tracing.js';
import { callerIdentity, clientAddress, type ServerContext } from './caller-identity.js';
import { EXAMPLE_QUERY } from './example-query.js';
import { type SocketGateway, socketOperations } from './socket-operations.js';

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

/** The gateway's options, in the configuration's sections (`services.ts` maps one onto the other). */
export interface GatewayOptions {
  readonly services: GatewayServices;
  readonly logger: Logger;
  /** Resolves true when the upstream is configured and reachable. */
  readonly isReady: () => Promise<boolean>;

  // HTTP
  /** `*` for any origin, an empty list for none. */
  readonly corsOrigins: '*' | readonly string[];
  /** Refuse GETs and non-JSON POSTs without a preflight-forcing header (CSRF). @default true */
  readonly csrfPrevention?: boolean | undefined;
  /** `Host` names served (probes aside); absent for any. */
  readonly allowedHosts?: readonly string[] | undefined;
  /** @default true */
  readonly introspection?: boolean | undefined;
  /** @default true */
  readonly graphiql?: boolean | undefined;
  /** The operations console at `/console`, served from its build; absent for none. */
  readonly console?: ConsolePageOptions | undefined;
  /** Adds `Query.node` / `Query.nodes` for standalone use (off in a supergraph). */
  readonly relayNodeQueries?: boolean;
  /** Automatic persisted queries (always), a manifest of documents, and whether only those may run. */
  readonly persistedQueries?: PersistedQueryOptions | undefined;
  /** Ends every open subscription (its stream completes): the start of a drain. */
  readonly subscriptionsEndSignal?: AbortSignal | undefined;
  /** Aborts every request's upstream work: the end of a drain. */
  readonly shutdownSignal?: AbortSignal | undefined;

  // Limits
  /** Each request's deadline for its upstream work. */
  readonly requestTimeoutMs: number;
  /** Larger request bodies are refused with 413. */
  readonly maxRequestBytes: number;
  /** Larger GraphQL documents are refused before they are parsed. */
  readonly maxDocumentBytes: number;
  /** Upstream attempts one caller may cause per minute; 0 or absent for no limit. */
  readonly rateLimitPerMinute?: number | undefined;
  /** Subscriptions one caller may hold open at once, over every transport; 0 or absent for no limit. */
  readonly maxSubscriptionsPerCaller?: number | undefined;
  /** Where identical reads are answered from, for every replica sharing it; absent for none. */
  readonly responseCache?: ResponseStore | undefined;

  // Auth
  /** Who may call: a verified JWT, the router's secret, both, or (absent) anyone who reaches the port. */
  readonly auth?:
    | (CallerAuthOptions & { readonly readScope?: string; readonly writeScope?: string })
    | undefined;

  // Live updates
  /** Take CI's callbacks at `/ci/callback/<token>/<bucketId>` (the default bucket's at `/ci/callback/<token>`). */
  readonly callbackToken?: string | undefined;
  /** Where a callback's hint goes: the bucket's live updates. */
  readonly callbackHints?: Pick<CiCallbackOptions<ServerContext>, 'hint' | 'takesBucket'> | undefined;
  /** Origins (the routers') that Apollo's subscription callback protocol may post to; none refuses it. */
  readonly subscriptionCallbackOrigins?: readonly string[] | undefined;

  // Telemetry
  /** Prometheus metrics; `servePath` serves them at `/metrics` on this listener (else they have their own port). */
  readonly metrics?: { readonly metrics: Metrics; readonly servePath: boolean } | undefined;
  /** Continue callers' traces with server and operation spans (an OpenTelemetry SDK must be registered). */
  readonly tracing?: boolean | undefined;
}

export type Gateway = YogaServerInstance<ServerContext, GraphQLContext> & SocketGateway;

/**
 * The depth and alias limits report through the validation context, like every other validation rule, so their
 * errors carry the same `GRAPHQL_VALIDATION_FAILED` code instead of escaping as bare errors.
 */
const asValidationErrors = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
};

export function createGateway(options: GatewayOptions): Gateway {
  const scopes = {
    read: options.auth?.readScope ?? DEFAULT_SCOPES.read,
    write: options.auth?.writeScope ?? DEFAULT_SCOPES.write,
  };
  const schema = buildSchema({
    relayNodeQueries: options.relayNodeQueries === true,
    readScope: scopes.read,
    writeScope: scopes.write,
  });
  const requestLog = createRequestLog(options.logger, GRAPHQL_PATH);
  const lifetimes = useRequestLifetime({
    timeoutMs: options.requestTimeoutMs,
    shutdownSignal: options.shutdownSignal,
  });
  const subscriptionEvents = useSubscriptionEvents({
    eventTimeoutMs: options.requestTimeoutMs,
    endSignal: options.subscriptionsEndSignal,
  });
  const documentLimit = useDocumentLimit(options.maxDocumentBytes);
  const persisted = usePersistedQueries(options.persistedQueries ?? {});
  const auth = useCallerAuth(options.auth ?? {});
  const identity = callerIdentity(auth, scopes);
  const rateLimit = options.rateLimitPerMinute
    ? useUpstreamRateLimit<ServerContext>({
        perMinute: options.rateLimitPerMinute,
        buckets: options.services.buckets.all.length,
        callerKey: identity.callerKey,
      })
    : undefined;
  const subscriptionLimit = options.maxSubscriptionsPerCaller
    ? useSubscriptionLimit<YogaInitialContext & ServerContext>({
        perCaller: options.maxSubscriptionsPerCaller,
        callerKey: (context) => identity.callerKey(context.request, context),
      })
    : undefined;

  const yoga = createYoga<ServerContext, GraphQLContext>({
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
      const record = requestLog.recordOf(request);
      const callerKey = rateLimit && identity.callerKey(request, initial);
      return createGraphQLContext(options.services, {
        signal: lifetimes.signalFor(request),
        onAttempt: (attempt) => record?.upstream.push(attempt),
        admit: callerKey === undefined ? undefined : rateLimit?.admit(callerKey),
        chargeAttempt: callerKey === undefined ? undefined : rateLimit?.charge(callerKey),
        caller: identity.rightsOf(identity.callerOf(request, initial)),
      });
    },
    plugins: guardRequestHooks(
      [
        // First: CI posts to the public host name, whatever ALLOWED_HOSTS says, and carries no caller credentials.
        options.callbackToken && options.callbackHints
          ? useCiCallbacks({
              token: options.callbackToken,
              ...options.callbackHints,
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
          ? useGraphiQLOffPage({ endpoint: GRAPHQL_PATH, title: 'CI workflow gateway' })
          : useGraphiQLPage({
              endpoint: GRAPHQL_PATH,
              title: 'CI workflow gateway',
              defaultQuery: EXAMPLE_QUERY,
            }),
        options.console ? useConsolePage(options.console) : {},
        lifetimes.plugin,
        useBodyLimit(options.maxRequestBytes),
        options.csrfPrevention === false ? {} : useCsrfCheck(),
        auth.plugin,
        rateLimit?.plugin ?? {},
        // Subscriptions: each event run afresh, counted per caller while their streams last, then relayed.
        subscriptionEvents,
        subscriptionLimit ?? {},
        // Before automatic persisted queries keep a document's text.
        documentLimit.plugin,
        persisted.plugin,
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
        // Apollo Client's default transport for subscriptions.
        useMultipartSubscriptions(),
        // @defer and @stream, answered in parts over multipart/mixed or SSE: slow fields after the list.
        useDeferStream(),
        useCacheControl({
          graphqlPath: GRAPHQL_PATH,
          private: Boolean(options.auth?.jwt || options.auth?.routerSecret),
        }),
        requestLog.plugin,
        // Last: it replaces execution with a lookup, which no later plugin may replace again.
        options.responseCache
          ? useSharedResponseCache<ServerContext>({
              store: options.responseCache,
              sessionOf: identity.accessScope,
            })
          : {},
      ],
      options.logger,
    ),
  });

  const openSocketOperation = socketOperations({
    yoga,
    graphqlPath: GRAPHQL_PATH,
    documentLimit,
    persisted,
    rateLimit,
    lifetimes,
    requestLog,
    identity,
  });
  return Object.assign(yoga, { authenticateSocket: auth.authenticate, openSocketOperation });
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
