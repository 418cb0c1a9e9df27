/**
 * An emulated Tencent cloud for demo mode and tests: several buckets in two regions under two accounts, each bucket
 * an emulator of its own (its own data, answering only its account's signatures), and one STS that lets the first
 * account take a role in the second. The gateway reaches the second account's bucket the way it would in
 * production: through `AssumeRole`, with temporary keys it renews.
 */
import type { TenancyConfig } from '../tenancy-config.js';
import type { MediaBucket } from './context.js';
import { createBucketDataset, createDemoDataset, type Dataset } from './demo-data.js';
import {
  type CiEmulator,
  createCiEmulator,
  DEMO_CREDENTIALS,
  DEMO_MEDIA_BUCKET,
  DEMO_UIN,
} from './server.js';
import { type EmulatedAccount, EmulatedSts } from './sts.js';

/** The second account: its keys stay inside the emulator; the gateway reaches it only through its role. */
const PARTNER_ACCOUNT: EmulatedAccount = {
  uin: '100000000002',
  secretId: 'AKIDpartner0emulator0local0only000000',
  secretKey: 'partner-emulator-secret-key-0000000',
};
export const PARTNER_ROLE_ARN = `qcs::cam::uin/${PARTNER_ACCOUNT.uin}:roleName/ci-gateway-demo`;

interface CloudBucket {
  readonly bucket: MediaBucket;
  readonly account: 'demo' | 'partner';
  readonly dataset: () => Dataset;
}

const CREATED = new Date('2026-10-29T08:00:00Z');
const BUCKETS: readonly CloudBucket[] = [
  { bucket: DEMO_MEDIA_BUCKET, account: 'demo', dataset: createDemoDataset },
  {
    bucket: { bucketId: 'archive-1250000000', region: 'ap-guangzhou', createdAt: CREATED },
    account: 'demo',
    dataset: () => createBucketDataset('archive-1250000000', 'archive-transcode', 24),
  },
  {
    bucket: { bucketId: 'partner-1300000000', region: 'ap-singapore', createdAt: CREATED },
    account: 'partner',
    dataset: () => createBucketDataset('partner-1300000000', 'partner-thumbnails', 12),
  },
];

export interface EmulatedCloud {
  /** The buckets and accounts, as a bucket file would give them: the gateway's tenancy. */
  readonly tenancy: TenancyConfig;
  /** Each bucket's emulator, by bucket id. */
  readonly emulators: ReadonlyMap<string, CiEmulator>;
  /** The STS every bucket trusts. */
  readonly sts: EmulatedSts;
  /** Each bucket's workflows, by bucket id (what its data was made with). */
  readonly workflowIds: ReadonlyMap<string, readonly string[]>;
  /** Each bucket posts its callbacks to `<base>/<bucketId>` (undefined: stop). */
  sendCallbacksTo(base: string | undefined): void;
  close(): Promise<void>;
}

export interface EmulatedCloudOptions {
  readonly host?: string | undefined;
  /** The cloud's clock (its STS and every bucket's). */
  readonly now?: (() => number) | undefined;
}

export async function startEmulatedCloud(options: EmulatedCloudOptions = {}): Promise<EmulatedCloud> {
  const now = options.now ?? Date.now;
  const accounts: Record<CloudBucket['account'], EmulatedAccount> = {
    demo: { uin: DEMO_UIN, ...DEMO_CREDENTIALS },
    partner: PARTNER_ACCOUNT,
  };
  const sts = new EmulatedSts(Object.values(accounts), now);
  const emulators = new Map<string, CiEmulator>();
  const workflowIds = new Map<string, readonly string[]>();
  const endpoints = new Map<string, string>();
  try {
    for (const { bucket, account, dataset } of BUCKETS) {
      const owner = accounts[account];
      const data = dataset();
      workflowIds.set(
        bucket.bucketId,
        data.workflows.map((workflow) => workflow.workflowId),
      );
      const emulator = createCiEmulator({
        credentials: owner,
        uin: owner.uin,
        sts,
        now,
        dataset: data,
        mediaBuckets: BUCKETS.filter((b) => b.account === account && b.bucket.region === bucket.region).map(
          (b) => b.bucket,
        ),
      });
      emulators.set(bucket.bucketId, emulator);
      endpoints.set(bucket.bucketId, await emulator.listen(0, options.host ?? '127.0.0.1'));
    }
  } catch (error) {
    await Promise.all([...emulators.values()].map((emulator) => emulator.close()));
    throw error;
  }
  const [first] = endpoints.values();
  return {
    tenancy: {
      buckets: BUCKETS.map(({ bucket, account }) => {
        const endpoint = endpoints.get(bucket.bucketId) ?? '';
        return {
          bucketId: bucket.bucketId,
          region: bucket.region,
          account,
          endpoint,
          regionEndpoint: endpoint,
        };
      }),
      accounts: {
        demo: { kind: 'keys', ...DEMO_CREDENTIALS, sessionToken: undefined },
        partner: {
          kind: 'role',
          roleArn: PARTNER_ROLE_ARN,
          via: 'demo',
          externalId: undefined,
          sessionName: 'ci-gateway-demo',
          durationSeconds: 7200,
          stsRegion: 'ap-guangzhou',
        },
      },
      defaultBucket: DEMO_MEDIA_BUCKET.bucketId,
      // Every emulator answers STS calls, with the one STS of the cloud.
      stsEndpoint: first,
    },
    emulators,
    sts,
    workflowIds,
    sendCallbacksTo(base) {
      for (const [bucketId, emulator] of emulators) {
        emulator.sendCallbacksTo(base === undefined ? undefined : `${base}/${bucketId}`);
      }
    },
    close: async () => {
      await Promise.all([...emulators.values()].map((emulator) => emulator.close()));
    },
  };
}
