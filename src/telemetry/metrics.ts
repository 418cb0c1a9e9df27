/**
 * Prometheus metrics: GraphQL operations and errors (`@graphql-yoga/plugin-prometheus` on `prom-client`), every
 * upstream attempt (an {@link UpstreamObserver} on the CI transport), read-cache hits and refusals, runs finished by
 * workflow (`workflow-metrics.ts`), and Node's own process metrics. One registry per gateway, so tests can run several side by side.
 *
 * Label values are bounded: operation names are the caller's words, so only the first
 * {@link MAX_OPERATION_NAMES} well-formed names get their own series and the rest share `other`; anonymous
 * operations share `anonymous`.
 */
import { createServer, type Server } from 'node:http';
import { createCounter, createHistogram, usePrometheus } from '@graphql-yoga/plugin-prometheus';
import type { Plugin } from 'graphql-yoga';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { outcomeOf, type UpstreamObserver } from '../ci/client.js';
import type { CacheCounts, ReadCache } from '../ci/read-cache.js';
import { DEFAULT_MAX_WORKFLOW_LABELS } from '../defaults.js';
import { ErrorCode, errorCodeOf, errorCodesOf } from '../error-codes.js';
import { BoundedLabels } from './bounded-labels.js';
import { WorkflowRunMetrics } from './workflow-metrics.js';

export const METRICS_PATH = '/metrics';
export const MAX_OPERATION_NAMES = 200;
const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

/** Why a request was refused upstream work before any call was made. */
export type RefusalReason = 'request_budget' | 'rate_limit' | 'retry_budget' | 'quota';

/** GraphQL error codes that are refusals of upstream work, and how the refusal metric names them. */
export const REFUSAL_CODES: Readonly<Record<string, RefusalReason>> = {
  [ErrorCode.UPSTREAM_CALL_BUDGET_EXCEEDED]: 'request_budget',
  [ErrorCode.RATE_LIMITED]: 'rate_limit',
};

export interface Metrics {
  readonly registry: Registry;
  /** Counts every attempt of every CI call. */
  readonly upstream: UpstreamObserver;
  /** The yoga plugins: operation and error metrics, and `/metrics` itself unless it has its own port. */
  plugin(options: { readonly servePath: boolean }): Plugin;
  /** A call was not sent: its account's CI quota had no token for it in time. */
  quotaRefused(): void;
  /** Runs finished, by workflow and state, and their durations; stuck runs from the scans. */
  readonly workflowRuns: WorkflowRunMetrics;
  /** A CI callback was taken for this bucket (and its run re-read). */
  callbackTaken(bucket: string): void;
  /** Reports one bucket's cache hits and misses at every scrape. */
  watchReadCache(cache: ReadCache, bucket: string): void;
  /** Reports live updates' subscribers, watched keys and the keys this replica polls at every scrape. */
  watchLiveUpdates(live: LiveUpdatesCounts): void;
  /** Serves `/metrics` alone on its own port (METRICS_PORT), away from the GraphQL listener. */
  listen(port: number, host?: string): Promise<Server>;
}

/** What live updates report about themselves (see `LiveUpdates`). */
export interface LiveUpdatesCounts {
  readonly subscribers: number;
  readonly watchedKeys: { readonly run: number; readonly workflow: number; readonly scan: number };
  readonly polledKeys: number;
}

/** Bounds the distinct operation names that become label values; anonymous operations share `anonymous`. */
export class OperationNameLabels {
  readonly #labels: BoundedLabels;
  constructor(limit = MAX_OPERATION_NAMES) {
    this.#labels = new BoundedLabels(limit, (name) => OPERATION_NAME.test(name));
  }

  of(name: string | undefined | null): string {
    return name ? this.#labels.of(name) : 'anonymous';
  }
}

export interface MetricsOptions {
  /** Workflows with series of their own in the per-workflow run metrics; the rest share `other`. */
  readonly maxWorkflowLabels?: number | undefined;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const operationNames = new OperationNameLabels();

