/** The arguments of every connection: forward-only, so `first` and `after` and nothing else. */
import type { ArgBuilder } from '@pothos/core';
import type { BuilderTypes } from './builder.js';
import { DEFAULT_PAGE_SIZE } from './pagination.js';

export const pageArgs = (t: ArgBuilder<BuilderTypes>, firstDescription: string) => ({
  first: t.int({ defaultValue: DEFAULT_PAGE_SIZE, description: firstDescription }),
  after: t.string({ description: 'Continue after this cursor (a previous page’s `pageInfo.endCursor`).' }),
});
