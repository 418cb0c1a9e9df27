/**
 * The CI calls as one GraphQL request may make them: bound to the request's lifetime (its abort signal and
 * attempt log), paid for from its budget one attempt at a time, limited to a few in flight at once, and with
 * failures already mapped to the GraphQL errors clients see. Resolvers and loaders use this and nothing else.
 */
import pLimit from 'p-limit';
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
  getMediaJobs: 'read',
  getBatchTrigger: 'lookup',
  listBatchTriggers: 'read',
  triggerWorkflow: 'action',
  startBatchTrigger: 'action',
  // Idempotent changes: repeating them is harmless, so they fail as reads do.
  setWorkflowState: 'read',
  cancelBatchTrigger: 'read',
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
  const make = async (name: CallName, args: readonly unknown[]): Promise<unknown> => {
    const policy = CALL_POLICIES[name];
    // The client's calls all end in `CallOptions`; TypeScript cannot spread a union of their signatures.
    const call = ci[name] as (...args: unknown[]) => Promise<unknown>;
    try {
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
