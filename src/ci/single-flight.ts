/**
 * Identical reads in flight at the same moment, made once. Each caller still pays for every attempt from its own
 * budget, stops waiting on its own abort, and gets the shared failure as its own; the shared call is abandoned
 * only when no caller waits any more. A settled call leaves at once: the next identical read is a new call, with
 * fresh data.
 */

import type { CallOptions } from './attempts.js';
import { CiError } from './errors.js';

/** One caller waiting on a shared call. */
interface Waiter {
  readonly options: CallOptions;
  readonly fail: (error: unknown) => void;
}

interface Flight {
  readonly waiters: Set<Waiter>;
  readonly controller: AbortController;
  readonly result: Promise<unknown>;
}

export class SingleFlight {
  /** Calls in flight, by the identity of their request. */
  readonly #flights = new Map<string, Flight>();

  /**
   * Joins the call in flight under `key`, or starts one with `call`. Calls under one key must be the same request
   * decoded the same way: that is what lets every caller take the first one's answer as its own type.
   */
  run<T>(key: string, options: CallOptions, call: (shared: CallOptions) => Promise<T>): Promise<T> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(cancellation(signal));
    let flight = this.#flights.get(key);
    // Joining a call already under way pays for one attempt, as making it would have.
    if (flight) options.beforeAttempt?.();
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        options,
        fail: (error) => {
          leave();
          reject(error);
        },
      };
      const onAbort = () => {
        if (!flight || !signal) return;
        const why = cancellation(signal);
        if (flight.waiters.size === 1 && flight.waiters.has(waiter)) {
          // The last caller: stop the call itself, for its reason, and fail with it once the call has reported
          // the attempt it cut short, so that attempt shows in this caller's log.
          if (this.#flights.get(key) === flight) this.#flights.delete(key);
          flight.controller.abort(why);
        } else {
          waiter.fail(why);
        }
      };
      // Every other way out (an answer, a failure, a spent budget) comes with the call itself over, or with
      // other callers still waiting: leaving only stops listening. (Starting a call may fail its first caller
      // at once, before `flight` is set.)
      const leave = () => {
        signal?.removeEventListener('abort', onAbort);
        flight?.waiters.delete(waiter);
      };
      if (flight) flight.waiters.add(waiter);
      else flight = this.#start(key, call, waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      // Calls under one key are one request with one decoder: the shared answer is of this caller's type.
      (flight.result as Promise<T>).then(
        (value) => {
          leave();
          resolve(value);
        },
        (error: unknown) => waiter.fail(error),
      );
    });
  }

  #start<T>(key: string, call: (shared: CallOptions) => Promise<T>, first: Waiter): Flight {
    const waiters = new Set<Waiter>([first]);
    const controller = new AbortController();
    let attempts = 0;
    const flight: Flight = {
      waiters,
      controller,
      result: call({
        signal: controller.signal,
        maxRetries: first.options.maxRetries,
        onAttempt: (attempt) => {
          for (const waiter of waiters) waiter.options.onAttempt?.(attempt);
        },
        // Every waiter pays for every attempt; one whose budget is spent fails alone and the rest go on.
        beforeAttempt: () => {
          attempts += 1;
          for (const waiter of [...waiters]) {
            // Those who joined before the first attempt paid when they joined.
            if (attempts === 1 && waiter !== first) continue;
            try {
              waiter.options.beforeAttempt?.();
            } catch (error) {
              waiters.delete(waiter);
              waiter.fail(error);
            }
          }
          if (waiters.size === 0) throw new CiError('cancelled', 'No caller can pay for another attempt');
        },
      }),
    };
    this.#flights.set(key, flight);
    const land = () => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    };
    flight.result.then(land, land);
    return flight;
  }
}

/** The error a call fails with when its caller aborts: the abort's own CiError, else `cancelled`. */
export function cancellation(signal: AbortSignal): CiError {
  const reason: unknown = signal.reason;
  if (reason instanceof CiError) return reason;
  return new CiError('cancelled', 'The caller stopped waiting before CI answered', { cause: reason });
}
