import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

const credentials = {
  TENCENTCLOUD_SECRET_ID: 'AKIDexample',
  TENCENTCLOUD_SECRET_KEY: 'example-secret-key',
  CI_BUCKET: 'examplebucket-1250000000',
  CI_REGION: 'ap-guangzhou',
};

/** Production as an operator must set it: with a way to authenticate callers. */
const production = { ...credentials, NODE_ENV: 'production', ROUTER_SECRET: 'router-secret-0123456789' };

function config(env: Record<string, string>) {
  const result = loadConfig(env);
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.config;
}

function errors(env: Record<string, string>) {
  const result = loadConfig(env);
  if (result.ok) throw new Error('expected the configuration to be refused');
  return result.errors;
}

describe('loadConfig', () => {
  it.each([
    ['the demo', {}, false],
    [
      'a gateway requiring a JWT',
      { ...credentials, AUTH_JWKS_URL: 'https://issuer.example.com/jwks.json' },
      false,
    ],
    ['a gateway requiring the router’s secret', production, false],
    [
      'a production gateway that trusts its network',
      { ...credentials, NODE_ENV: 'production', AUTH_DISABLED: 'true' },
      true,
    ],
    ['a development gateway on real credentials with no caller checks', credentials, true],
  ])(
    'asks for the CSRF header only where nothing else stops a forged request: %s → %s',
    (_case, env, expected) => {
      expect(config(env).http.csrfPrevention).toBe(expected);
    },
  );

  it('runs in demo mode with nothing set outside production', () => {
    expect(config({})).toMatchObject({
      mode: 'demo',
      http: {
        port: 4000,
        corsOrigins: '*',
        shutdownDelayMs: 0,
        shutdownTimeoutMs: 20_000,
        relayNodeQueries: false,
      },
      upstream: { tenancy: undefined, timeoutMs: 10_000 },
      limits: {
        maxPageSize: 100,
        upstreamConcurrency: 8,
        maxUpstreamCallsPerRequest: 500,
        requestTimeoutMs: 30_000,
        maxRequestBytes: 1_048_576,
      },
      telemetry: { logLevel: 'info' },
    });
  });

  it('keeps serving for 5 s after SIGTERM in production, unless told otherwise', () => {
    expect(config(production).http.shutdownDelayMs).toBe(5_000);
    expect(config({ ...production, SHUTDOWN_DELAY_MS: '0' }).http.shutdownDelayMs).toBe(0);
    expect(errors({ SHUTDOWN_DELAY_MS: 'soon' })).toEqual(['SHUTDOWN_DELAY_MS: must be a whole number']);
  });

  it('derives the CI endpoint from bucket and region: one bucket, the default, signed with the key pair', () => {
    expect(config(credentials)).toMatchObject({
      mode: 'upstream',
      upstream: {
        tenancy: {
          buckets: [
            {
              bucketId: 'examplebucket-1250000000',
              region: 'ap-guangzhou',
              account: 'default',
              endpoint: 'https://examplebucket-1250000000.ci.ap-guangzhou.myqcloud.com',
              regionEndpoint: 'https://ci.ap-guangzhou.myqcloud.com',
            },
          ],
          accounts: {
            default: {
              kind: 'keys',
              secretId: 'AKIDexample',
              secretKey: 'example-secret-key',
              sessionToken: undefined,
            },
          },
          defaultBucket: 'examplebucket-1250000000',
        },
        timeoutMs: 10_000,
      },
    });
  });

  it('takes an endpoint override, a session token and every tuning variable', () => {
    const result = config({
      TENCENTCLOUD_SECRET_ID: 'id',
      TENCENTCLOUD_SECRET_KEY: 'key',
      TENCENTCLOUD_SESSION_TOKEN: 'token',
      CI_ENDPOINT: 'http://127.0.0.1:9100/',
      CI_TIMEOUT_MS: '2500',
      MAX_PAGE_SIZE: '250',
      CORS_ORIGINS: 'https://a.example.com, http://localhost:3000',
      LOG_LEVEL: 'debug',
      PORT: '8080',
      NODE_ENV: 'production',
      AUTH_JWKS_URL: 'https://issuer.example.com/.well-known/jwks.json',
      AUTH_ISSUER: 'https://issuer.example.com/',
      AUTH_AUDIENCE: 'ci-workflows',
      AUTH_READ_SCOPE: 'media.read',
      AUTH_WRITE_SCOPE: 'media.write',
      RATE_LIMIT_UPSTREAM_CALLS_PER_MINUTE: '600',
      INTROSPECTION: 'true',
      GRAPHIQL: 'true',
      CONSOLE: 'true',
      ALLOWED_HOSTS: 'ci-workflows.internal, Gateway.Example.com',
      UPSTREAM_CONCURRENCY_PER_REQUEST: '4',
      MAX_UPSTREAM_CALLS_PER_REQUEST: '50',
      REQUEST_TIMEOUT_MS: '12000',
      MAX_REQUEST_BYTES: '65536',
      SHUTDOWN_DELAY_MS: '15000',
      SHUTDOWN_TIMEOUT_MS: '40000',
      RELAY_NODE_QUERIES: 'true',
    });
    expect(result).toMatchObject({
      mode: 'upstream',
      production: true,
      http: {
        corsOrigins: ['https://a.example.com', 'http://localhost:3000'],
        port: 8080,
        shutdownDelayMs: 15_000,
        shutdownTimeoutMs: 40_000,
        relayNodeQueries: true,
        introspection: true,
        graphiql: true,
        console: true,
        allowedHosts: ['ci-workflows.internal', 'gateway.example.com'],
      },
      upstream: {
        tenancy: {
          buckets: [{ bucketId: 'default', endpoint: 'http://127.0.0.1:9100' }],
          accounts: { default: { sessionToken: 'token' } },
          defaultBucket: 'default',
        },
        timeoutMs: 2500,
      },
      limits: {
        maxPageSize: 250,
        upstreamConcurrency: 4,
        maxUpstreamCallsPerRequest: 50,
        requestTimeoutMs: 12_000,
        maxRequestBytes: 65_536,
        rateLimitPerMinute: 600,
      },
      telemetry: { logLevel: 'debug' },
      auth: {
        jwksUrl: 'https://issuer.example.com/.well-known/jwks.json',
        issuer: 'https://issuer.example.com/',
        audience: 'ci-workflows',
        readScope: 'media.read',
        writeScope: 'media.write',
        routerSecret: undefined,
        disabled: false,
      },
    });
  });

  it('closes what production does not need: introspection, GraphiQL, the console, cross-origin access', () => {
    expect(config(production)).toMatchObject({
      http: {
        introspection: false,
        graphiql: false,
        console: false,
        corsOrigins: [],
        allowedHosts: undefined,
      },
      limits: { rateLimitPerMinute: 1_200 },
      upstream: { detailCacheEntries: 10_000, workflowCacheTtlMs: 30_000 },
      auth: {
        readScope: 'ci.workflows.read',
        writeScope: 'ci.workflows.write',
        routerSecret: 'router-secret-0123456789',
      },
    });
  });

  it('starts in production without caller authentication only when told so explicitly', () => {
    const unprotected = { ...credentials, NODE_ENV: 'production' };
    expect(errors(unprotected)).toEqual([
      'AUTH_JWKS_URL or ROUTER_SECRET: one is required in production, or AUTH_DISABLED=true to rely on the network alone',
    ]);
    expect(config({ ...unprotected, AUTH_DISABLED: 'true' }).auth.disabled).toBe(true);
    expect(config({ ...unprotected, AUTH_JWKS_URL: 'https://issuer.example.com/jwks' }).auth.jwksUrl).toBe(
      'https://issuer.example.com/jwks',
    );
  });

  it('signs demo cursors with a random key: the demo credentials are public', () => {
    const first = config({}).http.cursorSecret;
    expect(first).toMatch(/^[\w-]{43}$/);
    expect(config({}).http.cursorSecret).not.toBe(first);
    // Replicas with the same keys agree on it without being told.
    expect(config(credentials).http.cursorSecret).toBe(config(credentials).http.cursorSecret);
    expect(config(credentials).http.cursorSecret).not.toBe(
      config({ ...credentials, TENCENTCLOUD_SECRET_KEY: 'other' }).http.cursorSecret,
    );
    expect(config({ ...credentials, CURSOR_SECRET: 'c'.repeat(32) }).http.cursorSecret).toBe('c'.repeat(32));
  });

  it('opens the demo to any origin and host, but real data outside production only to loopback hosts', () => {
    expect(config({}).http).toMatchObject({
      corsOrigins: '*',
      allowedHosts: undefined,
      introspection: true,
      graphiql: true,
      console: true,
    });
    expect(config(credentials).http).toMatchObject({
      corsOrigins: [],
      allowedHosts: ['localhost', '127.0.0.1', '[::1]'],
    });
  });

  it('never falls back to demo data in production', () => {
    expect(errors({ NODE_ENV: 'production' })).toEqual([
      'AUTH_JWKS_URL or ROUTER_SECRET: one is required in production, or AUTH_DISABLED=true to rely on the network alone',
      'TENCENTCLOUD_SECRET_ID: required',
      'TENCENTCLOUD_SECRET_KEY: required',
      'CI_BUCKET: required unless CI_ENDPOINT is set',
      'CI_REGION: required unless CI_ENDPOINT is set',
    ]);
  });

  it('allows no cross-origin access in production unless told', () => {
    expect(config(production).http.corsOrigins).toEqual([]);
  });

  it('serves metrics on the main port unless METRICS_PORT is set', () => {
    expect(config(production).telemetry.metricsPort).toBeUndefined();
    expect(config({ ...production, METRICS_PORT: '9464' }).telemetry.metricsPort).toBe(9464);
    expect(errors({ ...production, METRICS_PORT: '0' })).toEqual(['METRICS_PORT: must be at least 1']);
  });

  it('traces only when an OTLP endpoint is set and nothing turns the SDK off', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(config(production).telemetry.tracing).toBeUndefined();
    expect(config({ ...production, ...endpoint }).telemetry.tracing).toEqual({ protocol: 'http/protobuf' });
    expect(
      config({ ...production, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })
        .telemetry.tracing,
    ).toEqual({ protocol: 'http/protobuf' });
    expect(
      config({
        ...production,
        ...endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      }).telemetry.tracing,
    ).toEqual({ protocol: 'http/json' });
    expect(
      config({ ...production, ...endpoint, OTEL_SDK_DISABLED: 'true' }).telemetry.tracing,
    ).toBeUndefined();
    expect(
      config({ ...production, ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).telemetry.tracing,
    ).toBeUndefined();
    expect(errors({ ...production, ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })[0]).toMatch(
      /^OTEL_EXPORTER_OTLP_PROTOCOL: must be http\/protobuf or http\/json/,
    );
    expect(errors({ ...production, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT: must be an http(s) URL',
    ]);
    expect(errors({ ...production, ...endpoint, OTEL_TRACES_EXPORTER: 'zipkin' })[0]).toMatch(
      /^OTEL_TRACES_EXPORTER: must be otlp or none/,
    );
  });

  it('runs persisted documents only with a manifest, and never behind a router', () => {
    const jwtProduction = {
      ...credentials,
      NODE_ENV: 'production',
      AUTH_JWKS_URL: 'https://issuer.example/jwks',
    };
    expect(config(jwtProduction).http).toMatchObject({
      persistedDocumentsFile: undefined,
      onlyPersisted: false,
    });
    expect(
      config({
        ...jwtProduction,
        PERSISTED_DOCUMENTS_FILE: '/etc/gateway/documents.json',
        ONLY_PERSISTED: 'true',
      }).http,
    ).toMatchObject({ persistedDocumentsFile: '/etc/gateway/documents.json', onlyPersisted: true });
    expect(errors({ ...jwtProduction, ONLY_PERSISTED: 'true' })).toEqual([
      'ONLY_PERSISTED: set PERSISTED_DOCUMENTS_FILE to the manifest of documents that may run',
    ]);
    expect(
      errors({
        ...production,
        PERSISTED_DOCUMENTS_FILE: '/etc/gateway/documents.json',
        ONLY_PERSISTED: 'true',
      })[0],
    ).toMatch(/^ONLY_PERSISTED: a router sends/);
  });

  it('takes CI callbacks only with a long URL-safe token, and polls every 5 s unless told otherwise', () => {
    expect(config(production).live).toMatchObject({ callbackToken: undefined, pollIntervalMs: 5_000 });
    const token = 'a'.repeat(32);
    expect(config({ ...production, CI_CALLBACK_TOKEN: token, POLL_INTERVAL_MS: '0' }).live).toMatchObject({
      callbackToken: token,
      pollIntervalMs: 0,
    });
    expect(errors({ ...production, CI_CALLBACK_TOKEN: 'short' })[0]).toMatch(
      /^CI_CALLBACK_TOKEN: must be 32 or more/,
    );
    expect(errors({ ...production, CI_CALLBACK_TOKEN: `${'a'.repeat(32)}/../x` })[0]).toMatch(
      /^CI_CALLBACK_TOKEN/,
    );
  });

  it('lists the origins subscription callbacks may go to, refusing anything that is not one', () => {
    expect(config(production).live.subscriptionCallbackOrigins).toEqual([]);
    expect(
      config({ ...production, SUBSCRIPTION_CALLBACK_ORIGINS: 'http://router:4000, https://router.example' })
        .live.subscriptionCallbackOrigins,
    ).toEqual(['http://router:4000', 'https://router.example']);
    expect(errors({ ...production, SUBSCRIPTION_CALLBACK_ORIGINS: 'router:4000/path' })[0]).toMatch(
      /^SUBSCRIPTION_CALLBACK_ORIGINS: "router:4000\/path" is not an origin/,
    );
  });

  it('reports every bad variable at once', () => {
    const found = errors({
      TENCENTCLOUD_SECRET_ID: 'id',
      CI_BUCKET: 'Not A Bucket',
      CI_REGION: 'guangzhou',
      CI_ENDPOINT: 'ftp://example.com',
      CI_TIMEOUT_MS: '10s',
      MAX_PAGE_SIZE: '0',
      CORS_ORIGINS: 'https://ok.example.com,not-an-origin',
      LOG_LEVEL: 'loud',
      PORT: '70000',
      RELAY_NODE_QUERIES: 'yes',
      MAX_UPSTREAM_CALLS_PER_REQUEST: '0',
    });
    const names = found.map((error) => error.split(':')[0]);
    expect(names.sort()).toEqual(
      [
        'CI_BUCKET',
        'CI_REGION',
        'CI_ENDPOINT',
        'CI_TIMEOUT_MS',
        'MAX_PAGE_SIZE',
        'CORS_ORIGINS',
        'LOG_LEVEL',
        'PORT',
        'RELAY_NODE_QUERIES',
        'MAX_UPSTREAM_CALLS_PER_REQUEST',
        'TENCENTCLOUD_SECRET_KEY',
      ].sort(),
    );
  });

  it('refuses half a credential pair and an endpoint without credentials', () => {
    expect(errors({ ...credentials, TENCENTCLOUD_SECRET_KEY: '' })).toEqual([
      'TENCENTCLOUD_SECRET_KEY: required',
    ]);
    expect(errors({ CI_ENDPOINT: 'http://127.0.0.1:9100' })[0]).toMatch(/^CI_ENDPOINT:/);
  });

  it('never echoes a secret in its errors', () => {
    const found = errors({ ...credentials, CI_TIMEOUT_MS: 'abc' });
    expect(found.join('\n')).not.toContain('example-secret-key');
  });
});

describe('CI_BUCKETS_FILE', () => {
  const directory = mkdtempSync(join(tmpdir(), 'buckets-file-'));
  const tokenFile = join(directory, 'token');
  writeFileSync(tokenFile, 'projected-token');
  let written = 0;
  /** The file, written where the configuration can read it; its path. */
  const file = (content: unknown) => {
    written += 1;
    const path = join(directory, `buckets-${written}.json`);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  const partnerKeys = { PARTNER_SECRET_ID: 'AKIDpartner', PARTNER_SECRET_KEY: 'partner-secret-key' };
  const company = {
    defaultBucket: 'media-1250000000',
    accounts: {
      partner: { type: 'keys', secretIdEnv: 'PARTNER_SECRET_ID', secretKeyEnv: 'PARTNER_SECRET_KEY' },
      subsidiary: {
        type: 'role',
        roleArn: 'qcs::cam::uin/100000000002:roleName/ci-gateway',
        externalId: 'media-platform',
      },
      cluster: {
        type: 'webIdentity',
        roleArn: 'qcs::cam::uin/100000000003:roleName/ci-gateway',
        tokenFile,
        durationSeconds: 3600,
      },
    },
    buckets: [
      { bucket: 'media-1250000000', region: 'ap-guangzhou' },
      { bucket: 'partner-1300000000', region: 'ap-singapore', account: 'partner' },
      { bucket: 'studio-1310000000', region: 'ap-shanghai', account: 'subsidiary' },
      {
        bucket: 'archive-1320000000',
        region: 'ap-beijing',
        account: 'cluster',
        endpoint: 'https://ci-private.example.internal/',
      },
    ],
  };

  it('lists buckets and the three kinds of account, secrets from the environment only', () => {
    const loaded = config({
      ...credentials,
      CI_BUCKET: '',
      CI_REGION: '',
      CI_BUCKETS_FILE: file(company),
      ...partnerKeys,
    });
    const tenancy = loaded.upstream.tenancy;
    expect(tenancy?.defaultBucket).toBe('media-1250000000');
    expect(tenancy?.buckets.map((bucket) => [bucket.bucketId, bucket.account, bucket.endpoint])).toEqual([
      ['media-1250000000', 'default', 'https://media-1250000000.ci.ap-guangzhou.myqcloud.com'],
      ['partner-1300000000', 'partner', 'https://partner-1300000000.ci.ap-singapore.myqcloud.com'],
      ['studio-1310000000', 'subsidiary', 'https://studio-1310000000.ci.ap-shanghai.myqcloud.com'],
      ['archive-1320000000', 'cluster', 'https://ci-private.example.internal'],
    ]);
    expect(tenancy?.accounts).toMatchObject({
      default: { kind: 'keys', secretId: 'AKIDexample', secretKey: 'example-secret-key' },
      partner: { kind: 'keys', secretId: 'AKIDpartner', secretKey: 'partner-secret-key' },
      subsidiary: {
        kind: 'role',
        via: 'default',
        externalId: 'media-platform',
        durationSeconds: 7200,
        sessionName: expect.stringMatching(/^ci-gateway-[\w+=,.@-]+$/),
      },
      cluster: { kind: 'webIdentity', providerId: 'OIDC', tokenFile, durationSeconds: 3600 },
    });
    // Cursors are signed with a secret every replica with the same accounts derives alike.
    expect(loaded.http.cursorSecret).toBe(
      config({ ...credentials, CI_BUCKET: '', CI_REGION: '', CI_BUCKETS_FILE: file(company), ...partnerKeys })
        .http.cursorSecret,
    );
  });

  it('needs no default bucket with one bucket, and no TENCENTCLOUD_* keys when no bucket uses them', () => {
    const loaded = config({
      CI_BUCKETS_FILE: file({
        accounts: { partner: company.accounts.partner },
        buckets: [{ bucket: 'partner-1300000000', region: 'ap-singapore', account: 'partner' }],
      }),
      ...partnerKeys,
    });
    expect(loaded.mode).toBe('upstream');
    expect(loaded.upstream.tenancy?.defaultBucket).toBe('partner-1300000000');
    // Several buckets and none named the default: every argument must say which.
    const several = config({
      ...credentials,
      CI_BUCKET: '',
      CI_REGION: '',
      CI_BUCKETS_FILE: file({ ...company, defaultBucket: undefined }),
      ...partnerKeys,
    });
    expect(several.upstream.tenancy?.defaultBucket).toBeUndefined();
  });

  it('reports every mistake in the file at once, and never a secret', () => {
    const found = errors({
      CI_BUCKETS_FILE: file({
        defaultBucket: 'nowhere-1250000000',
        accounts: {
          partner: { type: 'keys', secretIdEnv: 'PARTNER_SECRET_ID', secretKeyEnv: 'MISSING_SECRET_KEY' },
          chained: { type: 'role', roleArn: 'qcs::cam::uin/1:roleName/x', via: 'subsidiary' },
          subsidiary: { type: 'role', roleArn: 'qcs::cam::uin/2:roleName/y', via: 'partner' },
          unused: {
            type: 'webIdentity',
            roleArn: 'qcs::cam::uin/3:roleName/z',
            tokenFile: join(directory, 'none'),
          },
        },
        buckets: [
          { bucket: 'media-1250000000', region: 'ap-guangzhou' },
          { bucket: 'media-1250000000', region: 'ap-guangzhou', account: 'partner' },
          { bucket: 'other-1250000000', region: 'ap-guangzhou', account: 'ghost' },
          { bucket: 'third-1250000000', region: 'ap-guangzhou', account: 'chained' },
        ],
      }),
      PARTNER_SECRET_ID: 'AKIDpartner',
    });
    expect(found.map((error) => error.replace(/^CI_BUCKETS_FILE \([^)]*\): /, ''))).toEqual([
      'buckets.0.account: uses the default account: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or name an account',
      'buckets.1: bucket "media-1250000000" is listed twice',
      'buckets.2.account: names account "ghost", which "accounts" does not list',
      'accounts.partner: environment variable MISSING_SECRET_KEY is not set',
      'accounts.chained.via: "subsidiary" is a role too: assume roles with a key pair or workload identity',
      `accounts.unused.tokenFile: ${join(directory, 'none')} does not exist`,
      'accounts.unused: no bucket or role uses it',
      'defaultBucket: "nowhere-1250000000" is not one of the buckets listed',
    ]);
    expect(found.join('\n')).not.toContain('AKIDpartner');
  });

  it('reports a file that is not JSON, or not of the shape, naming where', () => {
    expect(errors({ CI_BUCKETS_FILE: file('{ "buckets": [') })[0]).toMatch(
      /^CI_BUCKETS_FILE \(.*\): not JSON/,
    );
    expect(errors({ CI_BUCKETS_FILE: join(directory, 'absent.json') })).toEqual([
      `CI_BUCKETS_FILE (${join(directory, 'absent.json')}): cannot be read`,
    ]);
    const shape = errors({
      CI_BUCKETS_FILE: file({
        buckets: [{ bucket: 'Media_Bucket', region: 'guangzhou', secretKey: 'inline' }],
        accounts: { x: { type: 'password' } },
      }),
    });
    expect(shape.map((error) => error.replace(/^CI_BUCKETS_FILE \([^)]*\): /, '').split(':')[0])).toEqual(
      expect.arrayContaining(['buckets.0.bucket', 'buckets.0.region', 'buckets.0', 'accounts.x.type']),
    );
  });

  it('is one or the other: the bucket file, or the single-bucket variables', () => {
    expect(errors({ ...credentials, CI_BUCKETS_FILE: file(company), ...partnerKeys })).toEqual([
      'CI_BUCKET: the bucket file lists the buckets; unset it or CI_BUCKETS_FILE',
      'CI_REGION: the bucket file lists the buckets; unset it or CI_BUCKETS_FILE',
    ]);
  });

  it('reads the bucket claim only from a verified token', () => {
    expect(errors({ ...credentials, AUTH_BUCKETS_CLAIM: 'ci_buckets' })).toEqual([
      'AUTH_BUCKETS_CLAIM: a claim is read from a verified token; set AUTH_JWKS_URL too',
    ]);
    expect(
      config({
        ...credentials,
        AUTH_BUCKETS_CLAIM: 'ci_buckets',
        AUTH_JWKS_URL: 'https://issuer.example.com/jwks',
      }).auth.bucketsClaim,
    ).toBe('ci_buckets');
  });
});
