/**
 * The gateway as an HTTP handler: the yoga app with GraphiQL, CORS, health and readiness, error mapping and one
 * structured log line per request. No port and no `process.env` here: `index.ts` owns those, tests call
 * `yoga.fetch` directly.
 */

import type { IncomingMessage } from 'node:http';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { useDeferStream } from '@graphql-yoga/plugin-defer-stream';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import {
  type DocumentNode,
  type ExecutionArgs,
  GraphQLError,
  getOperationAST,
  type ValidationContext,
} from 'graphql';
import {
  type CORSOptions,
  createYoga,
  type GraphQLParams,
  type Plugin,
  useReadinessCheck,
  type YogaServerInstance,
} from 'graphql-yoga';
import type { UpstreamAttempt } from './ci/client.js';
import { DEFAULT_SCOPES } from './config.js';
import { ErrorCode, errorCodeOf, errorCodesOf } from './error-codes.js';
import { useBodyLimit } from './plugins/body-limit.js';
import { useCacheControl } from './plugins/cache-control.js';
import { type Caller, type CallerAuthOptions, useCallerAuth } from './plugins/caller-auth.js';
import { useCiCallbacks } from './plugins/ci-callbacks.js';
import { CSRF_HEADERS, useCsrfCheck } from './plugins/csrf.js';
import { documentCaches, useDocumentLimit } from './plugins/document-limit.js';
import { useGraphiQLOffPage, useGraphiQLPage } from './plugins/graphiql.js';
import { useHostCheck } from './plugins/host-check.js';
import { useMultipartSubscriptions } from './plugins/multipart-subscriptions.js';
import { type PersistedQueryOptions, usePersistedQueries } from './plugins/persisted-queries.js';
import { useUpstreamRateLimit } from './plugins/rate-limit.js';
import { guardRequestHooks } from './plugins/request-hook-guard.js';
import { useRequestLifetime } from './plugins/request-lifetime.js';
import { useSubscriptionCallbacks } from './plugins/subscription-callbacks.js';
import { useSubscriptionEvents } from './plugins/subscription-events.js';
import { useSubscriptionLimit } from './plugins/subscription-limit.js';
import { chooseRequestId, currentRequestId, REQUEST_ID_HEADER } from './request-context.js';
import { createGraphQLContext, type GatewayServices, type GraphQLContext } from './schema/context.js';
import { buildSchema } from './schema/index.js';
import type { Logger } from './telemetry/logger.js';
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
  /** Refuse GETs and non-JSON POSTs without a preflight-forcing header (CSRF). @default true */
  readonly csrfPrevention?: boolean | undefined;
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

/** What a WebSocket connection brings instead of a request's own checks: the caller verified when it opened. */
export interface SocketBinding {
  readonly caller: Caller;
}

/** One graphql-ws operation, as its connection received it. */
export interface SocketOperation {
  readonly caller: Caller;
  /** The connection's headers, credentials from `connectionParams` included. */
  readonly headers: Headers;
  /** The upgrade request: its client address tells callers apart, as a request's does. */
  readonly upgrade: IncomingMessage;
  /** The `subscribe` message's payload. */
  readonly params: {
    readonly query?: string | undefined;
    readonly operationName?: string | null | undefined;
    readonly variables?: Record<string, unknown> | null | undefined;
    readonly extensions?: Record<string, unknown> | null | undefined;
  };
  /** Aborted when the client completes the operation or the connection closes. */
  readonly gone: AbortSignal;
}

/** An admitted graphql-ws operation: what to execute, and what ends it. */
export interface OpenedSocketOperation {
  readonly args: ExecutionArgs;
  /** Notes a result sent, for the operation's log line. */
  noteResult(result: { readonly errors?: readonly GraphQLError[] | undefined }): void;
  /** Ends its lifetime (what is left of its upstream work is aborted) and logs it. */
  end(): void;
}

