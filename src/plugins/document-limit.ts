/**
 * A bound on a GraphQL document's size, decided on its text before anything parses it. Comments and whitespace
 * are not tokens, so the token limit cannot see them: without this a caller can send megabyte documents made of
 * one comment, each of which yoga's parse cache would keep. The text is checked as it arrives, before automatic
 * persisted queries store it; documents of a manifest are checked once, when the manifest is read.
 */
import { type DocumentNode, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { ErrorCode } from '../error-codes.js';

export interface DocumentLimit {
  readonly plugin: Plugin;
  /** The refusal for a document over the limit; undefined for one within it. */
  check(document: string): GraphQLError | undefined;
}

/** Whether a document's UTF-8 text is over `maxBytes`: the one rule, for requests and manifests alike. */
export function exceedsDocumentLimit(document: string, maxBytes: number): boolean {
  // UTF-8 takes at most 3 bytes per UTF-16 unit: most documents are decided without counting.
  return document.length * 3 > maxBytes && Buffer.byteLength(document, 'utf8') > maxBytes;
}

export function useDocumentLimit(maxBytes: number): DocumentLimit {
  const check = (document: string) =>
    !exceedsDocumentLimit(document, maxBytes)
      ? undefined
      : new GraphQLError(`The document is larger than ${maxBytes} bytes (MAX_DOCUMENT_BYTES).`, {
          extensions: { code: ErrorCode.DOCUMENT_TOO_LARGE, http: { status: 413 } },
        });
  return {
    check,
    plugin: {
      onParams({ params }) {
        if (typeof params.query !== 'string') return;
        const refusal = check(params.query);
        if (refusal) throw refusal;
      },
    },
  };
}

/**
 * yoga's parse and validation caches, bounded by the bytes of the documents they key on as well as by their count,
 * so what they hold stays within `maxBytes` whatever documents callers send.
 */
export function documentCaches(maxBytes: number, maxEntries = 1_024) {
  const byDocument = <V extends {}>() =>
    new LRUCache<string, V>({
      max: maxEntries,
      maxSize: maxBytes,
      // The parsed document grows with the text; twice its length covers both.
      sizeCalculation: (_value, document) => Math.max(1, document.length * 2),
    });
  return { documentCache: byDocument<DocumentNode>(), errorCache: byDocument<Error>() };
}
