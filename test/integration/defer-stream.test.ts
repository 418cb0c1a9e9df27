/**
 * `@defer` and `@stream` for the fields that cost CI calls: the first part arrives after the list call alone, the
 * deferred parts follow within the same request (its deadline, budget and scopes), over multipart/mixed and SSE, and
 * Apollo Client 4 and urql read them.
 */
import { ApolloClient, gql as apolloGql, HttpLink, InMemoryCache } from '@apollo/client';
import { Defer20220824Handler } from '@apollo/client/incremental';
import { Client, fetchExchange, gql } from '@urql/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { faults } from '../../src/emulator/server.js';
import { type GatewayFixture, startGateway } from '../support/gateway.js';
import { demoExecutions, expectedRunIds } from '../support/oracle.js';

const LARGE = DEMO_WORKFLOW_IDS.large;
const DEFERRED_TASKS = `query Deferred {
  workflowExecutions(filter: { workflowId: "${LARGE}" }, first: 3) {
    edges { node { runId state ... @defer(label: "tasks") { tasks { type state } } } }
  }
}`;

let fixture: GatewayFixture;
beforeAll(async () => {
  fixture = await startGateway();
});
afterAll(() => fixture.close());

/** The parts of a multipart/mixed answer, each parsed, with the upstream calls made when it arrived. */
async function multipartParts(query: string, accept = 'multipart/mixed') {
  fixture.emulator.clearRequests();
  const response = await fixture.gateway.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept },
    body: JSON.stringify({ query }),
  });
  expect(response.headers.get('content-type')).toContain(
    accept.startsWith('multipart') ? 'multipart/mixed' : accept,
  );
  if (!response.body) throw new Error('no body');
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const parts: Array<{ value: Record<string, unknown>; upstreamCallsSoFar: number }> = [];
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    const pattern = accept.startsWith('multipart') ? /\r\n\r\n(\{.*?\})\r\n---/s : /data: (\{.*\})\n\n/;
    for (let match = pattern.exec(buffer); match; match = pattern.exec(buffer)) {
      parts.push({
        value: JSON.parse(match[1] as string) as Record<string, unknown>,
        upstreamCallsSoFar: fixture.emulator.requests.length,
      });
      buffer = buffer.slice((match.index ?? 0) + match[0].length - (accept.startsWith('multipart') ? 3 : 0));
    }
  }
  return parts;
}

