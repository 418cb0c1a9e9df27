/**
 * Live updates of runs and workflows, shared by every subscriber of the process and, through a shared event
 * target (Redis), by every replica.
 *
 * - **Reads are observations.** Whatever reads a run or a workflow's newest runs (a poll, a callback's re-read, a
 *   subscriber's first look) publishes what CI said. Each replica keeps, per key it watches, what it last told its
 *   subscribers and tells them only what changed: duplicates, echoes and forged callbacks publish nothing new.
 * - **One read per interval per key, whatever the number of subscribers or replicas.** Each watched key (a run;
 *   a workflow, optionally one batch trigger's runs) has one poller per replica that watches it, started by its
 *   first subscriber there and stopped with its last; it polls only while it holds the key's lease, which
 *   replicas sharing Redis hand to one of them (see `poller.ts`).
 * - **Callbacks are hints.** `hint(runId)` re-reads the run with a signed call (one read however many hints arrive
 *   at once) and marks the observation, so every poller of that run or its workflow, on any replica, returns from
 *   its back-off.
 */
import { setMaxListeners } from 'node:events';
import { Repeater } from 'graphql-yoga';
import type { CallOptions } from '../ci/client.js';
import { CiError } from '../ci/errors.js';
import type { BatchJobId, RunId, WorkflowId } from '../ci/inputs.js';
import {
  type ExecutionState,
  isFinishedState,
  type WorkflowExecutionDetail,
  type WorkflowExecutionPage,
  type WorkflowExecutionSummary,
} from '../ci/types.js';
import { KeyPoller, LOCAL_LEASES, type PollLeases } from './poller.js';

/** Runs of a workflow compared between polls: the newest page. */
export const WORKFLOW_POLL_PAGE_SIZE = 20;
/** Runs whose last state a workflow watch remembers; the oldest are forgotten first. */
const REMEMBERED_RUNS_PER_WATCH = 1_000;

/** The reads live updates make: the CI client, or a test double. */
export interface LiveCi {
  getWorkflowExecution(runId: RunId, options?: CallOptions): Promise<WorkflowExecutionDetail>;
  listWorkflowExecutions(
    params: {
      readonly workflowId: WorkflowId;
      readonly size?: number;
      readonly batchJobId?: BatchJobId | undefined;
      readonly order?: 'Asc' | 'Desc';
    },
    options?: CallOptions,
  ): Promise<WorkflowExecutionPage>;
}

export const WORKFLOW_EVENT_KINDS = ['STARTED', 'UPDATED', 'FINISHED'] as const;
export type WorkflowEventKind = (typeof WORKFLOW_EVENT_KINDS)[number];

export interface WorkflowEvent {
  readonly kind: WorkflowEventKind;
  readonly execution: WorkflowExecutionSummary | WorkflowExecutionDetail;
  readonly at: Date;
}

export interface WorkflowWatch {
  readonly workflowId: WorkflowId;
  readonly batchJobId?: BatchJobId | undefined;
}

export interface LiveUpdatesOptions {
  readonly ci: LiveCi;
  /** 0 turns polling off: only callbacks bring news. */
  readonly pollIntervalMs: number;
  /** Where observations travel: in-process by default, Redis pub/sub to share them with other replicas. */
  readonly eventTarget?: EventTarget | undefined;
  /** Who polls which key: this process alone by default, Redis leases across replicas. */
  readonly leases?: PollLeases | undefined;
  readonly now?: () => Date;
  readonly logger?:
    | { warn(fields: object, message: string): void; debug(fields: object, message: string): void }
    | undefined;
}

/** One read of a run, as published. */
interface RunObservation {
  readonly detail: WorkflowExecutionDetail;
  /** The read answered a CI callback. */
  readonly hinted: boolean;
}

/** One read of some of a workflow's runs, oldest first, as published. */
interface WorkflowObservation {
  readonly runs: ReadonlyArray<WorkflowExecutionSummary | WorkflowExecutionDetail>;
  /** Set when every run read belongs to this batch trigger (a read filtered by it). */
  readonly batchJobId?: string | undefined;
  readonly hinted: boolean;
}

/** A key watched by this replica: its local subscribers, its poller, and what ends its listening. */
interface Retained {
  subscribers: number;
  poller: KeyPoller | undefined;
  close: () => void;
}

