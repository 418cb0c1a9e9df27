/**
 * The console's buttons: trigger and re-run, pause and activate, start and cancel batch triggers.
 *
 * Each mutation decides its input and the workflow's state before any change is asked of CI, so a paused or
 * unknown workflow is a clear error (`WORKFLOW_PAUSED`, `WORKFLOW_NOT_FOUND`, …) with no upstream change made.
 * Triggers are sent at most once: a failure after the request may have reached CI is `UPSTREAM_OUTCOME_UNKNOWN`.
 */
import {
  type BatchJobId,
  batchJobIdRule,
  type JobName,
  jobNameRule,
  type ObjectKey,
  objectKeyRule,
  objectPrefixRule,
  objectUrlRule,
  runIdRule,
  type WorkflowId,
  workflowIdRule,
} from '../ci/inputs.js';
import type { BatchTrigger, Workflow } from '../ci/types.js';
import type { BatchTriggerTypes } from './batch-trigger.js';
import type { AccessRules, Builder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { costs } from './costs.js';
import {
  ACTION_ERRORS,
  actionError,
  batchTriggerNotFound,
  executionNotFound,
  userInputError,
  workflowNotFound,
} from './errors.js';
import { checkTimeWindow, parseArgument, parseOptionalArgument, parseReference } from './inputs.js';
import type { WorkflowTypes } from './workflow.js';
import type { ExecutionParent, ExecutionTypes } from './workflow-execution.js';

/** The most objects one batch trigger may name. */
export const MAX_BATCH_OBJECT_KEYS = 1_000;

interface TriggerResult {
  readonly runId: string;
  readonly rerunOf: ExecutionParent | null;
}

export function addConsoleActions(
  builder: Builder,
  executions: ExecutionTypes,
  { WorkflowRef }: WorkflowTypes,
  { BatchTriggerRef }: BatchTriggerTypes,
  access: AccessRules,
) {
  builder.mutationType({ description: 'Changes: each needs the write scope.' });

  const TriggerWorkflowInput = builder.inputType('TriggerWorkflowInput', {
    fields: (t) => ({
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
        type: executions.WorkflowExecutionRef,
        nullable: true,
        description: 'The new run, read back from CI (null if CI does not show it yet).',
        resolve: (result, _args, context) => {
          const runId = parseReference(runIdRule, result.runId);
          return runId === undefined ? null : context.executionDetails.load(runId);
        },
      }),
      rerunOf: t.field({
        type: executions.WorkflowExecutionRef,
        nullable: true,
        description: 'For a re-run, the run it repeats.',
        resolve: (result) => result.rerunOf,
      }),
    }),
  });

  const WorkflowPayload = builder.objectRef<Workflow>('WorkflowPayload').implement({
    fields: (t) => ({
      workflow: t.field({
        type: WorkflowRef,
        description: 'The workflow as CI reports it after the change.',
        resolve: (w) => w,
      }),
    }),
  });

  const StartBatchTriggerInput = builder.inputType('StartBatchTriggerInput', {
    description: 'A workflow and exactly one of `prefix`, `objectKeys`, `manifest` and `urlFile`.',
    fields: (t) => ({
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

  const BatchTriggerPayload = builder.objectRef<BatchTrigger>('BatchTriggerPayload').implement({
    fields: (t) => ({
      batchTrigger: t.field({ type: BatchTriggerRef, resolve: (job) => job }),
    }),
  });

  const write = { ...access.write, ...costs.action };

  builder.mutationFields((t) => {
    const stateChange = (state: 'paused' | 'active', description: string) =>
      t.field({
        ...write,
        type: WorkflowPayload,
        description,
        args: { workflowId: t.arg.id({ required: true }) },
        resolve: (_root, args, context) =>
          setState(context, parseArgument(workflowIdRule, String(args.workflowId), 'workflowId'), state),
      });
    return {
      triggerWorkflow: t.field({
        ...write,
        type: TriggerWorkflowPayload,
        description: 'Starts one run of a workflow on an object. Sent to CI at most once.',
        args: { input: t.arg({ type: TriggerWorkflowInput, required: true }) },
        resolve: async (_root, { input }, context) => {
          const workflowId = parseArgument(workflowIdRule, String(input.workflowId), 'input.workflowId');
          const objectKey = parseArgument(objectKeyRule, input.objectKey, 'input.objectKey');
          const name = parseOptionalArgument(jobNameRule, input.name, 'input.name');
          return trigger(context, workflowId, objectKey, name, null);
        },
      }),
      rerunWorkflowExecution: t.field({
        ...write,
        type: TriggerWorkflowPayload,
        description:
          'Runs the same workflow on the same object again: a new run (CI cannot restart a run). `rerunOf` is the ' +
          'run it repeats.',
        args: { runId: t.arg.id({ required: true }) },
        resolve: async (_root, args, context) => {
          const runId = parseArgument(runIdRule, String(args.runId), 'runId');
          const original = await context.executionDetails.load(runId);
          if (!original) throw executionNotFound(runId);
          const workflowId = parseReference(workflowIdRule, original.workflowId);
          const objectKey = parseReference(objectKeyRule, original.objectKey);
          if (!workflowId || !objectKey) {
            throw userInputError(
              `Run ${runId} cannot be repeated: CI reports no valid workflow and object.`,
              'runId',
            );
          }
          return trigger(context, workflowId, objectKey, undefined, original);
        },
      }),
      pauseWorkflow: stateChange(
        'paused',
        'Stops a workflow from starting runs; runs already started go on.',
      ),
      activateWorkflow: stateChange('active', 'Lets a paused workflow start runs again.'),
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
          await usableWorkflow(context, workflowId);
          const job = await context.ci.startBatchTrigger({
            workflowId,
            name,
            source,
            createdAfter,
            createdBefore,
          });
          context.batchTriggers.prime(job.jobId as BatchJobId, job);
          return job;
        },
      }),
      cancelBatchTrigger: t.field({
        ...write,
        type: BatchTriggerPayload,
        description:
          'Stops a batch trigger from starting more runs; runs already started go on. Cancelling twice is harmless.',
        args: { jobId: t.arg.id({ required: true }) },
        resolve: async (_root, args, context) => {
          const jobId = parseArgument(batchJobIdRule, String(args.jobId), 'jobId');
          await known(context.batchTriggers, jobId, batchTriggerNotFound);
          await context.ci.cancelBatchTrigger(jobId);
          // Read back what CI now says.
          context.batchTriggers.clear(jobId);
          return known(context.batchTriggers, jobId, batchTriggerNotFound);
        },
      }),
    };
  });
}

