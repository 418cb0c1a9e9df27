/**
 * A static CI upstream for load runs: emulator-shaped XML bodies, built once and then served from memory without
 * checking signatures, so the upstream costs next to nothing and what is measured is the gateway and its baseline.
 * It counts the requests it answers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rfc3339Time, spacedTime, xmlDocument } from '../../src/emulator/xml-writer.js';

export const LOAD_WORKFLOW_ID = 'w5f1e0c8a9b2d4e6f8a0b1c2d3e4f5a6b';
/** Enough runs for the largest page a load run asks for. */
const RUN_COUNT = 1_200;
const START = Date.parse('2026-11-01T00:00:00Z');

const runs = Array.from({ length: RUN_COUNT }, (_, index) => ({
  runId: `i${index.toString(16).padStart(32, '0')}`,
  objectKey: `videos/2026/clip ${index}.mp4`,
  createdAt: new Date(START - index * 60_000),
  state: index % 7 === 3 ? 'Failed' : 'Success',
}));
const byRunId = new Map(runs.map((run, index) => [run.runId, index]));

const pages = new Map<string, string>();
function page(offset: number, size: number): string {
  const key = `${offset}:${size}`;
  let body = pages.get(key);
  if (body === undefined) {
    const items = runs.slice(offset, offset + size);
    const end = offset + items.length;
    body = xmlDocument('Response', {
      RequestId: 'static',
      WorkflowExecutionList: items.map((run) => ({
        RunId: run.runId,
        WorkflowId: LOAD_WORKFLOW_ID,
        Object: run.objectKey,
        CreateTime: rfc3339Time(run.createdAt),
        State: run.state,
      })),
      // Offsets with a leading zero, like the real service's numeric-looking tokens.
      NextToken: end < runs.length ? `0${end}` : '',
    });
    pages.set(key, body);
  }
  return body;
}

const details = new Map<string, string>();
function detail(runId: string): string | undefined {
  const index = byRunId.get(runId);
  if (index === undefined) return undefined;
  let body = details.get(runId);
  if (body === undefined) {
    const run = runs[index] as (typeof runs)[number];
    const at = (seconds: number) => new Date(run.createdAt.getTime() + seconds * 1000);
    body = xmlDocument('Response', {
      RequestId: 'static',
      WorkflowExecution: {
        RunId: run.runId,
        WorkflowId: LOAD_WORKFLOW_ID,
        Name: 'transcode-and-snapshot',
        Object: run.objectKey,
        CreateTime: rfc3339Time(run.createdAt),
        State: run.state,
        Tasks: ['Snapshot', 'Transcode'].map((type, order) => ({
          Type: type,
          State: run.state,
          JobId: `j${index.toString(16).padStart(31, '0')}${order}`,
          Name: `${type}_${1_581_665_960_536 + order}`,
          CreateTime: spacedTime(at(order * 30)),
          StartTime: spacedTime(at(order * 30 + 2)),
          EndTime: spacedTime(at(order * 30 + 25)),
          Code: run.state === 'Success' ? 'Success' : 'InternalError',
          Message: run.state === 'Success' ? '' : 'transcode failed',
          TemplateId: 't0a1b2c3d4e5f60718293a4b5c6d7e8f9',
          TemplateName: 'h264-720p',
        })),
      },
    });
    details.set(runId, body);
  }
  return body;
}

export interface StaticUpstream {
  readonly url: string;
  readonly requests: number;
  close(): Promise<void>;
}

export async function startStaticUpstream(port = 0): Promise<StaticUpstream> {
  let requests = 0;
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://upstream');
    if (url.pathname === '/__requests') {
      response.end(String(requests));
      return;
    }
    requests += 1;
    let body: string | undefined;
    if (url.pathname === '/workflowexecution') {
      const token = url.searchParams.get('nextToken');
      body = page(token ? Number(token) : 0, Number(url.searchParams.get('size') ?? 10));
    } else if (url.pathname.startsWith('/workflowexecution/')) {
      body = detail(decodeURIComponent(url.pathname.slice('/workflowexecution/'.length)));
    } else if (url.pathname === '/workflow') {
      body = xmlDocument('Response', { RequestId: 'static', TotalCount: '0', MediaWorkflowList: [] });
    }
    const status = body === undefined ? 404 : 200;
    body ??= xmlDocument('Error', { Code: 'ResourceNotFound', Message: 'not here', RequestId: 'static' });
    response.writeHead(status, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get requests() {
      return requests;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Run as a process of its own (the load runner starts it): `node static-upstream.js <port>`. */
if (process.argv[1]?.endsWith('static-upstream.js')) {
  const upstream = await startStaticUpstream(Number(process.argv[2] ?? 0));
  process.stdout.write(`${JSON.stringify({ msg: 'listening', url: upstream.url })}\n`);
}
