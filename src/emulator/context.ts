/** What every emulated call sees: the world it reads and changes, the clock, and what this request is. */

/** A bucket with CI enabled, as `GET /mediabucket` describes it. */
export interface MediaBucket {
  readonly bucketId: string;
  readonly region: string;
  readonly createdAt: Date;
}

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
  /** The account's buckets with CI enabled, as the region host lists them. */
  readonly mediaBuckets: readonly MediaBucket[];
}
