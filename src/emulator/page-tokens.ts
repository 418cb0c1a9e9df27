/**
 * The emulator's NextTokens: opaque to clients (not an offset they could compute or edit), bound to the query
 * that produced them, deterministic (the same query and page always get the same token) and bounded in memory.
 */
import { createHmac, randomBytes } from 'node:crypto';

const MAX_REMEMBERED_TOKENS = 100_000;

export class PageTokens {
  readonly #secret = randomBytes(16);
  readonly #tokens = new Map<string, { readonly fingerprint: string; readonly offset: number }>();

  /** A token for resuming `fingerprint`'s results at `offset`. */
  issue(fingerprint: string, offset: number): string {
    const digest = createHmac('sha256', this.#secret).update(`${fingerprint}\n${offset}`).digest();
    // Numeric-looking with a leading zero, like the real service's `0115716`: a client that reads tokens as
    // numbers loses the zero and breaks paging visibly.
    const token = `0${digest.readUInt32BE(0).toString().padStart(10, '0')}`;
    if (!this.#tokens.has(token)) {
      if (this.#tokens.size >= MAX_REMEMBERED_TOKENS) {
        const oldest = this.#tokens.keys().next().value;
        if (oldest !== undefined) this.#tokens.delete(oldest);
      }
      this.#tokens.set(token, { fingerprint, offset });
    }
    return token;
  }

  /** The offset a token resumes at, or undefined when it is unknown or was issued for another query. */
  resolve(token: string, fingerprint: string): number | undefined {
    const entry = this.#tokens.get(token);
    return entry?.fingerprint === fingerprint ? entry.offset : undefined;
  }
}
