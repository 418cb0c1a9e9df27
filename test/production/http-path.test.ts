/**
 * The shipped bundle on the plain HTTP path, in production mode with JWT authentication: a whole walk of the large
 * demo workflow with changing page sizes, bad input and upstream failures mapped to their codes, and the caller
 * checks (missing token, wrong scope, an issuer that fails). The integration suites check the same against the
 * source; this proves the bundle behaves alike.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { type CiEmulator, createCiEmulator, faults } from '../../src/emulator/server.js';
import {
  AUDIENCE,
  type IdentityProvider,
  ISSUER,
  type SigningKey,
  signingKey,
  startIdentityProvider,
  token,
} from '../support/jwks.js';
import { expectedRunIds } from '../support/oracle.js';
import { emulatorUpstream, type RunningGateway, spawnBundle } from '../support/processes.js';

const root = new URL('../..', import.meta.url).pathname;
const LARGE = DEMO_WORKFLOW_IDS.large;

let emulator: CiEmulator;
let idp: IdentityProvider;
let key: SigningKey;
let gateway: RunningGateway;
let reader: Record<string, string>;

beforeAll(async () => {
  emulator = createCiEmulator();
  await emulator.listen(0);
  key = await signingKey('bundle-key', 'ES256');
  idp = await startIdentityProvider([key]);
  reader = { authorization: `Bearer ${await token(key)}` };
  gateway = await spawnBundle(root, inject('bundleFolder'), {
    ...emulatorUpstream(emulator.url),
    AUTH_JWKS_URL: idp.jwksUrl,
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    CI_TIMEOUT_MS: '500',
    SHUTDOWN_DELAY_MS: '0',
  });
});

afterAll(async () => {
  gateway?.child.kill('SIGKILL');
  await idp?.close();
  await emulator?.close();
});

interface Answer {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

async function ask(query: string, variables: object = {}, headers = reader): Promise<Answer> {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as object) };
}

const PAGE = `query Page($first: Int!, $after: String) {
  workflowExecutions(filter: { workflowId: "${LARGE}" }, first: $first, after: $after) {
    edges { node { runId } }
    pageInfo { hasNextPage endCursor }
  }
}`;
type Page = {
  workflowExecutions: {
    edges: Array<{ node: { runId: string } }>;
    pageInfo: { hasNextPage: boolean; endCursor: string };
  };
};

describe('the bundle on the HTTP path', () => {
  // First, while the gateway has not fetched the issuer's keys yet.
  it('checks its callers: an issuer that fails 503, no token 401, a token without the scope FORBIDDEN', async () => {
    idp.failure = { status: 500, body: 'down' };
    try {
      const unavailable = await ask(PAGE, { first: 1 });
      expect(unavailable.status).toBe(503);
      expect(unavailable.errors?.[0]?.extensions?.code).toBe('AUTH_UNAVAILABLE');
    } finally {
      idp.failure = undefined;
    }
    const none = await ask(PAGE, { first: 1 }, {});
    expect(none.status).toBe(401);
    expect(none.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const profileOnly = { authorization: `Bearer ${await token(key, { claims: { scope: 'profile' } })}` };
    const forbidden = await ask(PAGE, { first: 1 }, profileOnly);
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('walks every run once, in order, whatever page sizes the client asks for', async () => {
    const sizes = [7, 100, 3, 64, 51];
    const seen: string[] = [];
    let after: string | null = null;
    for (let step = 0; ; step += 1) {
      const answer = await ask(PAGE, { first: sizes[step % sizes.length], after });
      expect(answer.errors).toBeUndefined();
      const page = (answer.data as Page).workflowExecutions;
      seen.push(...page.edges.map((edge) => edge.node.runId));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(expectedRunIds());
  });

  it('answers bad input and upstream failures with their stable codes, and an edited cursor is refused', async () => {
    const first = (await ask(PAGE, { first: 2 })).data as Page;
    const cursor = first.workflowExecutions.pageInfo.endCursor;
    const edited = `${cursor.slice(0, -2)}${cursor.endsWith('A') ? 'B' : 'A'}`;
    const codeOf = (answer: Answer) => answer.errors?.[0]?.extensions?.code;
    emulator.clearRequests();
    expect(codeOf(await ask(PAGE, { first: 2, after: edited }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await ask(PAGE, { first: 0 }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await ask(`{ workflowExecution(runId: "../etc") { state } }`))).toBe('BAD_USER_INPUT');
    expect(emulator.requests).toHaveLength(0);
    expect(await ask(`{ workflowExecution(runId: "i${'e'.repeat(32)}") { state } }`)).toMatchObject({
      data: { workflowExecution: null },
    });
    for (const [fault, code] of [
      [faults.unavailable(), 'UPSTREAM_UNAVAILABLE'],
      [faults.throttled(), 'UPSTREAM_THROTTLED'],
      [faults.malformed(), 'UPSTREAM_BAD_RESPONSE'],
      [faults.hang(), 'UPSTREAM_TIMEOUT'],
    ] as const) {
      emulator.script(fault, 10, '/workflowexecution');
      expect(codeOf(await ask(PAGE, { first: 2 }))).toBe(code);
      emulator.clearScript();
    }
  });
});
