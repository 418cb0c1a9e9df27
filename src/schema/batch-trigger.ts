/**
 * `BatchTrigger`: one workflow run over many objects (CI's inventory trigger job). Read by id, listed per workflow
 * on the same paging as executions, linked both ways with the runs it started, and started and cancelled by the
 * console's mutations.
 */
import type { StartBatchTriggerParams } from '../ci/client.js';
import {
  type BatchJobId,
  batchJobIdRule,
  jobNameRule,
  objectKeyRule,
  objectPrefixRule,
  objectUrlRule,
  workflowIdRule,
} from '../ci/inputs.js';
import type { BatchTrigger } from '../ci/types.js';
import type { AccessRules, Builder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { costs } from './costs.js';
import { JobStateEnum, SortOrderEnum } from './enums.js';
import { batchTriggerNotFound, userInputError } from './errors.js';
import { checkTimeWindow, parseArgument, parseStates } from './inputs.js';
import { known, usableWorkflow } from './lookups.js';
import { pageArgs } from './page-args.js';
import { listKey, paginate, paginateExecutions } from './pagination.js';
import {
  BUCKET_ARGUMENT,
  BUCKET_FIELD,
  entityReference,
  globalId,
  loadReference,
  parseGlobalId,
  type Reference,
} from './references.js';

/** The most objects one batch trigger may name. */
export const MAX_BATCH_OBJECT_KEYS = 1_000;

export function registerBatchTrigger(builder: Builder, access: AccessRules): void {
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

  const BatchTriggerRef = builder.node('BatchTrigger', {
    ...access.read,
    description: 'A batch trigger: one run of a workflow for each object it finds.',
    id: { resolve: (job) => globalId(job.bucketId, job.jobId) },
    loadOne: (id, context) => loadBatchTriggerReference(parseGlobalId(id), context),
    fields: (t) => ({
      bucketId: t.exposeID('bucketId', { description: BUCKET_FIELD }),
      jobId: t.exposeID('jobId', {
        description: 'CI’s id of the job; `filter.batchJobId` of the executions.',
      }),
      name: t.exposeString('name', { nullable: true }),
      state: t.expose('state', { type: JobStateEnum }),
      progress: t.exposeInt('progress', {
        nullable: true,
        description: 'Percent of its objects it has started runs for, 0–100.',
      }),
      code: t.exposeString('code', { nullable: true }),
      message: t.exposeString('message', { nullable: true }),
      createdAt: t.expose('createdAt', { type: 'DateTime', nullable: true }),
      startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
      endedAt: t.expose('endedAt', { type: 'DateTime', nullable: true }),
      input: t.expose('source', {
        type: BatchTriggerSourceRef,
        nullable: true,
        description: 'What it runs on.',
      }),
      workflowId: t.id({ nullable: true, resolve: (job) => job.workflowIds[0] }),
      createdAfter: t.expose('createdAfter', {
        type: 'DateTime',
        nullable: true,
        description: 'Only objects created at or after this instant.',
      }),
      createdBefore: t.expose('createdBefore', {
        type: 'DateTime',
        nullable: true,
        description: 'Only objects created at or before this instant.',
      }),
      executions: t.field({
        ...costs.executionsPage,
        type: 'WorkflowExecutionConnection',
        description: 'The runs it started, newest first.',
        args: pageArgs(t.arg, 'How many executions, from 1 to the configured maximum (100 by default).'),
        resolve: (job, args, context) => {
          const workflowId = job.workflowIds[0];
          if (!workflowId) return emptyConnection();
          return paginateExecutions(
            context,
            context.bucket(job.bucketId),
            { workflowId, batchJobId: job.jobId, order: 'Desc' },
            args,
          );
        },
      }),
    }),
  });

  builder.asEntity(BatchTriggerRef, {
    key: [
      builder.selection<{ bucketId: string; jobId: string }>('bucketId jobId'),
      builder.selection<{ jobId: string }>('jobId'),
    ],
    resolveReference: (reference, context) =>
      loadBatchTriggerReference(entityReference(reference, 'jobId'), context),
  });

  const BatchTriggerFilter = builder.inputType('BatchTriggerFilter', {
    description: 'Which of a workflow’s batch triggers to list; time bounds are inclusive.',
    fields: (t) => ({
      states: t.field({ type: [JobStateEnum], description: 'Only jobs in one of these states.' }),
      createdAfter: t.field({ type: 'DateTime' }),
      createdBefore: t.field({ type: 'DateTime' }),
      order: t.field({
        type: SortOrderEnum,
        defaultValue: 'Desc',
        description: 'By creation time.',
      }),
    }),
  });

  const BatchTriggerConnection = builder.connectionObject(
    { type: BatchTriggerRef, name: 'BatchTriggerConnection' },
    { name: 'BatchTriggerEdge' },
  );

  builder.objectField('Workflow', 'batchTriggers', (t) =>
    t.field({
      ...costs.batchTriggersPage,
      type: BatchTriggerConnection,
      description: 'This workflow’s batch triggers, newest first unless `filter.order` says otherwise.',
      args: {
        filter: t.arg({ type: BatchTriggerFilter }),
        ...pageArgs(t.arg, 'How many, from 1 to the configured maximum.'),
      },
      resolve: (workflow, args, context) => {
        const workflowId = workflow.workflowId;
        const bucket = context.bucket(workflow.bucketId);
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
            key: listKey(bucket, { list: 'batchTriggers', ...filter }),
            fetch: async (size, token) => {
              const page = await bucket.ci.listBatchTriggers({
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
      args: { bucketId: t.arg.id({ description: BUCKET_ARGUMENT }), jobId: t.arg.id({ required: true }) },
      resolve: (_root, args, context) => {
        const jobId = parseArgument(batchJobIdRule, String(args.jobId), 'jobId');
        return context.bucketArgument(args.bucketId, 'bucketId').batchTriggers.load(jobId);
      },
    }),
  );

  builder.objectField('WorkflowExecution', 'batchTrigger', (t) =>
    t.field({
      ...costs.executionDetail,
      type: BatchTriggerRef,
      nullable: true,
      description:
        'The batch trigger that started this run. CI’s execution answers do not name it, so it is known when the ' +
        'run was reached through its batch trigger (or listed with `filter.batchJobId`); null otherwise.',
      resolve: (execution, _args, context) =>
        execution.startedBy
          ? context.bucket(execution.bucketId).batchTriggers.load(execution.startedBy)
          : null,
    }),
  );

  const StartBatchTriggerInput = builder.inputType('StartBatchTriggerInput', {
    description: 'A workflow and exactly one of `prefix`, `objectKeys`, `manifest` and `urlFile`.',
    fields: (t) => ({
      bucketId: t.id({ description: BUCKET_ARGUMENT }),
      workflowId: t.id({ required: true }),
      name: t.string({
        required: true,
        description: 'Up to 128 CJK characters, letters, digits, `-` and `_`.',
      }),
      prefix: t.string({ description: 'Every object whose key starts with this.' }),
      objectKeys: t.stringList({ description: `These objects (at most ${MAX_BATCH_OBJECT_KEYS}).` }),
      manifest: t.string({ description: 'The https URL of a COS inventory manifest.' }),
      urlFile: t.string({ description: 'The https URL of a file listing object URLs.' }),
      createdAfter: t.field({
        type: 'DateTime',
        description: 'Only objects created at or after this instant.',
      }),
      createdBefore: t.field({
        type: 'DateTime',
        description: 'Only objects created at or before this instant.',
      }),
    }),
  });

  const BatchTriggerPayload = builder
    .objectRef<{ readonly batchTrigger: BatchTrigger }>('BatchTriggerPayload')
    .implement({ fields: (t) => ({ batchTrigger: t.expose('batchTrigger', { type: BatchTriggerRef }) }) });

  const write = { ...access.write, ...costs.action };

  builder.mutationFields((t) => ({
    startBatchTrigger: t.field({
      ...write,
      type: BatchTriggerPayload,
      description:
        'Runs a workflow on many objects: a prefix, a list of keys, or a manifest. Sent at most once.',
      args: { input: t.arg({ type: StartBatchTriggerInput, required: true }) },
      resolve: async (_root, { input }, context) => {
        const workflowId = parseArgument(workflowIdRule, String(input.workflowId), 'input.workflowId');
        const name = parseArgument(jobNameRule, input.name, 'input.name');
        const source = batchSource(input);
        const createdAfter = input.createdAfter ?? undefined;
        const createdBefore = input.createdBefore ?? undefined;
        checkTimeWindow(createdAfter, createdBefore, 'input');
        const bucket = context.bucketArgument(input.bucketId, 'input.bucketId');
        await usableWorkflow(bucket, workflowId);
        const job = await bucket.ci.startBatchTrigger({
          workflowId,
          name,
          source,
          createdAfter,
          createdBefore,
        });
        bucket.batchTriggers.prime(job.jobId, job);
        return { batchTrigger: job };
      },
    }),
    cancelBatchTrigger: t.field({
      ...write,
      type: BatchTriggerPayload,
      description:
        'Stops a batch trigger from starting more runs; runs already started go on. Cancelling twice is harmless.',
      args: { bucketId: t.arg.id({ description: BUCKET_ARGUMENT }), jobId: t.arg.id({ required: true }) },
      resolve: async (_root, args, context) => {
        const jobId = parseArgument(batchJobIdRule, String(args.jobId), 'jobId');
        const bucket = context.bucketArgument(args.bucketId, 'bucketId');
        await known(bucket.batchTriggers, jobId, batchTriggerNotFound);
        await bucket.ci.cancelBatchTrigger(jobId);
        // Read back what CI now says.
        bucket.batchTriggers.clear(jobId);
        return { batchTrigger: await known(bucket.batchTriggers, jobId, batchTriggerNotFound) };
      },
    }),
  }));
}

/** A batch trigger named by a reference or a global id: null, without a call, when no job can have that id. */
function loadBatchTriggerReference(reference: Reference, context: GraphQLContext) {
  return loadReference(context, reference, batchJobIdRule, (bucket, jobId: BatchJobId) =>
    bucket.batchTriggers.load(jobId),
  );
}

function emptyConnection() {
  return {
    edges: [],
    pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
  };
}

interface SourceInput {
  readonly prefix?: string | null | undefined;
  readonly objectKeys?: readonly string[] | null | undefined;
  readonly manifest?: string | null | undefined;
  readonly urlFile?: string | null | undefined;
}

/** Exactly one source, each by its own rule. */
function batchSource(input: SourceInput): StartBatchTriggerParams['source'] {
  const given = (['prefix', 'objectKeys', 'manifest', 'urlFile'] as const).filter(
    (field) => input[field] !== null && input[field] !== undefined,
  );
  if (given.length !== 1) {
    throw userInputError(
      `Give exactly one of input.prefix, input.objectKeys, input.manifest and input.urlFile${given.length ? ` (got ${given.join(', ')})` : ''}.`,
      'input',
    );
  }
  if (input.prefix != null) {
    return { kind: 'prefix', prefix: parseArgument(objectPrefixRule, input.prefix, 'input.prefix') };
  }
  if (input.objectKeys != null) {
    const keys = input.objectKeys;
    if (keys.length === 0 || keys.length > MAX_BATCH_OBJECT_KEYS) {
      throw userInputError(`input.objectKeys must hold 1 to ${MAX_BATCH_OBJECT_KEYS} keys.`, 'input');
    }
    return {
      kind: 'objects',
      objectKeys: keys.map((key, index) => parseArgument(objectKeyRule, key, `input.objectKeys[${index}]`)),
    };
  }
  if (input.manifest != null) {
    return { kind: 'manifest', manifest: parseArgument(objectUrlRule, input.manifest, 'input.manifest') };
  }
  return { kind: 'urlFile', urlFile: parseArgument(objectUrlRule, input.urlFile ?? '', 'input.urlFile') };
}
