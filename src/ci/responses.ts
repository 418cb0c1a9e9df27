/**
 * Decoders from CI's XML bodies to the typed values of `types.ts`: executions, workflows, triggers, acknowledgements
 * and error bodies here, jobs and batch triggers in `job-responses.ts`. Each response shape is declared once as a
 * schema, from the pieces in `response-fields.ts`; anything that does not match it (wrong root, missing or
 * malformed id, unknown state, unparseable time) is an `unreadable_response` error.
 */
import { z } from 'zod';
import { child, isRecord } from '../records.js';
import { type BucketId, mediaJobIdRule, runIdRule, workflowIdRule } from './inputs.js';
import {
  ciId,
  ciTime,
  decode,
  inBucket,
  list,
  optionalCiId,
  optionalCiTime,
  optionalNumber,
  optionalText,
  parseOrExplain,
  requiredText,
} from './response-fields.js';
import {
  type AsAnswered,
  EXECUTION_STATES,
  type MediaBucketInfo,
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
import { parseXml } from './xml.js';

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
): AsAnswered<WorkflowExecutionSummary> {
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
  .transform(({ Response }) => ({
    requestId: Response.RequestId,
    executions: Response.WorkflowExecutionList,
    nextToken: Response.NextToken ?? null,
  }));

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
    (item): AsAnswered<WorkflowTask> => ({
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
  .transform(({ Response }) => ({
    ...Response.WorkflowExecution,
    requestId: Response.RequestId,
  }));

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

const workflow = z
  .object({
    WorkflowId: ciId(workflowIdRule),
    Name: z.string(),
    State: z.enum(WORKFLOW_STATES),
    CreateTime: ciTime,
    UpdateTime: ciTime,
    Topology: startNotifyConfig,
  })
  .transform(
    (item): AsAnswered<Workflow> => ({
      workflowId: item.WorkflowId,
      name: item.Name,
      state: item.State,
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
      TotalCount: optionalNumber,
    }),
  })
  .transform(({ Response }) => ({
    requestId: Response.RequestId,
    workflows: Response.MediaWorkflowList,
    nonExistIds: Response.NonExistIDs,
    totalCount: Response.TotalCount,
  }));

const mediaBucketsResponse = z
  .object({
    Response: z.object({
      MediaBucketList: list(
        z.object({
          BucketId: requiredText,
          Name: requiredText,
          Region: requiredText,
          CreateTime: optionalCiTime,
        }),
      ),
    }),
  })
  .transform(({ Response }): MediaBucketInfo[] =>
    Response.MediaBucketList.map((bucket) => ({
      bucketId: bucket.BucketId,
      name: bucket.Name,
      region: bucket.Region,
      createdAt: bucket.CreateTime,
    })),
  );

const triggerResponse = z
  .object({ Response: z.object({ RequestId: optionalText, InstanceId: ciId(runIdRule) }) })
  .transform(({ Response }): TriggeredRun => ({ requestId: Response.RequestId, runId: Response.InstanceId }));

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

export function decodeListWorkflowExecutions(body: string, bucketId: BucketId): WorkflowExecutionPage {
  const page = decode(listResponse, body);
  return { ...page, executions: page.executions.map(inBucket(bucketId)) };
}

export function decodeWorkflowExecutionDetail(body: string, bucketId: BucketId): WorkflowExecutionDetail {
  const detail = decode(detailResponse, body);
  return { ...detail, bucketId, tasks: detail.tasks.map(inBucket(bucketId)) };
}

export function decodeWorkflowLookup(body: string, bucketId: BucketId): WorkflowLookup {
  const lookup = decode(workflowsResponse, body);
  return { ...lookup, workflows: lookup.workflows.map(inBucket(bucketId)) };
}

export const decodeTriggeredRun = (body: string) => decode(triggerResponse, body);
export const decodeMediaBuckets = (body: string) => decode(mediaBucketsResponse, body);

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
