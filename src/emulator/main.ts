/**
 * `npm run emulator`: the CI emulator on its own, for exploring the upstream API or pointing a gateway at it
 * (`CI_ENDPOINT=http://127.0.0.1:9100` with the demo credentials from the README).
 */
import { parseArgs } from 'node:util';
import { createCiEmulator, DEMO_CREDENTIALS } from './server.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9100' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});

const emulator = createCiEmulator();
const url = await emulator.listen(Number(values.port), values.host);
process.stdout.write(
  `${JSON.stringify({ msg: 'CI emulator listening', url, secretId: DEMO_CREDENTIALS.secretId })}\n`,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void emulator.close().then(() => process.exit(0));
  });
}
