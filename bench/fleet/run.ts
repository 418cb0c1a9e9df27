/**
 * `npm run bench:fleet [-- <bundle folder>]`: a fleet of gateway replicas spending one CI account's quota, measured.
 *
 * Redis, an emulated CI that answers 429 past a fixed rate for the account, and N replicas of the production bundle
 * as processes, sharing the Redis. Driven by S run subscribers (graphql-ws) spread over R running runs in W
 * workflows, runs started and finished during the window (their subscribers measure staleness), and C console users
 * each polling a first page every 5 s. Prints CI calls per second (total and by kind), CI's 429s, the busiest 10 s
 * window against the account's limit, p50/p99 of console queries and any `UPSTREAM_THROTTLED`, subscription
 * staleness (a run's finish to its subscribers' final event), and RSS per replica.
 *
 * The shape is set by `FLEET_*` variables (defaults: the issue's targets on 4 replicas): FLEET_REPLICAS,
 * FLEET_SUBSCRIBERS, FLEET_RUNS, FLEET_WORKFLOWS, FLEET_CONSOLES, FLEET_CONSOLE_FILTERS, FLEET_SECONDS (the measured
 * window), FLEET_ACCOUNT_LIMIT (CI's calls/s for the account), FLEET_POLL_MS, FLEET_STARTS_PER_MINUTE.
 */

import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { buildGateway } from '../../scripts/build.js';
import { TASK_SECONDS } from '../../src/emulator/world.js';
import {
  emulatorUpstream,
  type RunningGateway,
  spawnBundle,
  startRedis,
} from '../../test/support/processes.js';
import type { AccountMessage, AccountReady } from './account.js';

const root = new URL('../../', import.meta.url).pathname;
const setting = (name: string, fallback: number) => Number(process.env[`FLEET_${name}`] ?? fallback);
const shape = {
  replicas: setting('REPLICAS', 4),
  subscribers: setting('SUBSCRIBERS', 10_000),
  runs: setting('RUNS', 2_000),
  workflows: setting('WORKFLOWS', 50),
  consoles: setting('CONSOLES', 200),
  consoleFilters: setting('CONSOLE_FILTERS', 10),
  seconds: setting('SECONDS', 60),
  accountLimit: setting('ACCOUNT_LIMIT', 20),
  pollMs: setting('POLL_MS', 5_000),
  startsPerMinute: setting('STARTS_PER_MINUTE', 30),
};
const SECRET = 'router-secret-for-the-fleet-bench';
const fromRouter = { 'content-type': 'application/json', 'x-router-secret': SECRET };
/** Subscriptions per graphql-ws connection, as a router or a busy browser tab multiplexes them. */
const PER_CONNECTION = 250;
/** A started run finishes this long after it starts (the emulator's two tasks). */
const RUN_SECONDS = 2 * TASK_SECONDS;

// ---------------------------------------------------------------------------------------------------------------
// What the bench measures.

/** Every CI call, by the second it was reported in by the emulated account (`account.ts`). */
class CallLog {
  readonly perSecond: Array<Map<string, number>> = [];
  #startedAt: number | undefined;

  start(): void {
    this.#startedAt = Date.now();
  }

