/**
 * The typed CI calls the gateway makes: each says which signed request to send and how to decode the answer.
 * Signing, retries, timeouts and aborts live in the one generic request under them ({@link CiTransport}).
 * Every argument that reaches a URL is a branded value from `inputs.ts`, so it has passed its input rule.
 */

import type { CallOptions } from './attempts.js';
import {
  batchTriggerListQuery,
  checkPageSize,
  type ListBatchTriggersParams,
  type ListWorkflowExecutionsParams,
  listQuery,
  type StartBatchTriggerParams,
  type TriggerWorkflowParams,
} from './call-params.js';
import { CiError } from './errors.js';
import type { BatchJobId, BucketId, MediaJobId, RunId, WorkflowId } from './inputs.js';
import {
  decodeBatchTriggerLookup,
  decodeBatchTriggerPage,
  decodeMediaJobs,
  encodeBatchTriggerInput,
} from './job-responses.js';
import { ReadCache } from './read-cache.js';
import {
  decodeAcknowledgement,
  decodeListWorkflowExecutions,
  decodeMediaBuckets,
  decodeTriggeredRun,
  decodeWorkflowExecutionDetail,
  decodeWorkflowLookup,
} from './responses.js';
import { formatCiTime } from './time.js';
import { CiTransport, type CiTransportOptions } from './transport.js';
import type {
  BatchTrigger,
  BatchTriggerPage,
  MediaBucketInfo,
  MediaJobLookup,
  TriggeredRun,
  WorkflowExecutionDetail,
  WorkflowExecutionPage,
  WorkflowLookup,
} from './types.js';
import { buildXml } from './xml.js';

export type {
  AttemptObservation,
  AttemptStart,
  CallOptions,
  UpstreamAttempt,
  UpstreamObserver,
  UpstreamOutcome,
} from './attempts.js';
export { outcomeOf } from './attempts.js';
export type {
  ExecutionFilter,
  ListBatchTriggersParams,
  ListWorkflowExecutionsParams,
  StartBatchTriggerParams,
  TriggerWorkflowParams,
} from './call-params.js';
export { SESSION_TOKEN_HEADER } from './dialect.js';
export { parseRetryAfter } from './errors.js';
export type { CiCredentials, CiLogger } from './transport.js';
export { DEFAULT_MAX_RETRIES } from './transport.js';

/** The search call's page size limit, and so the most ids one lookup can resolve. */
export const MAX_WORKFLOW_IDS_PER_LOOKUP = 100;

export interface CiClientOptions extends CiTransportOptions {
  /** The bucket the endpoint serves: every resource read is stamped with it. */
  readonly bucketId: BucketId;
  /** The region's own CI origin, for the calls about buckets (`GET /mediabucket`); the endpoint when absent. */
  readonly regionEndpoint?: string | undefined;
  /** What may be answered without asking CI again; a default cache when absent. */
  readonly cache?: ReadCache | undefined;
}

export class CiClient {
  readonly bucketId: BucketId;
  readonly #transport: CiTransport;
  /** To the region host: the same credentials and settings, another origin. */
  readonly #regionTransport: CiTransport;
  readonly #cache: ReadCache;

  constructor(options: CiClientOptions) {
    this.bucketId = options.bucketId;
    this.#transport = new CiTransport(options);
    const { regionEndpoint } = options;
    this.#regionTransport =
      regionEndpoint === undefined || regionEndpoint === options.endpoint
        ? this.#transport
        : new CiTransport({ ...options, endpoint: regionEndpoint });
    this.#cache = options.cache ?? new ReadCache();
  }

  /** The clock correction currently applied to signatures, in milliseconds. */
  get clockOffsetMs(): number {
    return this.#transport.clockOffsetMs;
  }

