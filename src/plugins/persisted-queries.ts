/**
 * Persisted queries, two ways:
 *
 * - **Automatic** (Apollo's protocol, `@graphql-yoga/plugin-apq`), as Apollo Client's `createPersistedQueryLink`
 *   speaks it: a hash alone that the gateway does not know is `PERSISTED_QUERY_NOT_FOUND`; the client then sends
 *   hash and text, which is checked and kept; later the hash alone is enough. Kept documents live in a bounded
 *   LRU (entries and bytes). Documents of a manifest, when given, are known from the start.
 * - **Trusted documents only** (`ONLY_PERSISTED`, `@graphql-yoga/plugin-persisted-operations`): for front ends
 *   that call the gateway directly, anything but the id of a document in the manifest is refused.
 *
 * graphql-ws messages do not pass yoga's request hooks: {@link PersistedQueries.documentFor} applies the same rules,
 * with the same store and the same errors, to them.
 *
 * A manifest is Apollo's persisted-query manifest (`{"format":"apollo-persisted-query-manifest","operations":
 * [{"id","body"}]}`) or a plain `{ "<id>": "<document>" }` map (Relay, GraphQL Code Generator's client preset).
 */
import { createHash } from 'node:crypto';
import { useAPQ } from '@graphql-yoga/plugin-apq';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { GraphQLError } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { ErrorCode } from '../error-codes.js';
import { child, isRecord } from '../records.js';

const DEFAULT_MAX_ENTRIES = 1_000;
const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;

export interface PersistedQueryOptions {
  /** Documents known ahead, by id. */
  readonly manifest?: ReadonlyMap<string, string> | undefined;
  /** Refuse every document that is not in the manifest. */
  readonly onlyManifest?: boolean | undefined;
  /** Bounds on documents registered by clients. */
  readonly maxEntries?: number | undefined;
  readonly maxBytes?: number | undefined;
}

/** The refusals, as yoga's persisted-operations plugin takes them and as graphql-ws operations get them. */
const REFUSALS = {
  notFound: {
    message: 'This gateway has no persisted document with that id.',
    extensions: { code: ErrorCode.PERSISTED_QUERY_NOT_FOUND, http: { status: 400 } },
  },
  keyNotFound: {
    message: 'Send a persisted document id: `extensions.persistedQuery.sha256Hash` or `documentId`.',
    extensions: { code: ErrorCode.PERSISTED_QUERY_ONLY, http: { status: 400 } },
  },
  persistedQueryOnly: {
    message: 'This gateway runs persisted documents only: send the document id, not its text.',
    extensions: { code: ErrorCode.PERSISTED_QUERY_ONLY, http: { status: 400 } },
  },
  // Apollo's automatic persisted queries: the message is what Apollo Client's link looks for.
  apqNotFound: {
    message: 'PersistedQueryNotFound',
    extensions: { code: ErrorCode.PERSISTED_QUERY_NOT_FOUND },
  },
  apqMismatch: {
    message: 'PersistedQueryMismatch',
    extensions: { code: ErrorCode.PERSISTED_QUERY_MISMATCH },
  },
  noDocument: { message: 'Send a document: `query`.', extensions: { code: ErrorCode.BAD_REQUEST } },
} as const;

const refusal = (which: keyof typeof REFUSALS) =>
  new GraphQLError(REFUSALS[which].message, { extensions: { ...REFUSALS[which].extensions } });

export interface PersistedQueries {
  readonly plugin: Plugin;
  /** The text an operation that bypasses yoga's request hooks runs, or the error a request would get. */
  documentFor(params: GraphQLParams): string | GraphQLError;
}

export function usePersistedQueries(options: PersistedQueryOptions): PersistedQueries {
  const manifest = options.manifest ?? new Map<string, string>();
  if (options.onlyManifest) {
    return {
      plugin: usePersistedOperations({
        getPersistedOperation: (id) => manifest.get(id) ?? null,
        extractPersistedOperationId: persistedId,
        allowArbitraryOperations: false,
        customErrors: {
          notFound: REFUSALS.notFound,
          keyNotFound: REFUSALS.keyNotFound,
          persistedQueryOnly: REFUSALS.persistedQueryOnly,
        },
      }) as Plugin,
      documentFor: (params) => {
        const id = persistedId(params);
        if (id === null)
          return refusal(typeof params.query === 'string' ? 'persistedQueryOnly' : 'keyNotFound');
        return manifest.get(id) ?? refusal('notFound');
      },
    };
  }
  // Registered documents, bounded by count and by size: a client can register junk, but only so much of it.
  const registered = new LRUCache<string, string>({
    max: options.maxEntries ?? DEFAULT_MAX_ENTRIES,
    maxSize: options.maxBytes ?? DEFAULT_MAX_BYTES,
    sizeCalculation: (document) => Math.max(1, document.length),
  });
  const store = {
    get: (hash: string) => manifest.get(hash) ?? registered.get(hash) ?? null,
    set: (hash: string, document: string) => {
      if (!manifest.has(hash)) registered.set(hash, document);
    },
  };
  const apq = useAPQ({ store });
  return {
    // The plugin's hook is async: only requests that use the protocol should pay for a promise.
    plugin: {
      onParams: (payload) =>
        payload.params.extensions?.['persistedQuery'] === undefined ? undefined : apq.onParams?.(payload),
    } as Plugin,
    documentFor: (params) => {
      const hash = apolloHash(params);
      if (typeof hash !== 'string') return params.query ?? refusal('noDocument');
      if (typeof params.query !== 'string') return store.get(hash) ?? refusal('apqNotFound');
      if (createHash('sha256').update(params.query).digest('hex') !== hash) return refusal('apqMismatch');
      store.set(hash, params.query);
      return params.query;
    },
  };
}

/** Apollo's `extensions.persistedQuery.sha256Hash`, or the GraphQL-over-HTTP draft's `documentId`. */
function persistedId(params: GraphQLParams): string | null {
  const apollo = apolloHash(params);
  if (typeof apollo === 'string') return apollo;
  const documentId = 'documentId' in params ? params.documentId : undefined;
  return typeof documentId === 'string' ? documentId : null;
}

/** Reads a manifest file's text: Apollo's format or a plain id → document map. */
export function parsePersistedDocuments(text: string): Map<string, string> {
  const parsed: unknown = JSON.parse(text);
  const documents = new Map<string, string>();
  if (isRecord(parsed) && parsed['format'] === 'apollo-persisted-query-manifest') {
    const operations = parsed['operations'];
    if (!Array.isArray(operations)) throw new Error('an Apollo manifest needs an `operations` list');
    for (const operation of operations) {
      if (
        !isRecord(operation) ||
        typeof operation['id'] !== 'string' ||
        typeof operation['body'] !== 'string'
      ) {
        throw new Error('every operation of an Apollo manifest needs a string `id` and `body`');
      }
      documents.set(operation['id'], operation['body']);
    }
    return documents;
  }
  if (!isRecord(parsed)) throw new Error('expected an object of id → document');
  for (const [id, document] of Object.entries(parsed)) {
    if (typeof document !== 'string') throw new Error(`the document for id "${id}" is not a string`);
    documents.set(id, document);
  }
  return documents;
}

/** Apollo's `extensions.persistedQuery.sha256Hash`, whatever the client sent there. */
function apolloHash(params: GraphQLParams): unknown {
  return child(child(params.extensions, 'persistedQuery'), 'sha256Hash');
}
