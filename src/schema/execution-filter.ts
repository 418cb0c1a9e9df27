/**
 * The execution filter, from GraphQL input to the one `ExecutionFilter` value that paging, cursors and live events
 * share. The input fields are declared here once for every input type that filters executions, and each value is
 * parsed by its rule here once; a new filter field is one line below and one in `ci/call-params.ts`.
 */
import type { InputFieldBuilder } from '@pothos/core';
import type { ExecutionFilter } from '../ci/client.js';
import { batchJobIdRule, objectKeyRule, type WorkflowId } from '../ci/inputs.js';
import type { ExecutionState, SortOrder, WorkflowExecutionSummary } from '../ci/types.js';
import type { BuilderTypes } from './builder.js';
import { ExecutionStateEnum, SortOrderEnum } from './enums.js';
import { checkTimeWindow, parseOptionalArgument, parseStates } from './inputs.js';

/** The filter fields of the executions connections; `workflowId` is added where it is not implied. */
export const executionFilterFields = (t: InputFieldBuilder<BuilderTypes, 'InputObject'>) => ({
  objectKey: t.string({ description: 'Only runs on this exact object key.' }),
  states: t.field({ type: [ExecutionStateEnum], description: 'Only runs in one of these states.' }),
  createdAfter: t.field({ type: 'DateTime', description: 'Only runs created at or after this instant.' }),
  createdBefore: t.field({ type: 'DateTime', description: 'Only runs created at or before this instant.' }),
  batchJobId: t.id({ description: 'Only runs started by this batch-trigger job.' }),
  order: t.field({ type: SortOrderEnum, defaultValue: 'Desc', description: 'By creation time.' }),
});

/** Any input that filters executions, as GraphQL hands it over: every field optional, nulls for absent. */
export interface ExecutionFilterInput {
  readonly objectKey?: string | null | undefined;
  readonly states?: readonly ExecutionState[] | null | undefined;
  readonly createdAfter?: Date | null | undefined;
  readonly createdBefore?: Date | null | undefined;
  readonly batchJobId?: string | number | null | undefined;
  readonly order?: SortOrder | null | undefined;
}

/**
 * The filter for one workflow, every value parsed by its rule (a `BAD_USER_INPUT` naming `argumentName.field`
 * otherwise) and put in one canonical form, so equal filters get equal cursors: GraphQL's nulls become absent
 * fields, states a sorted set, and the time window is checked.
 */
export function executionFilter(
  workflowId: WorkflowId,
  input: ExecutionFilterInput | null | undefined,
  argumentName = 'filter',
): ExecutionFilter {
  const createdAfter = input?.createdAfter ?? undefined;
  const createdBefore = input?.createdBefore ?? undefined;
  checkTimeWindow(createdAfter, createdBefore, argumentName);
  return {
    workflowId,
    objectKey: parseOptionalArgument(objectKeyRule, input?.objectKey, `${argumentName}.objectKey`),
    states: parseStates(input?.states, argumentName),
    createdAfter,
    createdBefore,
    batchJobId: parseOptionalArgument(
      batchJobIdRule,
      input?.batchJobId == null ? undefined : String(input.batchJobId),
      `${argumentName}.batchJobId`,
    ),
    order: input?.order ?? 'Desc',
  };
}

/**
 * Whether a run seen by live updates passes the filter's run-level fields (the workflow and batch job are the
 * watch's own key). Creation time and order do not apply to events.
 */
export function matchesFilter(filter: ExecutionFilter, run: WorkflowExecutionSummary): boolean {
  return (
    (filter.states === undefined || filter.states.includes(run.state)) &&
    (filter.objectKey === undefined || run.objectKey === filter.objectKey)
  );
}
