/**
 * The generic signed request under the typed calls: what it does for a call that must not run twice, and how it
 * signs a request with a body. The typed calls' behaviour is in client.test.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UpstreamAttempt } from '../../src/ci/attempts.js';
import { CiError } from '../../src/ci/errors.js';
import { CiTransport } from '../../src/ci/transport.js';
import { DEMO_CREDENTIALS, faults } from '../../src/emulator/server.js';
import { type EmulatorFixture, startEmulator } from '../support/emulator.js';

let fixture: EmulatorFixture;
const transports: CiTransport[] = [];
beforeAll(async () => {
  fixture = await startEmulator();
});
beforeEach(() => {
  fixture.emulator.clearScript();
  fixture.emulator.clearRequests();
});
afterAll(async () => {
  await Promise.all(transports.map((transport) => transport.close()));
  await fixture.close();
});

function transport(endpoint = fixture.emulator.url, timeoutMs = 300) {
  const made = new CiTransport({ endpoint, credentials: DEMO_CREDENTIALS, timeoutMs, sleep: async () => {} });
  transports.push(made);
  return made;
}

const trigger = {
  operation: 'TriggerWorkflow',
  method: 'POST',
  path: '/triggerworkflow',
  query: [
    ['workflowId', 'w0a1b2c3d4e5f60718293a4b5c6d7e8f9'],
    ['object', 'dir/测试 file.mp4'],
  ],
  idempotent: false,
} as const;

async function attempts(call: (onAttempt: (attempt: UpstreamAttempt) => void) => Promise<unknown>) {
  const seen: UpstreamAttempt[] = [];
  const error = await call((attempt) => seen.push(attempt)).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  return { error, seen };
}

describe('a call that must not run twice', () => {
  it.each([
    ['a 5xx', faults.unavailable()],
    ['a timeout', faults.hang()],
  ])('is not retried after %s: CI may have acted on it', async (_name, fault) => {
    fixture.emulator.script(fault, 5, '/triggerworkflow');
    const { error, seen } = await attempts((onAttempt) =>
      transport().call(trigger, (body) => body, { onAttempt }),
    );
    expect(error).toBeInstanceOf(CiError);
    expect(seen).toHaveLength(1);
    expect(fixture.emulator.requests).toHaveLength(1);
  });

  it('is retried after a throttling answer: CI turned it away', async () => {
    fixture.emulator.script(faults.throttled(), 1, '/triggerworkflow');
    const { seen } = await attempts((onAttempt) => transport().call(trigger, (body) => body, { onAttempt }));
    expect(seen.map((attempt) => attempt.status)).toEqual([429, 200]);
  });

  it('is retried when the connection was refused: nothing was sent', async () => {
    const { error, seen } = await attempts((onAttempt) =>
      transport('http://127.0.0.1:1').call(trigger, (body) => body, { onAttempt, maxRetries: 2 }),
    );
    expect(error).toMatchObject({ kind: 'unavailable', requestSent: false });
    expect(seen).toHaveLength(3);
  });

  it('signs content-type and content-length with the body', async () => {
    await attempts(() => transport().call({ ...trigger, body: '<Request/>' }, (body) => body));
    expect(fixture.emulator.requests[0]).toMatchObject({
      method: 'POST',
      signatureVerified: true,
      signedHeaders: ['content-length', 'content-type', 'host'],
    });
  });
});

describe('payment per attempt', () => {
  it('asks before every attempt, retries included, and stops when refused', async () => {
    fixture.emulator.script(faults.unavailable(), 10);
    let asked = 0;
    const error = await transport()
      .call({ ...trigger, method: 'GET', idempotent: true }, (body) => body, {
        beforeAttempt: () => {
          asked += 1;
          if (asked > 2) throw new Error('budget spent');
        },
      })
      .catch((failure: unknown) => failure);
    expect(error).toEqual(new Error('budget spent'));
    expect(fixture.emulator.requests).toHaveLength(2);
  });
});
