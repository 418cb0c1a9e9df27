/**
 * The CI calls as one GraphQL request may make them: bound to the request's lifetime (its abort signal and
 * attempt log), paid for from its budget one attempt at a time, limited to a few in flight at once, and with
 * failures already mapped to the GraphQL errors clients see. Resolvers and loaders use this and nothing else.
 */
import pLimit from 'p-limit';
import type { CallOptions, CiClient, UpstreamAttempt } from '../ci/client.js';
import { CiError } from '../ci/errors.js';
import type { RunId, WorkflowId } from '../ci/inputs.js';
import type { WorkflowExecutionDetail, WorkflowExecutionPage, WorkflowLookup } from '../ci/types.js';
import { asGraphQLError, upstreamBudgetError } from './errors.js';

/** The CI calls the schema needs; the real client or a test double. */
export type CiApi = Pick<CiClient, 'listWorkflowExecutions' | 'getWorkflowExecution' | 'getWorkflows'>;

export interface RequestCi {
  listWorkflowExecutions(
    params: Parameters<CiApi['listWorkflowExecutions']>[0],
  ): Promise<WorkflowExecutionPage>;
  /** Null for a run CI does not know. */
  getWorkflowExecution(runId: RunId): Promise<WorkflowExecutionDetail | null>;
  getWorkflows(ids: readonly WorkflowId[]): Promise<WorkflowLookup>;
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
  return {
    listWorkflowExecutions: (params) => run(() => ci.listWorkflowExecutions(params, callOptions)),
    getWorkflowExecution: (runId) =>
      run(async () => {
        try {
          return await ci.getWorkflowExecution(runId, callOptions);
        } catch (error) {
          if (error instanceof CiError && error.kind === 'not_found') return null;
          throw error;
        }
      }),
    getWorkflows: (ids) => run(() => ci.getWorkflows(ids, callOptions)),
  };
}
