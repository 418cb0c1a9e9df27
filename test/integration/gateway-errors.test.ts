import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_DOCUMENT_BYTES } from '../../src/defaults.js';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { DEMO_CREDENTIALS, faults } from '../../src/emulator/server.js';
import { createGateway } from '../../src/http/gateway.js';
import { LiveUpdates } from '../../src/live/live-updates.js';
import type { CiApi } from '../../src/schema/context.js';
import { CursorCodec } from '../../src/schema/cursor.js';
import { PageTokenKnowledge } from '../../src/schema/page-tokens.js';
import { ReferenceBuckets } from '../../src/schema/reference-buckets.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { EMULATED_BUCKET } from '../support/emulator.js';
import { type GatewayFixture, startGateway } from '../support/gateway.js';
import { demoExecutions } from '../support/oracle.js';

const LIST = `query List { workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.single}" }) { edges { node { runId } } } }`;

let fixture: GatewayFixture;

beforeAll(async () => {
  fixture = await startGateway({ client: { timeoutMs: 200 } });
});
beforeEach(() => {
  fixture.emulator.clearScript();
  fixture.emulator.clearRequests();
});
afterAll(() => fixture.close());

describe('upstream failures', () => {
  it.each([
    ['503s', faults.unavailable(), 'UPSTREAM_UNAVAILABLE', { code: 'ServiceUnavailable', status: 503 }],
    ['500s', faults.internalError(), 'UPSTREAM_UNAVAILABLE', { code: 'InternalError', status: 500 }],
    ['429s', faults.throttled(), 'UPSTREAM_THROTTLED', { code: 'SlowDown', status: 429 }],
    [
      '429s asking for a long wait',
      faults.throttled('120'),
      'UPSTREAM_THROTTLED',
      { code: 'SlowDown', status: 429, retryAfterSeconds: 120 },
    ],
    [
      '400s',
      { type: 'error', status: 400, code: 'InvalidArgument' } as const,
      'UPSTREAM_BAD_REQUEST',
      { code: 'InvalidArgument', status: 400 },
    ],
    ['malformed bodies', faults.malformed(), 'UPSTREAM_BAD_RESPONSE', { status: 200 }],
    ['hangs', faults.hang(), 'UPSTREAM_TIMEOUT', {}],
  ])('maps %s to a stable code with the upstream facts', async (_name, fault, code, upstream) => {
    fixture.emulator.script(fault, 10);
    const response = await fixture.query(LIST);
    expect(response.data).toBeNull();
    expect(response.errors).toHaveLength(1);
    const error = response.errors?.[0];
    expect(error?.path).toEqual(['workflowExecutions']);
    expect(error?.extensions?.['code']).toBe(code);
    expect(error?.extensions?.['upstream']).toMatchObject(upstream);
    // A hung upstream never answered, so there is no request id to report.
    const answered = code === 'UPSTREAM_TIMEOUT' ? undefined : fixture.emulator.requests.at(-1)?.requestId;
    expect(((error?.extensions?.['upstream'] ?? {}) as { requestId?: string }).requestId).toBe(answered);
    expect(error?.message).not.toMatch(/Scripted|emulator|undici|ECONN/i);
  });

  it('maps rejected credentials to UPSTREAM_UNAUTHORIZED', async () => {
    const wrong = await startGateway({
      client: { credentials: { ...DEMO_CREDENTIALS, secretKey: 'wrong-secret-key-0123456789' } },
    });
    try {
      const response = await wrong.query(LIST);
      expect(response.errors?.[0]?.extensions).toEqual({
        code: 'UPSTREAM_UNAUTHORIZED',
        upstream: {
          code: 'SignatureDoesNotMatch',
          status: 403,
          requestId: wrong.emulator.requests[0]?.requestId,
        },
      });
      const exposed = JSON.stringify(response) + wrong.rawLog();
      expect(exposed).not.toContain('wrong-secret-key-0123456789');
      expect(exposed).not.toMatch(/q-signature|q-sign-algorithm|authorization/i);
    } finally {
      await wrong.close();
    }
  });

  it('masks everything unexpected', async () => {
    const secretish = 'connect ECONNREFUSED 10.0.0.1 with key sk-internal-123';
    const unused = async () => {
      throw new Error('unused');
    };
    const broken: CiApi = {
      listWorkflowExecutions: async () => {
        throw new Error(secretish);
      },
      getWorkflowExecution: async () => {
        throw new TypeError('Cannot read properties of undefined (reading "tasks")');
      },
      getWorkflows: unused,
      listWorkflows: unused,
      triggerWorkflow: unused,
      setWorkflowState: unused,
      getMediaJobs: unused,
      startBatchTrigger: unused,
      getBatchTrigger: unused,
      listBatchTriggers: unused,
      cancelBatchTrigger: unused,
      describeMediaBucket: unused,
    };
    const lines: string[] = [];
    const served = {
      bucketId: EMULATED_BUCKET,
      region: 'ap-guangzhou',
      ci: broken,
      live: new LiveUpdates({ bucketId: EMULATED_BUCKET, ci: broken, pollIntervalMs: 0 }),
    };
    const gateway = createGateway({
      services: {
        buckets: {
          all: [served],
          defaultBucket: EMULATED_BUCKET,
          get: (id) => (id === served.bucketId ? served : undefined),
        },
        referenceBuckets: new ReferenceBuckets(),
        cursors: new CursorCodec('x'.repeat(32)),
        maxPageSize: 100,
        upstreamConcurrency: 2,
        maxUpstreamCallsPerRequest: 10,
        pageTokens: new PageTokenKnowledge(),
        jobIdsPerLookup: 10,
      },
      requestTimeoutMs: 30_000,
      maxRequestBytes: 1024 * 1024,
      maxDocumentBytes: DEFAULT_MAX_DOCUMENT_BYTES,
      logger: createLogger(
        'info',
        new Writable({ write: (chunk, _e, done) => done(void lines.push(String(chunk))) }),
      ),
      corsOrigins: [],
      isReady: async () => true,
    });
    for (const query of [LIST, `{ workflowExecution(runId: "i${'1'.repeat(32)}") { runId } }`]) {
      const response = await gateway.fetch('http://gateway/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query }),
      });
      const body = (await response.json()) as {
        errors: Array<{ message: string; extensions: Record<string, unknown> }>;
      };
      expect(body.errors[0]?.message).toBe('Unexpected error.');
      expect(body.errors[0]?.extensions['code']).toBe('INTERNAL_SERVER_ERROR');
      expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|sk-internal|Cannot read|stack/);
    }
  });
});

