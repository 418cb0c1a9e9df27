/**
 * The emulator's console calls, as strict as the reads: trigger, pause and activate, batch (inventory) triggers
 * and media jobs. Each answers in CI's shapes; what they change lives in `world.ts`.
 */
import { encodeBatchTriggerInput } from '../ci/job-responses.js';
import { type BatchTriggerSource, JOB_STATES } from '../ci/types.js';
import { parseXml } from '../ci/xml.js';
import { isRecord } from '../records.js';
import type { CallContext } from './context.js';
import { inWindow, parseListQuery, tokenPage } from './list-paging.js';
import { HttpError, invalid, parseStates, parseTime } from './params.js';
import { type BatchJobView, PausedWorkflow, UnknownWorkflow } from './world.js';
import { compactOffsetTime, xmlDocument } from './xml-writer.js';

/** The most media job ids one `GET /jobs/…` takes here (CI documents none). */
export const MAX_JOB_IDS = 50;
const MAX_NAME_LENGTH = 128;

export function trigger(context: CallContext, query: URLSearchParams): string {
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

export function setState(context: CallContext, workflowId: string, query: URLSearchParams): string {
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

export function startBatchJob(context: CallContext, body: string): string {
  let request: Record<string, unknown>;
  try {
    request = element(parseXml(body)['Request']);
  } catch {
    throw new HttpError(400, 'MissingContent', 'The request body is not the XML expected');
  }
  const name = text(request['Name']);
  if (name === undefined) throw invalid('Name is required');
  checkName(name, true);
  if (text(request['Type']) !== 'Workflow') throw invalid('Type must be Workflow');
  const input = element(request['Input']);
  const prefix = text(input['Prefix']);
  const manifest = text(input['Manifest']);
  const urlFile = text(input['UrlFile']);
  const objects = [input['Object']]
    .flat()
    .map(text)
    .filter((key): key is string => key !== undefined);
  const sources: BatchTriggerSource[] = [
    ...(prefix === undefined ? [] : [{ kind: 'prefix' as const, prefix }]),
    ...(objects.length > 0 ? [{ kind: 'objects' as const, objectKeys: objects }] : []),
    ...(manifest === undefined ? [] : [{ kind: 'manifest' as const, manifest }]),
    ...(urlFile === undefined ? [] : [{ kind: 'urlFile' as const, urlFile }]),
  ];
  const [source] = sources;
  if (source === undefined || sources.length !== 1) {
    throw invalid('Input takes exactly one of Prefix, Object, Manifest and UrlFile');
  }
  const operation = element(request['Operation']);
  const workflowId = text(operation['WorkflowIds']);
  if (!workflowId || workflowId.includes(',')) throw invalid('Operation.WorkflowIds must name one workflow');
  const interval = element(operation['TimeInterval']);
  const start = parseTime(text(interval['Start']) ?? null, 'TimeInterval.Start');
  const end = parseTime(text(interval['End']) ?? null, 'TimeInterval.End');
  try {
    const job = context.world.startBatchJob(
      {
        name,
        workflowId,
        source,
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

export function describeBatchJobs(context: CallContext, jobIds: readonly string[]): string {
  const found = jobIds.map((id) => context.world.batchJob(id, context.now()));
  return xmlDocument('Response', {
    RequestId: context.requestId,
    JobsDetail: found.filter((job): job is BatchJobView => job !== undefined).map(batchJobXml),
    NonExistJobIds: jobIds.filter((_id, index) => found[index] === undefined),
  });
}

export function listBatchJobs(context: CallContext, query: URLSearchParams): string {
  if (query.get('type') !== 'Workflow') throw invalid('type must be Workflow');
  const list = parseListQuery(query);
  const states = parseStates(query.get('states'), JOB_STATES);
  const workflowId = query.get('workflowId') ?? undefined;
  const matching = context.world
    .batchJobs(context.now())
    .filter(
      (job) =>
        (workflowId === undefined || job.workflowId === workflowId) &&
        (states === undefined || states.includes(job.state)) &&
        inWindow(list, job.createdAt),
    );
  const { page, nextToken } = tokenPage(
    context,
    query,
    list,
    ['batch', workflowId, states?.toSorted()],
    matching,
    (job) => job.jobId,
  );
  return xmlDocument('Response', {
    RequestId: context.requestId,
    JobsDetail: page.map(batchJobXml),
    NextToken: nextToken,
  });
}

export function cancelBatchJob(context: CallContext, jobId: string, query: URLSearchParams): string {
  if (!query.has('cancel')) throw invalid('say ?cancel');
  if (!context.world.cancelBatchJob(jobId, context.now())) {
    throw new HttpError(400, 'ResourceNotFound', `batch trigger job ${jobId} does not exist`);
  }
  return '';
}

export function describeMediaJobs(context: CallContext, idList: string): string {
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

/** An XML element's children; an absent or empty element has none. */
function element(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
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
