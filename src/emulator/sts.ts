/**
 * The emulator's STS: `AssumeRole` (TC3-signed with the keys of one of the accounts it knows) and
 * `AssumeRoleWithWebIdentity` (unsigned, any token), answered as Tencent Cloud API 3.0 answers them. A role belongs
 * to the account its ARN names (`uin/<account>`), so one account's keys can take another's role, as a cross-account
 * trust allows. The temporary keys it issues sign CI calls to that account's buckets, with their session token,
 * until they expire; so temporary credentials can be tried, and their renewal tested, with no cloud account.
 */
import { randomBytes } from 'node:crypto';
import { tc3Authorization } from '../ci/tc3-signer.js';
import { isRecord } from '../records.js';

/** What a caller of CI may sign with: the account's own keys, or keys STS issued. */
export interface IssuedKeys {
  /** The account whose role they were issued for. */
  readonly uin: string;
  readonly secretKey: string;
  readonly sessionToken: string;
  readonly expiresAt: number;
}

/** An account the emulated cloud knows: its id and its own key pair. */
export interface EmulatedAccount {
  readonly uin: string;
  readonly secretId: string;
  readonly secretKey: string;
}

export interface StsAnswer {
  readonly status: number;
  readonly body: string;
}

const ROLE_ARN = /^qcs::cam::uin\/(\d+):roleName\/[\w+=,.@-]+$/;
const MAX_ISSUED = 10_000;

export class EmulatedSts {
  readonly #accounts: readonly EmulatedAccount[];
  readonly #now: () => number;
  readonly #issued = new Map<string, IssuedKeys>();
  #issuedCount = 0;

  constructor(accounts: readonly EmulatedAccount[], now: () => number) {
    this.#accounts = accounts;
    this.#now = now;
  }

  /** Credential sets issued so far. */
  get issuedCount(): number {
    return this.#issuedCount;
  }

  /** The keys STS issued under this id, expired or not. */
  issued(secretId: string): IssuedKeys | undefined {
    return this.#issued.get(secretId);
  }

  /** One STS call: the action and timestamp from their `X-TC-*` headers, the parameters from the JSON body. */
  answer(headers: Readonly<Record<string, string | string[] | undefined>>, body: string): StsAnswer {
    const requestId = randomBytes(8).toString('hex');
    const refuse = (code: string, message: string) => ({
      status: 200,
      body: JSON.stringify({ Response: { Error: { Code: code, Message: message }, RequestId: requestId } }),
    });
    const action = String(headers['x-tc-action'] ?? '');
    const timestamp = Number(headers['x-tc-timestamp']);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return refuse('InvalidParameter', 'The body is not JSON.');
    }
    if (!isRecord(parsed)) return refuse('InvalidParameter', 'The body is not a JSON object.');
    const parameters = parsed;
    if (action === 'AssumeRole') {
      const host = String(headers['host'] ?? '').split(':')[0] ?? '';
      const authorization = String(headers['authorization'] ?? '');
      const callerId = /Credential=([^/]+)\//.exec(authorization)?.[1];
      const caller = this.#accounts.find((account) => account.secretId === callerId);
      const expected =
        caller &&
        tc3Authorization(caller, 'sts', timestamp, {
          host,
          contentType: String(headers['content-type'] ?? ''),
          body,
        });
      if (expected === undefined || authorization !== expected) {
        return refuse('AuthFailure.SignatureFailure', 'The provided credentials could not be validated.');
      }
      if (Math.abs(this.#now() / 1000 - timestamp) > 300) {
        return refuse('AuthFailure.SignatureExpire', 'The request time is more than five minutes off.');
      }
    } else if (action === 'AssumeRoleWithWebIdentity') {
      if (typeof parameters['WebIdentityToken'] !== 'string' || parameters['WebIdentityToken'] === '') {
        return refuse('InvalidParameter.WebIdentityTokenError', 'The web identity token is missing.');
      }
    } else {
      return refuse('InvalidAction', `The emulator's STS does not know ${action}.`);
    }
    const roleArn = parameters['RoleArn'];
    const uin = typeof roleArn === 'string' ? ROLE_ARN.exec(roleArn)?.[1] : undefined;
    if (uin === undefined) {
      return refuse(
        'InvalidParameter.RoleArnError',
        'RoleArn must look like qcs::cam::uin/<id>:roleName/<name>.',
      );
    }
    if (!this.#accounts.some((account) => account.uin === uin)) {
      return refuse('ResourceNotFound.RoleNotExist', `No account ${uin} is known here.`);
    }
    const duration = Number(parameters['DurationSeconds'] ?? 7200);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43_200) {
      return refuse('InvalidParameter.DurationSecondsError', 'DurationSeconds must be from 900 to 43200.');
    }
    const secretId = `AKIDtmp${randomBytes(12).toString('hex')}`;
    const keys: IssuedKeys = {
      uin,
      secretKey: randomBytes(20).toString('base64url'),
      sessionToken: randomBytes(32).toString('base64url'),
      expiresAt: this.#now() + duration * 1000,
    };
    if (this.#issued.size >= MAX_ISSUED) this.#forgetExpired();
    this.#issued.set(secretId, keys);
    this.#issuedCount += 1;
    const expiredTime = Math.floor(keys.expiresAt / 1000);
    return {
      status: 200,
      body: JSON.stringify({
        Response: {
          Credentials: { TmpSecretId: secretId, TmpSecretKey: keys.secretKey, Token: keys.sessionToken },
          ExpiredTime: expiredTime,
          Expiration: new Date(expiredTime * 1000).toISOString(),
          RequestId: requestId,
        },
      }),
    };
  }

  #forgetExpired(): void {
    const now = this.#now();
    for (const [secretId, keys] of this.#issued) if (keys.expiresAt <= now) this.#issued.delete(secretId);
  }
}
