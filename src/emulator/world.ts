/**
 * What the emulator's actions change: workflow states, runs started by triggers and batch triggers, and the media
 * jobs behind every task. The demo dataset stays as it is; everything started here is kept as when and what was
 * started, and its state is worked out from the emulator's clock when it is read, so a test that moves the clock
 * sees a run go from Running to Success (or Failed) without anything ticking in the background.
 */
import { createHash } from 'node:crypto';
import {
  type BatchTriggerSource,
  type ExecutionState,
  isFinishedState,
  type JobState,
  type WorkflowState,
} from '../ci/types.js';
import {
  type Dataset,
  DEMO_BATCH_JOBS,
  type DemoExecution,
  type DemoTask,
  type DemoWorkflow,
} from './demo-data.js';

/** How long each task of a started run takes on the emulator's clock. */
export const TASK_SECONDS = 10;
/** A batch trigger starts one run every this many seconds. */
export const BATCH_RUN_INTERVAL_SECONDS = 2;
/** Runs on objects whose key contains this fail their second task: a way to see a failure on demand. */
export const FAILING_OBJECT_MARK = 'fail';

export interface BatchJob {
  readonly jobId: string;
  readonly name: string;
  readonly workflowId: string;
  readonly source: BatchTriggerSource;
  readonly createdAt: Date;
  readonly windowStart: Date | undefined;
  readonly windowEnd: Date | undefined;
  /** The objects it runs the workflow on, in order. */
  readonly objectKeys: readonly string[];
  cancelledAt: Date | undefined;
  /** Seeded jobs started the dataset's runs; they are finished. */
  readonly seededRuns: number | undefined;
  readonly seededEnd: Date | undefined;
}

/** A batch job as CI reports it at one instant. */
export interface BatchJobView extends BatchJob {
  readonly state: JobState;
  readonly progress: number;
  readonly startedAt: Date | undefined;
  readonly endedAt: Date | undefined;
}

/** A media job as CI reports it: a task, with the run it belongs to. */
export interface MediaJobView {
  readonly task: DemoTask;
  readonly execution: DemoExecution;
  readonly state: JobState;
  readonly progress: number;
}

interface StartedRun {
  readonly runId: string;
  readonly workflowId: string;
  readonly objectKey: string;
  readonly createdAt: Date;
  readonly batchJobId: string | undefined;
}

/** A callback CI would send now: a task or a run finished. */
export interface DueNotification {
  readonly event: 'TaskFinish' | 'WorkflowFinish';
  readonly execution: DemoExecution;
  /** For `TaskFinish`: the task. */
  readonly task: DemoTask | undefined;
}

export class UnknownWorkflow extends Error {}
export class PausedWorkflow extends Error {}

export class EmulatorWorld {
  readonly #dataset: Dataset;
  readonly #workflowStates = new Map<string, WorkflowState>();
  readonly #triggered: StartedRun[] = [];
  readonly #batchJobs = new Map<string, BatchJob>();
  /** Callbacks already due and handed out, by run, event and task. */
  readonly #notified = new Set<string>();
  #sequence = 0;

