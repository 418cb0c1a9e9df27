/**
 * `npm run bench:load`: the gateway against two baselines, side by side in one run, on one static upstream: a
 * minimal hand-written proxy (no GraphQL at all) and a bare graphql-yoga server doing the same upstream work. Each
 * target is its own process, run by the Node that runs this script; the load comes from autocannon in this one.
 * Rounds interleave the targets, so a slow minute of the machine hurts all alike; figures are medians over rounds.
 *
 * Prints, per workload: throughput and p50/p99 latency with the ratios to each baseline, upstream calls per
 * request, and each target's RSS idle after start and at its peak.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Pool } from 'undici';
import { DEMO_CREDENTIALS } from '../../src/emulator/server.js';
import { freePort, imageCommand } from '../../test/support/processes.js';
import { loadRequestBody } from './load-query.js';

const ROUNDS = Number(process.env['ROUNDS'] ?? 3);
const SECONDS = Number(process.env['SECONDS_PER_RUN'] ?? 5);
/** Another build of the gateway (a folder holding its `index.js`, such as an earlier commit's), in the same rounds. */
const BASELINE_GATEWAY = process.env['BASELINE_GATEWAY'];
/** The repository: this file runs compiled, from dist-bench/bench/load. */
const root = new URL('../../../', import.meta.url).pathname;

interface Workload {
  readonly name: string;
  readonly first: number;
  readonly withTasks: boolean;
  readonly connections: number;
}

const WORKLOADS: readonly Workload[] = [
  { name: '10 executions, c=32', first: 10, withTasks: false, connections: 32 },
  { name: '100 executions, c=32', first: 100, withTasks: false, connections: 32 },
  { name: '10 executions + tasks, c=32', first: 10, withTasks: true, connections: 32 },
  { name: '10 executions, c=1', first: 10, withTasks: false, connections: 1 },
  { name: '100 executions, c=1', first: 100, withTasks: false, connections: 1 },
  { name: '1000 executions, c=1', first: 1000, withTasks: false, connections: 1 },
];

interface Target {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  readonly idleRssMiB: number;
}

interface Sample {
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly upstreamCallsPerRequest: number;
  readonly failures: number;
}

function rssMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

