/**
 * One gateway, several buckets: the emulated cloud's three buckets (two regions, two accounts, the second reached
 * only through an STS role), each its own emulator that accepts only its own account's signatures. Every kind of
 * operation must reach the bucket it names and no other, signed for that bucket's account; a caller limited to one
 * bucket is refused the others before any call; temporary credentials are renewed before they run out.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CiClient } from '../../src/ci/client.js';
import { assume, bucketIdRule, type RunId, runIdRule, type WorkflowId } from '../../src/ci/inputs.js';
import { assumeRole } from '../../src/ci/sts.js';
import { type EmulatedCloud, PARTNER_ROLE_ARN, startEmulatedCloud } from '../../src/emulator/cloud.js';
import { DEMO_CREDENTIALS } from '../../src/emulator/server.js';
import { CALLBACK_PATH_PREFIX } from '../../src/plugins/ci-callbacks.js';
import { manualClock } from '../support/console.js';
import { closeAfterEach, type GatewayFixture, startGateway } from '../support/gateway.js';
import {
  AUDIENCE,
  type IdentityProvider,
  ISSUER,
  signingKey,
  startIdentityProvider,
  token,
} from '../support/jwks.js';
import { subscribe } from '../support/sse.js';

const MEDIA = 'demo-1250000000';
const ARCHIVE = 'archive-1250000000';
const PARTNER = 'partner-1300000000';
const CALLBACK_TOKEN = 'tenancy-callback-token-0123456789abcdef';

const track = closeAfterEach();
let cloud: EmulatedCloud;
const clock = manualClock();

beforeAll(async () => {
  cloud = await startEmulatedCloud({ now: clock.now });
});
afterAll(() => cloud.close());
beforeEach(() => {
  for (const emulator of cloud.emulators.values()) emulator.clearRequests();
});

const emulatorOf = (bucketId: string) => {
  const emulator = cloud.emulators.get(bucketId);
  if (!emulator) throw new Error(`no emulator for ${bucketId}`);
  return emulator;
};
const workflowOf = (bucketId: string) => cloud.workflowIds.get(bucketId)?.[0] as WorkflowId;
/** Which buckets' emulators were asked anything since the last clear. */
const bucketsCalled = () =>
  [...cloud.emulators].filter(([, emulator]) => emulator.requests.length > 0).map(([bucketId]) => bucketId);

async function cloudGateway(options: Parameters<typeof startGateway>[0] = {}): Promise<GatewayFixture> {
  return track(await startGateway({ tenancy: cloud.tenancy, now: clock.now, ...options }));
}

async function firstRunOf(fixture: GatewayFixture, bucketId: string): Promise<string> {
  const page = await fixture.query<{ workflowExecutions: { edges: Array<{ node: { runId: string } }> } }>(
    `query($b: ID, $w: ID!) { workflowExecutions(filter: { bucketId: $b, workflowId: $w }, first: 1) { edges { node { runId } } } }`,
    { b: bucketId, w: workflowOf(bucketId) },
  );
  const runId = page.data?.workflowExecutions.edges[0]?.node.runId;
  if (!runId) throw new Error(`no run in ${bucketId}: ${JSON.stringify(page.errors)}`);
  return runId;
}