interface Watch<T> extends Retained {
  readonly sinks: Set<(value: T) => void>;
}

interface RunWatch extends Watch<WorkflowExecutionDetail> {
  latest: WorkflowExecutionDetail | undefined;
}

interface WorkflowWatchState extends Watch<WorkflowEvent> {
  readonly watch: WorkflowWatch;
  /** The last state told for each run; undefined until the first look (what exists then is not news). */
  states: Map<string, ExecutionState> | undefined;
  baselineTimer: NodeJS.Timeout | undefined;
}

export class RunNotFound extends Error {}

/** A read of a run in flight, which concurrent subscribers, polls and hints share. */
interface Reading {
  promise: Promise<WorkflowExecutionDetail | null>;
  readonly hinted: boolean;
  /** The read a hint asked for while this one was in flight. */
  followUp: Promise<WorkflowExecutionDetail | null> | undefined;
}

/** Channel names, prefixed like the lease keys: a Redis shared with other services sees whose they are. */
const runChannel = (runId: string) => `ci-gateway:live:run:${runId}`;
const workflowChannel = (workflowId: string) => `ci-gateway:live:workflow:${workflowId}`;

/** In-process events: one listener per watched key, so a busy workflow may have many (no leak warning). */
function localEvents(): EventTarget {
  const target = new EventTarget();
  setMaxListeners(0, target);
  return target;
}

export class LiveUpdates {
  readonly #ci: LiveCi;
  readonly #intervalMs: number;
  readonly #events: EventTarget;
  readonly #leases: PollLeases;
  readonly #now: () => Date;
  readonly #logger: LiveUpdatesOptions['logger'];
  readonly #runs = new Map<string, RunWatch>();
  readonly #workflows = new Map<string, WorkflowWatchState>();
  /** Reads in flight, by run: concurrent subscribers, polls and hints share one. */
  readonly #reading = new Map<string, Reading>();
  /** Aborted by {@link close}: a read stuck upstream must not hold a draining replica. */
  readonly #reads = new AbortController();

  constructor(options: LiveUpdatesOptions) {
    this.#ci = options.ci;
    this.#intervalMs = options.pollIntervalMs;
    this.#events = options.eventTarget ?? localEvents();
    this.#leases = options.leases ?? LOCAL_LEASES;
    this.#now = options.now ?? (() => new Date());
    this.#logger = options.logger;
  }

  /**
   * The run's current state at once, then every change; ends after the final state of a finished run. A Repeater,
   * not an async generator: a subscriber that leaves while nothing happens must release its poller at once, not
   * when the next event comes.
   */
  watchRun(runId: RunId): Repeater<WorkflowExecutionDetail> {
    return new Repeater(async (push, stop) => {
      const watch = this.#retainRun(runId);
      const sink = (detail: WorkflowExecutionDetail) => {
        void push(detail);
        if (isFinishedState(detail.state)) stop();
      };
      try {
        if (!watch.latest) {
          const read = await this.#read(runId);
          if (!read) throw new RunNotFound(runId);
          // The observation may not have come back yet (over Redis it travels).
          watch.latest ??= read;
        }
        // No await between the first state and joining the sinks: nothing can slip in between.
        sink(watch.latest);
        if (!isFinishedState(watch.latest.state)) watch.sinks.add(sink);
        await stop;
      } finally {
        watch.sinks.delete(sink);
        this.#release(this.#runs, runId, watch);
      }
    });
  }

