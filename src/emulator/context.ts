/** What every emulated call sees: the world it reads and changes, the clock, and what this request is. */
import type { PageTokens } from './page-tokens.js';
import type { EmulatorWorld } from './world.js';

export interface CallContext {
  readonly world: EmulatorWorld;
  readonly now: () => Date;
  readonly requestId: string;
  readonly tokens: PageTokens;
  /** NextTokens are refused with another page size than they were issued with. */
  readonly pageTokensBoundToSize: boolean;
  /** Where workflows' Start nodes say CI posts callbacks; undefined when none is configured. */
  readonly callbackUrl: string | undefined;
}
