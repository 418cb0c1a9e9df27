/**
 * Each subscription event is executed as a query would be at that moment: with a fresh context (new loaders, so a
 * job's progress is read afresh; a new upstream budget) and a lifetime of its own, bounded by the request deadline
 * and aborted when the subscription ends. The transport does not matter: SSE, multipart HTTP, graphql-ws and a
 * router's callbacks all subscribe through this.
 *
 * A subscription's own lifetime is its stream's, not its HTTP request's (an SSE response is created, and its
 * request's work done, long before the first event): it ends when the subscriber leaves, the source ends, or the
 * gateway ends every subscription at the start of a drain. Then the event being executed, if any, is aborted and
 * the stream completes, so each transport can tell its client (SSE `complete`, graphql-ws `complete`, a callback
 * `complete`) and the client resubscribes elsewhere.
 *
 * Spec-wise this is MapSourceToResponseEvent with ExecuteSubscriptionEvent run under a per-event context, which
 * graphql-js's and graphql-tools' `subscribe` cannot do: they execute every event with the one context given.
 */
import {
  createSourceEventStream,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  GraphQLError,
} from 'graphql';
import { isAsyncIterable, type Plugin, Repeater } from 'graphql-yoga';
import { CiError } from '../ci/errors.js';
import { ErrorCode } from '../error-codes.js';

/** The part of a GraphQL context that can make its per-event sibling. */
export interface RenewableContext {
  /** The same caller and bindings with fresh loaders, budget and cache hints, bound to `signal`. */
  renewed(signal: AbortSignal): object;
}

export interface SubscriptionEventsOptions {
  /** Each event's deadline for its upstream work (`REQUEST_TIMEOUT_MS`). */
  readonly eventTimeoutMs: number;
  /** Aborted at the start of a drain: every open subscription completes. */
  readonly endSignal?: AbortSignal | undefined;
}

const shuttingDown = () =>
  new GraphQLError('The gateway is shutting down; subscribe again.', {
    extensions: { code: ErrorCode.SHUTTING_DOWN, http: { status: 503, headers: { 'retry-after': '1' } } },
  });
const SUBSCRIPTION_ENDED = new CiError('cancelled', 'The subscription ended before CI answered');
const SHUTTING_DOWN = new CiError('cancelled', 'The gateway is shutting down; subscribe again');

export function useSubscriptionEvents(options: SubscriptionEventsOptions): Plugin {
  const eventDeadline = new CiError(
    'timeout',
    `The event's deadline of ${options.eventTimeoutMs} ms passed before CI answered`,
  );
  /** What ends each open subscription: its stream's stop. */
  const open = new Set<() => void>();
  options.endSignal?.addEventListener(
    'abort',
    () => {
      for (const end of [...open]) end();
    },
    { once: true },
  );

  const executeEvent = async (
    args: ExecutionArgs,
    context: RenewableContext,
    payload: unknown,
    stream: AbortSignal,
  ) => {
    const event = new AbortController();
    const deadline = setTimeout(() => event.abort(eventDeadline), options.eventTimeoutMs);
    deadline.unref();
    const onStreamEnd = () => event.abort(stream.reason);
    stream.addEventListener('abort', onStreamEnd, { once: true });
    try {
      return await execute({
        ...args,
        rootValue: payload,
        contextValue: { ...(args.contextValue as object), ...context.renewed(event.signal) },
      });
    } finally {
      clearTimeout(deadline);
      stream.removeEventListener('abort', onStreamEnd);
    }
  };

  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        const context = args.contextValue as Partial<RenewableContext>;
        if (typeof context.renewed !== 'function')
          throw new TypeError('a subscription needs a renewable context');
        const renewable = context as RenewableContext;
        if (options.endSignal?.aborted) return { errors: [shuttingDown()] };
        const source = await createSourceEventStream(args);
        if (!isAsyncIterable(source)) return source;
        const iterator = source[Symbol.asyncIterator]();
        const stream = new AbortController();
        return new Repeater<ExecutionResult>(async (push, stop) => {
          const end = () => {
            stream.abort(SHUTTING_DOWN);
            stop();
          };
          open.add(end);
          void (async () => {
            try {
              for (;;) {
                const next = await Promise.race([iterator.next(), stop.then(() => undefined)]);
                if (next === undefined || next.done) break;
                const result = await executeEvent(args, renewable, next.value, stream.signal);
                if (stream.signal.aborted) break;
                await push(result);
              }
              stop();
            } catch (error) {
              stop(error);
            }
          })();
          await stop;
          open.delete(end);
          if (!stream.signal.aborted) stream.abort(SUBSCRIPTION_ENDED);
          await iterator.return?.();
        });
      });
    },
  };
}
