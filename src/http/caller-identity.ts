/**
 * Who is calling, as the limits and the schema need it: the caller a request or a WebSocket connection was
 * admitted as, the key the rate and subscription limits count it under, and the rights its scopes grant.
 */
import type { Caller, CallerAuth } from '../plugins/caller-auth.js';
import type { CallerRights } from '../schema/context.js';

/** What yoga's Node adapter and a WebSocket operation put in the server context; both are optional. */
export interface ServerContext {
  /** Node's request: its socket's peer address tells callers apart when no token does. */
  readonly req?: { readonly socket?: { readonly remoteAddress?: string | undefined } } | undefined;
  /** A WebSocket operation's caller, verified when its connection opened. */
  readonly socket?: { readonly caller: Caller } | undefined;
}

export interface CallerIdentity {
  callerOf(request: Request, serverContext: ServerContext): Caller;
  /** Callers are told apart by their token's subject, else by their address (a router on its secret is one). */
  callerKey(request: Request, serverContext: ServerContext): string;
  /** What the caller may do; undefined (everything) when no token is required, so no scope is checked. */
  rightsOf(caller: Caller): CallerRights | undefined;
  /** What the caller may read, as a key: requests with the same one may share answers (the response cache). */
  accessScope(request: Request, serverContext: ServerContext): string;
}

export function callerIdentity(
  auth: Pick<CallerAuth, 'callerOf'>,
  scopes: { readonly read: string; readonly write: string },
): CallerIdentity {
  const callerOf = (request: Request, serverContext: ServerContext) =>
    serverContext.socket?.caller ?? auth.callerOf(request);
  const rightsOf = (caller: Caller): CallerRights | undefined => {
    const granted = caller.scopes;
    return (
      granted && {
        mayRead: granted.has(scopes.read),
        mayWrite: granted.has(scopes.write),
        buckets: caller.buckets,
        expiresAt: caller.expiresAt,
      }
    );
  };
  return {
    callerOf,
    rightsOf,
    callerKey(request, serverContext) {
      const subject = callerOf(request, serverContext).subject;
      return subject === undefined ? `address:${clientAddress(serverContext)}` : `subject:${subject}`;
    },
    accessScope(request, serverContext) {
      const rights = rightsOf(callerOf(request, serverContext));
      if (rights === undefined) return 'everything';
      const buckets = rights.buckets === undefined ? '*' : [...rights.buckets].sort().join(',');
      return `read=${rights.mayRead};write=${rights.mayWrite};buckets=${buckets}`;
    },
  };
}

/** The peer's address as Node saw it; behind a router or proxy, that of the router or proxy. */
export function clientAddress(serverContext: ServerContext): string {
  return serverContext.req?.socket?.remoteAddress ?? 'unknown';
}
