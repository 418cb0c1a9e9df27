/** The graphql-sse client with its defaults ("distinct connections" mode): every operation over SSE. */
import { createClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { sinkAdapter } from './adapters.js';
import {
  type ClientAdapter,
  type CompatGateway,
  startCompatGateway,
  triggerAndFollow,
  walkEveryPage,
} from './scenario.js';

let gateway: CompatGateway;
let adapter: ClientAdapter;
let dispose: () => void;

beforeAll(async () => {
  gateway = await startCompatGateway();
  const client = createClient({ url: gateway.url, retryAttempts: 0 });
  dispose = () => client.dispose();
  adapter = sinkAdapter(client);
});
afterAll(async () => {
  dispose?.();
  await gateway?.close();
});

describe('the graphql-sse client', () => {
  it('walks every page as a plain fetch does', () => walkEveryPage(gateway, adapter));
  it('runs a mutation and follows the run it started to completion', () =>
    triggerAndFollow(gateway, adapter, 'compat/graphql-sse.mp4'));
});
