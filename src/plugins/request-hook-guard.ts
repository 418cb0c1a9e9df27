/**
 * An exception thrown by a plugin's `onRequest` hook escapes yoga's error handling: the server adapter answers it
 * with the error's stack (file paths included) as the body. Every `onRequest` hook runs inside this guard instead,
 * so such a bug is logged with its stack and answered a plain 500 that says nothing about the code.
 */
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../telemetry/logger.js';

type OnRequest = NonNullable<Plugin['onRequest']>;

/** The plugins, each with its `onRequest` hook (if any) guarded; everything else of each kept as it is. */
export function guardRequestHooks<P extends object>(plugins: readonly P[], logger: Logger): P[] {
  return plugins.map((plugin) => {
    // Every plugin's `onRequest` is the server adapter's, whatever its GraphQL context.
    const onRequest = (plugin as Plugin).onRequest;
    if (!onRequest) return plugin;
    const guarded: OnRequest = (payload) => {
      const fail = (error: unknown) => {
        logger.error({ err: error, path: payload.url.pathname }, 'a request hook failed');
        payload.endResponse(
          new payload.fetchAPI.Response('Internal error\n', {
            status: 500,
            headers: { 'content-type': 'text/plain; charset=utf-8' },
          }),
        );
      };
      try {
        const result = onRequest(payload);
        // Most hooks are synchronous: only those that return a promise pay for a handler.
        return result instanceof Promise ? result.catch(fail) : result;
      } catch (error) {
        fail(error);
      }
    };
    return { ...plugin, onRequest: guarded };
  });
}
