/**
 * The read cache's shared level: what one replica read (a finished run, a workflow) is answered to another from the
 * store, per bucket; nothing unfinished is shared; a workflow changed here is forgotten everywhere; what the store
 * holds is checked before it is believed.
 */
import { describe, expect, it } from 'vitest';
import { assume, bucketIdRule, mediaJobIdRule, runIdRule, workflowIdRule } from '../../src/ci/inputs.js';
import { ReadCache, type SharedReadStore } from '../../src/ci/read-cache.js';
import type { MediaJob, Workflow, WorkflowExecutionDetail } from '../../src/ci/types.js';

const BUCKET = assume(bucketIdRule, 'media-1250000000');
const RUN = assume(runIdRule, `i${'1'.repeat(32)}`);
const WORKFLOW = assume(workflowIdRule, `w${'2'.repeat(32)}`);

const finished: WorkflowExecutionDetail = {
  bucketId: BUCKET,
  runId: RUN,
  workflowId: WORKFLOW,
  objectKey: 'a.mp4',
  state: 'Success',
  createdAt: new Date('2026-11-01T00:00:00Z'),
  requestId: undefined,
  workflowName: 'w',
  tasks: [],
};
const workflow: Workflow = {
  bucketId: BUCKET,
  workflowId: WORKFLOW,
  name: 'w',
  state: 'Active',
  createdAt: new Date('2026-11-01T00:00:00Z'),
  updatedAt: new Date('2026-11-01T00:00:00Z'),
  notifyConfig: undefined,
};

/** Redis as the replicas see it: one map of keys, each with how long it was to live. */
function memoryStore() {
  const values = new Map<string, { value: string; ttlMs: number }>();
  const store: SharedReadStore = {
    get: async (keys) => keys.map((key) => values.get(key)?.value),
    set: async (key, value, ttlMs) => {
      values.set(key, { value, ttlMs });
    },
    delete: async (key) => {
      values.delete(key);
    },
  };
  return { store, values };
}

const replica = (store: SharedReadStore, prefix = 'ci-gateway:cache:media-1250000000:') =>
  new ReadCache({ workflowTtlMs: 30_000, shared: { store, prefix } });

/** The store writes behind the caller: let them land. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('the shared read cache', () => {
  it('answers a finished run one replica read to another, with its dates, and keeps it there from then on', async () => {
    const { store, values } = memoryStore();
    const a = replica(store);
    const b = replica(store);
    a.rememberDetail(finished);
    await settled();
    expect(values.get(`ci-gateway:cache:media-1250000000:run:${RUN}`)?.ttlMs).toBe(3_600_000);
    expect(await b.detail(RUN)).toEqual(finished);
    expect(b.detailCounts).toEqual({ hits: 1, misses: 0 });
    values.clear();
    expect(await b.detail(RUN)).toEqual(finished);
  });

  it('keeps buckets apart, shares nothing unfinished, and believes nothing of another shape or id', async () => {
    const { store, values } = memoryStore();
    replica(store).rememberDetail(finished);
    replica(store).rememberDetail({
      ...finished,
      runId: assume(runIdRule, `i${'3'.repeat(32)}`),
      state: 'Running',
    });
    await settled();
    expect([...values.keys()]).toEqual([`ci-gateway:cache:media-1250000000:run:${RUN}`]);
    expect(await replica(store, 'ci-gateway:cache:partner-1300000000:').detail(RUN)).toBeUndefined();
    values.set(`ci-gateway:cache:media-1250000000:run:${RUN}`, { value: '{"runId":"other"}', ttlMs: 1 });
    expect(await replica(store).detail(RUN)).toBeUndefined();
  });

  it('shares workflows for their TTL and forgets one everywhere when this gateway changes it', async () => {
    const { store, values } = memoryStore();
    const a = replica(store);
    const b = replica(store);
    a.rememberWorkflows([workflow]);
    await settled();
    expect(values.get(`ci-gateway:cache:media-1250000000:workflow:${WORKFLOW}`)?.ttlMs).toBe(30_000);
    expect(await b.workflows([WORKFLOW])).toEqual({ cached: [workflow], missing: [] });
    a.forgetWorkflow(WORKFLOW);
    await settled();
    expect(await replica(store).workflows([WORKFLOW])).toEqual({ cached: [], missing: [WORKFLOW] });
  });

  it('shares finished media jobs, and never a job still running', async () => {
    const { store, values } = memoryStore();
    const job = (hex: string, state: MediaJob['state']): MediaJob => ({
      jobId: assume(mediaJobIdRule, `j${hex.repeat(32)}`),
      tag: 'Transcode',
      state,
      progress: state === 'Success' ? 100 : 40,
      code: undefined,
      message: undefined,
      createdAt: new Date('2026-11-01T00:00:00Z'),
      startedAt: undefined,
      endedAt: undefined,
      queueId: undefined,
      inputObject: 'a.mp4',
      outputObjects: ['out/a.mp4'],
      mediaInfo: undefined,
      runId: RUN,
      workflowId: WORKFLOW,
    });
    const done = job('a', 'Success');
    const running = job('b', 'Running');
    replica(store).rememberMediaJobs([done, running]);
    await settled();
    expect([...values.keys()]).toEqual([`ci-gateway:cache:media-1250000000:job:${done.jobId}`]);
    const other = replica(store);
    expect(await other.mediaJobs([done.jobId, running.jobId])).toEqual({
      cached: [done],
      missing: [running.jobId],
    });
    expect(other.jobCounts).toEqual({ hits: 1, misses: 1 });
  });
});
