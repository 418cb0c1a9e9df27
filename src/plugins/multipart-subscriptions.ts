/**
 * Apollo's multipart HTTP protocol for subscriptions, which Apollo Client's `HttpLink` (and Apollo Kotlin and iOS)
 * speak by default: a POST that accepts `multipart/mixed;subscriptionSpec=1.0`, answered with one multipart stream
 * whose parts are `{"payload": <result>}`, a heartbeat part `{}` every few seconds so proxies keep the connection,
 * `{"payload": null, "errors": [...]}` when the stream fails, and the closing boundary when it ends. yoga serves
 * subscriptions over SSE and `multipart/mixed` only for incremental delivery, so it would answer such a request 406;
 * this gives it the protocol's own processor.
 *
 * Protocol: https://www.apollographql.com/docs/graphos/routing/operations/subscriptions/multipart-protocol
 */
import { type ExecutionResult, GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

const BOUNDARY = 'graphql';
const CONTENT_TYPE = `multipart/mixed;boundary="${BOUNDARY}";subscriptionSpec="1.0"`;
const PART_HEAD = '\r\ncontent-type: application/json\r\n\r\n';

export interface MultipartSubscriptionOptions {
  /** How often an idle stream sends a heartbeat part. @default 5_000, as Apollo Router does */
  readonly heartbeatMs?: number;
}

/** Whether the request asks for Apollo's subscription protocol: `multipart/mixed` with a `subscriptionSpec`. */
export function acceptsMultipartSubscriptions(request: Request): boolean {
  const accept = request.headers.get('accept') ?? '';
  return accept
    .split(',')
    .some((type) => /^\s*multipart\/mixed\s*;/i.test(type) && /;\s*subscriptionSpec\s*=/i.test(type));
}

export function useMultipartSubscriptions(options: MultipartSubscriptionOptions = {}): Plugin {
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  return {
    onResultProcess({ request, result, setResultProcessor }) {
      if (!isAsyncIterable(result) || !acceptsMultipartSubscriptions(request)) return;
      setResultProcessor(
        (stream, fetchAPI) => streamed(stream as AsyncIterable<ExecutionResult>, fetchAPI, heartbeatMs),
        'multipart/mixed',
      );
    },
  };
}

function streamed(
  results: AsyncIterable<ExecutionResult>,
  fetchAPI: { Response: typeof Response; ReadableStream: typeof ReadableStream },
  heartbeatMs: number,
): Response {
  const iterator = results[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  let heartbeat: NodeJS.Timeout | undefined;
  let closed = false;
  const body = new fetchAPI.ReadableStream<Uint8Array>({
    start(controller) {
      const part = (json: string) =>
        controller.enqueue(encoder.encode(`${PART_HEAD}${json}\r\n--${BOUNDARY}`));
      controller.enqueue(encoder.encode(`\r\n--${BOUNDARY}`));
      heartbeat = setInterval(() => part('{}'), heartbeatMs);
      heartbeat.unref();
      const finish = (last?: string) => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        if (last !== undefined) part(last);
        controller.enqueue(encoder.encode('--\r\n'));
        controller.close();
      };
      void (async () => {
        try {
          for (;;) {
            const next = await iterator.next();
            if (next.done || closed) break;
            part(JSON.stringify({ payload: withoutInternals(next.value) }));
          }
          finish();
        } catch (error) {
          // A failure of the stream itself, not of a field: the protocol's transport-level error, then the end.
          const message = error instanceof GraphQLError ? error.message : 'The subscription failed.';
          finish(JSON.stringify({ payload: null, errors: [{ message }] }));
        }
      })();
    },
    cancel() {
      closed = true;
      clearInterval(heartbeat);
      return iterator.return?.().then(() => {});
    },
  });
  return new fetchAPI.Response(body, {
    status: 200,
    headers: { 'content-type': CONTENT_TYPE, 'cache-control': 'no-cache', connection: 'keep-alive' },
  });
}

/** The result as clients see it: errors without the `http` extension yoga uses to pick a status. */
function withoutInternals(result: ExecutionResult): ExecutionResult {
  if (!result.errors) return result;
  return {
    ...result,
    errors: result.errors.map((error) => {
      const { http: _http, ...extensions } = error.extensions ?? {};
      return { ...error.toJSON(), extensions } as unknown as GraphQLError;
    }),
  };
}
