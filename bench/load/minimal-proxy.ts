/**
 * The baseline a GraphQL gateway has to beat: a hand-written proxy that answers the load run's one query shape with
 * no GraphQL at all. It does the same upstream work as the gateway (a q-sign signature per call, an undici
 * keep-alive pool, fast-xml-parser, an HMAC-signed cursor per edge, one detail call per run for tasks) and nothing
 * else: no validation, no schema, no error mapping, no limits.
 *
 * POST any path with `{ "variables": { "workflowId", "first", "withTasks" } }`.
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

interface Execution {
  RunId: string;
  WorkflowId: string;
  Object: string;
  State: string;
  CreateTime: string;
}

async function executions(workflowId: string, first: number, withTasks: boolean) {
  const edges: Array<{ cursor: string; node: Record<string, unknown> }> = [];
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
      (page['WorkflowExecutionList'] as Execution[] | undefined) ?? []
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
  if (withTasks) {
    await Promise.all(
      edges.map(async (edge) => {
        const detail = (await get(`/workflowexecution/${edge.node['runId']}`, []))['WorkflowExecution'] as {
          Tasks?: Array<Record<string, string>>;
        };
        edge.node['tasks'] = (detail.Tasks ?? []).map((task) => ({
          type: task['Type'],
          state: task['State'],
        }));
      }),
    );
  }
  return {
    data: {
      workflowExecutions: {
        edges,
        pageInfo: { hasNextPage: token !== undefined, endCursor: edges.at(-1)?.cursor ?? null },
      },
    },
  };
}

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    if (request.method !== 'POST') {
      response.end('ok');
      return;
    }
    const { variables } = JSON.parse(Buffer.concat(chunks).toString()) as {
      variables: { workflowId: string; first: number; withTasks?: boolean };
    };
    executions(variables.workflowId, variables.first, variables.withTasks === true).then(
      (result) => {
        const body = JSON.stringify(result);
        response.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        });
        response.end(body);
      },
      (error: unknown) => {
        response.writeHead(502, { 'content-type': 'text/plain' });
        response.end(String(error));
      },
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', port: (server.address() as AddressInfo).port })}\n`,
  );
});
