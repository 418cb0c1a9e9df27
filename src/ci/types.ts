/** The CI API's data, as the rest of the service sees it: camelCase, parsed times, no XML. */

export const EXECUTION_STATES = ['Running', 'Success', 'Failed', 'Pause', 'Cancel'] as const;
export type ExecutionState = (typeof EXECUTION_STATES)[number];

export const WORKFLOW_STATES = ['Active', 'Paused'] as const;
export type WorkflowState = (typeof WORKFLOW_STATES)[number];

export type SortOrder = 'Asc' | 'Desc';

/** The upstream refuses `size` above this. */
export const MAX_UPSTREAM_PAGE_SIZE = 100;

export interface WorkflowExecutionSummary {
  readonly runId: string;
  readonly workflowId: string;
  readonly objectKey: string;
  readonly state: ExecutionState;
  readonly createdAt: Date;
}

export interface WorkflowExecutionPage {
  readonly requestId: string | undefined;
  readonly executions: readonly WorkflowExecutionSummary[];
  /** Null on the last page. */
  readonly nextToken: string | null;
}

export interface WorkflowTask {
  readonly type: string;
  readonly name: string | undefined;
  readonly state: string;
  readonly jobId: string | undefined;
  readonly templateId: string | undefined;
  readonly templateName: string | undefined;
  readonly code: string | undefined;
  readonly message: string | undefined;
  readonly createdAt: Date | undefined;
  readonly startedAt: Date | undefined;
  readonly endedAt: Date | undefined;
}

export interface WorkflowExecutionDetail extends WorkflowExecutionSummary {
  readonly requestId: string | undefined;
  readonly workflowName: string | undefined;
  readonly tasks: readonly WorkflowTask[];
}

export interface Workflow {
  readonly workflowId: string;
  readonly name: string;
  readonly state: WorkflowState;
  readonly bucketId: string | undefined;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface WorkflowLookup {
  readonly requestId: string | undefined;
  readonly workflows: readonly Workflow[];
  /** Requested ids the upstream reports as not existing. */
  readonly nonExistIds: readonly string[];
}
