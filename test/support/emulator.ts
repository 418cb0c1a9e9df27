import { CiClient, type CiClientOptions } from '../../src/ci/client.js';
import { assume, bucketIdRule } from '../../src/ci/inputs.js';
import type { TenancyConfig } from '../../src/config.js';
import {
  type CiEmulator,
  createCiEmulator,
  DEMO_CREDENTIALS,
  DEMO_MEDIA_BUCKET,
  type EmulatorOptions,
} from '../../src/emulator/server.js';
import { singleBucketTenancy } from '../../src/tenancy-config.js';

/** The emulator's bucket, as clients and the gateway name it. */
export const EMULATED_BUCKET = assume(bucketIdRule, DEMO_MEDIA_BUCKET.bucketId);

export interface EmulatorFixture {
  readonly emulator: CiEmulator;
  /** The emulator's one bucket, its endpoint and credentials, as a gateway's single-bucket configuration. */
  readonly tenancy: TenancyConfig;
  client(options?: Partial<CiClientOptions>): CiClient;
  close(): Promise<void>;
}

/** An emulator on a free loopback port, and clients pointed at it that are all closed with it. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorFixture> {
  const emulator = createCiEmulator(options);
  const url = await emulator.listen(0);
  const clients: CiClient[] = [];
  return {
    emulator,
    tenancy: singleBucketTenancy({
      bucket: EMULATED_BUCKET,
      region: DEMO_MEDIA_BUCKET.region,
      endpoint: url,
      keys: { kind: 'keys', ...DEMO_CREDENTIALS, sessionToken: undefined },
      stsEndpoint: url,
    }),
    client(overrides = {}) {
      const client = new CiClient({
        bucketId: EMULATED_BUCKET,
        endpoint: url,
        credentials: DEMO_CREDENTIALS,
        // Tests do not wait out real back-off; the delays asked for are asserted where they matter.
        sleep: async () => {},
        ...overrides,
      });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.close()));
      await emulator.close();
    },
  };
}
