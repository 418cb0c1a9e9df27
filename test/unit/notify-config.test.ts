/** Telling an operator where CI's callbacks go without showing the secrets in their URLs. */
import { describe, expect, it } from 'vitest';
import type { NotifyConfig } from '../../src/ci/types.js';
import { callbackUrlCheck } from '../../src/plugins/ci-callbacks.js';
import { callbacksReachGateway, maskUrl } from '../../src/schema/notify-config.js';

const TOKEN = 'gateway-callback-token-0123456789abcdef';
const BUCKET = 'demo-1250000000';

describe('maskUrl', () => {
  it('hides tokens in the path, query values, user info and the fragment, and keeps the rest', () => {
    expect(maskUrl(`https://ci.example.com/ci/callback/${TOKEN}`)).toBe(
      'https://ci.example.com/ci/callback/****',
    );
    expect(maskUrl('https://user:pass@hooks.example.com/notify?key=abc&sig=def#frag')).toBe(
      'https://****@hooks.example.com/notify?key=****&sig=****',
    );
    expect(maskUrl('http://10.0.0.1:8080/short/path')).toBe('http://10.0.0.1:8080/short/path');
    expect(maskUrl('not a url')).toBe('****');
  });
});

describe('callbacksReachGateway', () => {
  const config = (overrides: Partial<NotifyConfig> = {}): NotifyConfig => ({
    enabled: true,
    type: 'Url',
    url: `https://ci-gateway.example.com/ci/callback/${TOKEN}`,
    events: ['TaskFinish', 'WorkflowFinish'],
    resultFormat: 'XML',
    queueName: undefined,
    ...overrides,
  });
  const here = callbackUrlCheck(() => 'https://ci-gateway.example.com', TOKEN, BUCKET);

  it('is true only for an enabled URL callback, for useful events, to this gateway with its token', () => {
    expect(callbacksReachGateway(config(), BUCKET, here)).toBe(true);
    expect(callbacksReachGateway(config({ events: [] }), BUCKET, here)).toBe(true);
    expect(callbacksReachGateway(undefined, BUCKET, here)).toBe(false);
    expect(callbacksReachGateway(config({ enabled: false }), BUCKET, here)).toBe(false);
    expect(callbacksReachGateway(config({ type: 'TDMQ' }), BUCKET, here)).toBe(false);
    expect(callbacksReachGateway(config({ events: ['Other'] }), BUCKET, here)).toBe(false);
    expect(
      callbacksReachGateway(
        config({ url: 'https://ci-gateway.example.com/ci/callback/wrong-token' }),
        BUCKET,
        here,
      ),
    ).toBe(false);
    expect(
      callbacksReachGateway(
        config({ url: `https://elsewhere.example.com/ci/callback/${TOKEN}` }),
        BUCKET,
        here,
      ),
    ).toBe(false);
  });

  it('names the bucket in the path; only the default bucket may leave it out', () => {
    const base = 'https://ci-gateway.example.com/ci/callback';
    const perBucket = callbackUrlCheck(() => 'https://ci-gateway.example.com', TOKEN, undefined);
    const check = (url: string, bucketId: string) =>
      callbacksReachGateway(config({ url }), bucketId, perBucket);
    expect(check(`${base}/${TOKEN}/partner-1300000000`, 'partner-1300000000')).toBe(true);
    // A workflow of one bucket whose callbacks name another would hint runs to the wrong bucket.
    expect(check(`${base}/${TOKEN}/partner-1300000000`, BUCKET)).toBe(false);
    // Without a default bucket, a path without one leads nowhere.
    expect(check(`${base}/${TOKEN}`, BUCKET)).toBe(false);
    expect(callbacksReachGateway(config({ url: `${base}/${TOKEN}` }), BUCKET, here)).toBe(true);
    expect(check(`${base}/${TOKEN}/partner-1300000000/extra`, 'partner-1300000000')).toBe(false);
  });

  it('honours a path prefix in the public base URL, and cannot tell without a base URL or a token', () => {
    const behindPrefix = callbackUrlCheck(() => 'https://api.example.com/media/', TOKEN, BUCKET);
    expect(
      callbacksReachGateway(
        config({ url: `https://api.example.com/media/ci/callback/${TOKEN}` }),
        BUCKET,
        behindPrefix,
      ),
    ).toBe(true);
    expect(
      callbacksReachGateway(
        config({ url: `https://api.example.com/ci/callback/${TOKEN}` }),
        BUCKET,
        behindPrefix,
      ),
    ).toBe(false);
    expect(
      callbacksReachGateway(
        config(),
        BUCKET,
        callbackUrlCheck(() => undefined, TOKEN, BUCKET),
      ),
    ).toBeNull();
    expect(
      callbacksReachGateway(
        config(),
        BUCKET,
        callbackUrlCheck(() => 'https://ci-gateway.example.com', undefined, BUCKET),
      ),
    ).toBeNull();
    expect(
      callbacksReachGateway(
        config({ enabled: false }),
        BUCKET,
        callbackUrlCheck(() => undefined, TOKEN, BUCKET),
      ),
    ).toBe(false);
  });
});
