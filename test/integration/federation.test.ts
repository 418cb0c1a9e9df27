/**
 * The gateway as a subgraph of a company supergraph: it composes beside a neighbour with its own Relay types,
 * a real federation gateway answers queries that cross between the two, and entity references resolve in batches.
 */

import { createServer } from 'node:http';
import { composeServices as composeWithApollo } from '@apollo/composition';
import { createGatewayRuntime, useCustomFetch } from '@graphql-hive/gateway-runtime';
import { MemPubSub } from '@graphql-hive/pubsub';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { printSchemaFile } from '../../scripts/print-schema.js';
import { ReadCache } from '../../src/ci/read-cache.js';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { faults } from '../../src/emulator/server.js';
import { TASK_SECONDS } from '../../src/emulator/world.js';
import { manualClock } from '../support/console.js';
import { EMULATED_BUCKET } from '../support/emulator.js';
import { type GatewayFixture, startGateway } from '../support/gateway.js';
import { AUDIENCE, ISSUER, signingKey, startIdentityProvider, token } from '../support/jwks.js';
import { type Asset, createMediaLibrary, MEDIA_LIBRARY_SDL, OWNING_TEAM } from '../support/media-library.js';
import { demoExecutions, expectedRunIds } from '../support/oracle.js';
import { freePort } from '../support/processes.js';
import { subscribe } from '../support/sse.js';

const DETAIL_CONCURRENCY = 4;
/** A well-formed run id that no demo run has. */
const UNKNOWN_RUN_ID = `i${'f'.repeat(32)}`;
const SUBGRAPHS = { ci: 'http://ci-workflows/graphql', media: 'http://media-library/graphql' };

const services = () => [
  { name: 'ci-workflows', typeDefs: parse(printSchemaFile()), url: SUBGRAPHS.ci },
  { name: 'media-library', typeDefs: parse(MEDIA_LIBRARY_SDL), url: SUBGRAPHS.media },
];

function compose() {
  return composeServices(services());
}

let fixture: GatewayFixture;

beforeAll(async () => {
  // No read cache: these tests count the calls batching makes, and would otherwise share answers.
  fixture = await startGateway({
    upstreamConcurrency: DETAIL_CONCURRENCY,
    client: { cache: new ReadCache({ detailEntries: 0, workflowTtlMs: 0 }) },
  });
});
beforeEach(() => {
  fixture.emulator.clearScript();
  fixture.emulator.clearRequests();
});
afterAll(() => fixture.close());

describe('composition', () => {
  it('composes beside a subgraph with its own PageInfo, Node and references to our entities', () => {
    const result = compose();
    expect(result.errors ?? []).toEqual([]);
    const supergraph = result.supergraphSdl ?? '';
    expect(supergraph).toMatch(
      /type WorkflowExecution implements Node[^{]*@join__type\(graph: CI_WORKFLOWS, key: "runId"\)/,
    );
    expect(supergraph).toMatch(/@join__type\(graph: MEDIA_LIBRARY, key: "workflowId"\)/);
    expect(supergraph).not.toMatch(/\bnode\(id: ID!\)/);
  });

  it.each([
    ['The Guild’s composition', () => compose()],
    ['Apollo’s composition', () => composeWithApollo(services())],
  ])('keeps the auth directives for the router with %s', (_name, composeWith) => {
    const result = composeWith();
    expect(result.errors ?? []).toEqual([]);
    const supergraph = result.supergraphSdl ?? '';
    for (const type of ['Workflow', 'WorkflowExecution']) {
      expect(supergraph).toMatch(
        new RegExp(
          `type ${type} implements Node[^{]*@authenticated[^{]*@requiresScopes\\(scopes: \\[\\["ci\\.workflows\\.read"\\]\\]\\)`,
        ),
      );
    }
    expect(supergraph).toMatch(/\): WorkflowExecutionConnection! [^\n]*@authenticated @requiresScopes/);
  });

  it.each([
    ['The Guild’s composition', () => compose()],
    ['Apollo’s composition', () => composeWithApollo(services())],
  ])(
    'carries the demand-control directives and tags into the supergraph, with no hints, with %s',
    (_name, composeWith) => {
      const result = composeWith();
      expect(result.errors ?? []).toEqual([]);
      expect((result as { hints?: unknown[] }).hints ?? []).toEqual([]);
      const supergraph = result.supergraphSdl ?? '';
      expect(supergraph).toMatch(
        /@link\(url: "https:\/\/specs\.apollo\.dev\/cost\/v0\.1", import: \["@listSize"\]\)/,
      );
      // Every connection (Query.workflowExecutions, Workflow.executions, BatchTrigger.executions,
      // Workflow.batchTriggers and Bucket.workflows), each composer ordering arguments its way.
      const connections = [
        ...supergraph.matchAll(/\): \w+Connection! [^\n]*@cost\(weight: 10\) @listSize\(([^)]*)\)/g),
      ].map((match) => match[1]);
      expect(connections).toHaveLength(5);
      for (const listSize of connections) {
        expect(listSize).toContain('slicingArguments: ["first"]');
        expect(listSize).toContain('sizedFields: ["edges"]');
      }
      expect(supergraph).toMatch(
        /tasks: \[WorkflowTask!\]! [^\n]*@cost\(weight: 1\) @listSize\(assumedSize: 10\)/,
      );
      expect(supergraph).toMatch(/region: String! [^\n]*@tag\(name: "internal"\)/);
    },
  );

  it('would not compose if this subgraph exposed Query.node (which is why it is off by default)', () => {
    const withNode = composeServices([
      {
        name: 'ci-workflows',
        typeDefs: parse(printSchemaFile().replace('type Query {', 'type Query {\n  node(id: ID!): Node')),
        url: SUBGRAPHS.ci,
      },
      {
        name: 'media-library',
        typeDefs: parse(MEDIA_LIBRARY_SDL.replace('type Query {', 'type Query {\n  node(id: ID!): Node')),
        url: SUBGRAPHS.media,
      },
    ]);
    expect(withNode.errors?.map((e) => e.message).join('\n')).toMatch(/Query\.node/);
  });
});

