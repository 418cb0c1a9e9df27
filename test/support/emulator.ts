import { CiClient, type CiClientOptions } from '../../src/ci/client.js';
import type { UpstreamConnection } from '../../src/config.js';
import {
  type CiEmulator,
  createCiEmulator,
  DEMO_CREDENTIALS,
  type EmulatorOptions,
} from '../../src/emulator/server.js';

export interface EmulatorFixture {
  readonly emulator: CiEmulator;
  /** The emulator's endpoint and credentials, as a gateway's upstream. */
  readonly connection: UpstreamConnection;
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
    connection: { endpoint: url, ...DEMO_CREDENTIALS, sessionToken: undefined },
    client(overrides = {}) {
      const client = new CiClient({
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
