/** The graphql-sse client with its defaults ("distinct connections" mode): every operation over SSE. */
import { createClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, it } from 'vitest';
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
  const once = <T>(query: string, variables: Record<string, unknown>) =>
    new Promise<T>((resolve, reject) => {
      let data: unknown;
      client.subscribe(
        { query, variables },
        {
          next: (result) => {
            if (result.errors) reject(new Error(JSON.stringify(result.errors)));
            data = result.data;
          },
          error: reject,
          complete: () => resolve(data as T),
        },
      );
    });
  adapter = {
    query: once,
    mutate: once,
    subscribe: (query, variables, onData) =>
      new Promise((resolve, reject) =>
        client.subscribe(
          { query, variables },
          { next: (result) => onData(result.data as never), error: reject, complete: resolve },
        ),
      ),
  };
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
