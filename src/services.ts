/**
 * The composition root: what one gateway process is built from, out of its configuration. `index.ts` and the
 * tests both build the gateway here, so what the tests run is wired as production wires it, with the same
 * defaults (those of `defaults.ts`).
 *
 * - {@link createServices}: what every request shares: for each bucket its own CI client (its endpoint, its
 *   account's credentials, its read cache, single-flight and retry budget) and its own live updates, so nothing
 *   one bucket reads can answer for another; and the cursors and paging knowledge.
 * - {@link gatewayOptions}: the HTTP layer's options, section by section from the configuration.
 */
import { AccountCredentials } from './ci/account-credentials.js';
import { CiClient, type CiClientOptions, type UpstreamObserver } from './ci/client.js';
import { type GovernorStore, LocalGovernorStore } from './ci/governor.js';
import { assume, bucketIdRule } from './ci/inputs.js';
import { quotaGovernors } from './ci/quota.js';
import { ReadCache, type SharedReadStore } from './ci/read-cache.js';
import type { Config, TenancyConfig } from './config.js';
import type { GatewayOptions } from './http/gateway.js';
import { LiveUpdates } from './live/live-updates.js';
import type { PollLeases } from './live/poller.js';
import type { ResponseStore } from './live/redis-response-store.js';
import { callbackUrlCheck } from './plugins/ci-callbacks.js';
import type { BucketDirectory, GatewayServices, ServedBucket } from './schema/context.js';
import { CursorCodec } from './schema/cursor.js';
import { PageTokenKnowledge } from './schema/page-tokens.js';
import { ReferenceBuckets } from './schema/reference-buckets.js';
import { nodeId } from './schema/references.js';
import { RecentRuns } from './stats/recent-runs.js';
import { SettledStats } from './stats/settled-stats.js';
import type { Logger } from './telemetry/logger.js';
import type { Metrics } from './telemetry/metrics.js';

/** What the services need beyond the configuration: things made outside, at start. */
export interface ServiceRuntime {
  readonly logger: Logger;
  /** The buckets and accounts: the configured ones, or the built-in emulator's. */
  readonly tenancy: TenancyConfig;
  readonly metrics?: Metrics | undefined;
  /** Further watchers of every upstream attempt (trace spans). */
  readonly observers?: readonly UpstreamObserver[] | undefined;
  /** Redis's event target, poll leases and quota buckets, when replicas share them. */
  readonly shared?:
    | {
        readonly eventTarget: EventTarget;
        readonly leases: PollLeases;
        readonly quota: GovernorStore;
        readonly reads: SharedReadStore;
        readonly responses: ResponseStore;
      }
    | undefined;
  /** The CI callback token in use (demo mode makes one up). */
  readonly callbackToken?: string | undefined;
  /** This gateway's public base URL as CI reaches it (demo mode learns it once listening). */
  readonly publicCallbackBaseUrl?: () => string | undefined;
  /** Injectable for tests: the clock signatures and temporary credentials' lifetimes are read from. */
  readonly now?: (() => number) | undefined;
  /** Client settings a test overrides (retry timing, a dispatcher). */
  readonly client?: Partial<Omit<CiClientOptions, 'bucketId' | 'endpoint' | 'credentials'>> | undefined;
}

/** One served bucket: its client itself (the process pings and closes it), and the account it signs for. */
export interface Tenant extends ServedBucket {
  readonly ci: CiClient;
  readonly account: string;
}

export interface Services {
  readonly tenants: readonly Tenant[];
  /** What every request's context shares. */
  readonly shared: GatewayServices;
  /** Whole answers shared by the replicas, when the configuration keeps them. */
  readonly responses: ResponseStore | undefined;
  /** A CI callback for this bucket (undefined: the default one) said this run changed. */
  hint(runId: Parameters<LiveUpdates['hint']>[0], bucketId: string | undefined): Promise<void>;
  /** Whether callbacks for this bucket (undefined: the path named none) are taken. */
  takesCallbacksFor(bucketId: string | undefined): boolean;
  /** Stops every bucket's live updates (a drain). */
  closeLive(): Promise<void>;
  /** Closes every bucket's connection pool. */
  close(): Promise<void>;
}

