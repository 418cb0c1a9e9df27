/** The HTTP server's own limits: request bodies, slow senders, and responses nobody reads. */

import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, type HttpLimits, type TrackedServer } from '../../src/http/http-server.js';
import { type GatewayFixture, startGateway } from '../support/gateway.js';

const servers: TrackedServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(
    servers.splice(0).map(async ({ server }) => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }),
  );
});

async function listen(listener: Parameters<typeof createHttpServer>[0], limits: HttpLimits = {}) {
  const tracked = createHttpServer(listener, limits);
  servers.push(tracked);
  await new Promise<void>((resolve) => tracked.server.listen(0, '127.0.0.1', () => resolve()));
  return { tracked, port: (tracked.server.address() as AddressInfo).port };
}

function rawClient(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', () => {});
    sockets.push(socket);
  });
}

async function until(condition: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await delay(10);
  }
  return Date.now() - started;
}

describe('request bodies', () => {
  let fixture: GatewayFixture;
  beforeAll(async () => {
    fixture = await startGateway({ maxRequestBytes: 64 * 1024 });
  });
  afterAll(() => fixture.close());

  it('refuses a body over MAX_REQUEST_BYTES with 413, by its declared length', async () => {
    const body = JSON.stringify({ query: `{ __typename }${' '.repeat(70 * 1024)}` });
    const response = await fixture.gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      body,
    });
    expect(response.status).toBe(413);
    expect(fixture.emulator.requests).toHaveLength(0);
  });

  it('refuses a chunked body once it grows past the limit', async () => {
    const { port } = await listen(fixture.gateway);
    const socket = await rawClient(port);
    let answer = '';
    socket.on('data', (chunk) => {
      answer += String(chunk);
    });
    socket.write(
      'POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n',
    );
    const chunk = `{"query":"{ __typename }${' '.repeat(16 * 1024)}`;
    for (let index = 0; index < 6; index += 1)
      socket.write(`${Buffer.byteLength(chunk).toString(16)}\r\n${chunk}\r\n`);
    await until(() => answer.includes('\r\n\r\n'), 5_000);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
  });
});

describe('slow clients', () => {
  it('drops a response the client stops reading, freeing what it buffered', async () => {
    const big = Buffer.alloc(64 * 1024 * 1024, 'x');
    const { tracked, port } = await listen((_request, response) => response.end(big), {
      stalledResponseTimeoutMs: 300,
    });
    const socket = await rawClient(port);
    socket.pause();
    socket.write('GET /big HTTP/1.1\r\nhost: localhost\r\n\r\n');
    await until(() => tracked.inFlight === 1, 2_000);
    const waited = await until(() => tracked.inFlight === 0, 5_000);
    expect(waited).toBeGreaterThanOrEqual(250);
    // Closed, never finished: the 64 MiB were not delivered, and the socket holding them is gone.
    expect(tracked.completed).toBe(0);
  });

  it('keeps a response the client reads slowly but steadily', async () => {
    const { port } = await listen((_request, response) => response.end(Buffer.alloc(8 * 1024 * 1024, 'y')), {
      stalledResponseTimeoutMs: 300,
    });
    const socket = await rawClient(port);
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      socket.pause();
      setTimeout(() => socket.resume(), 5);
    });
    socket.write('GET /big HTTP/1.1\r\nhost: localhost\r\n\r\n');
    await until(() => received >= 8 * 1024 * 1024, 20_000);
  });

  it('closes a connection whose headers do not arrive in time', async () => {
    const { port } = await listen((_request, response) => response.end('never'), { headersTimeoutMs: 400 });
    const socket = await rawClient(port);
    let answer = '';
    let closed = false;
    socket.on('data', (chunk) => {
      answer += String(chunk);
    });
    socket.on('close', () => {
      closed = true;
    });
    socket.write('GET / HTTP/1.1\r\nhost: local');
    await until(() => closed, 3_000);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });
});
