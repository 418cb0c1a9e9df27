/**
 * The entry point: read the configuration, start the built-in CI emulator in demo mode, serve the gateway on
 * PORT, and drain on SIGTERM (see `drain.ts`). Startup failures are one log line and exit 1.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { CiClient } from './ci/client.js';
import { ReadCache } from './ci/read-cache.js';
import { loadConfig, type UpstreamConfig } from './config.js';
import { drain } from './http/drain.js';
import { createGateway, GRAPHQL_PATH } from './http/gateway.js';
import { createHttpServer } from './http/http-server.js';
import { createReadinessProbe } from './http/readiness.js';
import { serveGraphQLOverWebSocket } from './http/websocket.js';
import { LiveUpdates } from './live/live-updates.js';
import { CALLBACK_PATH_PREFIX, callbackUrlCheck } from './plugins/ci-callbacks.js';
import { exceedsDocumentLimit } from './plugins/document-limit.js';
import { parsePersistedDocuments } from './plugins/persisted-queries.js';
import { chooseRequestId, REQUEST_ID_HEADER, runInRequestScope } from './request-context.js';
import { CursorCodec } from './schema/cursor.js';
import { PageTokenKnowledge } from './schema/page-tokens.js';
import { createLogger } from './telemetry/logger.js';
import { createMetrics } from './telemetry/metrics.js';
import { startTracing, upstreamSpans } from './telemetry/tracing.js';
import { logUnhandledRejections } from './unhandled-rejections.js';

const loaded = loadConfig(process.env);
if (!loaded.ok) {
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', msg: 'invalid configuration', errors: loaded.errors })}\n`,
  );
  process.exit(1);
}
const config = loaded.config;
const logger = createLogger(config.logLevel);

process.on('unhandledRejection', logUnhandledRejections(logger));

// `engines` says >=22.15, but npm only warns: say it here too, where whoever runs the gateway reads.
const [nodeMajor = 0, nodeMinor = 0] = process.versions.node.split('.').map(Number);
if (nodeMajor < 22 || (nodeMajor === 22 && nodeMinor < 15)) {
  logger.warn(
    { node: process.version, supported: '>=22.15' },
    'This Node version is not supported (some dependencies need 22.15 or later); use Node 22 or 24.',
  );
}

function fail(message: string, error: unknown): never {
  const code = (error as { code?: unknown } | undefined)?.code;
  logger.fatal(
    {
      code: typeof code === 'string' ? code : undefined,
      reason: error instanceof Error ? error.message : String(error),
    },
    message,
  );
  process.exit(1);
}

if (config.production && config.auth.disabled && !config.auth.jwksUrl && !config.auth.routerSecret) {
  logger.warn(
    'AUTH_DISABLED=true: no caller authentication. Anyone who can reach this port can read every execution of the ' +
      'bucket and spend the CI account’s quota; only the network protects it.',
  );
}

let upstream: UpstreamConfig;
let stopEmulator: (() => Promise<void>) | undefined;
/** In demo mode: where the gateway's own callback URL is given to the emulator once the gateway listens. */
let sendDemoCallbacksTo: ((url: string) => void) | undefined;
if (config.upstream) {
  upstream = config.upstream;
} else {
  logger.warn(
    'Demo mode: no TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY set, so the gateway serves demo data from its ' +
      'built-in CI emulator. Set the credentials (and CI_BUCKET, CI_REGION) to use Tencent Cloud CI.',
  );
  // Loaded only in demo mode: production never carries the emulator in memory.
  const { createCiEmulator, DEMO_CREDENTIALS } = await import('./emulator/server.js');
  const emulator = createCiEmulator();
  const endpoint = await emulator
    .listen(0, '127.0.0.1')
    .catch((error: unknown) => fail('the built-in CI emulator could not start', error));
  stopEmulator = () => emulator.close();
  sendDemoCallbacksTo = (url) => emulator.sendCallbacksTo(url);
  upstream = { endpoint, ...DEMO_CREDENTIALS, sessionToken: undefined, timeoutMs: config.timeoutMs };
  logger.info({ endpoint }, 'built-in CI emulator listening');
}

const tracing = config.tracing
  ? await startTracing({ protocol: config.tracing.protocol }).catch((error: unknown) =>
      fail('tracing could not start', error),
    )
  : undefined;
