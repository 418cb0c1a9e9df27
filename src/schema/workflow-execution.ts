/** `WorkflowExecution`, its tasks and filters, and the `workflowExecutions` / `workflowExecution` queries. */
import type { ArgBuilder, InputFieldBuilder } from '@pothos/core';
import {
  type ExecutionState,
  isValidRunId,
  type SortOrder,
  type WorkflowExecutionDetail,
  type WorkflowExecutionSummary,
  type WorkflowTask,
} from '../ci/types.js';
import type { Builder, BuilderTypes } from './builder.js';
import type { GraphQLContext } from './context.js';
import { userInputError } from './errors.js';
import { DEFAULT_PAGE_SIZE, type ExecutionFilter, paginateExecutions } from './pagination.js';

/** Either a list item or a detail answer: fields only the detail has are loaded when asked for. */
export type ExecutionParent = WorkflowExecutionSummary | WorkflowExecutionDetail;

export function addWorkflowExecutionTypes(builder: Builder) {
  const WorkflowExecutionState = builder.enumType('WorkflowExecutionState', {
    description: 'Where a workflow execution is in its life.',
    values: {
      RUNNING: { value: 'Running' as ExecutionState, description: 'Being executed.' },
      SUCCESS: { value: 'Success' as ExecutionState, description: 'Every task succeeded.' },
      FAILED: { value: 'Failed' as ExecutionState, description: 'A task failed.' },
      PAUSE: { value: 'Pause' as ExecutionState, description: 'Waiting: its queue is paused.' },
      CANCEL: { value: 'Cancel' as ExecutionState, description: 'Cancelled before it finished.' },
    },
  });

  const SortOrderEnum = builder.enumType('SortOrder', {
    description: 'Order by creation time.',
    values: {
      ASC: { value: 'Asc' as SortOrder, description: 'Oldest first.' },
      DESC: { value: 'Desc' as SortOrder, description: 'Newest first.' },
    },
  });

  const WorkflowTaskRef = builder.objectRef<WorkflowTask>('WorkflowTask').implement({
    description: 'One step (snapshot, transcode, …) of a workflow execution.',
    fields: (t) => ({
      type: t.exposeString('type', { description: 'Kind of task, e.g. `Transcode` or `Snapshot`.' }),
      name: t.string({
        nullable: true,
        description: 'Node name in the workflow topology.',
        resolve: (task) => task.name ?? null,
      }),
      state: t.exposeString('state', { description: 'The task’s state as CI reports it, e.g. `Success`.' }),
      jobId: t.id({
        nullable: true,
        description: 'The media job that ran this task.',
        resolve: (task) => task.jobId ?? null,
      }),
      templateId: t.id({ nullable: true, resolve: (task) => task.templateId ?? null }),
      templateName: t.string({ nullable: true, resolve: (task) => task.templateName ?? null }),
      code: t.string({
        nullable: true,
        description: 'CI’s result code, e.g. `Success`.',
        resolve: (task) => task.code ?? null,
      }),
      message: t.string({
        nullable: true,
        description: 'CI’s explanation when the task failed.',
        resolve: (task) => task.message ?? null,
      }),
      createdAt: t.field({ type: 'DateTime', nullable: true, resolve: (task) => task.createdAt ?? null }),
      startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (task) => task.startedAt ?? null }),
      endedAt: t.field({ type: 'DateTime', nullable: true, resolve: (task) => task.endedAt ?? null }),
    }),
  });

  const WorkflowExecutionRef = builder.node(builder.objectRef<ExecutionParent>('WorkflowExecution'), {
    description: 'One run of a media workflow on one object.',
    id: { resolve: (execution) => execution.runId },
    loadOne: (runId, context) => context.executionDetails.load(runId),
    isTypeOf: (value) => typeof value === 'object' && value !== null && 'runId' in value,
    fields: (t) => ({
      runId: t.exposeID('runId', { description: 'CI’s id of the run (`RunId`).' }),
      workflowId: t.exposeID('workflowId'),
      objectKey: t.exposeString('objectKey', { description: 'Key of the COS object the run processed.' }),
      state: t.field({ type: WorkflowExecutionState, resolve: (execution) => execution.state }),
      createdAt: t.field({ type: 'DateTime', resolve: (execution) => execution.createdAt }),
      workflowName: t.string({
        nullable: true,
        description: 'Name of the workflow at the time of the run.',
        resolve: async (execution, _args, context) =>
          (await detailOf(execution, context))?.workflowName ?? null,
      }),
      tasks: t.field({
        type: [WorkflowTaskRef],
        description: 'The run’s tasks, in order.',
        resolve: async (execution, _args, context) => (await detailOf(execution, context))?.tasks ?? [],
      }),
    }),
  });

  // Other subgraphs reference runs by id; a batch of references is deduplicated and loaded with bounded
  // concurrency by the per-request loader.
  builder.asEntity(WorkflowExecutionRef, {
    key: builder.selection<{ runId: string }>('runId'),
    resolveReference: (reference, context) => context.executionDetails.load(reference.runId),
  });

  /** The filter fields every executions connection shares; `workflowId` is added where it is not implied. */
  const filterFields = (t: InputFieldBuilder<BuilderTypes, 'InputObject'>) => ({
    objectKey: t.string({ description: 'Only runs on this exact object key.' }),
    states: t.field({ type: [WorkflowExecutionState], description: 'Only runs in one of these states.' }),
    createdAfter: t.field({ type: 'DateTime', description: 'Only runs created at or after this instant.' }),
    createdBefore: t.field({ type: 'DateTime', description: 'Only runs created at or before this instant.' }),
    batchJobId: t.id({ description: 'Only runs started by this batch-trigger job.' }),
    order: t.field({ type: SortOrderEnum, defaultValue: 'Desc', description: 'By creation time.' }),
  });

  const WorkflowExecutionFilter = builder.inputType('WorkflowExecutionFilter', {
    description: 'Which executions to list. Every field narrows the result; time bounds are inclusive.',
    fields: (t) => ({ workflowId: t.id({ required: true }), ...filterFields(t) }),
  });

  const WorkflowRunFilter = builder.inputType('WorkflowRunFilter', {
    description:
      'Which of a workflow’s executions to list: `WorkflowExecutionFilter` with the workflow implied.',
    fields: (t) => filterFields(t),
  });

  const WorkflowExecutionConnection = builder.connectionObject(
    { type: WorkflowExecutionRef, name: 'WorkflowExecutionConnection' },
    { name: 'WorkflowExecutionEdge' },
  );

  /** The arguments of every executions connection: forward-only, so `first` and `after` and nothing else. */
  const pageArgs = (t: ArgBuilder<BuilderTypes>) => ({
    first: t.int({
      defaultValue: DEFAULT_PAGE_SIZE,
      description: 'How many executions, from 1 to the configured maximum (100 by default).',
    }),
    after: t.string({ description: 'Continue after this cursor (a previous page’s `pageInfo.endCursor`).' }),
  });

  builder.queryFields((t) => ({
    workflowExecutions: t.field({
      type: WorkflowExecutionConnection,
      description:
        'A workflow’s executions, newest first unless `filter.order` says otherwise. Forward-only: pass the ' +
        'previous page’s `pageInfo.endCursor` as `after`.',
      args: { filter: t.arg({ type: WorkflowExecutionFilter, required: true }), ...pageArgs(t.arg) },
      resolve: (_root, args, context) =>
        paginateExecutions(context, toExecutionFilter(String(args.filter.workflowId), args.filter), args),
    }),
    workflowExecution: t.field({
      type: WorkflowExecutionRef,
      nullable: true,
      description: 'One execution with its tasks; null when CI has no run with this id.',
      args: { runId: t.arg.id({ required: true }) },
      resolve: (_root, args, context) => {
        const runId = String(args.runId);
        if (!isValidRunId(runId)) {
          throw userInputError('runId must be a non-empty run id without "/"', 'runId');
        }
        return context.executionDetails.load(runId);
      },
    }),
  }));

  return { WorkflowExecutionRef, WorkflowExecutionConnection, WorkflowRunFilter, pageArgs };
}

