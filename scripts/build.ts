/**
 * `npm run build`: the production gateway as a few minified ES modules in `dist/`, with every dependency inside,
 * so the image ships no `node_modules`. One file to load instead of some 1,500 modules: the process starts in a
 * fraction of the time and holds a fraction of the source text in memory.
 *
 * What is loaded only on demand stays in its own chunk (the emulator in demo mode, tracing, Redis, GraphiQL).
 * The operations console's browser bundle is built into `console/` beside it (`build-console.ts`).
 * Types are checked by `tsc` first (esbuild strips them without checking).
 *
 *   tsx scripts/build.ts [--outdir <dir>]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { buildConsole } from './build-console.js';
import { graphqlAsOneModuleGraph, oneCopyPerVersion } from './bundle-plugins.js';

/** ws's optional native speed-ups, `require`d in a try: absent, it uses its JavaScript paths. */
export const OPTIONAL_PACKAGES = ['bufferutil', 'utf-8-validate'] as const;

/** Bundles `src/index.ts` into `outdir`; resolves to the bytes of JavaScript written. */
export async function buildGateway(outdir: string): Promise<number> {
  await rm(outdir, { recursive: true, force: true });
  const result = await build({
    entryPoints: { index: 'src/index.ts' },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22.15',
    // Not `keepNames`: it wraps every function as it is created, closures in hot paths included, and cost a third of
    // the throughput in `npm run bench:load`. Nothing here tells classes or functions apart by name.
    minify: true,
    // Packages' ES module builds where they have them, as Node's own `import` picks: measurably faster than the
    // CommonJS builds wrapped for bundling.
    mainFields: ['module', 'main'],
    sourcemap: 'linked',
    legalComments: 'linked',
    metafile: true,
    external: [...OPTIONAL_PACKAGES],
    // Bundled CommonJS calls `require` for Node's own modules; an ES module has none of its own.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    logLevel: 'warning',
    // One copy of each package: graphql's deep imports to its ES module files, identical nested copies to one.
    plugins: [graphqlAsOneModuleGraph, oneCopyPerVersion(process.cwd())],
  });
  // What went into each chunk and what each imports from outside: the image's bill of materials.
  await writeFile(`${outdir}/meta.json`, JSON.stringify(result.metafile));
  // The operations console, served from beside the bundle (`dist/console`).
  await buildConsole(join(outdir, 'console'));
  return Object.entries(result.metafile.outputs)
    .filter(([file]) => file.endsWith('.js'))
    .reduce((total, [, output]) => total + output.bytes, 0);
}

/**
 * A digest of everything the bundle is made from: the sources, the build script, the TypeScript settings and the
 * lockfile. Written beside the bundle, it lets `--if-changed` skip a build that would produce the same bundle.
 */
export async function inputsDigest(root = '.'): Promise<string> {
  const hash = createHash('sha256');
  const files = [
    ...(await readdir(join(root, 'src'), { recursive: true })).map((file) => join('src', file)),
    'scripts/build.ts',
    'scripts/build-console.ts',
    'scripts/bundle-plugins.ts',
    'tsconfig.json',
    'tsconfig.build.json',
    'package-lock.json',
  ].sort();
  for (const file of files) {
    const path = join(root, file);
    if (!(await stat(path)).isFile()) continue;
    hash
      .update(file)
      .update('\0')
      .update(await readFile(path))
      .update('\0');
  }
  return hash.digest('hex');
}

const DIGEST_FILE = '.inputs-digest';

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const flag = process.argv.indexOf('--outdir');
  const outdir = flag > 0 ? (process.argv[flag + 1] as string) : 'dist';
  const digest = await inputsDigest();
  const built = await readFile(join(outdir, DIGEST_FILE), 'utf8').catch(() => undefined);
  if (process.argv.includes('--if-changed') && built === digest) {
    process.stdout.write(`${outdir}/ is up to date with the sources: not rebuilt\n`);
  } else {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--noEmit'], { stdio: 'inherit' });
    execFileSync('npx', ['tsc', '-p', 'src/console/tsconfig.json', '--noEmit'], { stdio: 'inherit' });
    const bytes = await buildGateway(outdir);
    await writeFile(join(outdir, DIGEST_FILE), digest);
    process.stdout.write(
      `built ${outdir}/index.js (${(bytes / 1_048_576).toFixed(1)} MiB of JavaScript in all)\n`,
    );
  }
}
