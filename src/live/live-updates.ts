/**
 * Live updates of runs and workflows, shared by every subscriber of the process and, through a shared event
 * target (Redis), by every replica.
 *
 * - **Reads are observations.** Whatever reads a run or a workflow's newest runs (a poll, a callback's re-read, a
 *   subscriber's first look) publishes what CI said. Each replica keeps, per key it watches, what it last told its
 *   subscribers and tells them only what changed: duplicates, echoes and forged callbacks publish nothing new.
 * - **One read per interval per key, whatever the number of subscribers or replicas.** Each watched key (a
 *   workflow, optionally one batch trigger's runs; a workflow's scan for its watched runs) has one poller per
 *   replica that watches it, started by its first subscriber there and stopped with its last; it polls only while
 *   it holds the key's lease, which replicas sharing Redis hand to one of them (see `poller.ts`). Runs are not
 *   polled one by one: their workflow's scan lists its unfinished runs, and the replica holding a run's lease reads
 *   it when the scan shows it changed (`run-scan.ts`).
 * - **A run's first look is shared.** With Redis, each read of an unfinished run is also kept for one interval
 *   (`lastSeen`), so a replica whose first subscriber to a run arrives within it starts from what another replica
 *   read instead of reading again: 10,000 subscribers to 2,000 runs on ten replicas cost 2,000 reads to start, not
 *   20,000. It is at most an interval old, as old as a scan may leave it anyway; the next scan corrects it.
 * - **Callbacks are hints.** `hint(runId)` re-reads the run with a signed call (one read however many hints arrive
 *   at once) and marks the observation, so every poller of that run or its workflow, on any replica, returns from
 *   its back-off.
 * - **Each kind of key is a declaration** (`run-watch.ts`, `workflow-watch.ts`) over one path that retains,
 *   listens, polls and releases (`watch-registry.ts`); this module holds the reads they share.
 */
import { setMaxListeners } from 'node:events';
import type { Repeater } from 'graphql-yoga';
import type { CallOptions, ExecutionFilter } from '../ci/client.js';
import { CiError } from '../ci/errors.js';
import type { RunId, WorkflowId } from '../ci/inputs.js';
import { isStoredRun, readShared, type SharedReadStore, writeShared } from '../ci/read-cache.js';
import {
  type ExecutionState,
  isFinishedState,
  MAX_UPSTREAM_PAGE_SIZE,
  type WorkflowExecutionDetail,
  type WorkflowExecutionPage,
  type WorkflowExecutionSummary,
} from '../ci/types.js';
import { LOCAL_LEASES, type PollLeases } from './poller.js';
import { MAX_SCAN_PAGES, runScan } from './run-scan.js';
import { type RunObservation, type RunState, runChannel, runWatch } from './run-watch.js';
import { WatchRegistry, type WatchRegistryOptions } from './watch-registry.js';
import {
  WORKFLOW_POLL_PAGE_SIZE,
  type WorkflowEvent,
  type WorkflowObservation,
  type WorkflowState,
  type WorkflowWatch,
  workflowChannel,
  workflowWatch,
} from './workflow-watch.js';

/** The reads live updates make: the CI client, or a test double. */
export interface LiveCi {
  getWorkflowExecution(runId: RunId, options?: CallOptions): Promise<WorkflowExecutionDetail>;
  listWorkflowExecutions(
    params: Pick<ExecutionFilter, 'workflowId' | 'batchJobId' | 'order' | 'states'> & {
      readonly size?: number;
      readonly nextToken?: string | undefined;
    },
    options?: CallOptions,
  ): Promise<WorkflowExecutionPage>;
}

export interface LiveUpdatesOptions {
  /** The bucket watched: its client reads, and its name is in every key and channel, so buckets never mix. */
  readonly bucketId: string;
  readonly ci: LiveCi;
  /** 0 turns polling off: only callbacks bring news. */
  readonly pollIntervalMs: number;
  /** Where observations travel: in-process by default, Redis pub/sub to share them with other replicas. */
  readonly eventTarget?: EventTarget | undefined;
  /** Who polls which key: this process alone by default, Redis leases across replicas. */
  readonly leases?: PollLeases | undefined;
  /** Where each run's latest read is kept for an interval, for other replicas' first look (Redis); none alone. */
  readonly lastSeen?: SharedReadStore | undefined;
  /** A complete scan of a workflow's unfinished runs reached this replica (per-workflow metrics watch this). */
  readonly onScan?: ((workflowId: string, runs: readonly WorkflowExecutionSummary[]) => void) | undefined;
  readonly now?: () => Date;
  readonly logger?: WatchRegistryOptions['logger'];
}

/** What a scan lists: the runs that may still change. */
const UNFINISHED_STATES: readonly ExecutionState[] = ['Running', 'Pause'];

