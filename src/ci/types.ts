/**
 * The CI API's data, as the rest of the service sees it: camelCase, parsed times, no XML, and the ids CI issued
 * already held to their rules (branded by the decoders), so nothing downstream checks them again.
 */
import type { BatchJobId, BucketId, MediaJobId, RunId, WorkflowId } from './inputs.js';

export const EXECUTION_STATES = ['Running', 'Success', 'Failed', 'Pause', 'Cancel'] as const;
export type ExecutionState = (typeof EXECUTION_STATES)[number];

export const WORKFLOW_STATES = ['Active', 'Paused'] as const;
export type WorkflowState = (typeof WORKFLOW_STATES)[number];

export const SORT_ORDERS = ['Asc', 'Desc'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];

/** The upstream refuses `size` above this. */
export const MAX_UPSTREAM_PAGE_SIZE = 100;

/**
 * Which bucket a resource lives in. CI's answers do not say (the bucket is the host they came from): the client
 * that read them adds it, so a value can never be taken for another bucket's.
 */
export interface InBucket {
  readonly bucketId: BucketId;
}

/** A resource as CI's answer describes it, before the client adds its bucket. */
export type AsAnswered<T extends InBucket> = Omit<T, 'bucketId'>;

export interface WorkflowExecutionSummary extends InBucket {
  readonly runId: RunId;
  readonly workflowId: WorkflowId;
  readonly objectKey: string;
  readonly state: ExecutionState;
  readonly createdAt: Date;
}

export interface WorkflowExecutionPage {
  readonly requestId: string | undefined;
  readonly executions: readonly WorkflowExecutionSummary[];
  /** Null on the last page. */
  readonly nextToken: string | null;
}

/** A run's task; it carries its bucket so its media job is read from the same one. */
export interface WorkflowTask extends InBucket {
  readonly type: string;
  readonly name: string | undefined;
  readonly state: string;
  readonly jobId: MediaJobId | undefined;
  readonly templateId: string | undefined;
  readonly templateName: string | undefined;
  readonly code: string | undefined;
  readonly message: string | undefined;
  readonly createdAt: Date | undefined;
  readonly startedAt: Date | undefined;
  readonly endedAt: Date | undefined;
}

export interface WorkflowExecutionDetail extends WorkflowExecutionSummary {
  readonly requestId: string | undefined;
  readonly workflowName: string | undefined;
  readonly tasks: readonly WorkflowTask[];
}

export interface Workflow extends InBucket {
  readonly workflowId: WorkflowId;
  readonly name: string;
  readonly state: WorkflowState;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Where CI reports on its runs: the Start node's `NotifyConfig`; undefined when none is configured. */
  readonly notifyConfig: NotifyConfig | undefined;
}

/**
 * A workflow's callback settings, as CI holds them. Values are CI's own words (`Url`, `TDMQ`; `XML`, `JSON`;
 * `TaskFinish`, `WorkflowFinish`), kept as given: they describe, they are not acted on.
 */
export interface NotifyConfig {
  /** `State`: absent means CI's default, which sends. */
  readonly enabled: boolean;
  readonly type: string | undefined;
  /** The callback URL, secrets and all: mask it before showing it to anyone. */
  readonly url: string | undefined;
  readonly events: readonly string[];
  readonly resultFormat: string | undefined;
  /** TDMQ's topic or queue, when `type` is `TDMQ`. */
  readonly queueName: string | undefined;
}

export interface WorkflowLookup {
  readonly requestId: string | undefined;
  readonly workflows: readonly Workflow[];
  /** Requested ids the upstream reports as not existing. */
  readonly nonExistIds: readonly string[];
  /** How many workflows the search matched in all, over every page (when CI says). */
  readonly totalCount?: number | undefined;
}

/** A bucket with CI's media processing enabled, as `GET /mediabucket` on the region host describes it. */
export interface MediaBucketInfo {
  readonly bucketId: string;
  readonly name: string;
  readonly region: string;
  readonly createdAt: Date | undefined;
}

/** `POST /triggerworkflow`: the run it started. */
export interface TriggeredRun {
  readonly requestId: string | undefined;
  readonly runId: RunId;
}

