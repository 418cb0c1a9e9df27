/**
 * The composition root: what one gateway process is built from, out of its configuration. `index.ts` and the
 * tests both build the gateway here, so what the tests run is wired as production wires it, with the same
 * defaults (those of `config.ts`).
 *
 * - {@link createServices}: what every request shares (the CI client and its read cache, live updates, cursors).
 * - {@link gatewayOptions}: the HTTP layer's options, section by section from the configuration.
 */
import { CiClient, type CiClientOptions, type UpstreamObserver } from './ci/client.js';
import { ReadCache } from './ci/read-cache.js';
import type { Config, UpstreamConfig } from './config.js';
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
  readonly upstream: UpstreamConfig;
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

export type ServiceConfig = Pick<
  Config,
  | 'cursorSecret'
  | 'maxPageSize'
  | 'upstreamConcurrency'
  | 'maxUpstreamCallsPerRequest'
  | 'jobIdsPerLookup'
  | 'pollIntervalMs'
  | 'detailCacheEntries'
  | 'workflowCacheTtlMs'
>;

export function createServices(config: ServiceConfig, runtime: ServiceRuntime): Services {
  const { logger, metrics, upstream } = runtime;
  const cache = new ReadCache({
    detailEntries: config.detailCacheEntries,
    workflowTtlMs: config.workflowCacheTtlMs,
  });
  metrics?.watchReadCache(cache);
  const ci = new CiClient({
    endpoint: upstream.endpoint,
    credentials: upstream,
    timeoutMs: upstream.timeoutMs,
    logger: logger.child({ component: 'ci-client' }),
    cache,
    observers: [...(metrics ? [metrics.upstream] : []), ...(runtime.observers ?? [])],
    ...runtime.client,
  });
  const live = new LiveUpdates({
    ci,
    pollIntervalMs: config.pollIntervalMs,
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
      cursors: new CursorCodec(config.cursorSecret ?? upstream.secretKey),
      maxPageSize: config.maxPageSize,
      upstreamConcurrency: config.upstreamConcurrency,
      maxUpstreamCallsPerRequest: config.maxUpstreamCallsPerRequest,
      jobIdsPerLookup: config.jobIdsPerLookup,
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

/** The HTTP layer's options from the configuration, grouped as the configuration groups them. */
export function gatewayOptions(config: Config, services: Services, runtime: GatewayRuntime): GatewayOptions {
  const { auth } = config;
  return {
    services: services.shared,
    logger: runtime.logger,
    isReady: runtime.isReady,
    // HTTP
    corsOrigins: config.corsOrigins,
    csrfPrevention: config.csrfPrevention,
    allowedHosts: config.allowedHosts,
    introspection: config.introspection,
    graphiql: config.graphiql,
    relayNodeQueries: config.relayNodeQueries,
    // Limits
    requestTimeoutMs: config.requestTimeoutMs,
    maxRequestBytes: config.maxRequestBytes,
    maxDocumentBytes: config.maxDocumentBytes,
    rateLimitPerMinute: config.rateLimitPerMinute,
    maxSubscriptionsPerCaller: config.maxSubscriptionsPerCaller,
    persistedQueries: runtime.persistedQueries,
    // Auth
    auth: {
      jwt: auth.jwksUrl ? { jwksUrl: auth.jwksUrl, issuer: auth.issuer, audience: auth.audience } : undefined,
      routerSecret: auth.routerSecret,
      readScope: auth.readScope,
      writeScope: auth.writeScope,
    },
    // Live updates
    callbackToken: runtime.callbackToken,
    subscriptionCallbackOrigins: config.subscriptionCallbackOrigins,
    // Drain
    shutdownSignal: runtime.shutdownSignal,
    subscriptionsEndSignal: runtime.subscriptionsEndSignal,
    // Telemetry
    metrics: runtime.metrics && { metrics: runtime.metrics, servePath: config.metricsPort === undefined },
    tracing: runtime.tracing,
  };
}
