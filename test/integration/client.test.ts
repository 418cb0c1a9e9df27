import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CiClient, UpstreamAttempt } from '../../src/ci/client.js';
import { CiError, type CiErrorKind } from '../../src/ci/errors.js';
import { assume, batchJobIdRule, objectKeyRule, runIdRule, workflowIdRule } from '../../src/ci/inputs.js';
import type { ExecutionState, WorkflowExecutionSummary } from '../../src/ci/types.js';
import { DEMO_WORKFLOW_IDS, type DemoExecution } from '../../src/emulator/demo-data.js';
import { DEMO_CREDENTIALS, faults } from '../../src/emulator/server.js';
import { type EmulatorFixture, startEmulator } from '../support/emulator.js';
import { demoExecutions, expectedRunIds } from '../support/oracle.js';

const allLarge = demoExecutions();

async function walk(
  client: CiClient,
  params: Omit<Parameters<CiClient['listWorkflowExecutions']>[0], 'nextToken'>,
) {
  const seen: WorkflowExecutionSummary[] = [];
  const tokens: string[] = [];
  let nextToken: string | undefined;
  for (let guard = 0; guard < 1_000; guard += 1) {
    const page = await client.listWorkflowExecutions({ ...params, nextToken });
    seen.push(...page.executions);
    if (page.nextToken === null) return { seen, tokens };
    tokens.push(page.nextToken);
    nextToken = page.nextToken;
  }
  throw new Error('paging never ended');
}

async function failure(promise: Promise<unknown>): Promise<CiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CiError);
    return error as CiError;
  }
  throw new Error('expected the call to fail');
}

