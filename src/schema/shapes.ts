/**
 * What the resolvers of each shared GraphQL type receive: the builder's registry of object types names them, so a
 * module refers to another's type by its name, typed, without importing the module that defines it.
 */
import type { BatchJobId } from '../ci/inputs.js';
import type {
  BatchTrigger,
  MediaJob,
  Workflow,
  WorkflowExecutionDetail,
  WorkflowExecutionSummary,
  WorkflowTask,
} from '../ci/types.js';

/**
 * Either a list item or a detail answer: fields only the detail has are loaded when asked for. CI's answers do not
 * say which batch trigger started a run; a run reached through a batch trigger (or listed with a `batchJobId`
 * filter) carries it.
 */
export type ExecutionParent = (WorkflowExecutionSummary | WorkflowExecutionDetail) & {
  readonly startedBy?: BatchJobId | undefined;
};

export interface Edge<T> {
  readonly cursor: string;
  readonly node: T;
}

/** A Relay connection as paging builds it. */
export interface Connection<T> {
  readonly edges: readonly Edge<T>[];
  readonly pageInfo: {
    readonly hasNextPage: boolean;
    readonly hasPreviousPage: boolean;
    readonly startCursor: string | null;
    readonly endCursor: string | null;
  };
}

/** The object types more than one schema module uses, by name. */
export interface SharedObjects {
  WorkflowExecution: ExecutionParent;
  WorkflowExecutionConnection: Connection<ExecutionParent>;
  WorkflowTask: WorkflowTask;
  Workflow: Workflow;
  MediaJob: MediaJob;
  BatchTrigger: BatchTrigger;
}
