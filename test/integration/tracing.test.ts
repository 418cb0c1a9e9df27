/**
 * Traces end to end: the SDK registered as production registers it, exporting OTLP/HTTP JSON to a receiver on
 * 127.0.0.1. A caller's `traceparent` is continued; the operation span sits under the server span, one client
 * span per CI attempt under the operation, and each CI request carried its own span's `traceparent`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { faults } from '../../src/emulator/server.js';
import { startTracing, type Tracing, upstreamSpans } from '../../src/telemetry/tracing.js';
import { closeAfterEach, startGateway } from '../support/gateway.js';
import { type OtlpReceiver, startOtlpReceiver } from '../support/otlp-receiver.js';

const track = closeAfterEach();
let receiver: OtlpReceiver;
let tracing: Tracing;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  // What the SDK reads, as a deployment would set it.
  process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] = receiver.url;
  process.env['OTEL_SERVICE_NAME'] = 'gateway-under-test';
  tracing = await startTracing({ protocol: 'http/json' });
});

afterAll(async () => {
  await tracing.shutdown();
  await receiver.close();
  delete process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];
  delete process.env['OTEL_SERVICE_NAME'];
});

const CALLER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';

/** Exports whatever is buffered, then the spans of one trace. */
async function spansOf(traceId: string) {
  await tracing.shutdown().catch(() => {});
  return receiver.spans.filter((span) => span.traceId === traceId);
}

describe('tracing', () => {
  it('continues the caller trace down to every CI attempt, and stamps log lines with its ids', async () => {
    const fixture = track(
      await startGateway({ client: { observers: [upstreamSpans()] }, gateway: { tracing: true } }),
    );
    fixture.emulator.clearRequests();
    fixture.emulator.script(faults.unavailable(), 1, '/workflowexecution/');
    const result = await fixture.query(
      `query TracedRuns { workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }, first: 2) {
        edges { node { runId tasks { type } } } } }`,
      undefined,
      { traceparent: `00-${CALLER_TRACE_ID}-${CALLER_SPAN_ID}-01` },
    );
    expect(result.errors).toBeUndefined();

    const spans = await spansOf(CALLER_TRACE_ID);
    const server = spans.find((span) => span.name === 'POST /graphql');
    const operation = spans.find((span) => span.name === 'query TracedRuns');
    const clients = spans.filter((span) => span.name.startsWith('CI '));
    expect(server?.parentSpanId).toBe(CALLER_SPAN_ID);
    expect(server?.kind).toBe(2); // SERVER
    expect(server?.attributes['http.response.status_code']).toBe(200);
    expect(server?.resource['service.name']).toBe('gateway-under-test');
    expect(operation?.parentSpanId).toBe(server?.spanId);
    expect(operation?.attributes['graphql.operation.name']).toBe('TracedRuns');

    // One client span per request the emulator received: one list, two details, one retry.
    const received = fixture.emulator.requests;
    expect(received).toHaveLength(4);
    expect(clients).toHaveLength(received.length);
    for (const client of clients) {
      expect(client.kind).toBe(3); // CLIENT
      expect(client.parentSpanId).toBe(operation?.spanId);
      expect(client.attributes['url.path']).toMatch(/^\/workflowexecution/);
      expect(JSON.stringify(client.attributes)).not.toContain('workflowId=');
    }
    // Each CI request carried the traceparent of its own client span.
    for (const request of received) {
      const [, traceId, spanId] = request.traceparent?.split('-') ?? [];
      expect(traceId).toBe(CALLER_TRACE_ID);
      const span = clients.find((client) => client.spanId === spanId);
      expect(span?.attributes['ci.request_id']).toBe(request.requestId);
      expect(span?.attributes['http.response.status_code']).toBe(request.status);
    }
    const failed = clients.filter((client) => client.attributes['ci.outcome'] === 'unavailable');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.status.code).toBe(2); // ERROR
    expect(clients.filter((client) => client.attributes['ci.attempt'] === 2)).toHaveLength(1);

    // The request's log line names the trace.
    const requestLog = fixture.logLines.find((line) => line['msg'] === 'graphql request');
    expect(requestLog?.['trace_id']).toBe(CALLER_TRACE_ID);
    expect(requestLog?.['span_id']).toBe(server?.spanId);
  });
});