export function createServices(config: Config, runtime: ServiceRuntime): Services {
  const { logger, metrics, tenancy } = runtime;
  const { upstream, limits, live: liveConfig } = config;
  const accounts = new AccountCredentials(tenancy.accounts, {
    stsEndpoint: tenancy.stsEndpoint,
    timeoutMs: upstream.timeoutMs,
    now: runtime.now,
    onRenewFailed: (account, error) =>
      logger.warn(
        { account, reason: error instanceof Error ? error.message : String(error) },
        'temporary credentials could not be renewed; the current ones are kept while they last',
      ),
  });
  // CI's quota per account, in Redis when replicas share it, else in this process.
  const governorOf = quotaGovernors(
    tenancy,
    upstream.quota,
    runtime.shared?.quota ?? new LocalGovernorStore(),
    { now: runtime.now, onRefused: metrics && (() => metrics.quotaRefused()) },
  );
  // What the statistics of windows that end now are answered from: fed by every finished run any bucket reads.
  const recentRuns = new RecentRuns();
  const tenants: Tenant[] = tenancy.buckets.map((bucket) => {
    const bucketId = assume(bucketIdRule, bucket.bucketId);
    const tenant = { bucket: bucketId, account: bucket.account };
    const cache = new ReadCache({
      detailEntries: upstream.detailCacheEntries,
      workflowTtlMs: upstream.workflowCacheTtlMs,
      // Replicas sharing Redis share what they read, under the bucket's own keys.
      shared: runtime.shared && { store: runtime.shared.reads, prefix: `ci-gateway:cache:${bucketId}:` },
      onFinishedRun: (detail) => {
        metrics?.workflowRuns.observe(bucketId, detail);
        recentRuns.observe(bucketId, detail);
      },
    });
    metrics?.watchReadCache(cache, bucketId);
    const client = new CiClient({
      bucketId,
      endpoint: bucket.endpoint,
      regionEndpoint: bucket.regionEndpoint,
      credentials: accounts.of(bucket.account),
      governor: governorOf(bucket),
      tenant,
      timeoutMs: upstream.timeoutMs,
      logger: logger.child({ component: 'ci-client', ...tenant }),
      cache,
      observers: [...(metrics ? [metrics.upstream] : []), ...(runtime.observers ?? [])],
      now: runtime.now,
      ...runtime.client,
    });
    const live = new LiveUpdates({
      bucketId,
      ci: client,
      pollIntervalMs: liveConfig.pollIntervalMs,
      eventTarget: runtime.shared?.eventTarget,
      leases: runtime.shared?.leases,
      lastSeen: runtime.shared?.reads,
      onScan:
        metrics &&
        ((workflowId, runs) => metrics.workflowRuns.observeScan(bucketId, workflowId, runs, new Date())),
      logger: logger.child({ component: 'live-updates', bucket: bucketId }),
    });
    metrics?.watchLiveUpdates(live);
    return { bucketId, region: bucket.region, account: bucket.account, ci: client, live };
  });
  const buckets = bucketDirectory(tenants, tenancy.defaultBucket);
  const targetOf = (bucketId: string | undefined) => buckets.get(bucketId ?? buckets.defaultBucket ?? '');
  const responses = liveConfig.responseCache ? runtime.shared?.responses : undefined;
  return {
    tenants,
    responses,
    hint: async (runId, bucketId) => {
      const target = targetOf(bucketId);
      if (!target) return;
      metrics?.callbackTaken(target.bucketId);
      await target.live.hint(runId);
      // After the re-read: an answer cached meanwhile from the old state is evicted too.
      await responses?.evict([
        { typename: 'WorkflowExecution', id: nodeId('WorkflowExecution', target.bucketId, runId) },
      ]);
    },
    takesCallbacksFor: (bucketId) => targetOf(bucketId) !== undefined,
    closeLive: async () => {
      await Promise.all(tenants.map((served) => served.live.close()));
    },
    close: async () => {
      await Promise.all(tenants.map((served) => served.ci.close()));
    },
    shared: {
      buckets,
      cursors: new CursorCodec(config.http.cursorSecret),
      maxPageSize: limits.maxPageSize,
      upstreamConcurrency: limits.upstreamConcurrency,
      maxUpstreamCallsPerRequest: limits.maxUpstreamCallsPerRequest,
      jobIdsPerLookup: upstream.jobIdsPerLookup,
      pageTokens: new PageTokenKnowledge(),
      referenceBuckets: new ReferenceBuckets(),
      settledStats: new SettledStats(runtime.shared?.reads),
      recentRuns,
      callbacksReachGateway: callbackUrlCheck(
        runtime.publicCallbackBaseUrl ?? (() => undefined),
        runtime.callbackToken,
        buckets.defaultBucket,
      ),
    },
  };
}

function bucketDirectory(
  served: readonly ServedBucket[],
  defaultBucket: string | undefined,
): BucketDirectory {
  const byId = new Map<string, ServedBucket>(served.map((bucket) => [bucket.bucketId, bucket]));
  return {
    // The default first, then as configured: ordered once, here, not in every request that lists them.
    all: served.toSorted(
      (a, b) => Number(b.bucketId === defaultBucket) - Number(a.bucketId === defaultBucket),
    ),
    defaultBucket: defaultBucket === undefined ? undefined : byId.get(defaultBucket)?.bucketId,
    get: (bucketId) => byId.get(bucketId),
  };
}

/** What the HTTP layer needs beyond the configuration and the services. */
export type GatewayRuntime = Pick<
  GatewayOptions,
  'logger' | 'isReady' | 'shutdownSignal' | 'subscriptionsEndSignal' | 'persistedQueries' | 'callbackToken'
> & {
  readonly metrics?: Metrics | undefined;
  readonly tracing?: boolean | undefined;
  /** Where the console's build is (`dist/console` beside the bundle); absent where there is none to serve. */
  readonly consoleDirectory?: string | undefined;
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
    console: http.console && runtime.consoleDirectory ? { directory: runtime.consoleDirectory } : undefined,
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
    responseCache: services.responses,
    // Auth
    auth: {
      jwt: auth.jwksUrl
        ? {
            jwksUrl: auth.jwksUrl,
            issuer: auth.issuer,
            audience: auth.audience,
            bucketsClaim: auth.bucketsClaim,
          }
        : undefined,
      routerSecret: auth.routerSecret,
      readScope: auth.readScope,
      writeScope: auth.writeScope,
    },
    // Live updates
    callbackToken: runtime.callbackToken,
    callbackHints: { hint: services.hint, takesBucket: services.takesCallbacksFor },
    subscriptionCallbackOrigins: live.subscriptionCallbackOrigins,
    // Telemetry
    metrics: runtime.metrics && { metrics: runtime.metrics, servePath: telemetry.metricsPort === undefined },
    tracing: runtime.tracing,
  };
}
