/**
 * The credentials each configured account signs with: its key pair as given, or temporary keys from STS kept fresh
 * (`credential-source.ts`): a role assumed with another account's credentials, or TKE workload identity with the
 * pod's projected token, read afresh from its file for every renewal (the kubelet rotates it). One source per
 * account, however many buckets use it, so an account renews once at a time.
 */
import { readFile } from 'node:fs/promises';
import type { AccountConfig } from '../tenancy-config.js';
import { type CredentialSource, fixedCredentials, RenewingCredentials } from './credential-source.js';
import { assumeRole, assumeRoleWithWebIdentity, type StsOptions } from './sts.js';

export interface AccountCredentialsOptions {
  /** STS's origin; the public one when absent. */
  readonly stsEndpoint?: string | undefined;
  readonly timeoutMs?: number | undefined;
  /** A renewal failed: the current keys are kept while they last, and it is tried again shortly. */
  readonly onRenewFailed?: ((account: string, error: unknown) => void) | undefined;
  /** Injectable for tests: the share of their life after which temporary keys are renewed. */
  readonly renewAt?: number | undefined;
  /** Injectable for tests: the clock lifetimes and STS timestamps are read from. */
  readonly now?: (() => number) | undefined;
}

/** Each account's credential source, made on first use and shared by every bucket of the account. */
export class AccountCredentials {
  readonly #accounts: Readonly<Record<string, AccountConfig>>;
  readonly #options: AccountCredentialsOptions;
  readonly #sources = new Map<string, CredentialSource>();

  constructor(accounts: Readonly<Record<string, AccountConfig>>, options: AccountCredentialsOptions = {}) {
    this.#accounts = accounts;
    this.#options = options;
  }

  /** The account's source of signing keys; throws for an account the configuration does not have. */
  of(name: string): CredentialSource {
    const known = this.#sources.get(name);
    if (known) return known;
    const account = this.#accounts[name];
    if (!account) throw new RangeError(`no account named ${name}`);
    const source = this.#make(name, account);
    this.#sources.set(name, source);
    return source;
  }

  #make(name: string, account: AccountConfig): CredentialSource {
    if (account.kind === 'keys') return fixedCredentials(account);
    const sts: StsOptions = {
      endpoint: this.#options.stsEndpoint,
      region: account.stsRegion,
      timeoutMs: this.#options.timeoutMs,
      now: this.#options.now,
    };
    const params = {
      roleArn: account.roleArn,
      sessionName: account.sessionName,
      durationSeconds: account.durationSeconds,
    };
    const renew =
      account.kind === 'role'
        ? async () => {
            const caller = await this.of(account.via).current();
            return assumeRole(sts, caller, { ...params, externalId: account.externalId });
          }
        : async () => {
            const token = (await readFile(account.tokenFile, 'utf8')).trim();
            return assumeRoleWithWebIdentity(sts, {
              ...params,
              providerId: account.providerId,
              webIdentityToken: token,
            });
          };
    return new RenewingCredentials({
      renew,
      renewAt: this.#options.renewAt,
      now: this.#options.now,
      onRenewFailed: (error) => this.#options.onRenewFailed?.(name, error),
    });
  }
}
