/**
 * Apollo's HTTP callback protocol for subscriptions (`callback/1.0`), which Apollo Router, Hive Gateway and Hive
 * Router speak to subgraphs: no connection is held open. The router sends the subscription as a plain POST with
 * `extensions.subscription = { callbackUrl, subscriptionId, verifier, heartbeatIntervalMs }`; the subgraph checks
 * the callback URL (a `check` message the router must answer 204), answers the POST with `{ "data": null }`, then
 * POSTs each result to the callback URL as `next`, a `complete` at the end, and a `check` every heartbeat. A 404
 * from the router means it dropped the subscription: the gateway stops it and its upstream work.
 *
 * The gateway makes requests to the callback URL it is given, so only origins listed in
 * `SUBSCRIPTION_CALLBACK_ORIGINS` (the routers') are accepted; without the list the protocol is refused. Redirects
 * are never followed (an allowed origin must not be able to send subscription data on to another), and a
 * heartbeat interval is 0 (none) or within {@link HEARTBEAT_RANGE_MS}: a router asking for checks every
 * millisecond would have them, and one past Node's longest timer would have them at once, continually.
 */
import { type ExecutionResult, GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { ErrorCode } from '../error-codes.js';
import type { Logger } from '../telemetry/logger.js';

const PROTOCOL_HEADER = 'subscription-protocol';
const PROTOCOL = 'callback/1.0';
/** Heartbeat intervals accepted, in ms (Apollo Router's default is 5 s); 0 asks for none. */
export const HEARTBEAT_RANGE_MS = { min: 1_000, max: 300_000 } as const;

export interface SubscriptionCallbackOptions {
  /** Origins (scheme, host, port) callbacks may go to; empty refuses the protocol. */
  readonly allowedOrigins: readonly string[];
  readonly logger: Logger;
  /** Each callback POST must be answered within this. @default 5_000 */
  readonly timeoutMs?: number;
}

interface CallbackRequest {
  readonly callbackUrl: string;
  readonly subscriptionId: string;
  readonly verifier: string;
  readonly heartbeatIntervalMs: number;
}

/** A subscription's results, which the gateway stops (`return`) when the router drops it. */
type ResultStream = AsyncIterable<ExecutionResult> & { return?(): unknown };

type Message =
  | { readonly action: 'check' }
  | { readonly action: 'next'; readonly payload: ExecutionResult }
  | { readonly action: 'complete'; readonly errors?: readonly GraphQLError[] };

export function useSubscriptionCallbacks(options: SubscriptionCallbackOptions): Plugin {
  const allowed = new Set(options.allowedOrigins.map((origin) => new URL(origin).origin));
  const timeoutMs = options.timeoutMs ?? 5_000;

  /** Sends one message; false when the router no longer wants this subscription. */
  const send = async (request: CallbackRequest, message: Message): Promise<boolean> => {
    const response = await fetch(request.callbackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [PROTOCOL_HEADER]: PROTOCOL },
      body: JSON.stringify({
        kind: 'subscription',
        id: request.subscriptionId,
        verifier: request.verifier,
        ...message,
      }),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
    await response.body?.cancel();
    if (response.status === 404) return false;
    if (response.status !== 204 && response.status !== 200) {
      throw new Error(`the router answered ${response.status} to a ${message.action} message`);
    }
    // The protocol has routers confirm it on every check; Hive Gateway answers a bare 204. A router that names
    // another protocol is refused, one that names none is taken at its 2xx.
    const confirmed = response.headers.get(PROTOCOL_HEADER);
    if (message.action === 'check' && confirmed !== null && confirmed !== PROTOCOL) {
      throw new Error(`the router answered with ${confirmed}, not ${PROTOCOL}`);
    }
    return true;
  };

  /** Streams the subscription's results to the router until it ends, fails, or the router drops it. */
  const relay = async (request: CallbackRequest, results: ResultStream) => {
    let heartbeat: NodeJS.Timeout | undefined;
    let dropped = false;
    const stop = () => {
      dropped = true;
      clearInterval(heartbeat);
      void results.return?.();
    };
    if (request.heartbeatIntervalMs > 0) {
      heartbeat = setInterval(() => {
        send(request, { action: 'check' }).then(
          (wanted) => wanted || stop(),
          () => stop(),
        );
      }, request.heartbeatIntervalMs);
      heartbeat.unref();
    }
    try {
      for await (const result of results) {
        if (dropped || !(await send(request, { action: 'next', payload: result }))) {
          stop();
          return;
        }
      }
      if (!dropped) await send(request, { action: 'complete' });
    } catch (error) {
      options.logger.warn(
        { subscriptionId: request.subscriptionId, reason: (error as Error).message },
        'subscription callback failed; subscription stopped',
      );
      if (!dropped) {
        await send(request, {
          action: 'complete',
          errors: [new GraphQLError('The subscription failed on the subgraph.')],
        }).catch(() => {});
      }
    } finally {
      stop();
    }
  };

  return {
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const extensions = (args.contextValue as { params?: { extensions?: Record<string, unknown> } }).params
        ?.extensions;
      const requested = extensions?.['subscription'];
      if (requested === undefined) return;
      setSubscribeFn(async (subscribeArgs) => {
        const request = parseRequest(requested, allowed);
        if (!(await send(request, { action: 'check' }).catch(() => false))) {
          return { errors: [refused('The router did not answer the callback check.')] };
        }
        const results = await subscribeFn(subscribeArgs);
        if (!isAsyncIterable<ExecutionResult>(results)) return results;
        void relay(request, results);
        // The router's answer: accepted; results follow at the callback URL.
        return { data: null };
      });
    },
  };
}

function parseRequest(value: unknown, allowed: ReadonlySet<string>): CallbackRequest {
  const request = value as Partial<Record<keyof CallbackRequest, unknown>>;
  const { callbackUrl, subscriptionId, verifier } = request;
  const heartbeat = request.heartbeatIntervalMs ?? 5_000;
  if (
    typeof callbackUrl !== 'string' ||
    typeof subscriptionId !== 'string' ||
    typeof verifier !== 'string' ||
    typeof heartbeat !== 'number' ||
    !URL.canParse(callbackUrl)
  ) {
    throw refused('extensions.subscription needs callbackUrl, subscriptionId and verifier.');
  }
  if (heartbeat !== 0 && !(heartbeat >= HEARTBEAT_RANGE_MS.min && heartbeat <= HEARTBEAT_RANGE_MS.max)) {
    throw refused(
      `heartbeatIntervalMs must be 0 or between ${HEARTBEAT_RANGE_MS.min} and ${HEARTBEAT_RANGE_MS.max}.`,
    );
  }
  if (!allowed.has(new URL(callbackUrl).origin)) {
    throw refused('Callbacks to this origin are not allowed here (SUBSCRIPTION_CALLBACK_ORIGINS).');
  }
  return { callbackUrl, subscriptionId, verifier, heartbeatIntervalMs: heartbeat };
}

function refused(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.SUBSCRIPTION_CALLBACK_REFUSED } });
}
