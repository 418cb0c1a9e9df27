/**
 * Relay: documents compiled by relay-compiler, run by relay-runtime with the network layer the README gives (fetch
 * for queries and mutations, the graphql-sse client for subscriptions).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient } from 'graphql-sse';
import {
  type ConcreteRequest,
  commitMutation,
  Environment,
  fetchQuery,
  type GraphQLTaggedNode,
  Network,
  Observable,
  RecordSource,
  requestSubscription,
  Store,
} from 'relay-runtime';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import {
  type ClientAdapter,
  type CompatGateway,
  FOLLOW,
  PAGE,
  startCompatGateway,
  TRIGGER,
  triggerAndFollow,
  walkEveryPage,
} from './scenario.js';

const root = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);

/** The scenario's documents as a Relay project writes them (operation names after their module). */
const SOURCE = `import { graphql } from 'relay-runtime';
export const page = graphql\`
  query CompatPageQuery($after: String) {
    workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }, first: 100, after: $after) {
      edges { node { id runId state } }
      pageInfo { hasNextPage endCursor }
    }
  }
\`;
export const trigger = graphql\`
  mutation CompatTriggerMutation($objectKey: String!) {
    triggerWorkflow(input: { workflowId: "${DEMO_WORKFLOW_IDS.large}", objectKey: $objectKey }) { runId }
  }
\`;
export const follow = graphql\`
  subscription CompatFollowSubscription($runId: ID!) {
    workflowExecutionUpdated(runId: $runId) { id runId state tasks { type job { progress } } }
  }
\`;
`;

let gateway: CompatGateway;
let project: string;
let adapter: ClientAdapter;
let disposeSse: () => void;

/** Compiles SOURCE with relay-compiler into a fresh project; the artifacts by operation name. */
async function compile(): Promise<Record<string, ConcreteRequest>> {
  project = await mkdtemp(join(root, 'test', 'compat', '.relay-'));
  // relay-compiler writes into its artifact directory but does not create it.
  await mkdir(join(project, 'src', '__generated__'), { recursive: true });
  await writeFile(
    join(project, 'relay.config.json'),
    JSON.stringify({
      src: './src',
      schema: join(root, 'schema.client.graphql'),
      language: 'javascript',
      eagerEsModules: true,
      artifactDirectory: './src/__generated__',
    }),
  );
  await writeFile(join(project, 'src', 'Compat.js'), SOURCE);
  await run(join(root, 'node_modules', '.bin', 'relay-compiler'), [], { cwd: project });
  const load = async (name: string) =>
    (
      (await import(join(project, 'src', '__generated__', `${name}.graphql.js`))) as {
        default: ConcreteRequest;
      }
    ).default;
  return {
    page: await load('CompatPageQuery'),
    trigger: await load('CompatTriggerMutation'),
    follow: await load('CompatFollowSubscription'),
  } as Record<string, ConcreteRequest>;
}

beforeAll(async () => {
  gateway = await startCompatGateway();
  const artifacts = await compile();
  // The network layer the README gives for Relay.
  const sse = createClient({ url: gateway.url, retryAttempts: 0 });
  disposeSse = () => sse.dispose();
  const environment = new Environment({
    network: Network.create(
      async (params, variables) => {
        const response = await fetch(gateway.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: params.text, variables }),
        });
        return response.json();
      },
      (params, variables) =>
        Observable.create((sink) =>
          sse.subscribe(
            { query: params.text as string, variables },
            {
              next: (value) => sink.next(value as never),
              error: (error) => sink.error(error as Error),
              complete: () => sink.complete(),
            },
          ),
        ),
    ),
    store: new Store(new RecordSource()),
  });
  const byDocument = new Map<string, GraphQLTaggedNode>([
    [PAGE, artifacts['page'] as GraphQLTaggedNode],
    [TRIGGER, artifacts['trigger'] as GraphQLTaggedNode],
    [FOLLOW, artifacts['follow'] as GraphQLTaggedNode],
  ]);
  const artifactFor = (document: string) => {
    const artifact = byDocument.get(document);
    if (!artifact) throw new Error('no compiled artifact for this document');
    return artifact;
  };
  adapter = {
    query: async (document, variables) =>
      (await fetchQuery(environment, artifactFor(document), variables).toPromise()) as never,
    mutate: (document, variables) =>
      new Promise((resolve, reject) =>
        commitMutation(environment, {
          mutation: artifactFor(document),
          variables,
          onCompleted: (data, errors) =>
            errors ? reject(new Error(JSON.stringify(errors))) : resolve(data as never),
          onError: reject,
        }),
      ),
    subscribe: (document, variables, onData) =>
      new Promise((resolve, reject) => {
        requestSubscription(environment, {
          subscription: artifactFor(document),
          variables,
          onNext: (data) => onData(data as never),
          onError: reject,
          onCompleted: resolve,
        });
      }),
  };
}, 60_000);

afterAll(async () => {
  disposeSse?.();
  await gateway?.close();
  if (project) await rm(project, { recursive: true, force: true });
});

describe('Relay (relay-compiler and relay-runtime)', () => {
  it('walks every page as a plain fetch does', () => walkEveryPage(gateway, adapter));
  it('runs a mutation and follows the run it started to completion', () =>
    triggerAndFollow(gateway, adapter, 'compat/relay.mp4'));
});
