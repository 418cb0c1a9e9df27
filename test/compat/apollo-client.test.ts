/**
 * Apollo Client 4 with its defaults: one `HttpLink`, nothing else. Subscriptions go over Apollo's own multipart HTTP
 * protocol, which is what its `HttpLink` sends for a subscription.
 */
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { triggerRun } from '../support/console.js';
import { apolloAdapter } from './adapters.js';
import {
  type ClientAdapter,
  type CompatGateway,
  startCompatGateway,
  triggerAndFollow,
  walkEveryPage,
} from './scenario.js';

let gateway: CompatGateway;
let client: ApolloClient;
let adapter: ClientAdapter;

beforeAll(async () => {
  gateway = await startCompatGateway();
  client = new ApolloClient({ link: new HttpLink({ uri: gateway.url }), cache: new InMemoryCache() });
  adapter = apolloAdapter(client);
});
afterAll(() => gateway?.close());

describe('Apollo Client 4, HttpLink alone', () => {
  it('walks every page as a plain fetch does', () => walkEveryPage(gateway, adapter));

  it('runs a mutation and follows the run it started to completion over its multipart protocol', () =>
    triggerAndFollow(gateway, adapter, 'compat/apollo.mp4'));

  it('is answered with the protocol’s framing: boundary `graphql`, one `payload` part per event', async () => {
    const runId = await triggerRun(gateway.fixture, 'compat/apollo-raw.mp4');
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json',
      },
      body: JSON.stringify({
        query: 'subscription ($runId: ID!) { workflowExecutionUpdated(runId: $runId) { state } }',
        variables: { runId },
      }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(
      'multipart/mixed;boundary="graphql";subscriptionSpec="1.0"',
    );
    if (!response.body) throw new Error('no body');
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.endsWith('--graphql') || !text.includes('"payload"')) {
      text += decoder.decode((await reader.read()).value, { stream: true });
    }
    expect(text).toBe(
      '\r\n--graphql\r\ncontent-type: application/json\r\n\r\n' +
        '{"payload":{"data":{"workflowExecutionUpdated":{"state":"RUNNING"}}}}\r\n--graphql',
    );
    await reader.cancel();
  });
});
