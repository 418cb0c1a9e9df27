/**
 * What every resolver gets: the caller's rights, the buckets it may use, and for each bucket a request uses, that
 * bucket's CI calls bound to this request ({@link RequestCi}) with per-request DataLoaders on them. A context is
 * made per request and never shared, and a bucket's loaders call only that bucket's client, so cached lookups can
 * leak neither from one caller to another nor from one bucket to another.
 */
import DataLoader from 'dataloader';
import pLimit from 'p-limit';
import { MAX_WORKFLOW_IDS_PER_LOOKUP, type UpstreamAttempt } from '../ci/client.js';
import type { BatchJobId, BucketId, MediaJobId, RunId, WorkflowId } from '../ci/inputs.js';
import type { BatchTrigger, MediaJob, Workflow, WorkflowExecutionDetail } from '../ci/types.js';
import type { LiveUpdates } from '../live/live-updates.js';
import type { RecentRuns } from '../stats/recent-runs.js';
import type { SettledStats } from '../stats/settled-stats.js';
import { CACHE_SECONDS, CacheHints } from './cache-hints.js';
import type { CursorCodec } from './cursor.js';
import { bucketForbidden, bucketRequired, unknownBucket } from './errors.js';
import type { PageTokenKnowledge } from './page-tokens.js';
import type { ReferenceBuckets } from './reference-buckets.js';
import { type CiApi, createRequestCi, type RequestCi, requestBudget } from './request-ci.js';

export type { CiApi };

/** One bucket the gateway serves: its CI client and its live updates. */
export interface ServedBucket {
  readonly bucketId: BucketId;
  readonly region: string;
  readonly ci: CiApi;
  readonly live: LiveUpdates;
}

/** Every bucket the gateway serves, the default first, then in configured order. */
export interface BucketDirectory {
  readonly all: readonly ServedBucket[];
  /** Where an argument without `bucketId` goes: the only bucket, or the configured default. */
  readonly defaultBucket: BucketId | undefined;
  get(bucketId: string): ServedBucket | undefined;
}

/** What lives as long as the server: shared by every request's context. */
export interface GatewayServices {
  readonly buckets: BucketDirectory;
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
  /** Which bucket holds an id that a reference named without its bucket. */
  readonly referenceBuckets: ReferenceBuckets;
  /** Whether a callback URL configured in CI for a bucket's workflow leads here; undefined when it cannot be told. */
  readonly callbacksReachGateway?: ((url: string, bucketId: string) => boolean | undefined) | undefined;
  /** Statistics of windows that can no longer change, kept (shared by replicas through Redis). */
  readonly settledStats?: SettledStats | undefined;
  /** The runs of windows that end now, kept and topped up between questions. */
  readonly recentRuns?: RecentRuns | undefined;
}

/** What the caller may do, decided from its verified token before the request runs. */
export interface CallerRights {
  readonly mayRead: boolean;
  readonly mayWrite: boolean;
  /** The buckets it may use (its token's bucket claim); undefined for every bucket. */
  readonly buckets?: ReadonlySet<string> | undefined;
  /** When the caller's token expires: a subscription ends then. */
  readonly expiresAt?: Date | undefined;
}

/** One bucket as this request uses it: its calls, bound to the request, and its loaders. */
export interface BucketScope {
  readonly bucketId: BucketId;
  /** The bucket arguments without `bucketId` mean. */
  readonly isDefault: boolean;
  readonly region: string;
  readonly ci: RequestCi;
  readonly live: LiveUpdates;
  /** Execution details by run id; null for runs the upstream does not know. Deduplicated per request. */
  readonly executionDetails: DataLoader<RunId, WorkflowExecutionDetail | null>;
  /** Workflows by id, gathered into as few lookups as the upstream's limit allows; null for unknown ids. */
  readonly workflows: DataLoader<WorkflowId, Workflow | null>;
  /** Media jobs by id, gathered into one call per `jobIdsPerLookup`; null for ids CI does not know. */
  readonly mediaJobs: DataLoader<MediaJobId, MediaJob | null>;
  /** Batch triggers by id (CI reads them one at a time); null for ids CI does not know. */
  readonly batchTriggers: DataLoader<BatchJobId, BatchTrigger | null>;
}

