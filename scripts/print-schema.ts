/**
 * `npm run schema:print` writes schema.graphql from the code; `npm run schema:check` fails when the committed
 * file differs. Printed with `printSubgraphSchema`, which keeps the federation directives (`@key`, `@link`, …).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { printSubgraphSchema } from '@apollo/subgraph';
import { buildSchema } from '../src/schema/index.js';

const SCHEMA_FILE = new URL('../schema.graphql', import.meta.url);

export function printSchemaFile(): string {
  return `${printSubgraphSchema(buildSchema()).trim()}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const printed = printSchemaFile();
  if (process.argv.includes('--check')) {
    const committed = await readFile(SCHEMA_FILE, 'utf8').catch(() => '');
    if (committed !== printed) {
      process.stderr.write('schema.graphql is out of date: run `npm run schema:print` and commit it.\n');
      process.exit(1);
    }
  } else {
    await writeFile(SCHEMA_FILE, printed);
  }
}
