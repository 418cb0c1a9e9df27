/**
 * The emulated CI account of `bench:fleet`, in a process of its own so the load the bench drives never delays its
 * answers: W workflows with R runs running all along (CI keeps them Running), and CI's quota for the account (429
 * past it), off until the bench says `enforce`. It tells the bench the calls it answered, by kind, ten times a
 * second.
 */
import type { Dataset, DemoExecution, DemoWorkflow } from '../../src/emulator/demo-data.js';
import { EmulatedQuota } from '../../src/emulator/quota.js';
import { createCiEmulator, type RecordedRequest } from '../../src/emulator/server.js';

export interface AccountReady {
  readonly type: 'ready';
  readonly url: string;
  readonly workflowIds: string[];
  readonly runIds: string[];
}
export interface AccountCalls {
  readonly type: 'calls';
  /** Calls answered since the last report, by kind; `(429)` counts those refused for the quota. */
  readonly counts: Record<string, number>;
  /** Calls refused for the quota since the quota was enforced. */
  readonly refused: number;
}
export type AccountMessage = AccountReady | AccountCalls;

const setting = (name: string) => Number(process.env[`FLEET_${name}`]);
const shape = {
  workflows: setting('WORKFLOWS'),
  runs: setting('RUNS'),
  accountLimit: setting('ACCOUNT_LIMIT'),
};

function fleetDataset(): Dataset {
  const now = Date.now();
  const workflows: DemoWorkflow[] = Array.from({ length: shape.workflows }, (_, w) => {
    const workflowId = `w${String(w).padStart(32, 'f')}`;
    const executions: DemoExecution[] = Array.from(
      { length: Math.ceil(shape.runs / shape.workflows) },
      (_, i) => {
        const createdAt = new Date(now - (i + 1) * 60_000);
        const runId = `i${String(w * 10_000 + i).padStart(32, '0')}`;
        return {
          runId,
          workflowId,
          workflowName: `fleet-${w}`,
          objectKey: `fleet/${w}/${i}.mp4`,
          state: 'Running',
          createdAt,
          batchJobId: undefined,
          tasks: [
            {
              type: 'Transcode',
              name: 'Transcode_1581665960537',
              state: 'Running',
              jobId: `j${runId.slice(1)}`,
              templateId: 't1f2e3d4c5b6a79808f7e6d5c4b3a2918',
              templateName: 'h264-720p',
              code: '',
              message: '',
              createdAt,
              startedAt: createdAt,
              endedAt: undefined,
            },
          ],
        };
      },
    );
    return {
      workflowId,
      name: `fleet-${w}`,
      state: 'Active',
      bucketId: 'demo-1250000000',
      createdAt: new Date(now - 86_400_000),
      updatedAt: new Date(now - 86_400_000),
      executions,
    };
  });
  return { workflows };
}

/** CI's quota, off while the bench sets up its world, on from the first replica's start. */
class SwitchedQuota extends EmulatedQuota {
  enforced = false;
  override take(now: number): boolean {
    return !this.enforced || super.take(now);
  }
}

function kindOf(request: RecordedRequest): string {
  if (request.path === '/workflowexecution') {
    return 'states' in request.params ? 'list: scan of unfinished runs' : 'list: a page';
  }
  if (request.path.startsWith('/workflowexecution/')) return 'read: a run';
  if (request.path === '/workflow') return 'read: workflows';
  if (request.path === '/triggerworkflow') return 'trigger';
  return `other: ${request.method} ${request.path}`;
}

const dataset = fleetDataset();
const quota = new SwitchedQuota(shape.accountLimit);
const emulator = createCiEmulator({ dataset, quota });
const url = await emulator.listen(0);
const send = (message: AccountMessage) => process.send?.(message);
process.on('message', (message) => {
  if (message === 'enforce') quota.enforced = true;
});
process.on('disconnect', () => process.exit(0));
setInterval(() => {
  const counts: Record<string, number> = {};
  for (const request of emulator.requests) {
    const kind = request.status === 429 ? '(429)' : kindOf(request);
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  emulator.clearRequests();
  send({ type: 'calls', counts, refused: quota.refused });
}, 100);
send({
  type: 'ready',
  url,
  workflowIds: dataset.workflows.map((workflow) => workflow.workflowId),
  runIds: dataset.workflows.flatMap((workflow) => workflow.executions.map((run) => run.runId)),
});
