/**
 * A GraphQL-over-SSE client for tests ("distinct connections" mode, as yoga serves it): POST with
 * `Accept: text/event-stream`, then `next` events until `complete`.
 */
export interface SseSubscription<T> {
  /** The next `next` payload; rejects after `timeoutMs` without one. Undefined once the stream completed. */
  next(timeoutMs?: number): Promise<T | undefined>;
  close(): Promise<void>;
}

type Fetch = (input: string, init: RequestInit) => Response | Promise<Response>;

export async function subscribe<T = { data?: Record<string, unknown>; errors?: unknown[] }>(
  fetch: Fetch,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<SseSubscription<T>> {
  const controller = new AbortController();
  const response = await fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  if (!response.body) throw new Error(`no event stream (HTTP ${response.status})`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const queue: Array<T | undefined> = [];
  const waiting: Array<(value: T | undefined) => void> = [];
  let buffer = '';
  const deliver = (value: T | undefined) => {
    const waiter = waiting.shift();
    if (waiter) waiter(value);
    else queue.push(value);
  };
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let boundary = buffer.indexOf('\n\n');
        while (boundary >= 0) {
          const frame = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = frame
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trim())
            .join('\n');
          if (event === 'next' && data) deliver(JSON.parse(data) as T);
          if (event === 'complete') deliver(undefined);
          boundary = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // Closed by the test.
    }
    deliver(undefined);
  })();
  return {
    next(timeoutMs = 5_000) {
      if (queue.length > 0) return Promise.resolve(queue.shift());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(settle), 1);
          reject(new Error(`no event within ${timeoutMs} ms`));
        }, timeoutMs);
        const settle = (value: T | undefined) => {
          clearTimeout(timer);
          resolve(value);
        };
        waiting.push(settle);
      });
    },
    async close() {
      controller.abort();
      await reader.cancel().catch(() => {});
    },
  };
}
