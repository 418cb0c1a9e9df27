/**
 * `npm run bench:load` compares the gateway with two baselines; the comparison means something only if all three
 * give the same answer from the same upstream. Each is started here as its own process, as the load run starts it,
 * on the load run's static upstream, and asked the load run's query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRequestBody } from '../../bench/load/load-query.js';
import { type StaticUpstream, startStaticUpstream } from '../../bench/load/static-upstream.js';
import { DEMO_CREDENTIALS } from '../../src/emulator/server.js';
import { type RunningGateway, spawnGateway } from '../support/processes.js';

const root = new URL('../..', import.meta.url).pathname;

interface Page {
  edges: Array<{ cursor: string; node: Record<string, unknown> }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

let upstream: StaticUpstream;
const targets: Record<string, RunningGateway> = {};

const start = (script: string, env: Record<string, string>, listeningMessage?: string) =>
  spawnGateway(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: {
      CI_ENDPOINT: upstream.url,
      TENCENTCLOUD_SECRET_ID: DEMO_CREDENTIALS.secretId,
      TENCENTCLOUD_SECRET_KEY: DEMO_CREDENTIALS.secretKey,
      ...env,
    },
    ...(listeningMessage ? { listeningMessage } : {}),
  });

beforeAll(async () => {
  upstream = await startStaticUpstream();
  const [proxy, bareYoga, gateway] = await Promise.all([
    start('bench/load/minimal-proxy.ts', {}, 'listening'),
    start('bench/load/bare-yoga.ts', {}, 'listening'),
    start('src/index.ts', {
      NODE_ENV: 'production',
      AUTH_DISABLED: 'true',
      LOG_LEVEL: 'info',
      MAX_PAGE_SIZE: '1000',
    }),
  ]);
  Object.assign(targets, { proxy, 'bare yoga': bareYoga, gateway });
}, 60_000);

afterAll(async () => {
  for (const target of Object.values(targets)) {
    target.child.kill();
    await target.exited;
  }
  await upstream?.close();
});

async function ask(target: RunningGateway, first: number, withTasks: boolean): Promise<Page> {
  const response = await fetch(`${target.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: loadRequestBody(first, withTasks),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { data: { workflowExecutions: Page } };
  return body.data.workflowExecutions;
}

describe('the load run’s baselines', () => {
  it.each([
    [10, false],
    [150, false],
    [10, true],
  ])('answer %i executions (tasks: %s) as the gateway does, cursors aside', async (first, withTasks) => {
    const [gateway, ...baselines] = await Promise.all(
      ['gateway', 'proxy', 'bare yoga'].map((name) => ask(targets[name] as RunningGateway, first, withTasks)),
    );
    const nodes = (page: Page | undefined) => page?.edges.map((edge) => edge.node);
    expect(nodes(gateway)).toHaveLength(first);
    if (withTasks) expect(gateway?.edges[0]?.node['tasks']).toHaveLength(2);
    for (const baseline of baselines) {
      expect(nodes(baseline)).toEqual(nodes(gateway));
      expect(baseline.pageInfo.hasNextPage).toBe(gateway?.pageInfo.hasNextPage);
      // Each makes its own cursors; every edge has one, and the last is the page's end.
      expect(baseline.edges.every((edge) => edge.cursor.length > 0)).toBe(true);
      expect(baseline.pageInfo.endCursor).toBe(baseline.edges.at(-1)?.cursor);
    }
  });
});
