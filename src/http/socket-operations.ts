/**
 * graphql-ws operations admitted as HTTP requests are. WebSocket messages never pass yoga's request hooks, so what
 * those hooks decide for a request is decided here for an operation, by the same plugins: persisted-document rules,
 * the document size limit, the caller's rate limit, the request deadline, and the log line. Parsing, validation and
 * execution then run through the gateway's own envelop (token, depth and alias limits, introspection, scopes,
 * subscription limits) as for HTTP. The WebSocket transport sees only {@link SocketGateway}.
 */
import type { IncomingMessage } from 'node:http';
import { type DocumentNode, type ExecutionArgs, type execute, GraphQLError, type subscribe } from 'graphql';
import type { GraphQLParams, YogaServerInstance } from 'graphql-yoga';
import { ErrorCode, errorCodeOf, errorCodesOf } from '../error-codes.js';
import type { Caller } from '../plugins/caller-auth.js';
import type { DocumentLimit } from '../plugins/document-limit.js';
import type { PersistedQueries } from '../plugins/persisted-queries.js';
import type { RateLimit } from '../plugins/rate-limit.js';
import type { RequestLifetimes } from '../plugins/request-lifetime.js';
import type { RequestLog } from '../plugins/request-log.js';
import type { GraphQLContext } from '../schema/context.js';
import type { CallerIdentity, ServerContext } from './caller-identity.js';

/** One graphql-ws operation, as its connection received it. */
export interface SocketOperation {
  readonly caller: Caller;
  /** The connection's headers, credentials from `connectionParams` included. */
  readonly headers: Headers;
  /** The upgrade request: its client address tells callers apart, as a request's does. */
  readonly upgrade: IncomingMessage;
  /** The `subscribe` message's payload. */
  readonly params: {
    readonly query?: string | undefined;
    readonly operationName?: string | null | undefined;
    readonly variables?: Record<string, unknown> | null | undefined;
    readonly extensions?: Record<string, unknown> | null | undefined;
  };
  /** Aborted when the client completes the operation or the connection closes. */
  readonly gone: AbortSignal;
}

/** An admitted graphql-ws operation: what to execute, and what ends it. */
export interface OpenedSocketOperation {
  readonly args: ExecutionArgs;
  /** Runs a query or mutation through the gateway's envelop. */
  execute(): ReturnType<typeof execute>;
  /** Starts a subscription through the gateway's envelop. */
  subscribe(): ReturnType<typeof subscribe>;
  /** Notes a result sent, for the operation's log line. */
  noteResult(result: { readonly errors?: readonly GraphQLError[] | undefined }): void;
  /** Ends its lifetime (what is left of its upstream work is aborted) and logs it. */
  end(): void;
}

/** What the WebSocket transport needs of the gateway, and nothing more. */
export interface SocketGateway {
  /** The caller checks of a GraphQL request, for a connection that is not one (a WebSocket's). */
  authenticateSocket(headers: Headers): Promise<Caller>;
  /** Admits one operation; refused, the errors to send. */
  openSocketOperation(operation: SocketOperation): Promise<OpenedSocketOperation | readonly GraphQLError[]>;
}

export interface SocketOperationDeps {
  readonly yoga: YogaServerInstance<ServerContext, GraphQLContext>;
  readonly graphqlPath: string;
  readonly documentLimit: DocumentLimit;
  readonly persisted: PersistedQueries;
  readonly rateLimit: RateLimit<ServerContext> | undefined;
  readonly lifetimes: RequestLifetimes;
  readonly requestLog: RequestLog;
  readonly identity: CallerIdentity;
}

export function socketOperations(deps: SocketOperationDeps): SocketGateway['openSocketOperation'] {
  return async ({ caller, headers, upgrade, params: payload, gone }) => {
    const params: GraphQLParams = {
      ...(typeof payload.query === 'string' ? { query: payload.query } : {}),
      ...(payload.operationName ? { operationName: payload.operationName } : {}),
      ...(payload.variables ? { variables: payload.variables } : {}),
      ...(payload.extensions ? { extensions: payload.extensions } : {}),
    };
    // A POST: what graphql-ws allows (queries and mutations as well as subscriptions) is what a POST may do.
    const request = new Request(`http://websocket${deps.graphqlPath}`, { method: 'POST', headers });
    const serverContext: ServerContext = { req: upgrade, socket: { caller } };
    const tooLarge = typeof params.query === 'string' ? deps.documentLimit.check(params.query) : undefined;
    if (tooLarge) return [tooLarge];
    const document = deps.persisted.documentFor(params);
    if (document instanceof GraphQLError) return [document];
    const limited = await deps.rateLimit?.refusal(deps.identity.callerKey(request, serverContext));
    if (limited) return [limited];

    const record = deps.requestLog.start(request);
    const endLifetime = deps.lifetimes.open(request, gone);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      endLifetime();
      deps.requestLog.end(record, { transport: 'graphql-ws' });
    };
    const enveloped = deps.yoga.getEnveloped({
      request,
      ...serverContext,
      params: { ...params, query: document },
    });
    let parsed: DocumentNode;
    try {
      parsed = enveloped.parse(document);
    } catch (error) {
      end();
      return [error instanceof GraphQLError ? error : new GraphQLError('The document cannot be parsed.')];
    }
    const errors = enveloped.validate(enveloped.schema, parsed);
    if (errors.length > 0) {
      record.errorCodes = errors.map((error: GraphQLError) =>
        errorCodeOf(error, ErrorCode.GRAPHQL_VALIDATION_FAILED),
      );
      end();
      return errors;
    }
    const args: ExecutionArgs = {
      schema: enveloped.schema,
      document: parsed,
      operationName: params.operationName,
      variableValues: params.variables,
      contextValue: await enveloped.contextFactory(),
    };
    return {
      args,
      execute: () => enveloped.execute(args),
      subscribe: () => enveloped.subscribe(args),
      noteResult: (result) => {
        if (result.errors?.length)
          record.errorCodes = [...(record.errorCodes ?? []), ...errorCodesOf(result)];
      },
      end,
    };
  };
}
