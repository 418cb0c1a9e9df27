/**
 * The two most common clients against a gateway configured as in production, requiring a bearer token, with the
 * one line of configuration each needs for it (the token's header): every page, a mutation, a run followed to
 * completion. Without the token, the same requests are refused.
 */
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { Client, cacheExchange, fetchExchange } from '@urql/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIENCE,
  type IdentityProvider,
  ISSUER,
  signingKey,
  startIdentityProvider,
  token,
} from '../support/jwks.js';
import { apolloAdapter, urqlAdapter } from './adapters.js';
import { type CompatGateway, PAGE, startCompatGateway, triggerAndFollow, walkEveryPage } from './scenario.js';

let idp: IdentityProvider;
let gateway: CompatGateway;
let authorization: string;

beforeAll(async () => {
  const key = await signingKey('compat-key', 'ES256');
  idp = await startIdentityProvider([key]);
  gateway = await startCompatGateway({ jwt: { jwksUrl: idp.jwksUrl, issuer: ISSUER, audience: AUDIENCE } });
  authorization = `Bearer ${await token(key, {
    claims: { scope: 'ci.workflows.read ci.workflows.write' },
    expiresIn: 3_600,
  })}`;
});
afterAll(async () => {
  await gateway?.close();
  await idp?.close();
});

const apollo = (headers: Record<string, string>) =>
  apolloAdapter(
    new ApolloClient({ link: new HttpLink({ uri: gateway.url, headers }), cache: new InMemoryCache() }),
  );

const urql = (headers: Record<string, string>) =>
  urqlAdapter(
    new Client({
      url: gateway.url,
      exchanges: [cacheExchange, fetchExchange],
      fetchSubscriptions: true,
      fetchOptions: { headers },
    }),
  );

describe.each([
  ['Apollo Client 4', apollo],
  ['urql 6', urql],
])('%s against a gateway requiring a bearer token', (_name, make) => {
  it('walks every page, runs a mutation and follows the run it started, with the token', async () => {
    const client = make({ authorization });
    await walkEveryPage(gateway, client, { authorization });
    await triggerAndFollow(gateway, client, `compat/auth-${_name.split(' ')[0]}.mp4`);
  });

  it('is refused without it', async () => {
    await expect(make({}).query(PAGE, { after: null })).rejects.toThrow(/bearer token|401|UNAUTHENTICATED/i);
  });
});
