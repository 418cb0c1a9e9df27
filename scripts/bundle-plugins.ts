/**
 * esbuild plugins that keep the bundle to one copy of each package, so what ships behaves as the source does under
 * Node (where graphql is loaded once) and holds no code twice. `test/production/bundle-contents.test.ts` reads the
 * build's metafile and fails on a copy that slips through.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Plugin } from 'esbuild';

const RESOLVING = Symbol('resolving');

/**
 * graphql 16 has no `exports` map: `graphql` resolves to its ES module build (`index.mjs`, picked by `module`), but a
 * deep import such as `graphql/language/parser` (graphql-armor's token limit) or `graphql/validation` (Apollo's
 * subgraph library) resolves to the CommonJS file beside it. Two copies of graphql make `instanceof GraphQLError`
 * false across them, and every syntax error a 500. Each deep import goes to the ES module file of the same path.
 */
export const graphqlAsOneModuleGraph: Plugin = {
  name: 'graphql-as-one-module-graph',
  setup(build) {
    build.onResolve({ filter: /^graphql\/.+/ }, async (args) => {
      if (args.pluginData === RESOLVING) return undefined;
      const path = args.path.replace(/\.m?js$/, '');
      for (const candidate of [`${path}.mjs`, `${path}/index.mjs`]) {
        const resolved = await build.resolve(candidate, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: RESOLVING,
        });
        if (resolved.errors.length === 0) return { path: resolved.path };
      }
      return undefined;
    });
  },
};

/**
 * npm nests a second copy of a package wherever a parent needs a version the top level does not have; two parents
 * needing the same version then get two identical copies (`@whatwg-node/promise-helpers` 2.0.2 three times, say).
 * Every import of a package is sent to one copy of that exact version: the least nested, so the choice is stable.
 */
export function oneCopyPerVersion(root: string): Plugin {
  return {
    name: 'one-copy-per-version',
    setup(build) {
      const canonical = canonicalCopies(join(root, 'node_modules'));
      build.onResolve({ filter: /^(@[^/]+\/)?[^./][^/]*(\/.*)?$/ }, async (args) => {
        if (args.pluginData === RESOLVING || args.path.startsWith('node:')) return undefined;
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: RESOLVING,
        });
        if (resolved.errors.length > 0 || resolved.external || !resolved.path) return undefined;
        const copy = packageRootOf(resolved.path);
        const chosen = copy && canonical.get(copy);
        if (!copy || !chosen || chosen === copy) return undefined;
        return { path: join(chosen, relative(copy, resolved.path)), sideEffects: resolved.sideEffects };
      });
    },
  };
}

/** Every package folder under `node_modules`, mapped to the least nested folder holding the same name and version. */
function canonicalCopies(nodeModules: string): Map<string, string> {
  const byVersion = new Map<string, string[]>();
  const visit = (folder: string) => {
    if (!existsSync(folder)) return;
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      if (entry.name.startsWith('@')) {
        for (const scoped of readdirSync(join(folder, entry.name), { withFileTypes: true })) {
          if (scoped.isDirectory()) record(join(folder, entry.name, scoped.name));
        }
      } else {
        record(join(folder, entry.name));
      }
    }
  };
  const record = (packageFolder: string) => {
    const manifest = join(packageFolder, 'package.json');
    if (!existsSync(manifest)) return;
    const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as {
      name?: string;
      version?: string;
    };
    if (name && version) {
      const key = `${name}@${version}`;
      byVersion.set(key, [...(byVersion.get(key) ?? []), packageFolder]);
    }
    visit(join(packageFolder, 'node_modules'));
  };
  visit(nodeModules);
  const canonical = new Map<string, string>();
  for (const folders of byVersion.values()) {
    const [chosen] = [...folders].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0));
    for (const folder of folders) canonical.set(folder, chosen as string);
  }
  return canonical;
}

const depth = (folder: string) => folder.split(`${sep}node_modules${sep}`).length;

/** The package folder a resolved file lies in: the path up to its last `node_modules/<name>` (or `<@scope>/<name>`). */
export function packageRootOf(file: string): string | undefined {
  const marker = `${sep}node_modules${sep}`;
  const at = file.lastIndexOf(marker);
  if (at < 0) return undefined;
  const rest = file.slice(at + marker.length).split(sep);
  const name = rest[0]?.startsWith('@') ? rest.slice(0, 2) : rest.slice(0, 1);
  const root = file.slice(0, at + marker.length) + name.join(sep);
  return existsSync(join(root, 'package.json')) ? root : undefined;
}
