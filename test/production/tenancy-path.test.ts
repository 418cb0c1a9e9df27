/**
 * The shipped bundle over many buckets, as a company deploys it: production mode, a bucket file naming the emulated
 * cloud's three buckets (one under a role taken through STS with the key pair from the environment), JWT callers
 * limited by their bucket claim. The integration suite checks the same against the source.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type EmulatedCloud, PARTNER_ROLE_ARN, startEmulatedCloud } from '../../src/emulator/cloud.js';
import { DEMO_CREDENTIALS } from '../../src/emulator/server.js';
import {
  AUDIENCE,
  ISSUER,
  type SigningKey,
  signingKey,
  startIdentityProvider,
  token,
} from '../support/jwks.js';
import { type RunningGateway, spawnBundle } from '../support/processes.js';

const root = new URL('../..', import.meta.url).pathname;
const MEDIA = 'demo-1250000000';
const PARTNER = 'partner-1300000000';

let cloud: EmulatedCloud;
let idp: Awaited<ReturnType<typeof startIdentityProvider>>;
let key: SigningKey;
let gateway: RunningGateway;

beforeAll(async () => {
  cloud = await startEmulatedCloud();
  key = await signingKey('tenancy-bundle', 'ES256');
  idp = await startIdentityProvider([key]);
  const file = join(mkdtempSync(join(tmpdir(), 'bundle-buckets-')), 'buckets.json');
  writeFileSync(
    file,
    JSON.stringify({
      defaultBucket: MEDIA,
      accounts: {
        home: { type: 'keys', secretIdEnv: 'HOME_SECRET_ID', secretKeyEnv: 'HOME_SECRET_KEY' },
        partner: { type: 'role', roleArn: PARTNER_ROLE_ARN, via: 'home', durationSeconds: 900 },
      },
      buckets: cloud.tenancy.buckets.map((bucket) => ({
        bucket: bucket.bucketId,
        region: bucket.region,
        account: bucket.account === 'demo' ? 'home' : 'partner',
        endpoint: bucket.endpoint,
      })),
    }),
  );
  gateway = await spawnBundle(root, inject('bundleFolder'), {
    CI_BUCKETS_FILE: file,
    HOME_SECRET_ID: DEMO_CREDENTIALS.secretId,
    HOME_SECRET_KEY: DEMO_CREDENTIALS.secretKey,
    STS_ENDPOINT: cloud.tenancy.stsEndpoint ?? '',
    AUTH_JWKS_URL: idp.jwksUrl,
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    AUTH_BUCKETS_CLAIM: 'ci_buckets',
    SHUTDOWN_DELAY_MS: '0',
  });
});

afterAll(async () => {
  gateway?.child.kill('SIGKILL');
  await idp?.close();
  await cloud?.close();
});

async function ask(query: string, buckets: unknown) {
  const jwt = await token(key, { claims: { ci_buckets: buckets } });
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as {
    data?: Record<string, unknown> | null;
    errors?: Array<{ extensions?: Record<string, unknown> }>;
  };
}

describe('the bundle over a bucket file', () => {
  const partnerRuns = () =>
    `{ workflowExecutions(filter: { bucketId: "${PARTNER}", workflowId: "${cloud.workflowIds.get(PARTNER)?.[0]}" }, first: 3) { edges { node { bucketId workflow { bucketId } } } } }`;

  it('reaches the partner’s bucket through its role, signed with temporary keys, for a caller allowed it', async () => {
    const answer = await ask(partnerRuns(), '*');
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({
      workflowExecutions: {
        edges: Array.from({ length: 3 }, () => ({
          node: { bucketId: PARTNER, workflow: { bucketId: PARTNER } },
        })),
      },
    });
    const requests = cloud.emulators.get(PARTNER)?.requests ?? [];
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((request) => request.signatureVerified && request.sessionTokenSent)).toBe(true);
    expect(cloud.emulators.get(MEDIA)?.requests).toHaveLength(0);
  });

  it('refuses a caller limited to another bucket before any call to it, and lists only its own', async () => {
    const before = cloud.emulators.get(PARTNER)?.requests.length;
    const refused = await ask(partnerRuns(), [MEDIA]);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', bucketId: PARTNER });
    expect(cloud.emulators.get(PARTNER)?.requests.length).toBe(before);
    expect((await ask('{ buckets { bucketId } }', [MEDIA])).data).toEqual({ buckets: [{ bucketId: MEDIA }] });
  });
});
