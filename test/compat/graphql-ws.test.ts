/** The graphql-ws client with its defaults: queries and mutations over the socket as well as subscriptions. */
import { type Client, createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, it } from 'vitest';
import WebSocket from 'ws';
import { sinkAdapter } from './adapters.js';
import {
  type ClientAdapter,
  type CompatGateway,
  startCompatGateway,
  triggerAndFollow,
  walkEveryPage,
} from './scenario.js';

let gateway: CompatGateway;
let client: Client;
let adapter: ClientAdapter;

beforeAll(async () => {
  gateway = await startCompatGateway();
  client = createClient({
    url: gateway.url.replace('http:', 'ws:'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
  });
  adapter = sinkAdapter(client);
});
afterAll(async () => {
  await client?.dispose();
  await gateway?.close();
});

describe('the graphql-ws client', () => {
  it('walks every page as a plain fetch does', () => walkEveryPage(gateway, adapter));
  it('runs a mutation and follows the run it started to completion', () =>
    triggerAndFollow(gateway, adapter, 'compat/graphql-ws.mp4'));
});
