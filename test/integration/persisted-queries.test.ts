/**
 * Persisted queries as clients use them: Apollo Client's own `createPersistedQueryLink` against the gateway
 * (automatic persisted queries), and a manifest of trusted documents with everything else refused.
 */
import { createHash } from 'node:crypto';
import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { describe, expect, it } from 'vitest';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { parsePersistedDocuments } from '../../src/plugins/persisted-queries.js';
import { closeAfterEach, type GatewayFixture, startGateway } from '../support/gateway.js';
import { expectedRunIds } from '../support/oracle.js';

const track = closeAfterEach();
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const RUNS = `query PersistedRuns($first: Int!) {
  workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }, first: $first) {
    edges { node { runId } }
  }
}`;

/** Apollo Client over the gateway's in-process fetch, recording what went over the wire. */
function apolloClient(fixture: GatewayFixture, options: { useGETForHashedQueries?: boolean } = {}) {
  const sent: Array<{
    method: string;
    hasQuery: boolean;
    hash: string | undefined;
    status: number;
    codes: string[];
  }> = [];
  const fetchThroughGateway = async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const body =
      request.method === 'POST' ? ((await request.clone().json()) as Record<string, unknown>) : undefined;
    const url = new URL(request.url);
    const extensions = body?.['extensions'] ?? JSON.parse(url.searchParams.get('extensions') ?? '{}');
    const response = await fixture.gateway.fetch(request);
    const answer = (await response.clone().json()) as { errors?: Array<{ extensions?: { code?: string } }> };
    sent.push({
      method: request.method,
      hasQuery: typeof body?.['query'] === 'string' || url.searchParams.has('query'),
      hash: (extensions as { persistedQuery?: { sha256Hash?: string } }).persistedQuery?.sha256Hash,
      status: response.status,
      codes: (answer.errors ?? []).map((error) => String(error.extensions?.code)),
    });
    return response;
  };
  const link = createPersistedQueryLink({
    sha256: async (text) => sha256(text),
    useGETForHashedQueries: options.useGETForHashedQueries ?? false,
  }).concat(
    new HttpLink({
      uri: 'http://gateway/graphql',
      fetch: fetchThroughGateway,
      // A GET must say it is not a simple cross-site request.
      headers: { 'apollo-require-preflight': 'true' },
    }),
  );
  return { client: new ApolloClient({ link, cache: new InMemoryCache() }), sent };
}

describe('automatic persisted queries with Apollo Client', () => {
  it.each([
    ['POST', false],
    ['GET for hashed queries', true],
  ])('misses, registers, then runs from the hash alone (%s)', async (_name, useGETForHashedQueries) => {
    const fixture = track(await startGateway());
    const first = apolloClient(fixture, { useGETForHashedQueries });
    const result = await first.client.query({ query: gql(RUNS), variables: { first: 3 } });
    expect(
      (
        result.data as { workflowExecutions: { edges: Array<{ node: { runId: string } }> } }
      ).workflowExecutions.edges.map((edge) => edge.node.runId),
    ).toEqual(expectedRunIds().slice(0, 3));
    // Hash only, not found; then hash and text.
    expect(first.sent).toHaveLength(2);
    expect(first.sent[0]).toMatchObject({ hasQuery: false, codes: ['PERSISTED_QUERY_NOT_FOUND'] });
    expect(first.sent[1]).toMatchObject({ hasQuery: true, status: 200, codes: [] });
    expect(first.sent[0]?.hash).toBe(first.sent[1]?.hash);

    // Another client (another browser) now needs the hash alone.
    const second = apolloClient(fixture, { useGETForHashedQueries });
    await second.client.query({ query: gql(RUNS), variables: { first: 3 } });
    expect(second.sent).toEqual([
      expect.objectContaining({
        method: useGETForHashedQueries ? 'GET' : 'POST',
        hasQuery: false,
        status: 200,
        codes: [],
      }),
    ]);
  });

  it('refuses a hash that does not match the text it came with', async () => {
    const fixture = track(await startGateway());
    const response = await fixture.gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: '{ __typename }',
        extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ something else }') } },
      }),
    });
    const body = (await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
    expect(body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_MISMATCH');
  });
});

