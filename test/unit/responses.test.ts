import { describe, expect, it } from 'vitest';
import { CiError } from '../../src/ci/errors.js';
import { assume, bucketIdRule } from '../../src/ci/inputs.js';
import {
  decodeErrorBody,
  decodeListWorkflowExecutions,
  decodeWorkflowExecutionDetail,
  decodeWorkflowLookup,
} from '../../src/ci/responses.js';

const BUCKET = assume(bucketIdRule, 'demo-1250000000');
// Ids as CI issues them: a letter for the kind and 32 hex digits.
const RUN_1 = `i${'1'.repeat(32)}`;
const RUN_2 = `i${'2'.repeat(32)}`;
const RUN_A = `i${'a'.repeat(32)}`;
const WORKFLOW_1 = `w${'1'.repeat(32)}`;
const WORKFLOW_2 = `w${'2'.repeat(32)}`;
/** A media job id made from a task's name, so each task's job is told apart. */
const jobIdOf = (name: string) => `j${Buffer.from(name).toString('hex').padEnd(32, '0')}`;

const execution = (runId: string, time = '<CreateTime>2022-08-09T14:54:17+08:00</CreateTime>') =>
  `<WorkflowExecutionList><RunId>${runId}</RunId><WorkflowId>${WORKFLOW_1}</WorkflowId><Object>wk-test/game.mp4</Object>` +
  `${time}<State>Success</State></WorkflowExecutionList>`;
const listBody = (items: string, tail = '') =>
  `<?xml version="1.0" encoding="utf-8"?><Response><RequestId>req-1</RequestId>${items}${tail}</Response>`;

function unreadable(run: () => unknown): CiError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CiError);
    expect((error as CiError).kind).toBe('unreadable_response');
    return error as CiError;
  }
  throw new Error('expected an unreadable_response error');
}

describe('decodeListWorkflowExecutions', () => {
  it('reads the seed page verbatim, keeping the token a string', () => {
    const page = decodeListWorkflowExecutions(
      listBody(execution(RUN_1) + execution(RUN_2), '<NextToken>0115716</NextToken>'),
      BUCKET,
    );
    expect(page.requestId).toBe('req-1');
    expect(page.nextToken).toBe('0115716');
    expect(page.executions).toEqual([
      {
        // The bucket is the host the answer came from: the client adds it.
        bucketId: BUCKET,
        runId: RUN_1,
        workflowId: WORKFLOW_1,
        objectKey: 'wk-test/game.mp4',
        state: 'Success',
        createdAt: new Date('2022-08-09T06:54:17Z'),
      },
      {
        bucketId: BUCKET,
        runId: RUN_2,
        workflowId: WORKFLOW_1,
        objectKey: 'wk-test/game.mp4',
        state: 'Success',
        createdAt: new Date('2022-08-09T06:54:17Z'),
      },
    ]);
  });

  it('reads zero and one items as lists', () => {
    expect(decodeListWorkflowExecutions(listBody(''), BUCKET).executions).toEqual([]);
    expect(
      decodeListWorkflowExecutions(listBody(execution(RUN_A)), BUCKET).executions.map((e) => e.runId),
    ).toEqual([RUN_A]);
  });

  it('treats an empty or absent NextToken as the last page', () => {
    expect(
      decodeListWorkflowExecutions(listBody(execution(RUN_A), '<NextToken></NextToken>'), BUCKET).nextToken,
    ).toBeNull();
    expect(
      decodeListWorkflowExecutions(listBody(execution(RUN_A), '<NextToken/>'), BUCKET).nextToken,
    ).toBeNull();
    expect(decodeListWorkflowExecutions(listBody(execution(RUN_A)), BUCKET).nextToken).toBeNull();
  });

  it('accepts CreationTime in place of CreateTime', () => {
    const page = decodeListWorkflowExecutions(
      listBody(execution(RUN_A, '<CreationTime>2022-08-09 14:54:17+0800</CreationTime>')),
      BUCKET,
    );
    expect(page.executions[0]?.createdAt).toEqual(new Date('2022-08-09T06:54:17Z'));
  });

  it('decodes entities in object keys', () => {
    const body = listBody(execution(RUN_A).replace('wk-test/game.mp4', 'a &amp; b/&lt;c&gt; 视频+1.mp4'));
    expect(decodeListWorkflowExecutions(body, BUCKET).executions[0]?.objectKey).toBe('a & b/<c> 视频+1.mp4');
  });

  it.each([
    ['an HTML page', '<html><body>Bad gateway</body></html>'],
    ['an empty body', ''],
    ['truncated XML', listBody(execution(RUN_A)).slice(0, 80)],
    ['JSON', '{"Response":{}}'],
    ['an unknown state', listBody(execution(RUN_A).replace('Success', 'Exploded'))],
    ['an unparseable time', listBody(execution(RUN_A, '<CreateTime>yesterday</CreateTime>'))],
    ['a missing time', listBody(execution(RUN_A, ''))],
    ['a missing run id', listBody(execution('').replace('<RunId></RunId>', ''))],
    ['a run id that is not one', listBody(execution('i1'))],
    ['a workflow id that is not one', listBody(execution(RUN_A).replace(WORKFLOW_1, 'w1'))],
    ['an Error body with status 200', '<Error><Code>InternalError</Code></Error>'],
  ])('rejects %s as unreadable', (_name, body) => {
    unreadable(() => decodeListWorkflowExecutions(body, BUCKET));
  });
});

