/**
 * Which buckets the gateway serves and which Tencent account signs for each: from `CI_BUCKETS_FILE`, or the one
 * bucket of `CI_BUCKET` / `CI_REGION` / `CI_ENDPOINT` and the `TENCENTCLOUD_*` keys. Like the environment, the file
 * is checked whole and every problem in it is reported at once. Secrets are never read from the file: a key pair is
 * named by the environment variables that hold it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { bucketName, origin, regionName } from './environment.js';

/** The account a bucket or role uses when the file names none: the `TENCENTCLOUD_*` keys. */
export const DEFAULT_ACCOUNT = 'default';
/** The bucket id of a single-bucket gateway configured with `CI_ENDPOINT` and no `CI_BUCKET`. */
export const DEFAULT_BUCKET_ID = 'default';
const DEFAULT_ROLE_SECONDS = 7200;
const DEFAULT_STS_REGION = 'ap-guangzhou';

/** How the calls for a bucket are signed, and how many per second CI allows the account (unset: no limit). */
export type AccountConfig = AccountKind & { readonly callsPerSecond?: number | undefined };

type AccountKind =
  /** A key pair (and, for temporary keys, a session token), read from the environment. */
  | {
      readonly kind: 'keys';
      readonly secretId: string;
      readonly secretKey: string;
      readonly sessionToken: string | undefined;
    }
  /** A role, assumed through STS with another account's credentials and renewed before it expires. */
  | {
      readonly kind: 'role';
      readonly roleArn: string;
      /** The account whose credentials assume the role (a key pair or workload identity). */
      readonly via: string;
      readonly externalId: string | undefined;
      readonly sessionName: string;
      readonly durationSeconds: number;
      readonly stsRegion: string;
    }
  /** TKE workload identity: the pod's projected token, re-read for each renewal, exchanged for the role. */
  | {
      readonly kind: 'webIdentity';
      readonly roleArn: string;
      readonly providerId: string;
      readonly tokenFile: string;
      readonly sessionName: string;
      readonly durationSeconds: number;
      readonly stsRegion: string;
    };

export interface BucketConfig {
  /** `<BucketName-APPID>`, as COS names it. */
  readonly bucketId: string;
  readonly region: string;
  /** The name of its account in {@link TenancyConfig.accounts}. */
  readonly account: string;
  /** The CI origin its calls go to: `https://<bucket>.ci.<region>.myqcloud.com` unless overridden. */
  readonly endpoint: string;
  /** The region's own CI origin (`GET /mediabucket`): `https://ci.<region>.myqcloud.com`, or `endpoint` when overridden. */
  readonly regionEndpoint: string;
  /** Calls per second this bucket may take of its account's quota; unset: the account's alone limits it. */
  readonly callsPerSecond?: number | undefined;
}

export interface TenancyConfig {
  readonly buckets: readonly BucketConfig[];
  readonly accounts: Readonly<Record<string, AccountConfig>>;
  /** Where an argument without `bucketId` goes: the only bucket, or the file's `defaultBucket`. */
  readonly defaultBucket: string | undefined;
  /** STS's origin, when not the public one (the emulator's, a private endpoint). */
  readonly stsEndpoint: string | undefined;
}

const ROLE_ARN = /^qcs::cam::uin\/\d+:roleName\/[\w+=,.@-]+$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

const envName = z.string().regex(ENV_NAME, 'must name an environment variable, like PARTNER_SECRET_ID');
const name = z.string().regex(/^[\w-]{1,64}$/, 'must be 1 to 64 letters, digits, "_" or "-"');
const sessionName = z
  .string()
  .regex(/^[\w+=,.@-]{2,64}$/, 'must be 2 to 64 of letters, digits and =,.@_-')
  .optional();
const callsPerSecond = z.number().positive().max(10_000).optional();
const roleFields = {
  callsPerSecond,
  roleArn: z.string().regex(ROLE_ARN, 'must look like qcs::cam::uin/100000000001:roleName/ci-gateway'),
  sessionName,
  durationSeconds: z.number().int().min(900).max(43_200).default(DEFAULT_ROLE_SECONDS),
  stsRegion: regionName.default(DEFAULT_STS_REGION),
};

const accountSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('keys'),
    secretIdEnv: envName,
    secretKeyEnv: envName,
    sessionTokenEnv: envName.optional(),
    callsPerSecond,
  }),
  z.strictObject({
    type: z.literal('role'),
    ...roleFields,
    via: name.default(DEFAULT_ACCOUNT),
    externalId: z.string().min(2).max(128).optional(),
  }),
  z.strictObject({
    type: z.literal('webIdentity'),
    ...roleFields,
    providerId: z.string().min(1).default('OIDC'),
    tokenFile: z.string().min(1),
  }),
]);

const fileSchema = z.strictObject({
  buckets: z
    .array(
      z.strictObject({
        bucket: bucketName,
        region: regionName,
        account: name.optional(),
        endpoint: origin.optional(),
        callsPerSecond,
      }),
    )
    .min(1, 'must list at least one bucket'),
  accounts: z.record(name, accountSchema).default({}),
  defaultBucket: z.string().optional(),
});

export type TenancyResult =
  | { readonly ok: true; readonly tenancy: TenancyConfig }
  | { readonly ok: false; readonly errors: string[] };

type Env = Readonly<Record<string, string | undefined>>;

/** The buckets and accounts `CI_BUCKETS_FILE` describes, with every problem in it. */
export function tenancyFromFile(path: string, env: Env): TenancyResult {
  const where = `CI_BUCKETS_FILE (${path})`;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = error instanceof SyntaxError ? `not JSON: ${error.message}` : 'cannot be read';
    return { ok: false, errors: [`${where}: ${reason}`] };
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map(
        (issue) => `${where}: ${issue.path.join('.') || '(file)'}: ${issue.message}`,
      ),
    };
  }
  const file = parsed.data;
  const errors: string[] = [];
  const problem = (at: string, message: string) => errors.push(`${where}: ${at}: ${message}`);

  const accounts: Record<string, AccountConfig> = {};
  const usedAccounts = new Set<string>();
  const envAccount = keysFromEnvironment(env);
  const accountNamed = (accountName: string, at: string): void => {
    usedAccounts.add(accountName);
    if (accountName in file.accounts) return;
    if (accountName !== DEFAULT_ACCOUNT)
      problem(at, `names account "${accountName}", which "accounts" does not list`);
    else if (!envAccount) {
      problem(
        at,
        'uses the default account: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, or name an account',
      );
    }
  };

  const seen = new Set<string>();
  const buckets: BucketConfig[] = file.buckets.map((bucket, index) => {
    const at = `buckets.${index}`;
    if (seen.has(bucket.bucket)) problem(at, `bucket "${bucket.bucket}" is listed twice`);
    seen.add(bucket.bucket);
    const account = bucket.account ?? DEFAULT_ACCOUNT;
    accountNamed(account, `${at}.account`);
    return {
      ...bucketConfig(bucket.bucket, bucket.region, account, bucket.endpoint),
      callsPerSecond: bucket.callsPerSecond,
    };
  });

  for (const [accountName, account] of Object.entries(file.accounts)) {
    const at = `accounts.${accountName}`;
    switch (account.type) {
      case 'keys': {
        const read = (variable: string | undefined, required: boolean) => {
          const value = variable === undefined ? undefined : env[variable]?.trim() || undefined;
          if (variable !== undefined && value === undefined && required) {
            problem(at, `environment variable ${variable} is not set`);
          }
          return value;
        };
        accounts[accountName] = {
          kind: 'keys',
          secretId: read(account.secretIdEnv, true) ?? '',
          secretKey: read(account.secretKeyEnv, true) ?? '',
          sessionToken: read(account.sessionTokenEnv, false),
          callsPerSecond: account.callsPerSecond,
        };
        break;
      }
      case 'role': {
        usedAccounts.add(account.via);
        if (account.via === accountName) problem(`${at}.via`, 'a role cannot be assumed with itself');
        else if (file.accounts[account.via]?.type === 'role') {
          problem(
            `${at}.via`,
            `"${account.via}" is a role too: assume roles with a key pair or workload identity`,
          );
        } else accountNamed(account.via, `${at}.via`);
        accounts[accountName] = {
          kind: 'role',
          ...assumedRole(account),
          via: account.via,
          externalId: account.externalId,
        };
        break;
      }
      case 'webIdentity':
        if (!existsSync(account.tokenFile)) problem(`${at}.tokenFile`, `${account.tokenFile} does not exist`);
        accounts[accountName] = {
          kind: 'webIdentity',
          ...assumedRole(account),
          providerId: account.providerId,
          tokenFile: account.tokenFile,
        };
        break;
    }
  }
  for (const accountName of Object.keys(file.accounts)) {
    if (!usedAccounts.has(accountName)) problem(`accounts.${accountName}`, 'no bucket or role uses it');
  }
  if (usedAccounts.has(DEFAULT_ACCOUNT) && !(DEFAULT_ACCOUNT in accounts) && envAccount) {
    accounts[DEFAULT_ACCOUNT] = envAccount;
  }
  if (file.defaultBucket !== undefined && !seen.has(file.defaultBucket)) {
    problem('defaultBucket', `"${file.defaultBucket}" is not one of the buckets listed`);
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    tenancy: {
      buckets,
      accounts,
      defaultBucket: file.defaultBucket ?? (buckets.length === 1 ? buckets[0]?.bucketId : undefined),
      stsEndpoint: env['STS_ENDPOINT']?.trim() || undefined,
    },
  };
}

