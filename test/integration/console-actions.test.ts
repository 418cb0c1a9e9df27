/**
 * The console's mutations and detail fields through the gateway, against the emulator: what each does upstream
 * (counted in the emulator's request log), what it refuses before any upstream call, what happens when CI fails
 * before and after a trigger reached it, and who may call them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_BATCH_JOBS, DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { faults } from '../../src/emulator/server.js';
import { BATCH_RUN_INTERVAL_SECONDS, TASK_SECONDS } from '../../src/emulator/world.js';
import { manualClock } from '../support/console.js';
import { closeAfterEach, type GatewayFixture, startGateway } from '../support/gateway.js';
import {
  AUDIENCE,
  type IdentityProvider,
  ISSUER,
  type SigningKey,
  signingKey,
  startIdentityProvider,
  token,
} from '../support/jwks.js';
import { demoExecutions } from '../support/oracle.js';

const track = closeAfterEach();
const LARGE = DEMO_WORKFLOW_IDS.large;
const PAUSED = DEMO_WORKFLOW_IDS.empty;
const UNKNOWN_WORKFLOW = `w${'0'.repeat(32)}`;

async function startConsole(options: Parameters<typeof startGateway>[0] = {}) {
  const clock = manualClock();
  const fixture = track(
    await startGateway({ ...options, emulator: { now: clock.now, ...options.emulator } }),
  );
  return { fixture, advance: clock.advance };
}

const TRIGGER = `mutation Trigger($input: TriggerWorkflowInput!) {
  triggerWorkflow(input: $input) { runId execution { runId state objectKey tasks { type state } } rerunOf { runId } }
}`;

const paths = (fixture: GatewayFixture) => fixture.emulator.requests.map((r) => `${r.method} ${r.path}`);

describe('triggerWorkflow', () => {
  it('starts a run, reads it back, and the run shows in the list and finishes on CI’s clock', async () => {
    const { fixture, advance } = await startConsole();
    fixture.emulator.clearRequests();
    const result = await fixture.query<{ triggerWorkflow: { runId: string; execution: { state: string } } }>(
      TRIGGER,
      { input: { workflowId: LARGE, objectKey: 'uploads/新 clip.mp4', name: 'console-1' } },
    );
    expect(result.errors).toBeUndefined();
    const { runId, execution } = result.data?.triggerWorkflow ?? { runId: '', execution: { state: '' } };
    expect(runId).toMatch(/^i[0-9a-f]{32}$/);
    expect(execution).toMatchObject({ runId, state: 'RUNNING', objectKey: 'uploads/新 clip.mp4' });
    // The workflow's state, one trigger, the new run's detail.
    expect(paths(fixture)).toEqual([
      'GET /workflow',
      'POST /triggerworkflow',
      `GET /workflowexecution/${runId}`,
    ]);
    const trigger = fixture.emulator.requests.find((r) => r.path === '/triggerworkflow');
    expect(trigger).toMatchObject({
      signatureVerified: true,
      params: { workflowId: LARGE, name: 'console-1' },
    });

    advance(2 * TASK_SECONDS + 1);
    const later = await fixture.query<{ workflowExecution: Record<string, unknown> }>(
      `{ workflowExecution(runId: "${runId}") { state finishedAt durationSeconds failedTask { type } } }`,
    );
    expect(later.data?.workflowExecution).toMatchObject({ state: 'SUCCESS', failedTask: null });
    expect(later.data?.workflowExecution['durationSeconds']).toBe(2 * TASK_SECONDS);
  });

  it('refuses a paused or unknown workflow with a stable code and no trigger sent', async () => {
    const { fixture } = await startConsole();
    fixture.emulator.clearRequests();
    const paused = await fixture.query(TRIGGER, { input: { workflowId: PAUSED, objectKey: 'a.mp4' } });
    expect(paused.errors?.[0]?.extensions).toMatchObject({ code: 'WORKFLOW_PAUSED', workflowId: PAUSED });
    const unknown = await fixture.query(TRIGGER, {
      input: { workflowId: UNKNOWN_WORKFLOW, objectKey: 'a.mp4' },
    });
    expect(unknown.errors?.[0]?.extensions?.['code']).toBe('WORKFLOW_NOT_FOUND');
    expect(paths(fixture).filter((path) => path.startsWith('POST'))).toEqual([]);
  });

  it.each([
    ['an empty object key', { workflowId: LARGE, objectKey: '' }, 'input.objectKey must not be empty.'],
    [
      'a malformed workflow id',
      { workflowId: 'w1', objectKey: 'a.mp4' },
      'input.workflowId must be a workflow id',
    ],
    [
      'a name over 128 characters',
      { workflowId: LARGE, objectKey: 'a.mp4', name: 'n'.repeat(129) },
      'is 129 characters',
    ],
    ['a name with a space', { workflowId: LARGE, objectKey: 'a.mp4', name: 'two words' }, 'may hold only'],
    [
      'an object key over 850 bytes',
      { workflowId: LARGE, objectKey: '测'.repeat(300) },
      'COS keys are at most 850',
    ],
  ])('refuses %s as BAD_USER_INPUT before any upstream call', async (_name, input, message) => {
    const { fixture } = await startConsole();
    fixture.emulator.clearRequests();
    const result = await fixture.query(TRIGGER, { input });
    expect(result.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toContain(message);
    expect(fixture.emulator.requests).toHaveLength(0);
  });

  it('is retried when CI turned it away (429): CI did nothing, so sending again is safe', async () => {
    const { fixture } = await startConsole();
    fixture.emulator.script(faults.throttled(), 1, '/triggerworkflow');
    fixture.emulator.clearRequests();
    const result = await fixture.query(TRIGGER, { input: { workflowId: LARGE, objectKey: 'a.mp4' } });
    expect(result.errors).toBeUndefined();
    expect(
      fixture.emulator.requests.filter((r) => r.path === '/triggerworkflow').map((r) => r.status),
    ).toEqual([429, 200]);
  });

  it.each([
    ['a 5xx answer', faults.internalError()],
    ['an answer that never comes', faults.hang()],
    // CI acted (200) but its answer cannot be read: a retry would start the run twice.
    ['a 200 answer that cannot be read', faults.malformed()],
  ])('is sent once and answers UPSTREAM_OUTCOME_UNKNOWN after %s', async (_name, fault) => {
    const { fixture } = await startConsole({ client: { timeoutMs: 300 } });
    fixture.emulator.script(fault, 5, '/triggerworkflow');
    fixture.emulator.clearRequests();
    const result = await fixture.query(TRIGGER, { input: { workflowId: LARGE, objectKey: 'a.mp4' } });
    expect(result.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_OUTCOME_UNKNOWN');
    expect(result.errors?.[0]?.message).toContain('list the executions of the object');
    expect(fixture.emulator.requests.filter((r) => r.path === '/triggerworkflow')).toHaveLength(1);
  });
});

describe('rerunWorkflowExecution', () => {
  it('triggers the same workflow on the same object and names the run it repeats', async () => {
    const { fixture } = await startConsole();
    const failed = demoExecutions().find((run) => run.state === 'Failed');
    const result = await fixture.query<{
      rerunWorkflowExecution: { runId: string; execution: { objectKey: string }; rerunOf: { runId: string } };
    }>(
      `mutation { rerunWorkflowExecution(runId: "${failed?.runId}") { runId execution { objectKey } rerunOf { runId } } }`,
    );
    expect(result.errors).toBeUndefined();
    const rerun = result.data?.rerunWorkflowExecution;
    expect(rerun?.rerunOf.runId).toBe(failed?.runId);
    expect(rerun?.runId).not.toBe(failed?.runId);
    expect(rerun?.execution.objectKey).toBe(failed?.objectKey);
  });

  it('says EXECUTION_NOT_FOUND for a run CI does not know', async () => {
    const { fixture } = await startConsole();
    const result = await fixture.query(
      `mutation { rerunWorkflowExecution(runId: "i${'f'.repeat(32)}") { runId } }`,
    );
    expect(result.errors?.[0]?.extensions?.['code']).toBe('EXECUTION_NOT_FOUND');
  });
});

describe('pauseWorkflow and activateWorkflow', () => {
  it('change the state, and the next read is not an old cached one', async () => {
    const { fixture } = await startConsole();
    const state = async () =>
      (await fixture.query<{ workflow: { state: string } }>(`{ workflow(workflowId: "${LARGE}") { state } }`))
        .data?.workflow.state;
    expect(await state()).toBe('ACTIVE');
    const paused = await fixture.query<{ pauseWorkflow: { workflow: { state: string } } }>(
      `mutation { pauseWorkflow(workflowId: "${LARGE}") { workflow { workflowId state } } }`,
    );
    expect(paused.data?.pauseWorkflow.workflow.state).toBe('PAUSED');
    expect(await state()).toBe('PAUSED');
    const refused = await fixture.query(TRIGGER, { input: { workflowId: LARGE, objectKey: 'a.mp4' } });
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('WORKFLOW_PAUSED');
    await fixture.query(`mutation { activateWorkflow(workflowId: "${LARGE}") { workflow { state } } }`);
    expect(await state()).toBe('ACTIVE');
    const unknown = await fixture.query(
      `mutation { pauseWorkflow(workflowId: "${UNKNOWN_WORKFLOW}") { workflow { state } } }`,
    );
    expect(unknown.errors?.[0]?.extensions?.['code']).toBe('WORKFLOW_NOT_FOUND');
  });
});

describe('batch triggers', () => {
  it('start over a prefix, fill their executions as runs start, and can be cancelled', async () => {
    const { fixture, advance } = await startConsole();
    const started = await fixture.query<{
      startBatchTrigger: { batchTrigger: { jobId: string; state: string } };
    }>(
      `mutation { startBatchTrigger(input: { workflowId: "${LARGE}", name: "reprocess", objectKeys: ["x/1.mp4", "x/2.mp4", "x/3.mp4"] }) {
        batchTrigger { jobId state progress input { objectKeys } } } }`,
    );
    expect(started.errors).toBeUndefined();
    const jobId = started.data?.startBatchTrigger.batchTrigger.jobId as string;
    expect(started.data?.startBatchTrigger.batchTrigger.state).toBe('SUBMITTED');
    advance(2 * BATCH_RUN_INTERVAL_SECONDS);
    const running = await fixture.query<{
      batchTrigger: {
        state: string;
        progress: number;
        executions: { edges: Array<{ node: { objectKey: string; batchTrigger: { jobId: string } } }> };
      };
    }>(
      `{ batchTrigger(jobId: "${jobId}") { state progress executions(first: 10) { edges { node { objectKey batchTrigger { jobId } } } } } }`,
    );
    expect(running.data?.batchTrigger).toMatchObject({ state: 'RUNNING', progress: 66 });
    expect(running.data?.batchTrigger.executions.edges.map((edge) => edge.node.objectKey).sort()).toEqual([
      'x/1.mp4',
      'x/2.mp4',
    ]);
    expect(running.data?.batchTrigger.executions.edges[0]?.node.batchTrigger.jobId).toBe(jobId);
    const cancelled = await fixture.query<{ cancelBatchTrigger: { batchTrigger: { state: string } } }>(
      `mutation { cancelBatchTrigger(jobId: "${jobId}") { batchTrigger { state progress } } }`,
    );
    expect(cancelled.data?.cancelBatchTrigger.batchTrigger.state).toBe('CANCEL');
  });

  it('refuse two sources at once, or none, before any upstream call', async () => {
    const { fixture } = await startConsole();
    fixture.emulator.clearRequests();
    const two = await fixture.query(
      `mutation { startBatchTrigger(input: { workflowId: "${LARGE}", name: "x", prefix: "a/", objectKeys: ["a/b.mp4"] }) { batchTrigger { jobId } } }`,
    );
    expect(two.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(two.errors?.[0]?.message).toContain('got prefix, objectKeys');
    const none = await fixture.query(
      `mutation { startBatchTrigger(input: { workflowId: "${LARGE}", name: "x" }) { batchTrigger { jobId } } }`,
    );
    expect(none.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(fixture.emulator.requests).toHaveLength(0);
  });

  it('page through a workflow’s batch triggers on the same cursors as executions', async () => {
    const { fixture } = await startConsole();
    const ids: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: Awaited<
        ReturnType<
          typeof fixture.query<{
            workflow: {
              batchTriggers: {
                edges: Array<{ node: { jobId: string } }>;
                pageInfo: { hasNextPage: boolean; endCursor: string };
              };
            };
          }>
        >
      > = await fixture.query(
        `query($after: String) { workflow(workflowId: "${LARGE}") { batchTriggers(first: 2, after: $after) {
            edges { node { jobId state } } pageInfo { hasNextPage endCursor } } } }`,
        { after },
      );
      expect(page.errors).toBeUndefined();
      const connection = page.data?.workflow.batchTriggers;
      ids.push(...(connection?.edges.map((edge) => edge.node.jobId) ?? []));
      if (!connection?.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(ids).toEqual(DEMO_BATCH_JOBS.toSorted((a, b) => b.from - a.from).map((job) => job.jobId));
    const unknown = await fixture.query(`{ batchTrigger(jobId: "b${'0'.repeat(32)}") { jobId } }`);
    expect(unknown.data).toEqual({ batchTrigger: null });
  });
});

describe('task media jobs', () => {
  it('are gathered into calls of at most ten jobs, each job asked for once: 100 runs with tasks cost 1 list, their details and a few job calls', async () => {
    const { fixture } = await startConsole();
    fixture.emulator.clearRequests();
    const result = await fixture.query<{
      workflowExecutions: {
        edges: Array<{
          node: { tasks: Array<{ job: { jobId: string; progress: number; state: string } | null }> };
        }>;
      };
    }>(`{ workflowExecutions(filter: { workflowId: "${LARGE}" }, first: 100) {
      edges { node { runId tasks { jobId job { jobId progress state outputObjectKeys } } } } } }`);
    expect(result.errors).toBeUndefined();
    const tasks = result.data?.workflowExecutions.edges.flatMap((edge) => edge.node.tasks) ?? [];
    expect(tasks.length).toBeGreaterThan(100);
    expect(tasks.every((task) => task.job !== null)).toBe(true);
    const counts = { list: 0, detail: 0, jobs: 0 };
    for (const request of fixture.emulator.requests) {
      if (request.path === '/workflowexecution') counts.list += 1;
      else if (request.path.startsWith('/workflowexecution/')) counts.detail += 1;
      else if (request.path.startsWith('/jobs/')) counts.jobs += 1;
    }
    expect({ list: counts.list, detail: counts.detail }).toEqual({ list: 1, detail: 100 });
    const batches = fixture.emulator.requests
      .filter((request) => request.path.startsWith('/jobs/'))
      .map((request) => request.path.slice('/jobs/'.length).split(','));
    // Each job once, in calls of at most ten.
    const asked = batches.flat();
    expect(asked.toSorted()).toEqual(tasks.map((task) => task.job?.jobId).toSorted());
    expect(Math.max(...batches.map((batch) => batch.length))).toBe(10);
    // Details come back in waves (8 at a time, the request's concurrency), and a batch closes with its wave: at
    // most one short batch per wave beyond the full ones.
    const waves = Math.ceil(100 / 8);
    expect(counts.jobs).toBeLessThanOrEqual(Math.ceil(tasks.length / 10) + waves);
  });

  it('explain a failed run: its failed task, the job’s code and message', async () => {
    const { fixture } = await startConsole();
    const failed = demoExecutions().find((run) => run.state === 'Failed');
    const result = await fixture.query<{
      workflowExecution: { failedTask: { type: string; job: { state: string; message: string } } };
    }>(
      `{ workflowExecution(runId: "${failed?.runId}") { finishedAt durationSeconds failedTask { type code job { state code message progress } } } }`,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.workflowExecution.failedTask).toMatchObject({
      type: 'Transcode',
      job: { state: 'FAILED', message: 'transcode failed: unsupported codec in source' },
    });
  });
});

describe('scopes', () => {
  let key: SigningKey;
  let idp: IdentityProvider;
  beforeAll(async () => {
    key = await signingKey('rsa-1', 'RS256');
    idp = await startIdentityProvider([key]);
  });
  afterAll(() => idp.close());

  it('need the write scope for every mutation; reading stays possible with the read scope', async () => {
    const { fixture } = await startConsole({
      gateway: { auth: { jwt: { jwksUrl: idp.jwksUrl, issuer: ISSUER, audience: AUDIENCE } } },
    });
    const reader = { authorization: `Bearer ${await token(key)}` };
    const writer = {
      authorization: `Bearer ${await token(key, { claims: { scope: 'ci.workflows.read ci.workflows.write' } })}`,
    };
    fixture.emulator.clearRequests();
    const refused = await fixture.query(
      TRIGGER,
      { input: { workflowId: LARGE, objectKey: 'a.mp4' } },
      reader,
    );
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const pause = await fixture.query(
      `mutation { pauseWorkflow(workflowId: "${LARGE}") { workflow { state } } }`,
      undefined,
      reader,
    );
    expect(pause.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect(fixture.emulator.requests.filter((r) => r.method !== 'GET')).toHaveLength(0);
    const allowed = await fixture.query(
      TRIGGER,
      { input: { workflowId: LARGE, objectKey: 'a.mp4' } },
      writer,
    );
    expect(allowed.errors).toBeUndefined();
  });
});
