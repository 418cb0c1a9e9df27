import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildSchema as buildFromSdl } from 'graphql';
import { describe, expect, it } from 'vitest';
import { printClientSchemaFile, printConsoleTypes, printSchemaFile } from '../../scripts/print-schema.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

describe('src/console/graphql-env.d.ts', () => {
  it('holds the client schema the console’s documents are typed against (`npm run schema:print`)', async () => {
    const committed = await readFile(join(root, 'src/console/graphql-env.d.ts'), 'utf8');
    expect(committed).toBe(await printConsoleTypes());
  }, 30_000);
});

describe('schema.graphql', () => {
  it('matches the schema the code builds (run `npm run schema:print` after changing it)', async () => {
    const committed = await readFile(join(root, 'schema.graphql'), 'utf8');
    expect(committed).toBe(printSchemaFile());
  });

  it('is printed as a federation subgraph and keeps the contract fields', () => {
    const printed = printSchemaFile();
    expect(printed).toMatch(/@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.\d+"/);
    expect(printed).toMatch(/type PageInfo\s+@shareable/);
    // Each entity is keyed by bucket and id, and by id alone for neighbours that do not know the bucket.
    expect(printed).toMatch(
      /type WorkflowExecution implements Node\s+@key\(fields: "bucketId runId"\)\s+@key\(fields: "runId"\)/,
    );
    expect(printed).toMatch(
      /type Workflow implements Node\s+@key\(fields: "bucketId workflowId"\)\s+@key\(fields: "workflowId"\)/,
    );
    expect(printed).toMatch(
      /type BatchTrigger implements Node\s+@key\(fields: "bucketId jobId"\)\s+@key\(fields: "jobId"\)/,
    );
    // Off in the subgraph: they break composition beside another Relay subgraph.
    expect(printed).not.toMatch(/^\s+nodes?\(/m);
    expect(printed).toContain('workflowExecutions(');
    expect(printed).toMatch(/first: Int = 10/);
    expect(printed).toMatch(/order: SortOrder = DESC/);
    expect(printed).not.toMatch(/\blast:|\bbefore:/);
  });
});

describe('schema.client.graphql', () => {
  it('matches the schema the code builds (run `npm run schema:print` after changing it)', async () => {
    const committed = await readFile(join(root, 'schema.client.graphql'), 'utf8');
    expect(committed).toBe(printClientSchemaFile());
  });

  it('is plain GraphQL: nothing of federation, every client field kept', () => {
    const printed = printClientSchemaFile();
    expect(printed).not.toMatch(/@link|@key|@cost|@shareable|_entities|_service|_Any|link__/m);
    // The only directives defined: the incremental delivery the gateway serves, for clients' tools to validate.
    expect([...printed.matchAll(/^directive @(\w+)/gm)].map((match) => match[1])).toEqual([
      'defer',
      'stream',
    ]);
    const schema = buildFromSdl(printed);
    expect(schema.getDirective('defer')?.locations).toEqual(['FRAGMENT_SPREAD', 'INLINE_FRAGMENT']);
    expect(Object.keys(schema.getQueryType()?.getFields() ?? {}).sort()).toEqual([
      'batchTrigger',
      'buckets',
      'workflow',
      'workflowExecution',
      'workflowExecutions',
    ]);
    expect(Object.keys(schema.getMutationType()?.getFields() ?? {}).sort()).toEqual([
      'activateWorkflow',
      'cancelBatchTrigger',
      'pauseWorkflow',
      'rerunWorkflowExecution',
      'startBatchTrigger',
      'triggerWorkflow',
    ]);
    expect(schema.getType('WorkflowExecutionConnection')).toBeDefined();
  });

  it('compiles a Relay fragment and query with relay-compiler', async () => {
    const project = await mkdtemp(join(tmpdir(), 'relay-'));
    try {
      await mkdir(join(project, 'src'));
      await writeFile(
        join(project, 'relay.config.json'),
        JSON.stringify({ src: './src', schema: join(root, 'schema.client.graphql'), language: 'typescript' }),
      );
      await writeFile(
        join(project, 'src', 'Runs.ts'),
        `import { graphql } from 'react-relay';
export const fragment = graphql\`
  fragment Runs_workflow on Workflow
  @argumentDefinitions(count: { type: "Int", defaultValue: 5 }, cursor: { type: "String" }) {
    name
    executions(first: $count, after: $cursor, filter: { states: [FAILED] })
    @connection(key: "Runs_executions", filters: ["filter"]) {
      edges { node { id runId state createdAt tasks { type state message } } }
    }
  }
\`;
export const query = graphql\`
  query RunsQuery($workflowId: ID!) { workflow(workflowId: $workflowId) { ...Runs_workflow } }
\`;
`,
      );
      await run(join(root, 'node_modules', '.bin', 'relay-compiler'), [], { cwd: project });
      const generated = await readdir(join(project, 'src', '__generated__'));
      expect(generated.sort()).toEqual(['RunsQuery.graphql.ts', 'Runs_workflow.graphql.ts']);
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  }, 60_000);
});
