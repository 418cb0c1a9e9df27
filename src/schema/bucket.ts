/**
 * `Bucket` and `Query.buckets`: the buckets this gateway serves that the caller may use, what CI says of each
 * (`GET /mediabucket` on its region's host), and its workflows; each read only when asked for.
 */
import type { BucketId } from '../ci/inputs.js';
import type { MediaBucketInfo, Workflow } from '../ci/types.js';
import type { AccessRules, Builder } from './builder.js';
import { CACHE_SECONDS } from './cache-hints.js';
import type { BucketScope } from './context.js';
import { costs } from './costs.js';
import { pageArgs } from './page-args.js';
import { listKey, paginate, type UpstreamList } from './pagination.js';
import { BUCKET_FIELD } from './references.js';

interface BucketParent {
  readonly bucketId: BucketId;
  readonly region: string;
  readonly isDefault: boolean;
}

export function registerBucket(builder: Builder, access: AccessRules): void {
  const MediaBucketRef = builder.objectRef<MediaBucketInfo>('MediaBucket').implement({
    description: 'A bucket as CI’s media processing describes it.',
    fields: (t) => ({
      name: t.exposeString('name', { description: 'The bucket’s name without its APPID.' }),
      region: t.exposeString('region'),
      createdAt: t.expose('createdAt', {
        type: 'DateTime',
        nullable: true,
        description: 'When media processing was enabled for it.',
      }),
    }),
  });

  const WorkflowConnection = builder.connectionObject(
    { type: 'Workflow', name: 'WorkflowConnection' },
    { name: 'WorkflowEdge' },
  );

  const BucketRef = builder.objectRef<BucketParent>('Bucket').implement({
    description: 'A bucket this gateway serves.',
    fields: (t) => ({
      bucketId: t.exposeID('bucketId', { description: BUCKET_FIELD }),
      region: t.exposeString('region', {
        // Storage layout: a contract variant for outside consumers leaves it out.
        tag: 'internal',
        description: 'Its region, e.g. `ap-guangzhou`.',
      }),
      isDefault: t.exposeBoolean('isDefault', {
        description: 'Whether arguments that leave out `bucketId` mean this bucket.',
      }),
      workflows: t.field({
        ...costs.executionsPage,
        type: WorkflowConnection,
        description: 'The bucket’s workflows, in the order CI lists them.',
        args: pageArgs(t.arg, 'How many workflows, from 1 to the configured maximum.'),
        resolve: (bucket, args, context) => {
          context.cacheHints.limit(CACHE_SECONDS.workflow);
          return paginate(context, workflowList(context.bucket(bucket.bucketId)), args);
        },
      }),
      mediaProcessing: t.field({
        ...costs.workflowLookup,
        type: MediaBucketRef,
        nullable: true,
        description:
          'What CI says of the bucket (one call to its region’s host); null when CI does not list it, that is, ' +
          'media processing is not enabled for it.',
        resolve: (bucket, _args, context) => {
          context.cacheHints.limit(CACHE_SECONDS.workflow);
          return context.bucket(bucket.bucketId).ci.describeMediaBucket(bucket.region);
        },
      }),
    }),
  });

  builder.queryField('buckets', (t) =>
    t.field({
      ...access.read,
      type: [BucketRef],
      description: 'The buckets the caller may use (its token’s bucket claim), the default one first.',
      resolve: (_root, _args, context) =>
        context.visibleBuckets.map((served) => ({
          bucketId: served.bucketId,
          region: served.region,
          isDefault: served.bucketId === context.services.buckets.defaultBucket,
        })),
    }),
  );
}

/**
 * A bucket's workflows, paged by page number. A token is the offset of the next workflow: each read asks for the
 * page of the size paging wants that holds it and answers from it on, so no answer is longer than asked for.
 */
function workflowList(bucket: BucketScope): UpstreamList<Workflow> {
  return {
    key: listKey(bucket, { list: 'workflows' }),
    async fetch(size, token) {
      const offset = token === null ? 0 : Number(token);
      const pageNumber = Math.floor(offset / size) + 1;
      const page = await bucket.ci.listWorkflows(pageNumber, size);
      const next = pageNumber * size;
      return {
        items: page.workflows.slice(offset % size),
        nextToken: page.totalCount !== undefined && next < page.totalCount ? String(next) : null,
        requestId: page.requestId,
      };
    },
  };
}
