/**
 * `POST /ci/callback/<token>/<bucketId>`: where CI's workflow callbacks land, one path per bucket, so a callback
 * for one bucket never makes a read against another (`/ci/callback/<token>` alone means the default bucket). The token (compared in constant time) is the
 * only secret: CI signs nothing. A wrong token (or a path that is not one) is 404; a client that keeps guessing is
 * answered 429 without a look at its guesses, and its refusals are logged once per window rather than one line
 * each. A body is read up to its cap and no further (413), whether or not it declares a length; a body that is not
 * a callback is 400 and logged; anything else is answered 204 at once and handed to live updates, which re-read
 * the run with a signed call before publishing anything. Hints are rate limited, so forged callbacks cost at most
 * that many reads.
 */
import type { Plugin } from 'graphql-yoga';
import { RateLimiterMemory, type RateLimiterRes } from 'rate-limiter-flexible';
import { readCallback, UnreadableCallback } from '../ci/callbacks.js';
import type { RunId } from '../ci/inputs.js';
import { chooseRequestId, currentRequestId, REQUEST_ID_HEADER } from '../request-context.js';
import { secretMatcher } from '../secret-match.js';
import type { Logger } from '../telemetry/logger.js';

export const CALLBACK_PATH_PREFIX = '/ci/callback/';
/** Callback bodies are small; a larger one is refused unread, or as soon as it passes this. */
export const MAX_CALLBACK_BYTES = 256 * 1024;
/** Wrong tokens one client may try per minute before it is answered 429 unheard. */
const GUESSES_PER_MINUTE = 10;

export interface CiCallbackOptions<ServerContext> {
  readonly token: string;
  /** Whether callbacks for this bucket (undefined: the path named none) are taken. */
  readonly takesBucket: (bucketId: string | undefined) => boolean;
  readonly hint: (runId: RunId, bucketId: string | undefined) => Promise<void>;
  readonly logger: Logger;
  /** Re-reads callbacks may cause per second, gateway-wide. @default 50 */
  readonly hintsPerSecond?: number;
  /** Who is posting: the same key for the same client (its address). */
  readonly clientKey: (serverContext: ServerContext) => string;
}

