/**
 * The Node HTTP server the gateway runs in: explicit limits on slow or idle clients, and a count of requests in
 * flight so a drain knows what it waits for. Nothing GraphQL here; the gateway is just the request listener.
 */
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';

export interface HttpLimits {
  /** A client must send its whole header block within this. @default 10_000 */
  readonly headersTimeoutMs?: number;
  /**
   * A client must send its whole request within this. It bounds only receiving: the answer may take up to the
   * request's own deadline. @default 30_000
   */
  readonly requestTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this. @default 5_000 */
  readonly keepAliveTimeoutMs?: number;
  /**
   * A response the client stops reading is dropped, and its buffered bytes freed, after this long without
   * progress (a 9 MB GraphiQL page requested by a client that never reads, say). @default 30_000
   */
  readonly stalledResponseTimeoutMs?: number;
}

export interface TrackedServer {
  readonly server: Server;
  /** Requests whose response has not finished or closed yet. */
  readonly inFlight: number;
  /** Responses that finished completely since the server started. */
  readonly completed: number;
  /** Every connection open now, upgraded ones (WebSockets) included. */
  readonly sockets: ReadonlySet<Socket>;
  /** From now on, every response tells its client to close the connection: for a drain. */
  closeConnectionsAfterResponses(): void;
}

export function createHttpServer(listener: RequestListener, limits: HttpLimits = {}): TrackedServer {
  const stalledResponseTimeoutMs = limits.stalledResponseTimeoutMs ?? 30_000;
  const headersTimeoutMs = limits.headersTimeoutMs ?? 10_000;
  let inFlight = 0;
  let completed = 0;
  let closing = false;

  const server = createServer(
    {
      headersTimeout: headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs ?? 30_000,
      // How often Node checks those two timeouts (30 s by default, which would let a slow client overstay them).
      connectionsCheckingInterval: Math.min(1_000, Math.ceil(headersTimeoutMs / 4)),
      keepAliveTimeout: limits.keepAliveTimeoutMs ?? 5_000,
    },
    (request: IncomingMessage, response: ServerResponse) => {
      inFlight += 1;
      let counted = false;
      const settle = (finished: boolean) => {
        if (counted) return;
        counted = true;
        inFlight -= 1;
        if (finished) completed += 1;
      };
      const socket = request.socket;
      // Node also emits 'finish' when it destroys a socket with the response still queued on it.
      response.once('finish', () => settle(!socket.destroyed));
      response.once('close', () => settle(false));
      // Once the whole answer is handed over, the socket must keep draining to the client; a socket that makes no
      // progress for this long is destroyed (Node's default for a socket timeout nobody handles), freeing its buffer.
      response.once('prefinish', () => response.socket?.setTimeout(stalledResponseTimeoutMs));
      if (closing) response.setHeader('connection', 'close');
      listener(request, response);
    },
  );

  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  return {
    server,
    sockets,
    get inFlight() {
      return inFlight;
    },
    get completed() {
      return completed;
    },
    closeConnectionsAfterResponses() {
      closing = true;
    },
  };
}
