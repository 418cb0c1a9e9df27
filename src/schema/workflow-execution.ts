/**
 * `WorkflowExecution` and its tasks: the `workflowExecutions` and `workflowExecution` queries, the trigger and
 * re-run mutations, and the `workflowExecutionUpdated` subscription.
 */
import type { TriggerWorkflowParams } from '../ci/client.js';
import { jobNameRule, objectKeyRule, type RunId, runIdRule, workflowIdRule } from '../ci/inputs.js';
import { finishedAt, runDurationSeconds, type WorkflowExecutionDetail } from '../ci/types.js';
import type { AccessRules, Builder } from './builder.js';
import type { BucketScope, GraphQLContext } from './context.js';
import { costs } from './costs.js';
import { ExecutionStateEnum } from './enums.js';
import { executionNotFound, userInputError } from './errors.js';
import { executionFilter, executionFilterFields } from './execution-filter.js';
import { parseArgument, parseOptionalArgument, parseReference } from './inputs.js';
import { usableWorkflow } from './lookups.js';
import { pageArgs } from './page-args.js';
import { paginateExecutions } from './pagination.js';
import {
  BUCKET_ARGUMENT,
  BUCKET_FIELD,
  entityReference,
  globalId,
  loadReference,
  parseGlobalId,
  type Reference,
} from './references.js';
import type { ExecutionParent } from './shapes.js';
import { subscriptionSource } from './subscription-source.js';

interface TriggerResult {
  readonly bucketId: WorkflowExecutionDetail['bucketId'];
  readonly runId: WorkflowExecutionDetail['runId'];
  readonly rerunOf: ExecutionParent | null;
}