describe('decodeWorkflowExecutionDetail', () => {
  const detail = (tasks: string) =>
    `<Response><RequestId>r</RequestId><WorkflowExecution><RunId>${RUN_1}</RunId><WorkflowId>${WORKFLOW_1}</WorkflowId>` +
    `<WorkflowName>ignored when Name is present</WorkflowName><Name>demo</Name><Object>a b.mp4</Object>` +
    `<CreateTime>2022-08-09T14:54:17+08:00</CreateTime><State>Failed</State>` +
    `<Topology><Dependencies><Start>Snapshot_1581665960536</Start></Dependencies><Nodes><Snapshot_1581665960536>` +
    `<Type>Snapshot</Type></Snapshot_1581665960536></Nodes></Topology>${tasks}</WorkflowExecution></Response>`;
  const taskXml = (name: string) =>
    `<Tasks><Type>Transcode</Type><State>Failed</State><JobId>${jobIdOf(name)}</JobId><Name>${name}</Name>` +
    `<CreateTime>2022-08-09 14:54:40+0800</CreateTime><StartTime>2022-08-09 14:54:41+0800</StartTime>` +
    `<EndTime></EndTime><Code>InternalError</Code><Message>boom</Message><TemplateId>t1</TemplateId>` +
    `<TemplateName>HD</TemplateName><ResultInfo><ObjectCount>0</ObjectCount></ResultInfo></Tasks>`;

  it('reads one task as a list and keeps the workflow name', () => {
    const result = decodeWorkflowExecutionDetail(detail(taskXml('one')), BUCKET);
    expect(result.workflowName).toBe('demo');
    expect(result.state).toBe('Failed');
    expect(result.bucketId).toBe(BUCKET);
    expect(result.tasks).toEqual([
      {
        bucketId: BUCKET,
        type: 'Transcode',
        name: 'one',
        state: 'Failed',
        jobId: jobIdOf('one'),
        templateId: 't1',
        templateName: 'HD',
        code: 'InternalError',
        message: 'boom',
        createdAt: new Date('2022-08-09T06:54:40Z'),
        startedAt: new Date('2022-08-09T06:54:41Z'),
        endedAt: undefined,
      },
    ]);
  });

  it('reads zero and many tasks', () => {
    expect(decodeWorkflowExecutionDetail(detail(''), BUCKET).tasks).toEqual([]);
    expect(
      decodeWorkflowExecutionDetail(detail(taskXml('a') + taskXml('b')), BUCKET).tasks.map((t) => t.name),
    ).toEqual(['a', 'b']);
  });

  it('rejects a body without an execution', () => {
    unreadable(() => decodeWorkflowExecutionDetail('<Response><RequestId>r</RequestId></Response>', BUCKET));
  });
});

