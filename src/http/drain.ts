/**
 * A graceful stop that load balancers and clients both see as one, finished within `delayMs + timeoutMs + 1 s`
 * whatever is open:
 *
 * 1. `/ready` answers 503 at once (the caller flips readiness before calling {@link drain}), while everything is
 *    still served for `delayMs`, so load balancers take the replica out of rotation before it stops accepting;
 * 2. the listener closes, idle keep-alive connections are closed, each further response closes its connection, and
 *    every stream is ended on its own transport (`endStreams`: subscriptions complete, WebSockets are closed with
 *    1001, poll leases are handed back) so their clients resubscribe on another replica at once;
 * 3. in-flight requests may finish for what is left of `timeoutMs`;
 * 4. then their remaining upstream calls are aborted, so each still gets an answer (an error) rather than a reset,
 *    and whatever connection is left, upgraded ones included, is destroyed.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { TrackedServer } from './http-server.js';

export interface DrainOptions {
  readonly delayMs: number;
  readonly timeoutMs: number;
  /** Ends every stream on its transport and hands poll leases back; bounded by the caller. */
  readonly endStreams: () => Promise<void>;
  /** Aborts the upstream work of every request still in flight. */
  readonly abortInFlight: () => void;
  /** How long requests cut short get to write their error answers. @default 300 */
  readonly answerGraceMs?: number;
}

export interface DrainReport {
  /** Requests that finished normally during the drain, subscriptions ended by it included. */
  readonly finished: number;
  /** Requests still running at the timeout, whose upstream calls were aborted. */
  readonly cutShort: number;
}

const POLL_MS = 50;

export async function drain(tracked: TrackedServer, options: DrainOptions): Promise<DrainReport> {
  const completedBefore = tracked.completed;
  await delay(options.delayMs);
  const deadline = Date.now() + options.timeoutMs;

  tracked.closeConnectionsAfterResponses();
  const closed = new Promise<void>((resolve) => tracked.server.close(() => resolve()));
  tracked.server.closeIdleConnections();
  await Promise.race([options.endStreams(), delay(Math.max(0, deadline - Date.now()))]);

  // A keep-alive connection becomes idle once its last response is written.
  await whileInFlight(tracked, deadline, () => tracked.server.closeIdleConnections());
  const cutShort = tracked.inFlight;
  const finished = tracked.completed - completedBefore;
  if (cutShort > 0) {
    options.abortInFlight();
    await whileInFlight(tracked, Date.now() + (options.answerGraceMs ?? 300));
  }
  tracked.server.closeAllConnections();
  // Upgraded connections (WebSockets) are the server's no longer, and would hold `close` open for ever.
  for (const socket of tracked.sockets) socket.destroy();
  await Promise.race([closed, delay(POLL_MS * 4)]);
  return { finished, cutShort };
}

/** Waits, until `deadline` at most, for no request to be in flight; `tick` runs on each look. */
async function whileInFlight(tracked: TrackedServer, deadline: number, tick?: () => void): Promise<void> {
  while (tracked.inFlight > 0 && Date.now() < deadline) {
    tick?.();
    await delay(POLL_MS);
  }
}
