/**
 * What a subscription field returns: a source from live updates (`src/live`), shared by every subscriber, passed
 * on with what only this subscriber needs (its filter, its token's expiry, GraphQL's errors).
 */
import { GraphQLError } from 'graphql';
import { Repeater } from 'graphql-yoga';
import { ErrorCode } from '../error-codes.js';
import { RunNotFound } from '../live/run-watch.js';
import { afterDelay } from '../timers.js';
import { executionNotFound } from './errors.js';

/**
 * Passes a source on, keeping what `keep` accepts and mapping a missing run to its GraphQL error. A Repeater, so a
 * subscriber that leaves stops the source at once.
 */
export function subscriptionSource<T>(
  source: AsyncIterableIterator<T>,
  expiresAt: Date | undefined,
  keep: (item: T) => boolean = () => true,
): Repeater<T> {
  return new Repeater(async (push, stop) => {
    // A subscription lasts no longer than the token it was opened with.
    const cancelExpiry =
      expiresAt &&
      afterDelay(expiresAt.getTime() - Date.now(), () =>
        stop(
          new GraphQLError('The caller’s token has expired; subscribe again with a fresh one.', {
            extensions: { code: ErrorCode.UNAUTHENTICATED },
          }),
        ),
      );
    void (async () => {
      try {
        for await (const item of source) if (keep(item)) await push(item);
        stop();
      } catch (error) {
        stop(error instanceof RunNotFound ? executionNotFound(error.message) : error);
      }
    })();
    await stop;
    cancelExpiry?.();
    await source.return?.();
  });
}