describe('a gateway over several buckets and accounts', () => {
  it('lists the buckets, the default first, with what CI says of each from its region host', async () => {
    const fixture = await cloudGateway();
    const answer = await fixture.query<{
      buckets: Array<{
        bucketId: string;
        region: string;
        isDefault: boolean;
        mediaProcessing: { name: string };
      }>;
    }>('{ buckets { bucketId region isDefault mediaProcessing { name region } } }');
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.buckets).toEqual([
      {
        bucketId: MEDIA,
        region: 'ap-guangzhou',
        isDefault: true,
        mediaProcessing: { name: 'demo', region: 'ap-guangzhou' },
      },
      {
        bucketId: ARCHIVE,
        region: 'ap-guangzhou',
        isDefault: false,
        mediaProcessing: { name: 'archive', region: 'ap-guangzhou' },
      },
      {
        bucketId: PARTNER,
        region: 'ap-singapore',
        isDefault: false,
        mediaProcessing: { name: 'partner', region: 'ap-singapore' },
      },
    ]);
  });

  it('pages through a bucket’s workflows', async () => {
    const all = await cloudGateway();
    const everyBucket = await all.query<{
      buckets: Array<{ workflows: { edges: Array<{ node: { bucketId: string } }> } }>;
    }>('{ buckets { workflows { edges { node { bucketId } } } } }');
    expect(
      everyBucket.data?.buckets.map((bucket) => bucket.workflows.edges.map((edge) => edge.node.bucketId)),
    ).toEqual([[MEDIA, MEDIA, MEDIA], [ARCHIVE], [PARTNER]]);
    // One bucket served, so its list is the only one: two pages of two and one.
    const media = cloud.tenancy.buckets.filter((bucket) => bucket.bucketId === MEDIA);
    const fixture = await cloudGateway({ tenancy: { ...cloud.tenancy, buckets: media } });
    const list = `query($after: String) { buckets { workflows(first: 2, after: $after) { pageInfo { hasNextPage endCursor } edges { node { workflowId } } } } }`;
    type Page = {
      buckets: Array<{
        workflows: {
          pageInfo: { hasNextPage: boolean; endCursor: string };
          edges: Array<{ node: { workflowId: string } }>;
        };
      }>;
    };
    const first = (await fixture.query<Page>(list)).data?.buckets[0]?.workflows;
    expect(first?.pageInfo.hasNextPage).toBe(true);
    const rest = (await fixture.query<Page>(list, { after: first?.pageInfo.endCursor })).data?.buckets[0]
      ?.workflows;
    expect(rest?.pageInfo.hasNextPage).toBe(false);
    const ids = [...(first?.edges ?? []), ...(rest?.edges ?? [])].map((edge) => edge.node.workflowId);
    expect(ids).toEqual(cloud.workflowIds.get(MEDIA));
  });

  it.each([MEDIA, ARCHIVE, PARTNER])(
    'reaches only %s for a listing, a detail, a workflow and a trigger, signed for its account',
    async (bucketId) => {
      const fixture = await cloudGateway();
      const runId = await firstRunOf(fixture, bucketId);
      const detail = await fixture.query<{
        workflowExecution: {
          bucketId: string;
          workflow: { bucketId: string };
          tasks: Array<{ job: { state: string } }>;
        };
      }>(
        `query($b: ID, $r: ID!) { workflowExecution(bucketId: $b, runId: $r) { bucketId workflow { bucketId name } tasks { job { state } } } }`,
        { b: bucketId, r: runId },
      );
      expect(detail.errors).toBeUndefined();
      expect(detail.data?.workflowExecution.bucketId).toBe(bucketId);
      expect(detail.data?.workflowExecution.workflow.bucketId).toBe(bucketId);
      const triggered = await fixture.query<{ triggerWorkflow: { execution: { bucketId: string } } }>(
        `mutation($b: ID, $w: ID!) { triggerWorkflow(input: { bucketId: $b, workflowId: $w, objectKey: "in/new.mp4" }) { execution { bucketId } } }`,
        { b: bucketId, w: workflowOf(bucketId) },
      );
      expect(triggered.errors).toBeUndefined();
      expect(triggered.data?.triggerWorkflow.execution.bucketId).toBe(bucketId);

      expect(bucketsCalled()).toEqual([bucketId]);
      const requests = emulatorOf(bucketId).requests;
      expect(requests.map((request) => request.path)).toEqual(
        expect.arrayContaining([
          '/workflowexecution',
          `/workflowexecution/${runId}`,
          '/workflow',
          '/triggerworkflow',
        ]),
      );
      expect(requests.every((request) => request.signatureVerified && request.status === 200)).toBe(true);
      // The partner bucket is reached through its role: temporary keys, with their token.
      expect(requests.every((request) => request.sessionTokenSent === (bucketId === PARTNER))).toBe(true);
    },
  );

  it('answers each bucket’s subscriptions from that bucket alone', async () => {
    const fixture = await cloudGateway();
    const runId = await firstRunOf(fixture, PARTNER);
    emulatorOf(PARTNER).clearRequests();
    const subscription = await subscribe(
      (input, init) => fixture.gateway.fetch(input, init),
      'subscription($b: ID, $r: ID!) { workflowExecutionUpdated(bucketId: $b, runId: $r) { bucketId runId state } }',
      { b: PARTNER, r: runId },
    );
    const first = await subscription.next(5_000);
    await subscription.close();
    expect(first?.data?.['workflowExecutionUpdated']).toMatchObject({ bucketId: PARTNER, runId });
    expect(bucketsCalled()).toEqual([PARTNER]);
  });

  it('resolves entities by bucket and id, and by id alone from the buckets in turn, remembering where', async () => {
    const fixture = await cloudGateway();
    const partnerRun = await firstRunOf(fixture, PARTNER);
    const mediaRun = await firstRunOf(fixture, MEDIA);
    for (const emulator of cloud.emulators.values()) emulator.clearRequests();
    const entities = `query($r: [_Any!]!) { _entities(representations: $r) { ... on WorkflowExecution { bucketId runId } } }`;
    const keyed = await fixture.query<{ _entities: Array<{ bucketId: string; runId: string } | null> }>(
      entities,
      {
        r: [
          { __typename: 'WorkflowExecution', bucketId: PARTNER, runId: partnerRun },
          { __typename: 'WorkflowExecution', bucketId: MEDIA, runId: mediaRun },
          // Named in the wrong bucket: that bucket does not have it.
          { __typename: 'WorkflowExecution', bucketId: ARCHIVE, runId: partnerRun },
        ],
      },
    );
    expect(keyed.data?._entities).toEqual([
      { bucketId: PARTNER, runId: partnerRun },
      { bucketId: MEDIA, runId: mediaRun },
      null,
    ]);
    const detailReads = (bucketId: string) =>
      emulatorOf(bucketId).requests.filter((request) => request.path.startsWith('/workflowexecution/'))
        .length;
    expect([detailReads(MEDIA), detailReads(ARCHIVE), detailReads(PARTNER)]).toEqual([1, 1, 1]);

    // By id alone: the default bucket first, then the others, one read each at most.
    for (const emulator of cloud.emulators.values()) emulator.clearRequests();
    const alone = { r: [{ __typename: 'WorkflowExecution', runId: partnerRun }] };
    expect((await fixture.query(entities, alone)).data).toEqual({
      _entities: [{ bucketId: PARTNER, runId: partnerRun }],
    });
    expect([detailReads(MEDIA), detailReads(ARCHIVE), detailReads(PARTNER)]).toEqual([1, 1, 1]);
    // Remembered: the next reference makes one read, in the right bucket.
    for (const emulator of cloud.emulators.values()) emulator.clearRequests();
    expect((await fixture.query(entities, alone)).data).toEqual({
      _entities: [{ bucketId: PARTNER, runId: partnerRun }],
    });
    expect(bucketsCalled()).toEqual([PARTNER]);
  });

  it('keeps a cursor to the bucket it was issued for', async () => {
    const fixture = await cloudGateway();
    const list = `query($b: ID, $w: ID!, $after: String) { workflowExecutions(filter: { bucketId: $b, workflowId: $w }, first: 2, after: $after) { pageInfo { endCursor } } }`;
    const page = await fixture.query<{ workflowExecutions: { pageInfo: { endCursor: string } } }>(list, {
      b: PARTNER,
      w: workflowOf(PARTNER),
    });
    const after = page.data?.workflowExecutions.pageInfo.endCursor;
    for (const emulator of cloud.emulators.values()) emulator.clearRequests();
    const elsewhere = await fixture.query(list, { b: ARCHIVE, w: workflowOf(PARTNER), after });
    expect(elsewhere.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(bucketsCalled()).toEqual([]);
  });

  it('routes CI callbacks by the bucket in their path, and refuses a bucket it does not serve', async () => {
    const fixture = await cloudGateway({ gateway: { callbackToken: CALLBACK_TOKEN } });
    const runId = await firstRunOf(fixture, PARTNER);
    for (const emulator of cloud.emulators.values()) emulator.clearRequests();
    const post = (path: string) =>
      fixture.gateway.fetch(`http://gateway${CALLBACK_PATH_PREFIX}${CALLBACK_TOKEN}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          EventName: 'WorkflowFinish',
          WorkflowExecution: { RunId: runId, State: 'Success' },
        }),
      });
    expect((await post(`/${PARTNER}`)).status).toBe(204);
    await expect.poll(() => emulatorOf(PARTNER).requests.length).toBe(1);
    expect(emulatorOf(PARTNER).requests[0]?.path).toBe(`/workflowexecution/${runId}`);
    expect((await post('/unknown-1250000000')).status).toBe(404);
    // Without a bucket: the default one.
    expect((await post('')).status).toBe(204);
    await expect.poll(() => emulatorOf(MEDIA).requests.length).toBe(1);
    expect(bucketsCalled().sort()).toEqual([MEDIA, PARTNER]);
  });

  it('asks for a bucket, naming the argument, when several are served and none is the default', async () => {
    const fixture = await cloudGateway({ tenancy: { ...cloud.tenancy, defaultBucket: undefined } });
    const answer = await fixture.query(
      `{ workflowExecutions(filter: { workflowId: "${workflowOf(MEDIA)}" }) { edges { cursor } } }`,
    );
    expect(answer.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      argumentName: 'filter.bucketId',
    });
    expect(answer.errors?.[0]?.message).toContain(PARTNER);
    expect(bucketsCalled()).toEqual([]);
  });
});

describe('the accounts’ keys', () => {
  it('are refused by each other’s buckets: no bucket accepts another account’s signature', async () => {
    const partnerKeys = await assumeRole(
      { endpoint: cloud.tenancy.stsEndpoint, region: 'ap-guangzhou', now: clock.now },
      DEMO_CREDENTIALS,
      { roleArn: PARTNER_ROLE_ARN, sessionName: 'tenancy-test', durationSeconds: 900 },
    );
    const endpointOf = (bucketId: string) => emulatorOf(bucketId).url;
    const attempt = async (
      bucketId: string,
      credentials: ConstructorParameters<typeof CiClient>[0]['credentials'],
    ) => {
      const client = new CiClient({
        bucketId: assume(bucketIdRule, bucketId),
        endpoint: endpointOf(bucketId),
        credentials,
        now: clock.now,
        maxRetries: 0,
      });
      try {
        return await client.getWorkflows([workflowOf(bucketId)]).then(
          () => 'served',
          (error: { status?: number }) => error.status,
        );
      } finally {
        await client.close();
      }
    };
    expect(await attempt(PARTNER, partnerKeys)).toBe('served');
    expect(await attempt(MEDIA, DEMO_CREDENTIALS)).toBe('served');
    expect(await attempt(MEDIA, partnerKeys)).toBe(401);
    expect(await attempt(PARTNER, DEMO_CREDENTIALS)).toBe(401);
  });

  it('renews the role’s temporary keys before they expire, with no request failing', async () => {
    const fixture = await cloudGateway();
    const issuedBefore = cloud.sts.issuedCount;
    const read = async () => {
      // A listing: never answered from a cache, so every read is a signed call.
      const answer = await fixture.query(
        `query($w: ID!) { workflowExecutions(filter: { bucketId: "${PARTNER}", workflowId: $w }, first: 1) { edges { cursor } } }`,
        { w: workflowOf(PARTNER) },
      );
      expect(answer.errors).toBeUndefined();
    };
    await read();
    expect(cloud.sts.issuedCount).toBe(issuedBefore + 1);
    // 85 % of the role's 7200 s: the keys still work, and a renewal starts behind the request.
    clock.advance(6_120);
    await read();
    await expect.poll(() => cloud.sts.issuedCount).toBe(issuedBefore + 2);
    // Past the first keys' expiry: served with the renewed ones.
    clock.advance(1_200);
    await read();
    expect(cloud.sts.issuedCount).toBe(issuedBefore + 2);
    const statuses = emulatorOf(PARTNER).requests.map((request) => request.status);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 200)).toBe(true);
  });
});

describe('a caller limited by its token’s bucket claim', () => {
  let idp: IdentityProvider;
  let key: Awaited<ReturnType<typeof signingKey>>;
  beforeAll(async () => {
    key = await signingKey('tenancy', 'ES256');
    idp = await startIdentityProvider([key]);
  });
  afterAll(() => idp.close());

  const claimGateway = () =>
    cloudGateway({
      gateway: {
        auth: {
          jwt: { jwksUrl: idp.jwksUrl, issuer: ISSUER, audience: AUDIENCE, bucketsClaim: 'ci_buckets' },
        },
        callbackToken: CALLBACK_TOKEN,
      },
    });
  const bearer = async (buckets: unknown) => ({
    authorization: `Bearer ${await token(key, { claims: { scope: 'ci.workflows.read ci.workflows.write', ...(buckets === undefined ? {} : { ci_buckets: buckets }) } })}`,
  });

  it('sees only its buckets, and is refused the others before any call, in queries, mutations and subscriptions', async () => {
    const fixture = await claimGateway();
    const headers = await bearer([MEDIA]);
    const listed = await fixture.query<{ buckets: Array<{ bucketId: string }> }>(
      '{ buckets { bucketId } }',
      {},
      headers,
    );
    expect(listed.data?.buckets).toEqual([{ bucketId: MEDIA }]);
    const partnerRun = assume(runIdRule, `i${'0'.repeat(32)}`) satisfies RunId;

    const refusals = await Promise.all([
      fixture.query(
        `query($w: ID!) { workflowExecutions(filter: { bucketId: "${PARTNER}", workflowId: $w }) { edges { cursor } } }`,
        { w: workflowOf(PARTNER) },
        headers,
      ),
      fixture.query(
        `{ workflowExecution(bucketId: "${PARTNER}", runId: "${partnerRun}") { runId } }`,
        {},
        headers,
      ),
      fixture.query(
        `mutation($w: ID!) { pauseWorkflow(bucketId: "${PARTNER}", workflowId: $w) { workflow { state } } }`,
        { w: workflowOf(PARTNER) },
        headers,
      ),
      fixture.query(
        `query($r: [_Any!]!) { _entities(representations: $r) { ... on WorkflowExecution { runId } } }`,
        { r: [{ __typename: 'WorkflowExecution', bucketId: PARTNER, runId: partnerRun }] },
        headers,
      ),
    ]);
    for (const refused of refusals) {
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', bucketId: PARTNER });
    }
    const subscription = await subscribe(
      (input, init) => fixture.gateway.fetch(input, init),
      `subscription { workflowExecutionUpdated(bucketId: "${PARTNER}", runId: "${partnerRun}") { state } }`,
      {},
      headers,
    );
    const event = await subscription.next(5_000);
    await subscription.close();
    expect(event?.errors).toMatchObject([{ extensions: { code: 'FORBIDDEN' } }]);
    // Not one call to the partner bucket, nor to STS for its account.
    expect(emulatorOf(PARTNER).requests).toHaveLength(0);
    // Its own bucket still serves it.
    const own = await fixture.query(
      `query($w: ID!) { workflow(workflowId: $w) { bucketId } }`,
      { w: workflowOf(MEDIA) },
      headers,
    );
    expect(own.data).toEqual({ workflow: { bucketId: MEDIA } });
  });

  it('sees nothing without the claim, and everything with `*`', async () => {
    const fixture = await claimGateway();
    const none = await fixture.query<{ buckets: unknown[] }>(
      '{ buckets { bucketId } }',
      {},
      await bearer(undefined),
    );
    expect(none.data?.buckets).toEqual([]);
    const defaulted = await fixture.query(
      `query($w: ID!) { workflow(workflowId: $w) { name } }`,
      { w: workflowOf(MEDIA) },
      await bearer(undefined),
    );
    expect(defaulted.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const all = await fixture.query<{ buckets: unknown[] }>(
      '{ buckets { bucketId } }',
      {},
      await bearer('*'),
    );
    expect(all.data?.buckets).toHaveLength(3);
    expect(bucketsCalled()).toEqual([]);
  });
});

describe('a bucket file with mistakes', () => {
  it('lists every one of them and exits 1', () => {
    const directory = mkdtempSync(join(tmpdir(), 'bad-buckets-'));
    const path = join(directory, 'buckets.json');
    writeFileSync(
      path,
      JSON.stringify({
        defaultBucket: 'missing-1250000000',
        buckets: [
          { bucket: 'media-1250000000', region: 'ap-guangzhou', account: 'ghost' },
          { bucket: 'media-1250000000', region: 'ap-guangzhou' },
        ],
      }),
    );
    const root = new URL('../..', import.meta.url).pathname;
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
      cwd: root,
      env: { PATH: process.env['PATH'], CI_BUCKETS_FILE: path },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stderr.trim().split('\n').at(-1) ?? '{}') as { errors: string[] };
    expect(report.errors.map((error) => error.replace(/^CI_BUCKETS_FILE \([^)]*\): /, ''))).toEqual([
      'buckets.0.account: names account "ghost", which "accounts" does not list',
      'buckets.1: bucket "media-1250000000" is listed twice',
      'buckets.1.account: uses the default account: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or name an account',
      'defaultBucket: "missing-1250000000" is not one of the buckets listed',
    ]);
  });
});
