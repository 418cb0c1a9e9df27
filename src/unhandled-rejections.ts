/**
 * A promise rejection nobody handled is a bug: it is logged as an error with the id of the request it happened
 * for (the request scope survives into Node's `unhandledRejection` event), and the process keeps serving.
 */

import { currentRequestId } from './request-context.js';
import type { Logger } from './telemetry/logger.js';

export function logUnhandledRejections(logger: Logger): (reason: unknown) => void {
  return (reason) => {
    logger.error({ requestId: currentRequestId(), err: reason }, 'unhandled promise rejection');
  };
}
