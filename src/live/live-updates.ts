/**
 * Live updates of runs and workflows, shared by every subscriber of the process.
 *
 * - **One read per change, whatever the number of subscribers.** Each watched key (a run; a workflow, optionally
 *   one batch trigger's runs) has one poller, started by its first subscriber and stopped with its last. It reads
 *   CI every `pollIntervalMs`, backing off (up to {@link MAX_BACKOFF}×) while nothing changes.
 * - **Callbacks are hints.** `hint(runId)` (a CI callback) re-reads the run with a signed call, publishes what CI
 *   says if it changed, and resets the pollers' back-off. Concurrent hints for one run share one read; repeated
 *   ones for an unchanged run publish nothing.
 * - **Idempotent.** Events are published only when a run's state (or a task's) changed since it was last
 *   published, whoever noticed: a poll, a callback, or both.
 *
 * Events travel through yoga's pub/sub (`createPubSub`), whose event target can be shared across replicas.
 */
import { createPubSub, type PubSub, Repeater } from 'graphql-yoga';
import type { CallOptions } from '../ci/client.js';
import type { BatchJobId, RunId, WorkflowId } from '../ci/inputs.js';
import type {
  ExecutionState,
  WorkflowExecutionDetail,
  WorkflowExecutionPage,
  WorkflowExecutionSummary,
} from '../ci/types.js';

/** Longest wait between polls of an unchanged key, as a multiple of the interval. */
export const MAX_BACKOFF = 8;
/** Runs of a workflow compared between polls: the newest page. */
export const WORKFLOW_POLL_PAGE_SIZE = 20;

const FINISHED: ReadonlySet<ExecutionState> = new Set(['Success', 'Failed', 'Cancel']);
export const isFinished = (state: ExecutionState) => FINISHED.has(state);

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

export type WorkflowEventKind = 'STARTED' | 'UPDATED' | 'FINISHED';

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
  readonly now?: () => Date;
  readonly logger?: { warn(fields: object, message: string): void };
}

type Topics = {
  run: [runId: string, detail: WorkflowExecutionDetail];
  workflow: [key: string, event: WorkflowEvent];
};

interface Poller {
  subscribers: number;
  backoff: number;
  timer: NodeJS.Timeout | undefined;
  stopped: boolean;
}

export class RunNotFound extends Error {}

export class LiveUpdates {
  readonly #ci: LiveCi;
  readonly #intervalMs: number;
  readonly #now: () => Date;
  readonly #logger: LiveUpdatesOptions['logger'];
  readonly #pubsub: PubSub<Topics> = createPubSub<Topics>();
  /** The last state published for each watched run. */
  readonly #latest = new Map<string, WorkflowExecutionDetail>();
  /** Reads in flight, by run: concurrent subscribers and hints share one. */
  readonly #reading = new Map<string, Promise<WorkflowExecutionDetail | null>>();
  readonly #runPollers = new Map<string, Poller>();
  readonly #workflowPollers = new Map<string, Poller>();
  /** Per watched workflow key: the state last published for each of its runs. */
  readonly #workflowStates = new Map<string, Map<string, ExecutionState>>();

