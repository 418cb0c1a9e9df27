/**
 * Only the callers it should: JWTs verified against a JWKS served here, the router's shared secret, scopes per
 * field, a per-caller limit, CSRF, CORS, Host and production defaults. Every refusal is checked to cost no
 * upstream call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import {
  closeAfterEach,
  type GatewayFixture,
  type GatewayFixtureOptions,
  startGateway,
} from '../support/gateway.js';
import {
  AUDIENCE,
  type IdentityProvider,
  ISSUER,
  type SigningKey,
  signingKey,
  startIdentityProvider,
  token,
  unsignedToken,
} from '../support/jwks.js';
import { expectedRunIds } from '../support/oracle.js';

const LIST = `{ workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.single}" }) { edges { node { runId } } } }`;

interface Answer {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }>;
  };
}

async function ask(
  fixture: GatewayFixture,
  query: string,
  headers: Record<string, string> = {},
  serverContext?: object,
): Promise<Answer> {
  const response = await fixture.gateway.fetch(
    'http://gateway/graphql',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    },
    serverContext ?? {},
  );
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Answer['body'],
  };
}

const bearer = (jwt: string) => ({ authorization: `Bearer ${jwt}` });
const codeOf = (answer: Answer) => answer.body.errors?.[0]?.extensions?.['code'];

const closeLater = closeAfterEach();
const gateway = async (options: GatewayFixtureOptions) => closeLater(await startGateway(options));

describe('JWT callers', () => {
  let rsa: SigningKey;
  let ec: SigningKey;
  let rotated: SigningKey;
  let stranger: SigningKey;
  let idp: IdentityProvider;
  beforeAll(async () => {
    [rsa, ec, rotated, stranger] = await Promise.all([
      signingKey('rsa-1', 'RS256'),
      signingKey('ec-1', 'ES256'),
      signingKey('rsa-2', 'RS256'),
      // Same kid as a published key, different key material: a forged signature.
      signingKey('rsa-1', 'RS256'),
    ]);
    idp = await startIdentityProvider([rsa, ec]);
  });
  afterAll(() => idp.close());

  const jwtGateway = () =>
    gateway({
      gateway: {
        auth: { jwt: { jwksUrl: idp.jwksUrl, issuer: ISSUER, audience: AUDIENCE, refetchCooldownMs: 0 } },
      },
    });

  it('lets in a valid RS256 token with the read scope in `scope`', async () => {
    const fixture = await jwtGateway();
    const answer = await ask(fixture, LIST, bearer(await token(rsa)));
    expect(answer.body.errors).toBeUndefined();
    expect(answer.status).toBe(200);
  });

  it('lets in a valid ES256 token with the read scope in `scp`', async () => {
    const fixture = await jwtGateway();
    const jwt = await token(ec, { claims: { scope: undefined, scp: ['openid', 'ci.workflows.read'] } });
    expect((await ask(fixture, LIST, bearer(jwt))).body.errors).toBeUndefined();
  });

  it.each<[string, () => Promise<Record<string, string>>]>([
    ['no token', async () => ({})],
    ['a token that is not a JWT', async () => bearer('not-a-jwt')],
    ['a Basic credential', async () => ({ authorization: 'Basic dXNlcjpwYXNz' })],
    ['an expired token', async () => bearer(await token(rsa, { expiresIn: -120 }))],
    ['a token from another issuer', async () => bearer(await token(rsa, { issuer: 'https://evil.test/' }))],
    ['a token for another audience', async () => bearer(await token(rsa, { audience: 'another-api' }))],
    ['a token with a forged signature', async () => bearer(await token(stranger))],
    ['an unsigned token (alg: none)', async () => bearer(unsignedToken())],
  ])('refuses %s with 401 UNAUTHENTICATED and no upstream call', async (_name, headers) => {
    const fixture = await jwtGateway();
    const answer = await ask(fixture, LIST, await headers());
    expect(answer.status).toBe(401);
    expect(codeOf(answer)).toBe('UNAUTHENTICATED');
    expect(answer.headers.get('www-authenticate')).toBe('Bearer');
    expect(answer.body.data).toBeUndefined();
    expect(fixture.emulator.requests).toHaveLength(0);
  });

  it('refuses a key it does not know, then accepts it once the issuer publishes it', async () => {
    const fixture = await jwtGateway();
    const jwt = await token(rotated);
    const before = await ask(fixture, LIST, bearer(jwt));
    expect(before.status).toBe(401);
    idp.published = [rsa, ec, rotated];
    const after = await ask(fixture, LIST, bearer(jwt));
    expect(after.body.errors).toBeUndefined();
    // Old keys keep working from the refreshed set.
    expect((await ask(fixture, LIST, bearer(await token(rsa)))).body.errors).toBeUndefined();
    idp.published = [rsa, ec];
  });

  it('answers FORBIDDEN, field by field, to a valid token without the read scope', async () => {
    const fixture = await jwtGateway();
    const jwt = await token(rsa, { claims: { scope: 'profile ci.workflows.write' } });
    const answer = await ask(
      fixture,
      `{ workflow(workflowId: "${DEMO_WORKFLOW_IDS.large}") { name } _service { sdl } }`,
      bearer(jwt),
    );
    expect(answer.status).toBe(200);
    expect(answer.body.errors?.map((error) => [error.path, error.extensions?.['code']])).toEqual([
      [['workflow'], 'FORBIDDEN'],
    ]);
    expect(answer.body.data?.['workflow']).toBeNull();
    expect(fixture.emulator.requests).toHaveLength(0);
  });

  it('guards entities reached through _entities, as the router sees them', async () => {
    const fixture = await jwtGateway();
    const entities = `{ _entities(representations: [{ __typename: "WorkflowExecution", runId: "${expectedRunIds()[0]}" }]) { ... on WorkflowExecution { state } } }`;
    const without = await ask(fixture, entities, bearer(await token(rsa, { claims: { scope: 'profile' } })));
    expect(codeOf(without)).toBe('FORBIDDEN');
    const withScope = await ask(fixture, entities, bearer(await token(rsa)));
    expect(withScope.body.errors).toBeUndefined();
  });

  it('answers 503 rather than letting anyone in when the keys cannot be fetched', async () => {
    const fixture = await gateway({
      gateway: {
        auth: { jwt: { jwksUrl: 'http://127.0.0.1:1/jwks.json', issuer: ISSUER, audience: AUDIENCE } },
      },
    });
    const answer = await ask(fixture, LIST, bearer(await token(rsa)));
    expect(answer.status).toBe(503);
    expect(codeOf(answer)).toBe('AUTH_UNAVAILABLE');
    expect(fixture.emulator.requests).toHaveLength(0);
  });

  it.each([
    ['answers 500', { status: 500, body: '<html>Internal Server Error</html>' }],
    ['answers a body that is not JSON', { status: 200, body: '<html>maintenance</html>' }],
    ['answers JSON that is not a key set', { status: 200, body: '{"keys": "none"}' }],
  ])('answers 503 with Retry-After, not 401, to a valid token when the issuer %s', async (_case, failure) => {
    const provider = await startIdentityProvider([rsa]);
    provider.failure = failure;
    try {
      const fixture = await gateway({
        gateway: { auth: { jwt: { jwksUrl: provider.jwksUrl, issuer: ISSUER, audience: AUDIENCE } } },
      });
      const response = await fixture.gateway.fetch('http://gateway/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(await token(rsa)) },
        body: JSON.stringify({ query: LIST }),
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
      expect(body.errors[0]?.extensions.code).toBe('AUTH_UNAVAILABLE');
      expect(fixture.emulator.requests).toHaveLength(0);
    } finally {
      await provider.close();
    }
  });
});

describe('the router secret', () => {
  const SECRET = 'router-secret-0123456789abcdef';

  it.each<[string, Record<string, string>, number]>([
    ['lets in the right secret', { 'x-router-secret': SECRET }, 200],
    ['refuses a wrong secret', { 'x-router-secret': `${SECRET}x` }, 401],
    ['refuses an empty secret', { 'x-router-secret': '' }, 401],
    ['refuses a request without the secret', {}, 401],
  ])('%s', async (_name, headers, status) => {
    const fixture = await gateway({ gateway: { auth: { routerSecret: SECRET } } });
    const answer = await ask(fixture, LIST, headers);
    expect(answer.status).toBe(status);
    if (status === 401) {
      expect(codeOf(answer)).toBe('UNAUTHENTICATED');
      expect(fixture.emulator.requests).toHaveLength(0);
    } else {
      expect(answer.body.errors).toBeUndefined();
    }
  });

  it('keeps /health and /ready open: they reveal nothing', async () => {
    const fixture = await gateway({ gateway: { auth: { routerSecret: SECRET } } });
    expect((await fixture.gateway.fetch('http://gateway/health')).status).toBe(200);
    expect((await fixture.gateway.fetch('http://gateway/ready')).status).toBe(200);
  });
});

describe('the per-caller limit on upstream calls', () => {
  it('answers 429 with Retry-After once a caller has spent its calls, before any upstream call', async () => {
    const fixture = await gateway({ gateway: { rateLimitPerMinute: 3 } });
    const from = { req: { socket: { remoteAddress: '10.0.0.7' } } };
    for (let index = 0; index < 3; index += 1) {
      expect((await ask(fixture, LIST, {}, from)).body.errors).toBeUndefined();
    }
    const refused = await ask(fixture, LIST, {}, from);
    expect(refused.status).toBe(429);
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.body.errors?.[0]?.extensions?.['retryAfterSeconds']).toBe(retryAfter);
    expect(fixture.emulator.requests).toHaveLength(3);
    // Another address is another caller.
    expect((await ask(fixture, LIST, {}, { req: { socket: { remoteAddress: '10.0.0.8' } } })).status).toBe(
      200,
    );
  });

  it('keys callers by their token subject when tokens are required', async () => {
    const key = await signingKey('rsa-limit', 'RS256');
    const idp = await startIdentityProvider([key]);
    try {
      const fixture = await gateway({
        gateway: {
          auth: { jwt: { jwksUrl: idp.jwksUrl, issuer: ISSUER, audience: AUDIENCE } },
          rateLimitPerMinute: 1,
        },
      });
      const alice = bearer(await token(key, { claims: { sub: 'alice' } }));
      const bob = bearer(await token(key, { claims: { sub: 'bob' } }));
      expect((await ask(fixture, LIST, alice)).status).toBe(200);
      expect((await ask(fixture, LIST, alice)).status).toBe(429);
      expect((await ask(fixture, LIST, bob)).status).toBe(200);
    } finally {
      await idp.close();
    }
  });
});

describe('cross-site requests', () => {
  let fixture: GatewayFixture;
  beforeAll(async () => {
    fixture = await startGateway();
  });
  afterAll(() => fixture.close());
  const query = encodeURIComponent(LIST);

  it.each<[string, RequestInit]>([
    ['a GET without a preflight header', {}],
    [
      'a form POST',
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `query=${query}`,
      },
    ],
    [
      'a text/plain POST',
      { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: LIST }) },
    ],
    [
      'a multipart POST',
      { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--' },
    ],
  ])('refuses %s, which a browser sends cross-site unasked, with no upstream call', async (_name, init) => {
    fixture.emulator.clearRequests();
    const response = await fixture.gateway.fetch(
      `http://gateway/graphql${init.method ? '' : `?query=${query}`}`,
      init,
    );
    expect(response.status).toBe(403);
    const body = (await response.json()) as Answer['body'];
    expect(body.errors?.[0]?.extensions?.['code']).toBe('CSRF_PREVENTED');
    expect(body.errors?.[0]?.message).toContain('x-graphql-csrf');
    expect(fixture.emulator.requests).toHaveLength(0);
  });

  it.each([
    'x-graphql-csrf',
    'apollo-require-preflight',
    'x-apollo-operation-name',
    'graphql-client-name',
    // Credentials force a preflight too: a router's event-stream GET carries its secret.
    'x-router-secret',
    'authorization',
  ])('serves a GET that carries %s', async (header) => {
    const response = await fixture.gateway.fetch(`http://gateway/graphql?query=${query}`, {
      headers: { [header]: '1' },
    });
    expect(response.status).toBe(200);
  });

  it('serves a JSON POST from any client, unchanged', async () => {
    expect((await ask(fixture, LIST)).body.errors).toBeUndefined();
  });
});

describe('CORS', () => {
  const preflight = (fixture: GatewayFixture, origin: string) =>
    fixture.gateway.fetch('http://gateway/graphql', {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
    });

  it('opens the demo to any origin', async () => {
    const fixture = await gateway({ corsOrigins: '*' });
    const response = await preflight(fixture, 'https://anywhere.example');
    // Any origin is allowed; yoga names it back rather than sending `*`.
    expect(response.headers.get('access-control-allow-origin')).toBe('https://anywhere.example');
  });

  it('allows a named origin the headers clients and tracing send, and exposes the request id', async () => {
    const fixture = await gateway({ corsOrigins: ['https://app.example.com'] });
    const response = await preflight(fixture, 'https://app.example.com');
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const allowed = (response.headers.get('access-control-allow-headers') ?? '')
      .split(',')
      .map((h) => h.trim());
    expect(allowed).toEqual(
      expect.arrayContaining([
        'authorization',
        'content-type',
        'traceparent',
        'tracestate',
        'x-request-id',
        'apollographql-client-name',
        'apollographql-client-version',
        'x-graphql-csrf',
        'apollo-require-preflight',
      ]),
    );
    const simple = await fixture.gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { origin: 'https://app.example.com', 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(simple.headers.get('access-control-expose-headers')).toContain('x-request-id');
  });

  it('gives no access to other origins', async () => {
    const fixture = await gateway({ corsOrigins: [] });
    const response = await preflight(fixture, 'https://evil.example');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('the Host check', () => {
  it('serves only the hosts allowed, and the probes to anyone', async () => {
    const fixture = await gateway({ gateway: { allowedHosts: ['localhost', '127.0.0.1', '[::1]'] } });
    const at = (host: string, path = '/graphql') =>
      fixture.gateway.fetch(`http://${host}${path}`, {
        method: path === '/graphql' ? 'POST' : 'GET',
        headers: { 'content-type': 'application/json', host },
        ...(path === '/graphql' ? { body: JSON.stringify({ query: LIST }) } : {}),
      });
    expect((await at('localhost:4000')).status).toBe(200);
    expect((await at('127.0.0.1:4000')).status).toBe(200);
    expect((await at('[::1]:4000')).status).toBe(200);
    const rebound = await at('attacker.example:4000');
    expect(rebound.status).toBe(421);
    expect((await at('attacker.example:4000', '/health')).status).toBe(200);
    expect((await at('10.1.2.3:4000', '/ready')).status).toBe(200);
    expect(fixture.emulator.requests).toHaveLength(3);
  });
});

describe('introspection and GraphiQL', () => {
  const INTROSPECT = '{ __schema { queryType { name } } }';

  it('are off when turned off, while _service { sdl } still answers the router', async () => {
    const fixture = await gateway({ gateway: { introspection: false, graphiql: false } });
    const introspection = await ask(fixture, INTROSPECT);
    expect(codeOf(introspection)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect((await ask(fixture, '{ _service { sdl } }')).body.data?.['_service']).toEqual({
      sdl: expect.stringContaining('type WorkflowExecution'),
    });
    // A browser opening the endpoint gets a short page saying how to send requests, not GraphiQL, not a blank 406.
    const page = await fixture.gateway.fetch('http://gateway/graphql', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('GraphiQL is off here');
    expect(html).toContain('POST /graphql');
    expect(html.length).toBeLessThan(2_000);
  });

  it('are on when asked for', async () => {
    const fixture = await gateway({ gateway: { introspection: true, graphiql: true } });
    expect((await ask(fixture, INTROSPECT)).body.errors).toBeUndefined();
    const page = await fixture.gateway.fetch('http://gateway/graphql', { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).toContain('text/html');
  });

  it('serves GraphiQL compressed and cacheable', async () => {
    const fixture = await gateway({});
    const page = await fixture.gateway.fetch('http://gateway/graphql', {
      headers: { accept: 'text/html', 'accept-encoding': 'gzip, deflate, br' },
    });
    expect(page.headers.get('content-encoding')).toBe('br');
    expect(page.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const compressed = Number(page.headers.get('content-length') ?? (await page.arrayBuffer()).byteLength);
    expect(compressed).toBeLessThan(4 * 1024 * 1024);
    const etag = page.headers.get('etag') as string;
    const again = await fixture.gateway.fetch('http://gateway/graphql', {
      headers: { accept: 'text/html', 'if-none-match': etag },
    });
    expect(again.status).toBe(304);
  });
});
