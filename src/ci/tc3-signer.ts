/**
 * Tencent Cloud API v3 signing (TC3-HMAC-SHA256), for the cloud APIs the gateway calls besides CI's own (STS, for
 * temporary credentials). One small pure function per step of the algorithm
 * (https://cloud.tencent.com/document/api/598/33159), checked against the official SDK's signer
 * (`tencentcloud-sdk-nodejs-common`) on generated requests.
 *
 * Like the q-sign signer, nothing here reads a clock: callers pass the timestamp.
 */
import { createHash, createHmac } from 'node:crypto';

export const TC3_ALGORITHM = 'TC3-HMAC-SHA256';
/** The headers signed, as the official SDKs sign them. */
const SIGNED_HEADERS = 'content-type;host';

/** A request to a Tencent Cloud API endpoint (`POST /` with a JSON body, as the API takes its actions). */
export interface Tc3Request {
  /** The host name, without a port: what the official SDKs sign. */
  readonly host: string;
  readonly contentType: string;
  /** The exact body sent: its bytes are what is hashed. */
  readonly body: string;
}

export interface Tc3Credentials {
  readonly secretId: string;
  readonly secretKey: string;
  /** Temporary keys' token: sent as `X-TC-Token`, outside the signature. */
  readonly sessionToken?: string | undefined;
}

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** The UTC date of a Unix timestamp in seconds, `YYYY-MM-DD`: the credential scope's date. */
export function tc3Date(timestamp: number): string {
  return new Date(timestamp * 1000).toISOString().slice(0, 10);
}

/** Step 1: method, path, query, canonical headers, signed headers and the body's hash, one per line. */
export function canonicalRequest(request: Tc3Request): string {
  return [
    'POST',
    '/',
    '',
    `content-type:${request.contentType}\nhost:${request.host}\n`,
    SIGNED_HEADERS,
    sha256Hex(request.body),
  ].join('\n');
}

/** Step 2: the algorithm, the timestamp, the credential scope and the canonical request's hash. */
export function stringToSign(timestamp: number, service: string, canonical: string): string {
  return [
    TC3_ALGORITHM,
    String(timestamp),
    `${tc3Date(timestamp)}/${service}/tc3_request`,
    sha256Hex(canonical),
  ].join('\n');
}

/** Step 3: the signing key, an HMAC chain from `TC3` + the secret key through the date and the service. */
export function signingKey(secretKey: string, date: string, service: string): Buffer {
  return hmac(hmac(hmac(`TC3${secretKey}`, date), service), 'tc3_request');
}

/** Step 4: the `Authorization` header's value. */
export function tc3Authorization(
  credentials: Tc3Credentials,
  service: string,
  timestamp: number,
  request: Tc3Request,
): string {
  const date = tc3Date(timestamp);
  const signature = createHmac('sha256', signingKey(credentials.secretKey, date, service))
    .update(stringToSign(timestamp, service, canonicalRequest(request)), 'utf8')
    .digest('hex');
  return (
    `${TC3_ALGORITHM} Credential=${credentials.secretId}/${date}/${service}/tc3_request, ` +
    `SignedHeaders=${SIGNED_HEADERS}, Signature=${signature}`
  );
}
