/**
 * The Dockerfile's path, walked without a Docker engine: the bundle in a folder holding only what the image holds
 * (`dist/` and `package.json`, no `node_modules`; built once by `bundle.setup.ts`), started as the image's CMD
 * starts it (NODE_ENV=production, real credentials, the CI endpoint pointed at the emulator), queried, and stopped
 * with SIGTERM while a request is in flight.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { OPTIONAL_PACKAGES } from '../../scripts/build.js';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { type CiEmulator, createCiEmulator, DEMO_CREDENTIALS, faults } from '../../src/emulator/server.js';
import { expectedRunIds } from '../support/oracle.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';
import {
  emulatorUpstream,
  freePort,
  imageCommand,
  type RunningGateway,
  spawnBundle,
} from '../support/processes.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

let folder: string;
let emulator: CiEmulator;

/** What an operator sets to point the gateway at the test's emulator. */
function upstreamEnv(): Record<string, string> {
  return { ...emulatorUpstream(emulator.url), ROUTER_SECRET };
}

/** Production requires caller authentication; these tests stand in for the router. */
const ROUTER_SECRET = 'router-secret-for-the-image-test';
const fromRouter = { 'content-type': 'application/json', 'x-router-secret': ROUTER_SECRET };

/** The process's resident set, as Linux reports it. */
function residentBytes(gateway: RunningGateway): number {
  const status = readFileSync(`/proc/${gateway.child.pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]) * 1024;
}

/** Package name → the folders (relative to the root) the bundle took its files from. */
function bundledCopies(inputs: readonly string[]): Map<string, Set<string>> {
  const copies = new Map<string, Set<string>>();
  for (const input of inputs) {
    const match = /^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(input);
    if (!match) continue;
    const [, folder, name] = match as unknown as [string, string, string];
    copies.set(name, (copies.get(name) ?? new Set()).add(folder));
  }
  return copies;
}

const startGateway = (env: Record<string, string>): Promise<RunningGateway> => spawnBundle(root, folder, env);

beforeAll(async () => {
  folder = inject('bundleFolder');
  emulator = createCiEmulator();
  await emulator.listen(0);
});

afterAll(async () => {
  await emulator?.close();
});

describe('the production image path', () => {
  it('ships the bundle alone: no node_modules, and no chunk imports anything but Node’s own modules', async () => {
    await expect(stat(join(folder, 'node_modules'))).rejects.toThrow();
    const meta = JSON.parse(await readFile(join(folder, 'dist', 'meta.json'), 'utf8')) as {
      outputs: Record<string, { imports: Array<{ path: string; external?: boolean }> }>;
    };
    expect(Object.keys(meta.outputs).some((file) => file.endsWith('/index.js'))).toBe(true);
    const outside = Object.values(meta.outputs)
      .flatMap((output) => output.imports)
      // `node:` modules of later Node versions (undici's optional `node:sqlite` cache) are Node's own too.
      .filter(
        (imported) => imported.external && !isBuiltin(imported.path) && !imported.path.startsWith('node:'),
      )
      .map((imported) => imported.path);
    expect(new Set(outside)).toEqual(new Set(OPTIONAL_PACKAGES));
  });

  it('holds one copy of each package: one graphql, one @graphql-tools/utils, no identical copies side by side', async () => {
    const meta = JSON.parse(await readFile(join(folder, 'dist', 'meta.json'), 'utf8')) as {
      inputs: Record<string, unknown>;
    };
    const copies = bundledCopies(Object.keys(meta.inputs));
    expect(copies.get('graphql')?.size).toBe(1);
    expect(copies.get('@graphql-tools/utils')?.size).toBe(1);
    const versions = (name: string) =>
      [...(copies.get(name) ?? [])].map(
        (folder) =>
          (JSON.parse(readFileSync(join(root, folder, 'package.json'), 'utf8')) as { version: string })
            .version,
      );
    const doubled = [...copies.keys()].filter(
      (name) => new Set(versions(name)).size !== versions(name).length,
    );
    expect(doubled).toEqual([]);
    // Different major versions are what npm needs where parents disagree; nothing else may be there twice.
    const majors = (name: string) => versions(name).map((version) => version.split('.')[0]);
    const sameMajorTwice = [...copies.keys()].filter(
      (name) => new Set(majors(name)).size !== majors(name).length,
    );
    expect(sameMajorTwice).toEqual([]);
  });

  it('answers a syntax error as GRAPHQL_PARSE_FAILED (400), not as an internal error', async () => {
    const gateway = await startGateway({ ...upstreamEnv(), SHUTDOWN_DELAY_MS: '0' });
    try {
      const response = await fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { ...fromRouter, accept: 'application/graphql-response+json' },
        body: JSON.stringify({ query: '{ __typename' }),
      });
      expect(response.status).toBe(400);
      const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
      expect(body.errors[0]?.extensions.code).toBe('GRAPHQL_PARSE_FAILED');
      expect(gateway.lines.some((line) => line['level'] === 'error')).toBe(false);
    } finally {
      gateway.child.kill('SIGKILL');
    }
  });

  it('keeps its memory bounded against distinct megabyte documents of one comment each', async () => {
    const gateway = await startGateway({ ...upstreamEnv(), SHUTDOWN_DELAY_MS: '0' });
    try {
      const post = (body: string) =>
        fetch(`${gateway.url}/graphql`, { method: 'POST', headers: fromRouter, body }).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        });
      // Warm: the schema, the parser and the request path have run once.
      expect(await post(JSON.stringify({ query: '{ __typename }' }))).toBe(200);
      const idle = residentBytes(gateway);
      const filler = 'x'.repeat(1_000_000);
      const statuses = new Map<number, number>();
      // One after another, as a single client sends them (the pattern measured was 20 a second): what is measured
      // is what the gateway keeps, not how much garbage a burst leaves before the next collection.
      for (let i = 0; i < 400; i += 1) {
        const status = await post(JSON.stringify({ query: `{ __typename }\n# ${i} ${filler}` }));
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
      expect(statuses).toEqual(new Map([[413, 400]]));
      expect(residentBytes(gateway) / idle).toBeLessThan(1.5);
    } finally {
      gateway.child.kill('SIGKILL');
    }
  });

  it('refuses to start in production without configuration, instead of serving demo data', async () => {
    const [command, ...args] = imageCommand(root);
    const result = await run(command as string, args, {
      cwd: folder,
      env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(result).toMatchObject({ code: 1 });
    expect((result as { stderr: string }).stderr).toContain('TENCENTCLOUD_SECRET_ID: required');
    expect((result as { stderr: string }).stderr).toContain(
      'AUTH_JWKS_URL or ROUTER_SECRET: one is required',
    );
  });

  it('serves queries against the configured upstream and drains on SIGTERM', async () => {
    const gateway = await startGateway({
      ...upstreamEnv(),
      CI_BUCKET: 'demo-1250000000',
      CI_REGION: 'ap-guangzhou',
      SHUTDOWN_DELAY_MS: '300',
    });
    try {
      expect(gateway.lines[0]?.['msg']).not.toMatch(/demo/i);
      expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
      expect((await fetch(`${gateway.url}/ready`)).status).toBe(200);

      const query = (first: number) =>
        fetch(`${gateway.url}/graphql`, {
          method: 'POST',
          headers: fromRouter,
          body: JSON.stringify({
            query: `{ workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }, first: ${first}) { edges { node { runId } } } }`,
          }),
        }).then(
          (r) =>
            r.json() as Promise<{
              data: { workflowExecutions: { edges: Array<{ node: { runId: string } }> } };
            }>,
        );

      const page = await query(4);
      expect(page.data.workflowExecutions.edges.map((e) => e.node.runId)).toEqual(
        expectedRunIds().slice(0, 4),
      );
      // The bundle serves the very schema the sources print: minifying changed nothing a router sees.
      const service = (await (
        await fetch(`${gateway.url}/graphql`, {
          method: 'POST',
          headers: fromRouter,
          body: JSON.stringify({ query: '{ _service { sdl } }' }),
        })
      ).json()) as { data: { _service: { sdl: string } } };
      expect(service.data._service.sdl.trim()).toBe(
        (await readFile(join(root, 'schema.graphql'), 'utf8')).trim(),
      );

      // A request still waiting on the upstream when SIGTERM arrives is answered before the process exits.
      emulator.script(faults.slow(700), 1);
      const inFlight = query(2);
      await new Promise((resolve) => setTimeout(resolve, 200));
      gateway.child.kill('SIGTERM');
      const answered = await inFlight;
      expect(answered.data.workflowExecutions.edges).toHaveLength(2);
      expect(await gateway.exited).toBe(0);
      await expect(fetch(`${gateway.url}/health`)).rejects.toThrow();
      expect(gateway.lines.map((line) => line['msg'])).toEqual(
        expect.arrayContaining(['gateway listening', 'graphql request', 'stopped: 1 finished, 0 cut short']),
      );
      const log = JSON.stringify(gateway.lines);
      expect(log).not.toContain(DEMO_CREDENTIALS.secretKey);
    } finally {
      gateway.child.kill('SIGKILL');
    }
  });

  it('exports traces as OTLP protobuf and serves metrics on METRICS_PORT when told to by the standard variables', async () => {
    const receiver = await startOtlpReceiver();
    const metricsPort = await freePort();
    const gateway = await startGateway({
      ...upstreamEnv(),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url.replace('/v1/traces', ''),
      OTEL_SERVICE_NAME: 'image-test',
      METRICS_PORT: String(metricsPort),
      SHUTDOWN_DELAY_MS: '0',
    });
    try {
      const traceId = 'aaf92f3577b34da6a3ce929d0e0e4736';
      const response = await fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { ...fromRouter, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
        body: JSON.stringify({
          query: `{ workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }, first: 1) { edges { cursor } } }`,
        }),
      });
      expect(response.status).toBe(200);
      expect((await fetch(`${gateway.url}/metrics`)).status).toBe(404);
      const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(scrape).toMatch(
        /^ci_upstream_requests_total\{bucket="demo-1250000000",account="default",operation="ListWorkflowExecutions",outcome="ok"\} 1$/m,
      );
      // SIGTERM flushes the spans still buffered.
      gateway.child.kill('SIGTERM');
      expect(await gateway.exited).toBe(0);
      const exports = receiver.rawBodies.filter((body) => body.contentType === 'application/x-protobuf');
      expect(exports.length).toBeGreaterThan(0);
      const sent = Buffer.concat(exports.map((body) => body.body));
      // Protobuf carries ids as raw bytes: the caller's trace id is in the export, with the service name.
      expect(sent.includes(Buffer.from(traceId, 'hex'))).toBe(true);
      expect(sent.includes(Buffer.from('image-test'))).toBe(true);
      expect(gateway.lines.find((line) => line['msg'] === 'graphql request')?.['trace_id']).toBe(traceId);
    } finally {
      gateway.child.kill('SIGKILL');
      await receiver.close();
    }
  });

  it('drains as a load balancer needs, and answers a request stuck on a hanging upstream instead of resetting it', async () => {
    const gateway = await startGateway({
      ...upstreamEnv(),
      CI_TIMEOUT_MS: '60000',
      SHUTDOWN_DELAY_MS: '1000',
      SHUTDOWN_TIMEOUT_MS: '1000',
    });
    try {
      const post = (query: string) =>
        fetch(`${gateway.url}/graphql`, {
          method: 'POST',
          headers: fromRouter,
          body: JSON.stringify({ query }),
        });
      emulator.clearRequests();
      emulator.script(faults.hang(), 10, '/workflowexecution/');
      const stuck = post(`{ workflowExecution(runId: "${expectedRunIds()[0]}") { state } }`);
      while (emulator.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));

      const signalledAt = Date.now();
      gateway.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Out of rotation at once, yet still serving while the load balancer notices.
      expect((await fetch(`${gateway.url}/ready`)).status).toBe(503);
      const during = await post(`{ workflow(workflowId: "${DEMO_WORKFLOW_IDS.large}") { name } }`);
      expect(await during.json()).toEqual({ data: { workflow: { name: 'transcode-and-snapshot' } } });

      // Cut short at the timeout: an answer with an error, not a reset connection.
      const answer = (await (await stuck).json()) as { errors: Array<{ extensions: { code: string } }> };
      expect(answer.errors[0]?.extensions.code).toBe('REQUEST_CANCELLED');
      expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(1_900);
      await expect(fetch(`${gateway.url}/health`)).rejects.toThrow();
      expect(await gateway.exited).toBe(0);
      const stopped = gateway.lines.find((line) => String(line['msg']).startsWith('stopped'));
      expect(stopped).toMatchObject({ finished: 2, cutShort: 1 });
    } finally {
      emulator.clearScript();
      gateway.child.kill('SIGKILL');
    }
  });

  it('stops with one clear line and exit 1 when its port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    try {
      const [command, ...args] = imageCommand(root);
      const result = await run(command as string, args, {
        cwd: folder,
        env: {
          PATH: process.env['PATH'] ?? '',
          NODE_ENV: 'production',
          PORT: String((taken.address() as AddressInfo).port),
          ...upstreamEnv(),
        },
      }).catch((error: { code: number; stdout: string; stderr: string }) => error);
      expect(result).toMatchObject({ code: 1, stderr: '' });
      const lines = (result as { stdout: string }).stdout.trim().split('\n');
      expect(JSON.parse(lines.at(-1) as string)).toMatchObject({ level: 'fatal', code: 'EADDRINUSE' });
      expect((result as { stdout: string }).stdout).not.toMatch(/\n\s+at /);
    } finally {
      taken.close();
    }
  });
});
