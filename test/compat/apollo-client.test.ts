/**
 * Apollo Client 4 with its defaults: one `HttpLink`, nothing else. Subscriptions go over Apollo's own multipart HTTP
 * protocol, which is what its `HttpLink` sends for a subscription.
 */
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { expect, it } from 'vitest';
import { triggerRun } from '../support/console.js';
import { apolloAdapter } from './adapters.js';
import { describeClient } from './scenario.js';

describeClient(
  'Apollo Client 4, HttpLink alone (subscriptions over its multipart protocol)',
  'compat/apollo.mp4',
  (gateway) => ({
    adapter: apolloAdapter(
      new ApolloClient({ link: new HttpLink({ uri: gateway.url }), cache: new InMemoryCache() }),
    ),
  }),
  (started) => {
    it('is answered with the protocol’s framing: boundary `graphql`, one `payload` part per event', async () => {
      const gateway = started();
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
  },
);
