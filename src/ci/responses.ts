/**
 * Decoders from CI's XML bodies to the typed values of `types.ts`. Each response shape is declared once as a
 * schema; anything that does not match it (wrong root, missing id, unknown state, unparseable time) is an
 * `unreadable_response` error rather than a crash or a silently empty list.
 */
import { z } from 'zod';
import { CiError } from './errors.js';
import { batchJobIdRule, type InputRule, mediaJobIdRule, runIdRule, workflowIdRule } from './inputs.js';
import { parseCiTime } from './time.js';
import {
  type BatchTrigger,
  type BatchTriggerLookup,
  type BatchTriggerPage,
  type BatchTriggerSource,
  EXECUTION_STATES,
  JOB_STATES,
  type JobLookup,
  type JobStatus,
  type MediaInfoSummary,
  type MediaJob,
  type MediaJobLookup,
  type NotifyConfig,
  type TriggeredRun,
  WORKFLOW_STATES,
  type Workflow,
  type WorkflowExecutionDetail,
  type WorkflowExecutionPage,
  type WorkflowExecutionSummary,
  type WorkflowLookup,
  type WorkflowTask,
} from './types.js';
import { parseXml, repeated, XmlSyntaxError } from './xml.js';

/** A leaf that must be present and non-empty. */
const requiredText = z.string().trim().min(1);
/** A leaf that may be absent or empty; both read as undefined. */
const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value));
const ciTime = z.string().transform((value, context) => {
  const instant = parseCiTime(value);
  if (instant === undefined) {
    context.addIssue({ code: 'custom', message: `unparseable time "${value}"` });
    return z.NEVER;
  }
  return instant;
});
const optionalCiTime = optionalText.pipe(z.union([z.undefined(), ciTime]));
/** An id CI issued, held to the rule its inputs are: an answer naming a malformed one is unreadable. */
const ciId = <T>(rule: InputRule<T>) =>
  requiredText.transform((value, context) => {
    const parsed = rule.parse(value);
    if (parsed.ok) return parsed.value;
    context.addIssue({ code: 'custom', message: `"${value}" ${parsed.problem}` });
    return z.NEVER;
  });
const optionalCiId = <T>(rule: InputRule<T>) => optionalText.pipe(z.union([z.undefined(), ciId(rule)]));
const list = <T extends z.ZodType>(item: T) => z.preprocess(repeated, z.array(item));

/** The fields every execution carries, in the list and in the detail answer. */
const executionFields = {
  RunId: ciId(runIdRule),
  WorkflowId: ciId(workflowIdRule),
  Object: z.string(),
  State: z.enum(EXECUTION_STATES),
  CreateTime: optionalCiTime,
  CreationTime: optionalCiTime,
};

/** The list call names the time `CreateTime`; some SDKs read `CreationTime`. Accept either. */
function toSummary(
  item: z.output<z.ZodObject<typeof executionFields>>,
  context: z.RefinementCtx,
): WorkflowExecutionSummary {
  const createdAt = item.CreateTime ?? item.CreationTime;
  if (createdAt === undefined) {
    context.addIssue({ code: 'custom', message: 'missing CreateTime', path: ['CreateTime'] });
    return z.NEVER;
  }
  return {
    runId: item.RunId,
    workflowId: item.WorkflowId,
    objectKey: item.Object,
    state: item.State,
    createdAt,
  };
}

const executionSummary = z.object(executionFields).transform(toSummary);

const listResponse = z
  .object({
    Response: z.object({
      RequestId: optionalText,
      WorkflowExecutionList: list(executionSummary),
      NextToken: optionalText,
    }),
  })
  .transform(
    ({ Response }): WorkflowExecutionPage => ({
      requestId: Response.RequestId,
      executions: Response.WorkflowExecutionList,
      nextToken: Response.NextToken ?? null,
    }),
  );

const task = z
  .object({
    Type: requiredText,
    Name: optionalText,
    State: requiredText,
    JobId: optionalCiId(mediaJobIdRule),
    TemplateId: optionalText,
    TemplateName: optionalText,
    Code: optionalText,
    Message: optionalText,
    CreateTime: optionalCiTime,
    StartTime: optionalCiTime,
    EndTime: optionalCiTime,
  })
  .transform(
    (item): WorkflowTask => ({
      type: item.Type,
      name: item.Name,
      state: item.State,
      jobId: item.JobId,
      templateId: item.TemplateId,
      templateName: item.TemplateName,
      code: item.Code,
      message: item.Message,
      createdAt: item.CreateTime,
      startedAt: item.StartTime,
      endedAt: item.EndTime,
    }),
  );

const executionDetail = z
  .object({ ...executionFields, Name: optionalText, WorkflowName: optionalText, Tasks: list(task) })
  .transform((item, context) => ({
    ...toSummary(item, context),
    workflowName: item.Name ?? item.WorkflowName,
    tasks: item.Tasks,
  }));

const detailResponse = z
  .object({ Response: z.object({ RequestId: optionalText, WorkflowExecution: executionDetail }) })
  .transform(
    ({ Response }): WorkflowExecutionDetail => ({
      ...Response.WorkflowExecution,
      requestId: Response.RequestId,
    }),
  );

/** The Start node's `Input.NotifyConfig`. */
const notifyConfig = z
  .object({
    State: optionalText,
    Type: optionalText,
    Url: optionalText,
    Event: optionalText,
    ResultFormat: optionalText,
    MqName: optionalText,
  })
  .transform(
    (config): NotifyConfig => ({
      enabled: config.State === undefined || config.State.toLowerCase() === 'on',
      type: config.Type,
      url: config.Url,
      events: (config.Event ?? '')
        .split(',')
        .map((event) => event.trim())
        .filter(Boolean),
      resultFormat: config.ResultFormat,
      queueName: config.MqName,
    }),
  );