export type Gateway = YogaServerInstance<Record<string, never>, GraphQLContext> & {
  /** The caller checks of a GraphQL request, for a connection that is not one (a WebSocket's). */
  authenticateSocket(headers: Headers): Promise<Caller>;
  /**
   * Admits a graphql-ws operation through the checks an HTTP request passes in yoga's request hooks, which
   * WebSocket messages never reach: persisted-document rules, the document size limit, the caller's rate limit,
   * the request deadline, and the log line. Parsing, validation and execution run through the same envelop (token,
   * depth and alias limits, introspection, scopes, subscription limits) as for HTTP. Refused: the errors to send.
   */
  openSocketOperation(operation: SocketOperation): Promise<OpenedSocketOperation | readonly GraphQLError[]>;
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
  const persisted = usePersistedQueries(options.persistedQueries ?? {});
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
      const record = records.get(request);
      return createGraphQLContext(options.services, {
        signal: lifetimes.signalFor(request),
        onAttempt: (attempt) => record?.upstream.push(attempt),
        chargeAttempt: rateLimit?.charge(callerKey(request, initial)),
        caller: rightsOf(callerOf(request, initial)),
      });
    },
    plugins: guardRequestHooks(
      [
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
          ? useGraphiQLOffPage({ endpoint: GRAPHQL_PATH, title: 'CI workflow gateway' })
          : useGraphiQLPage({
              endpoint: GRAPHQL_PATH,
              title: 'CI workflow gateway',
              defaultQuery: EXAMPLE_QUERY,
            }),
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
        useRequestLog(options.logger, records),
      ],
      options.logger,
    ),
  });

  const openSocketOperation = async ({
    caller,
    headers,
    upgrade,
    params: payload,
    gone,
  }: SocketOperation) => {
    const params: GraphQLParams = {
      ...(typeof payload.query === 'string' ? { query: payload.query } : {}),
      ...(payload.operationName ? { operationName: payload.operationName } : {}),
      ...(payload.variables ? { variables: payload.variables } : {}),
      ...(payload.extensions ? { extensions: payload.extensions } : {}),
    };
    // A POST: what graphql-ws allows (queries and mutations as well as subscriptions) is what a POST may do.
    const request = new Request(`http://websocket${GRAPHQL_PATH}`, { method: 'POST', headers });
    const serverContext = { req: upgrade, socket: { caller } satisfies SocketBinding };
    const tooLarge = typeof params.query === 'string' ? documentLimit.check(params.query) : undefined;
    if (tooLarge) return [tooLarge];
    const document = persisted.documentFor(params);
    if (document instanceof GraphQLError) return [document];
    const limited = await rateLimit?.refusal(callerKey(request, serverContext));
    if (limited) return [limited];

    const record = startRecord(records, request);
    const endLifetime = lifetimes.open(request, gone);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      endLifetime();
      logRecord(options.logger, record, { transport: 'graphql-ws' });
    };
    const enveloped = yoga.getEnveloped({
      request,
      ...serverContext,
      params: { ...params, query: document },
    });
    let parsed: DocumentNode;
    try {
      parsed = enveloped.parse(document);
    } catch (error) {
      end();
      return [error instanceof GraphQLError ? error : new GraphQLError('The document cannot be parsed.')];
    }
    const errors = enveloped.validate(enveloped.schema, parsed);
    if (errors.length > 0) {
      record.errorCodes = errors.map((error: GraphQLError) =>
        errorCodeOf(error, ErrorCode.GRAPHQL_VALIDATION_FAILED),
      );
      end();
      return errors;
    }
    return {
      args: {
        schema: enveloped.schema,
        document: parsed,
        operationName: params.operationName,
        variableValues: params.variables,
        contextValue: await enveloped.contextFactory(),
        rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe },
      },
      noteResult: (result: { readonly errors?: readonly GraphQLError[] | undefined }) => {
        if (result.errors?.length)
          record.errorCodes = [...(record.errorCodes ?? []), ...errorCodesOf(result)];
      },
      end,
    };
  };
  return Object.assign(yoga, { authenticateSocket: auth.authenticate, openSocketOperation });
}

/** Names the operation of a record: `query Name`, `subscription (anonymous)`. */
function noteOperation(records: WeakMap<Request, RequestRecord>, args: ExecutionArgs): void {
  const record = records.get((args.contextValue as { request: Request }).request);
  if (!record) return;
  const operation = getOperationAST(args.document, args.operationName);
  record.operation = `${operation?.operation ?? 'unknown'} ${operation?.name?.value ?? '(anonymous)'}`;
}

/** Starts the record of one operation: an HTTP request, or a graphql-ws message. */
function startRecord(records: WeakMap<Request, RequestRecord>, request: Request): RequestRecord {
  const record: RequestRecord = {
    // The HTTP layer decides the id when there is one; yoga's own fetch (tests, serverless) decides it here.
    id: currentRequestId() ?? chooseRequestId(request.headers.get(REQUEST_ID_HEADER)),
    startedAt: performance.now(),
    upstream: [],
  };
  records.set(request, record);
  return record;
}

/** The one log line of an operation: its id, operation, duration, errors, and every upstream attempt. */
function logRecord(logger: Logger, record: RequestRecord, fields: Record<string, unknown>): void {
  logger.info(
    {
      requestId: record.id,
      ...fields,
      operation: record.operation,
      durationMs: Math.round(performance.now() - record.startedAt),
      upstreamCalls: record.upstream.length,
      upstream: record.upstream,
      errors: record.errorCodes,
    },
    'graphql request',
  );
}

/** One structured line per GraphQL request: operation, duration, status, upstream calls and their request ids. */
function useRequestLog(logger: Logger, records: WeakMap<Request, RequestRecord>): Plugin<GraphQLContext> {
  return {
    onRequest({ request }) {
      startRecord(records, request);
    },
    onExecute({ args }) {
      noteOperation(records, args);
    },
    onSubscribe({ args }) {
      noteOperation(records, args);
    },
    onExecutionResult({ request, result }) {
      const record = records.get(request);
      if (!record || Array.isArray(result) || !result || !('errors' in result) || !result.errors) return;
      record.errorCodes = errorCodesOf(result);
    },
    onResponse({ request, response }) {
      const record = records.get(request);
      if (!record) return;
      response.headers.set(REQUEST_ID_HEADER, record.id);
      const path = new URL(request.url).pathname;
      if (path === GRAPHQL_PATH) {
        logRecord(logger, record, { method: request.method, path, status: response.status });
        return;
      }
      logger.debug(
        {
          requestId: record.id,
          method: request.method,
          path,
          status: response.status,
          durationMs: Math.round(performance.now() - record.startedAt),
        },
        'http request',
      );
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
              extensions: { code: ErrorCode.BAD_USER_INPUT },
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
