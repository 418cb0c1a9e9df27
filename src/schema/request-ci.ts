/**
 * The CI calls as one GraphQL request may make them: bound to the request's lifetime (its abort signal and
 * attempt log), paid for from its budget one attempt at a time, limited to a few in flight at once, and with
 * failures already mapped to the GraphQL errors clients see. Resolvers and loaders use this and nothing else.
 */
import pLimit from 'p-limit';
import type { CallOptions, CiClient, UpstreamAttempt } from '../ci/client.js';
import { CiError } from '../ci/errors.js';
import type { BatchJobId, MediaJobId, RunId, WorkflowId } from '../ci/inputs.js';
import type {
  BatchTrigger,
  BatchTriggerPage,
  MediaJobLookup,
  TriggeredRun,
  WorkflowExecutionDetail,
  WorkflowExecutionPage,
  WorkflowLookup,
} from '../ci/types.js';
import { asActionGraphQLError, asGraphQLError, upstreamBudgetError } from './errors.js';

/** The CI calls the schema needs; the real client or a test double. */
export type CiApi = Pick<
  CiClient,
  | 'listWorkflowExecutions'
  | 'getWorkflowExecution'
  | 'getWorkflows'
  | 'triggerWorkflow'
  | 'setWorkflowState'
  | 'getMediaJobs'
  | 'startBatchTrigger'
  | 'getBatchTrigger'
  | 'listBatchTriggers'
  | 'cancelBatchTrigger'
>;

export interface RequestCi {
  listWorkflowExecutions(
    params: Parameters<CiApi['listWorkflowExecutions']>[0],
  ): Promise<WorkflowExecutionPage>;
  /** Null for a run CI does not know. */
  getWorkflowExecution(runId: RunId): Promise<WorkflowExecutionDetail | null>;
  getWorkflows(ids: readonly WorkflowId[]): Promise<WorkflowLookup>;
  getMediaJobs(ids: readonly MediaJobId[]): Promise<MediaJobLookup>;
  /** Null for a job CI does not know. */
  getBatchTrigger(jobId: BatchJobId): Promise<BatchTrigger | null>;
  listBatchTriggers(params: Parameters<CiApi['listBatchTriggers']>[0]): Promise<BatchTriggerPage>;
  /** Not idempotent: failures after sending are `UPSTREAM_OUTCOME_UNKNOWN`. */
  triggerWorkflow(params: Parameters<CiApi['triggerWorkflow']>[0]): Promise<TriggeredRun>;
  startBatchTrigger(params: Parameters<CiApi['startBatchTrigger']>[0]): Promise<BatchTrigger>;
  /** Idempotent. */
  setWorkflowState(workflowId: WorkflowId, state: 'paused' | 'active'): Promise<void>;
  cancelBatchTrigger(jobId: BatchJobId): Promise<void>;
}

export interface RequestCiOptions {
  /** Aborted when nobody waits any more: client gone, deadline passed, response sent, or shutdown. */
  readonly signal?: AbortSignal | undefined;
  readonly onAttempt?: ((attempt: UpstreamAttempt) => void) | undefined;
  /** Called before every attempt the budget allows. */
  readonly chargeAttempt?: (() => void) | undefined;
  /** Most upstream attempts, retries included, the request may make. */
  readonly maxAttempts: number;
  /** Most upstream calls the request may have in flight at once. */
  readonly concurrency: number;
}

export function createRequestCi(ci: CiApi, options: RequestCiOptions): RequestCi {
  // Aliases, wide pages with tasks and large entity batches multiply upstream calls; one request may only make
  // so many attempts, so no single query can spend the CI account's quota for everyone else.
  let attemptsLeft = options.maxAttempts;
  const callOptions: CallOptions = {
    signal: options.signal,
    onAttempt: options.onAttempt,
    beforeAttempt: () => {
      if (attemptsLeft <= 0) throw upstreamBudgetError(options.maxAttempts);
      attemptsLeft -= 1;
      options.chargeAttempt?.();
    },
  };
  // However the request is shaped, it holds at most `concurrency` upstream connections: a request stuck on a
  // hanging upstream cannot take the pool that every other request needs.
  const limit = pLimit(options.concurrency);
  const run = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await limit(call);
    } catch (error) {
      throw asGraphQLError(error);
    }
  };
  /** A call that must not run twice: a failure after sending is an unknown outcome, never a plain error. */
  const act = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await limit(call);
    } catch (error) {
      throw asActionGraphQLError(error);
    }
  };
  /** Null for what CI does not know. */
  const orNull = async <T>(call: () => Promise<T>): Promise<T | null> => {
    try {
      return await call();
    } catch (error) {
      if (error instanceof CiError && error.kind === 'not_found') return null;
      throw error;
    }
  };
  return {
    listWorkflowExecutions: (params) => run(() => ci.listWorkflowExecutions(params, callOptions)),
    getWorkflowExecution: (runId) => run(() => orNull(() => ci.getWorkflowExecution(runId, callOptions))),
    getWorkflows: (ids) => run(() => ci.getWorkflows(ids, callOptions)),
    getMediaJobs: (ids) => run(() => ci.getMediaJobs(ids, callOptions)),
    getBatchTrigger: (jobId) => run(() => orNull(() => ci.getBatchTrigger(jobId, callOptions))),
    listBatchTriggers: (params) => run(() => ci.listBatchTriggers(params, callOptions)),
    triggerWorkflow: (params) => act(() => ci.triggerWorkflow(params, callOptions)),
    startBatchTrigger: (params) => act(() => ci.startBatchTrigger(params, callOptions)),
    setWorkflowState: async (workflowId, state) => {
      await run(() => ci.setWorkflowState(workflowId, state, callOptions));
    },
    cancelBatchTrigger: async (jobId) => {
      await run(() => ci.cancelBatchTrigger(jobId, callOptions));
    },
  };
}