/** The one bucket of the single-bucket variables, signed with the `TENCENTCLOUD_*` keys. */
export function singleBucketTenancy(env: {
  readonly bucket: string | undefined;
  readonly region: string | undefined;
  readonly endpoint: string | undefined;
  readonly keys: AccountConfig;
  readonly stsEndpoint: string | undefined;
}): TenancyConfig {
  const bucketId = env.bucket ?? DEFAULT_BUCKET_ID;
  return {
    buckets: [bucketConfig(bucketId, env.region ?? DEFAULT_STS_REGION, DEFAULT_ACCOUNT, env.endpoint)],
    accounts: { [DEFAULT_ACCOUNT]: env.keys },
    defaultBucket: bucketId,
    stsEndpoint: env.stsEndpoint,
  };
}

/** The `TENCENTCLOUD_*` key pair, when both halves are set. */
export function keysFromEnvironment(env: Env): AccountConfig | undefined {
  const secretId = env['TENCENTCLOUD_SECRET_ID']?.trim();
  const secretKey = env['TENCENTCLOUD_SECRET_KEY']?.trim();
  if (!secretId || !secretKey) return undefined;
  return {
    kind: 'keys',
    secretId,
    secretKey,
    sessionToken: env['TENCENTCLOUD_SESSION_TOKEN']?.trim() || undefined,
  };
}

function bucketConfig(
  bucketId: string,
  region: string,
  account: string,
  endpoint: string | undefined,
): BucketConfig {
  const overridden = endpoint?.replace(/\/$/, '');
  return {
    bucketId,
    region,
    account,
    endpoint: overridden ?? `https://${bucketId}.ci.${region}.myqcloud.com`,
    regionEndpoint: overridden ?? `https://ci.${region}.myqcloud.com`,
  };
}

/** What every role taken through STS is configured with, whoever takes it. */
function assumedRole(account: z.output<z.ZodObject<typeof roleFields>>) {
  return {
    roleArn: account.roleArn,
    sessionName: account.sessionName ?? gatewaySessionName(),
    durationSeconds: account.durationSeconds,
    stsRegion: account.stsRegion,
    callsPerSecond: account.callsPerSecond,
  };
}

/** Shows in CloudAudit: which gateway replica took the role (a pod's name, on Kubernetes). */
function gatewaySessionName(): string {
  const host = hostname().replace(/[^\w+=,.@-]/g, '-');
  return `ci-gateway-${host}`.slice(0, 64);
}

/**
 * What each bucket id means to this gateway, as a short digest: its region, its endpoint, and who its account is
 * (a key pair's id, a role's ARN), never a secret. Replicas sharing Redis compare them at start.
 */
export function bucketFingerprints(tenancy: TenancyConfig): Map<string, string> {
  return new Map(
    tenancy.buckets.map((bucket) => [
      bucket.bucketId,
      digest([bucket.region, bucket.endpoint, accountIdentity(tenancy, bucket.account)]),
    ]),
  );
}

/**
 * Who an account is, whatever this gateway calls it: a key pair's id or a role's ARN, as a short digest. Replicas
 * with different bucket files agree on it for the same account (its quota is shared under it).
 */
export function accountIdentity(tenancy: TenancyConfig, name: string): string {
  const account = tenancy.accounts[name];
  if (!account) return digest(['name', name]);
  return digest(account.kind === 'keys' ? ['keys', account.secretId] : [account.kind, account.roleArn]);
}

function digest(parts: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 22);
}