export type ExecutionTypes = ReturnType<typeof addWorkflowExecutionTypes>;

interface FilterInput {
  readonly objectKey?: string | null | undefined;
  readonly states?: readonly ExecutionState[] | null | undefined;
  readonly createdAfter?: Date | null | undefined;
  readonly createdBefore?: Date | null | undefined;
  readonly batchJobId?: string | number | null | undefined;
  readonly order?: SortOrder | null | undefined;
}

/** A filter input of either connection, for one workflow; GraphQL's nulls become absent fields. */
export function toExecutionFilter(
  workflowId: string,
  input: FilterInput | null | undefined,
): ExecutionFilter {
  return {
    workflowId,
    objectKey: input?.objectKey ?? undefined,
    states: input?.states ?? undefined,
    createdAfter: input?.createdAfter ?? undefined,
    createdBefore: input?.createdBefore ?? undefined,
    batchJobId: input?.batchJobId == null ? undefined : String(input.batchJobId),
    order: input?.order ?? 'Desc',
  };
}

/** The detail of an execution: the parent itself when it came from the detail call, else one batched load. */
function detailOf(
  execution: ExecutionParent,
  context: GraphQLContext,
): Promise<WorkflowExecutionDetail | null> | WorkflowExecutionDetail {
  return 'tasks' in execution ? execution : context.executionDetails.load(execution.runId);
}