describe('behind a real federation gateway', () => {
  const recent = expectedRunIds().slice(0, 3);
  const assets: Asset[] = recent.map((runId, index) => ({
    id: `asset-${index + 1}`,
    title: `Asset ${index + 1}`,
    runId,
    workflowId: DEMO_WORKFLOW_IDS.large,
  }));
  let gateway: ReturnType<typeof createGatewayRuntime>;

  beforeAll(() => {
    const mediaLibrary = createMediaLibrary(assets);
    const subgraphs: Record<string, (url: string, init: RequestInit) => Response | Promise<Response>> = {
      [new URL(SUBGRAPHS.ci).host]: (url, init) => fixture.gateway.fetch(url, init),
      [new URL(SUBGRAPHS.media).host]: (url, init) => mediaLibrary.fetch(url, init),
    };
    gateway = createGatewayRuntime({
      supergraph: compose().supergraphSdl as string,
      logging: false,
      plugins: () => [
        useCustomFetch((url, init) => {
          const subgraph = subgraphs[new URL(url).host];
          if (!subgraph) throw new Error(`no subgraph at ${url}`);
          return subgraph(url, init as RequestInit);
        }),
      ],
    });
  });
  afterAll(() => gateway?.dispose());

  async function query<T>(document: string, variables?: Record<string, unknown>): Promise<T> {
    const response = await gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: document, variables }),
    });
    const body = (await response.json()) as { data: T; errors?: unknown };
    expect(body.errors).toBeUndefined();
    return body.data;
  }

  it('answers a query that starts in the neighbour and crosses into this subgraph', async () => {
    interface Result {
      mediaAssets: {
        edges: Array<{
          node: {
            title: string;
            lastRun: {
              runId: string;
              state: string;
              objectKey: string;
              tasks: Array<{ type: string }>;
              workflow: { name: string; owningTeam: string };
            };
            workflow: { workflowId: string; name: string; state: string };
          };
        }>;
      };
    }
    const data = await query<Result>(`{
      mediaAssets(first: 3) {
        edges { node {
          title
          lastRun { runId state objectKey tasks { type } workflow { name owningTeam } }
          workflow { workflowId name state }
        } }
      }
    }`);
    const executions = new Map(demoExecutions().map((e) => [e.runId, e]));
    expect(data.mediaAssets.edges.map((e) => e.node.lastRun.runId)).toEqual(recent);
    for (const { node } of data.mediaAssets.edges) {
      const execution = executions.get(node.lastRun.runId);
      expect(node.lastRun.objectKey).toBe(execution?.objectKey);
      expect(node.lastRun.state).toBe(execution?.state.toUpperCase());
      expect(node.lastRun.tasks.map((t) => t.type)).toEqual(execution?.tasks.map((t) => t.type));
      expect(node.lastRun.workflow).toEqual({ name: 'transcode-and-snapshot', owningTeam: OWNING_TEAM });
      expect(node.workflow).toEqual({
        workflowId: DEMO_WORKFLOW_IDS.large,
        name: 'transcode-and-snapshot',
        state: 'ACTIVE',
      });
    }
    // Three references to one workflow: one lookup. Three runs: one detail call each.
    const paths = fixture.emulator.requests.map((r) => r.path);
    expect(paths.filter((p) => p === '/workflow')).toHaveLength(1);
    expect(paths.filter((p) => p.startsWith('/workflowexecution/')).sort()).toEqual(
      recent.map((id) => `/workflowexecution/${id}`).sort(),
    );
  });

  it('answers a query that starts in this subgraph and crosses into the neighbour', async () => {
    interface Result {
      workflowExecutions: {
        edges: Array<{
          node: { runId: string; asset: { title: string } | null; workflow: { owningTeam: string } };
        }>;
      };
      workflow: {
        name: string;
        owningTeam: string;
        executions: { edges: Array<{ node: { runId: string; asset: { id: string } | null } }> };
      };
    }
    const data = await query<Result>(
      `query Cross($workflowId: ID!) {
        workflowExecutions(filter: { workflowId: $workflowId }, first: 5) {
          edges { node { runId asset { title } workflow { owningTeam } } }
        }
        workflow(workflowId: $workflowId) {
          name owningTeam
          executions(first: 2) { edges { node { runId asset { id } } } }
        }
      }`,
      { workflowId: DEMO_WORKFLOW_IDS.large },
    );
    expect(data.workflowExecutions.edges.map((e) => e.node.runId)).toEqual(expectedRunIds().slice(0, 5));
    expect(data.workflowExecutions.edges.map((e) => e.node.asset?.title ?? null)).toEqual([
      'Asset 1',
      'Asset 2',
      'Asset 3',
      null,
      null,
    ]);
    expect(data.workflowExecutions.edges.every((e) => e.node.workflow.owningTeam === OWNING_TEAM)).toBe(true);
    expect(data.workflow).toEqual({
      name: 'transcode-and-snapshot',
      owningTeam: OWNING_TEAM,
      executions: {
        edges: [
          { node: { runId: recent[0], asset: { id: 'asset-1' } } },
          { node: { runId: recent[1], asset: { id: 'asset-2' } } },
        ],
      },
    });
  });
});

