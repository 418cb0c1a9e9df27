/**
 * The import graph of `src`, read from the files as text: no cycles (type-only imports included), and every import
 * points down the layers below, or stays within its own. A module in the wrong place fails here, not in review.
 *
 * Layers, lowest first: what everything may use (the configuration, which owns every default, among it); the CI client (knows no GraphQL); live updates and the emulator
 * (built on the CI client); the schema (knows no HTTP signing); yoga plugins and telemetry; the HTTP layer and the
 * process (`src/http`: the yoga app, its transports, the drain, readiness); the entry point and the composition
 * root it shares with the tests (`services.ts`). The operations console (`src/console`) runs in browsers and stands
 * apart: it imports nothing of the server, and nothing of the server imports it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repositoryRoot, sourceFiles } from '../support/source-files.js';

const root = repositoryRoot;
const CONSOLE = 'src/console/';

const LAYERS: ReadonlyArray<readonly string[]> = [
  [
    'src/config.ts',
    'src/defaults.ts',
    'src/environment.ts',
    'src/error-codes.ts',
    'src/records.ts',
    'src/timers.ts',
    'src/secret-match.ts',
    'src/request-context.ts',
    'src/tenancy-config.ts',
  ],
  ['src/ci/'],
  ['src/live/', 'src/emulator/', 'src/stats/'],
  ['src/schema/'],
  ['src/plugins/', 'src/telemetry/'],
  ['src/http/', 'src/unhandled-rejections.ts'],
  ['src/index.ts', 'src/services.ts'],
];

/** A module's layer: the one with the longest matching entry (a file named beats its folder). */
function layerOf(file: string): number {
  let best = { layer: -1, length: -1 };
  LAYERS.forEach((entries, layer) => {
    for (const entry of entries) {
      const matches = entry.endsWith('/') ? file.startsWith(entry) : file === entry;
      if (matches && entry.length > best.length) best = { layer, length: entry.length };
    }
  });
  return best.layer;
}

/** Every module each module imports, static (`import type` too) or dynamic. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(join(root, file), 'utf8');
    const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*)'(\.{1,2}\/[^']+)'/g)].map(
      (match) => match[1] as string,
    );
    graph.set(
      file,
      specifiers.map((specifier) => {
        const module = relative(root, normalize(join(root, dirname(file), specifier))).replace(
          /\.js$/,
          '.ts',
        );
        return existsSync(join(root, `${module}x`)) ? `${module}x` : module;
      }),
    );
  }
  return graph;
}

describe('the import graph of src', () => {
  const graph = importGraph(sourceFiles('src').filter((file) => !file.startsWith(CONSOLE)));

  it('places every module in a layer', () => {
    expect([...graph.keys()].filter((file) => layerOf(file) < 0)).toEqual([]);
  });

  it('has no cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (file: string, path: string[]) => {
      state.set(file, 'visiting');
      for (const imported of graph.get(file) ?? []) {
        if (state.get(imported) === 'visiting') {
          cycles.push([...path.slice(path.indexOf(imported)), imported].join(' → '));
        } else if (!state.has(imported)) {
          visit(imported, [...path, imported]);
        }
      }
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file, [file]);
    expect(cycles).toEqual([]);
  });

  it('imports only from its own layer or those below', () => {
    const upward = [...graph].flatMap(([file, imports]) =>
      imports
        .filter((imported) => layerOf(imported) > layerOf(file))
        .map((imported) => `${file} → ${imported}`),
    );
    expect(upward).toEqual([]);
  });
});

describe('the operations console', () => {
  const graph = importGraph(sourceFiles(CONSOLE));

  it('imports nothing of the server: it knows the gateway only by its public GraphQL API', () => {
    const outside = [...graph].flatMap(([file, imports]) =>
      imports.filter((imported) => !imported.startsWith(CONSOLE)).map((imported) => `${file} → ${imported}`),
    );
    expect(graph.size).toBeGreaterThan(5);
    expect(outside).toEqual([]);
  });

  it('is imported by nothing of the server', () => {
    const server = importGraph(sourceFiles('src').filter((file) => !file.startsWith(CONSOLE)));
    const inward = [...server].flatMap(([file, imports]) =>
      imports.filter((imported) => imported.startsWith(CONSOLE)).map((imported) => `${file} → ${imported}`),
    );
    expect(inward).toEqual([]);
  });
});
