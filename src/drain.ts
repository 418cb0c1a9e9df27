/**
 * A graceful stop that load balancers and clients both see as one:
 *
 * 1. `/ready` answers 503 at once (the caller flips readiness before calling {@link drain}), while everything is
 *    still served for `delayMs`, so load balancers take the replica out of rotation before it stops accepting;
 * 2. the listener closes, idle keep-alive connections are closed, and each further response closes its connection;
 * 3. in-flight requests may finish for up to `timeoutMs`;
 * 4. then their remaining upstream calls are aborted, so each still gets an answer (an error) rather than a reset,
 *    and whatever connection is left is closed.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { TrackedServer } from './http-server.js';

export interface DrainOptions {
  readonly delayMs: number;
  readonly timeoutMs: number;
  /** Aborts the upstream work of every request still in flight. */
  readonly abortInFlight: () => void;
  /** How long requests cut short get to write their error answers. @default 2_000 */
  readonly answerGraceMs?: number;
}

export interface DrainReport {
  /** Requests that finished normally during the drain. */
  readonly finished: number;
  /** Requests still running at the timeout, whose upstream calls were aborted. */
  readonly cutShort: number;
}

const POLL_MS = 50;

export async function drain(tracked: TrackedServer, options: DrainOptions): Promise<DrainReport> {
  const completedBefore = tracked.completed;
  await delay(options.delayMs);

  tracked.closeConnectionsAfterResponses();
  const closed = new Promise<void>((resolve) => tracked.server.close(() => resolve()));
  tracked.server.closeIdleConnections();

  // A keep-alive connection becomes idle once its last response is written.
  await whileInFlight(tracked, options.timeoutMs, () => tracked.server.closeIdleConnections());
  const cutShort = tracked.inFlight;
  const finished = tracked.completed - completedBefore;
  if (cutShort > 0) {
    options.abortInFlight();
    await whileInFlight(tracked, options.answerGraceMs ?? 2_000);
  }
  tracked.server.closeAllConnections();
  await closed;
  return { finished, cutShort };
}

/** Waits, for at most `ms`, until no request is in flight; `tick` runs on each look. */
async function whileInFlight(tracked: TrackedServer, ms: number, tick?: () => void): Promise<void> {
  const end = Date.now() + ms;
  while (tracked.inFlight > 0 && Date.now() < end) {
    tick?.();
    await delay(POLL_MS);
  }
}
