/** The console's files as the gateway serves them: headers, validators, encodings, and nothing else. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CONTENT_SECURITY_POLICY, useConsolePage } from '../../src/plugins/console-page.js';

const SCRIPT = `console.log(${JSON.stringify('x'.repeat(2_000))});\n`;

/** A GraphQL server at `/consoles`, a path the console's prefix must not swallow. */
function serverWith(plugin: Plugin) {
  return createYoga({
    schema: createSchema({ typeDefs: 'type Query { ok: Boolean }' }),
    plugins: [plugin],
    graphqlEndpoint: '/consoles',
    graphiql: false,
    landingPage: false,
    logging: false,
  });
}

describe('useConsolePage', () => {
  let directory: string;
  let yoga: ReturnType<typeof serverWith>;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'console-page-'));
    await mkdir(join(directory, 'assets'));
    await writeFile(join(directory, 'index.html'), '<!doctype html><title>console</title>');
    await writeFile(join(directory, 'assets', 'main-ABC123.js'), SCRIPT);
    await writeFile(join(directory, 'secret.env'), 'NOT=served');
    yoga = serverWith(useConsolePage({ directory }));
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  it('serves the page for revalidation on every visit, under a policy that allows only this origin', async () => {
    for (const path of ['/console', '/console/']) {
      const response = await yoga.fetch(`http://localhost${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('content-security-policy')).toBe(CONSOLE_CONTENT_SECURITY_POLICY);
      expect(await response.text()).toContain('<title>console</title>');
    }
    expect(CONSOLE_CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONSOLE_CONTENT_SECURITY_POLICY).toContain("connect-src 'self'");
  });

  it('serves hashed assets for good, compressed as accepted, and 304 to a browser that holds them', async () => {
    const url = 'http://localhost/console/assets/main-ABC123.js';
    const compressed = await yoga.fetch(url, { headers: { 'accept-encoding': 'gzip, br' } });
    expect(compressed.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(compressed.headers.get('content-encoding')).toBe('br');
    expect(compressed.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const body = Buffer.from(await compressed.arrayBuffer());
    expect(body.length).toBeLessThan(SCRIPT.length / 10);
    expect(brotliDecompressSync(body).toString()).toBe(SCRIPT);

    const plain = await yoga.fetch(url, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await plain.text()).toBe(SCRIPT);

    const etag = compressed.headers.get('etag') as string;
    const again = await yoga.fetch(url, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('serves nothing else: no other file, no path out of the folder, no other method', async () => {
    for (const path of [
      '/console/secret.env',
      '/console/assets/../secret.env',
      '/console/assets/missing.js',
    ]) {
      expect((await yoga.fetch(`http://localhost${path}`)).status, path).toBe(404);
    }
    expect((await yoga.fetch('http://localhost/console', { method: 'POST' })).status).toBe(405);
    // Other paths go on to the GraphQL server, even one the console's path begins.
    const graphql = await yoga.fetch('http://localhost/consoles?query=%7B__typename%7D');
    expect(await graphql.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('says how to build the console where it is not built, and finds it once it is', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'console-page-empty-'));
    try {
      const unbuilt = serverWith(useConsolePage({ directory: empty }));
      const response = await unbuilt.fetch('http://localhost/console');
      expect(response.status).toBe(503);
      expect(await response.text()).toContain('npm run build');
      await writeFile(join(empty, 'index.html'), '<!doctype html><title>built later</title>');
      expect(await (await unbuilt.fetch('http://localhost/console')).text()).toContain('built later');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
