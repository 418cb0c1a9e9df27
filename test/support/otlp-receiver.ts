/**
 * An OTLP/HTTP trace receiver on 127.0.0.1: keeps every export it is sent. JSON bodies are decoded into spans;
 * protobuf bodies are kept raw (the test checks ids in them as bytes).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly kind: number;
  readonly attributes: Record<string, unknown>;
  readonly status: { code?: number; message?: string };
  readonly resource: Record<string, unknown>;
}

export interface OtlpReceiver {
  /** The traces endpoint, for OTEL_EXPORTER_OTLP_TRACES_ENDPOINT. */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  readonly rawBodies: Array<{ contentType: string; body: Buffer }>;
  close(): Promise<void>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}
type KeyValues = Array<{ key: string; value: AnyValue }> | undefined;

const attributeValue = (value: AnyValue): unknown =>
  value.stringValue ??
  (value.intValue === undefined ? undefined : Number(value.intValue)) ??
  value.boolValue ??
  value.doubleValue ??
  value.arrayValue?.values?.map(attributeValue);
const record = (pairs: KeyValues) =>
  Object.fromEntries((pairs ?? []).map(({ key, value }) => [key, attributeValue(value)]));

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const rawBodies: Array<{ contentType: string; body: Buffer }> = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const contentType = request.headers['content-type'] ?? '';
      rawBodies.push({ contentType, body });
      if (request.url !== '/v1/traces' || request.method !== 'POST') {
        response.writeHead(404).end();
        return;
      }
      if (contentType.startsWith('application/json')) {
        const exported = JSON.parse(body.toString('utf8')) as {
          resourceSpans?: Array<{
            resource?: { attributes?: KeyValues };
            scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }>;
          }>;
        };
        for (const resourceSpans of exported.resourceSpans ?? []) {
          const resource = record(resourceSpans.resource?.attributes);
          for (const scope of resourceSpans.scopeSpans ?? []) {
            for (const span of scope.spans ?? []) {
              spans.push({
                traceId: String(span['traceId']),
                spanId: String(span['spanId']),
                parentSpanId: String(span['parentSpanId'] ?? ''),
                name: String(span['name']),
                kind: Number(span['kind']),
                attributes: record(span['attributes'] as KeyValues),
                status: (span['status'] ?? {}) as ReceivedSpan['status'],
                resource,
              });
            }
          }
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      // An empty ExportTraceServiceResponse.
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    rawBodies,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
