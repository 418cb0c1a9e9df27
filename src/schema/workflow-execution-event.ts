/**
 * `WorkflowExecutionEvent` and the `workflowExecutionEvents` subscription: a workflow's new runs and every change of
 * its runs, from live updates, filtered per subscriber by the same filter the executions connection takes.
 */

import { workflowIdRule } from '../ci/inputs.js';
import type { WorkflowEvent } from '../live/workflow-watch.js';
import type { AccessRules, Builder } from './builder.js';
import { ExecutionStateEnum, WorkflowEventKindEnum } from './enums.js';
import { executionFilter, matchesFilter } from './execution-filter.js';
import { parseArgument } from './inputs.js';
import { BUCKET_ARGUMENT } from './references.js';
import { subscriptionSource } from './subscription-source.js';

export function registerWorkflowExecutionEvent(builder: Builder, access: AccessRules): void {
  const EventRef = builder.objectRef<WorkflowEvent>('WorkflowExecutionEvent').implement({
    description: 'Something that happened to one of a workflow’s runs.',
    fields: (t) => ({
      kind: t.expose('kind', { type: WorkflowEventKindEnum }),
      execution: t.expose('execution', { type: 'WorkflowExecution' }),
      at: t.expose('at', { type: 'DateTime', description: 'When the gateway saw it.' }),
    }),
  });

  const EventsFilter = builder.inputType('WorkflowExecutionEventsFilter', {
    fields: (t) => ({
      bucketId: t.id({ description: BUCKET_ARGUMENT }),
      workflowId: t.id({ required: true }),
      states: t.field({ type: [ExecutionStateEnum], description: 'Only runs now in one of these.' }),
      objectKey: t.string({ description: 'Only runs on this exact object key.' }),
      batchJobId: t.id({ description: 'Only runs started by this batch trigger.' }),
    }),
  });

  builder.subscriptionField('workflowExecutionEvents', (t) =>
    t.field({
      ...access.read,
      type: EventRef,
      description:
        'A workflow’s new runs (STARTED, when seen) and every change of its runs (UPDATED, FINISHED), from now on; ' +
        'never completes by itself.',
      args: { filter: t.arg({ type: EventsFilter, required: true }) },
      subscribe: (_root, args, context) => {
        const filter = executionFilter(
          parseArgument(workflowIdRule, String(args.filter.workflowId), 'filter.workflowId'),
          args.filter,
        );
        const bucket = context.bucketArgument(args.filter.bucketId, 'filter.bucketId');
        return subscriptionSource(
          bucket.live.watchWorkflow({
            workflowId: filter.workflowId,
            batchJobId: filter.batchJobId,
          }),
          context.caller.expiresAt,
          (event) => matchesFilter(filter, event.execution),
        );
      },
      resolve: (event) => event,
    }),
  );
}