/** The workflow, known to CI and active: decided before any change is asked for. */
async function usableWorkflow(context: GraphQLContext, workflowId: WorkflowId): Promise<Workflow> {
  const workflow = await known(context.workflows, workflowId, workflowNotFound);
  if (workflow.state === 'Paused') {
    throw actionError(
      ACTION_ERRORS.WORKFLOW_PAUSED,
      `Workflow ${workflowId} is paused: it starts no runs. Activate it first (activateWorkflow).`,
      { workflowId },
    );
  }
  return workflow;
}

async function trigger(
  context: GraphQLContext,
  workflowId: WorkflowId,
  objectKey: ObjectKey,
  name: JobName | undefined,
  rerunOf: ExecutionParent | null,
): Promise<TriggerResult> {
  await usableWorkflow(context, workflowId);
  const { runId } = await context.ci.triggerWorkflow({ workflowId, objectKey, name });
  return { runId, rerunOf };
}

async function setState(context: GraphQLContext, workflowId: WorkflowId, state: 'paused' | 'active') {
  await known(context.workflows, workflowId, workflowNotFound);
  await context.ci.setWorkflowState(workflowId, state);
  // Read back what CI now says (the client's cache forgot the workflow; this request's loader must too).
  context.workflows.clear(workflowId);
  return known(context.workflows, workflowId, workflowNotFound);
}

/** What the loader finds for the id, or the error that says CI does not know it. */
async function known<K, V>(
  loader: { load(key: K): Promise<V | null> },
  key: K,
  notFound: (key: K) => Error,
): Promise<V> {
  const value = await loader.load(key);
  if (value === null) throw notFound(key);
  return value;
}

interface SourceInput {
  readonly prefix?: string | null | undefined;
  readonly objectKeys?: readonly string[] | null | undefined;
  readonly manifest?: string | null | undefined;
  readonly urlFile?: string | null | undefined;
}

/** Exactly one source, each by its own rule. */
function batchSource(input: SourceInput) {
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
    return { kind: 'prefix' as const, prefix: parseArgument(objectPrefixRule, input.prefix, 'input.prefix') };
  }
  if (input.objectKeys != null) {
    const keys = input.objectKeys;
    if (keys.length === 0 || keys.length > MAX_BATCH_OBJECT_KEYS) {
      throw userInputError(`input.objectKeys must hold 1 to ${MAX_BATCH_OBJECT_KEYS} keys.`, 'input');
    }
    return {
      kind: 'objects' as const,
      objectKeys: keys.map((key, index) => parseArgument(objectKeyRule, key, `input.objectKeys[${index}]`)),
    };
  }
  if (input.manifest != null) {
    return {
      kind: 'manifest' as const,
      manifest: parseArgument(objectUrlRule, input.manifest, 'input.manifest'),
    };
  }
  return {
    kind: 'urlFile' as const,
    urlFile: parseArgument(objectUrlRule, input.urlFile as string, 'input.urlFile'),
  };
}
