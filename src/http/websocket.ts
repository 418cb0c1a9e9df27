/**
 * GraphQL over WebSocket (the `graphql-ws` protocol) on the GraphQL path, for clients and routers that subscribe
 * that way (Apollo Router's `subgraph_protocol: graphql_ws`, Apollo Client's and urql's `graphql-ws` links).
 *
 * - The connection is authenticated once, when it opens, with the same checks as a request: the router secret and
 *   the bearer token from `connectionParams` (`authorization`, `x-router-secret`) or the upgrade request's
 *   headers. A refused connection is closed with 4403. It is closed with 4403 too when its token expires.
 * - Each operation (a subscription, a query, or a mutation: graphql-ws allows all three, and so does this) is
 *   admitted by the gateway as an HTTP request would be (`socket-operations.ts`: persisted-document rules,
 *   document size, the caller's rate limit, the request deadline, one log line), then executed through the
 *   gateway's own envelop (schema, scopes, masking, limits) with the connection's caller, and stopped (its upstream
 *   work aborted) when it completes or the connection closes.
 * - At most `maxSubscriptionsPerConnection` at once on one connection.
 * - A browser's upgrade is held to the same origins as its HTTP requests (`CORS_ORIGINS`): a page elsewhere cannot
 *   open a socket, as it cannot send a preflighted request. Clients that are not browsers send no `Origin`.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ExecutionArgs, GraphQLError } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import { ErrorCode } from '../error-codes.js';
import type { Caller } from '../plugins/caller-auth.js';
import type { Logger } from '../telemetry/logger.js';
import { afterDelay } from '../timers.js';
import type { OpenedSocketOperation, SocketGateway } from './socket-operations.js';

/** Headers a client may send in `connectionParams` in place of HTTP headers (browsers cannot set them). */
const CREDENTIAL_PARAMS = ['authorization', 'x-router-secret'] as const;

export interface WebSocketOptions {
  readonly path: string;
  readonly maxSubscriptionsPerConnection: number;
  readonly logger: Logger;
  /** Largest message accepted. @default 1 MiB */
  readonly maxPayloadBytes?: number;
  /** Origins browsers may connect from (`CORS_ORIGINS`): `*` for any, empty for none. */
  readonly allowedOrigins: '*' | readonly string[];
}

interface ConnectionState {
  caller?: Caller;
  headers?: Headers;
  cancelExpiry?: () => void;
  /** Operations running, by id: what aborts each (its client went away) and what ends it. */
  readonly operations: Map<
    string,
    { readonly gone: AbortController; readonly opened?: OpenedSocketOperation }
  >;
}

/** The close code that tells a client the server is going away (RFC 6455). */
const GOING_AWAY = 1001;
/** How long a client gets to answer the closing handshake at shutdown. */
const CLOSE_GRACE_MS = 500;

/** Resolves once the socket has closed, destroying it if it has not within `graceMs`. */
function closedOrCut(client: WebSocket, graceMs: number): Promise<void> {
  if (client.readyState === client.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const cut = setTimeout(() => client.terminate(), graceMs);
    client.once('close', () => {
      clearTimeout(cut);
      resolve();
    });
  });
}

export interface GraphQLWebSocket {
  /** Tells every client to go elsewhere (1001) and stops taking connections. */
  close(): Promise<void>;
}

