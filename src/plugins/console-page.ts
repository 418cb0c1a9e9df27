/**
 * The operations console at `/console`: a page and its hashed assets, built by `npm run build` into a folder
 * (`dist/console`) and served from memory, compressed. The page is revalidated on every visit (`no-cache` with an
 * ETag); the assets' names change with their content, so browsers keep them for a year. A Content-Security-Policy
 * lets the page load and call nothing but this origin: the console works offline and cannot be made to leak.
 *
 * The page itself holds no data and needs no credentials; what it shows comes from `/graphql`, with the caller's
 * credentials (in production, the bearer token an auth proxy in front adds).
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Plugin } from 'graphql-yoga';
import { assetResponse, type CompressedAsset, compressAsset } from './compressed-asset.js';

export const CONSOLE_PATH = '/console';
const ASSETS_PATH = `${CONSOLE_PATH}/assets/`;

export const CONSOLE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

interface File extends CompressedAsset {
  readonly type: string;
}

export interface ConsolePageOptions {
  /** The built console: `index.html` and `assets/`. */
  readonly directory: string;
}

export function useConsolePage(options: ConsolePageOptions): Plugin {
  let files: Promise<Map<string, File> | undefined> | undefined;
  const serve = async (request: Request, path: string, fetchAPI: { Response: typeof Response }) => {
    files ??= load(options.directory);
    const loaded = await files;
    if (!loaded) {
      // Looked for again next time: a build may appear while the gateway runs (`npm run build` beside `npm run dev`).
      files = undefined;
      return new fetchAPI.Response('The console is not built here: run `npm run build`.\n', {
        status: 503,
        headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
      });
    }
    const isPage = path === CONSOLE_PATH || path === `${CONSOLE_PATH}/`;
    const name = isPage
      ? 'index.html'
      : path.startsWith(ASSETS_PATH)
        ? `assets/${path.slice(ASSETS_PATH.length)}`
        : undefined;
    // Looked up among the files read at start, never opened by name: no path reaches the file system.
    const file = name === undefined ? undefined : loaded.get(name);
    if (!file) {
      return new fetchAPI.Response('Not found\n', { status: 404, headers: { 'content-type': 'text/plain' } });
    }
    const headers: Record<string, string> = {
      'content-type': file.type,
      'cache-control': isPage ? 'no-cache' : 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    };
    if (isPage) headers['content-security-policy'] = CONSOLE_CONTENT_SECURITY_POLICY;
    return assetResponse(request, file, headers, fetchAPI);
  };
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      const path = url.pathname;
      if (path !== CONSOLE_PATH && !path.startsWith(`${CONSOLE_PATH}/`)) return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return endResponse(new fetchAPI.Response(null, { status: 405, headers: { allow: 'GET, HEAD' } }));
      }
      return serve(request, path, fetchAPI).then(endResponse);
    },
  };
}

/** Every file of the built console, compressed; undefined when there is no build in `directory`. */
async function load(directory: string): Promise<Map<string, File> | undefined> {
  const names = await readdir(directory, { recursive: true }).catch(() => undefined);
  if (!names?.includes('index.html')) return undefined;
  const files = new Map<string, File>();
  for (const name of names) {
    const type = CONTENT_TYPES[extname(name)];
    if (!type) continue;
    const raw = await readFile(join(directory, name));
    files.set(name.split('\\').join('/'), { type, ...(await compressAsset(raw, { keepIdentity: true })) });
  }
  return files;
}