describe('priced by a router before it runs', () => {
  const MAX_COST = 2_000;
  let gateway: ReturnType<typeof createGatewayRuntime>;

  beforeAll(() => {
    gateway = createGatewayRuntime({
      supergraph: compose().supergraphSdl as string,
      logging: false,
      // The router's own defaults: 1 per object, 0 per scalar, lists as long as their @listSize says.
      demandControl: { maxCost: MAX_COST, includeExtensionMetadata: true },
      plugins: () => [useCustomFetch((url, init) => fixture.gateway.fetch(url, init as RequestInit))],
    });
  });
  afterAll(() => gateway?.dispose());

  async function price(first: number, withTasks: boolean) {
    const response = await gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `query Priced($first: Int!) { workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }, first: $first) {
          edges { node { runId ${withTasks ? 'tasks { type }' : ''} } } } }`,
        variables: { first },
      }),
    });
    return (await response.json()) as {
      data?: unknown;
      errors?: Array<{ extensions?: Record<string, unknown> }>;
      extensions?: { cost?: { estimated?: number } };
    };
  }

  it('prices a page by its size and its tasks by the detail call each run costs', async () => {
    const small = await price(5, false);
    expect(small.errors).toBeUndefined();
    // Hive Gateway adds a field's @cost to its type's cost: the page (10 + 1), and per run its edge and node (1 + 1).
    expect(small.extensions?.cost?.estimated).toBe(11 + 5 * 2);
    const withTasks = await price(5, true);
    expect(withTasks.errors).toBeUndefined();
    // Per run, its tasks: ten assumed, each weighing a tenth of the detail call (1) and being an object (1).
    expect(withTasks.extensions?.cost?.estimated).toBe(11 + 5 * (2 + 10 * (1 + 1)));
  });

  it('refuses a thousand runs with their tasks before this subgraph is asked anything', async () => {
    fixture.emulator.clearRequests();
    const refused = await price(1000, true);
    expect(refused.data ?? null).toBeNull();
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('COST_ESTIMATED_TOO_EXPENSIVE');
    expect(fixture.emulator.requests).toHaveLength(0);
  });
});

