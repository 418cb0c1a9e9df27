/** `WorkflowExecution`, its tasks and filters, and the `workflowExecutions` / `workflowExecution` queries. */
import type { ArgBuilder, InputFieldBuilder } from '@pothos/core';
import {
  type BatchJobId,
  batchJobIdRule,
  objectKeyRule,
  runIdRule,
  type WorkflowId,
  workflowIdRule,
} from '../ci/inputs.js';
import {
  type ExecutionState,
  isFinishedState,
  type SortOrder,
  type WorkflowExecutionDetail,
  type WorkflowExecutionSummary,
  type WorkflowTask,
} from '../ci/types.js';
import type { AccessRules, Builder, BuilderTypes } from './builder.js';
import type { GraphQLContext } from './context.js';
import { costs } from './costs.js';
import { parseArgument, parseOptionalArgument, parseReference } from './inputs.js';
import { DEFAULT_PAGE_SIZE, type ExecutionFilter, paginateExecutions } from './pagination.js';

/**
 * Either a list item or a detail answer: fields only the detail has are loaded when asked for. CI's answers do not
 * say which batch trigger started a run; a run reached through a batch trigger (or listed with a `batchJobId`
 * filter) carries it.
 */
export type ExecutionParent = (WorkflowExecutionSummary | WorkflowExecutionDetail) & {
  readonly startedBy?: BatchJobId | undefined;
};

export function addWorkflowExecutionTypes(builder: Builder, access: AccessRules) {
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
    ...access.read,
    id: { resolve: (execution) => execution.runId },
    loadOne: (runId, context) => loadExecutionReference(runId, context),
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
        ...costs.tasks,
        type: [WorkflowTaskRef],
        description: 'The run’s tasks, in order.',
        resolve: async (execution, _args, context) => (await detailOf(execution, context))?.tasks ?? [],
      }),
      finishedAt: t.field({
        ...costs.executionDetail,
        type: 'DateTime',
        nullable: true,
        description: 'When the run finished (its last task’s end); null while it runs or is paused.',
        resolve: async (execution, _args, context) => finishedAt(await detailOf(execution, context)),
      }),
      durationSeconds: t.float({
        ...costs.executionDetail,
        nullable: true,
        description: 'From creation to `finishedAt`, in seconds; null until the run has finished.',
        resolve: async (execution, _args, context) => {
          const detail = await detailOf(execution, context);
          const end = finishedAt(detail);
          return detail && end ? (end.getTime() - detail.createdAt.getTime()) / 1000 : null;
        },
      }),
      failedTask: t.field({
        ...costs.executionDetail,
        type: WorkflowTaskRef,
        nullable: true,
        description: 'The task that failed the run, with CI’s code and message; null unless a task failed.',
        resolve: async (execution, _args, context) =>
          (await detailOf(execution, context))?.tasks.find((task) => task.state === 'Failed') ?? null,
      }),
    }),
  });

  // Other subgraphs reference runs by id; a batch of references is deduplicated and loaded with bounded
  // concurrency by the per-request loader.
  builder.asEntity(WorkflowExecutionRef, {
    key: builder.selection<{ runId: string }>('runId'),
    resolveReference: (reference, context) => loadExecutionReference(reference.runId, context),
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
      ...access.read,
      ...costs.executionsPage,
      type: WorkflowExecutionConnection,
      description:
        'A workflow’s executions, newest first unless `filter.order` says otherwise. Forward-only: pass the ' +
        'previous page’s `pageInfo.endCursor` as `after`.',
      args: { filter: t.arg({ type: WorkflowExecutionFilter, required: true }), ...pageArgs(t.arg) },
      resolve: (_root, args, context) =>
        paginateExecutions(
          context,
          toExecutionFilter(
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
      args: { runId: t.arg.id({ required: true }) },
      resolve: (_root, args, context) =>
        context.executionDetails.load(parseArgument(runIdRule, String(args.runId), 'runId')),
    }),
  }));

  return {
    WorkflowExecutionRef,
    WorkflowExecutionConnection,
    WorkflowRunFilter,
    WorkflowTaskRef,
    WorkflowExecutionStateEnum: WorkflowExecutionState,
    SortOrderEnum,
    pageArgs,
  };
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

/**
 * A filter input of either connection, for one workflow, with every value parsed by its input rule; GraphQL's
 * nulls become absent fields.
 */
export function toExecutionFilter(
  workflowId: WorkflowId,
  input: FilterInput | null | undefined,
): ExecutionFilter {
  return {
    workflowId,
    objectKey: parseOptionalArgument(objectKeyRule, input?.objectKey, 'filter.objectKey'),
    states: input?.states ?? undefined,
    createdAfter: input?.createdAfter ?? undefined,
    createdBefore: input?.createdBefore ?? undefined,
    batchJobId: parseOptionalArgument(
      batchJobIdRule,
      input?.batchJobId == null ? undefined : String(input.batchJobId),
      'filter.batchJobId',
    ),
    order: input?.order ?? 'Desc',
  };
}

/** The end of the last task of a finished run; null while it runs or is paused, or without a detail. */
function finishedAt(detail: WorkflowExecutionDetail | null): Date | null {
  if (!detail || !isFinishedState(detail.state)) return null;
  const ends = detail.tasks.flatMap((task) => (task.endedAt ? [task.endedAt.getTime()] : []));
  return ends.length > 0 ? new Date(Math.max(...ends)) : null;
}

/** A run named by another subgraph or a global id: null, without a call, when no run can have that id. */
function loadExecutionReference(runId: unknown, context: GraphQLContext) {
  const parsed = parseReference(runIdRule, runId);
  return parsed === undefined ? null : context.executionDetails.load(parsed);
}

/** The detail of an execution: the parent itself when it came from the detail call, else one batched load. */
function detailOf(
  execution: ExecutionParent,
  context: GraphQLContext,
): Promise<WorkflowExecutionDetail | null> | WorkflowExecutionDetail | null {
  if ('tasks' in execution) return execution;
  // A run id CI itself listed; should it ever break the rule, it has no detail to load.
  const runId = parseReference(runIdRule, execution.runId);
  return runId === undefined ? null : context.executionDetails.load(runId);
}
