/**
 * Which quota each bucket's calls draw from: its account's (from the bucket file, else `CI_ACCOUNT_CALLS_PER_SECOND`),
 * and its own share of it where the file sets one. One governor per account however many buckets use it, keyed by
 * who the account is (not what this gateway names it), so every replica drawing on the same account shares it.
 */
import type { BucketConfig, QuotaConfig, TenancyConfig } from '../config.js';
import { accountIdentity } from '../tenancy-config.js';
import { AccountGovernor, type AccountGovernorOptions, type GovernorStore } from './governor.js';
import type { QuotaGovernor } from './transport.js';

export function quotaGovernors(
  tenancy: TenancyConfig,
  quota: QuotaConfig,
  store: GovernorStore,
  options: Pick<AccountGovernorOptions, 'now' | 'onRefused'> = {},
): (bucket: BucketConfig) => QuotaGovernor | undefined {
  const governor = (key: string, callsPerSecond: number) =>
    new AccountGovernor({
      account: key,
      callsPerSecond,
      mode: quota.mode,
      store,
      maxWaitMs: quota.maxWaitMs,
      ...options,
    });
  const accounts = new Map<string, AccountGovernor | undefined>();
  const ofAccount = (name: string): AccountGovernor | undefined => {
    if (!accounts.has(name)) {
      const limit = tenancy.accounts[name]?.callsPerSecond ?? quota.callsPerSecond;
      accounts.set(
        name,
        limit === undefined ? undefined : governor(`account:${accountIdentity(tenancy, name)}`, limit),
      );
    }
    return accounts.get(name);
  };
  return (bucket) => {
    const account = ofAccount(bucket.account);
    const own =
      bucket.callsPerSecond === undefined
        ? undefined
        : governor(`bucket:${bucket.bucketId}`, bucket.callsPerSecond);
    if (!own) return account;
    if (!account) return own;
    return {
      // The bucket's own share first: a bucket over it does not take the account's tokens.
      acquire: async (priority, signal) => {
        await own.acquire(priority, signal);
        await account.acquire(priority, signal);
      },
      throttled: async () => {
        await Promise.all([own.throttled(), account.throttled()]);
      },
    };
  };
}