/**
 * `Topology.Nodes` is a map from node names to nodes; the Start node is the one named `Start` (or typed so). Any
 * other node, and anything unexpected in them, is left alone: only the callback settings are read.
 */
const startNotifyConfig = z.preprocess((topology) => {
  const nodes = child(topology, 'Nodes');
  if (!isRecord(nodes)) return undefined;
  const start = nodes['Start'] ?? Object.values(nodes).find((node) => child(node, 'Type') === 'Start');
  const config = child(child(start, 'Input'), 'NotifyConfig');
  return isRecord(config) ? config : undefined;
}, notifyConfig.optional());

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An element's child, read where the answer's shape is not checked (undefined when there is none). */
function child(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

const workflow = z
  .object({
    WorkflowId: ciId(workflowIdRule),
    Name: z.string(),
    State: z.enum(WORKFLOW_STATES),
    BucketId: optionalText,
    CreateTime: ciTime,
    UpdateTime: ciTime,
    Topology: startNotifyConfig,
  })
  .transform(
    (item): Workflow => ({
      workflowId: item.WorkflowId,
      name: item.Name,
      state: item.State,
      bucketId: item.BucketId,
      createdAt: item.CreateTime,
      updatedAt: item.UpdateTime,
      notifyConfig: item.Topology,
    }),
  );

const workflowsResponse = z
  .object({
    Response: z.object({
      RequestId: optionalText,
      MediaWorkflowList: list(workflow),
      NonExistIDs: list(requiredText),
    }),
  })
  .transform(
    ({ Response }): WorkflowLookup => ({
      requestId: Response.RequestId,
      workflows: Response.MediaWorkflowList,
      nonExistIds: Response.NonExistIDs,
    }),
  );

const triggerResponse = z
  .object({ Response: z.object({ RequestId: optionalText, InstanceId: ciId(runIdRule) }) })
  .transform(({ Response }): TriggeredRun => ({ requestId: Response.RequestId, runId: Response.InstanceId }));

/** A count or size: digits, possibly with a fraction; absent or unparseable reads as undefined. */
const optionalNumber = optionalText.transform((value) => {
  if (value === undefined) return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
});
const optionalRecord = <T extends z.ZodRawShape>(shape: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), z.object(shape).optional());

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
    (job): BatchTrigger => ({
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
  .transform(
    ({ Response }): BatchTriggerPage => ({
      requestId: Response.RequestId,
      jobs: Response.JobsDetail,
      nextToken: Response.NextToken ?? null,
    }),
  );

/** An answer with no body worth reading (pause, activate, cancel): any well-formed body or none. */
export function decodeAcknowledgement(body: string): { readonly requestId: string | undefined } {
  if (body.trim() === '') return { requestId: undefined };
  const tree = parseOrExplain(body);
  const requestId = child(tree['Response'], 'RequestId');
  return { requestId: typeof requestId === 'string' && requestId !== '' ? requestId : undefined };
}

const errorFields = z.object({
  Code: optionalText,
  Message: optionalText,
  RequestId: optionalText,
  TraceId: optionalText,
});
/** CI's `<Error>` body; a `<Response><Code>` body is read the same way, defensively. */
const errorResponse = z.union([z.object({ Error: errorFields }), z.object({ Response: errorFields })]);

export interface UpstreamErrorBody {
  readonly code: string | undefined;
  readonly message: string | undefined;
  readonly requestId: string | undefined;
}

export const decodeListWorkflowExecutions = (body: string) => decode(listResponse, body);
export const decodeWorkflowExecutionDetail = (body: string) => decode(detailResponse, body);
export const decodeWorkflowLookup = (body: string) => decode(workflowsResponse, body);
export const decodeTriggeredRun = (body: string) => decode(triggerResponse, body);
const mediaJobsResponse = jobLookup(mediaJob);
const batchTriggerLookupResponse = jobLookup(batchTrigger);
export const decodeMediaJobs = (body: string): MediaJobLookup => decode(mediaJobsResponse, body);
export const decodeBatchTriggerLookup = (body: string): BatchTriggerLookup =>
  decode(batchTriggerLookupResponse, body);
export const decodeBatchTriggerPage = (body: string) => decode(batchTriggerPageResponse, body);

/** Reads an error body; undefined when the body is not one (an HTML page from a proxy, say). */
export function decodeErrorBody(body: string): UpstreamErrorBody | undefined {
  let tree: unknown;
  try {
    tree = parseXml(body);
  } catch {
    return undefined;
  }
  const parsed = errorResponse.safeParse(tree);
  if (!parsed.success) return undefined;
  const fields = 'Error' in parsed.data ? parsed.data.Error : parsed.data.Response;
  return { code: fields.Code, message: fields.Message, requestId: fields.RequestId };
}

function parseOrExplain(body: string) {
  try {
    return parseXml(body);
  } catch (error) {
    const reason = error instanceof XmlSyntaxError ? error.message : 'unparseable XML';
    throw new CiError('unreadable_response', `response is not well-formed XML: ${reason}`, { cause: error });
  }
}

function decode<T>(schema: z.ZodType<T>, body: string): T {
  const tree = parseOrExplain(body);
  const parsed = schema.safeParse(tree);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'document';
    throw new CiError(
      'unreadable_response',
      `response has an unexpected shape at ${where}: ${issue?.message}`,
    );
  }
  return parsed.data;
}
