/**
 * The entry point: read the configuration, start the built-in CI emulator in demo mode, build the gateway from
 * its services (`services.ts`), serve it on PORT, and drain on SIGTERM (see `http/drain.ts`). `main` resolves
 * once the gateway has stopped and throws when it cannot start; the process ends in one place, below.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type Config, loadConfig, type TenancyConfig } from './config.js';
import { type DrainReport, drain } from './http/drain.js';
import { createGateway, GRAPHQL_PATH } from './http/gateway.js';
import { createHttpServer } from './http/http-server.js';
import { createReadinessProbe } from './http/readiness.js';
import { serveGraphQLOverWebSocket } from './http/websocket.js';
import type { RedisLive } from './live/redis.js';
import { CALLBACK_PATH_PREFIX } from './plugins/ci-callbacks.js';
import { CONSOLE_PATH } from './plugins/console-page.js';
import { exceedsDocumentLimit } from './plugins/document-limit.js';
import { parsePersistedDocuments } from './plugins/persisted-queries.js';
import { chooseRequestId, REQUEST_ID_HEADER, runInRequestScope } from './request-context.js';
import { createServices, gatewayOptions } from './services.js';
import { createLogger, type Logger } from './telemetry/logger.js';
import { createMetrics } from './telemetry/metrics.js';
import { startTracing, upstreamSpans } from './telemetry/tracing.js';
import { bucketFingerprints } from './tenancy-config.js';
import { logUnhandledRejections } from './unhandled-rejections.js';

/** The longest the last connections (Redis, CI's pool, the trace exporter) get to close after a drain. */
const FINAL_CLOSE_MS = 500;
/**
 * The console's build: `console/` beside the bundle (`dist/index.js`, `dist/console/`); run from the sources
 * (`npm run dev`), the last `npm run build`'s.
 */
const CONSOLE_DIRECTORY = fileURLToPath(
  new URL(import.meta.url.endsWith('/src/index.ts') ? '../dist/console/' : './console/', import.meta.url),
);

/** Why the gateway could not start: said in one log line, and the process exits 1. */
class StartupError extends Error {
  override readonly name = 'StartupError';
  readonly fields: Record<string, unknown>;
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    const code = cause instanceof Error ? Reflect.get(cause, 'code') : undefined;
    this.fields = {
      code: typeof code === 'string' ? code : undefined,
      reason: cause instanceof Error ? cause.message : String(cause),
    };
  }
}

/** The step, or a {@link StartupError} that says which step failed. */
async function step<T>(message: string, run: Promise<T>): Promise<T> {
  try {
    return await run;
  } catch (error) {
    throw new StartupError(message, error);
  }
}

