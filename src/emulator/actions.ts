/**
 * The emulator's console calls, as strict as the reads: trigger, pause and activate, batch (inventory) triggers
 * and media jobs. Each answers in CI's shapes; what they change lives in {@link EmulatorWorld}.
 */
import { encodeBatchTriggerInput } from '../ci/responses.js';
import { type BatchTriggerSource, JOB_STATES } from '../ci/types.js';
import { parseXml } from '../ci/xml.js';
import type { PageTokens } from './page-tokens.js';
import { HttpError, invalid, parseSize, parseTime } from './params.js';
import { type BatchJobView, type EmulatorWorld, PausedWorkflow, UnknownWorkflow } from './world.js';
import { compactOffsetTime, xmlDocument } from './xml-writer.js';

/** The most media job ids one `GET /jobs/…` takes here (CI documents none). */
export const MAX_JOB_IDS = 50;
const MAX_NAME_LENGTH = 128;

export interface ActionContext {
  readonly world: EmulatorWorld;
  readonly now: () => Date;
  readonly requestId: string;
  readonly tokens: PageTokens;
  readonly pageTokensBoundToSize: boolean;
}

/** The answer to a console call, or undefined when the request is not one. */
export function routeAction(
  context: ActionContext,
  method: string,
  path: string,
  query: URLSearchParams,
  body: string,
): string | undefined {
  if (path === '/triggerworkflow') return only(method, 'POST', () => trigger(context, query));
  const workflow = /^\/workflow\/([^/]+)$/.exec(path);
  if (workflow?.[1] && method === 'PUT') return setState(context, workflow[1], query);
  if (path === '/inventorytriggerjob') {
    if (method === 'POST') return startBatchJob(context, body);
    return only(method, 'GET', () => listBatchJobs(context, query));
  }
  const batchJob = /^\/inventorytriggerjob\/([^/]+)$/.exec(path);
  if (batchJob?.[1]) {
    if (method === 'PUT') return cancelBatchJob(context, batchJob[1], query);
    return only(method, 'GET', () => describeBatchJobs(context, [batchJob[1] as string]));
  }
  const jobs = /^\/jobs\/([^/]+)$/.exec(path);
  if (jobs?.[1]) return only(method, 'GET', () => describeMediaJobs(context, jobs[1] as string));
  return undefined;
}

function only(method: string, expected: string, answer: () => string): string {
  if (method !== expected) throw new HttpError(405, 'MethodNotAllowed', `${method} is not supported here`);
  return answer();
}

function trigger(context: ActionContext, query: URLSearchParams): string {
  const workflowId = query.get('workflowId');
  const object = query.get('object');
  if (!workflowId) throw invalid('workflowId is required');
  if (!object) throw invalid('object is required');
  checkName(query.get('name'), false);
  try {
    const runId = context.world.trigger(workflowId, object, context.now());
    return xmlDocument('Response', { RequestId: context.requestId, InstanceId: runId });
  } catch (error) {
    throw refusal(error);
  }
}

function setState(context: ActionContext, workflowId: string, query: URLSearchParams): string {
  const paused = query.has('paused');
  const active = query.has('active');
  if (paused === active) throw invalid('say either ?paused or ?active');
  try {
    context.world.setWorkflowState(workflowId, paused ? 'Paused' : 'Active');
  } catch (error) {
    throw refusal(error);
  }
  return '';
}

