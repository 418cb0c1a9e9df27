/**
 * The baseline a GraphQL gateway has to beat: a hand-written proxy that answers the load run's one query shape with
 * no GraphQL at all. It does the same upstream work as the gateway (`baseline-upstream.ts`) and nothing else.
 *
 * POST any path with `{ "variables": { "workflowId", "first", "withTasks" } }`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Execution, executions, type Task, tasks } from './baseline-upstream.js';

async function answer(workflowId: string, first: number, withTasks: boolean) {
  const page = await executions(workflowId, first);
  if (withTasks) {
    await Promise.all(
      page.edges.map(async (edge) => {
        (edge.node as Execution & { tasks?: Task[] }).tasks = await tasks(edge.node.runId);
      }),
    );
  }
  return { data: { workflowExecutions: page } };
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
    answer(variables.workflowId, variables.first, variables.withTasks === true).then(
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