  add(counts: Readonly<Record<string, number>>): void {
    if (this.#startedAt === undefined) return;
    const second = Math.floor((Date.now() - this.#startedAt) / 1000);
    const bucket = this.perSecond[second] ?? new Map<string, number>();
    this.perSecond[second] = bucket;
    for (const [kind, n] of Object.entries(counts)) bucket.set(kind, (bucket.get(kind) ?? 0) + n);
  }

  stop(): void {
    this.#startedAt = undefined;
  }

  total(kind?: string): number {
    return this.perSecond.reduce((sum, second) => sum + count(second, kind), 0);
  }

  /** The most calls in any `seconds`-long window. */
  busiest(seconds: number): number {
    let most = 0;
    for (let start = 0; start + seconds <= this.perSecond.length; start += 1) {
      let sum = 0;
      // Every call CI received counts here, those it refused too.
      for (let s = start; s < start + seconds; s += 1) {
        const second = this.perSecond[s] ?? new Map<string, number>();
        sum += count(second) + count(second, '(429)');
      }
      most = Math.max(most, sum);
    }
    return most;
  }

  kinds(): string[] {
    return [...new Set(this.perSecond.flatMap((second) => [...second.keys()]))].sort();
  }
}

function count(second: Map<string, number>, kind?: string): number {
  if (kind !== undefined) return second.get(kind) ?? 0;
  return [...second.entries()].reduce((sum, [k, n]) => (k === '(429)' ? sum : sum + n), 0);
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function rssMiB(gateway: RunningGateway, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${gateway.child.pid}/status`, 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) / 1024;
}

// ---------------------------------------------------------------------------------------------------------------
// The load: subscribers over graphql-ws, console users over HTTP, runs started through the gateway.

const RUN_UPDATES = `subscription Run($runId: ID!) { workflowExecutionUpdated(runId: $runId) { runId state } }`;
const FIRST_PAGE = `query Page($workflowId: ID!) {
  workflowExecutions(filter: { workflowId: $workflowId }, first: 20) { edges { node { runId state } } }
}`;

interface Tally {
  firstEvents: number;
  finalEvents: number;
  errors: Map<string, number>;
}

function noteError(tally: Tally, error: unknown): void {
  const code =
    (Array.isArray(error) && (error[0] as { extensions?: { code?: string } })?.extensions?.code) ||
    (error instanceof Error ? error.message : 'closed');
  tally.errors.set(String(code), (tally.errors.get(String(code)) ?? 0) + 1);
}

function socketsTo(gateways: readonly RunningGateway[], count: number): Client[] {
  return Array.from({ length: count }, (_, i) => {
    const gateway = gateways[i % gateways.length] as RunningGateway;
    return createClient({
      url: `${gateway.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { 'x-router-secret': SECRET },
      retryAttempts: 0,
      lazy: false,
    });
  });
}

/** Subscribes to a run; resolves with the time its final event arrived (undefined if it never did). */
function watchRun(client: Client, runId: string, tally: Tally): Promise<number | undefined> {
  return new Promise((resolve) => {
    let first = true;
    let finishedAt: number | undefined;
    client.subscribe(
      { query: RUN_UPDATES, variables: { runId } },
      {
        next: (event) => {
          const state = (event.data as { workflowExecutionUpdated?: { state: string } } | undefined)
            ?.workflowExecutionUpdated?.state;
          if (first) tally.firstEvents += 1;
          first = false;
          if (event.errors) noteError(tally, event.errors);
          if (state === 'SUCCESS' || state === 'FAILED') {
            finishedAt = Date.now();
            tally.finalEvents += 1;
          }
        },
        error: (error) => {
          noteError(tally, error);
          resolve(finishedAt);
        },
        complete: () => resolve(finishedAt),
      },
    );
  });
}

async function graphql(gateway: RunningGateway, query: string, variables: object) {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: fromRouter,
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
}

// ---------------------------------------------------------------------------------------------------------------

const folderArgument = process.argv[2];
const folder = folderArgument ?? join(root, 'dist-bench', 'fleet');
if (!folderArgument) {
  await buildGateway(join(folder, 'dist'));
  await cp(join(root, 'package.json'), join(folder, 'package.json'));
}
const account = fork(join(root, 'bench/fleet/account.ts'), [], {
  execArgv: ['--import', 'tsx'],
  env: {
    ...process.env,
    FLEET_WORKFLOWS: String(shape.workflows),
    FLEET_RUNS: String(shape.runs),
    FLEET_ACCOUNT_LIMIT: String(shape.accountLimit),
  },
});
const logs: CallLog[] = [];
let refused = 0;
const ready = new Promise<AccountReady>((resolve) => {
  account.on('message', (message: AccountMessage) => {
    if (message.type === 'ready') resolve(message);
    else {
      refused = message.refused;
      for (const log of logs) log.add(message.counts);
    }
  });
});
const { url: emulatorUrl, workflowIds, runIds: staticRuns } = await ready;
const redis = await startRedis();
const gateways: RunningGateway[] = [];
const sockets: Client[] = [];
process.stdout.write(`fleet: ${JSON.stringify(shape)}\n`);
try {
  account.send('enforce');
  for (let i = 0; i < shape.replicas; i += 1) {
    gateways.push(
      await spawnBundle(root, folder, {
        ...emulatorUpstream(emulatorUrl),
        ROUTER_SECRET: SECRET,
        REDIS_URL: redis.url,
        POLL_INTERVAL_MS: String(shape.pollMs),
        // The governor's budget: nine tenths of what CI allows, so CI never has to refuse.
        CI_ACCOUNT_CALLS_PER_SECOND: String(Math.floor(shape.accountLimit * 0.9)),
        MAX_SUBSCRIPTIONS_PER_CONNECTION: String(PER_CONNECTION),
        MAX_SUBSCRIPTIONS_PER_CALLER: '100000',
        RATE_LIMIT_UPSTREAM_CALLS_PER_MINUTE: '0',
        SHUTDOWN_DELAY_MS: '0',
        LOG_LEVEL: 'info',
      }),
    );
  }
  const calls = new CallLog();
  logs.push(calls);
  const tally: Tally = { firstEvents: 0, finalEvents: 0, errors: new Map() };

  // Warm-up: the subscribers arrive. Each run's first subscriber first (its replica reads the run once), the
  // others a moment later (their replicas start from that read, kept in Redis for an interval), at the pace the
  // budget left by the scans allows.
  sockets.push(...socketsTo(gateways, Math.ceil(shape.subscribers / PER_CONNECTION)));
  // The runs started in the window have sockets of their own: the others are full.
  const startedRunSockets = socketsTo(gateways, shape.replicas);
  sockets.push(...startedRunSockets);
  const warmupCalls = new CallLog();
  logs.push(warmupCalls);
  warmupCalls.start();
  const warmupStart = Date.now();
  const perRun = Math.max(1, Math.round(shape.subscribers / staticRuns.length));
  const budgetLeft = Math.max(
    1,
    Math.floor(shape.accountLimit * 0.9) - shape.workflows / (shape.pollMs / 1000),
  );
  let subscribed = 0;
  const subscribeTo = (runId: string) => {
    const socket = sockets[subscribed % (sockets.length - startedRunSockets.length)] as Client;
    subscribed += 1;
    void watchRun(socket, runId, tally);
  };
  for (let start = 0; start < staticRuns.length; start += budgetLeft) {
    const batch = staticRuns.slice(start, start + budgetLeft);
    for (const runId of batch) subscribeTo(runId);
    await delay(1_000);
  }
  for (let round = 1; round < perRun && subscribed < shape.subscribers; round += 1) {
    for (const runId of staticRuns) if (subscribed < shape.subscribers) subscribeTo(runId);
    await delay(200);
  }
  while (tally.firstEvents < subscribed && Date.now() - warmupStart < 600_000) {
    await delay(5_000);
    process.stdout.write(
      `  … ${tally.firstEvents}/${subscribed} first events, errors ${JSON.stringify([...tally.errors])}\n`,
    );
  }
  process.stdout.write(
    `warm-up: ${subscribed} subscriptions, ${tally.firstEvents} first events in ` +
      `${((Date.now() - warmupStart) / 1000).toFixed(0)} s; errors ${JSON.stringify([...tally.errors])}\n`,
  );
  warmupCalls.stop();
  process.stdout.write(
    `warm-up CI calls: ${warmupCalls.total()} (${warmupCalls
      .kinds()
      .map((kind) => `${kind} ${warmupCalls.total(kind)}`)
      .join(', ')})\n`,
  );
  tally.errors.clear();
  await delay(shape.pollMs);

  // The measured window.
  calls.start();
  const until = Date.now() + shape.seconds * 1000;
  const consoleLatencies: number[] = [];
  const consoleErrors = new Map<string, number>();
  const consoles = Array.from({ length: shape.consoles }, async (_, user) => {
    const gateway = gateways[user % gateways.length] as RunningGateway;
    const workflowId = workflowIds[user % shape.consoleFilters] as string;
    await delay((user / shape.consoles) * 5_000);
    while (Date.now() < until) {
      const sent = performance.now();
      const answer = await graphql(gateway, FIRST_PAGE, { workflowId }).catch(() => ({ errors: [{}] }));
      consoleLatencies.push(performance.now() - sent);
      for (const error of answer.errors ?? []) {
        const code = (error as { extensions?: { code?: string } }).extensions?.code ?? 'network';
        consoleErrors.set(code, (consoleErrors.get(code) ?? 0) + 1);
      }
      await delay(5_000);
    }
  });
  const staleness: number[] = [];
  const starts = (async () => {
    let n = 0;
    while (Date.now() < until) {
      const gateway = gateways[n % gateways.length] as RunningGateway;
      const workflowId = workflowIds[n % workflowIds.length] as string;
      const sentAt = Date.now();
      const started = await graphql(
        gateway,
        `mutation Start($workflowId: ID!, $objectKey: String!) {
          triggerWorkflow(input: { workflowId: $workflowId, objectKey: $objectKey }) { runId }
        }`,
        { workflowId, objectKey: `fleet/started/${n}.mp4` },
      );
      n += 1;
      const runId = (started.data?.['triggerWorkflow'] as { runId?: string } | undefined)?.runId;
      if (runId) {
        const finishesAt = sentAt + RUN_SECONDS * 1000;
        for (let s = 0; s < perRun; s += 1) {
          const socket = startedRunSockets[(n * perRun + s) % startedRunSockets.length] as Client;
          void watchRun(socket, runId, tally).then((finishedAt) => {
            if (finishedAt !== undefined) staleness.push(finishedAt - finishesAt);
          });
        }
      } else {
        process.stdout.write(`a run could not be started: ${JSON.stringify(started)}\n`);
        noteError(tally, started.errors);
      }
      await delay(60_000 / shape.startsPerMinute);
    }
  })();
  await Promise.all([...consoles, starts]);
  await delay(RUN_SECONDS * 1000 + 3 * shape.pollMs);
  calls.stop();

  // What was measured.
  const seconds = calls.perSecond.length;
  const perSecond = (n: number) => (n / seconds).toFixed(2);
  process.stdout.write(
    `\nmeasured over ${seconds} s, ${shape.replicas} replicas, CI limit ${shape.accountLimit}/s\n`,
  );
  process.stdout.write(`CI calls/s, whole fleet: ${perSecond(calls.total())} (${calls.total()} calls)\n`);
  for (const kind of calls.kinds().filter((kind) => kind !== '(429)')) {
    process.stdout.write(`  ${kind}: ${perSecond(calls.total(kind))}/s (${calls.total(kind)})\n`);
  }
  const busiest = calls.busiest(10);
  process.stdout.write(
    `busiest 10 s: ${busiest} calls = ${((busiest / (shape.accountLimit * 10)) * 100).toFixed(1)}% of the limit\n`,
  );
  process.stdout.write(
    `CI 429s: ${calls.total('(429)')} in the window, ${refused} since the first replica started\n`,
  );
  const pageLists = calls.total('list: a page');
  process.stdout.write(
    `console: ${consoleLatencies.length} queries, p50 ${percentile(consoleLatencies, 50).toFixed(1)} ms, ` +
      `p99 ${percentile(consoleLatencies, 99).toFixed(1)} ms, errors ${JSON.stringify([...consoleErrors])}; ` +
      `CI page lists per 5 s per filter: ${(((pageLists / seconds) * 5) / shape.consoleFilters).toFixed(2)}\n`,
  );
  process.stdout.write(
    `staleness (finish → final event), ${staleness.length} events: p50 ${percentile(staleness, 50).toFixed(0)} ms, ` +
      `p99 ${percentile(staleness, 99).toFixed(0)} ms (interval ${shape.pollMs} ms); subscription errors ` +
      `${JSON.stringify([...tally.errors])}\n`,
  );
  for (const [i, gateway] of gateways.entries()) {
    process.stdout.write(
      `replica ${i}: RSS ${rssMiB(gateway, 'VmRSS').toFixed(0)} MiB (peak ${rssMiB(gateway, 'VmHWM').toFixed(0)} MiB)\n`,
    );
  }
} finally {
  await Promise.allSettled(sockets.map((socket) => socket.dispose()));
  for (const gateway of gateways) gateway.child.kill('SIGKILL');
  await Promise.allSettled(gateways.map((gateway) => gateway.exited));
  await redis.stop();
  account.kill();
}
