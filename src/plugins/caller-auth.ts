/**
 * Who may call, decided before a GraphQL request is parsed: a JWT verified against the configured JWKS, the
 * router's shared secret, or both. A request that fails either is answered 401 `UNAUTHENTICATED` and never reaches
 * a resolver, so it never costs an upstream call. What a verified caller may do (its scopes) is decided per field
 * by the schema.
 *
 * The JWT work is `jose`'s: maintained, dependency-free, and it does what is easy to get wrong by hand (JWKS
 * caching with a refetch on an unknown `kid` and a cooldown, algorithm allow-lists so `alg: none` and HS/RS
 * confusion are refused, `exp`/`nbf` with clock tolerance, issuer and audience).
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { createRemoteJWKSet, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import { ErrorCode } from '../error-codes.js';
import { secretMatcher } from '../secret-match.js';

const ROUTER_SECRET_HEADER = 'x-router-secret';
/** Asymmetric algorithms only: a JWKS holds public keys. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const CLOCK_TOLERANCE_SECONDS = 30;

export interface CallerAuthOptions {
  readonly jwt?:
    | {
        readonly jwksUrl: string;
        readonly issuer?: string | undefined;
        readonly audience?: string | undefined;
        /** How soon an unknown `kid` may refetch the JWKS again. @default 30_000 */
        readonly refetchCooldownMs?: number | undefined;
        /** The claim listing the buckets a caller may use (`*`: all); when absent, every bucket. */
        readonly bucketsClaim?: string | undefined;
      }
    | undefined;
  readonly routerSecret?: string | undefined;
}

/** A caller as the schema sees it. */
export interface Caller {
  /** The JWT's `sub`, when a token was verified. */
  readonly subject: string | undefined;
  /** The token's scopes; undefined when no token is required, so no scope is checked. */
  readonly scopes: ReadonlySet<string> | undefined;
  /** When the token stops being valid: a long-lived connection (a WebSocket) ends then. */
  readonly expiresAt?: Date | undefined;
  /** The buckets its token's bucket claim lists; undefined for every bucket (no claim configured, or `*`). */
  readonly buckets?: ReadonlySet<string> | undefined;
}

export interface CallerAuth {
  readonly plugin: Plugin;
  /** The caller of a request the plugin has let through. */
  callerOf(request: Request): Caller;
  /**
   * The same checks for a connection that is not a GraphQL request (a WebSocket): the router secret and the bearer
   * token from these headers. Rejects with the GraphQL error a request would get.
   */
  authenticate(headers: Headers): Promise<Caller>;
}

const OPEN: Caller = { subject: undefined, scopes: undefined };