function startBatchJob(context: ActionContext, body: string): string {
  let request: Record<string, unknown>;
  try {
    request = (parseXml(body)['Request'] ?? {}) as Record<string, unknown>;
  } catch {
    throw new HttpError(400, 'MissingContent', 'The request body is not the XML expected');
  }
  const name = checkName(text(request['Name']), true) as string;
  if (text(request['Type']) !== 'Workflow') throw invalid('Type must be Workflow');
  const input = (request['Input'] ?? {}) as Record<string, unknown>;
  const sources: BatchTriggerSource[] = [];
  if (text(input['Prefix']) !== undefined)
    sources.push({ kind: 'prefix', prefix: text(input['Prefix']) as string });
  const objects = [input['Object']]
    .flat()
    .map(text)
    .filter((key): key is string => key !== undefined);
  if (objects.length > 0) sources.push({ kind: 'objects', objectKeys: objects });
  if (text(input['Manifest']))
    sources.push({ kind: 'manifest', manifest: text(input['Manifest']) as string });
  if (text(input['UrlFile'])) sources.push({ kind: 'urlFile', urlFile: text(input['UrlFile']) as string });
  if (sources.length !== 1) throw invalid('Input takes exactly one of Prefix, Object, Manifest and UrlFile');
  const operation = (request['Operation'] ?? {}) as Record<string, unknown>;
  const workflowId = text(operation['WorkflowIds']);
  if (!workflowId || workflowId.includes(',')) throw invalid('Operation.WorkflowIds must name one workflow');
  const interval = (operation['TimeInterval'] ?? {}) as Record<string, unknown>;
  const start = parseTime(text(interval['Start']) ?? null, 'TimeInterval.Start');
  const end = parseTime(text(interval['End']) ?? null, 'TimeInterval.End');
  try {
    const job = context.world.startBatchJob(
      {
        name,
        workflowId,
        source: sources[0] as BatchTriggerSource,
        windowStart: start === undefined ? undefined : new Date(start),
        windowEnd: end === undefined ? undefined : new Date(end),
      },
      context.now(),
    );
    return describeBatchJobs(context, [job.jobId]);
  } catch (error) {
    throw refusal(error);
  }
}

function describeBatchJobs(context: ActionContext, jobIds: readonly string[]): string {
  const found = jobIds.map((id) => context.world.batchJob(id, context.now()));
  return xmlDocument('Response', {
    RequestId: context.requestId,
    JobsDetail: found.filter((job): job is BatchJobView => job !== undefined).map(batchJobXml),
    NonExistJobIds: jobIds.filter((_id, index) => found[index] === undefined),
  });
}

function listBatchJobs(context: ActionContext, query: URLSearchParams): string {
  if (query.get('type') !== 'Workflow') throw invalid('type must be Workflow');
  const size = parseSize(query.get('size'));
  const order = query.get('orderByTime') ?? 'Desc';
  if (order !== 'Asc' && order !== 'Desc') throw invalid('orderByTime must be Asc or Desc');
  const states = query.get('states')?.split(',');
  for (const state of states ?? [])
    if (!(JOB_STATES as readonly string[]).includes(state)) throw invalid(`unknown state "${state}"`);
  const after = parseTime(query.get('startCreationTime'), 'startCreationTime');
  const before = parseTime(query.get('endCreationTime'), 'endCreationTime');
  const workflowId = query.get('workflowId') ?? undefined;
  const fingerprint = JSON.stringify([
    'batch',
    workflowId,
    order,
    states?.toSorted(),
    after,
    before,
    context.pageTokensBoundToSize ? size : undefined,
  ]);
  const nextToken = query.get('nextToken');
  let offset = 0;
  if (nextToken !== null) {
    const resumed = context.tokens.resolve(nextToken, fingerprint);
    if (resumed === undefined) throw invalid('nextToken is invalid or belongs to another query');
    offset = resumed;
  }
  const matching = context.world
    .batchJobs(context.now())
    .filter(
      (job) =>
        (workflowId === undefined || job.workflowId === workflowId) &&
        (states === undefined || states.includes(job.state)) &&
        (after === undefined || job.createdAt.getTime() >= after) &&
        (before === undefined || job.createdAt.getTime() <= before),
    )
    .sort((a, b) => {
      const byTime = a.createdAt.getTime() - b.createdAt.getTime() || (a.jobId < b.jobId ? -1 : 1);
      return order === 'Asc' ? byTime : -byTime;
    });
  const page = matching.slice(offset, offset + size);
  const end = offset + page.length;
  return xmlDocument('Response', {
    RequestId: context.requestId,
    JobsDetail: page.map(batchJobXml),
    NextToken: end < matching.length ? context.tokens.issue(fingerprint, end) : '',
  });
}

function cancelBatchJob(context: ActionContext, jobId: string, query: URLSearchParams): string {
  if (!query.has('cancel')) throw invalid('say ?cancel');
  if (!context.world.cancelBatchJob(jobId, context.now())) {
    throw new HttpError(400, 'ResourceNotFound', `batch trigger job ${jobId} does not exist`);
  }
  return '';
}