describe('single executions', () => {
  const run = demoExecutions().find((e) => e.state === 'Failed');
  if (!run) throw new Error('demo data has no failed run');

  it('reads one execution with its tasks, loading each run once per request however often it is asked for', async () => {
    const response = await fixture.query<
      Record<string, { runId: string; tasks: Array<{ type: string; state: string; message: string | null }> }>
    >(
      `query Twice($runId: ID!) {
        a: workflowExecution(runId: $runId) { runId workflowName state tasks { type state message } }
        b: workflowExecution(runId: $runId) { runId objectKey tasks { type } }
      }`,
      { runId: run.runId },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data?.['a']).toMatchObject({
      runId: run.runId,
      workflowName: 'transcode-and-snapshot',
      state: 'FAILED',
    });
    expect(response.data?.['a']?.tasks.map((t) => [t.type, t.state])).toEqual([
      ['Snapshot', 'Success'],
      ['Transcode', 'Failed'],
    ]);
    expect(response.data?.['b']?.runId).toBe(run.runId);
    expect(fixture.emulator.requests.map((r) => r.path)).toEqual([`/workflowexecution/${run.runId}`]);
  });

  it('is null, without an error, for a run the upstream does not know', async () => {
    const response = await fixture.query(`{ workflowExecution(runId: "i${'f'.repeat(32)}") { runId } }`);
    expect(response).toEqual({ status: 200, data: { workflowExecution: null } });
  });

  it.each(['../workflow', '..', '', 'I1A2382E704CC1E9F20D1A2A8C5E41F7B', `i${'0'.repeat(31)}/`])(
    'rejects %j, which CI would never issue as a run id, before any upstream call',
    async (runId) => {
      const response = await fixture.query(
        'query R($runId: ID!) { workflowExecution(runId: $runId) { runId } }',
        {
          runId,
        },
      );
      expect(response.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', argumentName: 'runId' });
      expect(fixture.emulator.requests).toHaveLength(0);
    },
  );

  it('rejects a workflow id CI would never issue, before any upstream call', async () => {
    const response = await fixture.query('{ workflow(workflowId: "w,x") { name } }');
    expect(response.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', argumentName: 'workflowId' });
    expect(fixture.emulator.requests).toHaveLength(0);
  });

  it('loads tasks and workflow names only when asked for, batched per run', async () => {
    const page = `query P($withTasks: Boolean!) {
      workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }, first: 5) {
        edges { node { runId ...@include(if: $withTasks) { workflowName tasks { type } } } }
      }
    }`;
    await fixture.query(page, { withTasks: false });
    expect(fixture.emulator.requests.map((r) => r.path)).toEqual(['/workflowexecution']);
    fixture.emulator.clearRequests();
    await fixture.query(page, { withTasks: true });
    const paths = fixture.emulator.requests.map((r) => r.path);
    expect(paths.filter((p) => p === '/workflowexecution')).toHaveLength(1);
    expect(paths.filter((p) => p.startsWith('/workflowexecution/'))).toHaveLength(5);
  });
});

describe('upstream call budget', () => {
  it('stops a request at its budget of upstream calls, however the query multiplies them', async () => {
    const frugal = await startGateway({ maxUpstreamCallsPerRequest: 5 });
    try {
      const response = await frugal.query(`{
        a: workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }, first: 10) {
          edges { node { runId tasks { type } } }
        }
      }`);
      // One list call and four detail calls fit; the other six runs' tasks are refused, not fetched (and, tasks
      // being non-null, the refusal nulls the page).
      expect(frugal.emulator.requests).toHaveLength(5);
      const codes = (response.errors ?? []).map((e) => e.extensions?.['code']);
      expect(codes.length).toBeGreaterThan(0);
      expect(new Set(codes)).toEqual(new Set(['UPSTREAM_CALL_BUDGET_EXCEEDED']));
      expect(response.data).toBeNull();
      expect(response.errors?.[0]?.message).toMatch(/more than 5 calls/);
    } finally {
      await frugal.close();
    }
  });

  it('is per request: the next request has a full budget', async () => {
    const frugal = await startGateway({ maxUpstreamCallsPerRequest: 2 });
    try {
      for (let i = 0; i < 3; i += 1) {
        const response = await frugal.query(
          `{ workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.single}" }) { edges { node { tasks { type } } } } }`,
        );
        expect(response.errors).toBeUndefined();
      }
    } finally {
      await frugal.close();
    }
  });
});

describe('logs', () => {
  it('writes one structured line per request with operation, duration and upstream request ids', async () => {
    const before = fixture.logLines.length;
    await fixture.query(LIST, undefined, { 'x-request-id': 'req-abc-123' });
    const lines = fixture.logLines.slice(before).filter((line) => line['msg'] === 'graphql request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      requestId: 'req-abc-123',
      operation: 'query List',
      status: 200,
      upstreamCalls: 1,
      upstream: [
        {
          operation: 'ListWorkflowExecutions',
          status: 200,
          requestId: fixture.emulator.requests[0]?.requestId,
        },
      ],
    });
    expect(lines[0]?.['durationMs']).toEqual(expect.any(Number));
  });

  it('never contain a secret or a signature', async () => {
    fixture.emulator.script(faults.unavailable(), 2);
    await fixture.query(LIST);
    const log = fixture.rawLog();
    expect(log).not.toContain(DEMO_CREDENTIALS.secretKey);
    expect(log).not.toMatch(/q-signature|q-key-time|authorization/i);
  });
});
