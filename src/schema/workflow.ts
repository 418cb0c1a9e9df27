/**
 * `Workflow`: an entity of its own, the workflow of every execution, and the executions of every workflow; the
 * `workflow` query and the pause and activate mutations.
 */
import { type WorkflowId, workflowIdRule } from '../ci/inputs.js';
import type { Workflow } from '../ci/types.js';
import type { AccessRules, Builder } from './builder.js';
import type { BucketScope, GraphQLContext } from './context.js';
import { costs } from './costs.js';
import { WorkflowStateEnum } from './enums.js';
import { workflowNotFound } from './errors.js';
import { executionFilter, executionFilterFields } from './execution-filter.js';
import { parseArgument } from './inputs.js';
import { known } from './lookups.js';
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

export function registerWorkflow(builder: Builder, access: AccessRules): void {
  const WorkflowRunFilter = builder.inputType('WorkflowRunFilter', {
    description:
      'Which of a workflow’s executions to list: `WorkflowExecutionFilter` with the workflow implied.',
    fields: (t) => executionFilterFields(t),
  });

  const WorkflowRef = builder.node('Workflow', {
    ...access.read,
    description: 'A media workflow: the pipeline of tasks CI runs on objects uploaded to a bucket.',
    id: { resolve: (workflow) => globalId(workflow.bucketId, workflow.workflowId) },
    loadOne: (id, context) => loadWorkflowReference(parseGlobalId(id), context),
    fields: (t) => ({
      bucketId: t.exposeID('bucketId', { description: BUCKET_FIELD }),
      workflowId: t.exposeID('workflowId', { description: 'CI’s id of the workflow (`WorkflowId`).' }),
      name: t.exposeString('name'),
      state: t.expose('state', { type: WorkflowStateEnum }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
      updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
      executions: t.field({
        ...costs.executionsPage,
        type: 'WorkflowExecutionConnection',
        description: 'This workflow’s executions: `Query.workflowExecutions` with the workflow fixed.',
        args: {
          filter: t.arg({ type: WorkflowRunFilter }),
          ...pageArgs(t.arg, 'How many executions, from 1 to the configured maximum (100 by default).'),
        },
        resolve: (workflow, args, context) =>
          paginateExecutions(
            context,
            context.bucket(workflow.bucketId),
            executionFilter(workflow.workflowId, args.filter),
            args,
          ),
      }),
    }),
  });

  // References from other subgraphs are gathered into as few `GET /workflow?ids=` calls as the upstream allows.
  builder.asEntity(WorkflowRef, {
    key: [
      builder.selection<{ bucketId: string; workflowId: string }>('bucketId workflowId'),
      builder.selection<{ workflowId: string }>('workflowId'),
    ],
    resolveReference: (reference, context) =>
      loadWorkflowReference(entityReference(reference, 'workflowId'), context),
  });

  builder.objectField('WorkflowExecution', 'workflow', (t) =>
    t.field({
      ...costs.batchedWorkflowLookup,
      type: WorkflowRef,
      nullable: true,
      description: 'The workflow this run belongs to; null if it has since been deleted.',
      resolve: (execution, _args, context) =>
        context.bucket(execution.bucketId).workflows.load(execution.workflowId),
    }),
  );

  builder.queryField('workflow', (t) =>
    t.field({
      ...access.read,
      ...costs.workflowLookup,
      type: WorkflowRef,
      nullable: true,
      description:
        'One workflow; null when CI has no workflow with this id. An id that is not a workflow id (`w` and 32 hex ' +
        'digits) is `BAD_USER_INPUT`.',
      args: {
        bucketId: t.arg.id({ description: BUCKET_ARGUMENT }),
        workflowId: t.arg.id({ required: true }),
      },
      resolve: (_root, args, context) => {
        const workflowId = parseArgument(workflowIdRule, String(args.workflowId), 'workflowId');
        return context.bucketArgument(args.bucketId, 'bucketId').workflows.load(workflowId);
      },
    }),
  );

  const WorkflowPayload = builder.objectRef<{ readonly workflow: Workflow }>('WorkflowPayload').implement({
    fields: (t) => ({
      workflow: t.expose('workflow', {
        type: WorkflowRef,
        description: 'The workflow as CI reports it after the change.',
      }),
    }),
  });

  builder.mutationFields((t) => {
    const stateChange = (state: 'paused' | 'active', description: string) =>
      t.field({
        ...access.write,
        ...costs.action,
        type: WorkflowPayload,
        description,
        args: {
          bucketId: t.arg.id({ description: BUCKET_ARGUMENT }),
          workflowId: t.arg.id({ required: true }),
        },
        resolve: async (_root, args, context) => {
          const workflowId = parseArgument(workflowIdRule, String(args.workflowId), 'workflowId');
          const bucket = context.bucketArgument(args.bucketId, 'bucketId');
          return { workflow: await setState(bucket, workflowId, state) };
        },
      });
    return {
      pauseWorkflow: stateChange(
        'paused',
        'Stops a workflow from starting runs; runs already started go on.',
      ),
      activateWorkflow: stateChange('active', 'Lets a paused workflow start runs again.'),
    };
  });
}

async function setState(bucket: BucketScope, workflowId: WorkflowId, state: 'paused' | 'active') {
  await known(bucket.workflows, workflowId, workflowNotFound);
  await bucket.ci.setWorkflowState(workflowId, state);
  // Read back what CI now says (the client's cache forgot the workflow; this request's loader must too).
  bucket.workflows.clear(workflowId);
  return known(bucket.workflows, workflowId, workflowNotFound);
}

/** A workflow named by a reference or a global id: null, without a call, when no workflow can have that id. */
function loadWorkflowReference(reference: Reference, context: GraphQLContext) {
  return loadReference(context, reference, workflowIdRule, (bucket, workflowId: WorkflowId) =>
    bucket.workflows.load(workflowId),
  );
}
