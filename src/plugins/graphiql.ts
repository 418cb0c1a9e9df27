/**
 * GraphiQL, from the package's own bundle (no CDN, so it works offline), rendered once per process and served
 * compressed with a validator: the page is about 9 MB of mostly static assets, 1.9 MB as brotli, and a browser
 * that has it revalidates with `If-None-Match` instead of fetching it again.
 *
 * The page is prepared on the first request for it, compressed on libuv's thread pool (about a second of work
 * that must not stall the event loop), and only its compressed forms are kept. Even the renderer is loaded only
 * then: its bundle is 9 MB of strings, a third of an idle gateway's memory, that a production gateway (GraphiQL
 * off) never needs.
 */
import type { Plugin } from 'graphql-yoga';
import { assetResponse, type CompressedAsset, compressAsset } from './compressed-asset.js';
import { CSRF_HEADERS } from './csrf.js';

export interface GraphiQLPageOptions {
  readonly endpoint: string;
  readonly title: string;
  readonly defaultQuery: string;
}

/** Long enough to spare repeat downloads in a session; the ETag covers changes after that. */
const MAX_AGE_SECONDS = 3_600;

export function useGraphiQLPage(options: GraphiQLPageOptions): Plugin {
  let page: Promise<CompressedAsset> | undefined;
  const prepare = async (): Promise<CompressedAsset> => {
    const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
    const html = Buffer.from(
      renderGraphiQL({
        title: options.title,
        defaultQuery: options.defaultQuery,
        endpoint: options.endpoint,
        // Sent with every request GraphiQL makes: its subscriptions are GETs (text/event-stream), and the CSRF
        // check refuses GETs without such a header.
        additionalHeaders: { [CSRF_HEADERS[0]]: '1' },
      }),
    );
    return compressAsset(html, { keepIdentity: false });
  };
  const serve = async (request: Request, fetchAPI: { Response: typeof Response }): Promise<Response> => {
    page ??= prepare();
    return assetResponse(
      request,
      await page,
      { 'content-type': 'text/html; charset=utf-8', 'cache-control': `public, max-age=${MAX_AGE_SECONDS}` },
      fetchAPI,
    );
  };
  return {
    // Synchronous for every other request: only the page itself waits for anything.
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (!wantsPage(request, url, options.endpoint)) return;
      return serve(request, fetchAPI).then(endResponse);
    },
  };
}

/**
 * Where GraphiQL is off (production by default), a browser opening the endpoint gets a short page that says so and
 * how to send requests, instead of the blank 406 a GraphQL server gives a request that accepts only HTML.
 */
export function useGraphiQLOffPage(options: { readonly endpoint: string; readonly title: string }): Plugin {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${options.title}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 3em auto; line-height: 1.5">
<h1>${options.title}</h1>
<p>This is a GraphQL endpoint. GraphiQL is off here (<code>GRAPHIQL=false</code>, the default in production).</p>
<p>Send GraphQL requests as <code>POST ${options.endpoint}</code> with <code>Content-Type: application/json</code>
and a body such as <code>{"query": "{ __typename }"}</code>, with the credentials this deployment requires
(<code>Authorization: Bearer &lt;token&gt;</code>). Subscriptions: the same POST with
<code>Accept: text/event-stream</code>, or the <code>graphql-ws</code> protocol on this path.</p>
</body></html>
`;
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (!wantsPage(request, url, options.endpoint) || url.searchParams.has('query')) return;
      endResponse(
        new fetchAPI.Response(html, {
          status: 200,
          headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
        }),
      );
    },
  };
}

/** A browser opening the endpoint: a GET that takes HTML. */
function wantsPage(request: Request, url: URL, endpoint: string): boolean {
  return (
    request.method === 'GET' &&
    (url.pathname === endpoint || url.pathname === `${endpoint}/`) &&
    (request.headers.get('accept') ?? '').includes('text/html')
  );
}
