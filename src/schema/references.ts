/**
 * How the schema names a resource across buckets: the `bucketId` argument (optional where a default bucket exists),
 * global ids that carry the bucket, and references (a neighbour subgraph's entity, a global id) resolved in the
 * bucket they name, or, when they name none, looked for in the caller's buckets.
 */
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { InputRule } from '../ci/inputs.js';
import type { BucketScope, GraphQLContext } from './context.js';
import { parseReference } from './inputs.js';

/** The description of every `bucketId` argument and input field. */
export const BUCKET_ARGUMENT =
  'The bucket (`Query.buckets`); may be left out when the gateway serves one bucket or has a default one.';
/** The description of every object's `bucketId`. */
export const BUCKET_FIELD = 'The bucket it lives in, as COS names it (`<BucketName-APPID>`).';

/** A resource as a reference names it: its id, and its bucket when the reference says. */
export interface Reference {
  readonly bucketId: unknown;
  readonly id: unknown;
}

/** A global id's own part: `<bucketId>/<id>`. Bucket ids and CI's ids hold no `/`. */
export function globalId(bucketId: string, id: string): string {
  return `${bucketId}/${id}`;
}

/** A node's `id` as responses show it (Relay's encoding of its type and {@link globalId}). */
export function nodeId(typename: string, bucketId: string, id: string): string {
  return encodeGlobalID(typename, globalId(bucketId, id));
}

/** A global id's own part as a reference; an id from before ids carried their bucket names none. */
export function parseGlobalId(raw: string): Reference {
  const slash = raw.indexOf('/');
  return slash < 0
    ? { bucketId: undefined, id: raw }
    : { bucketId: raw.slice(0, slash), id: raw.slice(slash + 1) };
}

/**
 * The resource a reference names, or null (without a call) when no resource can have that id or the bucket is not
 * served. A bucket outside the caller's is `FORBIDDEN`; a reference without a bucket is looked for in the caller's
 * buckets, default first, one read each at most, and where it was found is remembered.
 */
export function loadReference<I, T>(
  context: GraphQLContext,
  reference: Reference,
  rule: InputRule<I>,
  load: (bucket: BucketScope, id: I) => Promise<T | null>,
): Promise<T | null> | null {
  const id = parseReference(rule, reference.id);
  if (id === undefined) return null;
  if (reference.bucketId !== undefined && reference.bucketId !== null) {
    const served = context.services.buckets.get(String(reference.bucketId));
    return served ? load(context.bucket(served.bucketId), id) : null;
  }
  return context.services.referenceBuckets.find(
    String(id),
    context.visibleBuckets.map((served) => served.bucketId),
    (bucketId) => load(context.bucket(bucketId), id),
  );
}

/** A federation reference by either key (`bucketId` and the id, or the id alone), as a {@link Reference}. */
export function entityReference<F extends string>(
  reference: Record<F, string> & { readonly bucketId?: string },
  idField: F,
): Reference {
  return { bucketId: reference.bucketId, id: reference[idField] };
}