/** A read of a run in flight, which concurrent subscribers, polls and hints share. */
interface Reading {
  promise: Promise<WorkflowExecutionDetail | null>;
  readonly hinted: boolean;
  /** The read a hint asked for while this one was in flight. */
  followUp: Promise<WorkflowExecutionDetail | null> | undefined;
}

/** In-process events: one listener per watched key, so a busy workflow may have many (no leak warning). */
function localEvents(): EventTarget {
  const target = new EventTarget();
  setMaxListeners(0, target);
  return target;
}

export class LiveUpdates {
  readonly #bucketId: string;
  readonly #ci: LiveCi;
  readonly #events: EventTarget;
  readonly #runs: WatchRegistry<RunId, RunState, WorkflowExecutionDetail, RunObservation>;
  readonly #workflows: WatchRegistry<WorkflowWatch, WorkflowState, WorkflowEvent, WorkflowObservation>;
  /** Each workflow whose runs are watched, listed once per interval for all of them. */
  readonly #scans: WatchRegistry<WorkflowId, WorkflowId, never, WorkflowObservation>;
  /** Reads in flight, by run: concurrent subscribers, polls and hints share one. */
  readonly #reading = new Map<string, Reading>();
  /** Aborted by {@link close}: a read stuck upstream must not hold a draining replica. */
  readonly #reads = new AbortController();
  readonly #logger: LiveUpdatesOptions['logger'];
  readonly #lastSeen: { readonly store: SharedReadStore; readonly ttlMs: number } | undefined;

