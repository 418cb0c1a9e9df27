/** The graphql-sse client with its defaults ("distinct connections" mode): every operation over SSE. */
import { createClient } from 'graphql-sse';
import { sinkAdapter } from './adapters.js';
import { describeClient } from './scenario.js';

describeClient('the graphql-sse client', 'compat/graphql-sse.mp4', (gateway) => {
  const client = createClient({ url: gateway.url, retryAttempts: 0 });
  return { adapter: sinkAdapter(client), close: () => client.dispose() };
});