describe('batched entity resolution', () => {
  const ENTITIES = `query Entities($representations: [_Any!]!) {
    _entities(representations: $representations) {
      ... on WorkflowExecution { runId state tasks { type } }
      ... on Workflow { workflowId name }
    }
  }`;

  it('makes one workflow call for a page of 100 executions asking for their workflow', async () => {
    const response = await fixture.query<{
      workflowExecutions: { edges: Array<{ node: { workflow: { name: string } } }> };
    }>(
      `{ workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }, first: 100) {
        edges { node { runId workflow { name } } }
      } }`,
    );
    expect(response.data?.workflowExecutions.edges).toHaveLength(100);
    expect(
      response.data?.workflowExecutions.edges.every((e) => e.node.workflow.name === 'transcode-and-snapshot'),
    ).toBe(true);
    expect(fixture.emulator.requests.map((r) => r.path)).toEqual(['/workflowexecution', '/workflow']);
  });

  it('resolves 200 execution references with one detail call per distinct run, never more than the limit at once', async () => {
    const runs = expectedRunIds().slice(0, 120);
    const representations = Array.from({ length: 200 }, (_, index) => ({
      __typename: 'WorkflowExecution',
      runId: runs[(index * 7) % runs.length],
    }));
    // Each detail answer takes a moment, so calls that may overlap do.
    fixture.emulator.script(faults.slow(15), 1_000, '/workflowexecution/');
    const response = await fixture.query<{ _entities: Array<{ runId: string; tasks: unknown[] }> }>(
      ENTITIES,
      {
        representations,
      },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data?._entities.map((e) => e.runId)).toEqual(representations.map((r) => r.runId));
    expect(response.data?._entities.every((e) => e.tasks.length > 0)).toBe(true);
    const paths = fixture.emulator.requests.map((r) => r.path);
    expect(paths).toHaveLength(120);
    expect(new Set(paths).size).toBe(120);
    expect(fixture.emulator.peakConcurrency).toBeLessThanOrEqual(DETAIL_CONCURRENCY);
    expect(fixture.emulator.peakConcurrency).toBeGreaterThan(1);
  });

  it('resolves unknown runs, and keys that cannot be run ids, to null without asking CI about the latter', async () => {
    const response = await fixture.query<{ _entities: Array<{ runId: string } | null> }>(ENTITIES, {
      representations: [
        { __typename: 'WorkflowExecution', runId: UNKNOWN_RUN_ID },
        { __typename: 'WorkflowExecution', runId: expectedRunIds()[0] },
        { __typename: 'WorkflowExecution', runId: '../workflow' },
      ],
    });
    expect(response.errors).toBeUndefined();
    expect(response.data?._entities.map((e) => e?.runId ?? null)).toEqual([null, expectedRunIds()[0], null]);
    expect(fixture.emulator.requests.map((r) => r.path).sort()).toEqual(
      [`/workflowexecution/${expectedRunIds()[0]}`, `/workflowexecution/${UNKNOWN_RUN_ID}`].sort(),
    );
  });

  it('gathers workflow references into as few lookups as the upstream allows, unknown ids resolving to null', async () => {
    const known = [DEMO_WORKFLOW_IDS.large, DEMO_WORKFLOW_IDS.single, DEMO_WORKFLOW_IDS.empty];
    const ids = [
      ...known,
      ...Array.from({ length: 247 }, (_, index) => `w${index.toString(16).padStart(32, '0')}`),
    ];
    const representations = [...ids, ...ids.slice(0, 30)].map((workflowId) => ({
      __typename: 'Workflow',
      workflowId,
    }));
    const response = await fixture.query<{ _entities: Array<{ workflowId: string; name: string } | null> }>(
      ENTITIES,
      {
        representations,
      },
    );
    expect(response.errors).toBeUndefined();
    const resolved = response.data?._entities ?? [];
    expect(resolved).toHaveLength(280);
    expect(resolved.slice(0, 3).map((w) => w?.name)).toEqual([
      'transcode-and-snapshot',
      'thumbnail-only',
      'archive-audio',
    ]);
    expect(resolved.slice(3, 250).every((w) => w === null)).toBe(true);
    const lookups = fixture.emulator.requests.filter((r) => r.path === '/workflow');
    expect(lookups.map((r) => r.params['ids']?.split(',').length)).toEqual([100, 100, 50]);
  });
});

