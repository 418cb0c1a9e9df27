/**
 * `npm run bench:attack [-- <bundle folder>]`: the guarantees that are not about the plain HTTP query path,
 * measured against the production bundle as an attacker or a rollout would meet them. Each scenario starts the bundle
 * in production mode (router secret, the image's CMD flags) on an emulator in this process, does one thing to it,
 * and prints what it measured. With a folder argument it measures that build instead (an earlier commit's bundle,
 * say, for a before-and-after).
 *
 * Scenarios: distinct megabyte documents of one comment each; a 50 MB chunked body to the CI callback path;
 * wrong-token guesses; router callback subscriptions past the per-caller limit; graphql-ws queries from a caller
 * over its rate limit; SIGTERM with a WebSocket, an SSE stream, or a poll stuck upstream open.
 */
import { readFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { buildGateway } from '../../scripts/build.js';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { type CiEmulator, createCiEmulator, faults } from '../../src/emulator/server.js';
import { emulatorUpstream, type RunningGateway, spawnBundle } from '../../test/support/processes.js';

const root = new URL('../../', import.meta.url).pathname;
const SECRET = 'router-secret-for-the-attack-bench';
const TOKEN = 'attack-bench-callback-token-0123456789abcdef';
const fromRouter = { 'content-type': 'application/json', 'x-router-secret': SECRET };
const LARGE = DEMO_WORKFLOW_IDS.large;
const LIST = `{ workflowExecutions(filter: { workflowId: "${LARGE}" }, first: 2) { edges { node { runId } } } }`;

const results: Array<{ scenario: string; measured: string }> = [];
const report = (scenario: string, measured: string) => {
  results.push({ scenario, measured });
  process.stdout.write(`${scenario}: ${measured}\n`);
};

function rssMiB(gateway: RunningGateway, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${gateway.child.pid}/status`, 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) / 1024;
}

async function start(folder: string, emulator: CiEmulator, env: Record<string, string> = {}) {
  return spawnBundle(root, folder, {
    ...emulatorUpstream(emulator.url),
    ROUTER_SECRET: SECRET,
    CI_CALLBACK_TOKEN: TOKEN,
    SHUTDOWN_DELAY_MS: '0',
    LOG_LEVEL: 'info',
    ...env,
  });
}

async function stopped(gateway: RunningGateway): Promise<void> {
  gateway.child.kill('SIGKILL');
  await gateway.exited;
}

async function documents(folder: string, emulator: CiEmulator) {
  const gateway = await start(folder, emulator);
  try {
    await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: fromRouter,
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    const idle = rssMiB(gateway);
    const filler = 'x'.repeat(1_000_000);
    const statuses = new Map<number, number>();
    const startedAt = Date.now();
    // 1,100 requests in 55 s: 20 a second, sent on schedule.
    const sent: Array<Promise<void>> = [];
    for (let i = 0; i < 1_100; i += 1) {
      const due = startedAt + i * 50;
      if (due > Date.now()) await delay(due - Date.now());
      sent.push(
        fetch(`${gateway.url}/graphql`, {
          method: 'POST',
          headers: fromRouter,
          body: JSON.stringify({ query: `{ __typename }\n# ${i} ${filler}` }),
        }).then(
          async (response) => {
            await response.arrayBuffer();
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          },
          () => void statuses.set(0, (statuses.get(0) ?? 0) + 1),
        ),
      );
      if (gateway.child.exitCode !== null) break;
    }
    await Promise.all(sent);
    const alive = gateway.child.exitCode === null;
    report(
      'distinct 1 MB one-comment documents, 1,100 in 55 s',
      `RSS ${idle.toFixed(0)} → ${alive ? rssMiB(gateway).toFixed(0) : 'exited'} MiB (${alive ? (rssMiB(gateway) / idle).toFixed(2) : '—'}× idle), statuses ${JSON.stringify([...statuses])}`,
    );
  } finally {
    await stopped(gateway);
  }
}

