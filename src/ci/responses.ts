/**
 * Decoders from CI's XML bodies to the typed values of `types.ts`. Each response shape is declared once as a
 * schema; anything that does not match it (wrong root, missing id, unknown state, unparseable time) is an
 * `unreadable_response` error rather than a crash or a silently empty list.
 */
import { z } from 'zod';
import { CiError } from './errors.js';
import { parseCiTime } from './time.js';
import {
  EXECUTION_STATES,
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
const list = <T extends z.ZodType>(item: T) => z.preprocess(repeated, z.array(item));

/** The fields every execution carries, in the list and in the detail answer. */
const executionFields = {
  RunId: requiredText,
  WorkflowId: requiredText,
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
    JobId: optionalText,
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

const workflow = z
  .object({
    WorkflowId: requiredText,
    Name: z.string(),
    State: z.enum(WORKFLOW_STATES),
    BucketId: optionalText,
    CreateTime: ciTime,
    UpdateTime: ciTime,
  })
  .transform(
    (item): Workflow => ({
      workflowId: item.WorkflowId,
      name: item.Name,
      state: item.State,
      bucketId: item.BucketId,
      createdAt: item.CreateTime,
      updatedAt: item.UpdateTime,
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

function decode<T>(schema: z.ZodType<T>, body: string): T {
  let tree: unknown;
  try {
    tree = parseXml(body);
  } catch (error) {
    const reason = error instanceof XmlSyntaxError ? error.message : 'unparseable XML';
    throw new CiError('unreadable_response', `response is not well-formed XML: ${reason}`, { cause: error });
  }
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
