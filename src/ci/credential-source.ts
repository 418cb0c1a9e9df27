/**
 * Where a signed call's keys come from: a fixed pair, or temporary credentials (STS) kept fresh.
 *
 * Temporary credentials are renewed once most of their life is spent (80 % by default), in the background while the
 * current ones still work, so no request waits on STS or fails for a renewal; a request waits only when there are
 * none yet or they have run out. One renewal at a time, however many requests ask. A failed renewal keeps the
 * current credentials while they last and is tried again after a pause.
 */
import type { TemporaryCredentials } from './sts.js';

export interface SigningKeys {
  readonly secretId: string;
  readonly secretKey: string;
  /** Temporary credentials' token, sent beside the signature. */
  readonly sessionToken?: string | undefined;
}

export interface CredentialSource {
  /** Keys good for a request made now. */
  current(): Promise<SigningKeys>;
}

export function fixedCredentials(keys: SigningKeys): CredentialSource {
  return { current: async () => keys };
}

export interface RenewingOptions {
  /** Fetches a new set (an STS call). */
  readonly renew: () => Promise<TemporaryCredentials>;
  /** The share of their life after which credentials are renewed. @default 0.8 */
  readonly renewAt?: number | undefined;
  /** Between tries of a failed renewal, while the current credentials last. @default 30 s */
  readonly retryMs?: number | undefined;
  readonly now?: (() => number) | undefined;
  readonly onRenewFailed?: ((error: unknown) => void) | undefined;
}

export class RenewingCredentials implements CredentialSource {
  readonly #options: RenewingOptions;
  readonly #now: () => number;
  #held: { readonly credentials: TemporaryCredentials; readonly renewAfter: number } | undefined;
  #renewing: Promise<TemporaryCredentials> | undefined;
  /** No background renewal before this time: set after a failure. */
  #pausedUntil = 0;

  constructor(options: RenewingOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async current(): Promise<SigningKeys> {
    const now = this.#now();
    const held = this.#held;
    if (!held || held.credentials.expiresAt.getTime() <= now) return this.#renew();
    if (now >= held.renewAfter && now >= this.#pausedUntil) {
      this.#renew().catch(() => {
        // Reported by #renew; the current credentials still work.
      });
    }
    return held.credentials;
  }

  /** One renewal at a time; every caller that needs it waits for the same one. */
  #renew(): Promise<TemporaryCredentials> {
    this.#renewing ??= (async () => {
      const issuedAt = this.#now();
      try {
        const credentials = await this.#options.renew();
        const life = credentials.expiresAt.getTime() - issuedAt;
        this.#held = { credentials, renewAfter: issuedAt + life * (this.#options.renewAt ?? 0.8) };
        return credentials;
      } catch (error) {
        this.#pausedUntil = this.#now() + (this.#options.retryMs ?? 30_000);
        this.#options.onRenewFailed?.(error);
        throw error;
      } finally {
        this.#renewing = undefined;
      }
    })();
    return this.#renewing;
  }
}
