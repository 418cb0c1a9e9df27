/**
 * `BatchTrigger`: one workflow run over many objects (CI's inventory trigger job). Read by id, listed per workflow
 * on the same paging as executions, and linked both ways with the runs it started.
 */
import { type BatchJobId, batchJobIdRule, workflowIdRule } from '../ci/inputs.js';
import type { BatchTrigger } from '../ci/types.js';
import type { AccessRules, Builder } from './builder.js';
import { costs } from './costs.js';
import { fingerprint } from './cursor.js';
import { checkTimeWindow, parseArgument, parseReference, parseStates } from './inputs.js';
import type { MediaJobTypes } from './media-job.js';
import { paginate, paginateExecutions } from './pagination.js';
import type { WorkflowTypes } from './workflow.js';
import type { ExecutionTypes } from './workflow-execution.js';

export function addBatchTriggerTypes(
  builder: Builder,
  executions: ExecutionTypes,
  { WorkflowRef }: WorkflowTypes,
  { JobStateEnum }: MediaJobTypes,
  access: AccessRules,
) {
  const BatchTriggerSourceRef = builder
    .objectRef<NonNullable<BatchTrigger['source']>>('BatchTriggerSource')
    .implement({
      description: 'What a batch trigger runs its workflow on: exactly one of these is set.',
      fields: (t) => ({
        prefix: t.string({
          nullable: true,
          description: 'Every object whose key starts with this.',
          resolve: (source) => (source.kind === 'prefix' ? source.prefix : null),
        }),
        objectKeys: t.stringList({
          nullable: true,
          description: 'These objects.',
          resolve: (source) => (source.kind === 'objects' ? [...source.objectKeys] : null),
        }),
        manifest: t.string({
          nullable: true,
          description: 'The objects a COS inventory manifest lists (its URL).',
          resolve: (source) => (source.kind === 'manifest' ? source.manifest : null),
        }),
        urlFile: t.string({
          nullable: true,
          description: 'The objects a file of URLs lists (its URL).',
          resolve: (source) => (source.kind === 'urlFile' ? source.urlFile : null),
        }),
      }),
    });

  const BatchTriggerRef = builder.node(builder.objectRef<BatchTrigger>('BatchTrigger'), {
    ...access.read,
    description: 'A batch trigger: one run of a workflow for each object it finds.',
    id: { resolve: (job) => job.jobId },
    loadOne: (jobId, context) => {
      const parsed = parseReference(batchJobIdRule, jobId);
      return parsed === undefined ? null : context.batchTriggers.load(parsed);
    },
    isTypeOf: (value) =>
      typeof value === 'object' && value !== null && 'jobId' in value && 'workflowIds' in value,
    fields: (t) => ({
      jobId: t.exposeID('jobId', {
        description: 'CI’s id of the job; `filter.batchJobId` of the executions.',
      }),
      name: t.string({ nullable: true, resolve: (job) => job.name ?? null }),
      state: t.field({ type: JobStateEnum, resolve: (job) => job.state }),
      progress: t.int({
        nullable: true,
        description: 'Percent of its objects it has started runs for, 0–100.',
        resolve: (job) => job.progress ?? null,
      }),
      code: t.string({ nullable: true, resolve: (job) => job.code ?? null }),
      message: t.string({ nullable: true, resolve: (job) => job.message ?? null }),
      createdAt: t.field({ type: 'DateTime', nullable: true, resolve: (job) => job.createdAt ?? null }),
      startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (job) => job.startedAt ?? null }),
      endedAt: t.field({ type: 'DateTime', nullable: true, resolve: (job) => job.endedAt ?? null }),
      input: t.field({
        type: BatchTriggerSourceRef,
        nullable: true,
        description: 'What it runs on.',
        resolve: (job) => job.source ?? null,
      }),
      workflowId: t.id({ nullable: true, resolve: (job) => job.workflowIds[0] ?? null }),
      createdAfter: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'Only objects created at or after this instant.',
        resolve: (job) => job.createdAfter ?? null,
      }),
      createdBefore: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'Only objects created at or before this instant.',
        resolve: (job) => job.createdBefore ?? null,
      }),
      executions: t.field({
        ...costs.executionsPage,
        type: executions.WorkflowExecutionConnection,
        description: 'The runs it started, newest first.',
        args: executions.pageArgs(t.arg),
        resolve: (job, args, context) => {
          const workflowId = parseReference(workflowIdRule, job.workflowIds[0]);
          const batchJobId = parseReference(batchJobIdRule, job.jobId);
          if (!workflowId || !batchJobId) return emptyConnection();
          return paginateExecutions(context, { workflowId, batchJobId, order: 'Desc' }, args);
        },
      }),
    }),
  });

  const BatchTriggerFilter = builder.inputType('BatchTriggerFilter', {
    description: 'Which of a workflow’s batch triggers to list; time bounds are inclusive.',
    fields: (t) => ({
      states: t.field({ type: [JobStateEnum], description: 'Only jobs in one of these states.' }),
      createdAfter: t.field({ type: 'DateTime' }),
      createdBefore: t.field({ type: 'DateTime' }),
      order: t.field({
        type: executions.SortOrderEnum,
        defaultValue: 'Desc',
        description: 'By creation time.',
      }),
    }),
  });

  const BatchTriggerConnection = builder.connectionObject(
    { type: BatchTriggerRef, name: 'BatchTriggerConnection' },
    { name: 'BatchTriggerEdge' },
  );

  builder.objectField(WorkflowRef, 'batchTriggers', (t) =>
    t.field({
      ...costs.batchTriggersPage,
      type: BatchTriggerConnection,
      description: 'This workflow’s batch triggers, newest first unless `filter.order` says otherwise.',
      args: {
        filter: t.arg({ type: BatchTriggerFilter }),
        first: t.arg.int({ defaultValue: 10, description: 'How many, from 1 to the configured maximum.' }),
        after: t.arg.string({
          description: 'Continue after this cursor (a previous page’s `pageInfo.endCursor`).',
        }),
      },
      resolve: (workflow, args, context) => {
        const workflowId = parseArgument(workflowIdRule, workflow.workflowId, 'workflowId');
        const states = parseStates(args.filter?.states, 'filter');
        const createdAfter = args.filter?.createdAfter ?? undefined;
        const createdBefore = args.filter?.createdBefore ?? undefined;
        checkTimeWindow(createdAfter, createdBefore, 'filter');
        const filter = {
          workflowId,
          states,
          createdAfter,
          createdBefore,
          order: args.filter?.order ?? 'Desc',
        };
        return paginate(
          context,
          {
            key: fingerprint({ list: 'batchTriggers', ...filter }),
            fetch: async (size, token) => {
              const page = await context.ci.listBatchTriggers({
                ...filter,
                size,
                nextToken: token ?? undefined,
              });
              return { items: page.jobs, nextToken: page.nextToken, requestId: page.requestId };
            },
          },
          args,
        );
      },
    }),
  );

  builder.queryField('batchTrigger', (t) =>
    t.field({
      ...access.read,
      ...costs.executionDetail,
      type: BatchTriggerRef,
      nullable: true,
      description:
        'One batch trigger; null when CI has no job with this id. An id that is not a batch-trigger job id (`b` ' +
        'and 32 hex digits) is `BAD_USER_INPUT`.',
      args: { jobId: t.arg.id({ required: true }) },
      resolve: (_root, args, context) =>
        context.batchTriggers.load(parseArgument(batchJobIdRule, String(args.jobId), 'jobId')),
    }),
  );

  builder.objectField(executions.WorkflowExecutionRef, 'batchTrigger', (t) =>
    t.field({
      ...costs.executionDetail,
      type: BatchTriggerRef,
      nullable: true,
      description:
        'The batch trigger that started this run. CI’s execution answers do not name it, so it is known when the ' +
        'run was reached through its batch trigger (or listed with `filter.batchJobId`); null otherwise.',
      resolve: (execution, _args, context) =>
        execution.startedBy ? context.batchTriggers.load(execution.startedBy as BatchJobId) : null,
    }),
  );

  return { BatchTriggerRef };
}

function emptyConnection() {
  return {
    edges: [],
    pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
  };
}

export type BatchTriggerTypes = ReturnType<typeof addBatchTriggerTypes>;