const metrics = createMetrics();
const readCache = new ReadCache({
  detailEntries: config.detailCacheEntries,
  workflowTtlMs: config.workflowCacheTtlMs,
});
metrics.watchReadCache(readCache);
const ci = new CiClient({
  endpoint: upstream.endpoint,
  credentials: upstream,
  timeoutMs: upstream.timeoutMs,
  logger: logger.child({ component: 'ci-client' }),
  cache: readCache,
  observers: tracing ? [metrics.upstream, upstreamSpans()] : [metrics.upstream],
});
if (config.metricsPort !== undefined) {
  const port = config.metricsPort;
  await metrics
    .listen(port)
    .catch((error: unknown) => fail(`the metrics listener could not listen on port ${port}`, error));
  logger.info({ port }, 'metrics listening');
}

const persistedDocumentsFile = config.persistedDocumentsFile;
const manifest = persistedDocumentsFile
  ? await readFile(persistedDocumentsFile, 'utf8')
      .then(parsePersistedDocuments)
      .catch((error: unknown) =>
        fail(`PERSISTED_DOCUMENTS_FILE ${persistedDocumentsFile} cannot be read`, error),
      )
  : undefined;
// A manifest is trusted, but held to the same bound as any document: one rule, decided at start.
const oversized = [...(manifest ?? new Map<string, string>())]
  .filter(([, document]) => exceedsDocumentLimit(document, config.maxDocumentBytes))
  .map(([id]) => id);
if (oversized.length > 0) {
  fail(
    `PERSISTED_DOCUMENTS_FILE has documents over MAX_DOCUMENT_BYTES (${config.maxDocumentBytes})`,
    new Error(`ids: ${oversized.join(', ')}`),
  );
}

// Demo mode takes the emulator's callbacks whether or not a token was configured: the URL never leaves the machine.
const callbackToken =
  config.callbackToken ?? (sendDemoCallbacksTo ? randomBytes(24).toString('base64url') : undefined);

// Replicas share live updates through Redis; alone, a replica keeps them in the process (and never loads ioredis).
const redisUrl = config.redisUrl;
const redis = redisUrl
  ? await import('./live/redis.js')
      .then(({ connectRedisLive }) =>
        connectRedisLive(redisUrl, { logger: logger.child({ component: 'redis' }) }),
      )
      .catch((error: unknown) => fail('REDIS_URL is set but Redis does not answer', error))
  : undefined;

/** As CI reaches the gateway; in demo mode, the emulator reaches it on loopback once it listens. */
let publicCallbackBaseUrl = config.publicCallbackBaseUrl;

const live = new LiveUpdates({
  ci,
  pollIntervalMs: config.pollIntervalMs,
  eventTarget: redis?.eventTarget,
  leases: redis?.leases,
  logger: logger.child({ component: 'live-updates' }),
});
metrics.watchLiveUpdates(live);

let draining = false;
/** Aborted once the drain's delay is over: every subscription ends on its transport. */
const endSubscriptions = new AbortController();
/** Aborted at the drain's timeout: every request's upstream work stops. */
const shutdown = new AbortController();
const gateway = createGateway({
  services: {
    ci,
    // Every replica sharing the credentials (or CURSOR_SECRET) accepts every other replica's cursors.
    cursors: new CursorCodec(config.cursorSecret ?? upstream.secretKey),
    maxPageSize: config.maxPageSize,
    upstreamConcurrency: config.upstreamConcurrency,
    maxUpstreamCallsPerRequest: config.maxUpstreamCallsPerRequest,
    jobIdsPerLookup: config.jobIdsPerLookup,
    live,
    pageTokens: new PageTokenKnowledge(),
    callbacksReachGateway: callbackUrlCheck(() => publicCallbackBaseUrl, callbackToken),
  },
  logger,
  corsOrigins: config.corsOrigins,
  csrfPrevention: config.csrfPrevention,
  relayNodeQueries: config.relayNodeQueries,
  requestTimeoutMs: config.requestTimeoutMs,
  maxRequestBytes: config.maxRequestBytes,
  maxDocumentBytes: config.maxDocumentBytes,
  shutdownSignal: shutdown.signal,
  subscriptionsEndSignal: endSubscriptions.signal,
  auth: {
    jwt: config.auth.jwksUrl
      ? { jwksUrl: config.auth.jwksUrl, issuer: config.auth.issuer, audience: config.auth.audience }
      : undefined,
    routerSecret: config.auth.routerSecret,
    readScope: config.auth.readScope,
    writeScope: config.auth.writeScope,
  },
  rateLimitPerMinute: config.rateLimitPerMinute,
  maxSubscriptionsPerCaller: config.maxSubscriptionsPerCaller,
  introspection: config.introspection,
  graphiql: config.graphiql,
  allowedHosts: config.allowedHosts,
  metrics: { metrics, servePath: config.metricsPort === undefined },
  tracing: tracing !== undefined,
  persistedQueries: { manifest, onlyManifest: config.onlyPersisted },
  callbackToken,
  subscriptionCallbackOrigins: config.subscriptionCallbackOrigins,
  isReady: createReadinessProbe(ci, logger, () => draining),
});

