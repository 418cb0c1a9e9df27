/**
 * Each client library as the compatibility scenario drives it (`ClientAdapter`): one adapter per library shape, so
 * every test file only builds its client the way the README says and hands it over.
 */
import { type ApolloClient, gql as apolloGql } from '@apollo/client';
import { gql, type Client as UrqlClient } from '@urql/core';
import { onEnd, pipe, subscribe } from 'wonka';
import type { ClientAdapter } from './scenario.js';

/** Apollo Client: queries without its cache (a walk must see every page afresh), mutations, subscriptions. */
export function apolloAdapter(client: ApolloClient): ClientAdapter {
  return {
    async query(document, variables) {
      const result = await client.query({ query: apolloGql(document), variables, fetchPolicy: 'no-cache' });
      if (result.error) throw result.error;
      return result.data as never;
    },
    async mutate(document, variables) {
      const result = await client.mutate({ mutation: apolloGql(document), variables });
      if (result.error) throw result.error;
      return result.data as never;
    },
    subscribe: (document, variables, onData) =>
      new Promise((resolve, reject) => {
        client.subscribe({ query: apolloGql(document), variables }).subscribe({
          next: (result) => {
            if (result.error) reject(result.error);
            else if (result.data) onData(result.data as never);
          },
          error: reject,
          complete: resolve,
        });
      }),
  };
}

/** urql: a subscription ends when the server's stream does (wonka's `onEnd`), as a client of it would see. */
export function urqlAdapter(client: UrqlClient): ClientAdapter {
  const settle = <T>(result: { data?: unknown; error?: unknown }): T => {
    if (result.error) throw result.error;
    return result.data as T;
  };
  return {
    query: async (document, variables) => settle(await client.query(gql(document), variables).toPromise()),
    mutate: async (document, variables) =>
      settle(await client.mutation(gql(document), variables).toPromise()),
    subscribe: (document, variables, onData) =>
      new Promise((resolve, reject) => {
        pipe(
          client.subscription(gql(document), variables),
          onEnd(() => resolve()),
          subscribe((result) => {
            if (result.error) reject(result.error);
            else if (result.data) onData(result.data as never);
          }),
        );
      }),
  };
}

/** What graphql-ws's and graphql-sse's clients have alike: every operation is `subscribe(payload, sink)`. */
interface SinkClient {
  subscribe(
    payload: { query: string; variables: Record<string, unknown> },
    sink: {
      next(result: { data?: unknown; errors?: unknown }): void;
      error(error: unknown): void;
      complete(): void;
    },
  ): () => void;
}

/** graphql-ws or graphql-sse: queries and mutations are operations with one result. */
export function sinkAdapter(client: SinkClient): ClientAdapter {
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
  return {
    query: once,
    mutate: once,
    subscribe: (query, variables, onData) =>
      new Promise((resolve, reject) => {
        client.subscribe(
          { query, variables },
          { next: (result) => onData(result.data as never), error: reject, complete: resolve },
        );
      }),
  };
}
