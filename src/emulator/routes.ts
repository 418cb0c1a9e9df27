/**
 * Every call the emulator answers, in one table: a method, a path (its one variable segment captured), and the
 * handler. A path it knows under another method is 405, one it does not know 404, as CI answers them.
 */
import {
  cancelBatchJob,
  describeBatchJobs,
  describeMediaJobs,
  listBatchJobs,
  setState,
  startBatchJob,
  trigger,
} from './actions.js';
import type { CallContext } from './context.js';
import { HttpError } from './params.js';
import { describeMediaBuckets, executionDetail, listExecutions, searchWorkflows } from './reads.js';

interface CallRequest {
  readonly query: URLSearchParams;
  readonly body: string;
  /** The path's variable segment, for paths that have one; '' for the others. */
  readonly id: string;
}

interface Route {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: RegExp;
  answer(context: CallContext, request: CallRequest): string;
}

const ROUTES: readonly Route[] = [
  { method: 'GET', path: /^\/workflowexecution$/, answer: (c, { query }) => listExecutions(c, query) },
  { method: 'GET', path: /^\/workflowexecution\/([^/]+)$/, answer: (c, { id }) => executionDetail(c, id) },
  { method: 'GET', path: /^\/workflow$/, answer: (c, { query }) => searchWorkflows(c, query) },
  { method: 'PUT', path: /^\/workflow\/([^/]+)$/, answer: (c, { id, query }) => setState(c, id, query) },
  { method: 'POST', path: /^\/triggerworkflow$/, answer: (c, { query }) => trigger(c, query) },
  { method: 'POST', path: /^\/inventorytriggerjob$/, answer: (c, { body }) => startBatchJob(c, body) },
  { method: 'GET', path: /^\/inventorytriggerjob$/, answer: (c, { query }) => listBatchJobs(c, query) },
  {
    method: 'GET',
    path: /^\/inventorytriggerjob\/([^/]+)$/,
    answer: (c, { id }) => describeBatchJobs(c, [id]),
  },
  {
    method: 'PUT',
    path: /^\/inventorytriggerjob\/([^/]+)$/,
    answer: (c, { id, query }) => cancelBatchJob(c, id, query),
  },
  { method: 'GET', path: /^\/jobs\/([^/]+)$/, answer: (c, { id }) => describeMediaJobs(c, id) },
  // The region host's call (`ci.<region>.myqcloud.com`); the emulator answers it on every origin.
  { method: 'GET', path: /^\/mediabucket$/, answer: (c, { query }) => describeMediaBuckets(c, query) },
];

/** The answer to one call. */
export function answerCall(
  context: CallContext,
  method: string,
  path: string,
  request: Omit<CallRequest, 'id'>,
): string {
  let pathKnown = false;
  for (const route of ROUTES) {
    const match = route.path.exec(path);
    if (!match) continue;
    pathKnown = true;
    if (route.method === method) return route.answer(context, { ...request, id: match[1] ?? '' });
  }
  if (pathKnown) throw new HttpError(405, 'MethodNotAllowed', `${method} is not supported here`);
  throw new HttpError(404, 'InvalidUrl', 'The requested URL is not supported');
}
