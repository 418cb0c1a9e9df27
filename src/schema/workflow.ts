/** `Workflow`: an entity of its own, the workflow of every execution, and the executions of every workflow. */
import { workflowIdRule } from '../ci/inputs.js';
import type { Workflow, WorkflowState } from '../ci/types.js';
import type { AccessRules, Builder } from './builder.js';
import type { GraphQLContext } from './context.js';
import { costs } from './costs.js';
import { parseArgument, parseReference } from './inputs.js';
import { paginateExecutions } from './pagination.js';
import { type ExecutionTypes, toExecutionFilter } from './workflow-execution.js';

export function addWorkflowTypes(builder: Builder, executions: ExecutionTypes, access: AccessRules) {
  const WorkflowStateEnum = builder.enumType('WorkflowState', {
    description: 'Whether a workflow starts runs for new objects.',
    values: {
      ACTIVE: { value: 'Active' as WorkflowState, description: 'Runs for every matching upload.' },
      PAUSED: { value: 'Paused' as WorkflowState, description: 'Starts no runs.' },
    },
  });

  const WorkflowRef = builder.node(builder.objectRef<Workflow>('Workflow'), {
    ...access.read,
    description: 'A media workflow: the pipeline of tasks CI runs on objects uploaded to a bucket.',
    id: { resolve: (workflow) => workflow.workflowId },
    loadOne: (workflowId, context) => loadWorkflowReference(workflowId, context),
    isTypeOf: (value) =>
      typeof value === 'object' && value !== null && 'updatedAt' in value && !('runId' in value),
    fields: (t) => ({
      workflowId: t.exposeID('workflowId', { description: 'CI’s id of the workflow (`WorkflowId`).' }),
      name: t.exposeString('name'),
      state: t.field({ type: WorkflowStateEnum, resolve: (workflow) => workflow.state }),
      bucketId: t.string({
        // Storage layout: a contract variant for outside consumers leaves it out.
        tag: 'internal',
        nullable: true,
        description: 'The bucket whose objects it processes.',
        resolve: (workflow) => workflow.bucketId ?? null,
      }),
      createdAt: t.field({ type: 'DateTime', resolve: (workflow) => workflow.createdAt }),
      updatedAt: t.field({ type: 'DateTime', resolve: (workflow) => workflow.updatedAt }),
      executions: t.field({
        ...costs.executionsPage,
        type: executions.WorkflowExecutionConnection,
        description: 'This workflow’s executions: `Query.workflowExecutions` with the workflow fixed.',
        args: { filter: t.arg({ type: executions.WorkflowRunFilter }), ...executions.pageArgs(t.arg) },
        resolve: (workflow, args, context) =>
          paginateExecutions(
            context,
            toExecutionFilter(parseArgument(workflowIdRule, workflow.workflowId, 'workflowId'), args.filter),
            args,
          ),
      }),
    }),
  });

  // References from other subgraphs are gathered into as few `GET /workflow?ids=` calls as the upstream allows.
  builder.asEntity(WorkflowRef, {
    key: builder.selection<{ workflowId: string }>('workflowId'),
    resolveReference: (reference, context) => loadWorkflowReference(reference.workflowId, context),
  });

  builder.objectField(executions.WorkflowExecutionRef, 'workflow', (t) =>
    t.field({
      ...costs.batchedWorkflowLookup,
      type: WorkflowRef,
      nullable: true,
      description: 'The workflow this run belongs to; null if it has since been deleted.',
      resolve: (execution, _args, context) => loadWorkflowReference(execution.workflowId, context),
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
      args: { workflowId: t.arg.id({ required: true }) },
      resolve: (_root, args, context) =>
        context.workflows.load(parseArgument(workflowIdRule, String(args.workflowId), 'workflowId')),
    }),
  );

  return { WorkflowRef };
}

/** A workflow named by a reference, a global id or a run: null, without a call, when no workflow can have that id. */
function loadWorkflowReference(workflowId: unknown, context: GraphQLContext) {
  const parsed = parseReference(workflowIdRule, workflowId);
  return parsed === undefined ? null : context.workflows.load(parsed);
}

export type WorkflowTypes = ReturnType<typeof addWorkflowTypes>;
