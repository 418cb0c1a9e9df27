/**
 * What the typed calls take: the execution filter (declared once, from the GraphQL input through cursors and live
 * events to the signed call's query), the other calls' parameters, and how a list call's query is built from them.
 */
import type { BatchJobId, JobName, ObjectKey, ObjectPrefix, ObjectUrl, WorkflowId } from './inputs.js';
import { formatCiTime } from './time.js';
import { type ExecutionState, type JobState, MAX_UPSTREAM_PAGE_SIZE, type SortOrder } from './types.js';

/**
 * Which of a workflow's executions to list: the one declaration of the filter, from the GraphQL input through
 * cursors and live events to the signed call's query ({@link listQuery} maps each field to CI's parameter).
 */
export interface ExecutionFilter {
  readonly workflowId: WorkflowId;
  /** Object key, upstream `name`. */
  readonly objectKey?: ObjectKey | undefined;
  readonly states?: readonly ExecutionState[] | undefined;
  /** Inclusive. */
  readonly createdAfter?: Date | undefined;
  /** Inclusive. */
  readonly createdBefore?: Date | undefined;
  /** Only executions started by this batch-trigger job. */
  readonly batchJobId?: BatchJobId | undefined;
  readonly order?: SortOrder | undefined;
}

export interface ListWorkflowExecutionsParams extends ExecutionFilter {
  /** 1..{@link MAX_UPSTREAM_PAGE_SIZE}; the upstream defaults to 10. */
  readonly size?: number | undefined;
  readonly nextToken?: string | undefined;
}

/** One run of a workflow on one object, optionally labelled. */
export interface TriggerWorkflowParams {
  readonly workflowId: WorkflowId;
  readonly objectKey: ObjectKey;
  readonly name?: JobName | undefined;
}

/** What a batch trigger runs: one workflow over a set of objects, optionally only those created in a window. */
export interface StartBatchTriggerParams {
  readonly workflowId: WorkflowId;
  readonly name: JobName;
  readonly source:
    | { readonly kind: 'prefix'; readonly prefix: ObjectPrefix }
    | { readonly kind: 'objects'; readonly objectKeys: readonly ObjectKey[] }
    | { readonly kind: 'manifest'; readonly manifest: ObjectUrl }
    | { readonly kind: 'urlFile'; readonly urlFile: ObjectUrl };
  readonly createdAfter?: Date | undefined;
  readonly createdBefore?: Date | undefined;
}

export interface ListBatchTriggersParams {
  readonly workflowId: WorkflowId;
  readonly order?: SortOrder | undefined;
  /** 1..{@link MAX_UPSTREAM_PAGE_SIZE}. */
  readonly size?: number | undefined;
  readonly states?: readonly JobState[] | undefined;
  readonly createdAfter?: Date | undefined;
  readonly createdBefore?: Date | undefined;
  readonly nextToken?: string | undefined;
}

/** A list call's `size`, held to the upstream's range before anything is signed. */
export function checkPageSize(size: number | undefined): void {
  if (size !== undefined && !(Number.isInteger(size) && size >= 1 && size <= MAX_UPSTREAM_PAGE_SIZE)) {
    throw new RangeError(`size must be an integer from 1 to ${MAX_UPSTREAM_PAGE_SIZE}`);
  }
}

/** The executions list's query, in the order the API documents its parameters; absent ones are not sent. */
export function listQuery(params: ListWorkflowExecutionsParams): Array<[string, string]> {
  return tokenPagedQuery(
    [
      ['workflowId', params.workflowId],
      ['name', params.objectKey],
    ],
    params,
    [['jobId', params.batchJobId]],
  );
}

/** The batch triggers list's query, the same way. */
export function batchTriggerListQuery(params: ListBatchTriggersParams): Array<[string, string]> {
  return tokenPagedQuery(
    [
      ['type', 'Workflow'],
      ['workflowId', params.workflowId],
    ],
    params,
    [],
  );
}

type Entries = ReadonlyArray<readonly [string, string | undefined]>;

/**
 * A token-paged list's query: its own parameters, then what every such list takes (order, size, states, a creation
 * window, the page token), then its own again; absent ones are not sent.
 */
function tokenPagedQuery(
  before: Entries,
  params: Omit<ListBatchTriggersParams, 'workflowId' | 'states'> & {
    readonly states?: readonly string[] | undefined;
  },
  after: Entries,
): Array<[string, string]> {
  checkPageSize(params.size);
  const entries: Entries = [
    ...before,
    ['orderByTime', params.order],
    ['size', params.size?.toString()],
    ['states', params.states?.length ? params.states.join(',') : undefined],
    ['startCreationTime', params.createdAfter && formatCiTime(params.createdAfter)],
    ['endCreationTime', params.createdBefore && formatCiTime(params.createdBefore)],
    ['nextToken', params.nextToken],
    ...after,
  ];
  return entries.flatMap<[string, string]>(([name, value]) => (value === undefined ? [] : [[name, value]]));
}