const tracked = createHttpServer((request, response) => {
  const header = request.headers[REQUEST_ID_HEADER];
  runInRequestScope(chooseRequestId(Array.isArray(header) ? header[0] : header), () =>
    gateway(request, response),
  );
});
const websocket = serveGraphQLOverWebSocket(tracked.server, gateway, {
  path: GRAPHQL_PATH,
  maxSubscriptionsPerConnection: config.maxSubscriptionsPerConnection,
  allowedOrigins: config.corsOrigins,
  logger: logger.child({ component: 'websocket' }),
});
tracked.server.once('error', (error) => fail(`the gateway could not listen on port ${config.port}`, error));
tracked.server.listen(config.port, () => {
  const { port } = tracked.server.address() as AddressInfo;
  if (sendDemoCallbacksTo && callbackToken) {
    const loopback = `http://127.0.0.1:${port}`;
    publicCallbackBaseUrl ??= loopback;
    sendDemoCallbacksTo(`${loopback}${CALLBACK_PATH_PREFIX}${callbackToken}`);
  }
  logger.info(
    {
      mode: config.mode,
      port,
      url: `http://localhost:${port}${GRAPHQL_PATH}`,
      upstream: upstream.endpoint,
      maxPageSize: config.maxPageSize,
      corsOrigins: config.corsOrigins,
      auth: {
        jwt: config.auth.jwksUrl !== undefined,
        routerSecret: config.auth.routerSecret !== undefined,
        readScope: config.auth.readScope,
      },
      rateLimitPerMinute: config.rateLimitPerMinute,
      introspection: config.introspection,
      graphiql: config.graphiql,
      allowedHosts: config.allowedHosts ?? 'any',
      metricsPort: config.metricsPort ?? port,
      tracing: config.tracing?.protocol ?? 'off',
      callbacks: callbackToken ? `${CALLBACK_PATH_PREFIX}…` : 'off',
      pollIntervalMs: config.pollIntervalMs,
      liveUpdates: redis ? { shared: 'redis', replica: redis.replicaId } : { shared: 'none' },
      persistedDocuments: manifest?.size ?? 0,
      onlyPersisted: config.onlyPersisted,
    },
    'gateway listening',
  );
});

/** The longest the last connections (Redis, CI's pool, the trace exporter) get to close after a drain. */
const FINAL_CLOSE_MS = 500;

async function stop(signal: NodeJS.Signals): Promise<void> {
  if (draining) return;
  draining = true;
  logger.info(
    {
      signal,
      delayMs: config.shutdownDelayMs,
      timeoutMs: config.shutdownTimeoutMs,
      inFlight: tracked.inFlight,
    },
    'draining: /ready answers 503; still serving until the delay ends',
  );
  const report = await drain(tracked, {
    delayMs: config.shutdownDelayMs,
    timeoutMs: config.shutdownTimeoutMs,
    endStreams: async () => {
      // SSE streams and router callbacks complete; WebSocket clients are told 1001: they resubscribe elsewhere.
      endSubscriptions.abort();
      await websocket.close();
      // Leases handed back (and polls aborted) before Redis is let go: another replica polls the keys at once.
      await live.close();
    },
    abortInFlight: () => shutdown.abort(),
  });
  // Whatever is left closes within a bound: the process ends within delay + timeout + 1 s whatever is open.
  await Promise.race([
    Promise.allSettled([
      redis?.close(),
      ci.close(),
      stopEmulator?.(),
      // Spans still buffered reach the collector before the process ends.
      tracing?.shutdown(),
    ]),
    delay(FINAL_CLOSE_MS),
  ]);
  logger.info(report, `stopped: ${report.finished} finished, ${report.cutShort} cut short`);
  process.exit(0);
}

process.once('SIGTERM', (signal) => void stop(signal));
process.once('SIGINT', (signal) => void stop(signal));
