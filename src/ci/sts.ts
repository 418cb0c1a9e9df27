/**
 * Temporary credentials from Tencent Cloud STS (`sts.tencentcloudapi.com`, version 2018-08-13):
 *
 * - `AssumeRole`: a role, in this account or another that trusts it, taken with the calling account's keys (the
 *   request is signed with TC3-HMAC-SHA256, `tc3-signer.ts`);
 * - `AssumeRoleWithWebIdentity`: TKE workload identity, taken with the pod's projected service-account token (the
 *   request is unsigned: the token is the proof), so no static key is ever deployed.
 *
 * Either answers a key pair and a session token that expire; `credential-source.ts` keeps them fresh. Failures are
 * `CiError`s like every upstream failure, with STS's own code and request id; the keys in an answer never reach
 * an error or a log line.
 */
import { z } from 'zod';
import { CiError, type CiErrorKind } from './errors.js';
import { type Tc3Credentials, tc3Authorization } from './tc3-signer.js';

export const DEFAULT_STS_ENDPOINT = 'https://sts.tencentcloudapi.com';
const SERVICE = 'sts';
const VERSION = '2018-08-13';
const CONTENT_TYPE = 'application/json';

/** A key pair with its session token, and when it stops working. */
export interface TemporaryCredentials {
  readonly secretId: string;
  readonly secretKey: string;
  readonly sessionToken: string;
  readonly expiresAt: Date;
}

export interface StsOptions {
  /** STS's origin; the emulator's, or a private endpoint, in place of the public one. */
  readonly endpoint?: string | undefined;
  /** The region STS is asked in (`X-TC-Region`), e.g. `ap-guangzhou`. */
  readonly region: string;
  readonly timeoutMs?: number | undefined;
  /** Injectable for tests. */
  readonly now?: (() => number) | undefined;
}

export interface AssumeRoleParams {
  /** `qcs::cam::uin/<account>:roleName/<name>`. */
  readonly roleArn: string;
  /** Shows in CloudAudit: 2 to 128 of letters, digits and `=,.@_-`. */
  readonly sessionName: string;
  /** 900 to 43,200 seconds. */
  readonly durationSeconds: number;
  /** What the role's trust policy asks of this caller, when it asks. */
  readonly externalId?: string | undefined;
}

export interface AssumeRoleWithWebIdentityParams {
  /** The identity provider the role trusts (for TKE, `OIDC`). */
  readonly providerId: string;
  /** The OIDC token itself (read afresh from the projected file for each call). */
  readonly webIdentityToken: string;
  readonly roleArn: string;
  readonly sessionName: string;
  readonly durationSeconds: number;
}

const credentialsAnswer = z.object({
  Response: z.object({
    Credentials: z.object({
      TmpSecretId: z.string().min(1),
      TmpSecretKey: z.string().min(1),
      Token: z.string().min(1),
    }),
    ExpiredTime: z.number().int().positive(),
    RequestId: z.string().optional(),
  }),
});

const errorAnswer = z.object({
  Response: z.object({
    Error: z.object({ Code: z.string(), Message: z.string().optional() }),
    RequestId: z.string().optional(),
  }),
});

/** `AssumeRole`, signed with the caller's own keys. */
export function assumeRole(
  options: StsOptions,
  caller: Tc3Credentials,
  params: AssumeRoleParams,
): Promise<TemporaryCredentials> {
  return call(options, 'AssumeRole', caller, {
    RoleArn: params.roleArn,
    RoleSessionName: params.sessionName,
    DurationSeconds: params.durationSeconds,
    ...(params.externalId === undefined ? {} : { ExternalId: params.externalId }),
  });
}

/** `AssumeRoleWithWebIdentity`: unsigned, the token being the proof. */
export function assumeRoleWithWebIdentity(
  options: StsOptions,
  params: AssumeRoleWithWebIdentityParams,
): Promise<TemporaryCredentials> {
  return call(options, 'AssumeRoleWithWebIdentity', undefined, {
    ProviderId: params.providerId,
    WebIdentityToken: params.webIdentityToken,
    RoleArn: params.roleArn,
    RoleSessionName: params.sessionName,
    DurationSeconds: params.durationSeconds,
  });
}

async function call(
  options: StsOptions,
  action: string,
  caller: Tc3Credentials | undefined,
  parameters: Record<string, string | number>,
): Promise<TemporaryCredentials> {
  const url = new URL(options.endpoint ?? DEFAULT_STS_ENDPOINT);
  const timestamp = Math.floor((options.now ?? Date.now)() / 1000);
  const body = JSON.stringify(parameters);
  const authorization = caller
    ? tc3Authorization(caller, SERVICE, timestamp, { host: url.hostname, contentType: CONTENT_TYPE, body })
    : 'SKIP';
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        authorization,
        'content-type': CONTENT_TYPE,
        'x-tc-action': action,
        'x-tc-timestamp': String(timestamp),
        'x-tc-version': VERSION,
        'x-tc-region': options.region,
        // Temporary caller keys (workload identity assuming a role) prove themselves with their token.
        ...(caller?.sessionToken ? { 'x-tc-token': caller.sessionToken } : {}),
      },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    throw new CiError(timedOut ? 'timeout' : 'unavailable', `STS ${action} could not be reached`, {
      cause: error,
    });
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CiError('unreadable_response', `STS ${action} answered HTTP ${response.status} with no JSON`, {
      status: response.status,
    });
  }
  const refused = errorAnswer.safeParse(json);
  if (refused.success) {
    const { Error: error, RequestId: requestId } = refused.data.Response;
    throw new CiError(errorKind(error.Code, response.status), `STS ${action} refused: ${error.Code}`, {
      code: error.Code,
      upstreamMessage: error.Message,
      requestId,
      status: response.status,
    });
  }
  const answered = credentialsAnswer.safeParse(json);
  if (!answered.success) {
    throw new CiError('unreadable_response', `STS ${action} answered something other than credentials`, {
      status: response.status,
    });
  }
  const { Credentials: credentials, ExpiredTime: expiredTime } = answered.data.Response;
  return {
    secretId: credentials.TmpSecretId,
    secretKey: credentials.TmpSecretKey,
    sessionToken: credentials.Token,
    expiresAt: new Date(expiredTime * 1000),
  };
}

/** Tencent Cloud API error codes, as CI's errors are classified. */
function errorKind(code: string, status: number): CiErrorKind {
  if (code.startsWith('AuthFailure') || code.startsWith('UnauthorizedOperation')) return 'unauthorized';
  if (code.startsWith('RequestLimitExceeded')) return 'throttled';
  if (code.startsWith('InternalError') || status >= 500) return 'unavailable';
  return 'bad_request';
}
