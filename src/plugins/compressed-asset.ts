/**
 * A static file served from memory, as browsers want it: compressed once (brotli and gzip, on libuv's thread
 * pool), with a validator (`ETag`) so that a browser holding it revalidates instead of downloading it again, and
 * in whichever encoding the request accepts. GraphiQL's page and the console's files are served this way.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gunzip, gzip } from 'node:zlib';

export interface CompressedAsset {
  readonly etag: string;
  readonly br: Buffer;
  readonly gzip: Buffer;
  /** Kept only when asked for; otherwise a client that takes no compression pays for a gunzip. */
  readonly identity: Buffer | undefined;
}

const compressBrotli = promisify(brotliCompress);
const compressGzip = promisify(gzip);
const decompressGzip = promisify(gunzip);

export async function compressAsset(
  raw: Buffer,
  options: { readonly keepIdentity: boolean },
): Promise<CompressedAsset> {
  const [br, gzipped] = await Promise.all([
    compressBrotli(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } }),
    compressGzip(raw, { level: 9 }),
  ]);
  return {
    etag: `"${createHash('sha256').update(raw).digest('base64url').slice(0, 27)}"`,
    br,
    gzip: gzipped,
    identity: options.keepIdentity ? raw : undefined,
  };
}

/** The asset in the encoding `request` accepts, or 304 when it holds this version; `headers` are added to both. */
export async function assetResponse(
  request: Request,
  asset: CompressedAsset,
  headers: Record<string, string>,
  fetchAPI: { Response: typeof Response },
): Promise<Response> {
  const all: Record<string, string> = { ...headers, etag: asset.etag, vary: 'accept-encoding' };
  if (request.headers.get('if-none-match') === asset.etag) {
    return new fetchAPI.Response(null, { status: 304, headers: all });
  }
  const accepted = request.headers.get('accept-encoding') ?? '';
  // A client that takes neither (curl without --compressed) is rare enough to pay for its own copy.
  const [encoding, body] = /\bbr\b/.test(accepted)
    ? (['br', asset.br] as const)
    : /\bgzip\b/.test(accepted)
      ? (['gzip', asset.gzip] as const)
      : ([undefined, asset.identity ?? (await decompressGzip(asset.gzip))] as const);
  if (encoding) all['content-encoding'] = encoding;
  // A Buffer is a Uint8Array, which Response takes; the type declarations in use do not say so.
  return new fetchAPI.Response(body as unknown as ArrayBuffer, { status: 200, headers: all });
}
