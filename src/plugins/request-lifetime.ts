/**
 * How long a request's upstream work may go on: until its answer is sent (its last part, for `@defer` and
 * `@stream`), its client goes away, its deadline passes, or the gateway shuts down, whichever comes first. Each
 * request gets one abort signal that fires at the first of these; every upstream call of the request carries it,
 * so no attempt starts (or goes on) when nobody waits for its result. A subscription's events each get a lifetime
 * of their own (`subscription-events.ts`).
 */
import type { ServerResponse } from 'node:http';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { CiError } from '../ci/errors.js';

export interface RequestLifetimeOptions {
  /** Past this, every upstream call of the request is aborted and what is missing answers `UPSTREAM_TIMEOUT`. */
  readonly timeoutMs: number;
  /** Aborted when the gateway gives up on in-flight requests at the end of a drain. */
  readonly shutdownSignal?: AbortSignal | undefined;
}

export interface RequestLifetimes {
  readonly plugin: Plugin;
  /** The signal of a request seen by the plugin; undefined for one it has not seen. */
  signalFor(request: Request): AbortSignal | undefined;
  /**
   * Starts the lifetime of an operation that is not an HTTP request (a graphql-ws message): deadline and shutdown
   * as for a request, `gone` for its client going away. Returns what ends it.
   */
  open(request: Request, gone: AbortSignal): () => void;
}

interface Lifetime {
  readonly controller: AbortController;
  readonly timer: NodeJS.Timeout;
  readonly unlink: () => void;
}

/** Why a request's work stopped; shared, since they carry nothing of the request (and are built once, not per request). */
const RESPONSE_SENT = new CiError('cancelled', 'The response was already sent');
const CLIENT_GONE = new CiError('cancelled', 'The client went away before CI answered');
const SHUTTING_DOWN = new CiError('cancelled', 'The gateway is shutting down; retry the request');

export function useRequestLifetime(options: RequestLifetimeOptions): RequestLifetimes {
  const lifetimes = new WeakMap<Request, Lifetime>();
  /** Requests answering in parts (@defer, @stream), whose lifetime ends with their last part. */
  const incremental = new WeakSet<Request>();
  const deadlinePassed = new CiError(
    'timeout',
    `The request's deadline of ${options.timeoutMs} ms passed before CI answered`,
  );
  // One listener for the whole process, not one per request: a shutdown aborts every request still alive.
  const alive = new Set<AbortController>();
  options.shutdownSignal?.addEventListener(
    'abort',
    () => {
      for (const controller of alive) controller.abort(SHUTTING_DOWN);
    },
    { once: true },
  );
  const end = (request: Request, reason: CiError) => {
    const lifetime = lifetimes.get(request);
    if (!lifetime) return;
    lifetimes.delete(request);
    alive.delete(lifetime.controller);
    clearTimeout(lifetime.timer);
    lifetime.unlink();
    lifetime.controller.abort(reason);
  };
  const start = (request: Request, watch: (onGone: () => void) => () => void) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(deadlinePassed), options.timeoutMs);
    timer.unref();
    const unlink = watch(() => controller.abort(CLIENT_GONE));
    if (options.shutdownSignal?.aborted) controller.abort(SHUTTING_DOWN);
    alive.add(controller);
    lifetimes.set(request, { controller, timer, unlink });
  };
  return {
    signalFor: (request) => lifetimes.get(request)?.controller.signal,
    open(request, gone) {
      start(request, (onGone) => watchSignal(gone, onGone));
      return () => end(request, RESPONSE_SENT);
    },
    plugin: {
      onRequest({ request, serverContext }) {
        start(request, (onGone) => watchClient(request, serverContext, onGone));
      },
      // A query with @defer or @stream answers in parts: its response starts with the first part, and the rest is
      // still being worked on, within the same deadline, until the last part is sent.
      onExecute({ args }) {
        const request = (args.contextValue as { request?: Request }).request;
        if (!request) return;
        return {
          onExecuteDone({ result }) {
            if (!isAsyncIterable(result)) return;
            incremental.add(request);
            return {
              onEnd: () => {
                incremental.delete(request);
                end(request, RESPONSE_SENT);
              },
            };
          },
        };
      },
      // Once the answer is sent, whatever is still running (a sibling of a failed list item, a queued detail
      // call) is work nobody will read. A subscription's response is sent when its stream opens: its events run
      // under lifetimes of their own (`subscription-events.ts`), not this one.
      onResponse({ request }) {
        if (!incremental.has(request)) end(request, RESPONSE_SENT);
      },
    },
  };
}

/**
 * Calls `onGone` if the client goes away before its answer is complete; returns what stops watching. Under Node's
 * HTTP server that is the response closing unfinished, watched directly (cheaper than the adapter's signal); under
 * any other host, the request's signal, re-wrapped as a native one since the adapter's own signal object stops
 * reporting `aborted` once something has subscribed to it natively.
 */
function watchClient(request: Request, serverContext: unknown, onGone: () => void): () => void {
  const response = (serverContext as { res?: ServerResponse } | undefined)?.res;
  if (response && typeof response.once === 'function') {
    const onClose = () => {
      if (!response.writableFinished) onGone();
    };
    response.once('close', onClose);
    return () => response.off('close', onClose);
  }
  return watchSignal(AbortSignal.any([request.signal]), onGone);
}

/** Calls `onGone` when `gone` aborts (at once if it has); returns what stops watching. */
function watchSignal(gone: AbortSignal, onGone: () => void): () => void {
  if (gone.aborted) onGone();
  gone.addEventListener('abort', onGone, { once: true });
  return () => gone.removeEventListener('abort', onGone);
}
