/**
 * What every client library of the compatibility suite must do against the gateway, with its defaults (or the one
 * snippet the README gives for it): walk every page of the large demo workflow and find exactly the runs a plain
 * fetch walk finds, run a mutation, and follow the triggered run's subscription to completion with each event's
 * jobs read afresh. Each library brings a small adapter; the scenario is the same for all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { TASK_SECONDS } from '../../src/emulator/world.js';
import { manualClock } from '../support/console.js';
import { type GatewayFixture, listenOnLoopback, startGateway } from '../support/gateway.js';

export const CALLBACK_TOKEN = 'compat-callback-token-0123456789abcdef0123';
const LARGE = DEMO_WORKFLOW_IDS.large;

export const PAGE = `query Page($after: String) {
  workflowExecutions(filter: { workflowId: "${LARGE}" }, first: 100, after: $after) {
    edges { node { id runId state } }
    pageInfo { hasNextPage endCursor }
  }
}`;
export const TRIGGER = `mutation Trigger($objectKey: String!) {
  triggerWorkflow(input: { workflowId: "${LARGE}", objectKey: $objectKey }) { runId }
}`;
export const FOLLOW = `subscription Follow($runId: ID!) {
  workflowExecutionUpdated(runId: $runId) { runId state tasks { type job { progress } } }
}`;

export interface PageData {
  workflowExecutions: {
    edges: Array<{ node: { runId: string } }>;
    pageInfo: { hasNextPage: boolean; endCursor: string };
  };
}
interface FollowData {
  workflowExecutionUpdated: { state: string; tasks: Array<{ job: { progress: number } | null }> };
}

/** One client library, as the scenario drives it. */
export interface ClientAdapter {
  query<T>(document: string, variables: Record<string, unknown>): Promise<T>;
  mutate<T>(document: string, variables: Record<string, unknown>): Promise<T>;
  /** Resolves when the subscription completes; each event's data goes to `onData`. */
  subscribe<T>(
    document: string,
    variables: Record<string, unknown>,
    onData: (data: T) => void,
  ): Promise<void>;
  close?(): Promise<void> | void;
}

/** The gateway on a real loopback port (HTTP and WebSocket), on an emulator whose clock the test moves. */
export interface CompatGateway {
  readonly fixture: GatewayFixture;
  /** `http://127.0.0.1:<port>/graphql` */
  readonly url: string;
  advance(seconds: number): void;
  close(): Promise<void>;
}

/**
 * The demo's policy by default: no caller checks, and GET queries need no CSRF header (docs/configuration.md). With
 * `jwt`, a production gateway's: every request needs a bearer token verified against that JWKS (and still no CSRF
 * header, since a forged request cannot carry one).
 */
export async function startCompatGateway(
  options: {
    readonly jwt?: { readonly jwksUrl: string; readonly issuer: string; readonly audience: string };
  } = {},
): Promise<CompatGateway> {
  const clock = manualClock();
  const fixture = await startGateway({
    csrfPrevention: false,
    emulator: { now: clock.now },
    gateway: { callbackToken: CALLBACK_TOKEN, ...(options.jwt ? { auth: { jwt: options.jwt } } : {}) },
  });
  const loopback = await listenOnLoopback(fixture.gateway);
  return {
    fixture,
    url: loopback.url,
    advance: clock.advance,
    async close() {
      await loopback.close();
      await fixture.close();
    },
  };
}

/** The runs a plain `fetch` walk finds, page by page: what every client must find too. */
async function plainWalk(url: string, headers: Record<string, string>): Promise<string[]> {
  const runIds: string[] = [];
  let after: string | null = null;
  for (;;) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: PAGE, variables: { after } }),
    });
    const { data } = (await response.json()) as { data: PageData };
    runIds.push(...data.workflowExecutions.edges.map((edge) => edge.node.runId));
    if (!data.workflowExecutions.pageInfo.hasNextPage) return runIds;
    after = data.workflowExecutions.pageInfo.endCursor;
  }
}

/** `headers`: what the plain walk sends too (a token, where the gateway requires one). */
export async function walkEveryPage(
  gateway: CompatGateway,
  client: ClientAdapter,
  headers: Record<string, string> = {},
): Promise<void> {
  const seen: string[] = [];
  let after: string | null = null;
  for (;;) {
    const data: PageData = await client.query<PageData>(PAGE, { after });
    seen.push(...data.workflowExecutions.edges.map((edge) => edge.node.runId));
    if (!data.workflowExecutions.pageInfo.hasNextPage) break;
    after = data.workflowExecutions.pageInfo.endCursor;
  }
  const expected = await plainWalk(gateway.url, headers);
  expect(expected.length).toBeGreaterThan(100);
  expect(seen).toEqual(expected);
}

/** Triggers a run with the client, then follows it with the client until its subscription completes. */
export async function triggerAndFollow(gateway: CompatGateway, client: ClientAdapter, objectKey: string) {
  const { triggerWorkflow } = await client.mutate<{ triggerWorkflow: { runId: string } }>(TRIGGER, {
    objectKey,
  });
  const runId = triggerWorkflow.runId;
  const events: Array<{ state: string; progress: Array<number | undefined> }> = [];
  const done = client.subscribe<FollowData>(FOLLOW, { runId }, (data) => {
    const run = data.workflowExecutionUpdated;
    events.push({ state: run.state, progress: run.tasks.map((task) => task.job?.progress) });
  });
  await expect.poll(() => events.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
  expect(events[0]?.state).toBe('RUNNING');
  gateway.advance(2 * TASK_SECONDS + 1);
  const callback = await gateway.fixture.gateway.fetch(`http://gateway/ci/callback/${CALLBACK_TOKEN}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ EventName: 'WorkflowFinish', WorkflowExecution: { RunId: runId } }),
  });
  expect(callback.status).toBe(204);
  await done;
  expect(events.at(-1)).toEqual({ state: 'SUCCESS', progress: [100, 100] });
}

/** A client library connected to a gateway: its adapter, and what closes the client. */
export interface ConnectedClient {
  readonly adapter: ClientAdapter;
  close?(): Promise<unknown> | unknown;
}

/**
 * The scenario as one suite per library: a gateway started for it, the client `connect` makes, every page walked
 * and a triggered run (on `objectKey`) followed to its end. `more` adds the library's own tests; it is given the
 * started gateway.
 */
export function describeClient(
  name: string,
  objectKey: string,
  connect: (gateway: CompatGateway) => Promise<ConnectedClient> | ConnectedClient,
  more?: (gateway: () => CompatGateway) => void,
): void {
  let gateway: CompatGateway;
  let client: ConnectedClient;
  beforeAll(async () => {
    gateway = await startCompatGateway();
    client = await connect(gateway);
  });
  afterAll(async () => {
    await client?.close?.();
    await gateway?.close();
  });
  describe(name, () => {
    it('walks every page as a plain fetch does', () => walkEveryPage(gateway, client.adapter));
    it('runs a mutation and follows the run it started to completion', () =>
      triggerAndFollow(gateway, client.adapter, objectKey));
    more?.(() => gateway);
  });
}
