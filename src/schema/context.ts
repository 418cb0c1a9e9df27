/**
 * What every resolver gets: the CI calls bound to this request (its abort signal and its upstream-call log),
 * per-request DataLoaders, and the paging settings. A context is made per request and never shared, so cached
 * lookups can never leak from one caller to another.
 */
import DataLoader from 'dataloader';
import pLimit from 'p-limit';
import { type CallOptions, type CiClient, MAX_WORKFLOW_IDS_PER_LOOKUP } from '../ci/client.js';
import { CiError } from '../ci/errors.js';
import {
  isValidRunId,
  isValidWorkflowId,
  type ListWorkflowExecutionsParams,
  type Workflow,
  type WorkflowExecutionDetail,
  type WorkflowExecutionPage,
} from '../ci/types.js';
import type { CursorCodec } from './cursor.js';
import { asGraphQLError, upstreamBudgetError } from './errors.js';

/** The CI calls the schema needs; the real client or a test double. */
export type CiApi = Pick<CiClient, 'listWorkflowExecutions' | 'getWorkflowExecution' | 'getWorkflows'>;

/** What lives as long as the server: shared by every request's context. */
export interface GatewayServices {
  readonly ci: CiApi;
  readonly cursors: CursorCodec;
  readonly maxPageSize: number;
  /** Most execution-detail calls one request may have in flight at once. */
  readonly detailConcurrency: number;
  /** Most upstream calls (retries aside) one request may make, however it is shaped. */
  readonly maxUpstreamCallsPerRequest: number;
}

export interface GraphQLContext {
  readonly services: GatewayServices;
  listExecutions(params: ListWorkflowExecutionsParams): Promise<WorkflowExecutionPage>;
  /** Execution details by run id; null for runs the upstream does not know. Deduplicated per request. */
  readonly executionDetails: DataLoader<string, WorkflowExecutionDetail | null>;
  /** Workflows by id, gathered into as few lookups as the upstream's limit allows; null for unknown ids. */
  readonly workflows: DataLoader<string, Workflow | null>;
}

export function createGraphQLContext(
  services: GatewayServices,
  callOptions: CallOptions = {},
): GraphQLContext {
  const { ci } = services;
  // Aliases, wide pages with tasks and large entity batches multiply upstream calls; one request may only make
  // so many, so no single query can throttle the CI account for everyone else.
  let callsLeft = services.maxUpstreamCallsPerRequest;
  const spend = () => {
    if (callsLeft <= 0) throw upstreamBudgetError(services.maxUpstreamCallsPerRequest);
    callsLeft -= 1;
  };
  // The upstream has no batch detail call: run one call per distinct run, at most `detailConcurrency` at a time.
  const limit = pLimit(services.detailConcurrency);
  const loadDetail = async (runId: string): Promise<WorkflowExecutionDetail | null | Error> => {
    // A key no run can have (from another subgraph's reference, say) names no run: null, not a call.
    if (!isValidRunId(runId)) return null;
    try {
      spend();
      return await ci.getWorkflowExecution(runId, callOptions);
    } catch (error) {
      if (error instanceof CiError && error.kind === 'not_found') return null;
      return asGraphQLError(error) as Error;
    }
  };
  return {
    services,
    listExecutions: async (params) => {
      spend();
      try {
        return await ci.listWorkflowExecutions(params, callOptions);
      } catch (error) {
        throw asGraphQLError(error);
      }
    },
    executionDetails: new DataLoader((runIds) =>
      Promise.all(runIds.map((runId) => limit(() => loadDetail(runId)))),
    ),
    workflows: new DataLoader((ids) => lookUpWorkflows(ci, ids, callOptions, spend), {
      maxBatchSize: MAX_WORKFLOW_IDS_PER_LOOKUP,
    }),
  };
}

/** One upstream lookup for a batch of ids; ids it cannot take (empty, holding a comma) are simply unknown. */
async function lookUpWorkflows(
  ci: CiApi,
  ids: readonly string[],
  callOptions: CallOptions,
  spend: () => void,
): Promise<Array<Workflow | null | Error>> {
  const askable = ids.filter(isValidWorkflowId);
  if (askable.length === 0) return ids.map(() => null);
  try {
    spend();
    const { workflows } = await ci.getWorkflows(askable, callOptions);
    const byId = new Map(workflows.map((workflow) => [workflow.workflowId, workflow]));
    // Ids listed in NonExistIDs, and any the answer leaves out, resolve to null alike.
    return ids.map((id) => byId.get(id) ?? null);
  } catch (error) {
    const failure = asGraphQLError(error) as Error;
    return ids.map(() => failure);
  }
}
