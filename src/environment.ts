/**
 * The environment variables the gateway reads, each with its rule, and the rules between them (what production
 * requires, what demo mode forbids). `config.ts` turns what passes into the configuration.
 */
import { z } from 'zod';
import {
  DEFAULT_DETAIL_CACHE_ENTRIES,
  DEFAULT_JOB_IDS_PER_LOOKUP,
  DEFAULT_MAX_DOCUMENT_BYTES,
  DEFAULT_MAX_PAGE_SIZE,
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_MAX_SUBSCRIPTIONS_PER_CALLER,
  DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
  DEFAULT_MAX_UPSTREAM_CALLS_PER_REQUEST,
  DEFAULT_MAX_WORKFLOW_LABELS,
  DEFAULT_POLL_INTERVAL_MS,
  DEFAULT_PORT,
  DEFAULT_QUOTA_MAX_WAIT_MS,
  DEFAULT_RATE_LIMIT_PER_MINUTE,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_UPSTREAM_CONCURRENCY_PER_REQUEST,
  DEFAULT_WORKFLOW_CACHE_TTL_MS,
  LOG_LEVELS,
} from './defaults.js';

const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((value) => (value === '' ? undefined : value));
/** A whole number in [min, max], or undefined when unset. */
const optionalInteger = (min: number, max: number) =>
  optionalText.pipe(
    z
      .string()
      .regex(/^\d+$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
      .optional(),
  );
const integer = (min: number, max: number, fallback: number) =>
  optionalInteger(min, max).transform((value) => value ?? fallback);
/** A comma-separated list, each item trimmed, empty items dropped. */
const commaList = (value: string) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
const flag = optionalText.pipe(z.enum(['true', 'false'], 'must be true or false').optional());
/** An OAuth scope token (RFC 6749 §3.3): printable ASCII without spaces, quotes or backslashes. */
const scopeName = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be one scope token, without spaces');
export const origin = z
  .string()
  .refine(isOrigin, { message: 'must be an http(s) origin (scheme, host, optional port; no path)' });
/** A COS bucket as CI names it: the bucket's name and the account's APPID. */
export const bucketName = z.string().regex(/^[a-z0-9][a-z0-9-]*-\d+$/, 'must look like <BucketName-APPID>');
export const regionName = z.string().regex(/^[a-z]+(-[a-z0-9]+)+$/, 'must look like ap-guangzhou');

/** A URL whose scheme `protocol` matches (with its colon, as `URL.protocol` gives it). */
const urlWithProtocol = (protocol: RegExp, message: string) =>
  z.string().refine((value) => protocol.test(URL.parse(value)?.protocol ?? ''), message);
const httpUrl = urlWithProtocol(/^https?:$/, 'must be an http(s) URL');
const otlpProtocol = optionalText.pipe(
  z
    .enum(
      ['http/protobuf', 'http/json'],
      'must be http/protobuf or http/json (gRPC is not shipped; use port 4318)',
    )
    .optional(),
);

export const environment = z.object({
  NODE_ENV: optionalText,
  TENCENTCLOUD_SECRET_ID: optionalText,
  TENCENTCLOUD_SECRET_KEY: optionalText,
  TENCENTCLOUD_SESSION_TOKEN: optionalText,
  CI_BUCKET: optionalText.pipe(bucketName.optional()),
  CI_REGION: optionalText.pipe(regionName.optional()),
  CI_ENDPOINT: optionalText.pipe(origin.optional()),
  CI_BUCKETS_FILE: optionalText,
  STS_ENDPOINT: optionalText.pipe(origin.optional()),
  CI_TIMEOUT_MS: integer(100, 120_000, DEFAULT_TIMEOUT_MS),
  CI_ACCOUNT_CALLS_PER_SECOND: optionalInteger(1, 10_000),
  CI_QUOTA_MODE: optionalText.pipe(z.enum(['enforce', 'measure'], 'must be enforce or measure').optional()),
  CI_QUOTA_MAX_WAIT_MS: integer(0, 30_000, DEFAULT_QUOTA_MAX_WAIT_MS),
  MAX_PAGE_SIZE: integer(1, 1_000, DEFAULT_MAX_PAGE_SIZE),
  UPSTREAM_CONCURRENCY_PER_REQUEST: integer(1, 100, DEFAULT_UPSTREAM_CONCURRENCY_PER_REQUEST),
  MAX_UPSTREAM_CALLS_PER_REQUEST: integer(1, 100_000, DEFAULT_MAX_UPSTREAM_CALLS_PER_REQUEST),
  JOB_IDS_PER_LOOKUP: integer(1, 100, DEFAULT_JOB_IDS_PER_LOOKUP),
  REQUEST_TIMEOUT_MS: integer(100, 600_000, DEFAULT_REQUEST_TIMEOUT_MS),
  MAX_REQUEST_BYTES: integer(1024, 100 * 1024 * 1024, DEFAULT_MAX_REQUEST_BYTES),
  MAX_DOCUMENT_BYTES: integer(1024, 1024 * 1024, DEFAULT_MAX_DOCUMENT_BYTES),
  // No fixed default: it depends on NODE_ENV.
  SHUTDOWN_DELAY_MS: optionalInteger(0, 300_000),
  SHUTDOWN_TIMEOUT_MS: integer(0, 600_000, DEFAULT_SHUTDOWN_TIMEOUT_MS),
  CORS_ORIGINS: optionalText.transform((value, context) => {
    if (value === undefined || value === '*') return value;
    const origins = commaList(value);
    for (const item of origins) {
      if (!origin.safeParse(item).success) {
        context.addIssue({
          code: 'custom',
          message: `"${item}" is not an origin such as https://app.example.com`,
        });
      }
    }
    return origins;
  }),
  LOG_LEVEL: optionalText.pipe(z.enum(LOG_LEVELS).optional()),
  PORT: integer(0, 65_535, DEFAULT_PORT),
  RELAY_NODE_QUERIES: flag,
  CURSOR_SECRET: optionalText.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  AUTH_JWKS_URL: optionalText.pipe(httpUrl.optional()),
  AUTH_ISSUER: optionalText,
  AUTH_AUDIENCE: optionalText,
  AUTH_READ_SCOPE: optionalText.pipe(scopeName.optional()),
  AUTH_WRITE_SCOPE: optionalText.pipe(scopeName.optional()),
  ROUTER_SECRET: optionalText.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  AUTH_DISABLED: flag,
  AUTH_BUCKETS_CLAIM: optionalText.pipe(
    z
      .string()
      .regex(/^[\w.:/-]{1,128}$/, 'must be a claim name, like ci_buckets')
      .optional(),
  ),
  RATE_LIMIT_UPSTREAM_CALLS_PER_MINUTE: integer(0, 1_000_000, DEFAULT_RATE_LIMIT_PER_MINUTE),
  DETAIL_CACHE_ENTRIES: integer(0, 1_000_000, DEFAULT_DETAIL_CACHE_ENTRIES),
  WORKFLOW_CACHE_TTL_MS: integer(0, 3_600_000, DEFAULT_WORKFLOW_CACHE_TTL_MS),
  INTROSPECTION: flag,
  GRAPHIQL: flag,
  CONSOLE: flag,
  METRICS_PORT: optionalInteger(1, 65_535),
  METRICS_MAX_WORKFLOWS: integer(1, 10_000, DEFAULT_MAX_WORKFLOW_LABELS),
  CI_CALLBACK_TOKEN: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{32,}$/, 'must be 32 or more URL-safe characters (letters, digits, - and _)')
      .optional(),
  ),
  POLL_INTERVAL_MS: integer(0, 600_000, DEFAULT_POLL_INTERVAL_MS),
  SUBSCRIPTION_CALLBACK_ORIGINS: optionalText.transform((value, context) => {
    const origins = value === undefined ? [] : commaList(value);
    for (const item of origins) {
      if (!origin.safeParse(item).success) {
        context.addIssue({
          code: 'custom',
          message: `"${item}" is not an origin such as http://router:4000`,
        });
      }
    }
    return origins;
  }),
  MAX_SUBSCRIPTIONS_PER_CONNECTION: integer(1, 1_000, DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION),
  MAX_SUBSCRIPTIONS_PER_CALLER: integer(1, 100_000, DEFAULT_MAX_SUBSCRIPTIONS_PER_CALLER),
  RESPONSE_CACHE: flag,
  REDIS_URL: optionalText.pipe(
    urlWithProtocol(/^rediss?:$/, 'must be a redis:// or rediss:// URL').optional(),
  ),
  PUBLIC_CALLBACK_BASE_URL: optionalText.pipe(httpUrl.optional()),
  PERSISTED_DOCUMENTS_FILE: optionalText,
  ONLY_PERSISTED: flag,
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalText.pipe(httpUrl.optional()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalText.pipe(httpUrl.optional()),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol,
  OTEL_TRACES_EXPORTER: optionalText.pipe(
    z.enum(['otlp', 'none'], 'must be otlp or none (the only exporters this service ships)').optional(),
  ),
  OTEL_SDK_DISABLED: flag,
  ALLOWED_HOSTS: optionalText.transform((value) =>
    value === undefined ? undefined : commaList(value.toLowerCase()),
  ),
});

