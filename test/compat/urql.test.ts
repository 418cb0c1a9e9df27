/**
 * urql 6 with its defaults (queries as GET within the URL limit), subscriptions with the one option the README
 * gives (`fetchSubscriptions: true`, over SSE), and graphcache with relayPagination.
 */
import { Client, cacheExchange, fetchExchange, gql } from '@urql/core';
import { cacheExchange as graphcache } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { urqlAdapter } from './adapters.js';
import { type CompatGateway, startCompatGateway, triggerAndFollow, walkEveryPage } from './scenario.js';

let gateway: CompatGateway;
/** The method of every request urql sent. */
const methods: string[] = [];

beforeAll(async () => {
  gateway = await startCompatGateway();
});
afterAll(() => gateway?.close());

const client = () =>
  new Client({
    url: gateway.url,
    exchanges: [cacheExchange, fetchExchange],
    fetchSubscriptions: true,
    fetch: async (input, init) => {
      methods.push(new Request(String(input), init).method);
      return fetch(input, init);
    },
  });

describe('urql 6 with its defaults', () => {
  it('walks every page as a plain fetch does, with GET queries', async () => {
    methods.length = 0;
    await walkEveryPage(gateway, urqlAdapter(client()));
    expect(new Set(methods)).toEqual(new Set(['GET']));
  });

  it('runs a mutation (a POST) and follows the run it started to completion over SSE', async () => {
    methods.length = 0;
    await triggerAndFollow(gateway, urqlAdapter(client()), 'compat/urql.mp4');
    expect(methods[0]).toBe('POST');
  });

  it('reads through graphcache with relayPagination, with tasks and page info keyed by nothing', async () => {
    const warnings: unknown[] = [];
    const cached = new Client({
      url: gateway.url,
      exchanges: [
        graphcache({
          keys: { WorkflowTask: () => null, PageInfo: () => null },
          resolvers: { Query: { workflowExecutions: relayPagination() } },
          logger: (severity, message) => {
            if (severity !== 'debug') warnings.push(message);
          },
        }),
        fetchExchange,
      ],
    });
    const result = await cached
      .query(
        gql`{ workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }, first: 3) { edges { node { id runId state tasks { type state } } } pageInfo { hasNextPage endCursor } } }`,
        {},
      )
      .toPromise();
    expect(result.error).toBeUndefined();
    expect(warnings).toEqual([]);
  });
});