export function registerWorkflowExecution(builder: Builder, access: AccessRules): void {
  builder.objectType('WorkflowTask', {
    description: 'One step (snapshot, transcode, …) of a workflow execution.',
    fields: (t) => ({
      type: t.exposeString('type', { description: 'Kind of task, e.g. `Transcode` or `Snapshot`.' }),
      name: t.exposeString('name', { nullable: true, description: 'Node name in the workflow topology.' }),
      state: t.exposeString('state', { description: 'The task’s state as CI reports it, e.g. `Success`.' }),
      jobId: t.exposeID('jobId', { nullable: true, description: 'The media job that ran this task.' }),
      templateId: t.exposeID('templateId', { nullable: true }),
      templateName: t.exposeString('templateName', { nullable: true }),
      code: t.exposeString('code', { nullable: true, description: 'CI’s result code, e.g. `Success`.' }),
      message: t.exposeString('message', {
        nullable: true,
        description: 'CI’s explanation when the task failed.',
      }),
      createdAt: t.expose('createdAt', { type: 'DateTime', nullable: true }),
      startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
      endedAt: t.expose('endedAt', { type: 'DateTime', nullable: true }),
    }),
  });

  const WorkflowExecutionRef = builder.node('WorkflowExecution', {
    description: 'One run of a media workflow on one object.',
    ...access.read,
    id: { resolve: (execution) => globalId(execution.bucketId, execution.runId) },
    loadOne: (id, context) => loadExecutionReference(parseGlobalId(id), context),
    fields: (t) => ({
      bucketId: t.exposeID('bucketId', { description: BUCKET_FIELD }),
      runId: t.exposeID('runId', { description: 'CI’s id of the run (`RunId`).' }),
      workflowId: t.exposeID('workflowId'),
      objectKey: t.exposeString('objectKey', { description: 'Key of the COS object the run processed.' }),
      state: t.expose('state', { type: ExecutionStateEnum }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
      workflowName: t.string({
        nullable: true,
        description: 'Name of the workflow at the time of the run.',
        resolve: async (execution, _args, context) => (await detailOf(execution, context))?.workflowName,
      }),
      tasks: t.field({
        ...costs.tasks,
        type: ['WorkflowTask'],
        description: 'The run’s tasks, in order.',
        resolve: async (execution, _args, context) => (await detailOf(execution, context))?.tasks ?? [],
      }),
      finishedAt: t.field({
        ...costs.executionDetail,
        type: 'DateTime',
        nullable: true,
        description: 'When the run finished (its last task’s end); null while it runs or is paused.',
        resolve: async (execution, _args, context) => {
          const detail = await detailOf(execution, context);
          return (detail && finishedAt(detail)) ?? null;
        },
      }),
      durationSeconds: t.float({
        ...costs.executionDetail,
        nullable: true,
        description: 'From creation to `finishedAt`, in seconds; null until the run has finished.',
        resolve: async (execution, _args, context) => {
          const detail = await detailOf(execution, context);
          return (detail && runDurationSeconds(detail)) ?? null;
        },
      }),
      failedTask: t.field({
        ...costs.executionDetail,
        type: 'WorkflowTask',
        nullable: true,
        description: 'The task that failed the run, with CI’s code and message; null unless a task failed.',
        resolve: async (execution, _args, context) =>
          (await detailOf(execution, context))?.tasks.find((task) => task.state === 'Failed'),
      }),
    }),
  });

  // Other subgraphs reference runs by bucket and id, or by id alone (looked for in the caller's buckets); a batch
  // of references is deduplicated and loaded with bounded concurrency by each bucket's per-request loader.
  builder.asEntity(WorkflowExecutionRef, {
    key: [
      builder.selection<{ bucketId: string; runId: string }>('bucketId runId'),
      builder.selection<{ runId: string }>('runId'),
    ],
    resolveReference: (reference, context) =>
      loadExecutionReference(entityReference(reference, 'runId'), context),
  });

  const WorkflowExecutionFilter = builder.inputType('WorkflowExecutionFilter', {
    description: 'Which executions to list. Every field narrows the result; time bounds are inclusive.',
    fields: (t) => ({
      bucketId: t.id({ description: BUCKET_ARGUMENT }),
      workflowId: t.id({ required: true }),
      ...executionFilterFields(t),
    }),
  });

  builder.connectionObject(
    { type: WorkflowExecutionRef, name: 'WorkflowExecutionConnection' },
    { name: 'WorkflowExecutionEdge' },
  );

  builder.queryFields((t) => ({
    workflowExecutions: t.field({
      ...access.read,
      ...costs.executionsPage,
      type: 'WorkflowExecutionConnection',
      description:
        'A workflow’s executions, newest first unless `filter.order` says otherwise. Forward-only: pass the ' +
        'previous page’s `pageInfo.endCursor` as `after`.',
      args: {
        filter: t.arg({ type: WorkflowExecutionFilter, required: true }),
        ...pageArgs(t.arg, 'How many executions, from 1 to the configured maximum (100 by default).'),
      },
      resolve: (_root, args, context) =>
        paginateExecutions(
          context,
          context.bucketArgument(args.filter.bucketId, 'filter.bucketId'),
          executionFilter(
            parseArgument(workflowIdRule, String(args.filter.workflowId), 'filter.workflowId'),
            args.filter,
          ),
          args,
        ),
    }),
    workflowExecution: t.field({
      ...access.read,
      ...costs.executionDetail,
      type: WorkflowExecutionRef,
      nullable: true,
      description:
        'One execution with its tasks; null when CI has no run with this id. An id that is not a run id ' +
        '(`i` and 32 hex digits) is `BAD_USER_INPUT`.',
      args: { bucketId: t.arg.id({ description: BUCKET_ARGUMENT }), runId: t.arg.id({ required: true }) },
      resolve: (_root, args, context) => {
        const runId = parseArgument(runIdRule, String(args.runId), 'runId');
        return context.bucketArgument(args.bucketId, 'bucketId').executionDetails.load(runId);
      },
    }),
  }));

  const TriggerWorkflowInput = builder.inputType('TriggerWorkflowInput', {
    fields: (t) => ({
      bucketId: t.id({ description: BUCKET_ARGUMENT }),
      workflowId: t.id({ required: true }),
      objectKey: t.string({ required: true, description: 'The COS object to run the workflow on.' }),
      name: t.string({
        description: 'A label for the trigger: up to 128 CJK characters, letters, digits, `-` and `_`.',
      }),
    }),
  });

  const TriggerWorkflowPayload = builder.objectRef<TriggerResult>('TriggerWorkflowPayload').implement({
    fields: (t) => ({
      runId: t.exposeID('runId', { description: 'The new run’s id.' }),
      execution: t.field({
        ...costs.executionDetail,
        type: WorkflowExecutionRef,
        nullable: true,
        description: 'The new run, read back from CI (null if CI does not show it yet).',
        resolve: (result, _args, context) =>
          context.bucket(result.bucketId).executionDetails.load(result.runId),
      }),
      rerunOf: t.expose('rerunOf', {
        type: WorkflowExecutionRef,
        nullable: true,
        description: 'For a re-run, the run it repeats.',
      }),
    }),
  });

  const write = { ...access.write, ...costs.action };

  builder.mutationFields((t) => ({
    triggerWorkflow: t.field({
      ...write,
      type: TriggerWorkflowPayload,
      description: 'Starts one run of a workflow on an object. Sent to CI at most once.',
      args: { input: t.arg({ type: TriggerWorkflowInput, required: true }) },
      resolve: async (_root, { input }, context) => {
        const workflowId = parseArgument(workflowIdRule, String(input.workflowId), 'input.workflowId');
        const objectKey = parseArgument(objectKeyRule, input.objectKey, 'input.objectKey');
        const name = parseOptionalArgument(jobNameRule, input.name, 'input.name');
        const bucket = context.bucketArgument(input.bucketId, 'input.bucketId');
        return trigger(bucket, { workflowId, objectKey, name }, null);
      },
    }),
    rerunWorkflowExecution: t.field({
      ...write,
      type: TriggerWorkflowPayload,
      description:
        'Runs the same workflow on the same object again: a new run (CI cannot restart a run). `rerunOf` is the ' +
        'run it repeats.',
      args: { bucketId: t.arg.id({ description: BUCKET_ARGUMENT }), runId: t.arg.id({ required: true }) },
      resolve: async (_root, args, context) => {
        const runId = parseArgument(runIdRule, String(args.runId), 'runId');
        const bucket = context.bucketArgument(args.bucketId, 'bucketId');
        const original = await bucket.executionDetails.load(runId);
        if (!original) throw executionNotFound(runId);
        const objectKey = parseReference(objectKeyRule, original.objectKey);
        if (!objectKey) {
          throw userInputError(`Run ${runId} cannot be repeated: CI reports no valid object key.`, 'runId');
        }
        return trigger(bucket, { workflowId: original.workflowId, objectKey, name: undefined }, original);
      },
    }),
  }));

  builder.subscriptionField('workflowExecutionUpdated', (t) =>
    t.field({
      ...access.read,
      type: WorkflowExecutionRef,
      description:
        'The run’s current state at once, then every change of its state (found by polling its workflow) and of ' +
        'its tasks (when CI’s callbacks report them); completes once the run has finished and its final state ' +
        'was sent. An unknown run is `EXECUTION_NOT_FOUND`.',
      args: { bucketId: t.arg.id({ description: BUCKET_ARGUMENT }), runId: t.arg.id({ required: true }) },
      subscribe: (_root, args, context) => {
        const runId = parseArgument(runIdRule, String(args.runId), 'runId');
        const bucket = context.bucketArgument(args.bucketId, 'bucketId');
        return subscriptionSource(bucket.live.watchRun(runId), context.caller.expiresAt);
      },
      resolve: (detail) => detail,
    }),
  );
}

/** Starts a run of a workflow that CI knows and that is active; sent at most once. */
async function trigger(
  bucket: BucketScope,
  params: TriggerWorkflowParams,
  rerunOf: ExecutionParent | null,
): Promise<TriggerResult> {
  await usableWorkflow(bucket, params.workflowId);
  const { runId } = await bucket.ci.triggerWorkflow(params);
  return { bucketId: bucket.bucketId, runId, rerunOf };
}

/** A run named by another subgraph or a global id: null, without a call, when no run can have that id. */
function loadExecutionReference(reference: Reference, context: GraphQLContext) {
  return loadReference(context, reference, runIdRule, (bucket, runId: RunId) =>
    bucket.executionDetails.load(runId),
  );
}

/** The detail of an execution: the parent itself when it came from the detail call, else one batched load. */
function detailOf(
  execution: ExecutionParent,
  context: GraphQLContext,
): Promise<WorkflowExecutionDetail | null> | WorkflowExecutionDetail | null {
  return 'tasks' in execution
    ? execution
    : context.bucket(execution.bucketId).executionDetails.load(execution.runId);
}
