/**
 * One structured log line per GraphQL operation: its id, operation, duration, status, error codes, and every
 * upstream attempt with CI's request id. HTTP requests are recorded by the plugin; operations that are not HTTP
 * requests (a graphql-ws message) are recorded through the same log with {@link RequestLog.start} and `end`.
 */
import { type ExecutionArgs, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
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

  /** Names the operation of a record: `query Name`, `subscription (anonymous)`. */
  const noteOperation = (args: ExecutionArgs & { readonly contextValue: { readonly request: Request } }) => {
    const record = records.get(args.contextValue.request);
    if (!record) return;
    const operation = getOperationAST(args.document, args.operationName);
    record.operation = `${operation?.operation ?? 'unknown'} ${operation?.name?.value ?? '(anonymous)'}`;
  };

  return {
    recordOf: (request) => records.get(request),
    start,
    end,
    plugin: {
      onRequest({ request }) {
        start(request);
      },
      onExecute({ args }) {
        noteOperation(args);
      },
      onSubscribe({ args }) {
        noteOperation(args);
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
        if (path === graphqlPath) {
          end(record, { method: request.method, path, status: response.status });
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
