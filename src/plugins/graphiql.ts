/**
 * GraphiQL, from the package's own bundle (no CDN, so it works offline), rendered once per process and served
 * compressed with a validator: the page is about 9 MB of mostly static assets, about 2 MB as brotli, and a browser
 * that has it revalidates with `If-None-Match` instead of fetching it again.
 */
import { createHash } from 'node:crypto';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { Plugin } from 'graphql-yoga';

export interface GraphiQLPageOptions {
  readonly endpoint: string;
  readonly title: string;
  readonly defaultQuery: string;
}

interface Page {
  readonly etag: string;
  readonly identity: Buffer;
  readonly br: Buffer;
  readonly gzip: Buffer;
}

/** Long enough to spare repeat downloads in a session; the ETag covers changes after that. */
const MAX_AGE_SECONDS = 3_600;

export function useGraphiQLPage(options: GraphiQLPageOptions): Plugin {
  let page: Page | undefined;
  const render = (): Page => {
    const html = Buffer.from(
      renderGraphiQL({
        title: options.title,
        defaultQuery: options.defaultQuery,
        endpoint: options.endpoint,
      }),
    );
    return {
      etag: `"${createHash('sha256').update(html).digest('base64url').slice(0, 27)}"`,
      identity: html,
      br: brotliCompressSync(html, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } }),
      gzip: gzipSync(html, { level: 9 }),
    };
  };
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      const wantsPage =
        request.method === 'GET' &&
        (url.pathname === options.endpoint || url.pathname === `${options.endpoint}/`) &&
        (request.headers.get('accept') ?? '').includes('text/html');
      if (!wantsPage) return;
      page ??= render();
      const headers: Record<string, string> = {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': `public, max-age=${MAX_AGE_SECONDS}`,
        etag: page.etag,
        vary: 'accept-encoding',
      };
      if (request.headers.get('if-none-match') === page.etag) {
        endResponse(new fetchAPI.Response(null, { status: 304, headers }));
        return;
      }
      const accepted = request.headers.get('accept-encoding') ?? '';
      const [encoding, body] = /\bbr\b/.test(accepted)
        ? (['br', page.br] as const)
        : /\bgzip\b/.test(accepted)
          ? (['gzip', page.gzip] as const)
          : ([undefined, page.identity] as const);
      if (encoding) headers['content-encoding'] = encoding;
      // A Buffer is a Uint8Array, which Response takes; the type declarations in use do not say so.
      endResponse(new fetchAPI.Response(body as unknown as ArrayBuffer, { status: 200, headers }));
    },
  };
}