describe('trusted documents only', () => {
  const manifest = parsePersistedDocuments(
    JSON.stringify({
      format: 'apollo-persisted-query-manifest',
      version: 1,
      operations: [{ id: sha256(RUNS), name: 'PersistedRuns', type: 'query', body: RUNS }],
    }),
  );

  async function post(fixture: GatewayFixture, body: Record<string, unknown>) {
    const response = await fixture.gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      ...((await response.json()) as { data?: unknown; errors?: Array<{ extensions?: { code?: string } }> }),
    };
  }

  it('runs a manifest document by its id, Apollo style or documentId, and refuses anything else', async () => {
    const fixture = track(
      await startGateway({ gateway: { persistedQueries: { manifest, onlyManifest: true } } }),
    );
    fixture.emulator.clearRequests();
    const byHash = await post(fixture, {
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256(RUNS) } },
      variables: { first: 2 },
    });
    expect(byHash.errors).toBeUndefined();
    const byDocumentId = await post(fixture, { documentId: sha256(RUNS), variables: { first: 2 } });
    expect(byDocumentId.data).toEqual(byHash.data);

    const requestsSoFar = fixture.emulator.requests.length;
    const arbitrary = await post(fixture, { query: RUNS, variables: { first: 2 } });
    expect(arbitrary).toMatchObject({
      status: 400,
      errors: [{ extensions: { code: 'PERSISTED_QUERY_ONLY' } }],
    });
    const unknown = await post(fixture, {
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256('x') } },
    });
    expect(unknown).toMatchObject({
      status: 400,
      errors: [{ extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }],
    });
    // Registering is no way around it either.
    const register = await post(fixture, {
      query: '{ __typename }',
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ __typename }') } },
    });
    expect(register.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_ONLY');
    expect(fixture.emulator.requests).toHaveLength(requestsSoFar);
  });

  it('knows manifest documents from the start when other documents are allowed too', async () => {
    const fixture = track(await startGateway({ gateway: { persistedQueries: { manifest } } }));
    const byHash = await post(fixture, {
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256(RUNS) } },
      variables: { first: 1 },
    });
    expect(byHash.errors).toBeUndefined();
    expect((await post(fixture, { query: '{ __typename }' })).errors).toBeUndefined();
  });

  it('reads a plain id → document map, and refuses a malformed manifest', () => {
    expect(parsePersistedDocuments(JSON.stringify({ abc: RUNS })).get('abc')).toBe(RUNS);
    expect(() => parsePersistedDocuments('[]')).toThrow(/object of id/);
    expect(() => parsePersistedDocuments(JSON.stringify({ abc: 1 }))).toThrow(/not a string/);
    expect(() =>
      parsePersistedDocuments(
        JSON.stringify({ format: 'apollo-persisted-query-manifest', operations: [{ id: 1 }] }),
      ),
    ).toThrow(/string `id` and `body`/);
  });
});

describe('registered documents', () => {
  it('are bounded: the oldest is forgotten once the bound is reached', async () => {
    const fixture = track(await startGateway({ gateway: { persistedQueries: { maxEntries: 2 } } }));
    const documents = ['{ a: __typename }', '{ b: __typename }', '{ c: __typename }'];
    const send = async (document: string, withText: boolean) => {
      const response = await fixture.gateway.fetch('http://gateway/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          ...(withText ? { query: document } : {}),
          extensions: { persistedQuery: { version: 1, sha256Hash: sha256(document) } },
        }),
      });
      return (await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
    };
    for (const document of documents) expect((await send(document, true)).errors).toBeUndefined();
    expect((await send(documents[0] as string, false)).errors?.[0]?.extensions?.code).toBe(
      'PERSISTED_QUERY_NOT_FOUND',
    );
    expect((await send(documents[2] as string, false)).errors).toBeUndefined();
  });
});

/** A JSON POST straight to the gateway: its status, body and error codes. */
async function postJson(fixture: GatewayFixture, body: Record<string, unknown>) {
  const response = await fixture.gateway.fetch('http://gateway/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
  return {
    status: response.status,
    body: answer,
    codes: (answer.errors ?? []).map((error) => error.extensions?.code),
  };
}

describe('the document size limit', () => {
  /** `{__typename}` and one long comment: a few tokens, any number of bytes. */
  const padded = (bytes: number, tag: string) => `{ __typename }\n#${tag}${'x'.repeat(bytes)}\n`;

  it('refuses a document over MAX_DOCUMENT_BYTES before parsing it, whatever its few tokens', async () => {
    const fixture = track(await startGateway({ maxDocumentBytes: 4096 }));
    const within = await postJson(fixture, { query: padded(3000, 'a') });
    expect(within.body).toEqual({ data: { __typename: 'Query' } });
    const over = await postJson(fixture, { query: padded(5000, 'b') });
    expect(over.status).toBe(413);
    expect(over.codes).toEqual(['DOCUMENT_TOO_LARGE']);
  });

  it('refuses to register an oversized document as an automatic persisted query', async () => {
    const fixture = track(await startGateway({ maxDocumentBytes: 4096 }));
    const document = padded(5000, 'c');
    const hash = sha256(document);
    const registering = await postJson(fixture, {
      query: document,
      extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
    });
    expect(registering.codes).toEqual(['DOCUMENT_TOO_LARGE']);
    const byHash = await postJson(fixture, {
      extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
    });
    expect(byHash.codes).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });
});
