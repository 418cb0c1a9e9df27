/**
 * The typed CI calls the gateway makes: each says which signed request to send and how to decode the answer.
 * Signing, retries, timeouts and aborts live in the one generic request under them ({@link CiTransport}).
 * Every argument that reaches a URL is a branded value from `inputs.ts`, so it has passed its input rule.
 */
import type { BatchJobId, ObjectKey, RunId, WorkflowId } from './inputs.js';
import { ReadCache } from './read-cache.js';
import {
  decodeListWorkflowExecutions,
  decodeWorkflowExecutionDetail,
  decodeWorkflowLookup,
} from './responses.js';
import { formatCiTime } from './time.js';
import { type CallOptions, CiTransport, type CiTransportOptions } from './transport.js';
import {
  type ExecutionState,
  MAX_UPSTREAM_PAGE_SIZE,
  type SortOrder,
  type WorkflowExecutionDetail,
  type WorkflowExecutionPage,
  type WorkflowLookup,
} from './types.js';

export type {
  AttemptObservation,
  AttemptStart,
  CallOptions,
  CiCredentials,
  CiLogger,
  UpstreamAttempt,
  UpstreamObserver,
  UpstreamOutcome,
} from './transport.js';
export {
  DEFAULT_MAX_RETRIES,
  DEFAULT_TIMEOUT_MS,
  outcomeOf,
  parseRetryAfter,
  SESSION_TOKEN_HEADER,
} from './transport.js';

/** The search call's page size limit, and so the most ids one lookup can resolve. */
export const MAX_WORKFLOW_IDS_PER_LOOKUP = 100;

export interface CiClientOptions extends CiTransportOptions {
  /** What may be answered without asking CI again; a default cache when absent. */
  readonly cache?: ReadCache | undefined;
}

export interface ListWorkflowExecutionsParams {
  readonly workflowId: WorkflowId;
  /** Object key, upstream `name`. */
  readonly objectKey?: ObjectKey | undefined;
  readonly order?: SortOrder | undefined;
  /** 1..{@link MAX_UPSTREAM_PAGE_SIZE}; the upstream defaults to 10. */
  readonly size?: number | undefined;
  readonly states?: readonly ExecutionState[] | undefined;
  /** Inclusive. */
  readonly createdAfter?: Date | undefined;
  /** Inclusive. */
  readonly createdBefore?: Date | undefined;
  readonly nextToken?: string | undefined;
  /** Only executions started by this batch-trigger job. */
  readonly batchJobId?: BatchJobId | undefined;
}

export class CiClient {
  readonly #transport: CiTransport;
  readonly #cache: ReadCache;

  constructor(options: CiClientOptions) {
    this.#transport = new CiTransport(options);
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
      decodeListWorkflowExecutions,
      options,
    );
  }

  /**
   * `GET /workflowexecution/<RunId>`: one execution with its tasks. An unknown run is a `not_found` error. A
   * finished run is answered from the cache once it has been read.
   */
  async getWorkflowExecution(runId: RunId, options?: CallOptions): Promise<WorkflowExecutionDetail> {
    const cached = this.#cache.detail(runId);
    if (cached) return cached;
    const detail = await this.#transport.call(
      {
        operation: 'GetWorkflowExecution',
        method: 'GET',
        path: `/workflowexecution/${runId}`,
        query: [],
        idempotent: true,
      },
      decodeWorkflowExecutionDetail,
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
    const { cached, missing } = this.#cache.workflows(ids);
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
      decodeWorkflowLookup,
      options,
    );
    this.#cache.rememberWorkflows(lookup.workflows);
    return { ...lookup, workflows: [...cached, ...lookup.workflows] };
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
      decodeWorkflowLookup,
      { ...options, maxRetries: 0 },
    );
  }

  close(): Promise<void> {
    return this.#transport.close();
  }
}

/** The list call's query, in the order the API documents its parameters; absent ones are not sent. */
function listQuery(params: ListWorkflowExecutionsParams): Array<[string, string]> {
  if (
    params.size !== undefined &&
    !(Number.isInteger(params.size) && params.size >= 1 && params.size <= MAX_UPSTREAM_PAGE_SIZE)
  ) {
    throw new RangeError(`size must be an integer from 1 to ${MAX_UPSTREAM_PAGE_SIZE}`);
  }
  const entries: Array<[string, string | undefined]> = [
    ['workflowId', params.workflowId],
    ['name', params.objectKey],
    ['orderByTime', params.order],
    ['size', params.size?.toString()],
    ['states', params.states?.length ? params.states.join(',') : undefined],
    ['startCreationTime', params.createdAfter && formatCiTime(params.createdAfter)],
    ['endCreationTime', params.createdBefore && formatCiTime(params.createdBefore)],
    ['nextToken', params.nextToken],
    ['jobId', params.batchJobId],
  ];
  return entries.filter((entry): entry is [string, string] => entry[1] !== undefined);
}