describe('@defer', () => {
  it('sends the runs after the list call alone, then each run’s tasks, over multipart/mixed', async () => {
    const parts = await multipartParts(DEFERRED_TASKS);
    const first = parts[0];
    if (!first) throw new Error('no part arrived');
    expect(first.value['hasNext']).toBe(true);
    const edges = (first.value['data'] as { workflowExecutions: { edges: Array<{ node: object }> } })
      .workflowExecutions.edges;
    expect(edges.map((edge) => Object.keys(edge.node))).toEqual([
      ['runId', 'state'],
      ['runId', 'state'],
      ['runId', 'state'],
    ]);
    expect(first.upstreamCallsSoFar).toBe(1);
    const incremental = parts
      .slice(1)
      .flatMap(
        (part) => (part.value['incremental'] as Array<{ data: { tasks: unknown[] } }> | undefined) ?? [],
      );
    expect(incremental).toHaveLength(3);
    const executions = new Map(demoExecutions().map((run) => [run.runId, run]));
    const runIds = expectedRunIds().slice(0, 3);
    expect(
      incremental.map((part) => (part.data.tasks as Array<{ type: string }>).map((task) => task.type)),
    ).toEqual(runIds.map((runId) => executions.get(runId)?.tasks.map((task) => task.type)));
    expect(parts.at(-1)?.value['hasNext']).toBe(false);
  });

  it('logs the request once its last part is sent, with every part’s CI calls', async () => {
    const before = fixture.logLines.length;
    // Running runs: their details are never cached, so each deferred part reads CI.
    const parts = await multipartParts(
      DEFERRED_TASKS.replace(`workflowId: "${LARGE}" }`, `workflowId: "${LARGE}", states: [RUNNING] }`),
    );
    await expect
      .poll(() => fixture.logLines.slice(before).filter((line) => line['msg'] === 'graphql request'))
      .toHaveLength(1);
    const line = fixture.logLines.slice(before).find((entry) => entry['msg'] === 'graphql request');
    const upstream = (line?.['upstream'] ?? []) as Array<{ operation: string }>;
    // The list call for the first part, then one detail read per run for the deferred parts.
    expect(upstream.map((attempt) => attempt.operation)).toEqual([
      'ListWorkflowExecutions',
      'GetWorkflowExecution',
      'GetWorkflowExecution',
      'GetWorkflowExecution',
    ]);
    expect(line).toMatchObject({ operation: 'query Deferred', status: 200, upstreamCalls: 4 });
    expect(parts.at(-1)?.value['hasNext']).toBe(false);
  });

  it('answers over SSE too', async () => {
    const parts = await multipartParts(DEFERRED_TASKS, 'text/event-stream');
    expect(parts[0]?.value['hasNext']).toBe(true);
    expect(parts[0]?.upstreamCallsSoFar).toBe(1);
    const incremental = parts
      .slice(1)
      .flatMap(
        (part) =>
          (part.value['incremental'] as Array<{ data: { tasks: unknown[] }; errors?: unknown }>) ?? [],
      );
    expect(incremental.map((part) => [part.data.tasks.length, part.errors])).toEqual([
      [2, undefined],
      [2, undefined],
      [2, undefined],
    ]);
    expect(parts.at(-1)?.value['hasNext']).toBe(false);
  });

  it('holds deferred parts to the request’s deadline: a hanging detail read is UPSTREAM_TIMEOUT in its part', async () => {
    const quick = await startGateway({ requestTimeoutMs: 400, client: { timeoutMs: 60_000 } });
    try {
      quick.emulator.script(faults.hang(), 10, '/workflowexecution/');
      const response = await quick.gateway.fetch('http://gateway/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'multipart/mixed' },
        body: JSON.stringify({ query: DEFERRED_TASKS }),
      });
      const text = await response.text();
      expect(text).toContain('UPSTREAM_TIMEOUT');
      expect(text).not.toContain('REQUEST_CANCELLED');
    } finally {
      quick.emulator.clearScript();
      await quick.close();
    }
  });

  it('is read by Apollo Client 4 (its 2022-08-24 incremental handler) and by urql', async () => {
    const apollo = new ApolloClient({
      link: new HttpLink({
        uri: 'http://gateway/graphql',
        fetch: async (input, init) => fixture.gateway.fetch(new Request(String(input), init)),
      }),
      cache: new InMemoryCache(),
      incrementalHandler: new Defer20220824Handler(),
    });
    const viaApollo = await apollo.query<{
      workflowExecutions: { edges: Array<{ node: { runId: string; tasks?: unknown[] } }> };
    }>({ query: apolloGql(DEFERRED_TASKS), fetchPolicy: 'no-cache' });
    expect(viaApollo.data?.workflowExecutions.edges.map((edge) => edge.node.tasks?.length)).toEqual([
      2, 2, 2,
    ]);

    const urql = new Client({
      url: 'http://gateway/graphql',
      exchanges: [fetchExchange],
      preferGetMethod: false,
      fetch: async (input, init) => fixture.gateway.fetch(new Request(String(input), init)),
    });
    const results: Array<Array<number | undefined>> = [];
    await new Promise<void>((resolve) => {
      const { unsubscribe } = urql.query(gql(DEFERRED_TASKS), {}).subscribe((result) => {
        const edges = (
          result.data as { workflowExecutions: { edges: Array<{ node: { tasks?: unknown[] } }> } }
        ).workflowExecutions.edges;
        results.push(edges.map((edge) => edge.node.tasks?.length));
        if (!result.hasNext) {
          unsubscribe();
          resolve();
        }
      });
    });
    expect(results[0]).toEqual([undefined, undefined, undefined]);
    expect(results.at(-1)).toEqual([2, 2, 2]);
  });
});