  /** New runs and every change of a workflow's runs, from now on; never ends by itself. */
  watchWorkflow(watch: WorkflowWatch): Repeater<WorkflowEvent> {
    return new Repeater(async (push, stop) => {
      const key = workflowKey(watch);
      const state = this.#retainWorkflow(key, watch);
      const sink = (event: WorkflowEvent) => void push(event);
      state.sinks.add(sink);
      try {
        await stop;
      } finally {
        state.sinks.delete(sink);
        this.#release(this.#workflows, key, state);
      }
    });
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
    const watches = [...this.#watches()];
    this.#runs.clear();
    this.#workflows.clear();
    await Promise.all(
      watches.map((watch) => {
        watch.close();
        return watch.poller?.stop();
      }),
    );
  }

  /** Keys watched by this replica's subscribers. */
  get watchedKeys(): { readonly run: number; readonly workflow: number } {
    return { run: this.#runs.size, workflow: this.#workflows.size };
  }

  /** Subscriptions open on this replica. */
  get subscribers(): number {
    let count = 0;
    for (const watch of this.#watches()) count += watch.subscribers;
    return count;
  }

  /** Watched keys this replica polls: all of them alone, those it holds the lease for when sharing. */
  get polledKeys(): number {
    let count = 0;
    for (const watch of this.#watches()) if (watch.poller?.polling) count += 1;
    return count;
  }

  /** Every key this replica watches, runs and workflows alike. */
  *#watches(): Iterable<Retained> {
    yield* this.#runs.values();
    yield* this.#workflows.values();
  }

  #retainRun(runId: RunId): RunWatch {
    let watch = this.#runs.get(runId);
    if (!watch) {
      const created: RunWatch = {
        subscribers: 0,
        sinks: new Set(),
        latest: undefined,
        poller: undefined,
        close: () => {},
      };
      created.close = this.#listen<RunObservation>(runChannel(runId), (observation) =>
        this.#observeRun(created, observation),
      );
      created.poller = this.#startPoller(`run:${runId}`, () => this.#pollRun(runId, created));
      this.#runs.set(runId, created);
      watch = created;
    }
    watch.subscribers += 1;
    return watch;
  }

  #retainWorkflow(key: string, spec: WorkflowWatch): WorkflowWatchState {
    let state = this.#workflows.get(key);
    if (!state) {
      const created: WorkflowWatchState = {
        watch: spec,
        subscribers: 0,
        sinks: new Set(),
        states: undefined,
        poller: undefined,
        close: () => {},
        baselineTimer: undefined,
      };
      const unlisten = this.#listen<WorkflowObservation>(workflowChannel(spec.workflowId), (observation) =>
        this.#observeWorkflow(created, observation),
      );
      created.close = () => {
        unlisten();
        clearTimeout(created.baselineTimer);
      };
      created.poller = this.#startPoller(`workflow:${key}`, () => this.#pollWorkflow(created));
      this.#workflows.set(key, created);
      void this.#takeBaseline(created);
      state = created;
    }
    state.subscribers += 1;
    return state;
  }

  #release<W extends Retained>(watches: Map<string, W>, key: string, watch: W): void {
    watch.subscribers -= 1;
    if (watch.subscribers > 0 || watches.get(key) !== watch) return;
    watches.delete(key);
    void watch.poller?.stop();
    watch.close();
  }

  #startPoller(key: string, poll: () => Promise<boolean>): KeyPoller | undefined {
    if (this.#intervalMs <= 0) return undefined;
    return new KeyPoller({
      key,
      intervalMs: this.#intervalMs,
      leases: this.#leases,
      poll,
      onError: (error) =>
        this.#logger?.warn(
          { key, reason: (error as Error).message },
          'live updates: a poll failed; backing off',
        ),
      onLeaseChange: (holding) =>
        this.#logger?.debug(
          { key },
          holding
            ? 'live updates: this replica polls the key'
            : 'live updates: another replica polls the key',
        ),
    });
  }

  #listen<T>(channel: string, handle: (value: T) => void): () => void {
    const listener = (event: Event) => handle((event as CustomEvent<T>).detail);
    this.#events.addEventListener(channel, listener);
    return () => this.#events.removeEventListener(channel, listener);
  }

  #publish(channel: string, value: RunObservation | WorkflowObservation): void {
    this.#events.dispatchEvent(new CustomEvent(channel, { detail: value }));
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
        const detail = await this.#ci.getWorkflowExecution(runId, { signal: this.#reads.signal });
        this.#publish(runChannel(runId), { detail, hinted: reading.hinted });
        this.#publish(workflowChannel(detail.workflowId), { runs: [detail], hinted: reading.hinted });
        return detail;
      } catch (error) {
        if ((error as { kind?: string }).kind === 'not_found') return null;
        throw error;
      } finally {
        this.#reading.delete(runId);
      }
    })();
    this.#reading.set(runId, reading);
    return reading.promise;
  }

  #observeRun(watch: RunWatch, { detail, hinted }: RunObservation): void {
    if (hinted) watch.poller?.resetBackoff();
    const previous = watch.latest;
    if (previous && fingerprint(previous) === fingerprint(detail)) return;
    // A read that started before the run finished may arrive after one that saw it finish.
    if (previous && isFinishedState(previous.state) && !isFinishedState(detail.state)) return;
    watch.latest = detail;
    if (isFinishedState(detail.state)) {
      // A finished run changes no more: its poller stops; its subscribers end after this last state.
      void watch.poller?.stop();
      watch.poller = undefined;
    }
    for (const sink of [...watch.sinks]) sink(detail);
  }

  #observeWorkflow(state: WorkflowWatchState, { runs, batchJobId, hinted }: WorkflowObservation): void {
    if (hinted) state.poller?.resetBackoff();
    const known = state.states;
    if (!known) return;
    for (const run of runs) {
      // A batch trigger's watch knows its runs from reads filtered by it; a plain workflow watch takes any run.
      const member =
        state.watch.batchJobId === undefined || batchJobId === state.watch.batchJobId || known.has(run.runId);
      const previous = known.get(run.runId);
      if (!member || previous === run.state || (previous !== undefined && isFinishedState(previous)))
        continue;
      remember(known, run.runId, run.state);
      const kind: WorkflowEventKind =
        previous === undefined ? 'STARTED' : isFinishedState(run.state) ? 'FINISHED' : 'UPDATED';
      const event: WorkflowEvent = { kind, execution: run, at: this.#now() };
      for (const sink of [...state.sinks]) sink(event);
    }
  }

  async #pollRun(runId: RunId, watch: RunWatch): Promise<boolean> {
    const before = watch.latest;
    const detail = await this.#read(runId);
    return detail !== null && (!before || fingerprint(before) !== fingerprint(detail));
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
      { signal: this.#reads.signal },
    );
    return { runs: [...page.executions].reverse(), batchJobId: watch.batchJobId, hinted: false };
  }

  async #pollWorkflow(state: WorkflowWatchState): Promise<boolean> {
    const observation = await this.#listWorkflow(state.watch);
    // Decided before publishing: in-process, publishing updates the states at once.
    const known = state.states;
    const changed = known !== undefined && observation.runs.some((run) => known.get(run.runId) !== run.state);
    this.#publish(workflowChannel(state.watch.workflowId), observation);
    return changed;
  }

  /**
   * Each replica's first look at a watched workflow, taken whether or not it holds the poll lease: it tells this
   * replica which runs are old news. Retried until it succeeds or the last subscriber leaves.
   */
  async #takeBaseline(state: WorkflowWatchState): Promise<void> {
    try {
      const observation = await this.#listWorkflow(state.watch);
      if (this.#workflows.get(workflowKey(state.watch)) !== state) return;
      state.states ??= new Map();
      for (const run of observation.runs) {
        if (!state.states.has(run.runId)) remember(state.states, run.runId, run.state);
      }
      // Other replicas watching the workflow learn from it too; here it is the baseline, so nothing is news.
      this.#publish(workflowChannel(state.watch.workflowId), observation);
    } catch (error) {
      if (this.#workflows.get(workflowKey(state.watch)) !== state) return;
      this.#logger?.warn({ reason: (error as Error).message }, 'live updates: a first look failed; retrying');
      state.baselineTimer = setTimeout(
        () => void this.#takeBaseline(state),
        Math.max(this.#intervalMs, 1_000),
      );
      state.baselineTimer.unref();
    }
  }
}

function workflowKey(watch: WorkflowWatch): string {
  return `${watch.workflowId}|${watch.batchJobId ?? ''}`;
}

function remember(states: Map<string, ExecutionState>, runId: string, state: ExecutionState): void {
  states.delete(runId);
  states.set(runId, state);
  if (states.size > REMEMBERED_RUNS_PER_WATCH) states.delete(states.keys().next().value as string);
}

/** What a subscriber sees change: the run's state and each task's state and end. */
function fingerprint(detail: WorkflowExecutionDetail): string {
  return JSON.stringify([
    detail.state,
    detail.tasks.map((task) => [task.type, task.state, task.endedAt?.getTime()]),
  ]);
}