export interface GraphQLContext {
  readonly services: GatewayServices;
  readonly caller: CallerRights;
  /** The bucket, as this request uses it; `FORBIDDEN` outside the caller's buckets, before any call. */
  bucket(bucketId: BucketId): BucketScope;
  /**
   * The bucket an argument names, or the default one when it names none (`BAD_USER_INPUT`, naming the argument,
   * when there is none or the bucket is not served); then as {@link bucket}.
   */
  bucketArgument(raw: string | null | undefined, argumentName: string): BucketScope;
  /** The buckets the caller may use, default first. */
  readonly visibleBuckets: readonly ServedBucket[];
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
  /** Before each call to a bucket: throws to refuse it (a caller over its rate limit for the bucket, say). */
  readonly admit?: ((bucketId: BucketId) => Promise<void>) | undefined;
  /** Called before every upstream attempt, after the request's own budget: a per-caller rate limit, say. */
  readonly chargeAttempt?: ((bucketId: BucketId) => void) | undefined;
  /** Everything, when absent: a gateway that requires no tokens checks no scopes. */
  readonly caller?: CallerRights | undefined;
}

const UNRESTRICTED: CallerRights = { mayRead: true, mayWrite: true };

export function createGraphQLContext(
  services: GatewayServices,
  binding: RequestBinding = {},
): GraphQLContext {
  const caller = binding.caller ?? UNRESTRICTED;
  const cacheHints = new CacheHints();
  // One budget and one concurrency limit for the whole request, whichever buckets it uses.
  const budget = requestBudget(services.maxUpstreamCallsPerRequest);
  const limit = pLimit(services.upstreamConcurrency);
  const scopes = new Map<string, BucketScope>();
  const mayUse = (bucketId: string) => caller.buckets === undefined || caller.buckets.has(bucketId);
  const { defaultBucket } = services.buckets;
  /** Made when first asked for: most requests name their bucket and never need the list. */
  let visible: readonly ServedBucket[] | undefined;

  const bucket = (bucketId: BucketId): BucketScope => {
    const existing = scopes.get(bucketId);
    if (existing) return existing;
    const served = services.buckets.get(bucketId);
    if (!served) throw unknownBucket(bucketId);
    if (!mayUse(bucketId)) throw bucketForbidden(bucketId);
    const { admit, chargeAttempt } = binding;
    // Admitted once per bucket per request: a request let in runs to completion there (it may overdraw once).
    let admission: Promise<void> | undefined;
    const ci = createRequestCi(served.ci, {
      signal: binding.signal,
      onAttempt: binding.onAttempt,
      admit: admit && (() => (admission ??= admit(bucketId))),
      chargeAttempt: chargeAttempt && (() => chargeAttempt(bucketId)),
      budget,
      limit,
    });
    const scope: BucketScope = {
      bucketId,
      isDefault: bucketId === defaultBucket,
      region: served.region,
      ci,
      live: served.live,
      ...bucketLoaders(ci, cacheHints, services.jobIdsPerLookup),
    };
    scopes.set(bucketId, scope);
    return scope;
  };

  return {
    services,
    caller,
    bucket,
    bucketArgument(raw, argumentName) {
      const named = raw ?? defaultBucket;
      if (named === undefined) throw bucketRequired(argumentName, services.buckets.all);
      const served = services.buckets.get(named);
      if (!served) throw unknownBucket(named, argumentName);
      return bucket(served.bucketId);
    },
    get visibleBuckets() {
      visible ??= services.buckets.all.filter((served) => mayUse(served.bucketId));
      return visible;
    },
    cacheHints,
    renewed: (signal) => createGraphQLContext(services, { ...binding, signal }),
  };
}

/** One bucket's loaders for one request, on that bucket's calls. */
function bucketLoaders(ci: RequestCi, cacheHints: CacheHints, jobIdsPerLookup: number) {
  return {
    // The upstream has no batch detail call: one call per distinct run, within the request's concurrency.
    executionDetails: new DataLoader((runIds: readonly RunId[]) =>
      eachAlone(
        runIds,
        (runId) => ci.getWorkflowExecution(runId),
        (detail) => cacheHints.read(detail?.state),
      ),
    ),
    workflows: new DataLoader(
      (ids: readonly WorkflowId[]) => {
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
      (ids: readonly MediaJobId[]) =>
        inOneCall(
          ids,
          async (batch) => (await ci.getMediaJobs(batch)).jobs,
          (job) => job.jobId,
        ),
      { maxBatchSize: jobIdsPerLookup },
    ),
    // CI reads batch triggers one at a time.
    batchTriggers: new DataLoader((ids: readonly BatchJobId[]) =>
      eachAlone(
        ids,
        (id) => ci.getBatchTrigger(id),
        (job) => cacheHints.read(job?.state),
      ),
    ),
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
