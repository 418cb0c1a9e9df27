/**
 * urql with its defaults (queries as GET within the URL limit), and graphcache, against a gateway that does not
 * need the CSRF header: the demo, or any gateway that requires a token or the router's secret.
 */

import { Client, cacheExchange, fetchExchange, gql } from '@urql/core';
import { cacheExchange as graphcache } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { describe, expect, it } from 'vitest';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { TASK_SECONDS } from '../../src/emulator/world.js';
import { manualClock } from '../support/console.js';
import { closeAfterEach, type GatewayFixture, startGateway } from '../support/gateway.js';
import { expectedRunIds } from '../support/oracle.js';

const track = closeAfterEach();
const TOKEN = 'callback-token-0123456789abcdef0123456789';
const LARGE = DEMO_WORKFLOW_IDS.large;

const PAGE = gql`
  query Page($after: String) {
    workflowExecutions(filter: { workflowId: "${LARGE}" }, first: 100, after: $after) {
      edges { node { id runId } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;
type Page = {
  workflowExecutions: {
    edges: Array<{ node: { runId: string } }>;
    pageInfo: { hasNextPage: boolean; endCursor: string };
  };
};

/** Every request urql sends, with its method, through the gateway's in-process fetch. */
function urql(
  fixture: GatewayFixture,
  exchanges = [cacheExchange, fetchExchange],
  fetchSubscriptions = false,
) {
  const methods: string[] = [];
  const client = new Client({
    url: 'http://gateway/graphql',
    exchanges,
    fetchSubscriptions,
    fetch: async (input, init) => {
      const request = new Request(String(input), init);
      methods.push(request.method);
      return fixture.gateway.fetch(request);
    },
  });
  return { client, methods };
}

async function demoLike() {
  const clock = manualClock();
  const fixture = track(
    await startGateway({
      csrfPrevention: false,
      emulator: { now: clock.now },
      gateway: { callbackToken: TOKEN },
    }),
  );
  return { fixture, clock };
}

describe('urql with its defaults', () => {
  it('walks every page with GET queries, then runs a mutation as a POST', async () => {
    const { fixture } = await demoLike();
    const { client, methods } = urql(fixture);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const result: { data?: Page; error?: unknown } = await client.query<Page>(PAGE, { after }).toPromise();
      expect(result.error).toBeUndefined();
      const page: Page['workflowExecutions'] = (result.data as Page).workflowExecutions;
      seen.push(...page.edges.map((edge) => edge.node.runId));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(expectedRunIds());
    const triggered = await client
      .mutation(
        gql`mutation { triggerWorkflow(input: { workflowId: "${LARGE}", objectKey: "urql/clip.mp4" }) { runId } }`,
        {},
      )
      .toPromise();
    expect(triggered.error).toBeUndefined();
    expect(new Set(methods)).toEqual(new Set(['GET', 'POST']));
    expect(methods.at(-1)).toBe('POST');
  });

  it('reads through graphcache with relayPagination, tasks keyed by nothing (they have no id)', async () => {
    const { fixture } = await demoLike();
    const warnings: unknown[] = [];
    const { client } = urql(fixture, [
      graphcache({
        keys: { WorkflowTask: () => null, PageInfo: () => null },
        resolvers: { Query: { workflowExecutions: relayPagination() } },
        logger: (severity, message) => {
          if (severity !== 'debug') warnings.push(message);
        },
      }),
      fetchExchange,
    ]);
    const first = await client
      .query(
        gql`{ workflowExecutions(filter: { workflowId: "${LARGE}" }, first: 3) { edges { node { id runId state tasks { type state } } } pageInfo { hasNextPage endCursor } } }`,
        {},
      )
      .toPromise();
    expect(first.error).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('follows a triggered run to completion with fetchSubscriptions (SSE), jobs read afresh', async () => {
    const { fixture, clock } = await demoLike();
    const { client } = urql(fixture, [cacheExchange, fetchExchange], true);
    const triggered = await client
      .mutation<{ triggerWorkflow: { runId: string } }>(
        gql`mutation { triggerWorkflow(input: { workflowId: "${LARGE}", objectKey: "urql/live.mp4" }) { runId } }`,
        {},
      )
      .toPromise();
    const runId = triggered.data?.triggerWorkflow.runId;
    const states: Array<{ state: string; progress: Array<number | undefined> }> = [];
    const done = new Promise<void>((resolve) => {
      const { unsubscribe } = client
        .subscription<{
          workflowExecutionUpdated: { state: string; tasks: Array<{ job: { progress: number } | null }> };
        }>(
          gql`subscription ($runId: ID!) { workflowExecutionUpdated(runId: $runId) { runId state tasks { type job { progress } } } }`,
          { runId },
        )
        .subscribe((result) => {
          const run = result.data?.workflowExecutionUpdated;
          if (!run) return;
          states.push({ state: run.state, progress: run.tasks.map((task) => task.job?.progress) });
          if (run.state === 'SUCCESS') {
            unsubscribe();
            resolve();
          }
        });
    });
    await expect.poll(() => states.length).toBe(1);
    clock.advance(2 * TASK_SECONDS + 1);
    await fixture.gateway.fetch(`http://gateway/ci/callback/${TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ EventName: 'WorkflowFinish', WorkflowExecution: { RunId: runId } }),
    });
    await done;
    expect(states.at(-1)).toEqual({ state: 'SUCCESS', progress: [100, 100] });
  });
});