/** Every variable the service reads. */
export const ENVIRONMENT_VARIABLES: readonly string[] = Object.keys(environment.shape);

const isSet = (env: Readonly<Record<string, string | undefined>>, name: string) =>
  (env[name] ?? '').trim() !== '';

/** Demo mode: outside production, with no credentials and no bucket file at all. */
export function isDemo(env: Readonly<Record<string, string | undefined>>): boolean {
  return (
    (env['NODE_ENV'] ?? '').trim() !== 'production' &&
    !isSet(env, 'TENCENTCLOUD_SECRET_ID') &&
    !isSet(env, 'TENCENTCLOUD_SECRET_KEY') &&
    !isSet(env, 'CI_BUCKETS_FILE')
  );
}

/** Variables that are required, or forbidden, given the others. */
export function presenceErrors(env: Readonly<Record<string, string | undefined>>): string[] {
  const errors = persistedErrors(env);
  if (isDemo(env)) {
    if (isSet(env, 'CI_ENDPOINT')) {
      errors.push(
        'CI_ENDPOINT: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY too, or unset it for demo mode',
      );
    }
    return errors;
  }
  const production = (env['NODE_ENV'] ?? '').trim() === 'production';
  if (
    production &&
    !isSet(env, 'AUTH_JWKS_URL') &&
    !isSet(env, 'ROUTER_SECRET') &&
    env['AUTH_DISABLED'] !== 'true'
  ) {
    errors.push(
      'AUTH_JWKS_URL or ROUTER_SECRET: one is required in production, or AUTH_DISABLED=true to rely on the network alone',
    );
  }
  if (isSet(env, 'AUTH_BUCKETS_CLAIM') && !isSet(env, 'AUTH_JWKS_URL')) {
    errors.push('AUTH_BUCKETS_CLAIM: a claim is read from a verified token; set AUTH_JWKS_URL too');
  }
  if (isSet(env, 'CI_BUCKETS_FILE')) {
    // The file lists the buckets; its accounts say which keys they need (TENCENTCLOUD_* for the default one).
    for (const name of ['CI_BUCKET', 'CI_REGION', 'CI_ENDPOINT']) {
      if (isSet(env, name))
        errors.push(`${name}: the bucket file lists the buckets; unset it or CI_BUCKETS_FILE`);
    }
    return errors;
  }
  for (const name of ['TENCENTCLOUD_SECRET_ID', 'TENCENTCLOUD_SECRET_KEY']) {
    if (!isSet(env, name)) errors.push(`${name}: required`);
  }
  if (!isSet(env, 'CI_ENDPOINT')) {
    for (const name of ['CI_BUCKET', 'CI_REGION']) {
      if (!isSet(env, name)) errors.push(`${name}: required unless CI_ENDPOINT is set`);
    }
  }
  return errors;
}

/** Persisted-documents-only needs the documents, and cannot serve a router, which sends query plans. */
function persistedErrors(env: Readonly<Record<string, string | undefined>>): string[] {
  if ((env['ONLY_PERSISTED'] ?? '').trim() !== 'true') return [];
  if (!isSet(env, 'PERSISTED_DOCUMENTS_FILE')) {
    return ['ONLY_PERSISTED: set PERSISTED_DOCUMENTS_FILE to the manifest of documents that may run'];
  }
  if (isSet(env, 'ROUTER_SECRET')) {
    return [
      'ONLY_PERSISTED: a router sends the documents of its query plans, not persisted ones; leave it off behind a router (the router keeps its own list)',
    ];
  }
  return [];
}

function isOrigin(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value.replace(/\/$/, '');
}
