/**
 * Readiness: the upstream is configured and answers a signed call, for at least one bucket (one tenant's broken
 * account must not take the replica away from every other tenant; its failures are logged, bucket by bucket). Probes from a load balancer arrive every few
 * seconds per replica, so one answer is reused for a short while instead of calling CI each time.
 */
import type { CiClient } from '../ci/client.js';
import type { Logger } from '../telemetry/logger.js';

const CACHE_MS = 5_000;
const PROBE_TIMEOUT_MS = 3_000;

export function createReadinessProbe(
  clients: ReadonlyArray<Pick<CiClient, 'ping' | 'bucketId'>>,
  logger: Logger,
  isDraining: () => boolean,
  now: () => number = Date.now,
): () => Promise<boolean> {
  let cached: { at: number; ready: boolean } | undefined;
  let inFlight: Promise<boolean> | undefined;

  const ping = async (ci: Pick<CiClient, 'ping' | 'bucketId'>): Promise<boolean> => {
    try {
      await ci.ping({ signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      return true;
    } catch (error) {
      logger.warn(
        { bucket: ci.bucketId, reason: error instanceof Error ? error.message : String(error) },
        'readiness probe failed',
      );
      return false;
    }
  };
  const probe = async (): Promise<boolean> => (await Promise.all(clients.map(ping))).some(Boolean);

  return async () => {
    // A draining replica reports not-ready so the load balancer stops sending it new requests.
    if (isDraining()) return false;
    if (cached && now() - cached.at < CACHE_MS) return cached.ready;
    inFlight ??= probe().then((ready) => {
      cached = { at: now(), ready };
      inFlight = undefined;
      return ready;
    });
    return inFlight;
  };
}
