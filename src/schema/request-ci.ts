/**
 * The CI calls as one GraphQL request may make them: bound to the request's lifetime (its abort signal and
 * attempt log), paid for from its budget one attempt at a time, limited to a few in flight at once, and with
 * failures already mapped to the GraphQL errors clients see. Resolvers and loaders use this and nothing else.
 */
import type { LimitFunction } from 'p-limit';
import type { CallOptions, CiClient, UpstreamAttempt } from '../ci/client.js';
import { CiError } from '../ci/errors.js';
import { asActionGraphQLError, asGraphQLError, upstreamBudgetError } from './errors.js';

/**
 * Every CI call the schema makes, and how a request makes it:
 * - `read`: failures mapped to GraphQL errors (retried by the transport where that is safe);
 * - `lookup`: a read whose "not found" is null;
 * - `action`: a change that must not run twice: a failure after sending is `UPSTREAM_OUTCOME_UNKNOWN`.
 * A new call is a method on the client and one line here.
 */
const CALL_POLICIES = {
  listWorkflowExecutions: 'read',
  getWorkflowExecution: 'lookup',
  getWorkflows: 'read',
  listWorkflows: 'read',
  getMediaJobs: 'read',
  getBatchTrigger: 'lookup',
  listBatchTriggers: 'read',
  triggerWorkflow: 'action',
  startBatchTrigger: 'action',
  // Idempotent changes: repeating them is harmless, so they fail as reads do.
  setWorkflowState: 'read',
  cancelBatchTrigger: 'read',
  describeMediaBucket: 'read',
} as const satisfies Record<string, 'read' | 'lookup' | 'action'>;

type CallName = keyof typeof CALL_POLICIES;
/** Listed once: every request binds each of them. */
const CALL_NAMES = Object.keys(CALL_POLICIES) as CallName[];

/** The CI calls the schema needs: the real client, or a test double. */
export type CiApi = Pick<CiClient, CallName>;

/** A client call's arguments without its trailing `CallOptions`: the request supplies those. */
type ArgumentsOf<K extends CallName> =
  Parameters<CiApi[K]> extends [...infer Given, (CallOptions | undefined)?] ? Given : never;
type Answer<K extends CallName> = Awaited<ReturnType<CiApi[K]>>;

/** Each call as a request makes it; a lookup answers null for what CI does not know. */
export type RequestCi = {
  readonly [K in CallName]: (
    ...args: ArgumentsOf<K>
  ) => Promise<(typeof CALL_POLICIES)[K] extends 'lookup' ? Answer<K> | null : Answer<K>>;
};

/**
 * The upstream attempts, retries included, one request may make. Aliases, wide pages with tasks and large entity
 * batches multiply upstream calls; one request may only make so many, so no single query can spend the CI
 * account's quota for everyone else.
 */
export interface RequestBudget {
  /** Pays for one attempt, or throws `UPSTREAM_CALL_BUDGET_EXCEEDED`. */
  spend(): void;
}

export function requestBudget(maxAttempts: number): RequestBudget {
  let attemptsLeft = maxAttempts;
  return {
    spend() {
      if (attemptsLeft <= 0) throw upstreamBudgetError(maxAttempts);
      attemptsLeft -= 1;
    },
  };
}

export interface RequestCiOptions {
  /** Aborted when nobody waits any more: client gone, deadline passed, response sent, or shutdown. */
  readonly signal?: AbortSignal | undefined;
  readonly onAttempt?: ((attempt: UpstreamAttempt) => void) | undefined;
  /** Before each call: throws to refuse it before any attempt. */
  readonly admit?: (() => Promise<void>) | undefined;
  /** Called before every attempt the budget allows. */
  readonly chargeAttempt?: (() => void) | undefined;
  /** The request's budget, shared by every bucket it uses. */
  readonly budget: RequestBudget;
  /**
   * The request's concurrency limit, shared by every bucket it uses: however the request is shaped, it holds only
   * so many upstream connections, so a request stuck on a hanging upstream cannot take the pool every other needs.
   */
  readonly limit: LimitFunction;
}

export function createRequestCi(ci: CiApi, options: RequestCiOptions): RequestCi {
  const callOptions: CallOptions = {
    signal: options.signal,
    onAttempt: options.onAttempt,
    beforeAttempt: () => {
      options.budget.spend();
      options.chargeAttempt?.();
    },
  };
  const { limit, admit } = options;
  const make = async (name: CallName, args: readonly unknown[]): Promise<unknown> => {
    const policy = CALL_POLICIES[name];
    // The client's calls all end in `CallOptions`; TypeScript cannot spread a union of their signatures.
    const call = ci[name] as (...args: unknown[]) => Promise<unknown>;
    try {
      if (admit) await admit();
      return await limit(() => call.apply(ci, [...args, callOptions]));
    } catch (error) {
      if (policy === 'lookup' && error instanceof CiError && error.kind === 'not_found') return null;
      throw policy === 'action' ? asActionGraphQLError(error) : asGraphQLError(error);
    }
  };
  const entries = CALL_NAMES.map((name) => [name, (...args: unknown[]) => make(name, args)]);
  // Each entry is `make` for its own name, which answers as `RequestCi` says that call does.
  return Object.fromEntries(entries) as RequestCi;
}
