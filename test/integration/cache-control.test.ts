/**
 * `Cache-Control` computed from what each response read: short for pages and unfinished runs, long for finished
 * runs (which never change), `no-store` for errors and mutations, `private` once callers are authenticated.
 */
import { describe, expect, it } from 'vitest';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { CSRF_HEADERS } from '../../src/plugins/csrf.js';
import { CACHE_SECONDS } from '../../src/schema/cache-hints.js';
import { closeAfterEach, startGateway } from '../support/gateway.js';
import { demoExecutions } from '../support/oracle.js';

const track = closeAfterEach();
const finished = demoExecutions().find((execution) => execution.state === 'Success');
const running = demoExecutions().find((execution) => execution.state === 'Running');
const UNKNOWN_RUN_ID = `i${'e'.repeat(32)}`;

async function cacheControlOf(
  gateway: Awaited<ReturnType<typeof startGateway>>['gateway'],
  query: string,
  headers: Record<string, string> = {},
) {
  const url = new URL('http://gateway/graphql');
  url.searchParams.set('query', query);
  const response = await gateway.fetch(url, { headers: { [CSRF_HEADERS[0] as string]: '1', ...headers } });
  const body = (await response.json()) as { errors?: unknown[] };
  return { cacheControl: response.headers.get('cache-control'), errors: body.errors };
}

describe('Cache-Control', () => {
  it('lets a finished run be reused for an hour, a running one for seconds', async () => {
    expect(finished && running).toBeTruthy();
    const { gateway } = track(await startGateway());
    const detail = (runId: string) =>
      `{ workflowExecution(runId: "${runId}") { state tasks { type state } } }`;
    expect(await cacheControlOf(gateway, detail(finished?.runId as string))).toEqual({
      cacheControl: `public, max-age=${CACHE_SECONDS.finishedRun}`,
      errors: undefined,
    });
    expect((await cacheControlOf(gateway, detail(running?.runId as string))).cacheControl).toBe(
      `public, max-age=${CACHE_SECONDS.unfinishedRun}`,
    );
    expect((await cacheControlOf(gateway, detail(UNKNOWN_RUN_ID))).cacheControl).toBe(
      `public, max-age=${CACHE_SECONDS.notFound}`,
    );
  });

  it('takes the shortest of everything read: a finished run with its workflow, a page of runs', async () => {
    const { gateway } = track(await startGateway());
    const withWorkflow = `{ workflowExecution(runId: "${finished?.runId}") { state workflow { name } } }`;
    expect((await cacheControlOf(gateway, withWorkflow)).cacheControl).toBe(
      `public, max-age=${CACHE_SECONDS.workflow}`,
    );
    const page = `{ workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}", states: [SUCCESS] }, first: 3) {
      edges { node { runId tasks { type } } } } }`;
    expect((await cacheControlOf(gateway, page)).cacheControl).toBe(`public, max-age=${CACHE_SECONDS.page}`);
  });

  it('says no-store for any error, a request that read nothing and a mutation, and treats POST like GET', async () => {
    const fixture = track(await startGateway());
    const bad = await cacheControlOf(fixture.gateway, '{ workflowExecution(runId: "nope") { state } }');
    expect(bad.errors).toBeDefined();
    expect(bad.cacheControl).toBe('no-store');
    expect((await cacheControlOf(fixture.gateway, '{ __typename }')).cacheControl).toBe('no-store');
    expect((await cacheControlOf(fixture.gateway, '{ nope }')).cacheControl).toBe('no-store');
    const post = await fixture.gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ workflowExecution(runId: "${finished?.runId}") { state } }` }),
    });
    expect(post.headers.get('cache-control')).toBe(`public, max-age=${CACHE_SECONDS.finishedRun}`);
    const mutation = await fixture.gateway.fetch('http://gateway/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `mutation { triggerWorkflow(input: { workflowId: "${DEMO_WORKFLOW_IDS.large}", objectKey: "a.mp4" }) { runId } }`,
      }),
    });
    expect(((await mutation.json()) as { errors?: unknown }).errors).toBeUndefined();
    expect(mutation.headers.get('cache-control')).toBe('no-store');
  });

  it('is private when callers are authenticated', async () => {
    const secret = 'router-secret-0123456789';
    const { gateway } = track(await startGateway({ gateway: { auth: { routerSecret: secret } } }));
    const detail = `{ workflowExecution(runId: "${finished?.runId}") { state } }`;
    expect((await cacheControlOf(gateway, detail, { 'x-router-secret': secret })).cacheControl).toBe(
      `private, max-age=${CACHE_SECONDS.finishedRun}`,
    );
    expect((await cacheControlOf(gateway, detail)).cacheControl).toBe('no-store');
  });
});
