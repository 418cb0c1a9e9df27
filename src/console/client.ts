/**
 * The console's one urql client: the gateway's endpoint on the same origin (so a proxy in front that adds the
 * bearer token covers it), POST for every operation, and subscriptions as server-sent events over fetch (urql's
 * `fetchSubscriptions`), which need no second protocol or library in the browser.
 */
import { Client, cacheExchange, fetchExchange } from '@urql/core';

/** Where the gateway answers GraphQL, beside `/console`. */
export const GRAPHQL_PATH = '/graphql';

export function createConsoleClient(): Client {
  return new Client({
    url: GRAPHQL_PATH,
    exchanges: [cacheExchange, fetchExchange],
    fetchSubscriptions: true,
    // POST keeps every answer out of the browser's HTTP cache: the console decides itself when to read again.
    preferGetMethod: false,
    // A header a cross-site form cannot send: the gateway's CSRF check, where it is on, asks for one.
    fetchOptions: { credentials: 'same-origin', headers: { 'x-graphql-csrf': 'console' } },
    requestPolicy: 'cache-and-network',
  });
}
