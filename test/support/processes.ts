/**
 * Gateways and services as separate processes, for tests of what crosses a process: the image's entry, replicas
 * sharing Redis. Each is started on a free loopback port and must be stopped by the test that started it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DEMO_CREDENTIALS, DEMO_MEDIA_BUCKET } from '../../src/emulator/server.js';

/**
 * The exec-form `CMD` of the Dockerfile in `root` (`node`, its flags, the script), so what starts the gateway
 * here starts exactly what the image starts.
 */
export function imageCommand(root: string): string[] {
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))?.[1];
  if (!cmd) throw new Error('Dockerfile has no exec-form CMD');
  return JSON.parse(cmd) as string[];
}

/** What points a gateway at an emulator (or the static upstream) under the demo credentials. */
export function emulatorUpstream(url: string): Record<string, string> {
  return {
    TENCENTCLOUD_SECRET_ID: DEMO_CREDENTIALS.secretId,
    TENCENTCLOUD_SECRET_KEY: DEMO_CREDENTIALS.secretKey,
    CI_ENDPOINT: url,
    CI_BUCKET: DEMO_MEDIA_BUCKET.bucketId,
  };
}

export interface RunningGateway {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Every log line, parsed. */
  readonly lines: Array<Record<string, unknown>>;
  readonly exited: Promise<number | null>;
}

/**
 * Starts a gateway process (PORT=0) and resolves once it logs that it listens: a JSON line with `msg` (by default
 * the gateway's `gateway listening`) and `port`.
 */
export async function spawnGateway(
  command: string,
  args: readonly string[],
  options: {
    readonly cwd: string;
    readonly env: Record<string, string>;
    readonly listeningMessage?: string;
  },
): Promise<RunningGateway> {
  const listeningMessage = options.listeningMessage ?? 'gateway listening';
  const child = spawn(command, args, {
    cwd: options.cwd,
    // Nothing inherited but PATH: the gateway sees only what an operator would set.
    env: { PATH: process.env['PATH'] ?? '', PORT: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const listening = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry['msg'] === listeningMessage) resolve(`http://127.0.0.1:${entry['port']}`);
    });
    // What it said last (a fatal line says why it stopped) and anything on stderr.
    void exited.then((code) =>
      reject(
        new Error(
          `gateway exited with ${code} before listening: ${JSON.stringify(lines.at(-1) ?? {})} ${stderr}`,
        ),
      ),
    );
  });
  return { child, url: await listening, lines, exited };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const REDIS_SERVER = process.env['REDIS_SERVER_PATH'] ?? 'redis-server';

/** Whether Debian's `redis-server` (or REDIS_SERVER_PATH) can be started here. */
export const redisServerAvailable = (): boolean =>
  spawnSync(REDIS_SERVER, ['--version'], { stdio: 'ignore' }).status === 0;

export interface RunningRedis {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * A throwaway `redis-server` on a free loopback port (or the one given, to restart it where clients expect it):
 * nothing saved, nothing shared with other tests.
 */
export async function startRedis(port?: number): Promise<RunningRedis> {
  port ??= await freePort();
  const child = spawn(
    REDIS_SERVER,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'yes',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.includes('Ready to accept connections')) resolve();
    });
    void exited.then(() => reject(new Error('redis-server exited before it was ready')));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The built bundle in `folder`, started as the image starts it (its `CMD`, in production mode) with `env`. */
export function spawnBundle(
  root: string,
  folder: string,
  env: Record<string, string>,
): Promise<RunningGateway> {
  const [command = 'node', ...args] = imageCommand(root);
  return spawnGateway(command, args, { cwd: folder, env: { NODE_ENV: 'production', ...env } });
}