  const upstreamRequests = new Counter({
    name: 'ci_upstream_requests_total',
    help: 'HTTP requests sent to the CI API (every attempt, retries included), by bucket, account, call and outcome.',
    labelNames: ['bucket', 'account', 'operation', 'outcome'],
    registers: [registry],
  });
  const upstreamDuration = new Histogram({
    name: 'ci_upstream_request_duration_seconds',
    help: 'Time from sending a CI request to its decoded answer or failure, per attempt.',
    labelNames: ['bucket', 'operation'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const upstreamRetries = new Counter({
    name: 'ci_upstream_retries_total',
    help: 'CI attempts that failed and were followed by another attempt.',
    labelNames: ['bucket', 'operation'],
    registers: [registry],
  });
  const upstreamInFlight = new Gauge({
    name: 'ci_upstream_in_flight',
    help: 'CI requests sent and not yet answered.',
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'ci_upstream_refusals_total',
    help: "Upstream work refused: a request over its call budget, a caller over its rate limit, a retry the shared retry budget did not allow, or a call its account's CI quota had no token for.",
    labelNames: ['reason'],
    registers: [registry],
  });
  const callbacks = new Counter({
    name: 'ci_callbacks_total',
    help: 'CI callbacks taken (authentic, readable, within their rate), by bucket.',
    labelNames: ['bucket'],
    registers: [registry],
  });
  const cacheCounts: Array<{ bucket: string; cache: string; counts: CacheCounts }> = [];
  new Counter({
    name: 'ci_read_cache_requests_total',
    help: 'Reads answered from the cache of finished runs and workflows (hit) or sent to CI (miss), by bucket.',
    labelNames: ['bucket', 'cache', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { bucket, cache, counts } of cacheCounts) {
        this.inc({ bucket, cache, result: 'hit' }, counts.hits);
        this.inc({ bucket, cache, result: 'miss' }, counts.misses);
      }
    },
  });

  const liveSources: LiveUpdatesCounts[] = [];
  const sum = (read: (live: LiveUpdatesCounts) => number) =>
    liveSources.reduce((total, live) => total + read(live), 0);
  new Gauge({
    name: 'live_subscribers',
    help: 'Subscriptions open on this replica, over every transport.',
    registers: [registry],
    collect() {
      this.set(sum((live) => live.subscribers));
    },
  });
  new Gauge({
    name: 'live_watched_keys',
    help: 'Runs and workflows watched by this replica’s subscribers, and workflows scanned for their watched runs.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.set(
        { kind: 'run' },
        sum((live) => live.watchedKeys.run),
      );
      this.set(
        { kind: 'workflow' },
        sum((live) => live.watchedKeys.workflow),
      );
      this.set(
        { kind: 'scan' },
        sum((live) => live.watchedKeys.scan),
      );
    },
  });
  new Gauge({
    name: 'live_polled_keys',
    help: 'Watched keys this replica polls (holds the lease for, when replicas share Redis).',
    registers: [registry],
    collect() {
      this.set(sum((live) => live.polledKeys));
    },
  });

  const upstream: UpstreamObserver = {
    attemptStarted() {
      upstreamInFlight.inc();
      return {
        ended(attempt) {
          upstreamInFlight.dec();
          // Bounded: a tenant is one of the configured buckets.
          const labels = { bucket: attempt.tenant?.bucket ?? '', operation: attempt.operation };
          upstreamRequests.inc({
            bucket: labels.bucket,
            // What an account spends, and how often CI throttles it: the quota to configure, measured.
            account: attempt.tenant?.account ?? '',
            operation: attempt.operation,
            outcome: outcomeOf(attempt),
          });
          upstreamDuration.observe(labels, attempt.durationMs / 1000);
          if (attempt.outcome === 'retry') upstreamRetries.inc(labels);
        },
      };
    },
    retryBudgetSpent() {
      refusals.inc({ reason: 'retry_budget' });
    },
  };

  const operationLabels = (params: {
    operationName?: string | undefined;
    operationType?: string | undefined;
  }) => ({
    operation_name: operationNames.of(params.operationName),
    operation_type: params.operationType ?? 'unknown',
  });

