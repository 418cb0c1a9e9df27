/**
 * What tells one Tencent service's signed API from another's under the same q-sign signature: the header that
 * carries an STS session token, the header that names the request, and the shape of an error body. The transport is
 * written against this; CI is one dialect, and COS (`x-cos-…`, the same `<Error>` body) would be another.
 */
import { decodeErrorBody, type UpstreamErrorBody } from './responses.js';

export interface ServiceDialect {
  /** Sent unsigned with temporary credentials. */
  readonly sessionTokenHeader: string;
  /** The service's id of the request, for logs and support tickets. */
  readonly requestIdHeader: string;
  /** An error answer's code and message; undefined when the body is not one (a proxy's HTML page, say). */
  decodeError(body: string): UpstreamErrorBody | undefined;
}

export const CI_DIALECT: ServiceDialect = {
  sessionTokenHeader: 'x-ci-security-token',
  requestIdHeader: 'x-ci-request-id',
  decodeError: decodeErrorBody,
};

/** CI's session-token header, for those that check what was sent (the emulator, tests). */
export const SESSION_TOKEN_HEADER = CI_DIALECT.sessionTokenHeader;
