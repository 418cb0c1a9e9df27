/**
 * TC3-HMAC-SHA256 against Tencent's published example (the API 3.0 signature page's `DescribeInstances` request)
 * and, on generated requests, against the official SDK's signer (`tencentcloud-sdk-nodejs-common`).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalRequest, tc3Authorization, tc3Date } from '../../src/ci/tc3-signer.js';

const require = createRequire(import.meta.url);
const Sign = (
  require('tencentcloud-sdk-nodejs-common/tencentcloud/common/sign.js') as {
    default: {
      sign3(options: {
        method: string;
        url: string;
        payload: Buffer;
        timestamp: number;
        service: string;
        secretId: string;
        secretKey: string;
        multipart: boolean;
        boundary: string;
        headers: Record<string, string>;
      }): string;
    };
  }
).default;

describe('TC3-HMAC-SHA256', () => {
  it('signs the published example as the documentation does', () => {
    const request = {
      host: 'cvm.tencentcloudapi.com',
      contentType: 'application/json; charset=utf-8',
      body: '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}',
    };
    expect(createHash('sha256').update(canonicalRequest(request)).digest('hex')).toBe(
      '5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031',
    );
    expect(
      tc3Authorization(
        { secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******', secretKey: 'Gu5t9xGARNpq86cd98joQYCN3*******' },
        'cvm',
        1551113065,
        request,
      ),
    ).toBe(
      'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, ' +
        'SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c',
    );
  });

  it('scopes a signature to the UTC date of its timestamp', () => {
    expect(tc3Date(1551139199)).toBe('2019-02-25');
    expect(tc3Date(1551139200)).toBe('2019-02-26');
  });

  it('agrees with the official SDK on generated requests', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 40 });
    fc.assert(
      fc.property(
        fc.record({
          secretId: fc.stringMatching(/^AKID[A-Za-z0-9]{8,32}$/),
          secretKey: fc.stringMatching(/^[A-Za-z0-9]{16,40}$/),
          service: fc.constantFrom('sts', 'cvm', 'cam', 'ci'),
          host: fc.constantFrom(
            'sts.tencentcloudapi.com',
            'sts.ap-guangzhou.tencentcloudapi.com',
            '127.0.0.1',
          ),
          timestamp: fc.integer({ min: 1_500_000_000, max: 2_100_000_000 }),
          body: fc
            .dictionary(fc.stringMatching(/^[A-Z][A-Za-z]{1,12}$/), fc.oneof(text, fc.integer()))
            .map((o) => JSON.stringify(o)),
        }),
        ({ secretId, secretKey, service, host, timestamp, body }) => {
          const contentType = 'application/json';
          const ours = tc3Authorization({ secretId, secretKey }, service, timestamp, {
            host,
            contentType,
            body,
          });
          const theirs = Sign.sign3({
            method: 'POST',
            url: `https://${host}/`,
            // Bytes, so the SDK hashes exactly what is sent rather than its own serialisation of an object.
            payload: Buffer.from(body),
            timestamp,
            service,
            secretId,
            secretKey,
            multipart: false,
            boundary: '',
            headers: { 'Content-Type': contentType },
          });
          expect(ours).toBe(theirs);
        },
      ),
      { numRuns: 300 },
    );
  });
});
