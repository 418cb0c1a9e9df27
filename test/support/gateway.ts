import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach } from 'vitest';
import type { CiClientOptions } from '../../src/ci/client.js';
import { type Config, loadConfig, type QuotaConfig, type TenancyConfig } from '../../src/config.js';
import type { EmulatorOptions } from '../../src/emulator/server.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/http/gateway.js';
import { serveGraphQLOverWebSocket } from '../../src/http/websocket.js';
import type { RedisLive } from '../../src/live/redis.js';
import { createServices, gatewayOptions, type Services } from '../../src/services.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { type EmulatorFixture, startEmulator } from './emulator.js';

export interface GraphQLResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly data?: T | null;
  readonly errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }>;
}

export interface GatewayFixtureOptions {
  readonly maxPageSize?: number;
  /** Live updates poll this often; 0 (the default here) leaves news to callbacks. */
  readonly pollIntervalMs?: number;
  readonly upstreamConcurrency?: number;
  readonly requestTimeoutMs?: number;
  readonly maxRequestBytes?: number;
  readonly maxDocumentBytes?: number;
  readonly shutdownSignal?: AbortSignal;
  readonly maxUpstreamCallsPerRequest?: number;
  readonly client?: Partial<CiClientOptions>;
  readonly emulator?: EmulatorOptions;
  /** Buckets and accounts other than the emulator's one bucket (an emulated cloud's, say). */
  readonly tenancy?: TenancyConfig;
  /** Redis shared with other replicas: events, leases, quota, reads, and the response cache. */
  readonly redis?: RedisLive;
  /** CI's quota per account (none by default). */
  readonly quota?: QuotaConfig;
  /** The clock signatures and temporary credentials are read from (an emulated cloud's, moved by the test). */
  readonly now?: () => number;
  readonly cursorSecret?: string;
  readonly corsOrigins?: '*' | readonly string[];
  /** @default true, as for a gateway that trusts its network */
  readonly csrfPrevention?: boolean;
  readonly isReady?: () => Promise<boolean>;
  readonly relayNodeQueries?: boolean;
  /** This gateway's public base URL, to tell whether workflows' callbacks lead to it. */
  readonly publicCallbackBaseUrl?: string;
  readonly gateway?: Partial<
    Pick<
      GatewayOptions,
      | 'auth'
      | 'rateLimitPerMinute'
      | 'maxSubscriptionsPerCaller'
      | 'introspection'
      | 'graphiql'
      | 'console'
      | 'allowedHosts'
      | 'metrics'
      | 'tracing'
      | 'persistedQueries'
      | 'callbackToken'
      | 'subscriptionCallbackOrigins'
    >
  >;
}

export interface GatewayFixture extends EmulatorFixture {
  readonly gateway: Gateway;
  /** Every line the gateway logged, parsed. */
  readonly logLines: Array<Record<string, unknown>>;
  /** The raw log output, for checking that secrets never appear in it. */
  readonly rawLog: () => string;
  query<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<T>>;
  /** Another replica: a second gateway on the same upstream and secret, sharing nothing else. */
  replica(options?: { cursorSecret?: string }): Gateway;
}

/**
 * The configuration tests start from: the defaults of a gateway run with no environment, except what would make
 * tests wait or refuse them: no polling (news come from callbacks, or a test's own interval), no rate limit and no
 * per-caller subscription limit unless a test sets them, and CSRF checks on as in production.
 */
const TEST_CONFIG: Config = (() => {
  const loaded = loadConfig({});
  if (!loaded.ok) throw new Error(`the default configuration is invalid: ${loaded.errors.join('; ')}`);
  const { http, limits, live } = loaded.config;
  return {
    ...loaded.config,
    http: { ...http, csrfPrevention: true },
    limits: { ...limits, rateLimitPerMinute: 0, maxSubscriptionsPerCaller: 0 },
    live: { ...live, pollIntervalMs: 0 },
  };
})();

