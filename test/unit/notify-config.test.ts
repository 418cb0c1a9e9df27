/** Telling an operator where CI's callbacks go without showing the secrets in their URLs. */
import { describe, expect, it } from 'vitest';
import type { NotifyConfig } from '../../src/ci/types.js';
import { callbackUrlCheck } from '../../src/plugins/ci-callbacks.js';
import { callbacksReachGateway, maskUrl } from '../../src/schema/notify-config.js';

const TOKEN = 'gateway-callback-token-0123456789abcdef';

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
  const here = callbackUrlCheck(() => 'https://ci-gateway.example.com', TOKEN);

  it('is true only for an enabled URL callback, for useful events, to this gateway with its token', () => {
    expect(callbacksReachGateway(config(), here)).toBe(true);
    expect(callbacksReachGateway(config({ events: [] }), here)).toBe(true);
    expect(callbacksReachGateway(undefined, here)).toBe(false);
    expect(callbacksReachGateway(config({ enabled: false }), here)).toBe(false);
    expect(callbacksReachGateway(config({ type: 'TDMQ' }), here)).toBe(false);
    expect(callbacksReachGateway(config({ events: ['Other'] }), here)).toBe(false);
    expect(
      callbacksReachGateway(config({ url: 'https://ci-gateway.example.com/ci/callback/wrong-token' }), here),
    ).toBe(false);
    expect(
      callbacksReachGateway(config({ url: `https://elsewhere.example.com/ci/callback/${TOKEN}` }), here),
    ).toBe(false);
  });

  it('honours a path prefix in the public base URL, and cannot tell without a base URL or a token', () => {
    const behindPrefix = callbackUrlCheck(() => 'https://api.example.com/media/', TOKEN);
    expect(
      callbacksReachGateway(
        config({ url: `https://api.example.com/media/ci/callback/${TOKEN}` }),
        behindPrefix,
      ),
    ).toBe(true);
    expect(
      callbacksReachGateway(config({ url: `https://api.example.com/ci/callback/${TOKEN}` }), behindPrefix),
    ).toBe(false);
    expect(
      callbacksReachGateway(
        config(),
        callbackUrlCheck(() => undefined, TOKEN),
      ),
    ).toBeNull();
    expect(
      callbacksReachGateway(
        config(),
        callbackUrlCheck(() => 'https://ci-gateway.example.com', undefined),
      ),
    ).toBeNull();
    expect(
      callbacksReachGateway(
        config({ enabled: false }),
        callbackUrlCheck(() => undefined, TOKEN),
      ),
    ).toBe(false);
  });
});
