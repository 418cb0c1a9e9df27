/**
 * Live updates' bookkeeping: a key is released the moment its last subscriber leaves, however quiet it is; a run's
 * first look is shared by replicas for an interval.
 */
import { describe, expect, it } from 'vitest';
import { assume, batchJobIdRule, bucketIdRule, runIdRule, workflowIdRule } from '../../src/ci/inputs.js';
import type { SharedReadStore } from '../../src/ci/read-cache.js';
import type { WorkflowExecutionDetail } from '../../src/ci/types.js';
import { LiveUpdates } from '../../src/live/live-updates.js';
import { LOCAL_LEASES } from '../../src/live/poller.js';

const RUN = assume(runIdRule, `i${'1'.repeat(32)}`);
const WORKFLOW = assume(workflowIdRule, `w${'2'.repeat(32)}`);
const BUCKET = assume(bucketIdRule, 'demo-1250000000');
const running: WorkflowExecutionDetail = {
  bucketId: BUCKET,
  requestId: undefined,
  runId: RUN,
  workflowId: WORKFLOW,
  objectKey: 'a.mp4',
  state: 'Running',
  createdAt: new Date(),
  workflowName: undefined,
  tasks: [],
};

function quietLive() {
  let reads = 0;
  const live = new LiveUpdates({
    bucketId: BUCKET,
    pollIntervalMs: 0,
    ci: {
      getWorkflowExecution: async () => {
        reads += 1;
        return running;
      },
      listWorkflowExecutions: async () => ({ requestId: undefined, executions: [], nextToken: null }),
    },
  });
  return { live, reads: () => reads };
}

describe('LiveUpdates', () => {
  it('releases a workflow key as soon as its subscriber leaves, while it waits on an event that never comes', async () => {
    const { live } = quietLive();
    const watch = live.watchWorkflow({ workflowId: WORKFLOW });
    const pending = watch.next();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(live.watchedKeys).toEqual({ run: 0, workflow: 1, scan: 0 });
    expect(live.subscribers).toBe(1);
    await watch.return(undefined);
    expect(live.watchedKeys).toEqual({ run: 0, workflow: 0, scan: 0 });
    expect(live.subscribers).toBe(0);
    expect(await pending).toEqual({ done: true, value: undefined });
  });

  it('shares the first read of a run among its subscribers, holds its workflow’s scan while it runs, and releases both with the last one', async () => {
    const { live, reads } = quietLive();
    const first = live.watchRun(RUN);
    const second = live.watchRun(RUN);
    expect((await first.next()).value?.state).toBe('Running');
    expect((await second.next()).value?.state).toBe('Running');
    expect(reads()).toBe(1);
    const waiting = [first.next(), second.next()];
    expect(live.subscribers).toBe(2);
    await first.return(undefined);
    expect(live.watchedKeys).toEqual({ run: 1, workflow: 0, scan: 1 });
    await second.return(undefined);
    expect(live.watchedKeys).toEqual({ run: 0, workflow: 0, scan: 0 });
    await Promise.all(waiting);
  });

  it('watches many keys of one workflow without a listener-leak warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    const { live } = quietLive();
    const watches = Array.from({ length: 25 }, (_, i) =>
      live.watchWorkflow({
        workflowId: WORKFLOW,
        batchJobId: assume(batchJobIdRule, `b${i.toString(16).padStart(32, '0')}`),
      }),
    );
    const pending = watches.map((watch) => watch.next());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(live.watchedKeys.workflow).toBe(25);
    await Promise.all(watches.map((watch) => watch.return(undefined)));
    await Promise.all(pending);
    process.off('warning', onWarning);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('reads a run again when a hint arrives while an earlier read is in flight, so the change is not lost', async () => {
    /** CI's answers, in order: the first read is slow and sees the run before it finished. */
    const answers = [running, { ...running, state: 'Success' as const }];
    let release: () => void = () => {};
    const firstAnswered = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reads = 0;
    const live = new LiveUpdates({
      bucketId: BUCKET,
      pollIntervalMs: 0,
      ci: {
        getWorkflowExecution: async () => {
          reads += 1;
          if (reads === 1) await firstAnswered;
          return answers[Math.min(reads, answers.length) - 1] as WorkflowExecutionDetail;
        },
        listWorkflowExecutions: async () => ({ requestId: undefined, executions: [], nextToken: null }),
      },
    });
    const watch = live.watchRun(RUN);
    const first = watch.next();
    await new Promise((resolve) => setTimeout(resolve, 10));
    // The callback lands while the subscriber's first read is still on its way.
    const hinted = live.hint(RUN);
    release();
    expect((await first).value?.state).toBe('Running');
    await hinted;
    expect((await watch.next()).value?.state).toBe('Success');
    expect(reads).toBe(2);
    await watch.return(undefined);
  });

  it('starts a replica’s first subscriber to a run from another replica’s read of the last interval', async () => {
    const kept = new Map<string, { value: string; ttlMs: number }>();
    const store: SharedReadStore = {
      get: async (keys) => keys.map((key) => kept.get(key)?.value),
      set: async (key, value, ttlMs) => void kept.set(key, { value, ttlMs }),
      delete: async (key) => void kept.delete(key),
    };
    let reads = 0;
    const replica = () =>
      new LiveUpdates({
        bucketId: BUCKET,
        // Polling on (the interval bounds how old a first look may be), but this test's scans answer nothing.
        pollIntervalMs: 60_000,
        leases: { ...LOCAL_LEASES, hold: async () => false },
        lastSeen: store,
        ci: {
          getWorkflowExecution: async () => {
            reads += 1;
            return running;
          },
          listWorkflowExecutions: async () => ({ requestId: undefined, executions: [], nextToken: null }),
        },
      });
    const [a, b] = [replica(), replica()];
    const onA = a.watchRun(RUN);
    expect((await onA.next()).value?.state).toBe('Running');
    expect(reads).toBe(1);
    expect([...kept.values()].map((entry) => entry.ttlMs)).toEqual([60_000]);

    const onB = b.watchRun(RUN);
    const seen = (await onB.next()).value;
    expect(seen?.state).toBe('Running');
    expect(seen?.createdAt).toEqual(running.createdAt);
    expect(reads).toBe(1);

    // What is kept is checked before it is believed: another run's detail under the key is no answer.
    for (const entry of kept.values()) entry.value = entry.value.replace(RUN, `i${'3'.repeat(32)}`);
    const c = replica();
    const onC = c.watchRun(RUN);
    expect((await onC.next()).value?.runId).toBe(RUN);
    expect(reads).toBe(2);
    await Promise.all([onA.return(undefined), onB.return(undefined), onC.return(undefined)]);
    await Promise.all([a.close(), b.close(), c.close()]);
  });
});