export function useCiCallbacks<ServerContext extends object>(
  options: CiCallbackOptions<ServerContext>,
): Plugin<object, ServerContext> {
  const matches = secretMatcher(options.token);
  const limiter = new RateLimiterMemory({ points: options.hintsPerSecond ?? 50, duration: 1 });
  const plain = (status: number, requestId: string, text = '') =>
    new Response(text, {
      status,
      headers: { 'content-type': 'text/plain; charset=utf-8', [REQUEST_ID_HEADER]: requestId },
    });
  const guesses = new RateLimiterMemory({ points: GUESSES_PER_MINUTE, duration: 60 });
  /** Clients told 429 this window, with how many guesses were refused unheard: one log line per window each. */
  const throttled = new Map<string, number>();
  const refuseGuess = async (client: string, method: string, requestId: string): Promise<Response> => {
    try {
      await guesses.consume(client);
      options.logger.warn({ method, requestId, client }, 'CI callback with a wrong token or path: refused');
      return plain(404, requestId, 'Not found\n');
    } catch (rejection) {
      const retryAfterSeconds = Math.max(1, Math.ceil((rejection as RateLimiterRes).msBeforeNext / 1000));
      const refusedUnheard = (throttled.get(client) ?? 0) + 1;
      throttled.set(client, refusedUnheard);
      if (refusedUnheard === 1) {
        options.logger.warn(
          { client, requestId, retryAfterSeconds },
          `CI callback: more than ${GUESSES_PER_MINUTE} wrong tokens a minute from one client; refusing it unheard`,
        );
        setTimeout(() => {
          const count = throttled.get(client) ?? 0;
          throttled.delete(client);
          if (count > 1)
            options.logger.warn(
              { client, refused: count },
              'CI callback: wrong-token guesses refused unheard',
            );
        }, retryAfterSeconds * 1000).unref();
      }
      const response = plain(429, requestId, 'Too many requests\n');
      response.headers.set('retry-after', String(retryAfterSeconds));
      return response;
    }
  };
  return {
    async onRequest({ request, url, endResponse, serverContext }) {
      if (!url.pathname.startsWith(CALLBACK_PATH_PREFIX)) return;
      // Refusals are logged and answered with the same id, so CI's delivery log and ours can be matched.
      const requestId = currentRequestId() ?? chooseRequestId(request.headers.get(REQUEST_ID_HEADER));
      const client = options.clientKey(serverContext);
      const target = callbackTarget(url.pathname.slice(CALLBACK_PATH_PREFIX.length));
      if (
        request.method !== 'POST' ||
        target === undefined ||
        !matches(target.token) ||
        !options.takesBucket(target.bucketId)
      ) {
        endResponse(await refuseGuess(client, request.method, requestId));
        return;
      }
      const declared = Number(request.headers.get('content-length') ?? 0);
      const body = declared > MAX_CALLBACK_BYTES ? undefined : await readAtMost(request, MAX_CALLBACK_BYTES);
      if (body === undefined) {
        options.logger.warn({ requestId, declared }, 'CI callback body over its cap: refused');
        endResponse(plain(413, requestId, 'Callback body too large\n'));
        return;
      }
      let runId: RunId;
      let event: string;
      try {
        const hint = readCallback(body, request.headers.get('content-type'));
        runId = hint.runId;
        event = hint.event;
      } catch (error) {
        const reason = error instanceof UnreadableCallback ? error.message : 'unreadable';
        options.logger.warn(
          { reason, bytes: body.length, requestId },
          'CI callback body unreadable: nothing published',
        );
        endResponse(plain(400, requestId, `Not a CI callback: ${reason}\n`));
        return;
      }
      endResponse(new Response(null, { status: 204 }));
      // After the answer: CI wants it within its timeout, and the read may take longer.
      void limiter
        .consume('hints')
        .then(
          () => options.hint(runId, target.bucketId),
          () =>
            options.logger.warn(
              { runId, event, bucket: target.bucketId },
              'CI callbacks over their rate limit: hint dropped',
            ),
        )
        .catch((error: unknown) =>
          options.logger.warn(
            { runId, event, bucket: target.bucketId, reason: (error as Error).message },
            'CI callback re-read failed',
          ),
        );
    },
  };
}

/** `<token>` or `<token>/<bucketId>`, decoded; undefined for anything else. */
function callbackTarget(rest: string): { token: string; bucketId: string | undefined } | undefined {
  const [tokenSegment = '', bucketSegment, ...more] = rest.split('/');
  if (more.length > 0 || bucketSegment === '') return undefined;
  const token = decodePathSegment(tokenSegment);
  const bucketId = bucketSegment === undefined ? undefined : decodePathSegment(bucketSegment);
  if (token === undefined || (bucketSegment !== undefined && bucketId === undefined)) return undefined;
  return { token, bucketId };
}

/** A path segment's text, or undefined when its percent-escapes are malformed (no token can match it). */
function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** The body as text, read until `maxBytes` and no further: undefined (and the rest left unread) when it is longer. */
async function readAtMost(request: Request, maxBytes: number): Promise<string | undefined> {
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Tells whether a callback URL configured in CI for a workflow of `bucketId` leads here, to that bucket: this
 * gateway's public base URL (its origin and any path prefix a proxy strips), then `/ci/callback/`, the token, and
 * the bucket (which only the default bucket may leave out). Undefined when that cannot be told: no public base URL
 * or no token configured.
 */
export function callbackUrlCheck(
  publicBaseUrl: () => string | undefined,
  token: string | undefined,
  defaultBucket: string | undefined,
): (configured: string, bucketId: string) => boolean | undefined {
  const matches = token === undefined ? undefined : secretMatcher(token);
  return (configured, bucketId) => {
    const base = publicBaseUrl();
    if (base === undefined || matches === undefined) return undefined;
    if (!URL.canParse(configured)) return false;
    const url = new URL(configured);
    const own = new URL(base);
    const prefix = `${own.pathname.replace(/\/+$/, '')}${CALLBACK_PATH_PREFIX}`;
    if (url.origin !== own.origin || !url.pathname.startsWith(prefix)) return false;
    const target = callbackTarget(url.pathname.slice(prefix.length));
    return target !== undefined && matches(target.token) && (target.bucketId ?? defaultBucket) === bucketId;
  };
}