  const plugin = ({ servePath }: { readonly servePath: boolean }): Plugin => ({
    onPluginInit({ addPlugin }) {
      addPlugin(
        usePrometheus({
          registry,
          endpoint: servePath ? METRICS_PATH : false,
          skipIntrospection: true,
          metrics: {
            graphql_envelop_request_duration: createHistogram({
              registry,
              histogram: {
                name: 'graphql_operation_duration_seconds',
                help: 'Time to execute a GraphQL operation, by operation.',
                labelNames: ['operation_name', 'operation_type'] as const,
                buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
              },
              fillLabelsFn: operationLabels,
            }),
            graphql_envelop_error_result: createCounter({
              registry,
              counter: {
                name: 'graphql_errors_total',
                help: 'Errors in GraphQL results, by operation, extensions.code and phase.',
                labelNames: ['operation_name', 'operation_type', 'code', 'phase'] as const,
              },
              fillLabelsFn: (params) => ({
                ...operationLabels(params),
                code: errorCode(params.error, params.errorPhase),
                phase: params.errorPhase ?? 'unknown',
              }),
            }),
            graphql_yoga_http_duration: createHistogram({
              registry,
              histogram: {
                name: 'graphql_http_request_duration_seconds',
                help: 'Time from a GraphQL HTTP request to its response, by operation and status.',
                labelNames: ['operation_name', 'operation_type', 'method', 'status_code'] as const,
                buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
              },
              fillLabelsFn: (params, context: { request: Request; response: Response }) => ({
                ...operationLabels(params),
                method: context.request.method,
                status_code: String(context.response.status),
              }),
            }),
            // The plugin's other defaults (per-phase timings, a summary, deprecated fields, schema changes) add
            // series without answering a question this service is asked.
            graphql_envelop_request: false,
            graphql_envelop_request_time_summary: false,
            graphql_envelop_phase_parse: false,
            graphql_envelop_phase_validate: false,
            graphql_envelop_phase_context: false,
            graphql_envelop_phase_execute: false,
            graphql_envelop_phase_subscribe: false,
            graphql_envelop_deprecated_field: false,
            graphql_envelop_schema_change: false,
            graphql_envelop_execute_resolver: false,
          },
        }),
      );
    },
    // Refusals made before execution (the rate limit answers from request parsing) show only in the result.
    onResultProcess({ result }) {
      for (const code of errorCodesOf(result)) {
        const reason = REFUSAL_CODES[code];
        if (reason) refusals.inc({ reason });
      }
    },
  });

  return {
    registry,
    upstream,
    plugin,
    workflowRuns: new WorkflowRunMetrics(registry, options.maxWorkflowLabels ?? DEFAULT_MAX_WORKFLOW_LABELS),
    callbackTaken(bucket) {
      callbacks.inc({ bucket });
    },
    quotaRefused() {
      refusals.inc({ reason: 'quota' });
    },
    watchReadCache(cache, bucket) {
      cacheCounts.push(
        { bucket, cache: 'detail', counts: cache.detailCounts },
        { bucket, cache: 'workflow', counts: cache.workflowCounts },
        { bucket, cache: 'job', counts: cache.jobCounts },
      );
    },
    watchLiveUpdates(live) {
      liveSources.push(live);
    },
    listen(port, host) {
      const server = createServer((request, response) => {
        if (
          request.method !== 'GET' ||
          new URL(request.url ?? '/', 'http://metrics').pathname !== METRICS_PATH
        ) {
          response.writeHead(404).end();
          return;
        }
        registry.metrics().then(
          (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
          () => response.writeHead(500).end(),
        );
      });
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve(server));
      });
    },
  };
}

/** graphql-js's parse and validation errors carry no code of their own. */
const PHASE_CODES: Readonly<Record<string, string>> = {
  parse: ErrorCode.GRAPHQL_PARSE_FAILED,
  validate: ErrorCode.GRAPHQL_VALIDATION_FAILED,
};

function errorCode(error: unknown, phase: string | undefined): string {
  return errorCodeOf(error, (phase && PHASE_CODES[phase]) || ErrorCode.INTERNAL_SERVER_ERROR);
}
