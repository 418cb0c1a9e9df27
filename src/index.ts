/**
 * The entry point: read the configuration, start the built-in CI emulator in demo mode, serve the gateway on
 * PORT, and drain on SIGTERM (stop accepting, finish in-flight requests, exit 0).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CiClient } from './ci/client.js';
import { loadConfig, type UpstreamConfig } from './config.js';
import { createLogger } from './logger.js';
import { createReadinessProbe } from './readiness.js';
import { CursorCodec } from './schema/cursor.js';
import { createGateway, GRAPHQL_PATH } from './server.js';

/** Longer than any single upstream call with its retries would normally take, shorter than a typical kill timeout. */
const SHUTDOWN_GRACE_MS = 25_000;

const loaded = loadConfig(process.env);
if (!loaded.ok) {
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', msg: 'invalid configuration', errors: loaded.errors })}\n`,
  );
  process.exit(1);
}
const config = loaded.config;
const logger = createLogger(config.logLevel);

let upstream: UpstreamConfig;
let stopEmulator: (() => Promise<void>) | undefined;
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
  const endpoint = await emulator.listen(0, '127.0.0.1');
  stopEmulator = () => emulator.close();
  upstream = { endpoint, ...DEMO_CREDENTIALS, sessionToken: undefined, timeoutMs: config.timeoutMs };
  logger.info({ endpoint }, 'built-in CI emulator listening');
}

const ci = new CiClient({
  endpoint: upstream.endpoint,
  credentials: upstream,
  timeoutMs: upstream.timeoutMs,
  logger: logger.child({ component: 'ci-client' }),
});

let draining = false;
const gateway = createGateway({
  services: {
    ci,
    // Every replica sharing the credentials (or CURSOR_SECRET) accepts every other replica's cursors.
    cursors: new CursorCodec(config.cursorSecret ?? upstream.secretKey),
    maxPageSize: config.maxPageSize,
    detailConcurrency: config.detailConcurrency,
    maxUpstreamCallsPerRequest: config.maxUpstreamCallsPerRequest,
  },
  logger,
  corsOrigins: config.corsOrigins,
  relayNodeQueries: config.relayNodeQueries,
  isReady: createReadinessProbe(ci, logger, () => draining),
});

const server = createServer(gateway);
server.listen(config.port, () => {
  const { port } = server.address() as AddressInfo;
  logger.info(
    {
      mode: config.mode,
      port,
      url: `http://localhost:${port}${GRAPHQL_PATH}`,
      upstream: upstream.endpoint,
      maxPageSize: config.maxPageSize,
      corsOrigins: config.corsOrigins,
    },
    'gateway listening',
  );
});

async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (draining) return;
  draining = true;
  logger.info({ signal }, 'draining: no new connections, finishing in-flight requests');
  const forced = setTimeout(() => {
    logger.error({ graceMs: SHUTDOWN_GRACE_MS }, 'in-flight requests did not finish in time; exiting');
    process.exit(1);
  }, SHUTDOWN_GRACE_MS);
  forced.unref();
  // Keep-alive sockets become idle as their last response is written; close them as they do.
  const reaper = setInterval(() => server.closeIdleConnections(), 100);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  clearInterval(reaper);
  await ci.close();
  await stopEmulator?.();
  logger.info('stopped');
  process.exit(0);
}

process.once('SIGTERM', (signal) => void shutdown(signal));
process.once('SIGINT', (signal) => void shutdown(signal));
