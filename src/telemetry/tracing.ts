/**
 * OpenTelemetry traces, off unless an OTLP endpoint is configured.
 *
 * - `startTracing` loads OpenTelemetry's own SDK (only then: a gateway without traces never carries it) and
 *   registers it globally. The SDK reads the standard variables itself: `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT`,
 *   `…_HEADERS`, `OTEL_TRACES_SAMPLER(_ARG)`, `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`.
 * - `useTracing` continues the caller's W3C `traceparent`: a server span per GraphQL HTTP request, a span per
 *   operation under it, and everything the request does runs inside them, so log lines carry their ids.
 * - `upstreamSpans` is a transport observer: one client span per CI attempt, whose `traceparent` goes out with it.
 *
 * Everything but `startTracing` uses only the API package, which is inert until an SDK is registered.
 */
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from '@opentelemetry/api';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { outcomeOf, type UpstreamObserver } from '../ci/client.js';
import type { OtlpProtocol } from '../defaults.js';
import { errorCodesOf } from '../error-codes.js';

const TRACER_NAME = 'ci-workflow-gateway';
export const DEFAULT_SERVICE_NAME = 'ci-workflow-gateway';

export interface TracingSetup {
  readonly protocol: OtlpProtocol;
  /** Used unless `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES` names the service. */
  readonly serviceVersion?: string | undefined;
}

export interface Tracing {
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

/** Registers the SDK with a batching OTLP/HTTP exporter. Call once, before serving. */
export async function startTracing(setup: TracingSetup): Promise<Tracing> {
  const sdk = await import('./otel-sdk.js');
  const resource = sdk
    .defaultResource()
    .merge(
      sdk.resourceFromAttributes({
        'service.name': DEFAULT_SERVICE_NAME,
        ...(setup.serviceVersion ? { 'service.version': setup.serviceVersion } : {}),
      }),
    )
    // Last, so the standard variables win.
    .merge(sdk.detectResources({ detectors: [sdk.envDetector] }));
  const Exporter = setup.protocol === 'http/json' ? sdk.OtlpJsonTraceExporter : sdk.OtlpProtobufTraceExporter;
  const provider = new sdk.NodeTracerProvider({
    resource,
    spanProcessors: [new sdk.BatchSpanProcessor(new Exporter())],
  });
  // Installs the async-context manager and the W3C trace-context propagator.
  provider.register();
  return { shutdown: () => provider.shutdown() };
}

const headerGetter: TextMapGetter<Headers> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key) ?? undefined,
};

/** The yoga plugin: server and operation spans, with the request's work running inside them. */
export function useTracing(options: { readonly graphqlPath: string }): Plugin {
  const tracer = trace.getTracer(TRACER_NAME);
  const serverSpans = new WeakMap<Request, Span>();
  return {
    instrumentation: {
      request({ request }, wrapped) {
        const path = new URL(request.url).pathname;
        // Probes and scrapes are not worth a trace each.
        if (path !== options.graphqlPath) return wrapped();
        const parent = propagation.extract(ROOT_CONTEXT, request.headers, headerGetter);
        const span = tracer.startSpan(
          `${request.method} ${path}`,
          {
            kind: SpanKind.SERVER,
            attributes: { 'http.request.method': request.method, 'url.path': path, 'http.route': path },
          },
          parent,
        );
        serverSpans.set(request, span);
        return context.with(trace.setSpan(parent, span), wrapped);
      },
    },
    onExecute({ args, executeFn, setExecuteFn }) {
      const operation = getOperationAST(args.document, args.operationName);
      const type = operation?.operation ?? 'query';
      const name = operation?.name?.value;
      const span = tracer.startSpan(name ? `${type} ${name}` : type, {
        kind: SpanKind.INTERNAL,
        attributes: {
          'graphql.operation.type': type,
          ...(name ? { 'graphql.operation.name': name } : {}),
        },
      });
      const inside: Context = trace.setSpan(context.active(), span);
      setExecuteFn((executionArgs) => context.with(inside, () => executeFn(executionArgs)));
      return {
        onExecuteDone({ result }) {
          // A streamed result (a subscription, `@defer`) has its errors in its parts, which are not read here.
          const codes = [...new Set(errorCodesOf(result))];
          if (codes.length > 0) {
            span.setAttribute('graphql.error.codes', codes);
            span.setStatus({ code: SpanStatusCode.ERROR, message: codes.join(', ') });
          }
          span.end();
        },
      };
    },
    onResponse({ request, response }) {
      const span = serverSpans.get(request);
      if (!span) return;
      serverSpans.delete(request);
      span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };
}

/** One client span per CI attempt, under whatever span is active, with its `traceparent` sent upstream. */
export function upstreamSpans(): UpstreamObserver {
  const tracer = trace.getTracer(TRACER_NAME);
  return {
    attemptStarted(start) {
      const span = tracer.startSpan(`CI ${start.operation}`, {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': start.method,
          // The path alone: the query is never recorded.
          'url.path': start.path,
          'server.address': start.serverAddress,
          'server.port': start.serverPort,
          'ci.operation': start.operation,
          'ci.attempt': start.attempt,
          ...(start.tenant ? { 'ci.bucket': start.tenant.bucket, 'ci.account': start.tenant.account } : {}),
          'http.request.resend_count': start.attempt - 1,
        },
      });
      const headers: Record<string, string> = {};
      propagation.inject(trace.setSpan(context.active(), span), headers);
      return {
        headers,
        ended(attempt) {
          const outcome = outcomeOf(attempt);
          span.setAttribute('ci.outcome', outcome);
          if (attempt.status !== undefined) span.setAttribute('http.response.status_code', attempt.status);
          if (attempt.requestId !== undefined) span.setAttribute('ci.request_id', attempt.requestId);
          if (outcome !== 'ok') {
            span.setAttribute('error.type', outcome);
            span.setStatus({ code: SpanStatusCode.ERROR, message: attempt.errorCode ?? outcome });
          }
          span.end();
        },
      };
    },
  };
}

/** The active span's ids, for log lines: empty outside a sampled or propagated trace. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return trace.isSpanContextValid(span.spanContext()) ? { trace_id: traceId, span_id: spanId } : {};
}
