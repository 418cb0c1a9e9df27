/** Decoders of CI's job answers: media jobs (`GET /jobs/<id>,…`) and batch triggers (`/inventorytriggerjob`). */
import { z } from 'zod';
import { type BucketId, batchJobIdRule, mediaJobIdRule, runIdRule, workflowIdRule } from './inputs.js';
import {
  ciId,
  decode,
  inBucket,
  list,
  optionalCiId,
  optionalCiTime,
  optionalNumber,
  optionalRecord,
  optionalText,
  requiredText,
} from './response-fields.js';
import {
  type AsAnswered,
  type BatchTrigger,
  type BatchTriggerLookup,
  type BatchTriggerPage,
  type BatchTriggerSource,
  JOB_STATES,
  type JobLookup,
  type JobStatus,
  type MediaInfoSummary,
  type MediaJob,
  type MediaJobLookup,
} from './types.js';
import { repeated } from './xml.js';

const mediaInfo = optionalRecord({
  Format: optionalRecord({ Duration: optionalNumber, FormatName: optionalText, Size: optionalNumber }),
  Stream: optionalRecord({
    Video: z.preprocess(
      (value) => (Array.isArray(value) ? value[0] : value),
      optionalRecord({ Width: optionalNumber, Height: optionalNumber }),
    ),
  }),
}).transform((info): MediaInfoSummary | undefined =>
  info === undefined
    ? undefined
    : {
        durationSeconds: info.Format?.Duration,
        formatName: info.Format?.FormatName,
        sizeBytes: info.Format?.Size,
        width: info.Stream?.Video?.Width,
        height: info.Stream?.Video?.Height,
      },
);

/** An output's object keys: `Output.Object` for one file, or a list of them. */
const outputObjects = optionalRecord({
  Object: z.union([z.string(), z.array(z.string())]).optional(),
}).transform((output) => {
  const objects = output?.Object;
  if (objects === undefined) return [];
  return (Array.isArray(objects) ? objects : [objects]).filter((key) => key !== '');
});

/** The status every CI job answer carries, a media job's or a batch trigger's, and what it becomes. */
const jobStatusFields = {
  State: z.enum(JOB_STATES),
  Progress: optionalNumber,
  Code: optionalText,
  Message: optionalText,
  CreationTime: optionalCiTime,
  StartTime: optionalCiTime,
  EndTime: optionalCiTime,
};
const toJobStatus = (job: z.output<z.ZodObject<typeof jobStatusFields>>): JobStatus => ({
  state: job.State,
  progress: job.Progress,
  code: job.Code,
  message: job.Message,
  createdAt: job.CreationTime,
  startedAt: job.StartTime,
  endedAt: job.EndTime,
});

const mediaJob = z
  .object({
    JobId: ciId(mediaJobIdRule),
    Tag: requiredText,
    ...jobStatusFields,
    QueueId: optionalText,
    Input: optionalRecord({ Object: optionalText }),
    Operation: optionalRecord({ Output: outputObjects, MediaInfo: mediaInfo }),
    Workflow: optionalRecord({ RunId: optionalCiId(runIdRule), WorkflowId: optionalCiId(workflowIdRule) }),
  })
  .transform(
    (job): MediaJob => ({
      jobId: job.JobId,
      tag: job.Tag,
      ...toJobStatus(job),
      queueId: job.QueueId,
      inputObject: job.Input?.Object,
      outputObjects: job.Operation?.Output ?? [],
      mediaInfo: job.Operation?.MediaInfo,
      runId: job.Workflow?.RunId,
      workflowId: job.Workflow?.WorkflowId,
    }),
  );

/** A `JobsDetail` answer: the jobs found, and the ids asked for that CI does not know. */
const jobLookup = <T extends z.ZodType>(job: T) =>
  z
    .object({
      Response: z.object({
        RequestId: optionalText,
        JobsDetail: list(job),
        NonExistJobIds: list(requiredText),
      }),
    })
    .transform(
      ({ Response }): JobLookup<z.output<T>> => ({
        requestId: Response.RequestId,
        jobs: Response.JobsDetail,
        nonExistJobIds: Response.NonExistJobIds,
      }),
    );

/** A batch trigger's `Input` element, as the request sends it and the answers repeat it. */
export function encodeBatchTriggerInput(source: BatchTriggerSource): Record<string, unknown> {
  switch (source.kind) {
    case 'prefix':
      return { Prefix: source.prefix };
    case 'objects':
      return { Object: [...source.objectKeys] };
    case 'manifest':
      return { Manifest: source.manifest };
    case 'urlFile':
      return { UrlFile: source.urlFile };
  }
}

const batchTriggerSource = optionalRecord({
  Prefix: optionalText,
  Object: z.preprocess(repeated, z.array(z.string())).optional(),
  Manifest: optionalText,
  UrlFile: optionalText,
}).transform((input): BatchTriggerSource | undefined => {
  if (input?.Prefix !== undefined) return { kind: 'prefix', prefix: input.Prefix };
  if (input?.Object?.length) return { kind: 'objects', objectKeys: input.Object };
  if (input?.Manifest !== undefined) return { kind: 'manifest', manifest: input.Manifest };
  if (input?.UrlFile !== undefined) return { kind: 'urlFile', urlFile: input.UrlFile };
  return undefined;
});

const batchTrigger = z
  .object({
    JobId: ciId(batchJobIdRule),
    Name: optionalText,
    ...jobStatusFields,
    Input: batchTriggerSource,
    Operation: optionalRecord({
      WorkflowIds: z.preprocess(
        (value) => (typeof value === 'string' ? value.split(',').filter(Boolean) : repeated(value)),
        z.array(ciId(workflowIdRule)),
      ),
      TimeInterval: optionalRecord({ Start: optionalCiTime, End: optionalCiTime }),
    }),
  })
  .transform(
    (job): AsAnswered<BatchTrigger> => ({
      jobId: job.JobId,
      name: job.Name,
      ...toJobStatus(job),
      source: job.Input,
      workflowIds: job.Operation?.WorkflowIds ?? [],
      createdAfter: job.Operation?.TimeInterval?.Start,
      createdBefore: job.Operation?.TimeInterval?.End,
    }),
  );

const batchTriggerPageResponse = z
  .object({
    Response: z.object({ RequestId: optionalText, JobsDetail: list(batchTrigger), NextToken: optionalText }),
  })
  .transform(({ Response }) => ({
    requestId: Response.RequestId,
    jobs: Response.JobsDetail,
    nextToken: Response.NextToken ?? null,
  }));

const mediaJobsResponse = jobLookup(mediaJob);
const batchTriggerLookupResponse = jobLookup(batchTrigger);
export const decodeMediaJobs = (body: string): MediaJobLookup => decode(mediaJobsResponse, body);

export function decodeBatchTriggerLookup(body: string, bucketId: BucketId): BatchTriggerLookup {
  const lookup = decode(batchTriggerLookupResponse, body);
  return { ...lookup, jobs: lookup.jobs.map(inBucket(bucketId)) };
}

export function decodeBatchTriggerPage(body: string, bucketId: BucketId): BatchTriggerPage {
  const page = decode(batchTriggerPageResponse, body);
  return { ...page, jobs: page.jobs.map(inBucket(bucketId)) };
}