export function useCallerAuth(options: CallerAuthOptions): CallerAuth {
  const callers = new WeakMap<Request, Caller>();
  const { jwt, routerSecret } = options;
  // Keys are cached; a token with an unknown `kid` (a rotation) refetches them, at most once per cooldown.
  const keys = jwt
    ? createRemoteJWKSet(new URL(jwt.jwksUrl), { cooldownDuration: jwt.refetchCooldownMs ?? 30_000 })
    : undefined;
  const isRouterSecret = routerSecret === undefined ? undefined : secretMatcher(routerSecret);

  const verify = async (
    authorization: string | null,
    jwt: NonNullable<CallerAuthOptions['jwt']>,
    keys: ReturnType<typeof createRemoteJWKSet>,
  ): Promise<Caller> => {
    const token = /^Bearer ([\w-]+\.[\w-]+\.[\w-]+)$/i.exec(authorization ?? '')?.[1];
    if (!token) throw unauthenticated('A bearer token is required: send `Authorization: Bearer <JWT>`.');
    try {
      const { payload } = await jwtVerify(token, keys, {
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        ...(jwt.issuer === undefined ? {} : { issuer: jwt.issuer }),
        ...(jwt.audience === undefined ? {} : { audience: jwt.audience }),
      });
      return {
        subject: payload.sub,
        scopes: scopesOf(payload),
        expiresAt: payload.exp === undefined ? undefined : new Date(payload.exp * 1000),
        buckets: jwt.bucketsClaim === undefined ? undefined : bucketsOf(payload[jwt.bucketsClaim]),
      };
    } catch (error) {
      if (isIssuerFailure(error)) {
        // The issuer's keys could not be fetched: the caller is not at fault, and nothing is let through.
        throw new GraphQLError('Tokens cannot be verified right now; retry later.', {
          extensions: {
            code: ErrorCode.AUTH_UNAVAILABLE,
            http: { status: 503, headers: { 'retry-after': '5' } },
          },
        });
      }
      throw unauthenticated(explain(error));
    }
  };

  /** Synchronous unless a token must be verified: most requests need no promise here. */
  const check = (headers: Headers): Caller | Promise<Caller> => {
    if (isRouterSecret !== undefined) {
      const offered = headers.get(ROUTER_SECRET_HEADER);
      if (offered === null || !isRouterSecret(offered)) {
        throw unauthenticated('This subgraph answers only its router.');
      }
    }
    return jwt && keys ? verify(headers.get('authorization'), jwt, keys) : OPEN;
  };

  return {
    callerOf: (request) => callers.get(request) ?? OPEN,
    authenticate: async (headers) => check(headers),
    plugin:
      isRouterSecret === undefined && !jwt
        ? {}
        : {
            onRequestParse({ request }) {
              const caller = check(request.headers);
              if (caller === OPEN) return;
              return Promise.resolve(caller).then((verified) => {
                callers.set(request, verified);
              });
            },
          },
  };
}

/**
 * Whether verification failed because the issuer's key set could not be had, rather than because of the token:
 * no answer in time, an answer other than 200, a body that is not JSON or not a key set, or a network failure.
 * jose reports the non-200 and non-JSON cases as its generic error (`ERR_JOSE_GENERIC`), a token's own faults as
 * specific ones.
 */
function isIssuerFailure(error: unknown): boolean {
  if (!(error instanceof joseErrors.JOSEError)) return true;
  return (
    error instanceof joseErrors.JWKSTimeout ||
    error instanceof joseErrors.JWKSInvalid ||
    error.code === joseErrors.JOSEError.code
  );
}

/** `scope` (space-separated, RFC 8693) or `scp` (an array, as Azure AD and Okta send). */
function scopesOf(payload: JWTPayload): ReadonlySet<string> {
  const scopes = new Set<string>();
  if (typeof payload['scope'] === 'string')
    for (const scope of payload['scope'].split(' ')) if (scope) scopes.add(scope);
  const scp = payload['scp'];
  if (Array.isArray(scp)) for (const scope of scp) if (typeof scope === 'string') scopes.add(scope);
  if (typeof scp === 'string') for (const scope of scp.split(' ')) if (scope) scopes.add(scope);
  return scopes;
}

/**
 * The buckets a claim lists: an array of bucket ids, or one string of them separated by spaces or commas. `*`
 * grants every bucket; a token without the claim (or with anything else in it) grants none.
 */
function bucketsOf(claim: unknown): ReadonlySet<string> | undefined {
  const listed =
    typeof claim === 'string'
      ? claim.split(/[\s,]+/)
      : Array.isArray(claim)
        ? claim.filter((item): item is string => typeof item === 'string')
        : [];
  const buckets = new Set(listed.filter(Boolean));
  return buckets.has('*') ? undefined : buckets;
}

/** What went wrong, in words that help the caller and give nothing away about the keys. */
function explain(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The token has expired.';
  if (error instanceof joseErrors.JWTClaimValidationFailed)
    return `The token's ${error.claim} claim is not accepted.`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed)
    return 'The token is signed with an algorithm that is not accepted.';
  if (error instanceof joseErrors.JWKSNoMatchingKey)
    return 'The token is signed with a key the issuer does not publish.';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'The token signature is invalid.';
  return 'The token is not valid.';
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: {
      code: ErrorCode.UNAUTHENTICATED,
      http: { status: 401, headers: { 'www-authenticate': 'Bearer' } },
    },
  });
}
