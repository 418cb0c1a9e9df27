/** An identity provider for tests: a JWKS served on 127.0.0.1, keys that can rotate, and tokens signed with them. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

export const ISSUER = 'https://issuer.test/';
export const AUDIENCE = 'ci-workflows';

export interface SigningKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

export async function signingKey(kid: string, alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface IdentityProvider {
  readonly jwksUrl: string;
  /** The keys the JWKS publishes; replace to rotate. */
  published: SigningKey[];
  /** How many times the JWKS was fetched. */
  readonly fetches: number;
  /** Set to answer this instead of the key set: the issuer failing. */
  failure: { readonly status: number; readonly body: string } | undefined;
  close(): Promise<void>;
}

export async function startIdentityProvider(keys: SigningKey[]): Promise<IdentityProvider> {
  let fetches = 0;
  const provider = {
    jwksUrl: '',
    published: keys,
    get fetches() {
      return fetches;
    },
    failure: undefined as IdentityProvider['failure'],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = createServer((_request, response) => {
    fetches += 1;
    if (provider.failure) {
      response.writeHead(provider.failure.status, { 'content-type': 'text/html' }).end(provider.failure.body);
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys: provider.published.map((key) => key.jwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  provider.jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  return provider;
}

export interface TokenOptions {
  readonly claims?: JWTPayload;
  readonly issuer?: string;
  readonly audience?: string;
  /** Seconds from now; negative for an expired token. */
  readonly expiresIn?: number;
}

export function token(key: SigningKey, options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: 'user-1', scope: 'ci.workflows.read', ...options.claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt(now - 10)
    .setExpirationTime(now + (options.expiresIn ?? 300))
    .sign(key.privateKey);
}

/** A token whose header says `alg: none` (with a dummy signature segment): must never be accepted. */
export function unsignedToken(claims: JWTPayload = {}): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: 'user-1', scope: 'ci.workflows.read', iss: ISSUER, aud: AUDIENCE, exp: now + 300, ...claims })}.bm9uZQ`;
}