async function main(config: Config, logger: Logger): Promise<DrainReport> {
  // Listened for from the first moment: a signal during start-up drains once the gateway is up.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  warnAboutNode(logger);
  if (config.production && config.auth.disabled && !config.auth.jwksUrl && !config.auth.routerSecret) {
    logger.warn(
      'AUTH_DISABLED=true: no caller authentication. Anyone who can reach this port can read every execution of ' +
        'the bucket and spend the CI account’s quota; only the network protects it.',
    );
  }

  const { tenancy, demo } = config.upstream.tenancy
    ? { tenancy: config.upstream.tenancy, demo: undefined }
    : await step('the built-in CI emulator could not start', startDemo(logger));
  const { tracing: tracingConfig, metricsPort, maxWorkflowLabels } = config.telemetry;
  const tracing = tracingConfig
    ? await step('tracing could not start', startTracing({ protocol: tracingConfig.protocol }))
    : undefined;
  const metrics = createMetrics({ maxWorkflowLabels });
  if (metricsPort !== undefined) {
    const port = metricsPort;
    await step(`the metrics listener could not listen on port ${port}`, metrics.listen(port));
    logger.info({ port }, 'metrics listening');
  }
  const manifest = await readManifest(config);
  // Demo mode takes the emulator's callbacks whether or not a token was configured: the URL never leaves the machine.
  const callbackToken =
    config.live.callbackToken ?? (demo ? randomBytes(24).toString('base64url') : undefined);
  // Replicas share live updates through Redis; alone, a replica keeps them in the process (and never loads ioredis).
  const redisUrl = config.live.redisUrl;
  const redis = redisUrl
    ? await step(
        'REDIS_URL is set but Redis does not answer',
        import('./live/redis.js').then(({ connectRedisLive }) =>
          connectRedisLive(redisUrl, { logger: logger.child({ component: 'redis' }) }),
        ),
      )
    : undefined;
  if (redis) await claimBuckets(redis, tenancy);
  /** As CI reaches the gateway; in demo mode, the emulator reaches it on loopback once it listens. */
  let publicCallbackBaseUrl = config.live.publicCallbackBaseUrl;

  const services = createServices(config, {
    logger,
    tenancy,
    metrics,
    observers: tracing ? [upstreamSpans()] : [],
    shared: redis,
    callbackToken,
    publicCallbackBaseUrl: () => publicCallbackBaseUrl,
  });
  let draining = false;
  /** Aborted once the drain's delay is over: every subscription ends on its transport. */
  const endSubscriptions = new AbortController();
  /** Aborted at the drain's timeout: every request's upstream work stops. */
  const shutdown = new AbortController();
  const gateway = createGateway(
    gatewayOptions(config, services, {
      logger,
      isReady: createReadinessProbe(
        services.tenants.map((tenant) => tenant.ci),
        logger,
        () => draining,
      ),
      shutdownSignal: shutdown.signal,
      subscriptionsEndSignal: endSubscriptions.signal,
      persistedQueries: { manifest, onlyManifest: config.http.onlyPersisted },
      callbackToken,
      metrics,
      tracing: tracing !== undefined,
      consoleDirectory: CONSOLE_DIRECTORY,
    }),
  );

  const tracked = createHttpServer((request, response) => {
    const header = request.headers[REQUEST_ID_HEADER];
    runInRequestScope(chooseRequestId(Array.isArray(header) ? header[0] : header), () =>
      gateway(request, response),
    );
  });
  const websocket = serveGraphQLOverWebSocket(tracked.server, gateway, {
    path: GRAPHQL_PATH,
    maxSubscriptionsPerConnection: config.limits.maxSubscriptionsPerConnection,
    allowedOrigins: config.http.corsOrigins,
    logger: logger.child({ component: 'websocket' }),
  });
  const port = await step(
    `the gateway could not listen on port ${config.http.port}`,
    new Promise<number>((resolve, reject) => {
      tracked.server.once('error', reject);
      tracked.server.listen(config.http.port, () => {
        const address = tracked.server.address();
        resolve(typeof address === 'object' && address ? address.port : config.http.port);
      });
    }),
  );
  if (demo && callbackToken) {
    const loopback = `http://127.0.0.1:${port}`;
    publicCallbackBaseUrl ??= loopback;
    demo.sendCallbacksTo(`${loopback}${CALLBACK_PATH_PREFIX}${callbackToken}`);
  }
  const { http, limits, auth, live } = config;
  logger.info(
    {
      mode: config.mode,
      port,
      url: `http://localhost:${port}${GRAPHQL_PATH}`,
      buckets: tenancy.buckets.map(({ bucketId, region, account }) => ({ bucketId, region, account })),
      defaultBucket: tenancy.defaultBucket ?? 'none',
      maxPageSize: limits.maxPageSize,
      corsOrigins: http.corsOrigins,
      auth: {
        jwt: auth.jwksUrl !== undefined,
        routerSecret: auth.routerSecret !== undefined,
        readScope: auth.readScope,
      },
      rateLimitPerMinute: limits.rateLimitPerMinute,
      introspection: http.introspection,
      graphiql: http.graphiql,
      console: http.console ? `http://localhost:${port}${CONSOLE_PATH}` : 'off',
      allowedHosts: http.allowedHosts ?? 'any',
      metricsPort: metricsPort ?? port,
      tracing: tracingConfig?.protocol ?? 'off',
      callbacks: callbackToken ? `${CALLBACK_PATH_PREFIX}…` : 'off',
      pollIntervalMs: live.pollIntervalMs,
      liveUpdates: redis ? { shared: 'redis', replica: redis.replicaId } : { shared: 'none' },
      persistedDocuments: manifest?.size ?? 0,
      onlyPersisted: http.onlyPersisted,
    },
    'gateway listening',
  );

  const signal = await stopSignal;
  draining = true;
  logger.info(
    {
      signal,
      delayMs: http.shutdownDelayMs,
      timeoutMs: http.shutdownTimeoutMs,
      inFlight: tracked.inFlight,
    },
    'draining: /ready answers 503; still serving until the delay ends',
  );
  const report = await drain(tracked, {
    delayMs: http.shutdownDelayMs,
    timeoutMs: http.shutdownTimeoutMs,
    endStreams: async () => {
      // SSE streams and router callbacks complete; WebSocket clients are told 1001: they resubscribe elsewhere.
      endSubscriptions.abort();
      await websocket.close();
      // Leases handed back (and polls aborted) before Redis is let go: another replica polls the keys at once.
      await services.closeLive();
    },
    abortInFlight: () => shutdown.abort(),
  });
  // Whatever is left closes within a bound: the process ends within delay + timeout + 1 s whatever is open.
  await Promise.race([
    Promise.allSettled([
      redis?.close(),
      services.close(),
      demo?.stop(),
      // Spans still buffered reach the collector before the process ends.
      tracing?.shutdown(),
    ]),
    delay(FINAL_CLOSE_MS),
  ]);
  return report;
}

