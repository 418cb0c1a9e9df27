/**
 * At most `perCaller` subscriptions open at once per caller, over every transport (SSE, WebSocket, a router's
 * callbacks), so one client cannot hold the replica's pollers and connections for everyone. Over the limit a
 * subscription is refused before it starts any upstream work, with `SUBSCRIPTION_LIMIT`.
 *
 * A subscription counts from the moment it is accepted until its stream ends: completed, failed, or left by its
 * client. That is the stream's end, not the response's: a router's callback subscription is answered at once and
 * streams for hours. (So this plugin must come after any that replaces the subscribe function, and before any that
 * relays its stream elsewhere.)
 */
import { GraphQLError } from 'graphql';
import { finalAsyncIterator, isAsyncIterable, type Plugin } from 'graphql-yoga';
import { ErrorCode } from '../error-codes.js';

export interface SubscriptionLimitOptions<Context> {
  readonly perCaller: number;
  /** Who the subscriber is, from the GraphQL context (a token's subject, else an address). */
  readonly callerKey: (context: Context) => string;
}

export function useSubscriptionLimit<Context extends object>(
  options: SubscriptionLimitOptions<Context>,
): Plugin<Context> {
  const open = new Map<string, number>();
  return {
    onSubscribe({ args, subscribeFn, setSubscribeFn, setResultAndStopExecution }) {
      const key = options.callerKey(args.contextValue);
      const count = open.get(key) ?? 0;
      if (count >= options.perCaller) {
        setResultAndStopExecution({
          errors: [
            new GraphQLError(`At most ${options.perCaller} subscriptions at once per caller.`, {
              extensions: { code: ErrorCode.SUBSCRIPTION_LIMIT },
            }),
          ],
        });
        return;
      }
      open.set(key, count + 1);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        const left = (open.get(key) ?? 1) - 1;
        if (left > 0) open.set(key, left);
        else open.delete(key);
      };
      setSubscribeFn(async (subscribeArgs) => {
        const result = await subscribeFn(subscribeArgs);
        // Refused (bad arguments, no scope): never opened.
        if (!isAsyncIterable(result)) {
          release();
          return result;
        }
        return finalAsyncIterator(result, release);
      });
      return { onSubscribeError: release };
    },
  };
}
