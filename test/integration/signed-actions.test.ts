/**
 * The console's calls as they leave the transport, signed exactly as the official SDK signs them: a trigger (POST
 * with an empty body), a batch trigger (POST with an XML body) and a pause (PUT with the bare flag `?paused`).
 * A capturing server records what arrives; the SDK's `getAuthorization` recomputes the signature from it.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CiClient } from '../../src/ci/client.js';
import { assume, jobNameRule, objectKeyRule, objectPrefixRule, workflowIdRule } from '../../src/ci/inputs.js';
import { DEMO_CREDENTIALS } from '../../src/emulator/server.js';
import { EMULATED_BUCKET } from '../support/emulator.js';

const require = createRequire(import.meta.url);
const COS = require('cos-nodejs-sdk-v5') as {
  getAuthorization(options: Record<string, unknown>): string;
};

interface Captured {
  readonly method: string;
  readonly rawUrl: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

const captured: Captured[] = [];
const answers: string[] = [];
const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    captured.push({
      method: request.method ?? '',
      rawUrl: request.url ?? '',
      headers: request.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    });
    response.writeHead(200, { 'content-type': 'application/xml' }).end(answers.shift() ?? '');
  });
});
let client: CiClient;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new CiClient({
    bucketId: EMULATED_BUCKET,
    endpoint: `http://127.0.0.1:${port}`,
    credentials: DEMO_CREDENTIALS,
  });
});
afterAll(async () => {
  await client.close();
  await new Promise((resolve) => server.close(resolve));
});

/** What the SDK computes for the request as it arrived, with the header list and key time the request names. */
function sdkAuthorization(request: Captured): string {
  const authorization = String(request.headers.authorization);
  const field = (name: string) => new RegExp(`(?:^|&)${name}=([^&]*)`).exec(authorization)?.[1] ?? '';
  const signedHeaders = field('q-header-list').split(';').filter(Boolean);
  const url = new URL(request.rawUrl, 'http://placeholder');
  return COS.getAuthorization({
    SecretId: DEMO_CREDENTIALS.secretId,
    SecretKey: DEMO_CREDENTIALS.secretKey,
    Method: request.method,
    Pathname: decodeURIComponent(url.pathname),
    Query: Object.fromEntries(url.searchParams),
    Headers: Object.fromEntries(signedHeaders.map((name) => [name, String(request.headers[name])])),
    KeyTime: field('q-key-time'),
  });
}

const WORKFLOW = assume(workflowIdRule, 'w5f1e0c8a9b2d4e6f8a0b1c2d3e4f5a6b');

describe('signed console calls', () => {
  it('signs a trigger: POST, empty body, content type and length signed, object key with CJK and spaces', async () => {
    captured.length = 0;
    answers.push(
      '<Response><RequestId>r1</RequestId><InstanceId>i0123456789abcdef0123456789abcdef</InstanceId></Response>',
    );
    const run = await client.triggerWorkflow({
      workflowId: WORKFLOW,
      objectKey: assume(objectKeyRule, 'videos/开幕式 主会场+1.mp4'),
      name: assume(jobNameRule, '重跑-1'),
    });
    expect(run.runId).toBe('i0123456789abcdef0123456789abcdef');
    const [request] = captured as [Captured];
    expect(request.method).toBe('POST');
    expect(request.body).toBe('');
    expect(request.headers['content-length']).toBe('0');
    expect(String(request.headers.authorization)).toContain('q-header-list=content-length;content-type;host');
    expect(request.headers.authorization).toBe(sdkAuthorization(request));
  });

  it('signs a batch trigger: POST with an XML body, its length signed', async () => {
    captured.length = 0;
    answers.push(
      '<Response><RequestId>r2</RequestId><JobsDetail><JobId>b0123456789abcdef0123456789abcdef</JobId><State>Submitted</State></JobsDetail></Response>',
    );
    const job = await client.startBatchTrigger({
      workflowId: WORKFLOW,
      name: assume(jobNameRule, 'nightly'),
      source: { kind: 'prefix', prefix: assume(objectPrefixRule, 'videos/2026/') },
      createdAfter: new Date('2026-11-01T00:00:00Z'),
    });
    expect(job).toMatchObject({ jobId: 'b0123456789abcdef0123456789abcdef', state: 'Submitted' });
    const [request] = captured as [Captured];
    expect(request.body).toBe(
      '<Request><Name>nightly</Name><Type>Workflow</Type><Input><Prefix>videos/2026/</Prefix></Input>' +
        '<Operation><TimeInterval><Start>2026-11-01T00:00:00+0000</Start></TimeInterval>' +
        `<WorkflowIds>${WORKFLOW}</WorkflowIds></Operation></Request>`,
    );
    expect(request.headers['content-length']).toBe(String(Buffer.byteLength(request.body)));
    expect(request.headers.authorization).toBe(sdkAuthorization(request));
  });

  it('signs a pause: PUT with the bare flag ?paused, signed as an empty parameter', async () => {
    captured.length = 0;
    await client.setWorkflowState(WORKFLOW, 'paused');
    await client.setWorkflowState(WORKFLOW, 'active');
    const [pause, activate] = captured as [Captured, Captured];
    expect(pause.method).toBe('PUT');
    expect(pause.rawUrl).toBe(`/workflow/${WORKFLOW}?paused`);
    expect(activate.rawUrl).toBe(`/workflow/${WORKFLOW}?active`);
    expect(String(pause.headers.authorization)).toContain('q-url-param-list=paused');
    expect(pause.headers.authorization).toBe(sdkAuthorization(pause));
    expect(activate.headers.authorization).toBe(sdkAuthorization(activate));
  });
});