describe('decodeWorkflowLookup', () => {
  const workflow = (id: string) =>
    `<MediaWorkflowList><Name>wf ${id}</Name><State>Active</State><WorkflowId>${id}</WorkflowId>` +
    `<BucketId>demo-1250000000</BucketId><CreateTime>2022-06-29T14:37:44+0800</CreateTime>` +
    `<UpdateTime>2022-06-29T14:37:44+0800</UpdateTime><Topology/></MediaWorkflowList>`;

  it('reads workflows and missing ids, one or many of each', () => {
    const result = decodeWorkflowLookup(
      `<Response><RequestId>r</RequestId><TotalCount>1</TotalCount>${workflow(WORKFLOW_1)}<NonExistIDs>w9</NonExistIDs></Response>`,
      BUCKET,
    );
    expect(result.workflows.map((w) => [w.workflowId, w.name, w.state])).toEqual([
      [WORKFLOW_1, `wf ${WORKFLOW_1}`, 'Active'],
    ]);
    expect(result.nonExistIds).toEqual(['w9']);
    const many = decodeWorkflowLookup(
      `<Response>${workflow(WORKFLOW_1)}${workflow(WORKFLOW_2)}<NonExistIDs>a</NonExistIDs><NonExistIDs>b</NonExistIDs></Response>`,
      BUCKET,
    );
    expect(many.workflows).toHaveLength(2);
    expect(many.nonExistIds).toEqual(['a', 'b']);
  });

  it('reads an empty NonExistIDs tag as no missing ids', () => {
    expect(
      decodeWorkflowLookup(`<Response>${workflow(WORKFLOW_1)}<NonExistIDs></NonExistIDs></Response>`, BUCKET)
        .nonExistIds,
    ).toEqual([]);
  });

  it('reads the Start node’s NotifyConfig, whatever the other nodes hold, and none where there is none', () => {
    /** The NotifyConfig decoded from a workflow with this topology. */
    const notifyOf = (topology: string) =>
      decodeWorkflowLookup(
        `<Response>${workflow(WORKFLOW_1).replace('<Topology/>', `<Topology>${topology}</Topology>`)}</Response>`,
        BUCKET,
      ).workflows[0]?.notifyConfig;
    const notify =
      '<NotifyConfig><Type>Url</Type><Url>https://hooks.example.com/ci?key=s3cret</Url>' +
      '<Event>TaskFinish,WorkflowFinish</Event><ResultFormat>JSON</ResultFormat><State>On</State></NotifyConfig>';
    expect(
      notifyOf(
        '<Dependencies><Start>Transcode_1</Start><Transcode_1>End</Transcode_1></Dependencies><Nodes>' +
          `<Start><Type>Start</Type><Input><QueueId>p1</QueueId><ObjectPrefix>in/</ObjectPrefix>${notify}</Input></Start>` +
          '<Transcode_1><Type>Transcode</Type><Operation><TemplateId>t1</TemplateId></Operation></Transcode_1>' +
          '</Nodes>',
      ),
    ).toEqual({
      enabled: true,
      type: 'Url',
      url: 'https://hooks.example.com/ci?key=s3cret',
      events: ['TaskFinish', 'WorkflowFinish'],
      resultFormat: 'JSON',
      queueName: undefined,
    });
    expect(
      notifyOf(
        '<Nodes><Begin><Type>Start</Type><Input><NotifyConfig><Type>TDMQ</Type><MqName>topic-1</MqName>' +
          '<State>Off</State></NotifyConfig></Input></Begin></Nodes>',
      ),
    ).toMatchObject({
      enabled: false,
      type: 'TDMQ',
      queueName: 'topic-1',
    });
    expect(
      notifyOf('<Nodes><Start><Type>Start</Type><Input><QueueId>p1</QueueId></Input></Start></Nodes>'),
    ).toBeUndefined();
    expect(
      decodeWorkflowLookup(`<Response>${workflow(WORKFLOW_1)}</Response>`, BUCKET).workflows[0]?.notifyConfig,
    ).toBeUndefined();
  });
});

describe('decodeErrorBody', () => {
  it('reads Error and Response roots', () => {
    expect(
      decodeErrorBody('<Error><Code>SlowDown</Code><Message>slow</Message><RequestId>r1</RequestId></Error>'),
    ).toEqual({
      code: 'SlowDown',
      message: 'slow',
      requestId: 'r1',
    });
    expect(decodeErrorBody('<Response><Code>InvalidArgument</Code></Response>')?.code).toBe(
      'InvalidArgument',
    );
  });
  it('returns undefined for bodies that are not errors', () => {
    expect(decodeErrorBody('<html>')).toBeUndefined();
    expect(decodeErrorBody('')).toBeUndefined();
  });
});
