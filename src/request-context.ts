/**
 * The request id, decided once per request and visible to anything that runs on the request's behalf, including
 * a crash handler that only has the process to ask.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';
const ACCEPTABLE_REQUEST_ID = /^[\w.:-]{1,128}$/;

interface RequestScope {
  readonly requestId: string;
}

const scope = new AsyncLocalStorage<RequestScope>();

/** The caller's own id when it is a sane one (a router's, a load balancer's), else a new one. */
export function chooseRequestId(offered: string | null | undefined): string {
  return offered && ACCEPTABLE_REQUEST_ID.test(offered) ? offered : randomUUID();
}

/** Runs `work` as part of the request with this id. */
export function runInRequestScope<T>(requestId: string, work: () => T): T {
  return scope.run({ requestId }, work);
}

/** The id of the request the current code runs for, if any. */
export function currentRequestId(): string | undefined {
  return scope.getStore()?.requestId;
}
