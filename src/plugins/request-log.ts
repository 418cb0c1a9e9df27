/**
 * One structured log line per GraphQL operation: its id, operation, duration, status, error codes, and every
 * upstream attempt with CI's request id. HTTP requests are recorded by the plugin; operations that are not HTTP
 * requests (a graphql-ws message) are recorded through the same log with {@link RequestLog.start} and `end`.
 *
 * A streamed answer (a subscription over SSE, multipart or a router's callbacks; `@defer` and `@stream`) is logged
 * when its stream ends, not when its response starts, so the line holds every event's upstream attempts and errors.
 */
import { type ExecutionArgs, getOperationAST } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { UpstreamAttempt } from '../ci/client.js';
import { errorCodesOf } from '../error-codes.js';
import { chooseRequestId, currentRequestId, REQUEST_ID_HEADER } from '../request-context.js';
import type { Logger } from '../telemetry/logger.js';

/** What the log gathers about one operation. */
export interface RequestRecord {
  readonly id: string;
  readonly startedAt: number;
  readonly upstream: UpstreamAttempt[];
  operation?: string;
  errorCodes?: string[];
}

/** What only an HTTP request's record knows: where its line is written from. */
interface HttpRecord {
  readonly method: string;
  readonly path: string;
  status?: number;
  /** Its answer is a stream: the line waits for the stream's end. */
  streaming?: boolean;
  /** The line is written. */
  logged?: boolean;
}

export interface RequestLog {
  readonly plugin: Plugin<{ readonly request: Request }>;
  /** The record of a request the plugin or {@link start} began; undefined for one neither did. */
  recordOf(request: Request): RequestRecord | undefined;
  /** Starts the record of an operation that is not an HTTP request (`request` stands for it). */
  start(request: Request): RequestRecord;
  /** Writes the operation's line. */
  end(record: RequestRecord, fields: Record<string, unknown>): void;
}

export function createRequestLog(logger: Logger, graphqlPath: string): RequestLog {
  const records = new WeakMap<Request, RequestRecord>();
  const http = new WeakMap<Request, HttpRecord>();

  const start = (request: Request): RequestRecord => {
    const record: RequestRecord = {
      // The HTTP layer decides the id when there is one; yoga's own fetch (tests, serverless) decides it here.
      id: currentRequestId() ?? chooseRequestId(request.headers.get(REQUEST_ID_HEADER)),
      startedAt: performance.now(),
      upstream: [],
    };
    records.set(request, record);
    return record;
  };

  const end = (record: RequestRecord, fields: Record<string, unknown>): void => {
    logger.info(
      {
        requestId: record.id,
        ...fields,
        operation: record.operation,
        durationMs: Math.round(performance.now() - record.startedAt),
        upstreamCalls: record.upstream.length,
        upstream: record.upstream,
        errors: record.errorCodes,
      },
      'graphql request',
    );
  };

  /** An HTTP request's line, once: at its response, or at the end of the stream its response carries. */
  const endHttp = (request: Request) => {
    const record = records.get(request);
    const line = http.get(request);
    if (!record || !line || line.logged) return;
    line.logged = true;
    end(record, { method: line.method, path: line.path, status: line.status });
  };

  /**
   * Names the operation of a record (`query Name`, `subscription (anonymous)`) and, for an HTTP request whose
   * answer is a stream, follows the stream: its events' errors join the line, which is written at its end.
   */
  const follow = (args: ExecutionArgs & { readonly contextValue: { readonly request: Request } }) => {
    const { request } = args.contextValue;
    const record = records.get(request);
    if (!record) return undefined;
    const operation = getOperationAST(args.document, args.operationName);
    record.operation = `${operation?.operation ?? 'unknown'} ${operation?.name?.value ?? '(anonymous)'}`;
    const line = http.get(request);
    return ({ result }: { readonly result: unknown }) => {
      if (!line || !isAsyncIterable(result)) return undefined;
      line.streaming = true;
      return {
        onNext: ({ result: part }: { readonly result: unknown }) => {
          const codes = errorCodesOf(part);
          if (codes.length > 0) record.errorCodes = [...(record.errorCodes ?? []), ...codes];
        },
        onEnd: () => endHttp(request),
      };
    };
  };

  return {
    recordOf: (request) => records.get(request),
    start,
    end,
    plugin: {
      onRequest({ request }) {
        start(request);
        http.set(request, { method: request.method, path: new URL(request.url).pathname });
      },
      onExecute({ args }) {
        const onDone = follow(args);
        return onDone && { onExecuteDone: onDone };
      },
      onSubscribe({ args }) {
        const onResult = follow(args);
        return onResult && { onSubscribeResult: onResult };
      },
      onExecutionResult({ request, result }) {
        const record = records.get(request);
        const codes = errorCodesOf(result);
        if (record && codes.length > 0) record.errorCodes = codes;
      },
      onResponse({ request, response }) {
        const record = records.get(request);
        if (!record) return;
        response.headers.set(REQUEST_ID_HEADER, record.id);
        const path = new URL(request.url).pathname;
        const line = http.get(request);
        if (path === graphqlPath && line) {
          line.status = response.status;
          if (!line.streaming) endHttp(request);
          return;
        }
        logger.debug(
          {
            requestId: record.id,
            method: request.method,
            path,
            status: response.status,
            durationMs: Math.round(performance.now() - record.startedAt),
          },
          'http request',
        );
      },
    },
  };
}
