/**
 * The schema's enums, made from the lists the CI types declare: a state CI gains is one line in `ci/types.ts`, and
 * GraphQL's value is the CI word in capitals (`Running` → `RUNNING`). Module-level objects, so any schema module
 * uses an enum as a field's type without importing another module.
 */
import { EXECUTION_STATES, JOB_STATES, SORT_ORDERS, WORKFLOW_STATES } from '../ci/types.js';
import { WORKFLOW_EVENT_KINDS } from '../live/workflow-watch.js';
import type { Builder } from './builder.js';

type EnumOf<V extends string> = { readonly [K in V as Uppercase<K>]: K };

function enumOf<const V extends string>(values: readonly V[]): EnumOf<V> {
  // The mapped type says what this builds; TypeScript cannot follow `toUpperCase` through `fromEntries`.
  return Object.fromEntries(values.map((value) => [value.toUpperCase(), value])) as EnumOf<V>;
}

export const ExecutionStateEnum = enumOf(EXECUTION_STATES);
export const WorkflowStateEnum = enumOf(WORKFLOW_STATES);
export const JobStateEnum = enumOf(JOB_STATES);
export const SortOrderEnum = enumOf(SORT_ORDERS);
export const WorkflowEventKindEnum = enumOf(WORKFLOW_EVENT_KINDS);

export function registerEnums(builder: Builder): void {
  builder.enumType(ExecutionStateEnum, {
    name: 'WorkflowExecutionState',
    description: 'Where a workflow execution is in its life.',
    values: {
      RUNNING: { description: 'Being executed.' },
      SUCCESS: { description: 'Every task succeeded.' },
      FAILED: { description: 'A task failed.' },
      PAUSE: { description: 'Waiting: its queue is paused.' },
      CANCEL: { description: 'Cancelled before it finished.' },
    },
  });
  builder.enumType(WorkflowStateEnum, {
    name: 'WorkflowState',
    description: 'Whether a workflow starts runs for new objects.',
    values: {
      ACTIVE: { description: 'Runs for every matching upload.' },
      PAUSED: { description: 'Starts no runs.' },
    },
  });
  builder.enumType(JobStateEnum, {
    name: 'JobState',
    description: 'Where one of CI’s jobs (a media job, a batch trigger) is in its life.',
    values: {
      SUBMITTED: { description: 'Queued, not started.' },
      PAUSE: { description: 'Waiting: its queue is paused.' },
    },
  });
  builder.enumType(SortOrderEnum, {
    name: 'SortOrder',
    description: 'Order by creation time.',
    values: { ASC: { description: 'Oldest first.' }, DESC: { description: 'Newest first.' } },
  });
  builder.enumType(WorkflowEventKindEnum, {
    name: 'WorkflowExecutionEventKind',
    values: {
      STARTED: { description: 'A run seen for the first time.' },
      UPDATED: { description: 'A run changed state and goes on.' },
      FINISHED: { description: 'A run succeeded, failed or was cancelled.' },
    },
  });
}
