/**
 * What every resolver gets: the CI calls bound to this request ({@link RequestCi}), per-request DataLoaders built
 * on them, and the services shared by all requests. A context is made per request and never shared, so cached
 * lookups can never leak from one caller to another.
 */
import DataLoader from 'dataloader';
import { MAX_WORKFLOW_IDS_PER_LOOKUP, type UpstreamAttempt } from '../ci/client.js';
import type { BatchJobId, MediaJobId, RunId, WorkflowId } from '../ci/inputs.js';
import type { BatchTrigger, MediaJob, Workflow, WorkflowExecutionDetail } from '../ci/types.js';
import type { LiveUpdates } from '../live/live-updates.js';
import { CACHE_SECONDS, CacheHints } from './cache-hints.js';
import type { CursorCodec } from './cursor.js';
import type { PageTokenKnowledge } from './pagination.js';
import { type CiApi, createRequestCi, type RequestCi } from './request-ci.js';

export type { CiApi };

/** What lives as long as the server: shared by every request's context. */
export interface GatewayServices {
  readonly ci: CiApi;
  readonly cursors: CursorCodec;
  readonly maxPageSize: number;
  /** Most upstream calls one request may have in flight at once. */
  readonly upstreamConcurrency: number;
  /** Most upstream attempts, retries included, one request may make however it is shaped. */
  readonly maxUpstreamCallsPerRequest: number;
  /** What paging has learnt about the upstream's tokens. */
  readonly pageTokens: PageTokenKnowledge;
  /** Media jobs asked for in one `GET /jobs/<id>,…`. */
  readonly jobIdsPerLookup: number;
  /** The shared watchers behind subscriptions. */
  readonly live: LiveUpdates;
}

/** What the caller may do, decided from its verified token before the request runs. */
export interface CallerRights {
  readonly mayRead: boolean;
  readonly mayWrite: boolean;
  /** When the caller's token expires: a subscription ends then. */
  readonly expiresAt?: Date | undefined;
}

export interface GraphQLContext {
  readonly services: GatewayServices;
  readonly caller: CallerRights;
  readonly ci: RequestCi;
  /** Execution details by run id; null for runs the upstream does not know. Deduplicated per request. */
  readonly executionDetails: DataLoader<RunId, WorkflowExecutionDetail | null>;
  /** Workflows by id, gathered into as few lookups as the upstream's limit allows; null for unknown ids. */
  readonly workflows: DataLoader<WorkflowId, Workflow | null>;
  /** Media jobs by id, gathered into one call per `jobIdsPerLookup`; null for ids CI does not know. */
  readonly mediaJobs: DataLoader<MediaJobId, MediaJob | null>;
  /** Batch triggers by id (CI reads them one at a time); null for ids CI does not know. */
  readonly batchTriggers: DataLoader<BatchJobId, BatchTrigger | null>;
  /** How long the answer may be reused, from everything read for it. */
  readonly cacheHints: CacheHints;
}

export interface RequestBinding {
  /** Aborted when nobody waits for this request's answer any more. */
  readonly signal?: AbortSignal | undefined;
  readonly onAttempt?: ((attempt: UpstreamAttempt) => void) | undefined;
  /** Called before every upstream attempt, after the request's own budget: a per-caller rate limit, say. */
  readonly chargeAttempt?: (() => void) | undefined;
  /** Everything, when absent: a gateway that requires no tokens checks no scopes. */
  readonly caller?: CallerRights | undefined;
}

const UNRESTRICTED: CallerRights = { mayRead: true, mayWrite: true };

export function createGraphQLContext(
  services: GatewayServices,
  binding: RequestBinding = {},
): GraphQLContext {
  const ci = createRequestCi(services.ci, {
    signal: binding.signal,
    onAttempt: binding.onAttempt,
    chargeAttempt: binding.chargeAttempt,
    maxAttempts: services.maxUpstreamCallsPerRequest,
    concurrency: services.upstreamConcurrency,
  });
  const cacheHints = new CacheHints();
  return {
    services,
    caller: binding.caller ?? UNRESTRICTED,
    ci,
    // The upstream has no batch detail call: one call per distinct run, within the request's concurrency.
    executionDetails: new DataLoader((runIds) =>
      Promise.all(
        runIds.map((runId) =>
          ci.getWorkflowExecution(runId).then(
            (detail) => {
              cacheHints.read(detail?.state);
              return detail;
            },
            (error: Error) => error,
          ),
        ),
      ),
    ),
    workflows: new DataLoader(
      (ids) => {
        cacheHints.limit(CACHE_SECONDS.workflow);
        return lookUpWorkflows(ci, ids);
      },
      { maxBatchSize: MAX_WORKFLOW_IDS_PER_LOOKUP },
    ),
    mediaJobs: new DataLoader((ids) => lookUpMediaJobs(ci, ids), { maxBatchSize: services.jobIdsPerLookup }),
    batchTriggers: new DataLoader((ids) =>
      Promise.all(
        ids.map((id) =>
          ci.getBatchTrigger(id).then(
            (job) => {
              cacheHints.read(job?.state);
              return job;
            },
            (error: Error) => error,
          ),
        ),
      ),
    ),
    cacheHints,
  };
}

/** One upstream call for a batch of media job ids; ids CI does not know are null. */
async function lookUpMediaJobs(
  ci: RequestCi,
  ids: readonly MediaJobId[],
): Promise<Array<MediaJob | null | Error>> {
  try {
    const { jobs } = await ci.getMediaJobs(ids);
    const byId = new Map(jobs.map((job) => [job.jobId, job]));
    return ids.map((id) => byId.get(id) ?? null);
  } catch (error) {
    return ids.map(() => error as Error);
  }
}

/** One upstream lookup for a batch of ids; ids listed in `NonExistIDs`, or left out of the answer, are null. */
async function lookUpWorkflows(
  ci: RequestCi,
  ids: readonly WorkflowId[],
): Promise<Array<Workflow | null | Error>> {
  try {
    const { workflows } = await ci.getWorkflows(ids);
    const byId = new Map(workflows.map((workflow) => [workflow.workflowId, workflow]));
    return ids.map((id) => byId.get(id) ?? null);
  } catch (error) {
    return ids.map(() => error as Error);
  }
}
