/**
 * `POST /ci/callback/<token>`: where CI's workflow callbacks land. The token (compared in constant time) is the
 * only secret: CI signs nothing. A wrong token is 404 and logged; a body that is not a callback is 400 and
 * logged; anything else is answered 204 at once and handed to live updates, which re-read the run with a signed
 * call before publishing anything. Hints are rate limited, so forged callbacks cost at most that many reads.
 */
import type { Plugin } from 'graphql-yoga';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { readCallback, UnreadableCallback } from '../ci/callbacks.js';
import { assume, type RunId, runIdRule } from '../ci/inputs.js';
import type { Logger } from '../logger.js';
import { chooseRequestId, currentRequestId, REQUEST_ID_HEADER } from '../request-context.js';
import { secretMatcher } from '../secret-match.js';

export const CALLBACK_PATH_PREFIX = '/ci/callback/';
/** Callback bodies are small; a larger one is refused unread. */
const MAX_CALLBACK_BYTES = 256 * 1024;

export interface CiCallbackOptions {
  readonly token: string;
  readonly hint: (runId: RunId) => Promise<void>;
  readonly logger: Logger;
  /** Re-reads callbacks may cause per second, gateway-wide. @default 50 */
  readonly hintsPerSecond?: number;
}

export function useCiCallbacks(options: CiCallbackOptions): Plugin {
  const matches = secretMatcher(options.token);
  const limiter = new RateLimiterMemory({ points: options.hintsPerSecond ?? 50, duration: 1 });
  const plain = (status: number, requestId: string, text = '') =>
    new Response(text, {
      status,
      headers: { 'content-type': 'text/plain; charset=utf-8', [REQUEST_ID_HEADER]: requestId },
    });
  return {
    async onRequest({ request, url, endResponse }) {
      if (!url.pathname.startsWith(CALLBACK_PATH_PREFIX)) return;
      // Refusals are logged and answered with the same id, so CI's delivery log and ours can be matched.
      const requestId = currentRequestId() ?? chooseRequestId(request.headers.get(REQUEST_ID_HEADER));
      const offered = decodeURIComponent(url.pathname.slice(CALLBACK_PATH_PREFIX.length));
      if (request.method !== 'POST' || !matches(offered)) {
        options.logger.warn(
          { method: request.method, requestId },
          'CI callback with a wrong token or method: refused',
        );
        endResponse(plain(404, requestId, 'Not found\n'));
        return;
      }
      const declared = Number(request.headers.get('content-length') ?? 0);
      if (declared > MAX_CALLBACK_BYTES) {
        endResponse(plain(413, requestId, 'Callback body too large\n'));
        return;
      }
      const body = await request.text();
      let runId: RunId;
      let event: string;
      try {
        const hint = readCallback(body, request.headers.get('content-type'));
        runId = assume(runIdRule, hint.runId);
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
          () => options.hint(runId),
          () => options.logger.warn({ runId, event }, 'CI callbacks over their rate limit: hint dropped'),
        )
        .catch((error: unknown) =>
          options.logger.warn(
            { runId, event, reason: (error as Error).message },
            'CI callback re-read failed',
          ),
        );
    },
  };
}

/**
 * Tells whether a callback URL configured in CI leads here: this gateway's public base URL (its origin and any
 * path prefix a proxy strips), then `/ci/callback/`, then the token. Undefined when that cannot be told: no public
 * base URL or no token configured.
 */
export function callbackUrlCheck(
  publicBaseUrl: () => string | undefined,
  token: string | undefined,
): (configured: string) => boolean | undefined {
  const matches = token === undefined ? undefined : secretMatcher(token);
  return (configured) => {
    const base = publicBaseUrl();
    if (base === undefined || matches === undefined) return undefined;
    if (!URL.canParse(configured)) return false;
    const target = new URL(configured);
    const own = new URL(base);
    const prefix = `${own.pathname.replace(/\/+$/, '')}${CALLBACK_PATH_PREFIX}`;
    return (
      target.origin === own.origin &&
      target.pathname.startsWith(prefix) &&
      matches(decodeURIComponent(target.pathname.slice(prefix.length)))
    );
  };
}
