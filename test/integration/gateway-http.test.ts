import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_CREDENTIALS } from '../../src/emulator/server.js';
import { DOCUMENT_LIMITS } from '../../src/http/gateway.js';
import { createReadinessProbe } from '../../src/http/readiness.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { EMULATED_BUCKET } from '../support/emulator.js';
import { type GatewayFixture, startGateway } from '../support/gateway.js';

let fixture: GatewayFixture;

beforeAll(async () => {
  fixture = await startGateway({ corsOrigins: ['https://app.example.com'] });
});
afterAll(() => fixture.close());

describe('CORS', () => {
  it('answers a preflight from a configured origin', async () => {
    const response = await fixture.gateway.fetch('http://gateway/graphql', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(response.status).toBeLessThan(300);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('gives no access to other origins', async () => {
    const response = await fixture.gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { origin: 'https://evil.example.net', 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.headers.get('access-control-allow-origin')).not.toBe('https://evil.example.net');
    expect(response.headers.get('access-control-allow-origin')).not.toBe('*');
  });
});

describe('health and readiness', () => {
  it('serves liveness at /health', async () => {
    expect((await fixture.gateway.fetch('http://gateway/health')).status).toBe(200);
  });

  it('is ready when the upstream answers a signed call, and not when it does not', async () => {
    expect((await fixture.gateway.fetch('http://gateway/ready')).status).toBe(200);
    const down = await startGateway({
      isReady: createReadinessProbe(
        [{ bucketId: EMULATED_BUCKET, ping: () => Promise.reject(new Error('connect ECONNREFUSED')) }],
        createLogger('silent'),
        () => false,
      ),
    });
    try {
      expect((await down.gateway.fetch('http://gateway/ready')).status).toBe(503);
    } finally {
      await down.close();
    }
  });

  it('probes the real upstream with a signed call, caches the answer briefly, and fails while draining', async () => {
    const client = fixture.client();
    let draining = false;
    let clock = 0;
    const probe = createReadinessProbe(
      [client],
      createLogger('silent'),
      () => draining,
      () => clock,
    );
    fixture.emulator.clearRequests();
    expect(await Promise.all([probe(), probe(), probe()])).toEqual([true, true, true]);
    expect(fixture.emulator.requests).toHaveLength(1);
    expect(fixture.emulator.requests[0]).toMatchObject({ path: '/workflow', signatureVerified: true });
    clock += 10_000;
    expect(await probe()).toBe(true);
    expect(fixture.emulator.requests).toHaveLength(2);
    draining = true;
    expect(await probe()).toBe(false);

    const wrongKey = fixture.client({ credentials: { ...DEMO_CREDENTIALS, secretKey: 'nope' } });
    expect(await createReadinessProbe([wrongKey], createLogger('silent'), () => false)()).toBe(false);
  });
});

describe('GraphiQL', () => {
  it('is served at /graphql to browsers, from local assets only', async () => {
    const response = await fixture.gateway.fetch('http://gateway/graphql', {
      headers: { accept: 'text/html' },
    });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('<div id="root">');
    expect(html).toContain('workflowExecutions');
    // No script, stylesheet or font is fetched from another host.
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=["']https?:\/\//i);
    expect(html).not.toMatch(/@import\s+url\(["']?https?:/i);
  });
});

describe('document limits', () => {
  const post = async (query: string) => {
    const response = await fixture.gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as {
      data?: unknown;
      errors?: Array<{ message: string; extensions?: { code?: string } }>;
    };
  };

  it('refuses too many aliases, too deep a selection and too long a document before anything runs', async () => {
    fixture.emulator.clearRequests();
    const aliases = Array.from(
      { length: DOCUMENT_LIMITS.maxAliases + 1 },
      (_, i) => `a${i}: workflow(workflowId: "w${i}") { name }`,
    ).join(' ');
    const tooManyAliases = await post(`{ ${aliases} }`);
    expect(tooManyAliases.errors?.[0]?.message).toMatch(/aliases/i);

    const deep = `{ workflow(workflowId: "w") { ${'executions { edges { node { workflow { '.repeat(4)}name${' } } } }'.repeat(4)} } }`;
    const tooDeep = await post(deep);
    expect(tooDeep.errors?.[0]?.message).toMatch(/depth/i);

    // Many tokens in few bytes: the token limit, not the document size limit, refuses it.
    const tooLong = await post(`{ ${'a '.repeat(DOCUMENT_LIMITS.maxTokens)} }`);
    expect(tooLong.errors?.[0]?.message).toMatch(/token/i);

    for (const refused of [tooManyAliases, tooDeep, tooLong]) {
      expect(refused.data ?? null).toBeNull();
      expect(refused.errors?.[0]?.extensions?.code).toMatch(/^GRAPHQL_(VALIDATION|PARSE)_FAILED$/);
    }
    expect(fixture.emulator.requests).toHaveLength(0);
  });

  it('still answers introspection, which is deeper than the limit', async () => {
    const response = await post(getIntrospectionQuery());
    expect(response.errors).toBeUndefined();
  });
});

describe('GraphQL over HTTP', () => {
  it('answers GET queries too', async () => {
    const response = await fixture.gateway.fetch(
      `http://gateway/graphql?query=${encodeURIComponent('{ __typename }')}`,
      { headers: { accept: 'application/graphql-response+json', 'x-graphql-csrf': '1' } },
    );
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('echoes a request id, or makes one', async () => {
    const offered = await fixture.gateway.fetch('http://gateway/graphql?query=%7B__typename%7D', {
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(offered.headers.get('x-request-id')).toBe('abc-123');
    const made = await fixture.gateway.fetch('http://gateway/graphql?query=%7B__typename%7D', {
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
