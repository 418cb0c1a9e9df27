/**
 * Connection cursors: opaque, versioned, stateless strings that wrap an upstream position.
 *
 * A position is "the upstream page fetched with `token` (null: the first page) and `size`, after skipping `skip`
 * of its items". Any replica can continue any cursor because nothing is stored server-side; a MAC (keyed by a
 * secret all replicas share) rejects edited cursors, and a fingerprint of the filter rejects a cursor reused with
 * another filter.
 *
 * `v2.<page>.<skip>.<mac>`: every edge of one upstream page shares `<page>` (filter, token, size), so its key is
 * derived once per page with HMAC-SHA256, and each edge's MAC is SHA3-256 over that page key and its skip: one
 * hash per edge instead of one HMAC (a quarter of the cost), still binding every field. SHA-3 has no length
 * extension, so a secret-prefix hash is a sound MAC. `v1` cursors, with one HMAC over all four fields, are still
 * read, so a walk survives the deploy that introduced `v2`.
 */
import { createHash, createHmac, hash, timingSafeEqual } from 'node:crypto';

export interface UpstreamPosition {
  readonly token: string | null;
  /**
   * The page size the token was read with: what paging falls back to if the upstream refuses the token with
   * another size.
   */
  readonly size: number;
  readonly skip: number;
}

const VERSION = 'v2';
const LEGACY_VERSION = 'v1';
const MAC_BYTES = 16;
/** base64url length of {@link MAC_BYTES}. */
const MAC_CHARS = 22;

export class CursorError extends Error {
  override readonly name = 'CursorError';
}

export class CursorCodec {
  readonly #key: Buffer;
  /** The page part and key of the last page encoded: consecutive edges of one page share them. */
  #lastPage: { readonly id: string; readonly part: string; readonly key: Buffer } | undefined;

  constructor(secret: string | Buffer) {
    // A key of its own, so the cursor MAC never reuses the raw secret for another purpose.
    this.#key = createHmac('sha256', secret).update('workflow-execution-cursor').digest();
  }

  encode(filterFingerprint: string, position: UpstreamPosition): string {
    const id = JSON.stringify([filterFingerprint, position.token, position.size]);
    let page = this.#lastPage;
    if (page?.id !== id) {
      const part = Buffer.from(id).toString('base64url');
      page = { id, part, key: this.#pageKey(part) };
      this.#lastPage = page;
    }
    return `${VERSION}.${page.part}.${position.skip}.${edgeMac(page.key, position.skip)}`;
  }

  /** The position a cursor resumes at; throws {@link CursorError} when it is malformed, edited or for another filter. */
  decode(cursor: string, filterFingerprint: string): UpstreamPosition {
    const parts = cursor.split('.');
    const fields = parts[0] === LEGACY_VERSION ? this.#legacyFields(parts) : this.#fields(parts);
    const [fingerprint, token, size, skip] = fields;
    if (
      typeof fingerprint !== 'string' ||
      !(token === null || (typeof token === 'string' && token !== '')) ||
      !isCount(size, 1) ||
      !isCount(skip, 0)
    ) {
      throw new CursorError('malformed cursor');
    }
    if (fingerprint !== filterFingerprint) throw new CursorError('cursor belongs to a different filter');
    return { token, size, skip };
  }

  /** `v2.<page>.<skip>.<mac>` checked, as `[fingerprint, token, size, skip]` still to be typed. */
  #fields(parts: string[]): unknown[] {
    const [version, part, skipText, mac, ...rest] = parts;
    if (
      version !== VERSION ||
      !part ||
      !skipText ||
      !/^(0|[1-9]\d{0,6})$/.test(skipText) ||
      mac?.length !== MAC_CHARS
    ) {
      throw new CursorError('malformed cursor');
    }
    if (rest.length > 0) throw new CursorError('malformed cursor');
    const skip = Number(skipText);
    if (!sameText(edgeMac(this.#pageKey(part), skip), mac)) throw altered();
    const page = parseJson(part);
    if (!Array.isArray(page) || page.length !== 3) throw new CursorError('malformed cursor');
    return [...page, skip];
  }

  /** `v1.<payload>.<mac>`: one HMAC over all four fields. */
  #legacyFields(parts: string[]): unknown[] {
    const [version, payload, mac, ...rest] = parts;
    if (!payload || !mac || rest.length > 0) throw new CursorError('malformed cursor');
    const expected = createHmac('sha256', this.#key)
      .update(`${version}.${payload}`)
      .digest()
      .subarray(0, MAC_BYTES)
      .toString('base64url');
    if (!sameText(expected, mac)) throw altered();
    const fields = parseJson(payload);
    if (!Array.isArray(fields) || fields.length !== 4) throw new CursorError('malformed cursor');
    return fields;
  }

  #pageKey(part: string): Buffer {
    return createHmac('sha256', this.#key).update(`${VERSION}.${part}`).digest();
  }
}

function edgeMac(pageKey: Buffer, skip: number): string {
  return hash('sha3-256', Buffer.concat([pageKey, Buffer.from(String(skip))]), 'buffer')
    .subarray(0, MAC_BYTES)
    .toString('base64url');
}

function sameText(expected: string, actual: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(actual);
  return a.length === b.length && timingSafeEqual(a, b);
}

function altered(): CursorError {
  return new CursorError('cursor has been altered or was issued by another deployment');
}

function parseJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new CursorError('malformed cursor');
  }
}

/** A short, stable digest of a filter: equal filters (in any key or list order) give equal fingerprints. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest().subarray(0, 12).toString('base64url');
}

function canonicalJson(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

function isCount(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= 1_000_000;
}
