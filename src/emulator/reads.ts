/** The emulator's reads: the executions list, one execution with its tasks, and the workflow search. */
import { EXECUTION_STATES } from '../ci/types.js';
import type { CallContext } from './context.js';
import { inWindow, parseListQuery, tokenPage } from './list-paging.js';
import { HttpError, invalid, parseBoundedInteger, parseStates } from './params.js';
import { compactOffsetTime, rfc3339Time, spacedTime, xmlDocument } from './xml-writer.js';

export function listExecutions(context: CallContext, query: URLSearchParams): string {
  const workflowId = query.get('workflowId');
  if (!workflowId) throw invalid('workflowId is required');
  const list = parseListQuery(query);
  const states = parseStates(query.get('states'), EXECUTION_STATES);
  const name = query.get('name') ?? undefined;
  const jobId = query.get('jobId') ?? undefined;
  const matching = context.world
    .executionsOf(workflowId, context.now())
    .filter(
      (e) =>
        (name === undefined || e.objectKey === name) &&
        (states === undefined || states.includes(e.state)) &&
        inWindow(list, e.createdAt) &&
        (jobId === undefined || e.batchJobId === jobId),
    );
  const { page, nextToken } = tokenPage(
    context,
    query,
    list,
    [workflowId, name, states?.toSorted(), jobId],
    matching,
    (e) => e.runId,
  );
  return xmlDocument('Response', {
    RequestId: context.requestId,
    WorkflowExecutionList: page.map((e) => ({
      RunId: e.runId,
      WorkflowId: e.workflowId,
      Object: e.objectKey,
      CreateTime: rfc3339Time(e.createdAt),
      State: e.state,
    })),
    NextToken: nextToken,
  });
}

export function executionDetail(context: CallContext, runId: string): string {
  const execution = context.world.execution(runId, context.now());
  if (!execution) throw new HttpError(400, 'ResourceNotFound', `workflow execution ${runId} does not exist`);
  return xmlDocument('Response', {
    RequestId: context.requestId,
    WorkflowExecution: {
      RunId: execution.runId,
      WorkflowId: execution.workflowId,
      Name: execution.workflowName,
      Object: execution.objectKey,
      CreateTime: rfc3339Time(execution.createdAt),
      State: execution.state,
      Topology: {
        Dependencies: { Start: 'Snapshot_1581665960536', Snapshot_1581665960536: 'End' },
        Nodes: { Snapshot_1581665960536: { Type: 'Snapshot' } },
      },
      Tasks: execution.tasks.map((t) => ({
        Type: t.type,
        State: t.state,
        JobId: t.jobId,
        Name: t.name,
        CreateTime: spacedTime(t.createdAt),
        StartTime: spacedTime(t.startedAt),
        EndTime: spacedTime(t.endedAt),
        Code: t.code,
        Message: t.message,
        TemplateId: t.templateId,
        TemplateName: t.templateName,
      })),
    },
  });
}

/** The page `pageNumber` and `pageSize` ask for (10 by default) of what a page-numbered call found. */
function numberedPage<T>(query: URLSearchParams, found: readonly T[]) {
  const pageNumber = parseBoundedInteger(
    query.get('pageNumber'),
    'pageNumber',
    1,
    1,
    Number.MAX_SAFE_INTEGER,
  );
  const pageSize = parseBoundedInteger(query.get('pageSize'), 'pageSize', 10, 1, 100);
  return {
    TotalCount: String(found.length),
    PageNumber: String(pageNumber),
    PageSize: String(pageSize),
    page: found.slice((pageNumber - 1) * pageSize, pageNumber * pageSize),
  };
}

export function searchWorkflows(context: CallContext, query: URLSearchParams): string {
  const ids = query.get('ids')?.split(',').filter(Boolean);
  const name = query.get('name') ?? undefined;
  const workflows = context.world.workflows();
  const found = workflows.filter(
    (w) => (ids === undefined || ids.includes(w.workflowId)) && (name === undefined || w.name === name),
  );
  const { page, ...counts } = numberedPage(query, found);
  const known = new Set(workflows.map((w) => w.workflowId));
  return xmlDocument('Response', {
    RequestId: context.requestId,
    ...counts,
    MediaWorkflowList: page.map((w) => ({
      Name: w.name,
      State: w.state,
      WorkflowId: w.workflowId,
      BucketId: w.bucketId,
      CreateTime: compactOffsetTime(w.createdAt),
      UpdateTime: compactOffsetTime(w.updatedAt),
      Topology: {
        Dependencies: { Start: 'End' },
        Nodes: {
          Start: {
            Type: 'Start',
            Input: {
              QueueId: 'p0000000000000000000000000000demo',
              ObjectPrefix: 'uploads/',
              NotifyConfig: context.callbackUrl && {
                Type: 'Url',
                Url: context.callbackUrl,
                Event: 'TaskFinish,WorkflowFinish',
                ResultFormat: 'XML',
                State: 'On',
              },
            },
          },
        },
      },
    })),
    NonExistIDs: (ids ?? []).filter((id) => !known.has(id)),
  });
}

/** `GET /mediabucket`: the account's buckets with CI enabled, narrowed by region and exact names. */
export function describeMediaBuckets(context: CallContext, query: URLSearchParams): string {
  const regions = query.get('regions')?.split(',').filter(Boolean);
  const names = query.get('bucketNames')?.split(',').filter(Boolean);
  const prefix = query.get('bucketName') ?? '';
  const found = context.mediaBuckets.filter(
    (bucket) =>
      (regions === undefined || regions.includes('All') || regions.includes(bucket.region)) &&
      (names === undefined || names.includes(bucket.bucketId)) &&
      bucket.bucketId.startsWith(prefix),
  );
  const { page, ...counts } = numberedPage(query, found);
  return xmlDocument('Response', {
    RequestId: context.requestId,
    ...counts,
    MediaBucketList: page.map((bucket) => ({
      BucketId: bucket.bucketId,
      Name: bucket.bucketId.replace(/-\d+$/, ''),
      Region: bucket.region,
      CreateTime: rfc3339Time(bucket.createdAt),
    })),
  });
}
