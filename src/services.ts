/**
 * The composition root: what one gateway process is built from, out of its configuration. `index.ts` and the
 * tests both build the gateway here, so what the tests run is wired as production wires it, with the same
 * defaults (those of `defaults.ts`).
 *
 * - {@link createServices}: what every request shares (the CI client and its read cache, live updates, cursors).
 * - {@link gatewayOptions}: the HTTP layer's options, section by section from the configuration.
 */
import { CiClient, type CiClientOptions, type UpstreamObserver } from './ci/client.js';
import { ReadCache } from './ci/read-cache.js';
import type { Config, UpstreamConnection } from './config.js';
import type { GatewayOptions } from './http/gateway.js';
import { LiveUpdates } from './live/live-updates.js';
import type { PollLeases } from './live/poller.js';
import { callbackUrlCheck } from './plugins/ci-callbacks.js';
import type { GatewayServices } from './schema/context.js';
import { CursorCodec } from './schema/cursor.js';
import { PageTokenKnowledge } from './schema/page-tokens.js';
import type { Logger } from './telemetry/logger.js';
import type { Metrics } from './telemetry/metrics.js';

/** What the services need beyond the configuration: things made outside, at start. */
export interface ServiceRuntime {
  readonly logger: Logger;
  /** The CI endpoint and credentials: the configured ones, or the built-in emulator's. */
  readonly connection: UpstreamConnection;
  readonly metrics?: Metrics | undefined;
  /** Further watchers of every upstream attempt (trace spans). */
  readonly observers?: readonly UpstreamObserver[] | undefined;
  /** Redis's event target and poll leases, when replicas share live updates. */
  readonly shared?: { readonly eventTarget: EventTarget; readonly leases: PollLeases } | undefined;
  /** The CI callback token in use (demo mode makes one up). */
  readonly callbackToken?: string | undefined;
  /** This gateway's public base URL as CI reaches it (demo mode learns it once listening). */
  readonly publicCallbackBaseUrl?: () => string | undefined;
  /** Client settings a test overrides (retry timing, a dispatcher). */
  readonly client?: Partial<CiClientOptions> | undefined;
}

export interface Services {
  readonly ci: CiClient;
  readonly live: LiveUpdates;
  /** What every request's context shares. */
  readonly shared: GatewayServices;
}

export function createServices(config: Config, runtime: ServiceRuntime): Services {
  const { logger, metrics, connection } = runtime;
  const { upstream, limits, live: liveConfig } = config;
  const cache = new ReadCache({
    detailEntries: upstream.detailCacheEntries,
    workflowTtlMs: upstream.workflowCacheTtlMs,
  });
  metrics?.watchReadCache(cache);
  const ci = new CiClient({
    endpoint: connection.endpoint,
    credentials: connection,
    timeoutMs: upstream.timeoutMs,
    logger: logger.child({ component: 'ci-client' }),
    cache,
    observers: [...(metrics ? [metrics.upstream] : []), ...(runtime.observers ?? [])],
    ...runtime.client,
  });
  const live = new LiveUpdates({
    ci,
    pollIntervalMs: liveConfig.pollIntervalMs,
    eventTarget: runtime.shared?.eventTarget,
    leases: runtime.shared?.leases,
    logger: logger.child({ component: 'live-updates' }),
  });
  metrics?.watchLiveUpdates(live);
  return {
    ci,
    live,
    shared: {
      ci,
      // Every replica sharing the credentials (or CURSOR_SECRET) accepts every other replica's cursors.
      cursors: new CursorCodec(config.http.cursorSecret ?? connection.secretKey),
      maxPageSize: limits.maxPageSize,
      upstreamConcurrency: limits.upstreamConcurrency,
      maxUpstreamCallsPerRequest: limits.maxUpstreamCallsPerRequest,
      jobIdsPerLookup: upstream.jobIdsPerLookup,
      live,
      pageTokens: new PageTokenKnowledge(),
      callbacksReachGateway: callbackUrlCheck(
        runtime.publicCallbackBaseUrl ?? (() => undefined),
        runtime.callbackToken,
      ),
    },
  };
}

/** What the HTTP layer needs beyond the configuration and the services. */
export type GatewayRuntime = Pick<
  GatewayOptions,
  'logger' | 'isReady' | 'shutdownSignal' | 'subscriptionsEndSignal' | 'persistedQueries' | 'callbackToken'
> & {
  readonly metrics?: Metrics | undefined;
  readonly tracing?: boolean | undefined;
};

/** The HTTP layer's options from the configuration, section by section. */
export function gatewayOptions(config: Config, services: Services, runtime: GatewayRuntime): GatewayOptions {
  const { http, limits, auth, live, telemetry } = config;
  return {
    services: services.shared,
    logger: runtime.logger,
    isReady: runtime.isReady,
    // HTTP
    corsOrigins: http.corsOrigins,
    csrfPrevention: http.csrfPrevention,
    allowedHosts: http.allowedHosts,
    introspection: http.introspection,
    graphiql: http.graphiql,
    relayNodeQueries: http.relayNodeQueries,
    persistedQueries: runtime.persistedQueries,
    shutdownSignal: runtime.shutdownSignal,
    subscriptionsEndSignal: runtime.subscriptionsEndSignal,
    // Limits
    requestTimeoutMs: limits.requestTimeoutMs,
    maxRequestBytes: limits.maxRequestBytes,
    maxDocumentBytes: limits.maxDocumentBytes,
    rateLimitPerMinute: limits.rateLimitPerMinute,
    maxSubscriptionsPerCaller: limits.maxSubscriptionsPerCaller,
    // Auth
    auth: {
      jwt: auth.jwksUrl ? { jwksUrl: auth.jwksUrl, issuer: auth.issuer, audience: auth.audience } : undefined,
      routerSecret: auth.routerSecret,
      readScope: auth.readScope,
      writeScope: auth.writeScope,
    },
    // Live updates
    callbackToken: runtime.callbackToken,
    subscriptionCallbackOrigins: live.subscriptionCallbackOrigins,
    // Telemetry
    metrics: runtime.metrics && { metrics: runtime.metrics, servePath: telemetry.metricsPort === undefined },
    tracing: runtime.tracing,
  };
}
