/**
 * The emulator's STS: `AssumeRole` (TC3-signed with the emulator's account keys) and `AssumeRoleWithWebIdentity`
 * (unsigned, any token), answered as Tencent Cloud API 3.0 answers them. The temporary keys it issues sign CI calls
 * to the same emulator, with their session token, until they expire; so temporary credentials can be tried, and
 * their renewal tested, with no cloud account.
 */
import { randomBytes } from 'node:crypto';
import { tc3Authorization } from '../ci/tc3-signer.js';
import { isRecord } from '../records.js';

/** What a caller of CI may sign with: the account's own keys, or keys STS issued. */
export interface IssuedKeys {
  readonly secretKey: string;
  readonly sessionToken: string;
  readonly expiresAt: number;
}

export interface StsAnswer {
  readonly status: number;
  readonly body: string;
}

const ROLE_ARN = /^qcs::cam::uin\/\d+:roleName\/[\w+=,.@-]+$/;
const MAX_ISSUED = 10_000;

export class EmulatedSts {
  readonly #account: { readonly secretId: string; readonly secretKey: string };
  readonly #now: () => number;
  readonly #issued = new Map<string, IssuedKeys>();

  constructor(account: { readonly secretId: string; readonly secretKey: string }, now: () => number) {
    this.#account = account;
    this.#now = now;
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
      const expected = tc3Authorization(this.#account, 'sts', timestamp, {
        host,
        contentType: String(headers['content-type'] ?? ''),
        body,
      });
      if (headers['authorization'] !== expected) {
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
    if (typeof roleArn !== 'string' || !ROLE_ARN.test(roleArn)) {
      return refuse(
        'InvalidParameter.RoleArnError',
        'RoleArn must look like qcs::cam::uin/<id>:roleName/<name>.',
      );
    }
    const duration = Number(parameters['DurationSeconds'] ?? 7200);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43_200) {
      return refuse('InvalidParameter.DurationSecondsError', 'DurationSeconds must be from 900 to 43200.');
    }
    const secretId = `AKIDtmp${randomBytes(12).toString('hex')}`;
    const keys: IssuedKeys = {
      secretKey: randomBytes(20).toString('base64url'),
      sessionToken: randomBytes(32).toString('base64url'),
      expiresAt: this.#now() + duration * 1000,
    };
    if (this.#issued.size >= MAX_ISSUED) this.#forgetExpired();
    this.#issued.set(secretId, keys);
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