describe('CiClient against the emulator', () => {
  let fixture: EmulatorFixture;
  let client: CiClient;

  beforeAll(async () => {
    fixture = await startEmulator();
    client = fixture.client();
  });
  let verifiedRequests = 0;
  afterEach(() => {
    fixture.emulator.clearScript();
    // Every request our client made carried a signature the emulator accepted.
    expect(fixture.emulator.requests.filter((r) => !r.signatureVerified)).toEqual([]);
    verifiedRequests += fixture.emulator.requests.length;
    fixture.emulator.clearRequests();
  });
  afterAll(async () => {
    expect(verifiedRequests).toBeGreaterThan(50);
    await fixture.close();
  });

  describe('listing', () => {
    it('reads a workflow with no executions as an empty last page', async () => {
      const page = await client.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.empty });
      expect(page).toMatchObject({ executions: [], nextToken: null });
      expect(page.requestId).toMatch(/\S/);
    });

    it('reads a workflow with exactly one execution', async () => {
      const page = await client.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.single, size: 100 });
      expect(page.executions).toHaveLength(1);
      expect(page.executions[0]).toMatchObject({ workflowId: DEMO_WORKFLOW_IDS.single, state: 'Success' });
      expect(page.nextToken).toBeNull();
    });

    it('reads a full page of many, with the upstream default size of 10', async () => {
      expect(
        (await client.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.large })).executions,
      ).toHaveLength(10);
      const page = await client.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.large, size: 100 });
      expect(page.executions.map((e) => e.runId)).toEqual(expectedRunIds().slice(0, 100));
      expect(page.nextToken).toMatch(/^0\d+$/);
    });

    it('pages to the end: every execution once, in order, with string tokens kept intact', async () => {
      const { seen, tokens } = await walk(client, { workflowId: DEMO_WORKFLOW_IDS.large, size: 100 });
      expect(seen.map((e) => e.runId)).toEqual(expectedRunIds());
      expect(tokens).toHaveLength(2);
      for (const token of tokens) expect(token.startsWith('0')).toBe(true);
    });

    it('pages with small pages too', async () => {
      const { seen } = await walk(client, { workflowId: DEMO_WORKFLOW_IDS.large, size: 7 });
      expect(seen.map((e) => e.runId)).toEqual(expectedRunIds());
    });

    it.each<ExecutionState[]>([['Running'], ['Success', 'Failed'], ['Pause', 'Cancel']])(
      'filters by states %j',
      async (...states) => {
        const { seen } = await walk(client, { workflowId: DEMO_WORKFLOW_IDS.large, size: 100, states });
        expect(seen.length).toBeGreaterThan(0);
        expect(seen.map((e) => e.runId)).toEqual(expectedRunIds((e) => states.includes(e.state)));
      },
    );

    it('filters by an object key holding CJK, spaces, + and /', async () => {
      const objectKey = assume(objectKeyRule, 'uploads/a+b/clip 01.mov');
      const { seen } = await walk(client, { workflowId: DEMO_WORKFLOW_IDS.large, size: 100, objectKey });
      expect(seen.length).toBeGreaterThan(10);
      expect(seen.map((e) => e.runId)).toEqual(expectedRunIds((e) => e.objectKey === objectKey));
      const cjk = assume(objectKeyRule, 'raw/猫 & 狗/第1集.mkv');
      const { seen: cjkSeen } = await walk(client, {
        workflowId: DEMO_WORKFLOW_IDS.large,
        size: 100,
        objectKey: cjk,
      });
      expect(cjkSeen.map((e) => e.runId)).toEqual(expectedRunIds((e) => e.objectKey === cjk));
      expect(cjkSeen[0]?.objectKey).toBe(cjk);
    });

    it('filters by creation time, both bounds inclusive, whatever offset they are given in', async () => {
      const sorted = expectedRunIds(undefined, 'Asc').map(
        (id) => allLarge.find((e) => e.runId === id) as DemoExecution,
      );
      const from = sorted[50]?.createdAt as Date;
      const to = sorted[80]?.createdAt as Date;
      const { seen } = await walk(client, {
        workflowId: DEMO_WORKFLOW_IDS.large,
        size: 100,
        createdAfter: from,
        createdBefore: to,
        order: 'Asc',
      });
      const expected = expectedRunIds((e) => e.createdAt >= from && e.createdAt <= to, 'Asc');
      expect(seen.map((e) => e.runId)).toEqual(expected);
      expect(seen[0]?.createdAt).toEqual(from);
      expect(seen.at(-1)?.createdAt).toEqual(to);
    });

    it('filters by batch job id', async () => {
      const jobId = assume(batchJobIdRule, allLarge.find((e) => e.batchJobId)?.batchJobId as string);
      const { seen } = await walk(client, {
        workflowId: DEMO_WORKFLOW_IDS.large,
        size: 100,
        batchJobId: jobId,
      });
      expect(seen.length).toBeGreaterThan(1);
      expect(seen.map((e) => e.runId)).toEqual(expectedRunIds((e) => e.batchJobId === jobId));
    });

    it('orders ascending and descending', async () => {
      const asc = await walk(client, { workflowId: DEMO_WORKFLOW_IDS.large, size: 100, order: 'Asc' });
      const desc = await walk(client, { workflowId: DEMO_WORKFLOW_IDS.large, size: 100, order: 'Desc' });
      expect(asc.seen.map((e) => e.runId)).toEqual(expectedRunIds(undefined, 'Asc'));
      expect(desc.seen.map((e) => e.runId)).toEqual(asc.seen.map((e) => e.runId).reverse());
    });

    it('sends every parameter of the list call, encoded so the server reads what was signed', async () => {
      fixture.emulator.clearRequests();
      await client.listWorkflowExecutions({
        workflowId: DEMO_WORKFLOW_IDS.large,
        objectKey: assume(objectKeyRule, 'dir/测试 file.mp4'),
        order: 'Asc',
        size: 5,
        states: ['Success', 'Failed'],
        createdAfter: new Date('2026-11-02T00:00:00+08:00'),
        createdBefore: new Date('2026-11-05T12:30:00-03:00'),
        batchJobId: assume(batchJobIdRule, `b${'0'.repeat(32)}`),
      });
      expect(fixture.emulator.requests[0]?.params).toEqual({
        workflowId: DEMO_WORKFLOW_IDS.large,
        name: 'dir/测试 file.mp4',
        orderByTime: 'Asc',
        size: '5',
        states: 'Success,Failed',
        startCreationTime: '2026-11-01T16:00:00+0000',
        endCreationTime: '2026-11-05T15:30:00+0000',
        jobId: `b${'0'.repeat(32)}`,
      });
    });

    it('refuses sizes the upstream would reject, before calling it', async () => {
      for (const size of [0, 101, 2.5]) {
        expect(() => client.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.large, size })).toThrow(
          RangeError,
        );
      }
    });
  });

  describe('detail and workflow lookup', () => {
    it('reads an execution with its tasks', async () => {
      const execution = allLarge.find((e) => e.state === 'Failed') as DemoExecution;
      const detail = await client.getWorkflowExecution(assume(runIdRule, execution.runId));
      expect(detail).toMatchObject({
        runId: execution.runId,
        workflowId: DEMO_WORKFLOW_IDS.large,
        workflowName: 'transcode-and-snapshot',
        objectKey: execution.objectKey,
        state: 'Failed',
        createdAt: execution.createdAt,
      });
      expect(detail.tasks.map((t) => [t.type, t.state])).toEqual([
        ['Snapshot', 'Success'],
        ['Transcode', 'Failed'],
      ]);
      expect(detail.tasks[1]?.message).toMatch(/unsupported codec/);
      expect(detail.tasks[0]?.endedAt).toBeInstanceOf(Date);
    });

    it('reports an unknown run as not_found', async () => {
      const error = await failure(client.getWorkflowExecution(assume(runIdRule, `i${'0'.repeat(32)}`)));
      expect(error).toMatchObject({ kind: 'not_found', code: 'ResourceNotFound', status: 400 });
      expect(error.requestId).toMatch(/\S/);
    });

    it('looks up several workflows in one call and names the ids that do not exist', async () => {
      fixture.emulator.clearRequests();
      const lookup = await client.getWorkflows([
        DEMO_WORKFLOW_IDS.large,
        assume(workflowIdRule, `w${'0'.repeat(32)}`),
        DEMO_WORKFLOW_IDS.empty,
      ]);
      expect(lookup.workflows.map((w) => [w.workflowId, w.state]).sort()).toEqual(
        [
          [DEMO_WORKFLOW_IDS.empty, 'Paused'],
          [DEMO_WORKFLOW_IDS.large, 'Active'],
        ].sort(),
      );
      expect(lookup.nonExistIds).toEqual([`w${'0'.repeat(32)}`]);
      expect(fixture.emulator.requests).toHaveLength(1);
    });
  });

  describe('failures', () => {
    const list = () => client.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.single });

    it.each<[string, () => void, CiErrorKind, string | undefined, number | undefined]>([
      [
        '503s',
        () => fixture.emulator.script(faults.unavailable(), 10),
        'unavailable',
        'ServiceUnavailable',
        503,
      ],
      [
        '500s',
        () => fixture.emulator.script(faults.internalError(), 10),
        'unavailable',
        'InternalError',
        500,
      ],
      ['429s', () => fixture.emulator.script(faults.throttled(), 10), 'throttled', 'SlowDown', 429],
      ['hangs', () => fixture.emulator.script(faults.hang(), 10), 'timeout', undefined, undefined],
    ])('gives up after 3 retries of %s', async (_name, arrange, kind, code, status) => {
      arrange();
      fixture.emulator.clearRequests();
      const retrying = fixture.client({ timeoutMs: 150 });
      const error = await failure(retrying.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.single }));
      expect(error).toMatchObject({ kind, code, status, attempts: 4, operation: 'ListWorkflowExecutions' });
      expect(fixture.emulator.requests).toHaveLength(4);
    });

    it('retries a 503 and a 429 then succeeds, re-signing each attempt', async () => {
      // One fake clock for both sides that jumps 10 minutes during each back-off: a signature reused across
      // attempts (60-second lifetime here) would be rejected as expired.
      let clock = Date.now();
      const ownClock = await startEmulator({ now: () => clock });
      try {
        ownClock.emulator.script(faults.unavailable(), 1);
        ownClock.emulator.script(faults.throttled(), 1);
        const attempts: UpstreamAttempt[] = [];
        const resigning = ownClock.client({
          now: () => clock,
          signatureTtlSeconds: 60,
          sleep: async () => {
            clock += 10 * 60_000;
          },
        });
        const page = await resigning.listWorkflowExecutions(
          { workflowId: DEMO_WORKFLOW_IDS.single },
          { onAttempt: (a) => attempts.push(a) },
        );
        expect(page.executions).toHaveLength(1);
        expect(attempts.map((a) => [a.outcome, a.status])).toEqual([
          ['retry', 503],
          ['retry', 429],
          ['ok', 200],
        ]);
        expect(attempts.every((a) => typeof a.requestId === 'string')).toBe(true);
        expect(ownClock.emulator.requests.map((r) => r.signatureVerified)).toEqual([true, true, true]);
      } finally {
        await ownClock.close();
      }
    });

    it('waits with jittered exponential back-off, within the ceiling', async () => {
      fixture.emulator.script(faults.unavailable(), 3);
      const delays: number[] = [];
      const jittered = fixture.client({
        random: () => 0.5,
        retryBaseDelayMs: 100,
        sleep: async (ms) => {
          delays.push(ms);
        },
      });
      await jittered.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.single });
      expect(delays).toEqual([50, 100, 200]);
    });

    it('honours Retry-After in seconds', async () => {
      fixture.emulator.script(faults.throttled('2'), 1);
      const delays: number[] = [];
      const patient = fixture.client({ sleep: async (ms) => void delays.push(ms) });
      await patient.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.single });
      expect(delays).toEqual([2_000]);
    });

    it('does not wait out a Retry-After longer than its limit, and reports it', async () => {
      fixture.emulator.script(faults.throttled('3600'), 1);
      fixture.emulator.clearRequests();
      const error = await failure(list());
      expect(error).toMatchObject({ kind: 'throttled', attempts: 1, retryAfterSeconds: 3600 });
      expect(fixture.emulator.requests).toHaveLength(1);
    });

    it('times out a hung attempt and succeeds on the retry', async () => {
      fixture.emulator.script(faults.hang(), 1);
      const impatient = fixture.client({ timeoutMs: 200 });
      const started = performance.now();
      const page = await impatient.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.single });
      expect(page.executions).toHaveLength(1);
      expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    });

    it('never retries other 4xx', async () => {
      fixture.emulator.clearRequests();
      const error = await failure(
        client.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.large, nextToken: '0000000' }),
      );
      expect(error).toMatchObject({ kind: 'bad_request', code: 'InvalidArgument', status: 400, attempts: 1 });
      expect(fixture.emulator.requests).toHaveLength(1);
    });

    it('reports a malformed 200 body as unreadable, without retrying', async () => {
      fixture.emulator.script(faults.malformed(), 1);
      fixture.emulator.clearRequests();
      const error = await failure(list());
      expect(error).toMatchObject({ kind: 'unreadable_response', status: 200, attempts: 1 });
      expect(error.requestId).toMatch(/\S/);
      expect(fixture.emulator.requests).toHaveLength(1);
    });

    it('reports a well-formed body of the wrong shape as unreadable, not as an empty list', async () => {
      fixture.emulator.script(faults.malformed('<Response><Unexpected>1</Unexpected></Response>'), 1);
      const detailed = await failure(
        client.getWorkflowExecution(assume(runIdRule, allLarge[0]?.runId as string)),
      );
      expect(detailed.kind).toBe('unreadable_response');
      fixture.emulator.script(faults.malformed('<html><body>502 Bad Gateway</body></html>'), 1);
      expect((await failure(list())).kind).toBe('unreadable_response');
    });

    it('abandons an oversized body as unreadable, without retrying', async () => {
      fixture.emulator.script(
        faults.malformed(`<Response>${'<x>padding</x>'.repeat(100_000)}</Response>`),
        1,
      );
      fixture.emulator.clearRequests();
      const small = fixture.client({ maxResponseBytes: 64 * 1024 });
      const error = await failure(small.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.single }));
      expect(error).toMatchObject({ kind: 'unreadable_response', attempts: 1 });
      expect(fixture.emulator.requests).toHaveLength(1);
    });

    it('reports an unreachable upstream as unavailable', async () => {
      const nowhere = fixture.client({ endpoint: 'http://127.0.0.1:1', maxRetries: 1 });
      const error = await failure(nowhere.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.single }));
      expect(error).toMatchObject({ kind: 'unavailable', attempts: 2, status: undefined });
    });

    it('stops at the caller’s abort, also during back-off, as cancelled', async () => {
      fixture.emulator.script(faults.unavailable(), 1);
      const controller = new AbortController();
      const slow = fixture.client({ sleep: undefined, retryBaseDelayMs: 60_000, random: () => 1 });
      const attempts: UpstreamAttempt[] = [];
      const call = slow.listWorkflowExecutions(
        { workflowId: DEMO_WORKFLOW_IDS.single },
        { signal: controller.signal, onAttempt: (a) => attempts.push(a) },
      );
      const reason = new Error('client went away');
      setTimeout(() => controller.abort(reason), 100);
      const error = await failure(call);
      expect(error).toMatchObject({ kind: 'cancelled', cause: reason });
      expect(attempts.map((a) => a.outcome)).toEqual(['retry']);
      expect(fixture.emulator.requests).toHaveLength(1);
    });
  });

  describe('connections', () => {
    it('reuses keep-alive connections for sequential calls', async () => {
      const pooled = fixture.client();
      const before = fixture.emulator.connectionCount;
      for (let i = 0; i < 20; i += 1) {
        await pooled.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.single });
      }
      // undici may open a second socket while it releases the first after the first response; never more.
      expect(fixture.emulator.connectionCount - before).toBeLessThanOrEqual(2);
    });
  });
});