  /** `GET /workflowexecution`: one page of a workflow's executions. */
  listWorkflowExecutions(
    params: ListWorkflowExecutionsParams,
    options?: CallOptions,
  ): Promise<WorkflowExecutionPage> {
    return this.#transport.call(
      {
        operation: 'ListWorkflowExecutions',
        method: 'GET',
        path: '/workflowexecution',
        query: listQuery(params),
        idempotent: true,
      },
      (body) => decodeListWorkflowExecutions(body, this.bucketId),
      options,
    );
  }

  /**
   * `GET /workflowexecution/<RunId>`: one execution with its tasks. An unknown run is a `not_found` error. A
   * finished run is answered from the cache once it has been read.
   */
  async getWorkflowExecution(runId: RunId, options?: CallOptions): Promise<WorkflowExecutionDetail> {
    const cached = await this.#cache.detail(runId);
    if (cached) return cached;
    const detail = await this.#transport.call(
      {
        operation: 'GetWorkflowExecution',
        method: 'GET',
        path: `/workflowexecution/${runId}`,
        query: [],
        idempotent: true,
      },
      (body) => decodeWorkflowExecutionDetail(body, this.bucketId),
      options,
    );
    this.#cache.rememberDetail(detail);
    return detail;
  }

  /**
   * `GET /workflow?ids=…`: up to {@link MAX_WORKFLOW_IDS_PER_LOOKUP} workflows by id in one call. Workflows read in
   * the last few seconds come from the cache; only the others are asked for.
   */
  async getWorkflows(ids: readonly WorkflowId[], options?: CallOptions): Promise<WorkflowLookup> {
    if (ids.length === 0 || ids.length > MAX_WORKFLOW_IDS_PER_LOOKUP) {
      throw new RangeError(`between 1 and ${MAX_WORKFLOW_IDS_PER_LOOKUP} workflow ids per lookup`);
    }
    const { cached, missing } = await this.#cache.workflows(ids);
    if (missing.length === 0) return { requestId: undefined, workflows: cached, nonExistIds: [] };
    const lookup = await this.#transport.call(
      {
        operation: 'GetWorkflows',
        method: 'GET',
        path: '/workflow',
        // The search pages its results (10 by default): ask for one page big enough for every id.
        query: [
          ['ids', missing.join(',')],
          ['pageNumber', '1'],
          ['pageSize', String(missing.length)],
        ],
        idempotent: true,
      },
      (body) => decodeWorkflowLookup(body, this.bucketId),
      options,
    );
    this.#cache.rememberWorkflows(lookup.workflows);
    return { ...lookup, workflows: [...cached, ...lookup.workflows] };
  }

  /** `GET /workflow?pageNumber=&pageSize=`: one page of the bucket's workflows, with how many there are in all. */
  listWorkflows(pageNumber: number, pageSize: number, options?: CallOptions): Promise<WorkflowLookup> {
    checkPageSize(pageSize);
    if (!Number.isInteger(pageNumber) || pageNumber < 1) throw new RangeError('pageNumber counts from 1');
    return this.#transport.call(
      {
        operation: 'ListWorkflows',
        method: 'GET',
        path: '/workflow',
        query: [
          ['pageNumber', String(pageNumber)],
          ['pageSize', String(pageSize)],
        ],
        idempotent: true,
      },
      (body) => decodeWorkflowLookup(body, this.bucketId),
      options,
    );
  }

  /**
   * `POST /triggerworkflow`: starts one run of the workflow on the object. Not idempotent: sent at most once unless
   * the connection provably never reached CI.
   */
  triggerWorkflow(params: TriggerWorkflowParams, options?: CallOptions): Promise<TriggeredRun> {
    const query: Array<[string, string]> = [
      ['workflowId', params.workflowId],
      ['object', params.objectKey],
    ];
    if (params.name !== undefined) query.push(['name', params.name]);
    return this.#transport.call(
      {
        operation: 'TriggerWorkflow',
        method: 'POST',
        path: '/triggerworkflow',
        query,
        body: '',
        idempotent: false,
      },
      decodeTriggeredRun,
      options,
    );
  }

  /** `PUT /workflow/<id>?paused` or `?active`: repeating either is harmless, so it is retried like a read. */
  async setWorkflowState(
    workflowId: WorkflowId,
    state: 'paused' | 'active',
    options?: CallOptions,
  ): Promise<{ readonly requestId: string | undefined }> {
    try {
      return await this.#transport.call(
        {
          operation: state === 'paused' ? 'PauseWorkflow' : 'ActivateWorkflow',
          method: 'PUT',
          path: `/workflow/${workflowId}`,
          query: [[state, '']],
          idempotent: true,
        },
        decodeAcknowledgement,
        options,
      );
    } finally {
      // Whatever happened, the cached state may be wrong now.
      this.#cache.forgetWorkflow(workflowId);
    }
  }

  /**
   * `GET /jobs/<id>,<id>,…`: several media jobs in one call; ids CI does not know come back in `nonExistJobIds`.
   * Finished jobs read before come from the cache; only the others are asked for.
   */
  async getMediaJobs(ids: readonly MediaJobId[], options?: CallOptions): Promise<MediaJobLookup> {
    if (ids.length === 0) throw new RangeError('at least one media job id');
    const { cached, missing } = await this.#cache.mediaJobs(ids);
    if (missing.length === 0) return { requestId: undefined, jobs: cached, nonExistJobIds: [] };
    const lookup = await this.#transport.call(
      {
        operation: 'GetMediaJobs',
        method: 'GET',
        path: `/jobs/${missing.join(',')}`,
        query: [],
        idempotent: true,
      },
      decodeMediaJobs,
      options,
    );
    this.#cache.rememberMediaJobs(lookup.jobs);
    return { ...lookup, jobs: [...cached, ...lookup.jobs] };
  }

  /** `POST /inventorytriggerjob`: starts a batch trigger. Not idempotent, like a trigger. */
  async startBatchTrigger(params: StartBatchTriggerParams, options?: CallOptions): Promise<BatchTrigger> {
    const window =
      params.createdAfter || params.createdBefore
        ? {
            TimeInterval: {
              ...(params.createdAfter ? { Start: formatCiTime(params.createdAfter) } : {}),
              ...(params.createdBefore ? { End: formatCiTime(params.createdBefore) } : {}),
            },
          }
        : {};
    const lookup = await this.#transport.call(
      {
        operation: 'StartBatchTrigger',
        method: 'POST',
        path: '/inventorytriggerjob',
        query: [],
        body: buildXml('Request', {
          Name: params.name,
          Type: 'Workflow',
          Input: encodeBatchTriggerInput(params.source),
          Operation: { ...window, WorkflowIds: params.workflowId },
        }),
        idempotent: false,
      },
      (body) => decodeBatchTriggerLookup(body, this.bucketId),
      options,
    );
    const job = lookup.jobs[0];
    if (!job) throw new CiError('unreadable_response', 'CI answered a batch trigger without its job');
    return job;
  }

  /** `GET /inventorytriggerjob/<jobId>`; null when CI does not know the job. */
  async getBatchTrigger(jobId: BatchJobId, options?: CallOptions): Promise<BatchTrigger | null> {
    const lookup = await this.#transport.call(
      {
        operation: 'GetBatchTrigger',
        method: 'GET',
        path: `/inventorytriggerjob/${jobId}`,
        query: [],
        idempotent: true,
      },
      (body) => decodeBatchTriggerLookup(body, this.bucketId),
      options,
    );
    return lookup.jobs.find((job) => job.jobId === jobId) ?? null;
  }

  /** `GET /inventorytriggerjob`: one page of a workflow's batch triggers. */
  listBatchTriggers(params: ListBatchTriggersParams, options?: CallOptions): Promise<BatchTriggerPage> {
    return this.#transport.call(
      {
        operation: 'ListBatchTriggers',
        method: 'GET',
        path: '/inventorytriggerjob',
        query: batchTriggerListQuery(params),
        idempotent: true,
      },
      (body) => decodeBatchTriggerPage(body, this.bucketId),
      options,
    );
  }

  /** `PUT /inventorytriggerjob/<jobId>?cancel`: cancelling twice is harmless. */
  cancelBatchTrigger(
    jobId: BatchJobId,
    options?: CallOptions,
  ): Promise<{ readonly requestId: string | undefined }> {
    return this.#transport.call(
      {
        operation: 'CancelBatchTrigger',
        method: 'PUT',
        path: `/inventorytriggerjob/${jobId}`,
        query: [['cancel', '']],
        idempotent: true,
      },
      decodeAcknowledgement,
      options,
    );
  }

  /**
   * `GET /mediabucket` on the region host: what CI says of this bucket; null when CI does not list it (media
   * processing is not enabled for it).
   */
  async describeMediaBucket(region: string, options?: CallOptions): Promise<MediaBucketInfo | null> {
    const buckets = await this.#regionTransport.call(
      {
        operation: 'DescribeMediaBuckets',
        method: 'GET',
        path: '/mediabucket',
        query: [
          ['regions', region],
          ['bucketNames', this.bucketId],
          ['pageNumber', '1'],
          ['pageSize', '10'],
        ],
        idempotent: true,
      },
      decodeMediaBuckets,
      options,
    );
    return buckets.find((bucket) => bucket.bucketId === this.bucketId) ?? null;
  }

  /** A cheap signed call that proves the upstream is reachable and accepts our credentials; never retried. */
  async ping(options?: CallOptions): Promise<void> {
    await this.#transport.call(
      {
        operation: 'Ping',
        method: 'GET',
        path: '/workflow',
        query: [
          ['pageNumber', '1'],
          ['pageSize', '1'],
        ],
        idempotent: true,
      },
      (body) => decodeWorkflowLookup(body, this.bucketId),
      { ...options, maxRetries: 0 },
    );
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#regionTransport === this.#transport
        ? [this.#transport.close()]
        : [this.#transport.close(), this.#regionTransport.close()],
    );
  }
}
