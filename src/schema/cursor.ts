/**
 * Connection cursors: opaque, versioned, stateless strings that wrap an upstream position.
 *
 * A position is "the upstream page fetched with `token` (null: the first page) and `size`, after skipping `skip`
 * of its items". Any replica can continue any cursor because nothing is stored server-side; an HMAC over the
 * payload (keyed by a secret all replicas share) rejects edited cursors, and a fingerprint of the filter rejects
 * a cursor reused with another filter.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface UpstreamPosition {
  readonly token: string | null;
  /** The upstream page size this token chain was started with; continuing a token keeps it. */
  readonly size: number;
  readonly skip: number;
}

const VERSION = 'v1';
const MAC_BYTES = 16;

export class CursorError extends Error {
  override readonly name = 'CursorError';
}

export class CursorCodec {
  readonly #key: Buffer;

  constructor(secret: string | Buffer) {
    // A key of its own, so the cursor MAC never reuses the raw secret for another purpose.
    this.#key = createHmac('sha256', secret).update('workflow-execution-cursor').digest();
  }

  encode(filterFingerprint: string, position: UpstreamPosition): string {
    const payload = Buffer.from(
      JSON.stringify([filterFingerprint, position.token, position.size, position.skip]),
    ).toString('base64url');
    return `${VERSION}.${payload}.${this.#mac(payload)}`;
  }

  /** The position a cursor resumes at; throws {@link CursorError} when it is malformed, edited or for another filter. */
  decode(cursor: string, filterFingerprint: string): UpstreamPosition {
    const [version, payload, mac, ...rest] = cursor.split('.');
    if (version !== VERSION || !payload || !mac || rest.length > 0) throw new CursorError('malformed cursor');
    const expected = Buffer.from(this.#mac(payload));
    const actual = Buffer.from(mac);
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      throw new CursorError('cursor has been altered or was issued by another deployment');
    }
    let fields: unknown;
    try {
      fields = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw new CursorError('malformed cursor');
    }
    if (!Array.isArray(fields) || fields.length !== 4) throw new CursorError('malformed cursor');
    const [fingerprint, token, size, skip] = fields as unknown[];
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

  #mac(payload: string): string {
    return createHmac('sha256', this.#key)
      .update(`${VERSION}.${payload}`)
      .digest()
      .subarray(0, MAC_BYTES)
      .toString('base64url');
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
