/** The graphql-ws client with its defaults: queries and mutations over the socket as well as subscriptions. */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { sinkAdapter } from './adapters.js';
import { describeClient } from './scenario.js';

describeClient('the graphql-ws client', 'compat/graphql-ws.mp4', (gateway) => {
  const client = createClient({
    url: gateway.url.replace('http:', 'ws:'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
  });
  return { adapter: sinkAdapter(client), close: () => client.dispose() };
});
