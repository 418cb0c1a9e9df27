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
import type { PageTokenKnowledge } from './page-tokens.js';
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
  /** Whether a callback URL configured in CI leads to this gateway; undefined when it cannot be told. */
  readonly callbacksReachGateway?: ((url: string) => boolean | undefined) | undefined;
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
  /**
   * This context's sibling for one subscription event: the same services, caller and bindings, with fresh
   * loaders, budget and cache hints, bound to the event's own lifetime.
   */
  renewed(signal: AbortSignal): GraphQLContext;
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
      eachAlone(
        runIds,
        (runId) => ci.getWorkflowExecution(runId),
        (detail) => cacheHints.read(detail?.state),
      ),
    ),
    workflows: new DataLoader(
      (ids) => {
        cacheHints.limit(CACHE_SECONDS.workflow);
        return inOneCall(
          ids,
          async (batch) => (await ci.getWorkflows(batch)).workflows,
          (w) => w.workflowId,
        );
      },
      { maxBatchSize: MAX_WORKFLOW_IDS_PER_LOOKUP },
    ),
    mediaJobs: new DataLoader(
      (ids) =>
        inOneCall(
          ids,
          async (batch) => (await ci.getMediaJobs(batch)).jobs,
          (job) => job.jobId,
        ),
      { maxBatchSize: services.jobIdsPerLookup },
    ),
    // CI reads batch triggers one at a time.
    batchTriggers: new DataLoader((ids) =>
      eachAlone(
        ids,
        (id) => ci.getBatchTrigger(id),
        (job) => cacheHints.read(job?.state),
      ),
    ),
    cacheHints,
    renewed: (signal) => createGraphQLContext(services, { ...binding, signal }),
  };
}

/**
 * One upstream call for a batch of ids. Ids the answer leaves out (CI's `NonExistIDs` / `NonExistJobIds`) are null;
 * a failed call fails every id of the batch.
 */
async function inOneCall<K extends string, V>(
  ids: readonly K[],
  call: (ids: readonly K[]) => Promise<readonly V[]>,
  idOf: (value: V) => string,
): Promise<Array<V | null | Error>> {
  try {
    const byId = new Map((await call(ids)).map((value) => [idOf(value), value]));
    return ids.map((id) => byId.get(id) ?? null);
  } catch (error) {
    return ids.map(() => error as Error);
  }
}

/** One upstream call per id (the request's concurrency limits them); a failure fails only its own id. */
function eachAlone<K, V>(
  ids: readonly K[],
  call: (id: K) => Promise<V>,
  onRead: (value: V) => void,
): Promise<Array<V | Error>> {
  return Promise.all(
    ids.map((id) =>
      call(id).then(
        (value) => {
          onRead(value);
          return value;
        },
        (error: Error) => error,
      ),
    ),
  );
}
