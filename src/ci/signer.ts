/**
 * The COS "q-sign" request signature (HMAC-SHA1), as one small pure function per step of Tencent's algorithm
 * (https://cloud.tencent.com/document/product/436/7778), so each step can be checked against published vectors.
 *
 * Nothing here reads a clock: callers pass the key time, which keeps signing deterministic and testable.
 */
import { createHash, createHmac } from 'node:crypto';
import { percentEncode } from './encoding.js';

export type KeyValuePairs = ReadonlyArray<readonly [string, string]>;

export interface SigningCredentials {
  readonly secretId: string;
  readonly secretKey: string;
}

export interface RequestToSign {
  /** Any case; signed lowercased. */
  readonly method: string;
  /** The raw, decoded path (`/exampleobject(腾讯云)`), never percent-encoded. */
  readonly path: string;
  readonly query: KeyValuePairs;
  /** Only the headers to sign; at least `host`. */
  readonly headers: KeyValuePairs;
}

/** The official SDKs sign from one second ago for 15 minutes. */
export const DEFAULT_SIGNATURE_TTL_SECONDS = 900;

/** `<start>;<end>` in Unix seconds; the start is backdated a second like the official SDKs do. */
export function formatKeyTime(nowMs: number, ttlSeconds: number = DEFAULT_SIGNATURE_TTL_SECONDS): string {
  const start = Math.floor(nowMs / 1000) - 1;
  return `${start};${start + ttlSeconds}`;
}

/** Parses `<start>;<end>`; undefined when it is not two integers in order. */
export function parseKeyTime(keyTime: string): { start: number; end: number } | undefined {
  const match = /^(\d{1,12});(\d{1,12})$/.exec(keyTime);
  if (!match?.[1] || !match[2]) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  return start <= end ? { start, end } : undefined;
}

/** Step 2: the lowercase hex string that keys step 6 (as a string, not the raw digest bytes). */
export function deriveSignKey(secretKey: string, keyTime: string): string {
  return createHmac('sha1', secretKey).update(keyTime).digest('hex');
}

export interface CanonicalPairs {
  /** `k=v&k=v`: lowercased encoded keys, encoded values. */
  readonly canonical: string;
  /** `k;k`: the lowercased encoded keys, for `q-header-list` / `q-url-param-list`. */
  readonly list: string;
}

/**
 * Steps 3 and 4: canonical query parameters or headers.
 *
 * The pairs string is ordered by the lowercased *raw* key while the key list is ordered by the lowercased
 * *encoded* key. The two orders differ only for keys holding characters such as `:` or non-ASCII letters; the
 * official SDKs (the implementation the live service is known to accept) do exactly this, so we follow them to
 * the byte. The sort is stable, so keys equal once lowercased keep the order they were given in.
 */
export function canonicalizePairs(pairs: KeyValuePairs): CanonicalPairs {
  const canonical = [...pairs]
    .sort(([a], [b]) => compareStrings(a.toLowerCase(), b.toLowerCase()))
    .map(([key, value]) => `${percentEncode(key).toLowerCase()}=${percentEncode(value)}`)
    .join('&');
  const list = pairs
    .map(([key]) => percentEncode(key).toLowerCase())
    .sort(compareStrings)
    .join(';');
  return { canonical, list };
}

/** Step 5. */
export function buildHttpString(method: string, path: string, parameters: string, headers: string): string {
  return `${method.toLowerCase()}\n${path}\n${parameters}\n${headers}\n`;
}

/** Step 6. */
export function buildStringToSign(keyTime: string, httpString: string): string {
  const digest = createHash('sha1').update(httpString, 'utf8').digest('hex');
  return `sha1\n${keyTime}\n${digest}\n`;
}

/** Step 7. */
export function computeSignature(signKey: string, stringToSign: string): string {
  return createHmac('sha1', signKey).update(stringToSign).digest('hex');
}

export interface AuthorizationFields {
  readonly secretId: string;
  readonly keyTime: string;
  readonly headerList: string;
  readonly urlParamList: string;
  readonly signature: string;
}

/** Step 8. */
export function formatAuthorization(fields: AuthorizationFields): string {
  return [
    'q-sign-algorithm=sha1',
    `q-ak=${fields.secretId}`,
    `q-sign-time=${fields.keyTime}`,
    `q-key-time=${fields.keyTime}`,
    `q-header-list=${fields.headerList}`,
    `q-url-param-list=${fields.urlParamList}`,
    `q-signature=${fields.signature}`,
  ].join('&');
}

/** Every intermediate value, so tests can compare each step with a published vector. */
export interface SignatureSteps {
  readonly signKey: string;
  readonly httpParameters: string;
  readonly urlParamList: string;
  readonly httpHeaders: string;
  readonly headerList: string;
  readonly httpString: string;
  readonly stringToSign: string;
  readonly signature: string;
  readonly authorization: string;
}

export function signRequest(
  request: RequestToSign,
  credentials: SigningCredentials,
  keyTime: string,
): SignatureSteps {
  const signKey = deriveSignKey(credentials.secretKey, keyTime);
  const parameters = canonicalizePairs(request.query);
  const headers = canonicalizePairs(request.headers);
  const httpString = buildHttpString(request.method, request.path, parameters.canonical, headers.canonical);
  const stringToSign = buildStringToSign(keyTime, httpString);
  const signature = computeSignature(signKey, stringToSign);
  return {
    signKey,
    httpParameters: parameters.canonical,
    urlParamList: parameters.list,
    httpHeaders: headers.canonical,
    headerList: headers.list,
    httpString,
    stringToSign,
    signature,
    authorization: formatAuthorization({
      secretId: credentials.secretId,
      keyTime,
      headerList: headers.list,
      urlParamList: parameters.list,
      signature,
    }),
  };
}

/** Code-unit order, the order JavaScript's `<` gives and the SDKs use. */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
