/** A plugin's `onRequest` that throws is answered a plain 500, logged with its stack, and never shown to the client. */
import { Writable } from 'node:stream';
import { createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { guardRequestHooks } from '../../src/plugins/request-hook-guard.js';
import { createLogger } from '../../src/telemetry/logger.js';

function yogaWith(onRequest: () => unknown) {
  const lines: string[] = [];
  const logger = createLogger(
    'error',
    new Writable({ write: (chunk, _encoding, done) => done(void lines.push(String(chunk))) }),
  );
  const yoga = createYoga({
    logging: false,
    plugins: guardRequestHooks([{ onRequest }], logger),
  });
  return { yoga, lines };
}

describe('guardRequestHooks', () => {
  it.each([
    [
      'throws',
      () => {
        decodeURIComponent('%E0%A4%A');
      },
    ],
    ['rejects', async () => Promise.reject(new Error('a hook bug'))],
  ])('answers 500 without a stack when a hook %s, and logs the stack', async (_case, onRequest) => {
    const { yoga, lines } = yogaWith(onRequest);
    const response = await yoga.fetch('http://gateway/anything');
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(body).toBe('Internal error\n');
    const logged = JSON.parse(lines[0] as string) as { level: string; msg: string; err: { stack: string } };
    expect(logged).toMatchObject({ level: 'error', msg: 'a request hook failed' });
    expect(logged.err.stack).toMatch(/Error/);
  });
});