async function startProcess(script: string, env: Record<string, string>, ready: (line: string) => boolean) {
  const child = spawn(process.execPath, [script], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (ready(line)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return child;
}

/** The Node flags of the image's CMD (between `node` and the script), so the gateway runs here as it runs there. */
const imageNodeFlags = () => imageCommand(root).slice(1, -1);

async function startTarget(
  name: string,
  script: string,
  env: Record<string, string>,
  nodeFlags: readonly string[] = [],
): Promise<Target> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/graphql`;
  const child = spawn(process.execPath, [...nodeFlags, script], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let tries = 0; ; tries += 1) {
    const up = await fetch(url.replace('/graphql', '/health')).then(
      (response) => response.status < 500,
      () => false,
    );
    if (up) break;
    if (tries > 200) throw new Error(`${name} did not start`);
    await delay(50);
  }
  // Idle: started, nothing served yet, given a moment to settle.
  await delay(2_000);
  return { name, url, child, idleRssMiB: rssMiB(child.pid as number, 'VmRSS') };
}

async function upstreamRequests(upstreamUrl: string): Promise<number> {
  return Number(await (await fetch(`${upstreamUrl}/__requests`)).text());
}

const bodyOf = (workload: Workload) => loadRequestBody(workload.first, workload.withTasks);

async function run(
  target: Target,
  workload: Workload,
  upstreamUrl: string,
  seconds: number,
): Promise<Sample> {
  const before = await upstreamRequests(upstreamUrl);
  const measured =
    workload.connections === 1
      ? await sequential(target, workload, seconds)
      : await concurrent(target, workload, seconds);
  const calls = (await upstreamRequests(upstreamUrl)) - before;
  return { ...measured, upstreamCallsPerRequest: measured.total > 0 ? calls / measured.total : Number.NaN };
}

/** Many connections at once: autocannon. */
async function concurrent(target: Target, workload: Workload, seconds: number) {
  const result = await autocannon({
    url: target.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: bodyOf(workload),
    connections: workload.connections,
    duration: seconds,
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/** One request at a time, timed to the microsecond (autocannon reports whole milliseconds). */
async function sequential(target: Target, workload: Workload, seconds: number) {
  const pool = new Pool(new URL(target.url).origin, { connections: 1 });
  const body = bodyOf(workload);
  const latencies: number[] = [];
  let failures = 0;
  const end = performance.now() + seconds * 1000;
  try {
    while (performance.now() < end) {
      const started = performance.now();
      const response = await pool.request({
        path: '/graphql',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await response.body.text();
      latencies.push(performance.now() - started);
      if (response.statusCode !== 200) failures += 1;
    }
  } finally {
    await pool.close();
  }
  latencies.sort((a, b) => a - b);
  const at = (quantile: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(quantile * latencies.length))] ?? Number.NaN;
  return {
    requestsPerSecond: latencies.length / seconds,
    p50: at(0.5),
    p99: at(0.99),
    total: latencies.length,
    failures,
  };
}

const median = (values: readonly number[]) => {
  const sorted = values.toSorted((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/** The upstream, the targets, the rounds, the table. */
async function benchmark(): Promise<void> {
  let upstreamUrl = '';
  const upstream = await startProcess('dist-bench/bench/load/static-upstream.js', {}, (line) => {
    const url = (JSON.parse(line) as { url?: string }).url;
    if (url) upstreamUrl = url;
    return url !== undefined;
  });
  // Both sign every call with the same credentials (the static upstream accepts any signature).
  const upstreamEnv = {
    CI_ENDPOINT: upstreamUrl,
    TENCENTCLOUD_SECRET_ID: DEMO_CREDENTIALS.secretId,
    TENCENTCLOUD_SECRET_KEY: DEMO_CREDENTIALS.secretKey,
  };
  const gatewayEnv = {
    ...upstreamEnv,
    NODE_ENV: 'production',
    AUTH_DISABLED: 'true',
    LOG_LEVEL: 'warn',
    MAX_PAGE_SIZE: '1000',
    RATE_LIMIT_UPSTREAM_CALLS_PER_MINUTE: '0',
  };
  const targets = [
    await startTarget('proxy', 'dist-bench/bench/load/minimal-proxy.js', upstreamEnv),
    await startTarget('bare yoga', 'dist-bench/bench/load/bare-yoga.js', upstreamEnv),
    // The bundle the image ships (`scripts/build.ts`), not the compiled sources.
    await startTarget('gateway', 'dist-bench/gateway/index.js', gatewayEnv, imageNodeFlags()),
    // The same gateway without its cache of finished runs: the same upstream work as the proxy, call for call.
    await startTarget(
      'gateway, no cache',
      'dist-bench/gateway/index.js',
      { ...gatewayEnv, DETAIL_CACHE_ENTRIES: '0' },
      imageNodeFlags(),
    ),
    ...(BASELINE_GATEWAY
      ? [
          await startTarget(
            'gateway, baseline build',
            resolve(BASELINE_GATEWAY, 'index.js'),
            gatewayEnv,
            imageNodeFlags(),
          ),
        ]
      : []),
  ];
  const samples = new Map<string, Sample[]>();
  try {
    // Warm up each target's code paths before anything counts.
    for (const target of targets)
      for (const workload of WORKLOADS) await run(target, workload, upstreamUrl, 1);
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const workload of WORKLOADS) {
        // Alternate which target goes first, so neither always runs on a warmer or cooler machine.
        const order = round % 2 === 0 ? targets : targets.toReversed();
        for (const target of order) {
          const sample = await run(target, workload, upstreamUrl, SECONDS);
          const key = `${workload.name}\u0000${target.name}`;
          samples.set(key, [...(samples.get(key) ?? []), sample]);
          process.stderr.write(
            `round ${round + 1} ${workload.name} ${target.name}: ${sample.requestsPerSecond.toFixed(0)} req/s, p50 ${sample.p50} ms\n`,
          );
        }
      }
    }
  } finally {
    const peaks = targets.map((target) => rssMiB(target.child.pid as number, 'VmHWM'));
    for (const target of targets) target.child.kill();
    upstream.kill();
    report(targets, samples, peaks);
  }
}

function report(targets: readonly Target[], samples: Map<string, Sample[]>, peaks: readonly number[]): void {
  const lines: string[] = [];
  const of = (workload: Workload, target: string, pick: (sample: Sample) => number) =>
    median((samples.get(`${workload.name}\u0000${target}`) ?? []).map(pick));
  lines.push(
    `\nNode ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}; ${ROUNDS} interleaved rounds of ${SECONDS} s per run; medians.`,
  );
  lines.push(
    '| workload | target | req/s | p50 ms | p99 ms | upstream calls / request | failures | req/s vs proxy | p50 vs proxy | req/s vs bare yoga | p50 vs bare yoga |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const workload of WORKLOADS) {
    for (const target of targets) {
      const rps = of(workload, target.name, (sample) => sample.requestsPerSecond);
      const p50 = of(workload, target.name, (sample) => sample.p50);
      const ratios = ['proxy', 'bare yoga'].flatMap((baseline) => [
        (rps / of(workload, baseline, (sample) => sample.requestsPerSecond)).toFixed(2),
        (p50 / of(workload, baseline, (sample) => sample.p50)).toFixed(2),
      ]);
      lines.push(
        `| ${workload.name} | ${target.name} | ${rps.toFixed(0)} | ${p50.toFixed(2)} | ${of(workload, target.name, (sample) => sample.p99).toFixed(2)} | ${of(workload, target.name, (sample) => sample.upstreamCallsPerRequest).toFixed(2)} | ${of(workload, target.name, (sample) => sample.failures)} | ${ratios.join(' | ')} |`,
      );
    }
  }
  lines.push('');
  lines.push('| target | RSS idle MiB | RSS peak MiB | peak vs proxy |');
  lines.push('|---|---|---|---|');
  targets.forEach((target, index) => {
    lines.push(
      `| ${target.name} | ${target.idleRssMiB.toFixed(0)} | ${(peaks[index] as number).toFixed(0)} | ${((peaks[index] as number) / (peaks[0] as number)).toFixed(2)} |`,
    );
  });
  process.stdout.write(`${lines.join('\n')}\n`);
}

await benchmark();
