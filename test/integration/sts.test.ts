/**
 * Temporary credentials: the STS calls against a scripted STS on 127.0.0.1 that checks each request's TC3 signature
 * with the official SDK's signer, and their renewal before they run out.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AccountCredentials } from '../../src/ci/account-credentials.js';
import { CiClient } from '../../src/ci/client.js';
import { RenewingCredentials } from '../../src/ci/credential-source.js';
import { CiError } from '../../src/ci/errors.js';
import { assume, runIdRule } from '../../src/ci/inputs.js';
import { assumeRole, assumeRoleWithWebIdentity, type TemporaryCredentials } from '../../src/ci/sts.js';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { DEMO_CREDENTIALS } from '../../src/emulator/server.js';
import { EMULATED_BUCKET, startEmulator } from '../support/emulator.js';

const require = createRequire(import.meta.url);
const Sign = (
  require('tencentcloud-sdk-nodejs-common/tencentcloud/common/sign.js') as {
    default: { sign3(options: Record<string, unknown>): string };
  }
).default;

const CALLER = { secretId: 'AKIDcaller0000000000000000', secretKey: 'caller-secret-key-0000000000' };
const ROLE = 'qcs::cam::uin/100000000001:roleName/ci-gateway';

interface Received {
  readonly action: string | undefined;
  readonly authorization: string | undefined;
  readonly body: Record<string, unknown>;
}

/** STS as the gateway meets it: checks signatures, answers credentials, or what a test scripts instead. */
function fakeSts() {
  const received: Received[] = [];
  let script: Array<{ status: number; body: string }> = [];
  let issued = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const action = request.headers['x-tc-action'] as string | undefined;
      const authorization = request.headers.authorization;
      received.push({
        action,
        authorization,
        body: JSON.parse(raw.toString('utf8')) as Record<string, unknown>,
      });
      const scripted = script.shift();
      if (scripted) {
        response.writeHead(scripted.status, { 'content-type': 'application/json' }).end(scripted.body);
        return;
      }
      const timestamp = Number(request.headers['x-tc-timestamp']);
      const expected =
        action === 'AssumeRoleWithWebIdentity'
          ? 'SKIP'
          : Sign.sign3({
              method: 'POST',
              url: `http://${(request.headers.host ?? '').split(':')[0]}/`,
              payload: raw,
              timestamp,
              service: 'sts',
              ...CALLER,
              multipart: false,
              boundary: '',
              headers: { 'Content-Type': request.headers['content-type'] },
            });
      if (authorization !== expected) {
        response.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            Response: {
              Error: {
                Code: 'AuthFailure.SignatureFailure',
                Message: 'The provided credentials could not be validated.',
              },
              RequestId: 'r-sig',
            },
          }),
        );
        return;
      }
      issued += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          Response: {
            Credentials: {
              TmpSecretId: `AKIDtmp${issued}`,
              TmpSecretKey: `tmp-key-${issued}`,
              Token: `token-${issued}`,
            },
            ExpiredTime:
              timestamp +
              Number((JSON.parse(raw.toString('utf8')) as { DurationSeconds: number }).DurationSeconds),
            Expiration: new Date((timestamp + 7200) * 1000).toISOString(),
            RequestId: `r-${issued}`,
          },
        }),
      );
    });
  });
  return {
    received,
    script: (...answers: Array<{ status: number; body: string }>) => {
      script = answers;
    },
    async listen(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('STS', () => {
  const sts = fakeSts();
  let endpoint = '';
  beforeAll(async () => {
    endpoint = await sts.listen();
  });
  afterAll(() => sts.close());
  beforeEach(() => {
    sts.received.length = 0;
  });

  it('takes a role with a request signed as the official SDK signs it', async () => {
    const now = Date.UTC(2026, 11, 7, 0, 0, 0);
    const credentials = await assumeRole({ endpoint, region: 'ap-guangzhou', now: () => now }, CALLER, {
      roleArn: ROLE,
      sessionName: 'ci-gateway-replica-1',
      durationSeconds: 7200,
    });
    expect(credentials).toEqual({
      secretId: 'AKIDtmp1',
      secretKey: 'tmp-key-1',
      sessionToken: 'token-1',
      expiresAt: new Date(now + 7200 * 1000),
    });
    expect(sts.received[0]).toMatchObject({
      action: 'AssumeRole',
      body: { RoleArn: ROLE, RoleSessionName: 'ci-gateway-replica-1', DurationSeconds: 7200 },
    });
  });

  it('takes a role with a web identity token, unsigned', async () => {
    const credentials = await assumeRoleWithWebIdentity(
      { endpoint, region: 'ap-guangzhou' },
      {
        providerId: 'OIDC',
        webIdentityToken: 'eyJ.token',
        roleArn: ROLE,
        sessionName: 'pod-1',
        durationSeconds: 3600,
      },
    );
    expect(credentials.sessionToken).toMatch(/^token-/);
    expect(sts.received[0]).toMatchObject({
      action: 'AssumeRoleWithWebIdentity',
      authorization: 'SKIP',
      body: { ProviderId: 'OIDC', WebIdentityToken: 'eyJ.token', RoleArn: ROLE },
    });
  });

  it.each([
    ['a wrong key', { status: 200, body: '' }, 'unauthorized', 'AuthFailure.SignatureFailure'],
    [
      'throttling',
      {
        status: 200,
        body: JSON.stringify({ Response: { Error: { Code: 'RequestLimitExceeded' }, RequestId: 'r' } }),
      },
      'throttled',
      'RequestLimitExceeded',
    ],
    [
      'a role it does not know',
      {
        status: 200,
        body: JSON.stringify({
          Response: { Error: { Code: 'InvalidParameter.RoleNotExist' }, RequestId: 'r' },
        }),
      },
      'bad_request',
      'InvalidParameter.RoleNotExist',
    ],
    [
      'an answer that is not JSON',
      { status: 502, body: '<html>bad gateway</html>' },
      'unreadable_response',
      undefined,
    ],
  ])('fails with a classified error on %s, and no key in it', async (_case, answer, kind, code) => {
    const caller = answer.body === '' ? { ...CALLER, secretKey: 'not-the-key' } : CALLER;
    if (answer.body !== '') sts.script(answer);
    const error = await assumeRole({ endpoint, region: 'ap-guangzhou' }, caller, {
      roleArn: ROLE,
      sessionName: 's',
      durationSeconds: 900,
    }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(CiError);
    expect(error).toMatchObject({ kind, code });
    expect(JSON.stringify(error) + String(error)).not.toContain(caller.secretKey);
  });
});

describe('account credentials', () => {
  const sts = fakeSts();
  let endpoint = '';
  beforeAll(async () => {
    endpoint = await sts.listen();
  });
  afterAll(() => sts.close());
  beforeEach(() => {
    sts.received.length = 0;
  });

  it('reads the projected token afresh for each renewal of a workload identity, and shares one source per account', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'web-identity-'));
    const tokenFile = join(directory, 'token');
    writeFileSync(tokenFile, 'eyJ.first\n');
    let clock = Date.UTC(2026, 11, 7, 8, 0, 0);
    const accounts = new AccountCredentials(
      {
        cluster: {
          kind: 'webIdentity',
          roleArn: ROLE,
          providerId: 'OIDC',
          tokenFile,
          sessionName: 'pod-1',
          durationSeconds: 900,
          stsRegion: 'ap-guangzhou',
        },
      },
      { stsEndpoint: endpoint, now: () => clock },
    );
    const source = accounts.of('cluster');
    expect(accounts.of('cluster')).toBe(source);
    expect((await source.current()).sessionToken).toMatch(/^token-\d+$/);
    // The kubelet rotates the token; the next renewal (past the keys' expiry here) sends the new one.
    writeFileSync(tokenFile, 'eyJ.rotated\n');
    clock += 901_000;
    await source.current();
    expect(sts.received.map((request) => request.body['WebIdentityToken'])).toEqual([
      'eyJ.first',
      'eyJ.rotated',
    ]);
    expect(sts.received.every((request) => request.authorization === 'SKIP')).toBe(true);
  });

  it('takes a role with the credentials of the account it names, never its own', async () => {
    const accounts = new AccountCredentials(
      {
        home: { kind: 'keys', ...CALLER, sessionToken: undefined },
        partner: {
          kind: 'role',
          roleArn: ROLE,
          via: 'home',
          externalId: 'media-platform',
          sessionName: 'gateway-1',
          durationSeconds: 3600,
          stsRegion: 'ap-singapore',
        },
      },
      { stsEndpoint: endpoint },
    );
    expect(await accounts.of('partner').current()).toMatchObject({
      secretId: expect.stringMatching(/^AKIDtmp\d+$/),
      sessionToken: expect.stringMatching(/^token-\d+$/),
    });
    // The fake STS checks the request's signature against CALLER's key: it answered, so it was signed with it.
    expect(sts.received[0]).toMatchObject({
      action: 'AssumeRole',
      body: {
        RoleArn: ROLE,
        RoleSessionName: 'gateway-1',
        DurationSeconds: 3600,
        ExternalId: 'media-platform',
      },
    });
    expect(() => accounts.of('nobody')).toThrow(RangeError);
  });
});

