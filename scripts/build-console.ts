/**
 * The operations console's browser bundle (`src/console`): one minified script and one stylesheet with content
 * hashes in their names (so the gateway may let browsers keep them for good), and the page that loads them.
 * Built by `npm run build` beside the gateway's bundle; tests build it into a folder of their own.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { build } from 'esbuild';

/** The page the gateway serves at `/console`; its assets are under `/console/assets/`. */
function page(script: string, stylesheet: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CI workflow console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/assets/${stylesheet}">
<script type="module" src="/console/assets/${script}"></script>
</head>
<body>
<div id="console"><noscript>The console needs JavaScript.</noscript></div>
</body>
</html>
`;
}

/** Builds the console into `outdir`; resolves to the bytes of the script and the stylesheet. */
export async function buildConsole(outdir: string): Promise<{ script: number; stylesheet: number }> {
  const assets = join(outdir, 'assets');
  await mkdir(assets, { recursive: true });
  const result = await build({
    entryPoints: { main: 'src/console/main.tsx' },
    outdir: assets,
    entryNames: '[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // Browsers of the last few years; nothing newer is needed.
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    // Development checks in the libraries (urql's warnings among them) are left out.
    define: { 'process.env.NODE_ENV': '"production"' },
    sourcemap: 'linked',
    legalComments: 'linked',
    metafile: true,
    tsconfig: 'src/console/tsconfig.json',
    logLevel: 'warning',
  });
  const outputs = Object.entries(result.metafile.outputs);
  const named = (extension: string) => {
    const found = outputs.find(([file]) => file.endsWith(extension));
    if (!found) throw new Error(`the console's build wrote no ${extension} file`);
    return { name: basename(found[0]), bytes: found[1].bytes };
  };
  const script = named('.js');
  const stylesheet = named('.css');
  await writeFile(join(outdir, 'index.html'), page(script.name, stylesheet.name));
  return { script: script.bytes, stylesheet: stylesheet.bytes };
}
