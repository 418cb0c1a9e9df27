/**
 * Which bucket holds an id that was named without its bucket: a neighbour subgraph's `{ runId }`, a global id from
 * before ids carried their bucket. Such a reference is looked for in the default bucket first, then in each other
 * bucket the caller may use, one read each at most; where it was found is remembered (a bounded map, oldest
 * forgotten first), so the next reference to it makes one read.
 */
import type { BucketId } from '../ci/inputs.js';

const DEFAULT_REMEMBERED_IDS = 100_000;

export class ReferenceBuckets {
  readonly #found = new Map<string, BucketId>();
  readonly #limit: number;

  constructor(limit = DEFAULT_REMEMBERED_IDS) {
    this.#limit = limit;
  }

  /**
   * The value for `id` from the first of `buckets` that has it (the remembered one first), or null. Ids are CI's,
   * unique across buckets; a bucket that no longer has it is forgotten.
   */
  async find<T>(
    id: string,
    buckets: readonly BucketId[],
    load: (bucketId: BucketId) => Promise<T | null>,
  ): Promise<T | null> {
    const remembered = this.#found.get(id);
    const order =
      remembered !== undefined && buckets.includes(remembered)
        ? [remembered, ...buckets.filter((bucketId) => bucketId !== remembered)]
        : buckets;
    for (const bucketId of order) {
      const value = await load(bucketId);
      if (value !== null) {
        this.#remember(id, bucketId);
        return value;
      }
    }
    if (remembered !== undefined) this.#found.delete(id);
    return null;
  }

  #remember(id: string, bucketId: BucketId): void {
    this.#found.delete(id);
    this.#found.set(id, bucketId);
    if (this.#found.size > this.#limit) {
      const oldest = this.#found.keys().next().value;
      if (oldest !== undefined) this.#found.delete(oldest);
    }
  }
}