describe('renewing credentials', () => {
  const renewal = (life: number, now: () => number) => {
    let issued = 0;
    const calls: number[] = [];
    const renew = async (): Promise<TemporaryCredentials> => {
      calls.push(now());
      issued += 1;
      return {
        secretId: `id-${issued}`,
        secretKey: `key-${issued}`,
        sessionToken: `token-${issued}`,
        expiresAt: new Date(now() + life),
      };
    };
    return { renew, calls };
  };

  it('renews in the background after 80 % of the life, one renewal however many ask, never making a request wait', async () => {
    let now = 0;
    const { renew, calls } = renewal(1_000_000, () => now);
    const source = new RenewingCredentials({ renew, now: () => now });
    expect((await source.current()).sessionToken).toMatch(/^token-\d+$/);
    now = 790_000;
    expect((await source.current()).sessionToken).toMatch(/^token-\d+$/);
    expect(calls).toHaveLength(1);
    now = 810_000;
    const asked = await Promise.all([source.current(), source.current(), source.current()]);
    // Still the current ones: the renewal runs behind them.
    expect(asked.map((keys) => keys.sessionToken)).toEqual(['token-1', 'token-1', 'token-1']);
    await Promise.resolve();
    expect(calls).toEqual([0, 810_000]);
    expect((await source.current()).sessionToken).toBe('token-2');
  });

  it('keeps the current credentials through a failed renewal, tries again after a pause, and waits only when they have run out', async () => {
    let now = 0;
    let failing = false;
    const issued = renewal(100_000, () => now);
    const failures: unknown[] = [];
    const source = new RenewingCredentials({
      renew: () => (failing ? Promise.reject(new Error('STS down')) : issued.renew()),
      retryMs: 5_000,
      now: () => now,
      onRenewFailed: (error) => failures.push(error),
    });
    await source.current();
    failing = true;
    now = 85_000;
    expect((await source.current()).sessionToken).toMatch(/^token-\d+$/);
    await new Promise((resolve) => setImmediate(resolve));
    expect(failures).toHaveLength(1);
    now = 87_000;
    await source.current();
    await new Promise((resolve) => setImmediate(resolve));
    expect(failures).toHaveLength(1);
    now = 100_000;
    await expect(source.current()).rejects.toThrow('STS down');
    failing = false;
    expect((await source.current()).sessionToken).toBe('token-2');
  });

  it('signs each CI attempt with what the source gives at that moment', async () => {
    const fixture = await startEmulator({ sessionToken: 'token-1' });
    try {
      let asked = 0;
      const client = new CiClient({
        bucketId: EMULATED_BUCKET,
        endpoint: fixture.emulator.url,
        credentials: {
          current: async () => {
            asked += 1;
            return { ...DEMO_CREDENTIALS, sessionToken: 'token-1' };
          },
        },
      });
      const detail = await client
        .getWorkflowExecution(assume(runIdRule, `i${'0'.repeat(32)}`))
        .catch((error: unknown) => error);
      expect(detail).toMatchObject({ kind: 'not_found' });
      expect(asked).toBe(1);
      expect(fixture.emulator.requests.at(-1)).toMatchObject({
        signatureVerified: true,
        sessionTokenSent: true,
      });
      await client.close();
    } finally {
      await fixture.close();
    }
  });

  it('through the emulator’s STS: its keys sign CI calls with their token, are refused once expired, and renewal keeps calls working', async () => {
    let clock = Date.UTC(2026, 11, 7, 8, 0, 0);
    const now = () => clock;
    const fixture = await startEmulator({ now });
    try {
      const endpoint = fixture.emulator.url;
      let renewals = 0;
      const renew = () => {
        renewals += 1;
        return assumeRole({ endpoint, region: 'ap-guangzhou', now }, DEMO_CREDENTIALS, {
          roleArn: ROLE,
          sessionName: 'emulated',
          durationSeconds: 900,
        });
      };
      const lookup = [DEMO_WORKFLOW_IDS.large];
      const renewing = new CiClient({
        bucketId: EMULATED_BUCKET,
        endpoint,
        credentials: new RenewingCredentials({ renew, now }),
        now,
      });
      expect((await renewing.getWorkflows(lookup)).workflows).toHaveLength(1);
      const first = fixture.emulator.requests.at(-1);
      expect(first).toMatchObject({ signatureVerified: true, sessionTokenSent: true });

      // Keys taken once and never renewed stop working when they expire.
      const once = await renew();
      const fixed = new CiClient({
        bucketId: EMULATED_BUCKET,
        endpoint,
        credentials: once,
        now,
        maxRetries: 0,
      });
      clock += 901_000;
      const refused = await fixed.getWorkflows([DEMO_WORKFLOW_IDS.single]).catch((error: unknown) => error);
      expect(refused).toMatchObject({ kind: 'unauthorized', status: 403 });

      // The renewing client took new keys before its own expired (or at the first call after): still served.
      expect((await renewing.getWorkflows([DEMO_WORKFLOW_IDS.single])).workflows).toHaveLength(1);
      expect(renewals).toBe(3);
      await Promise.all([renewing.close(), fixed.close()]);
    } finally {
      await fixture.close();
    }
  });
});