  constructor(options: LiveUpdatesOptions) {
    this.#bucketId = options.bucketId;
    this.#lastSeen =
      options.lastSeen && options.pollIntervalMs > 0
        ? { store: options.lastSeen, ttlMs: options.pollIntervalMs }
        : undefined;
    this.#logger = options.logger;
    this.#ci = options.ci;
    this.#events = options.eventTarget ?? localEvents();
    const registry: WatchRegistryOptions = {
      events: this.#events,
      leases: options.leases ?? LOCAL_LEASES,
      intervalMs: options.pollIntervalMs,
      logger: options.logger,
    };
    this.#scans = new WatchRegistry(
      runScan({
        bucketId: options.bucketId,
        list: (workflowId) => this.#listUnfinished(workflowId),
        publish: (channel, observation) => this.#publish(channel, observation),
        reconcile: (workflowId, observation) => {
          options.onScan?.(workflowId, observation.runs);
          this.#reconcile(workflowId, observation);
        },
      }),
      registry,
    );
    this.#runs = new WatchRegistry(
      runWatch({
        bucketId: options.bucketId,
        read: (runId) => this.#firstLook(runId),
        holdScan: (workflowId) => this.#scans.hold(workflowId),
      }),
      registry,
    );
    this.#workflows = new WatchRegistry(
      workflowWatch({
        bucketId: options.bucketId,
        list: (watch) => this.#listWorkflow(watch),
        publish: (channel, observation) => this.#publish(channel, observation),
        now: options.now ?? (() => new Date()),
        retryMs: Math.max(options.pollIntervalMs, 1_000),
        warn: (fields, message) => options.logger?.warn(fields, message),
      }),
      registry,
    );
  }

  /** The run's current state at once, then every change; ends after the final state of a finished run. */
  watchRun(runId: RunId): Repeater<WorkflowExecutionDetail> {
    return this.#runs.subscribe(runId);
  }

  /** New runs and every change of a workflow's runs, from now on; never ends by itself. */
  watchWorkflow(watch: WorkflowWatch): Repeater<WorkflowEvent> {
    return this.#workflows.subscribe(watch);
  }

  /** A CI callback said this run changed: re-read it (one read however many hints arrive at once). */
  async hint(runId: RunId): Promise<void> {
    await this.#read(runId, { hinted: true });
  }

  /**
   * Stops every poller, aborts every read in flight and hands the leases back, so another replica takes the keys
   * at once rather than when the leases run out: a drain, once the subscribers have been told to go elsewhere.
   */
  async close(): Promise<void> {
    this.#reads.abort(new CiError('cancelled', 'The gateway is shutting down'));
    await Promise.all([this.#runs.close(), this.#workflows.close(), this.#scans.close()]);
  }

  /** Keys watched by this replica's subscribers: runs, workflows, and the workflows scanned for their runs. */
  get watchedKeys(): { readonly run: number; readonly workflow: number; readonly scan: number } {
    return { run: this.#runs.size, workflow: this.#workflows.size, scan: this.#scans.size };
  }

  /** Subscriptions open on this replica. */
  get subscribers(): number {
    return this.#runs.subscribers + this.#workflows.subscribers;
  }

  /** Watched keys this replica polls: all of them alone, those it holds the lease for when sharing. */
  get polledKeys(): number {
    return this.#workflows.polled + this.#scans.polled;
  }

  #publish(channel: string, value: RunObservation | WorkflowObservation): void {
    this.#events.dispatchEvent(new CustomEvent(channel, { detail: value }));
  }

  /** A run's state for its first subscriber here: another replica's read of the last interval, else a read. */
  async #firstLook(runId: RunId): Promise<WorkflowExecutionDetail | null> {
    const [seen] = this.#lastSeen ? await readShared(this.#lastSeen.store, [this.#lastSeenKey(runId)]) : [];
    if (isStoredRun(seen, runId)) return seen;
    return this.#read(runId);
  }

  #lastSeenKey(runId: RunId): string {
    return `ci-gateway:live:${this.#bucketId}:run:${runId}:last-seen`;
  }

  /** Reads the run and publishes what CI said; one read in flight per run. */
  #read(runId: RunId, options: { hinted?: boolean } = {}): Promise<WorkflowExecutionDetail | null> {
    const inFlight = this.#reading.get(runId);
    if (inFlight) {
      if (!options.hinted) return inFlight.promise;
      // A hint says the run changed, perhaps after the read in flight was sent: read once more after it (one
      // follow-up however many hints arrive meanwhile), so the change is not lost in a stale answer.
      inFlight.followUp ??= inFlight.promise
        .catch(() => null)
        .then(() => this.#read(runId, { hinted: true }));
      return inFlight.followUp;
    }
    const reading: Reading = {
      hinted: options.hinted === true,
      promise: Promise.resolve<WorkflowExecutionDetail | null>(null),
      followUp: undefined,
    };
    reading.promise = (async () => {
      try {
        const detail = await this.#ci.getWorkflowExecution(runId, {
          signal: this.#reads.signal,
          priority: 'poll',
        });
        this.#publish(runChannel(this.#bucketId, runId), { detail, hinted: reading.hinted });
        // A finished run is kept by the read cache (for every replica, with Redis); only unfinished ones here.
        if (this.#lastSeen && !isFinishedState(detail.state)) {
          writeShared(this.#lastSeen.store, this.#lastSeenKey(runId), detail, this.#lastSeen.ttlMs);
        }
        this.#publish(workflowChannel(this.#bucketId, detail.workflowId), {
          runs: [detail],
          hinted: reading.hinted,
        });
        return detail;
      } catch (error) {
        if (error instanceof CiError && error.kind === 'not_found') return null;
        throw error;
      } finally {
        this.#reading.delete(runId);
      }
    })();
    this.#reading.set(runId, reading);
    return reading.promise;
  }

  /**
   * Every unfinished run of the workflow (a page of 100 at a time, up to {@link MAX_SCAN_PAGES}), oldest first, as a
   * scan's observation: complete unless there were more.
   */
  async #listUnfinished(workflowId: WorkflowId): Promise<WorkflowObservation> {
    const runs: WorkflowExecutionSummary[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_SCAN_PAGES; page += 1) {
      const answer = await this.#ci.listWorkflowExecutions(
        { workflowId, states: UNFINISHED_STATES, size: MAX_UPSTREAM_PAGE_SIZE, order: 'Desc', nextToken },
        { signal: this.#reads.signal, priority: 'poll' },
      );
      runs.push(...answer.executions);
      nextToken = answer.nextToken ?? undefined;
      if (nextToken === undefined) break;
    }
    return { runs: runs.reverse(), hinted: false, unfinished: nextToken === undefined };
  }

  /**
   * A scan of the workflow reached this replica: each of its runs watched here, whose lease this replica holds,
   * is read if the scan shows it in another state than last told, or no longer unfinished.
   */
  #reconcile(workflowId: string, observation: WorkflowObservation): void {
    const listed = new Map(observation.runs.map((run) => [run.runId, run.state]));
    for (const watch of this.#runs.watches()) {
      const latest = watch.state.latest;
      if (latest?.workflowId !== workflowId || isFinishedState(latest.state) || !watch.poller?.polling)
        continue;
      if (listed.get(latest.runId) === latest.state) continue;
      this.#read(latest.runId).catch((error: unknown) =>
        this.#logger?.warn(
          { runId: latest.runId, reason: error instanceof Error ? error.message : String(error) },
          'live updates: a changed run could not be read; the next scan tries again',
        ),
      );
    }
  }

  /** The newest runs of the watched workflow (or batch trigger), oldest first, as an observation to publish. */
  async #listWorkflow(watch: WorkflowWatch): Promise<WorkflowObservation> {
    const page = await this.#ci.listWorkflowExecutions(
      {
        workflowId: watch.workflowId,
        batchJobId: watch.batchJobId,
        size: WORKFLOW_POLL_PAGE_SIZE,
        order: 'Desc',
      },
      { signal: this.#reads.signal, priority: 'poll' },
    );
    return { runs: [...page.executions].reverse(), batchJobId: watch.batchJobId, hinted: false };
  }
}