async function chunkedCallback(folder: string, emulator: CiEmulator) {
  const gateway = await start(folder, emulator);
  try {
    const idle = rssMiB(gateway, 'VmHWM');
    let worstHealthMs = 0;
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const at = performance.now();
        await fetch(`${gateway.url}/health`).then((r) => r.arrayBuffer());
        worstHealthMs = Math.max(worstHealthMs, performance.now() - at);
        await delay(100);
      }
    })();
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    let sentMiB = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sentMiB >= 50) controller.close();
        else {
          sentMiB += 1;
          controller.enqueue(chunk);
        }
      },
    });
    const init = { method: 'POST', headers: { 'content-type': 'application/xml' }, body, duplex: 'half' };
    const status = await fetch(`${gateway.url}/ci/callback/${TOKEN}`, init as RequestInit).then(
      (r) => r.status,
      (error: Error) => `failed (${error.message})`,
    );
    await delay(300);
    probing = false;
    await probe;
    report(
      'one 50 MB chunked body to /ci/callback/<token>',
      `answer ${status} after ${sentMiB} MiB sent; peak RSS ${idle.toFixed(0)} → ${rssMiB(gateway, 'VmHWM').toFixed(0)} MiB; slowest /health ${worstHealthMs.toFixed(0)} ms`,
    );
  } finally {
    await stopped(gateway);
  }
}

async function tokenGuesses(folder: string, emulator: CiEmulator) {
  const gateway = await start(folder, emulator);
  try {
    const before = gateway.lines.length;
    const statuses = new Map<number, number>();
    const until = Date.now() + 1_000;
    await Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        for (let i = 0; Date.now() < until; i += 1) {
          const response = await fetch(
            `${gateway.url}/ci/callback/guess-${worker}-${i}-0123456789abcdef0123456789`,
            {
              method: 'POST',
              body: 'x',
            },
          );
          await response.arrayBuffer();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        }
      }),
    );
    await delay(200);
    const logged = gateway.lines
      .slice(before)
      .filter((line) => String(line['msg']).startsWith('CI callback')).length;
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    report(
      'wrong-token guesses for 1 s, 8 at a time',
      `${total} guesses, statuses ${JSON.stringify([...statuses])}, ${logged} log lines`,
    );
  } finally {
    await stopped(gateway);
  }
}

async function fakeRouter() {
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(204, { 'subscription-protocol': 'callback/1.0' }).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function routerSubscriptions(folder: string, emulator: CiEmulator) {
  const router = await fakeRouter();
  const gateway = await start(folder, emulator, {
    SUBSCRIPTION_CALLBACK_ORIGINS: router.url,
    MAX_SUBSCRIPTIONS_PER_CALLER: '200',
  });
  try {
    let accepted = 0;
    for (let i = 0; i < 260; i += 1) {
      const response = await fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: fromRouter,
        body: JSON.stringify({
          query: `subscription { workflowExecutionEvents(filter: { workflowId: "${LARGE}" }) { kind } }`,
          extensions: {
            subscription: {
              callbackUrl: `${router.url}/callback/${i}`,
              subscriptionId: `sub-${i}`,
              verifier: 'v',
              heartbeatIntervalMs: 5_000,
            },
          },
        }),
      });
      const body = (await response.json()) as { data?: unknown; errors?: unknown };
      if (body.errors === undefined) accepted += 1;
    }
    report(
      'router callback subscriptions at MAX_SUBSCRIPTIONS_PER_CALLER=200',
      `${accepted} of 260 accepted`,
    );
  } finally {
    await stopped(gateway);
    router.server.close();
  }
}