/** States of CI's jobs: media jobs and batch-trigger jobs alike. */
export const JOB_STATES = ['Submitted', 'Running', 'Success', 'Failed', 'Pause', 'Cancel'] as const;
export type JobState = (typeof JOB_STATES)[number];

const FINISHED_STATES: ReadonlySet<ExecutionState | JobState> = new Set(['Success', 'Failed', 'Cancel']);
/** A run or job in one of these changes no more: its answers may be cached, its watchers may stop. */
export const isFinishedState = (state: ExecutionState | JobState): boolean => FINISHED_STATES.has(state);

/** When a finished run finished: its last task's end; undefined while it runs or is paused, or if no task says. */
export function finishedAt(detail: WorkflowExecutionDetail): Date | undefined {
  if (!isFinishedState(detail.state)) return undefined;
  const ends = detail.tasks.flatMap((task) => (task.endedAt ? [task.endedAt.getTime()] : []));
  return ends.length > 0 ? new Date(Math.max(...ends)) : undefined;
}

/** Seconds from a run's creation to {@link finishedAt}; undefined until it has finished. */
export function runDurationSeconds(detail: WorkflowExecutionDetail): number | undefined {
  const end = finishedAt(detail);
  return end && (end.getTime() - detail.createdAt.getTime()) / 1000;
}

/** A run still running or paused `afterMs` or more after it was created. */
export function isStuck(run: WorkflowExecutionSummary, now: Date, afterMs: number): boolean {
  return !isFinishedState(run.state) && now.getTime() - run.createdAt.getTime() >= afterMs;
}

/** What a media job's output looked like, where CI says (the job's `MediaInfo`). */
export interface MediaInfoSummary {
  readonly durationSeconds: number | undefined;
  readonly formatName: string | undefined;
  readonly sizeBytes: number | undefined;
  readonly width: number | undefined;
  readonly height: number | undefined;
}

/** Where one of CI's jobs (a media job, a batch trigger) stands, as both report it. */
export interface JobStatus {
  readonly state: JobState;
  /** 0–100, when CI reports it. */
  readonly progress: number | undefined;
  readonly code: string | undefined;
  readonly message: string | undefined;
  readonly createdAt: Date | undefined;
  readonly startedAt: Date | undefined;
  readonly endedAt: Date | undefined;
}

/** One media job (`GET /jobs/<id>`): the work behind one task of a run. */
export interface MediaJob extends JobStatus {
  readonly jobId: MediaJobId;
  /** The kind of job, e.g. `Transcode`. */
  readonly tag: string;
  readonly queueId: string | undefined;
  readonly inputObject: string | undefined;
  /** Keys of the objects it wrote. */
  readonly outputObjects: readonly string[];
  readonly mediaInfo: MediaInfoSummary | undefined;
  /** The run it belongs to, for jobs started by a workflow. */
  readonly runId: RunId | undefined;
  readonly workflowId: WorkflowId | undefined;
}

/** What a batch trigger runs its workflow on: exactly one of these. */
export type BatchTriggerSource =
  | { readonly kind: 'prefix'; readonly prefix: string }
  | { readonly kind: 'objects'; readonly objectKeys: readonly string[] }
  | { readonly kind: 'manifest'; readonly manifest: string }
  | { readonly kind: 'urlFile'; readonly urlFile: string };

/** A batch (inventory) trigger job: one workflow run for each object it finds. */
export interface BatchTrigger extends JobStatus, InBucket {
  readonly jobId: BatchJobId;
  readonly name: string | undefined;
  readonly source: BatchTriggerSource | undefined;
  readonly workflowIds: readonly WorkflowId[];
  /** Only objects created in this window, when set. */
  readonly createdAfter: Date | undefined;
  readonly createdBefore: Date | undefined;
}

/** `JobsDetail` answers: the jobs found, and the ids asked for that CI does not know. */
export interface JobLookup<T> {
  readonly requestId: string | undefined;
  readonly jobs: readonly T[];
  readonly nonExistJobIds: readonly string[];
}

export type MediaJobLookup = JobLookup<MediaJob>;
export type BatchTriggerLookup = JobLookup<BatchTrigger>;

export interface BatchTriggerPage {
  readonly requestId: string | undefined;
  readonly jobs: readonly BatchTrigger[];
  readonly nextToken: string | null;
}