export function serveGraphQLOverWebSocket(
  server: Server,
  gateway: SocketGateway,
  options: WebSocketOptions,
): GraphQLWebSocket {
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes ?? 1024 * 1024 });
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (new URL(request.url ?? '/', 'http://gateway').pathname !== options.path) {
      socket.destroy();
      return;
    }
    const origin = request.headers.origin;
    if (origin !== undefined && options.allowedOrigins !== '*' && !options.allowedOrigins.includes(origin)) {
      options.logger.info({ origin }, 'WebSocket upgrade from an origin not in CORS_ORIGINS: refused');
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
  server.on('upgrade', onUpgrade);
  const states = new WeakMap<object, ConnectionState>();
  const stateOf = (extra: object) => {
    let state = states.get(extra);
    if (!state) {
      state = { operations: new Map() };
      states.set(extra, state);
    }
    return state;
  };

  const admitted = new WeakMap<ExecutionArgs, OpenedSocketOperation>();
  const admittedOperation = (args: ExecutionArgs): OpenedSocketOperation => {
    const operation = admitted.get(args);
    if (!operation) throw new Error('graphql-ws executed an operation it did not admit');
    return operation;
  };

  const disposable = useServer(
    {
      onConnect: async (ctx) => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(ctx.extra.request.headers)) {
          if (typeof value === 'string') headers.set(name, value);
        }
        for (const name of CREDENTIAL_PARAMS) {
          const value = ctx.connectionParams?.[name] ?? ctx.connectionParams?.[name.toUpperCase()];
          if (typeof value === 'string') headers.set(name, value);
        }
        try {
          const caller = await gateway.authenticateSocket(headers);
          const state = stateOf(ctx.extra);
          state.caller = caller;
          state.headers = headers;
          if (caller.expiresAt) {
            state.cancelExpiry = afterDelay(caller.expiresAt.getTime() - Date.now(), () =>
              ctx.extra.socket.close(CloseCode.Forbidden, 'Token expired'),
            );
          }
          return true;
        } catch (error) {
          options.logger.info(
            { reason: error instanceof Error ? error.message : String(error) },
            'WebSocket connection refused',
          );
          return false;
        }
      },
      onSubscribe: async (ctx, id, params) => {
        const state = stateOf(ctx.extra);
        if (!state.caller || !state.headers) return [new GraphQLError('Not connected.')];
        if (state.operations.size >= options.maxSubscriptionsPerConnection) {
          return [
            new GraphQLError(
              `At most ${options.maxSubscriptionsPerConnection} subscriptions at once on one connection.`,
              { extensions: { code: ErrorCode.SUBSCRIPTION_LIMIT } },
            ),
          ];
        }
        // Held while it is admitted, so the connection's count and a close in the meantime both see it.
        const gone = new AbortController();
        state.operations.set(id, { gone });
        const opened = await gateway.openSocketOperation({
          caller: state.caller,
          headers: state.headers,
          upgrade: ctx.extra.request,
          params,
          gone: gone.signal,
        });
        if (!('args' in opened)) {
          state.operations.delete(id);
          return [...opened];
        }
        if (gone.signal.aborted) {
          opened.end();
          return [new GraphQLError('The operation was completed before it started.')];
        }
        state.operations.set(id, { gone, opened });
        admitted.set(opened.args, opened);
        return opened.args;
      },
      // graphql-ws hands back the very arguments `onSubscribe` returned: they name the admitted operation.
      execute: (args) => admittedOperation(args).execute(),
      subscribe: (args) => admittedOperation(args).subscribe(),
      onNext: (ctx, id, _payload, _args, result) => {
        stateOf(ctx.extra).operations.get(id)?.opened?.noteResult(result);
      },
      onError: (ctx, id, _payload, errors) => {
        stateOf(ctx.extra).operations.get(id)?.opened?.noteResult({ errors });
      },
      onComplete: (ctx, id) => {
        const state = stateOf(ctx.extra);
        const operation = state.operations.get(id);
        state.operations.delete(id);
        operation?.gone.abort();
        operation?.opened?.end();
      },
      onClose: (ctx) => {
        const state = stateOf(ctx.extra);
        state.cancelExpiry?.();
        for (const operation of state.operations.values()) {
          operation.gone.abort();
          operation.opened?.end();
        }
        state.operations.clear();
      },
    },
    wss,
  );

  return {
    async close() {
      server.off('upgrade', onUpgrade);
      // 1001 (going away): clients reconnect, to another replica. One that does not answer the closing handshake
      // within the grace is cut off rather than waited for (ws would wait 30 s).
      for (const client of wss.clients) client.close(GOING_AWAY, 'Server shutting down');
      const ended = Promise.all([...wss.clients].map((client) => closedOrCut(client, CLOSE_GRACE_MS)));
      await Promise.all([ended, disposable.dispose()]);
    },
  };
}