async function socketRateLimit(folder: string, emulator: CiEmulator) {
  const gateway = await start(folder, emulator, { RATE_LIMIT_UPSTREAM_CALLS_PER_MINUTE: '60' });
  const client = createClient({
    url: `${gateway.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { 'x-router-secret': SECRET },
    retryAttempts: 0,
  });
  try {
    // Spend the caller's minute over HTTP until it is refused.
    for (let status = 0; status !== 429; ) {
      status = (
        await fetch(`${gateway.url}/graphql`, {
          method: 'POST',
          headers: fromRouter,
          body: JSON.stringify({ query: LIST }),
        })
      ).status;
    }
    emulator.clearRequests();
    let refused = 0;
    for (let i = 0; i < 600; i += 1) {
      await new Promise<void>((resolve) =>
        client.subscribe(
          { query: LIST },
          {
            next: (result) => {
              if (result.errors) refused += 1;
            },
            error: () => {
              refused += 1;
              resolve();
            },
            complete: resolve,
          },
        ),
      );
    }
    report(
      'graphql-ws queries from a caller at 429 over HTTP (60 calls a minute)',
      `600 sent, ${refused} refused, ${emulator.requests.length} CI calls made`,
    );
  } finally {
    await client.dispose();
    await stopped(gateway);
  }
}

async function drainWith(
  folder: string,
  emulator: CiEmulator,
  what: string,
  env: Record<string, string>,
  open: (gateway: RunningGateway) => Promise<() => string>,
) {
  const gateway = await start(folder, emulator, env);
  try {
    const outcome = await open(gateway);
    const signalledAt = Date.now();
    gateway.child.kill('SIGTERM');
    const exit = await Promise.race([gateway.exited, delay(60_000).then(() => 'still running after 60 s')]);
    report(`SIGTERM with ${what}`, `exit ${exit} after ${Date.now() - signalledAt} ms; ${outcome()}`);
  } finally {
    emulator.clearScript();
    await stopped(gateway);
  }
}

async function drains(folder: string, emulator: CiEmulator) {
  const EVENTS = `subscription { workflowExecutionEvents(filter: { workflowId: "${LARGE}" }) { kind } }`;
  await drainWith(
    folder,
    emulator,
    'one idle graphql-ws subscription (timeout 20 s)',
    {},
    async (gateway) => {
      let code: number | undefined;
      const client = createClient({
        url: `${gateway.url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { 'x-router-secret': SECRET },
        retryAttempts: 0,
        on: {
          closed: (event) => {
            code = (event as { code: number }).code;
          },
        },
      });
      client.subscribe({ query: EVENTS }, { next: () => {}, error: () => {}, complete: () => {} });
      await delay(500);
      return () => `close code ${code ?? 'none'}`;
    },
  );
  await drainWith(folder, emulator, 'one idle SSE subscription (timeout 20 s)', {}, async (gateway) => {
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { ...fromRouter, accept: 'text/event-stream' },
      body: JSON.stringify({ query: EVENTS }),
    });
    let text = '';
    let ending = 'open';
    void (async () => {
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
          text += Buffer.from(chunk);
        ending = 'ended';
      } catch {
        ending = 'reset';
      }
    })();
    await delay(500);
    return () =>
      `stream ${ending}, ${text.includes('event: complete') ? 'with' : 'without'} a complete event`;
  });
  await drainWith(
    folder,
    emulator,
    'a poll stuck upstream (CI_TIMEOUT_MS=3000, timeout 20 s)',
    { CI_TIMEOUT_MS: '3000', POLL_INTERVAL_MS: '200' },
    async (gateway) => {
      const response = await fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { ...fromRouter, accept: 'text/event-stream' },
        body: JSON.stringify({ query: EVENTS }),
      });
      void response.body?.pipeTo(new WritableStream()).catch(() => {});
      await delay(300);
      emulator.clearRequests();
      emulator.script(faults.hang(), 1_000, '/workflowexecution');
      while (!emulator.requests.some((request) => request.fault === 'hang')) await delay(20);
      return () => 'a poll was hanging upstream at the signal';
    },
  );
}

const folderArgument = process.argv[2];
const folder = folderArgument ?? join(root, 'dist-bench', 'attack');
if (!folderArgument) {
  await buildGateway(join(folder, 'dist'));
  await cp(join(root, 'package.json'), join(folder, 'package.json'));
}
const emulator = createCiEmulator();
await emulator.listen(0);
try {
  for (const scenario of [
    documents,
    chunkedCallback,
    tokenGuesses,
    routerSubscriptions,
    socketRateLimit,
    drains,
  ]) {
    await scenario(folder, emulator);
  }
} finally {
  await emulator.close();
}
process.stdout.write(
  `\n| scenario | measured |\n|---|---|\n${results.map((r) => `| ${r.scenario} | ${r.measured} |`).join('\n')}\n`,
);
process.exit(0);
