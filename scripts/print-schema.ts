/**
 * `npm run schema:print` writes both schema files from the code; `npm run schema:check` fails when a committed one
 * differs.
 *
 * - `schema.graphql`: the subgraph, printed with `printSubgraphSchema`, which keeps the federation directives
 *   (`@key`, `@link`, `@cost`, …) a router composes from.
 * - `schema.client.graphql`: the API as clients see it, with nothing of federation (no `@link`, no `_entities`,
 *   no directive definitions), which `relay-compiler`, GraphQL Code Generator and IDE plugins read.
 * - `src/console/graphql-env.d.ts`: the client schema as types, from which gql.tada types the console's documents.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printSubgraphSchema } from '@apollo/subgraph';
import { generateOutput } from '@gql.tada/cli-utils';
import { type DefinitionNode, Kind, parse, print, printSchema, visit } from 'graphql';
import { buildSchema } from '../src/schema/index.js';

const SCHEMA_FILE = new URL('../schema.graphql', import.meta.url);
const CLIENT_SCHEMA_FILE = new URL('../schema.client.graphql', import.meta.url);

export function printSchemaFile(): string {
  return `${printSubgraphSchema(buildSchema()).trim()}\n`;
}

/** Fields and types that exist for the router alone. */
const FEDERATION_FIELDS = new Set(['_entities', '_service']);
const isFederationType = (name: string) => name.startsWith('_') || /^(link|federation)__/.test(name);

/**
 * The incremental-delivery directives the gateway serves (yoga's defer-stream plugin adds them when it starts, so
 * the built schema lacks them), as graphql-js defines them: clients' tools validate `@defer` against these.
 */
const INCREMENTAL_DELIVERY_DIRECTIVES = `
directive @defer(if: Boolean! = true, label: String) on FRAGMENT_SPREAD | INLINE_FRAGMENT

directive @stream(if: Boolean! = true, label: String, initialCount: Int = 0) on FIELD
`;

export function printClientSchemaFile(): string {
  const document = parse(printSchema(buildSchema()));
  const stripped = visit(document, {
    DirectiveDefinition: () => null,
    FieldDefinition: (field) => (FEDERATION_FIELDS.has(field.name.value) ? null : undefined),
    enter(node) {
      if ('name' in node && node.name && isTypeDefinition(node) && isFederationType(node.name.value))
        return null;
      return undefined;
    },
  });
  return `${INCREMENTAL_DELIVERY_DIRECTIVES.trim()}\n\n${print(stripped).trim()}\n`;
}

function isTypeDefinition(node: { kind: string }): node is DefinitionNode {
  return (
    node.kind === Kind.OBJECT_TYPE_DEFINITION ||
    node.kind === Kind.SCALAR_TYPE_DEFINITION ||
    node.kind === Kind.UNION_TYPE_DEFINITION ||
    node.kind === Kind.ENUM_TYPE_DEFINITION ||
    node.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION ||
    node.kind === Kind.INTERFACE_TYPE_DEFINITION
  );
}

const CONSOLE_TYPES_FILE = new URL('../src/console/graphql-env.d.ts', import.meta.url);
const CONSOLE_TSCONFIG = new URL('../src/console/tsconfig.json', import.meta.url).pathname;

/** The console's schema types as gql.tada generates them from `schema.client.graphql` (as committed). */
export async function printConsoleTypes(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'console-types-'));
  try {
    const output = join(folder, 'graphql-env.d.ts');
    await generateOutput({ output, tsconfig: CONSOLE_TSCONFIG, silent: true });
    return await readFile(output, 'utf8');
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

const FILES = [
  { url: SCHEMA_FILE, name: 'schema.graphql', print: printSchemaFile },
  { url: CLIENT_SCHEMA_FILE, name: 'schema.client.graphql', print: printClientSchemaFile },
  // After the client schema: it is generated from the file as written.
  { url: CONSOLE_TYPES_FILE, name: 'src/console/graphql-env.d.ts', print: printConsoleTypes },
];

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const file of FILES) {
    const printed = await file.print();
    if (process.argv.includes('--check')) {
      const committed = await readFile(file.url, 'utf8').catch(() => '');
      if (committed !== printed) {
        process.stderr.write(`${file.name} is out of date: run \`npm run schema:print\` and commit it.\n`);
        process.exitCode = 1;
      }
    } else {
      await writeFile(file.url, printed);
    }
  }
}
