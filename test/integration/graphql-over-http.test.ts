/** The GraphQL-over-HTTP spec's audit suite: every MUST holds, so any spec-following client can talk to us. */
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayFixture, startGateway } from '../support/gateway.js';

let fixture: GatewayFixture;

beforeAll(async () => {
  fixture = await startGateway();
});
afterAll(() => fixture.close());

describe('GraphQL over HTTP', () => {
  it('passes every MUST audit', async () => {
    const audits = serverAudits({
      url: 'http://gateway/graphql',
      fetchFn: (input: RequestInfo | URL, init?: RequestInit) =>
        fixture.gateway.fetch(new Request(input, init)),
    });
    expect(audits.length).toBeGreaterThan(40);
    const failures: string[] = [];
    for (const audit of audits) {
      const result = await audit.fn();
      if (result.status === 'error') failures.push(`${audit.name}: ${result.reason}`);
    }
    expect(failures).toEqual([]);
  });
});