function describeMediaJobs(context: ActionContext, idList: string): string {
  const ids = idList.split(',');
  if (ids.length > MAX_JOB_IDS || ids.some((id) => id === '')) {
    throw invalid(`between 1 and ${MAX_JOB_IDS} job ids, separated by commas`);
  }
  const now = context.now();
  const found = ids.map((id) => context.world.mediaJob(id, now));
  return xmlDocument('Response', {
    RequestId: context.requestId,
    JobsDetail: found.flatMap((job) => {
      if (!job) return [];
      const { task, execution } = job;
      const transcode = task.type === 'Transcode';
      const done = job.state === 'Success';
      return [
        {
          Code: task.code || (job.state === 'Running' ? '' : 'Success'),
          Message: task.message,
          JobId: task.jobId,
          Tag: task.type,
          Progress: String(job.progress),
          State: job.state,
          ...jobTimes(task),
          QueueId: 'p2242ab62c7c94486915508540933a2c6',
          Input: { Object: execution.objectKey },
          Operation: {
            TemplateId: task.templateId,
            TemplateName: task.templateName,
            Output: {
              Region: 'ap-guangzhou',
              Bucket: 'demo-1250000000',
              Object: transcode
                ? `output/${execution.runId}/video.mp4`
                : `output/${execution.runId}/snapshot-0.jpg`,
            },
            ...(done && transcode
              ? {
                  MediaInfo: {
                    Format: {
                      Duration: '62.500000',
                      FormatName: 'mov,mp4,m4a,3gp,3g2,mj2',
                      Size: '10485760',
                    },
                    Stream: { Video: { Width: '1280', Height: '720', Codec: 'h264' } },
                  },
                }
              : {}),
          },
          Workflow: {
            RunId: execution.runId,
            WorkflowId: execution.workflowId,
            WorkflowName: execution.workflowName,
            Name: task.name,
          },
        },
      ];
    }),
    NonExistJobIds: ids.filter((_id, index) => found[index] === undefined),
  });
}

/** The times every job answer carries, in CI's format; a job not yet started or ended has them empty. */
function jobTimes(times: {
  readonly createdAt: Date;
  readonly startedAt?: Date | undefined;
  readonly endedAt?: Date | undefined;
}) {
  return {
    CreationTime: compactOffsetTime(times.createdAt),
    StartTime: times.startedAt ? compactOffsetTime(times.startedAt) : '',
    EndTime: times.endedAt ? compactOffsetTime(times.endedAt) : '',
  };
}

function batchJobXml(job: BatchJobView) {
  return {
    Code: job.state === 'Success' ? 'Success' : '',
    Message:
      job.objectKeys.length === 0 && job.source.kind !== 'prefix' ? 'the emulator has no files to read' : '',
    JobId: job.jobId,
    Name: job.name,
    Tag: 'Workflow',
    Progress: String(job.progress),
    State: job.state,
    ...jobTimes(job),
    QueueId: 'p2242ab62c7c94486915508540933a2c6',
    Input: encodeBatchTriggerInput(job.source),
    Operation: {
      WorkflowIds: job.workflowId,
      ...(job.windowStart || job.windowEnd
        ? {
            TimeInterval: {
              Start: job.windowStart ? compactOffsetTime(job.windowStart) : '',
              End: job.windowEnd ? compactOffsetTime(job.windowEnd) : '',
            },
          }
        : {}),
    },
  };
}

function checkName(name: string | null | undefined, required: boolean): string | undefined {
  if (name === null || name === undefined || name === '') {
    if (required) throw invalid('Name is required');
    return undefined;
  }
  if ([...name].length > MAX_NAME_LENGTH) throw invalid(`name is longer than ${MAX_NAME_LENGTH} characters`);
  return name;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function refusal(error: unknown): HttpError {
  if (error instanceof UnknownWorkflow) {
    return new HttpError(400, 'ResourceNotFound', `workflow ${error.message} does not exist`);
  }
  if (error instanceof PausedWorkflow) {
    return new HttpError(400, 'InvalidArgument', `workflow ${error.message} is paused: it starts no runs`);
  }
  return error instanceof HttpError ? error : new HttpError(500, 'InternalError', 'The emulator failed');
}