  constructor(dataset: Dataset) {
    this.#dataset = dataset;
    const large = dataset.workflows[0];
    for (const seed of DEMO_BATCH_JOBS) {
      const runs = large?.executions.filter((execution) => execution.batchJobId === seed.jobId) ?? [];
      const first = runs.reduce<Date | undefined>(
        (earliest, run) => (earliest && earliest <= run.createdAt ? earliest : run.createdAt),
        undefined,
      );
      const last = runs.reduce<Date | undefined>(
        (latest, run) => (latest && latest >= run.createdAt ? latest : run.createdAt),
        undefined,
      );
      if (!large || !first) continue;
      this.#batchJobs.set(seed.jobId, {
        jobId: seed.jobId,
        name: `backfill-${seed.from}`,
        workflowId: large.workflowId,
        source: { kind: 'prefix', prefix: '' },
        createdAt: new Date(first.getTime() - BATCH_RUN_INTERVAL_SECONDS * 1000),
        windowStart: undefined,
        windowEnd: undefined,
        objectKeys: runs.map((run) => run.objectKey),
        cancelledAt: undefined,
        seededRuns: runs.length,
        seededEnd: last,
      });
    }
  }

  workflows(): Array<DemoWorkflow & { readonly state: WorkflowState }> {
    return this.#dataset.workflows.map((workflow) => ({
      ...workflow,
      state: this.#workflowStates.get(workflow.workflowId) ?? workflow.state,
    }));
  }

  workflow(workflowId: string) {
    return this.workflows().find((workflow) => workflow.workflowId === workflowId);
  }

  setWorkflowState(workflowId: string, state: WorkflowState): void {
    if (!this.workflow(workflowId)) throw new UnknownWorkflow(workflowId);
    this.#workflowStates.set(workflowId, state);
  }

  /** Every run of the workflow that exists at `now`: the dataset's and those started since. */
  executionsOf(workflowId: string, now: Date): DemoExecution[] {
    const workflow = this.workflow(workflowId);
    if (!workflow) return [];
    const started = [...this.#triggered, ...this.#batchRuns(now)]
      .filter((run) => run.workflowId === workflowId && run.createdAt <= now)
      .map((run) => materialise(run, workflow.name, now));
    return [...workflow.executions, ...started];
  }

  execution(runId: string, now: Date): DemoExecution | undefined {
    for (const workflow of this.#dataset.workflows) {
      const found = this.executionsOf(workflow.workflowId, now).find(
        (execution) => execution.runId === runId,
      );
      if (found) return found;
    }
    return undefined;
  }

  /** Starts one run; refused for an unknown or paused workflow, as CI refuses. */
  trigger(workflowId: string, objectKey: string, now: Date): string {
    const workflow = this.workflow(workflowId);
    if (!workflow) throw new UnknownWorkflow(workflowId);
    if (workflow.state === 'Paused') throw new PausedWorkflow(workflowId);
    this.#sequence += 1;
    const runId = `i${hex(`trigger/${workflowId}/${objectKey}/${this.#sequence}`)}`;
    this.#triggered.push({ runId, workflowId, objectKey, createdAt: now, batchJobId: undefined });
    return runId;
  }

  startBatchJob(
    params: {
      readonly name: string;
      readonly workflowId: string;
      readonly source: BatchTriggerSource;
      readonly windowStart: Date | undefined;
      readonly windowEnd: Date | undefined;
    },
    now: Date,
  ): BatchJob {
    const workflow = this.workflow(params.workflowId);
    if (!workflow) throw new UnknownWorkflow(params.workflowId);
    if (workflow.state === 'Paused') throw new PausedWorkflow(params.workflowId);
    this.#sequence += 1;
    const job: BatchJob = {
      jobId: `b${hex(`batch/${params.workflowId}/${params.name}/${this.#sequence}`)}`,
      name: params.name,
      workflowId: params.workflowId,
      source: params.source,
      createdAt: now,
      windowStart: params.windowStart,
      windowEnd: params.windowEnd,
      objectKeys: this.#objectsFor(params.source),
      cancelledAt: undefined,
      seededRuns: undefined,
      seededEnd: undefined,
    };
    this.#batchJobs.set(job.jobId, job);
    return job;
  }

  batchJob(jobId: string, now: Date): BatchJobView | undefined {
    const job = this.#batchJobs.get(jobId);
    return job && job.createdAt <= now ? view(job, now) : undefined;
  }

  batchJobs(now: Date): BatchJobView[] {
    return [...this.#batchJobs.values()].filter((job) => job.createdAt <= now).map((job) => view(job, now));
  }

  /** Stops a job from starting more runs; cancelling a finished job changes nothing, as in CI. */
  cancelBatchJob(jobId: string, now: Date): boolean {
    const job = this.#batchJobs.get(jobId);
    if (!job) return false;
    const current = view(job, now);
    if (current.state === 'Submitted' || current.state === 'Running') job.cancelledAt = now;
    return true;
  }

  /** Every task of every run that exists at `now`, by job id. */
  mediaJob(jobId: string, now: Date): MediaJobView | undefined {
    for (const workflow of this.#dataset.workflows) {
      for (const execution of this.executionsOf(workflow.workflowId, now)) {
        const task = execution.tasks.find((candidate) => candidate.jobId === jobId);
        if (task) return { task, execution, ...jobStateOf(task, now) };
      }
    }
    return undefined;
  }

  /**
   * The callbacks CI would have sent by `now` and that have not been handed out yet: a `TaskFinish` per finished
   * task and a `WorkflowFinish` per finished run, of the runs started here (the dataset's runs finished long ago).
   */
  dueNotifications(now: Date): DueNotification[] {
    const due: DueNotification[] = [];
    const take = (key: string) => {
      if (this.#notified.has(key)) return false;
      this.#notified.add(key);
      return true;
    };
    for (const run of [...this.#triggered, ...this.#batchRuns(now)]) {
      if (run.createdAt > now) continue;
      const workflow = this.workflow(run.workflowId);
      if (!workflow) continue;
      const execution = materialise(run, workflow.name, now);
      for (const task of execution.tasks) {
        if (task.endedAt && take(`${run.runId}/task/${task.type}`)) {
          due.push({ event: 'TaskFinish', execution, task });
        }
      }
      if (isFinishedState(execution.state) && take(`${run.runId}/workflow`)) {
        due.push({ event: 'WorkflowFinish', execution, task: undefined });
      }
    }
    return due;
  }

  /** The bucket's objects: every key a run has been seen on. */
  #objectsFor(source: BatchTriggerSource): string[] {
    if (source.kind === 'objects') return [...source.objectKeys];
    // The emulator has no manifests or URL lists to read: such a job finds nothing.
    if (source.kind !== 'prefix') return [];
    const keys = new Set(
      this.#dataset.workflows.flatMap((workflow) =>
        workflow.executions.map((execution) => execution.objectKey),
      ),
    );
    return [...keys].filter((key) => key.startsWith(source.prefix)).sort();
  }

  /** The runs batch jobs have started by `now` (the seeded jobs' runs are in the dataset already). */
  #batchRuns(now: Date): StartedRun[] {
    const runs: StartedRun[] = [];
    for (const job of this.#batchJobs.values()) {
      if (job.seededRuns !== undefined) continue;
      job.objectKeys.forEach((objectKey, index) => {
        const createdAt = new Date(job.createdAt.getTime() + (index + 1) * BATCH_RUN_INTERVAL_SECONDS * 1000);
        if (job.cancelledAt && createdAt > job.cancelledAt) return;
        if (createdAt > now) return;
        runs.push({
          runId: `i${hex(`${job.jobId}/${index}`)}`,
          workflowId: job.workflowId,
          objectKey,
          createdAt,
          batchJobId: job.jobId,
        });
      });
    }
    return runs;
  }
}

/** A started run as it stands at `now`: a snapshot, then a transcode, each {@link TASK_SECONDS} long. */
function materialise(run: StartedRun, workflowName: string, now: Date): DemoExecution {
  const elapsed = (now.getTime() - run.createdAt.getTime()) / 1000;
  const fails = run.objectKey.includes(FAILING_OBJECT_MARK);
  const at = (seconds: number) => new Date(run.createdAt.getTime() + seconds * 1000);
  const task = (type: string, order: number): DemoTask | undefined => {
    const start = order * TASK_SECONDS;
    if (elapsed < start) return undefined;
    const done = elapsed >= start + TASK_SECONDS;
    const failed = done && fails && order === 1;
    return {
      type,
      name: `${type}_${1_581_665_960_536 + order}`,
      state: failed ? 'Failed' : done ? 'Success' : 'Running',
      jobId: `j${hex(`${run.runId}/${type}`)}`,
      templateId:
        type === 'Snapshot' ? 't0a1b2c3d4e5f60718293a4b5c6d7e8f9' : 't1f2e3d4c5b6a79808f7e6d5c4b3a2918',
      templateName: type === 'Snapshot' ? 'snapshot-1080p' : 'h264-720p',
      code: failed ? 'InternalError' : done ? 'Success' : '',
      message: failed ? 'transcode failed: unsupported codec in source' : '',
      createdAt: at(start),
      startedAt: at(start),
      endedAt: done ? at(start + TASK_SECONDS) : undefined,
    };
  };
  const tasks = [task('Snapshot', 0), task('Transcode', 1)].filter((t): t is DemoTask => t !== undefined);
  const finished = elapsed >= 2 * TASK_SECONDS;
  const state: ExecutionState = !finished ? 'Running' : fails ? 'Failed' : 'Success';
  return {
    runId: run.runId,
    workflowId: run.workflowId,
    workflowName,
    objectKey: run.objectKey,
    state,
    createdAt: run.createdAt,
    batchJobId: run.batchJobId,
    tasks,
  };
}

function view(job: BatchJob, now: Date): BatchJobView {
  if (job.seededRuns !== undefined) {
    return { ...job, state: 'Success', progress: 100, startedAt: job.createdAt, endedAt: job.seededEnd };
  }
  const total = job.objectKeys.length;
  const intervalMs = BATCH_RUN_INTERVAL_SECONDS * 1000;
  // A cancelled job started no runs after it was cancelled.
  const until = job.cancelledAt && job.cancelledAt < now ? job.cancelledAt : now;
  const startedRuns = Math.min(total, Math.floor((until.getTime() - job.createdAt.getTime()) / intervalMs));
  const lastRunAt = new Date(job.createdAt.getTime() + total * intervalMs);
  const progress = total === 0 ? 100 : Math.floor((100 * startedRuns) / total);
  const startedAt =
    total === 0 || startedRuns > 0 ? new Date(job.createdAt.getTime() + intervalMs) : undefined;
  if (job.cancelledAt) return { ...job, state: 'Cancel', progress, startedAt, endedAt: job.cancelledAt };
  if (startedRuns >= total) {
    return {
      ...job,
      state: 'Success',
      progress: 100,
      startedAt: startedAt ?? job.createdAt,
      endedAt: total === 0 ? job.createdAt : lastRunAt,
    };
  }
  return {
    ...job,
    state: startedRuns === 0 ? 'Submitted' : 'Running',
    progress,
    startedAt,
    endedAt: undefined,
  };
}

/** A task's job state and progress: tasks that ran to an end are 100%, running ones by the clock. */
function jobStateOf(task: DemoTask, now: Date): { state: JobState; progress: number } {
  switch (task.state) {
    case 'Success':
      return { state: 'Success', progress: 100 };
    case 'Failed':
      return { state: 'Failed', progress: 100 };
    case 'Pause':
      return { state: 'Pause', progress: 0 };
    case 'Cancel':
      return { state: 'Cancel', progress: 0 };
    default: {
      const started = task.startedAt?.getTime() ?? now.getTime();
      const fraction = Math.min(0.99, Math.max(0, (now.getTime() - started) / (TASK_SECONDS * 1000)));
      return { state: 'Running', progress: Math.floor(fraction * 100) };
    }
  }
}

function hex(seed: string): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, 32);
}