describe('CiClient credentials and clock', () => {
  it('corrects a skewed clock once from the server Date and keeps the correction', async () => {
    const fixture = await startEmulator();
    try {
      const skew = -2 * 60 * 60_000; // two hours slow: its signatures look expired
      const attempts: UpstreamAttempt[] = [];
      const skewed = fixture.client({ now: () => Date.now() + skew });
      const page = await skewed.listWorkflowExecutions(
        { workflowId: DEMO_WORKFLOW_IDS.single },
        { onAttempt: (a) => attempts.push(a) },
      );
      expect(page.executions).toHaveLength(1);
      expect(attempts.map((a) => [a.outcome, a.status, a.errorCode])).toEqual([
        ['retry', 401, 'SignatureExpired'],
        ['ok', 200, undefined],
      ]);
      expect(Math.abs(skewed.clockOffsetMs + skew)).toBeLessThan(2_000);
      await skewed.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.single });
      expect(fixture.emulator.requests.map((r) => r.status)).toEqual([401, 200, 200]);
    } finally {
      await fixture.close();
    }
  });

  it('corrects a fast clock too (the server sees a key time in the future)', async () => {
    const fixture = await startEmulator();
    try {
      const fast = fixture.client({ now: () => Date.now() + 3 * 60 * 60_000 });
      await fast.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.single });
      expect(fixture.emulator.requests.map((r) => r.status)).toEqual([403, 200]);
    } finally {
      await fixture.close();
    }
  });

  it('sends the session token of temporary credentials', async () => {
    const fixture = await startEmulator({ sessionToken: 'sts-token-123' });
    try {
      const temporary = fixture.client({
        credentials: { ...DEMO_CREDENTIALS, sessionToken: 'sts-token-123' },
      });
      await temporary.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.single });
      expect(fixture.emulator.requests[0]).toMatchObject({
        sessionTokenSent: true,
        signatureVerified: true,
        status: 200,
      });

      const tokenless = fixture.client();
      const error = await failure(tokenless.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.single }));
      expect(error).toMatchObject({ kind: 'unauthorized', status: 403, attempts: 1 });
    } finally {
      await fixture.close();
    }
  });

  it('reports wrong credentials as unauthorized and keeps secrets out of errors and logs', async () => {
    const fixture = await startEmulator();
    const lines: string[] = [];
    const logger = {
      debug: (fields: object, message: string) => lines.push(JSON.stringify({ ...fields, message })),
      warn: (fields: object, message: string) => lines.push(JSON.stringify({ ...fields, message })),
    };
    try {
      const secretKey = 'a-wrong-but-secret-key-0123456789';
      fixture.emulator.script(faults.unavailable(), 1);
      const wrong = fixture.client({
        credentials: { secretId: DEMO_CREDENTIALS.secretId, secretKey },
        logger,
      });
      const error = await failure(wrong.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.single }));
      expect(error).toMatchObject({
        kind: 'unauthorized',
        code: 'SignatureDoesNotMatch',
        status: 403,
        attempts: 2,
      });
      expect(lines.length).toBeGreaterThan(0);
      const exposed = [error.message, JSON.stringify(error), JSON.stringify(error.details()), ...lines].join(
        '\n',
      );
      for (const secret of [secretKey, 'q-signature', 'q-sign-algorithm', 'authorization']) {
        expect(exposed.toLowerCase()).not.toContain(secret.toLowerCase());
      }
      const unknownId = fixture.client({ credentials: { secretId: 'AKIDunknown', secretKey } });
      expect(
        await failure(unknownId.listWorkflowExecutions({ workflowId: DEMO_WORKFLOW_IDS.single })),
      ).toMatchObject({
        kind: 'unauthorized',
        code: 'SecretidNotExist',
        status: 401,
      });
    } finally {
      await fixture.close();
    }
  });
});