/**
 * Replicas sharing Redis share events and leases keyed by bucket id: they must agree on what each id means. One
 * whose bucket file maps an id elsewhere (another region, endpoint or account) than a live replica's does not start.
 */
async function claimBuckets(redis: RedisLive, tenancy: TenancyConfig): Promise<void> {
  const conflicts = await step(
    'REDIS_URL is set but Redis does not answer',
    redis.claimBuckets(bucketFingerprints(tenancy)),
  );
  if (conflicts.length > 0) {
    throw new StartupError(
      'replicas sharing REDIS_URL disagree on what bucket ids mean: give each bucket file its own Redis database',
      new Error(`buckets configured differently by a live replica: ${conflicts.join(', ')}`),
    );
  }
}

/** Demo mode: the built-in emulated cloud on loopback (three buckets, two regions, two accounts), and its tenancy. */
async function startDemo(logger: Logger): Promise<{ tenancy: TenancyConfig; demo: Demo }> {
  logger.warn(
    'Demo mode: no TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY or CI_BUCKETS_FILE set, so the gateway serves ' +
      'demo data from its built-in CI emulator. Set the credentials (and CI_BUCKET, CI_REGION), or a bucket file, ' +
      'to use Tencent Cloud CI.',
  );
  // Loaded only in demo mode: production never carries the emulator in memory.
  const { startEmulatedCloud } = await import('./emulator/cloud.js');
  const cloud = await startEmulatedCloud();
  logger.info(
    { buckets: cloud.tenancy.buckets.map(({ bucketId, endpoint }) => ({ bucketId, endpoint })) },
    'built-in CI emulator listening',
  );
  return {
    tenancy: cloud.tenancy,
    demo: { sendCallbacksTo: (base) => cloud.sendCallbacksTo(base), stop: () => cloud.close() },
  };
}

interface Demo {
  /** Where the emulated buckets post their callbacks: under the gateway's own callback URL, once it listens. */
  sendCallbacksTo(base: string): void;
  stop(): Promise<void>;
}

/** The persisted-document manifest, each document held to the same size bound as any: decided at start. */
async function readManifest(config: Config): Promise<Map<string, string> | undefined> {
  const file = config.http.persistedDocumentsFile;
  if (!file) return undefined;
  const manifest = await step(
    `PERSISTED_DOCUMENTS_FILE ${file} cannot be read`,
    readFile(file, 'utf8').then(parsePersistedDocuments),
  );
  const oversized = [...manifest]
    .filter(([, document]) => exceedsDocumentLimit(document, config.limits.maxDocumentBytes))
    .map(([id]) => id);
  if (oversized.length > 0) {
    throw new StartupError(
      `PERSISTED_DOCUMENTS_FILE has documents over MAX_DOCUMENT_BYTES (${config.limits.maxDocumentBytes})`,
      new Error(`ids: ${oversized.join(', ')}`),
    );
  }
  return manifest;
}

/** `engines` says >=22.15, but npm only warns: say it here too, where whoever runs the gateway reads. */
function warnAboutNode(logger: Logger): void {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major < 22 || (major === 22 && minor < 15)) {
    logger.warn(
      { node: process.version, supported: '>=22.15' },
      'This Node version is not supported (some dependencies need 22.15 or later); use Node 22 or 24.',
    );
  }
}

/** The process's exit code: 0 once drained, 1 when the configuration is invalid or the gateway cannot start. */
async function run(): Promise<number> {
  const loaded = loadConfig(process.env);
  if (!loaded.ok) {
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', msg: 'invalid configuration', errors: loaded.errors })}\n`,
    );
    return 1;
  }
  const logger = createLogger(loaded.config.telemetry.logLevel);
  process.on('unhandledRejection', logUnhandledRejections(logger));
  try {
    const report = await main(loaded.config, logger);
    logger.info(report, `stopped: ${report.finished} finished, ${report.cutShort} cut short`);
    return 0;
  } catch (error) {
    if (error instanceof StartupError) logger.fatal(error.fields, error.message);
    else
      logger.fatal({ reason: error instanceof Error ? error.message : String(error) }, 'the gateway failed');
    return 1;
  }
}

// The one way out. Open handles (keep-alive sockets, a Redis reconnect timer) must not keep a stopped gateway alive.
process.exit(await run());