describe('Relay identity', () => {
  it('gives both entities a global id that names their bucket', async () => {
    const response = await fixture.query<{
      workflow: { id: string; executions: { edges: Array<{ node: { id: string; runId: string } }> } };
    }>(
      `{ workflow(workflowId: "${DEMO_WORKFLOW_IDS.single}") { id executions(first: 1) { edges { node { id runId } } } } }`,
    );
    const workflow = response.data?.workflow;
    expect(Buffer.from(workflow?.id ?? '', 'base64').toString()).toBe(
      `Workflow:${EMULATED_BUCKET}/${DEMO_WORKFLOW_IDS.single}`,
    );
    const execution = workflow?.executions.edges[0]?.node;
    expect(Buffer.from(execution?.id ?? '', 'base64').toString()).toBe(
      `WorkflowExecution:${EMULATED_BUCKET}/${execution?.runId}`,
    );
  });

  it('serves Query.node and Query.nodes only when switched on for standalone use', async () => {
    const standalone = await startGateway({ relayNodeQueries: true });
    try {
      const runId = expectedRunIds()[0] as string;
      const ids = [
        Buffer.from(`WorkflowExecution:${EMULATED_BUCKET}/${runId}`).toString('base64'),
        // An id from before ids named their bucket: looked for in the caller's buckets.
        Buffer.from(`Workflow:${DEMO_WORKFLOW_IDS.large}`).toString('base64'),
      ];
      const response = await standalone.query<{
        nodes: Array<{ __typename: string; runId?: string; name?: string }>;
      }>(
        `query($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on WorkflowExecution { runId } ... on Workflow { name } } }`,
        { ids },
      );
      expect(response.data?.nodes).toEqual([
        { __typename: 'WorkflowExecution', runId },
        { __typename: 'Workflow', name: 'transcode-and-snapshot' },
      ]);
      const off = await fixture.query('{ node(id: "x") { id } }');
      expect(off.errors?.[0]?.extensions?.['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    } finally {
      await standalone.close();
    }
  });
});

describe('behind a router that authenticates its callers and itself', () => {
  const ROUTER_SECRET = 'router-secret-for-the-federation-test';

  it('forwards the caller’s token and adds the router secret, end to end', async () => {
    const key = await signingKey('federation-key', 'ES256');
    const idp = await startIdentityProvider([key]);
    const guarded = await startGateway({
      gateway: {
        auth: {
          jwt: { jwksUrl: idp.jwksUrl, issuer: ISSUER, audience: AUDIENCE },
          routerSecret: ROUTER_SECRET,
        },
      },
    });
    const mediaLibrary = createMediaLibrary([]);
    const router = createGatewayRuntime({
      supergraph: compose().supergraphSdl as string,
      logging: false,
      // What the README's Hive Gateway configuration does: pass the token on, and prove it is the router.
      propagateHeaders: {
        fromClientToSubgraphs: ({ request, subgraphName }) =>
          subgraphName === 'ci-workflows'
            ? { authorization: request.headers.get('authorization'), 'x-router-secret': ROUTER_SECRET }
            : {},
      },
      plugins: () => [
        useCustomFetch((url, init) =>
          new URL(url).host === new URL(SUBGRAPHS.ci).host
            ? guarded.gateway.fetch(url, init as RequestInit)
            : mediaLibrary.fetch(url, init as RequestInit),
        ),
      ],
    });
    const ask = async (headers: Record<string, string>) => {
      const response = await router.fetch('http://router/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: `{ workflow(workflowId: "${DEMO_WORKFLOW_IDS.large}") { name } }` }),
      });
      return (await response.json()) as { data?: { workflow: { name: string } | null }; errors?: unknown[] };
    };
    try {
      const allowed = await ask({ authorization: `Bearer ${await token(key)}` });
      expect(allowed).toEqual({ data: { workflow: { name: 'transcode-and-snapshot' } } });
      const anonymous = await ask({});
      expect(anonymous.data?.workflow ?? null).toBeNull();
      expect(JSON.stringify(anonymous.errors)).toMatch(/UNAUTHENTICATED|bearer token/i);
      expect(guarded.emulator.requests).toHaveLength(1);

      // A subscription goes through too, over SSE both ways (the router subscribes to the subgraph with an
      // event-stream GET, which its secret lets past the CSRF check).
      const finished = demoExecutions().find((run) => run.state === 'Success');
      const subscription = await subscribe<{
        data?: { workflowExecutionUpdated: { runId: string; state: string } };
      }>(
        (url, init) => router.fetch(url.replace('gateway', 'router'), init),
        `subscription { workflowExecutionUpdated(runId: "${finished?.runId}") { runId state } }`,
        {},
        { authorization: `Bearer ${await token(key)}` },
      );
      try {
        expect((await subscription.next())?.data?.workflowExecutionUpdated).toEqual({
          runId: finished?.runId,
          state: 'SUCCESS',
        });
        // A finished run's subscription completes after its one state.
        expect(await subscription.next()).toBeUndefined();
      } finally {
        await subscription.close();
      }
    } finally {
      await router.dispose();
      await guarded.close();
      await idp.close();
    }
  });
});

describe('Hive Gateway subscribing over the HTTP callback protocol', () => {
  it('relays a triggered run to its client until it finishes, the router answering checks its own way', async () => {
    const clock = manualClock();
    const router = { url: '' };
    // The router listens for real: the subgraph posts its callbacks there.
    const port = await freePort();
    router.url = `http://127.0.0.1:${port}`;
    const TOKEN = 'callback-token-0123456789abcdef0123456789';
    const subgraph = await startGateway({
      emulator: { now: clock.now },
      gateway: { callbackToken: TOKEN, subscriptionCallbackOrigins: [router.url] },
    });
    const mediaLibrary = createMediaLibrary([]);
    const hive = createGatewayRuntime({
      supergraph: compose().supergraphSdl as string,
      logging: false,
      pubsub: new MemPubSub(),
      webhooks: true,
      transportEntries: {
        'ci-workflows': {
          options: {
            subscriptions: {
              kind: 'http-callback',
              options: { public_url: `${router.url}/callback` },
            },
          },
        },
      },
      plugins: () => [
        useCustomFetch((url, init) =>
          new URL(url).host === new URL(SUBGRAPHS.ci).host
            ? subgraph.gateway.fetch(url, init as RequestInit)
            : new URL(url).host === new URL(SUBGRAPHS.media).host
              ? mediaLibrary.fetch(url, init as RequestInit)
              : fetch(url, init as RequestInit),
        ),
      ],
    });
    const server = createServer(hive);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      const { data } = await subgraph.query<{ triggerWorkflow: { runId: string } }>(
        `mutation { triggerWorkflow(input: { workflowId: "${DEMO_WORKFLOW_IDS.large}", objectKey: "hive/callback.mp4" }) { runId } }`,
      );
      const runId = data?.triggerWorkflow.runId;
      const subscription = await subscribe<{
        data?: {
          workflowExecutionUpdated: { state: string; tasks: Array<{ job: { progress: number } | null }> };
        };
      }>(
        (url, init) => fetch(url.replace('http://gateway', router.url), init),
        'subscription ($runId: ID!) { workflowExecutionUpdated(runId: $runId) { state tasks { job { progress } } } }',
        { runId },
      );
      try {
        expect((await subscription.next(10_000))?.data?.workflowExecutionUpdated.state).toBe('RUNNING');
        clock.advance(2 * TASK_SECONDS + 1);
        await subgraph.gateway.fetch(`http://gateway/ci/callback/${TOKEN}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ EventName: 'WorkflowFinish', WorkflowExecution: { RunId: runId } }),
        });
        const last = await subscription.next(10_000);
        expect(last?.data?.workflowExecutionUpdated.state).toBe('SUCCESS');
        expect(last?.data?.workflowExecutionUpdated.tasks.map((task) => task.job?.progress)).toEqual([
          100, 100,
        ]);
      } finally {
        await subscription.close();
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await hive.dispose();
      await subgraph.close();
    }
  });
});
