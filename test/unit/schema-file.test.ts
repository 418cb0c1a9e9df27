import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { printSchemaFile } from '../../scripts/print-schema.js';

describe('schema.graphql', () => {
  it('matches the schema the code builds (run `npm run schema:print` after changing it)', async () => {
    const committed = await readFile(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printSchemaFile());
  });

  it('is printed as a federation subgraph and keeps the contract fields', () => {
    const printed = printSchemaFile();
    expect(printed).toMatch(/@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.\d+"/);
    expect(printed).toMatch(/type PageInfo\s+@shareable/);
    expect(printed).toMatch(/type WorkflowExecution implements Node\s+@key\(fields: "runId"\)/);
    expect(printed).toMatch(/type Workflow implements Node\s+@key\(fields: "workflowId"\)/);
    // Off in the subgraph: they break composition beside another Relay subgraph.
    expect(printed).not.toMatch(/^\s+nodes?\(/m);
    expect(printed).toContain('workflowExecutions(');
    expect(printed).toMatch(/first: Int = 10/);
    expect(printed).toMatch(/order: SortOrder = DESC/);
    expect(printed).not.toMatch(/\blast:|\bbefore:/);
  });
});
