/**
 * Differential test: our signer against the official Node SDK (`cos-nodejs-sdk-v5`), an independent
 * implementation known to work with the live service, on generated requests.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signRequest } from '../../src/ci/signer.js';

const require = createRequire(import.meta.url);
const COS = require('cos-nodejs-sdk-v5') as {
  getAuthorization(options: {
    SecretId: string;
    SecretKey: string;
    Method: string;
    Pathname: string;
    Query: Record<string, string>;
    Headers: Record<string, string>;
    KeyTime: string;
  }): string;
};

// Characters that stress the canonicalisation: reserved and sub-delims, percent, plus, space, CJK, accents,
// an emoji (a surrogate pair) and mixed case.
const tricky = fc.constantFrom(
  ...' !"#$%&\'()*+,/:;<=>?@[\\]^`{|}~-_.',
  'é',
  'Ü',
  '腾',
  '讯',
  '云',
  '测',
  '😀',
  'ß',
  '\u00a0',
);
const text = (maxLength: number) =>
  fc
    .array(fc.oneof(tricky, fc.string({ minLength: 1, maxLength: 1 }), fc.constantFrom('A', 'z', '0')), {
      maxLength,
    })
    .map((chars) => chars.join(''));
// The SDK takes an object, so keys are unique and must not collide with Object.prototype members it calls.
const objectSafeKey = (s: string) => !['__proto__', 'constructor', 'hasOwnProperty', 'prototype'].includes(s);

const signedHeaderNames = [
  'host',
  'Host',
  'content-type',
  'Content-Length',
  'x-ci-security-token',
  'x-cos-meta-Ünï',
];

const requestArbitrary = fc.record({
  method: fc.constantFrom('GET', 'get', 'PUT', 'POST', 'Delete', 'HEAD'),
  path: fc.array(text(8), { minLength: 1, maxLength: 4 }).map((segments) => `/${segments.join('/')}`),
  query: fc.uniqueArray(fc.tuple(text(10).filter(objectSafeKey), fc.oneof(fc.constant(''), text(16))), {
    maxLength: 12,
    selector: ([key]) => key,
  }),
  extraHeaders: fc.uniqueArray(fc.tuple(fc.constantFrom(...signedHeaderNames.slice(2)), text(12)), {
    maxLength: 3,
    selector: ([name]) => name.toLowerCase(),
  }),
  host: fc.constantFrom(
    'examplebucket-1250000000.ci.ap-guangzhou.myqcloud.com',
    'demo-1250000000.ci.ap-beijing.myqcloud.com',
    '127.0.0.1:9100',
  ),
  keyTimeStart: fc.integer({ min: 1_500_000_000, max: 2_000_000_000 }),
  ttl: fc.integer({ min: 1, max: 86_400 }),
  secretId: fc.stringMatching(/^AKID[A-Za-z0-9]{32}$/),
  secretKey: fc.stringMatching(/^[A-Za-z0-9]{32}$/),
});

describe('signer vs the official SDK', () => {
  it('produces identical Authorization strings for 300 generated requests', () => {
    let compared = 0;
    fc.assert(
      fc.property(requestArbitrary, (request) => {
        const keyTime = `${request.keyTimeStart};${request.keyTimeStart + request.ttl}`;
        const headers: Array<[string, string]> = [['host', request.host], ...request.extraHeaders];
        const ours = signRequest(
          { method: request.method, path: request.path, query: request.query, headers },
          { secretId: request.secretId, secretKey: request.secretKey },
          keyTime,
        ).authorization;
        const theirs = COS.getAuthorization({
          SecretId: request.secretId,
          SecretKey: request.secretKey,
          Method: request.method,
          Pathname: request.path,
          Query: Object.fromEntries(request.query),
          Headers: Object.fromEntries(headers),
          KeyTime: keyTime,
        });
        compared += 1;
        expect(ours).toBe(theirs);
      }),
      { numRuns: 300, seed: 20_261_128 },
    );
    expect(compared).toBe(300);
  });

  it('covers the cases the generator is meant to reach', () => {
    // Guards the generator itself: if it stopped producing these, the test above would prove less.
    const samples = fc.sample(requestArbitrary, { numRuns: 300, seed: 20_261_128 });
    const has = (predicate: (r: (typeof samples)[number]) => boolean) => samples.filter(predicate).length;
    expect(has((r) => /\P{ASCII}/u.test(r.path))).toBeGreaterThan(20);
    expect(has((r) => r.query.some(([k]) => /\P{ASCII}/u.test(k)))).toBeGreaterThan(20);
    expect(has((r) => r.query.some(([k]) => /[:;=?@&+/]/.test(k)))).toBeGreaterThan(20);
    expect(has((r) => r.query.some(([k]) => k !== k.toLowerCase()))).toBeGreaterThan(20);
    expect(has((r) => r.query.some(([, v]) => v === ''))).toBeGreaterThan(20);
    expect(has((r) => r.query.length >= 8)).toBeGreaterThan(20);
    expect(new Set(samples.map((r) => r.method)).size).toBe(6);
  });
});
