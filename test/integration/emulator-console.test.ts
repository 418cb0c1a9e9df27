/**
 * The emulator's console calls through the real client: triggers start runs that progress on the emulator's
 * clock, a paused workflow refuses them, batch triggers start runs one by one and can be cancelled, and every task
 * has a media job that the multi-id call answers.
 */
import { describe, expect, it } from 'vitest';
import type { CiError } from '../../src/ci/errors.js';
import {
  assume,
  batchJobIdRule,
  jobNameRule,
  type MediaJobId,
  mediaJobIdRule,
  objectKeyRule,
  objectPrefixRule,
  runIdRule,
  workflowIdRule,
} from '../../src/ci/inputs.js';
import { DEMO_BATCH_JOBS, DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { BATCH_RUN_INTERVAL_SECONDS, TASK_SECONDS } from '../../src/emulator/world.js';
import { manualClock } from '../support/console.js';
import { startEmulator } from '../support/emulator.js';
import { closeAfterEach } from '../support/gateway.js';

const track = closeAfterEach();
const LARGE = DEMO_WORKFLOW_IDS.large;

async function withClock() {
  const clock = manualClock();
  const fixture = track(await startEmulator({ now: clock.now }));
  return { fixture, client: fixture.client(), advance: clock.advance };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as CiError,
  );

describe('emulator console calls', () => {
  it('starts a run that goes from Running to Success on the clock, with a task and media job at each step', async () => {
    const { client, advance } = await withClock();
    const { runId } = await client.triggerWorkflow({
      workflowId: LARGE,
      objectKey: assume(objectKeyRule, 'uploads/new clip.mp4'),
      name: assume(jobNameRule, 'console'),
    });
    const run = assume(runIdRule, runId);
    const first = await client.getWorkflowExecution(run);
    expect(first).toMatchObject({ state: 'Running', objectKey: 'uploads/new clip.mp4' });
    expect(first.tasks.map((task) => [task.type, task.state])).toEqual([['Snapshot', 'Running']]);
    const page = await client.listWorkflowExecutions({ workflowId: LARGE, size: 1 });
    expect(page.executions[0]?.runId).toBe(runId);

    advance(TASK_SECONDS + 1);
    const middle = await client.getWorkflowExecution(run);
    expect(middle.tasks.map((task) => [task.type, task.state])).toEqual([
      ['Snapshot', 'Success'],
      ['Transcode', 'Running'],
    ]);
    const jobs = await client.getMediaJobs(
      middle.tasks.map((task) => assume(mediaJobIdRule, task.jobId as string)),
    );
    expect(jobs.jobs.map((job) => [job.tag, job.state, job.runId])).toEqual([
      ['Snapshot', 'Success', runId],
      ['Transcode', 'Running', runId],
    ]);
    expect(jobs.jobs[1]?.progress).toBeGreaterThanOrEqual(0);
    expect(jobs.jobs[1]?.progress).toBeLessThan(100);

    advance(TASK_SECONDS);
    const done = await client.getWorkflowExecution(run);
    expect(done.state).toBe('Success');
    const [transcode] = (await client.getMediaJobs([assume(mediaJobIdRule, done.tasks[1]?.jobId as string)]))
      .jobs;
    expect(transcode).toMatchObject({ state: 'Success', progress: 100, inputObject: 'uploads/new clip.mp4' });
    expect(transcode?.outputObjects).toEqual([`output/${runId}/video.mp4`]);
    expect(transcode?.mediaInfo).toEqual({
      durationSeconds: 62.5,
      formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
      sizeBytes: 10_485_760,
      width: 1280,
      height: 720,
    });
  });

  it('fails the transcode of an object marked to fail', async () => {
    const { client, advance } = await withClock();
    const { runId } = await client.triggerWorkflow({
      workflowId: LARGE,
      objectKey: assume(objectKeyRule, 'broken/please-fail.mov'),
    });
    advance(2 * TASK_SECONDS + 1);
    const run = await client.getWorkflowExecution(assume(runIdRule, runId));
    expect(run.state).toBe('Failed');
    expect(run.tasks[1]).toMatchObject({ state: 'Failed', code: 'InternalError' });
  });

  it('refuses triggers on a paused or unknown workflow, and pauses and activates', async () => {
    const { client } = await withClock();
    const objectKey = assume(objectKeyRule, 'a.mp4');
    const paused = await failure(client.triggerWorkflow({ workflowId: DEMO_WORKFLOW_IDS.empty, objectKey }));
    expect(paused).toMatchObject({ kind: 'bad_request', code: 'InvalidArgument', attempts: 1 });
    const unknown = await failure(
      client.triggerWorkflow({ workflowId: assume(workflowIdRule, `w${'0'.repeat(32)}`), objectKey }),
    );
    expect(unknown).toMatchObject({ kind: 'not_found' });

    await client.setWorkflowState(LARGE, 'paused');
    expect((await client.getWorkflows([LARGE])).workflows[0]?.state).toBe('Paused');
    await failure(client.triggerWorkflow({ workflowId: LARGE, objectKey }));
    await client.setWorkflowState(LARGE, 'active');
    expect((await client.getWorkflows([LARGE])).workflows[0]?.state).toBe('Active');
    await client.triggerWorkflow({ workflowId: LARGE, objectKey });
  });

  it('runs a batch trigger over a prefix one object at a time, reports progress, and stops when cancelled', async () => {
    const { client, advance } = await withClock();
    const job = await client.startBatchTrigger({
      workflowId: LARGE,
      name: assume(jobNameRule, 'reprocess'),
      source: { kind: 'prefix', prefix: assume(objectPrefixRule, 'plain/') },
    });
    expect(job).toMatchObject({ state: 'Submitted', progress: 0, name: 'reprocess', workflowIds: [LARGE] });
    expect(job.source).toEqual({ kind: 'prefix', prefix: 'plain/' });
    const jobId = assume(batchJobIdRule, job.jobId);
    advance(BATCH_RUN_INTERVAL_SECONDS);
    const started = await client.listWorkflowExecutions({ workflowId: LARGE, batchJobId: jobId });
    expect(started.executions.map((run) => run.objectKey)).toEqual(['plain/intro.mp4']);
    expect(await client.getBatchTrigger(jobId)).toMatchObject({ state: 'Success', progress: 100 });

    const objects = await client.startBatchTrigger({
      workflowId: LARGE,
      name: assume(jobNameRule, 'three'),
      source: {
        kind: 'objects',
        objectKeys: ['x/1.mp4', 'x/2.mp4', 'x/3.mp4'].map((key) => assume(objectKeyRule, key)),
      },
    });
    const objectsId = assume(batchJobIdRule, objects.jobId);
    advance(BATCH_RUN_INTERVAL_SECONDS);
    expect(await client.getBatchTrigger(objectsId)).toMatchObject({ state: 'Running', progress: 33 });
    await client.cancelBatchTrigger(objectsId);
    advance(10 * BATCH_RUN_INTERVAL_SECONDS);
    expect(await client.getBatchTrigger(objectsId)).toMatchObject({ state: 'Cancel', progress: 33 });
    const runs = await client.listWorkflowExecutions({ workflowId: LARGE, batchJobId: objectsId });
    expect(runs.executions).toHaveLength(1);
  });

  it('lists a workflow’s batch triggers newest first, paging with NextToken', async () => {
    const { client } = await withClock();
    const first = await client.listBatchTriggers({ workflowId: LARGE, size: 2 });
    expect(first.jobs.map((job) => job.jobId)).toEqual(
      DEMO_BATCH_JOBS.toSorted((a, b) => b.from - a.from)
        .slice(0, 2)
        .map((job) => job.jobId),
    );
    expect(first.nextToken).not.toBeNull();
    const second = await client.listBatchTriggers({
      workflowId: LARGE,
      size: 2,
      nextToken: first.nextToken as string,
    });
    expect(second.jobs).toHaveLength(1);
    expect(second.nextToken).toBeNull();
    expect(await client.getBatchTrigger(assume(batchJobIdRule, `b${'0'.repeat(32)}`))).toBeNull();
  });

  it('answers several media jobs in one call, naming the unknown ones', async () => {
    const { client } = await withClock();
    const page = await client.listWorkflowExecutions({ workflowId: LARGE, size: 2, states: ['Success'] });
    const details = await Promise.all(
      page.executions.map((run) => client.getWorkflowExecution(assume(runIdRule, run.runId))),
    );
    const ids = details.flatMap((detail) => detail.tasks.map((task) => task.jobId as string));
    const unknown = `j${'0'.repeat(32)}`;
    const lookup = await client.getMediaJobs(
      [...ids, unknown].map((id) => assume(mediaJobIdRule, id)) as MediaJobId[],
    );
    expect(lookup.jobs.map((job) => job.jobId)).toEqual(ids);
    expect(lookup.nonExistJobIds).toEqual([unknown]);
    expect(lookup.jobs.every((job) => job.state === 'Success' && job.progress === 100)).toBe(true);
  });
});
