/**
 * The OpenTelemetry SDK, gathered in one module that `tracing.ts` imports only when traces are exported, so a
 * gateway without tracing never loads it. Named re-exports rather than a dynamic `import()` of each package: the
 * packages are CommonJS, and a bundler resolves named bindings of CommonJS reliably, a dynamic import's namespace
 * not always.
 */
export { OTLPTraceExporter as OtlpJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
export { OTLPTraceExporter as OtlpProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
export {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
export { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
export { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
