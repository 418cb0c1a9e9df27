/**
 * Hive Gateway 2 as the company router in front of this subgraph, with its defaults: queries and mutations over
 * HTTP, subscriptions to the subgraph over its default transport (an event-stream request), its own clients over
 * SSE. The client here is plain `fetch` to the router.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { printSchemaFile } from '../../scripts/print-schema.js';
import { subscribe } from '../support/sse.js';
import { type ClientAdapter, describeClient } from './scenario.js';

describeClient('Hive Gateway in front, with its defaults', 'compat/hive.mp4', async (gateway) => {
  const { supergraphSdl } = composeServices([
    { name: 'ci-workflows', typeDefs: parse(printSchemaFile()), url: gateway.url },
  ]);
  const router = createGatewayRuntime({ supergraph: supergraphSdl as string, logging: false });
  const server = createServer(router);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const routerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const post = async <T>(query: string, variables: Record<string, unknown>): Promise<T> => {
    const response = await fetch(routerUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T; errors?: unknown };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data as T;
  };
  const adapter: ClientAdapter = {
    query: post,
    mutate: post,
    async subscribe(query, variables, onData) {
      const stream = await subscribe<{ data?: unknown; errors?: unknown }>(
        (url, init) => fetch(url.replace('http://gateway/graphql', routerUrl), init),
        query,
        variables,
      );
      try {
        for (let event = await stream.next(10_000); event; event = await stream.next(10_000)) {
          if (event.errors) throw new Error(JSON.stringify(event.errors));
          onData(event.data as never);
        }
      } finally {
        await stream.close();
      }
    },
  };
  return {
    adapter,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await router.dispose();
    },
  };
});
