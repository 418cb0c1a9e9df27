/**
 * The one path every kind of watched key takes: a key is retained by its first local subscriber and released with
 * its last; while retained it listens on its channel, where every observation of it (a poll, a callback's re-read,
 * another replica's read) arrives, and it has one poller, which polls only while this replica holds the key's
 * lease. A kind of key (a run, a workflow, …) is a {@link WatchKind}: what its key and channel are, how it polls,
 * and what of an observation is news for its subscribers.
 */
import { Repeater } from 'graphql-yoga';
import { KeyPoller, type PollLeases } from './poller.js';

/** One watched key on this replica. */
export interface Watch<State, Item> {
  readonly key: string;
  /** What the kind remembers of the key between observations. */
  readonly state: State;
  subscribers: number;
  readonly sinks: Set<(item: Item) => void>;
  /** Undefined when polling is off, or once the key changes no more. */
  poller: KeyPoller | undefined;
}

/** Every observation says whether it answered a CI callback: then the key's poller returns from its back-off. */
export interface Observation {
  readonly hinted: boolean;
}

export interface WatchKind<Spec, State, Item, Seen extends Observation> {
  /** Names the kind in lease keys and logs: `run`, `workflow`. */
  readonly name: string;
  key(spec: Spec): string;
  /** Where observations of the key are published, by whoever reads it. */
  channel(spec: Spec): string;
  initialState(spec: Spec): State;
  /** Tells the watch's subscribers what in the observation is news to them. */
  observe(watch: Watch<State, Item>, seen: Seen): void;
  /** One poll of the key: resolves true when it found a change. */
  poll(spec: Spec, watch: Watch<State, Item>): Promise<boolean>;
  /** Starts what the watch needs besides its poller (a first look); returns what stops it. */
  open?(spec: Spec, watch: Watch<State, Item>, isOpen: () => boolean): () => void;
  /** Makes sure a new subscriber can be told the key's current state (a read when none is known yet). */
  prepare?(spec: Spec, watch: Watch<State, Item>): Promise<void>;
  /** What a new subscriber is told first, before any news: read synchronously, so nothing slips in between. */
  current?(watch: Watch<State, Item>): readonly Item[];
  /** The subscription ends after this item (a finished run's last state). */
  isLast?(item: Item): boolean;
}

export interface WatchRegistryOptions {
  readonly events: EventTarget;
  readonly leases: PollLeases;
  /** 0 turns polling off. */
  readonly intervalMs: number;
  readonly logger?:
    | { warn(fields: object, message: string): void; debug(fields: object, message: string): void }
    | undefined;
}

interface Retained<State, Item> extends Watch<State, Item> {
  stop: () => void;
}

/** This replica's watches of one kind of key. */
export class WatchRegistry<Spec, State, Item, Seen extends Observation> {
  readonly #kind: WatchKind<Spec, State, Item, Seen>;
  readonly #options: WatchRegistryOptions;
  readonly #watches = new Map<string, Retained<State, Item>>();

  constructor(kind: WatchKind<Spec, State, Item, Seen>, options: WatchRegistryOptions) {
    this.#kind = kind;
    this.#options = options;
  }

  /**
   * The key's items for one subscriber: what `current` says at once, then the news. A Repeater, not an async
   * generator: a subscriber that leaves while nothing happens must release its poller at once, not when the next
   * item comes.
   */
  subscribe(spec: Spec): Repeater<Item> {
    return new Repeater(async (push, stop) => {
      const watch = this.#retain(spec);
      const sink = (item: Item) => {
        void push(item);
        if (this.#kind.isLast?.(item)) stop();
      };
      try {
        await this.#kind.prepare?.(spec, watch);
        // No await between the current state and joining the sinks: nothing can slip in between.
        const current = this.#kind.current?.(watch) ?? [];
        for (const item of current) sink(item);
        if (!current.some((item) => this.#kind.isLast?.(item))) watch.sinks.add(sink);
        await stop;
      } finally {
        watch.sinks.delete(sink);
        this.#release(watch);
      }
    });
  }

  /**
   * Keeps the key watched (polled, listening) with no subscriber of its own, until the returned function is
   * called: how one watch depends on another (a run on its workflow's scan).
   */
  hold(spec: Spec): () => void {
    const watch = this.#retain(spec);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#release(watch);
    };
  }

  /** This replica's watches of this kind. */
  watches(): Iterable<Watch<State, Item>> {
    return this.#watches.values();
  }

  /** Stops every watch and its poller (a drain): their leases go back at once. */
  async close(): Promise<void> {
    const watches = [...this.#watches.values()];
    this.#watches.clear();
    await Promise.all(
      watches.map((watch) => {
        watch.stop();
        return watch.poller?.stop();
      }),
    );
  }

  get size(): number {
    return this.#watches.size;
  }

  get subscribers(): number {
    let count = 0;
    for (const watch of this.#watches.values()) count += watch.subscribers;
    return count;
  }

  /** Watched keys this replica polls: all of them alone, those it holds the lease for when sharing. */
  get polled(): number {
    let count = 0;
    for (const watch of this.#watches.values()) if (watch.poller?.polling) count += 1;
    return count;
  }

  #retain(spec: Spec): Retained<State, Item> {
    const key = this.#kind.key(spec);
    const existing = this.#watches.get(key);
    if (existing) {
      existing.subscribers += 1;
      return existing;
    }
    const watch: Retained<State, Item> = {
      key,
      state: this.#kind.initialState(spec),
      subscribers: 1,
      sinks: new Set(),
      poller: undefined,
      stop: () => {},
    };
    const { events } = this.#options;
    const channel = this.#kind.channel(spec);
    const listener = (event: Event) => {
      if (!(event instanceof CustomEvent)) return;
      const seen: Seen = event.detail;
      if (seen.hinted) watch.poller?.resetBackoff();
      this.#kind.observe(watch, seen);
    };
    events.addEventListener(channel, listener);
    this.#watches.set(key, watch);
    const stopOpen = this.#kind.open?.(spec, watch, () => this.#watches.get(key) === watch);
    watch.stop = () => {
      events.removeEventListener(channel, listener);
      stopOpen?.();
    };
    watch.poller = this.#startPoller(`${this.#kind.name}:${key}`, () => this.#kind.poll(spec, watch));
    return watch;
  }

  #release(watch: Retained<State, Item>): void {
    watch.subscribers -= 1;
    if (watch.subscribers > 0 || this.#watches.get(watch.key) !== watch) return;
    this.#watches.delete(watch.key);
    void watch.poller?.stop();
    watch.stop();
  }

  #startPoller(key: string, poll: () => Promise<boolean>): KeyPoller | undefined {
    const { intervalMs, leases, logger } = this.#options;
    if (intervalMs <= 0) return undefined;
    return new KeyPoller({
      key,
      intervalMs,
      leases,
      poll,
      onError: (error) =>
        logger?.warn(
          { key, reason: error instanceof Error ? error.message : String(error) },
          'live updates: a poll failed; backing off',
        ),
      onLeaseChange: (holding) =>
        logger?.debug(
          { key },
          holding
            ? 'live updates: this replica polls the key'
            : 'live updates: another replica polls the key',
        ),
    });
  }
}