/** The fields whose value is given: absent options keep the configuration's default. */
function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** A gateway in-process (no port) over an emulator on 127.0.0.1, with its logs captured. */
export async function startGateway(options: GatewayFixtureOptions = {}): Promise<GatewayFixture> {
  const fixture = await startEmulator(options.emulator);
  const chunks: string[] = [];
  const logger = createLogger(
    'debug',
    new Writable({
      write(chunk, _encoding, callback) {
        chunks.push(String(chunk));
        callback();
      },
    }),
  );
  const built: Services[] = [];
  // Built as the entry point builds it, from the configuration's own defaults, with what a test says instead.
  const make = (cursorSecret: string) => {
    const config: Config = {
      ...TEST_CONFIG,
      http: {
        ...TEST_CONFIG.http,
        cursorSecret,
        ...definedOnly({
          corsOrigins: options.corsOrigins,
          csrfPrevention: options.csrfPrevention,
          relayNodeQueries: options.relayNodeQueries,
        }),
      },
      limits: {
        ...TEST_CONFIG.limits,
        ...definedOnly({
          maxPageSize: options.maxPageSize,
          upstreamConcurrency: options.upstreamConcurrency,
          requestTimeoutMs: options.requestTimeoutMs,
          maxRequestBytes: options.maxRequestBytes,
          maxDocumentBytes: options.maxDocumentBytes,
          maxUpstreamCallsPerRequest: options.maxUpstreamCallsPerRequest,
        }),
      },
      live: {
        ...TEST_CONFIG.live,
        responseCache: options.redis !== undefined,
        ...definedOnly({ pollIntervalMs: options.pollIntervalMs }),
      },
      upstream: { ...TEST_CONFIG.upstream, ...definedOnly({ quota: options.quota }) },
    };
    const metrics = options.gateway?.metrics?.metrics;
    const services = createServices(config, {
      logger,
      tenancy: options.tenancy ?? fixture.tenancy,
      now: options.now,
      metrics,
      shared: options.redis,
      callbackToken: options.gateway?.callbackToken,
      publicCallbackBaseUrl: () => options.publicCallbackBaseUrl,
      // Tests do not wait out real back-off; the delays asked for are asserted where they matter.
      client: { sleep: async () => {}, ...options.client },
    });
    built.push(services);
    return createGateway({
      ...gatewayOptions(config, services, {
        logger,
        isReady: options.isReady ?? (async () => true),
        shutdownSignal: options.shutdownSignal,
        metrics,
      }),
      ...options.gateway,
    });
  };
  const secret = options.cursorSecret ?? 'test-cursor-secret-0123456789abcdef';
  const gateway = make(secret);
  const rawLog = () => chunks.join('');
  return {
    ...fixture,
    async close() {
      await Promise.all(built.map((services) => services.close()));
      await fixture.close();
    },
    gateway,
    get logLines() {
      return rawLog()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    rawLog,
    async query(query, variables, headers = {}) {
      const response = await gateway.fetch('http://gateway/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, ...((await response.json()) as object) };
    },
    replica: ({ cursorSecret } = {}) => make(cursorSecret ?? secret),
  };
}

/**
 * For a test file whose tests each start their own gateways (or servers): what is passed to the returned function
 * is closed after the test that started it. Call once, at the top of the file.
 */
export function closeAfterEach(): <T extends { close(): Promise<unknown> }>(item: T) => T {
  const open: Array<{ close(): Promise<unknown> }> = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((item) => item.close()));
  });
  return (item) => {
    open.push(item);
    return item;
  };
}

export interface LoopbackServer {
  /** `http://127.0.0.1:<port>/graphql`; the same path takes graphql-ws upgrades. */
  readonly url: string;
  close(): Promise<void>;
}

/** The gateway on a real loopback port, HTTP and graphql-ws alike, as the entry point serves it. */
export async function listenOnLoopback(
  gateway: Gateway,
  options: {
    readonly maxSubscriptionsPerConnection?: number;
    readonly allowedOrigins?: '*' | readonly string[];
  } = {},
): Promise<LoopbackServer> {
  const server = createServer(gateway);
  const socket = serveGraphQLOverWebSocket(server, gateway, {
    path: '/graphql',
    maxSubscriptionsPerConnection: options.maxSubscriptionsPerConnection ?? 50,
    allowedOrigins: options.allowedOrigins ?? '*',
    logger: createLogger('silent'),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    async close() {
      await socket.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