  constructor(options: LiveUpdatesOptions) {
    this.#ci = options.ci;
    this.#intervalMs = options.pollIntervalMs;
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
      const updates = this.#pubsub.subscribe('run', runId);
      const poller = this.#retain(this.#runPollers, runId, () => this.#pollRun(runId));
      try {
        const current = this.#latest.get(runId) ?? (await this.#read(runId));
        if (!current) throw new RunNotFound(runId);
        await push(current);
        if (isFinished(current.state)) {
          stop();
        } else {
          void (async () => {
            for await (const detail of updates) {
              await push(detail);
              if (isFinished(detail.state)) {
                stop();
                return;
              }
            }
          })();
        }
        await stop;
      } finally {
        this.#release(this.#runPollers, runId, poller);
        if (!this.#runPollers.has(runId)) this.#latest.delete(runId);
        await updates.return?.();
      }
    });
  }

  /** New runs and every change of a workflow's runs, from now on; never ends by itself. */
  watchWorkflow(watch: WorkflowWatch): Repeater<WorkflowEvent> {
    return new Repeater(async (push, stop) => {
      const key = workflowKey(watch);
      const events = this.#pubsub.subscribe('workflow', key);
      const poller = this.#retain(this.#workflowPollers, key, () => this.#pollWorkflow(watch, key));
      void (async () => {
        for await (const event of events) await push(event);
      })();
      await stop;
      this.#release(this.#workflowPollers, key, poller);
      if (!this.#workflowPollers.has(key)) this.#workflowStates.delete(key);
      await events.return?.();
    });
  }

  /**
   * A CI callback said this run changed: read it (one read however many hints arrive at once), publish it if it
   * did change, and poll its keys from the start of their back-off again.
   */
  async hint(runId: RunId): Promise<void> {
    const poller = this.#runPollers.get(runId);
    if (poller) poller.backoff = 1;
    const detail = await this.#read(runId);
    if (!detail) return;
    for (const [key, workflowPoller] of this.#workflowPollers) {
      if (key.startsWith(`${detail.workflowId}|`)) workflowPoller.backoff = 1;
    }
  }

  /** Subscribers across keys, for limits and metrics. */
  get watchedKeys(): number {
    return this.#runPollers.size + this.#workflowPollers.size;
  }

  /** Reads the run and publishes it where it changed; one read in flight per run. */
  #read(runId: RunId): Promise<WorkflowExecutionDetail | null> {
    const inFlight = this.#reading.get(runId);
    if (inFlight) return inFlight;
    const reading = (async () => {
      try {
        const detail = await this.#ci.getWorkflowExecution(runId);
        this.#publishRun(detail);
        return detail;
      } catch (error) {
        if ((error as { kind?: string }).kind === 'not_found') return null;
        throw error;
      } finally {
        this.#reading.delete(runId);
      }
    })();
    this.#reading.set(runId, reading);
    return reading;
  }

  #publishRun(detail: WorkflowExecutionDetail): boolean {
    const previous = this.#latest.get(detail.runId);
    if (previous && fingerprint(previous) === fingerprint(detail)) return false;
    if (this.#runPollers.has(detail.runId)) this.#latest.set(detail.runId, detail);
    if (previous) this.#pubsub.publish('run', detail.runId, detail);
    for (const [key, states] of this.#workflowStates) {
      if (!key.startsWith(`${detail.workflowId}|`)) continue;
      // A batch trigger's watch knows its runs from its polls; a plain workflow watch takes any run.
      if (!key.endsWith('|') && !states.has(detail.runId)) continue;
      this.#publishWorkflowEvent(key, detail);
    }
    return true;
  }

  #publishWorkflowEvent(key: string, execution: WorkflowExecutionSummary | WorkflowExecutionDetail): void {
    const states = this.#workflowStates.get(key);
    if (!states) return;
    const previous = states.get(execution.runId);
    if (previous === execution.state) return;
    states.set(execution.runId, execution.state);
    const kind: WorkflowEventKind =
      previous === undefined ? 'STARTED' : isFinished(execution.state) ? 'FINISHED' : 'UPDATED';
    this.#pubsub.publish('workflow', key, { kind, execution, at: this.#now() });
  }

  async #pollRun(runId: RunId): Promise<boolean> {
    const before = this.#latest.get(runId);
    const detail = await this.#read(runId);
    const changed = detail !== null && (!before || fingerprint(before) !== fingerprint(detail));
    // A finished run changes no more: its poller stops.
    if (detail && isFinished(detail.state)) this.#stop(this.#runPollers, runId);
    return changed;
  }

  async #pollWorkflow(watch: WorkflowWatch, key: string): Promise<boolean> {
    const page = await this.#ci.listWorkflowExecutions({
      workflowId: watch.workflowId,
      batchJobId: watch.batchJobId,
      size: WORKFLOW_POLL_PAGE_SIZE,
      order: 'Desc',
    });
    const states = this.#workflowStates.get(key);
    if (!states) {
      // The first look: what exists now is the baseline, not news.
      this.#workflowStates.set(key, new Map(page.executions.map((run) => [run.runId, run.state])));
      return false;
    }
    let changed = false;
    // Oldest first, so events come in the order things happened.
    for (const run of [...page.executions].reverse()) {
      if (states.get(run.runId) !== run.state) {
        this.#publishWorkflowEvent(key, run);
        changed = true;
      }
    }
    return changed;
  }

  #retain(pollers: Map<string, Poller>, key: string, poll: () => Promise<boolean>): Poller {
    const existing = pollers.get(key);
    if (existing) {
      existing.subscribers += 1;
      return existing;
    }
    const poller: Poller = { subscribers: 1, backoff: 1, timer: undefined, stopped: false };
    pollers.set(key, poller);
    // A workflow's first look (its baseline) is taken even with polling off; after that, only polling reads.
    const baseline = pollers === this.#workflowPollers;
    if (this.#intervalMs > 0 || baseline) this.#schedule(poller, poll, baseline);
    return poller;
  }

  #schedule(poller: Poller, poll: () => Promise<boolean>, immediately: boolean): void {
    const delay = immediately ? 0 : this.#intervalMs * poller.backoff;
    poller.timer = setTimeout(async () => {
      if (poller.stopped) return;
      try {
        const changed = await poll();
        poller.backoff = changed ? 1 : Math.min(MAX_BACKOFF, poller.backoff * 2);
      } catch (error) {
        poller.backoff = Math.min(MAX_BACKOFF, poller.backoff * 2);
        this.#logger?.warn({ reason: (error as Error).message }, 'live updates: a poll failed; backing off');
      }
      if (!poller.stopped && this.#intervalMs > 0) this.#schedule(poller, poll, false);
    }, delay);
    poller.timer.unref();
  }

  #release(pollers: Map<string, Poller>, key: string, poller: Poller): void {
    poller.subscribers -= 1;
    if (poller.subscribers <= 0 && pollers.get(key) === poller) this.#stop(pollers, key);
  }

  #stop(pollers: Map<string, Poller>, key: string): void {
    const poller = pollers.get(key);
    if (!poller) return;
    poller.stopped = true;
    clearTimeout(poller.timer);
    // A finished run keeps its subscribers (they end themselves); only polling stops.
    if (poller.subscribers <= 0) pollers.delete(key);
  }
}

function workflowKey(watch: WorkflowWatch): string {
  return `${watch.workflowId}|${watch.batchJobId ?? ''}`;
}

/** What a subscriber sees change: the run's state and each task's state and end. */
function fingerprint(detail: WorkflowExecutionDetail): string {
  return JSON.stringify([
    detail.state,
    detail.tasks.map((task) => [task.type, task.state, task.endedAt?.getTime()]),
  ]);
}
