/**
 * The upstream work both baselines do, written once: a q-sign signature per call, an undici keep-alive pool,
 * fast-xml-parser, an HMAC-signed cursor per edge, one detail call per run for tasks. No validation, no error
 * mapping, no limits: the least a server can do and still answer the load run's query.
 */
import { createHmac } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { Agent } from 'undici';
import { encodePath, encodeQuery } from '../../src/ci/encoding.js';
import { formatKeyTime, signRequest } from '../../src/ci/signer.js';

// The same variables the gateway reads.
const upstream = new URL(process.env['CI_ENDPOINT'] ?? 'http://127.0.0.1:9100');
const credentials = {
  secretId: process.env['TENCENTCLOUD_SECRET_ID'] ?? '',
  secretKey: process.env['TENCENTCLOUD_SECRET_KEY'] ?? '',
};
const agent = new Agent({ connections: 128, keepAliveTimeout: 30_000 });
const cursorKey = Buffer.from('minimal-proxy-cursor-key-0123456789');
const parser = new XMLParser({
  parseTagValue: false,
  isArray: (name) => name === 'WorkflowExecutionList' || name === 'Tasks',
});

async function get(path: string, query: Array<[string, string]>): Promise<Record<string, unknown>> {
  const { authorization } = signRequest(
    { method: 'GET', path, query, headers: [['host', upstream.host]] },
    credentials,
    formatKeyTime(Date.now()),
  );
  const response = await agent.request({
    origin: upstream.origin,
    path: encodePath(path) + encodeQuery(query),
    method: 'GET',
    headers: { host: upstream.host, authorization },
  });
  return (parser.parse(await response.body.text()) as { Response: Record<string, unknown> }).Response;
}

interface ExecutionItem {
  RunId: string;
  WorkflowId: string;
  Object: string;
  State: string;
  CreateTime: string;
}

export interface Execution {
  runId: string;
  objectKey: string;
  state: string;
  createdAt: string;
}

export interface Task {
  type: string | undefined;
  state: string | undefined;
}

export interface ExecutionPage {
  edges: Array<{ cursor: string; node: Execution }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Up to `first` runs of a workflow, following upstream pages of at most 100. */
export async function executions(workflowId: string, first: number): Promise<ExecutionPage> {
  const edges: ExecutionPage['edges'] = [];
  let token: string | undefined;
  do {
    const size = Math.min(100, first - edges.length);
    const query: Array<[string, string]> = [
      ['workflowId', workflowId],
      ['size', String(size)],
    ];
    if (token) query.push(['nextToken', token]);
    const page = await get('/workflowexecution', query);
    for (const [index, item] of (
      (page['WorkflowExecutionList'] as ExecutionItem[] | undefined) ?? []
    ).entries()) {
      const payload = Buffer.from(JSON.stringify([workflowId, token ?? null, size, index + 1])).toString(
        'base64url',
      );
      const mac = createHmac('sha256', cursorKey)
        .update(payload)
        .digest()
        .subarray(0, 16)
        .toString('base64url');
      edges.push({
        cursor: `v1.${payload}.${mac}`,
        node: {
          runId: item.RunId,
          objectKey: item.Object,
          state: item.State.toUpperCase(),
          createdAt: new Date(item.CreateTime).toISOString(),
        },
      });
    }
    token = (page['NextToken'] as string | undefined) || undefined;
  } while (token && edges.length < first);
  return { edges, pageInfo: { hasNextPage: token !== undefined, endCursor: edges.at(-1)?.cursor ?? null } };
}

/** One run's tasks: its detail call. */
export async function tasks(runId: string): Promise<Task[]> {
  const detail = (await get(`/workflowexecution/${runId}`, []))['WorkflowExecution'] as {
    Tasks?: Array<Record<string, string>>;
  };
  return (detail.Tasks ?? []).map((task) => ({ type: task['Type'], state: task['State'] }));
}
