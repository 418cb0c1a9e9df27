/**
 * A person's first minutes with the gateway: open /graphql in a real browser, run a query in GraphiQL, see
 * executions, and page on. Every request to a host other than 127.0.0.1 is blocked, so GraphiQL must work
 * with no internet access.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_WORKFLOW_IDS } from '../../src/emulator/demo-data.js';
import { chromiumAvailable, launchChromium, offlineContext } from '../support/browser.js';
import { type GatewayFixture, startGateway } from '../support/gateway.js';
import { expectedRunIds } from '../support/oracle.js';

describe.skipIf(!chromiumAvailable)('GraphiQL in headless Chromium', () => {
  let fixture: GatewayFixture;
  let server: Server;
  let origin: string;
  let browser: Browser;

  // The emulator's clock, moved by the subscription test; CI's callbacks go to the gateway as in demo mode.
  let nowMs = Date.now();
  const CALLBACK_TOKEN = 'browser-callback-token-0123456789abcdef';

  beforeAll(async () => {
    fixture = await startGateway({
      emulator: { now: () => nowMs },
      gateway: { callbackToken: CALLBACK_TOKEN },
    });
    server = createServer(fixture.gateway);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fixture.emulator.sendCallbacksTo(`${origin}/ci/callback/${CALLBACK_TOKEN}`);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await fixture?.close();
  });

  it('runs a workflowExecutions query against the emulator and shows its results, offline', async () => {
    // Tall enough that the editor renders the whole response: it only draws the lines in view.
    const { context, blocked } = await offlineContext(browser, { width: 1280, height: 1400 });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    const query = `query Page($after: String) {
  workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }, first: 3, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { runId objectKey state } }
  }
}`;
    const runs = expectedRunIds();
    const response = page.locator('.graphiql-response');
    /** Runs the query and waits until the page's last expected run is drawn (pageInfo comes before it). */
    const runQuery = async (lastRun: string) => {
      await page.locator('.graphiql-execute-button').click({ timeout: 20_000 });
      await expect.poll(() => response.textContent(), { timeout: 20_000 }).toContain(lastRun);
      return (await response.textContent()) ?? '';
    };

    await page.goto(`${origin}/graphql?${new URLSearchParams({ query })}`);
    const first = await runQuery(runs[2] as string);
    expect(first).toContain(runs[0]);
    expect(first).toContain(runs[1]);
    expect(first).toMatch(/"hasNextPage":\s*true/);
    await page.screenshot({ path: 'test-results/graphiql.png' });

    // The next page, as a person gets it: the end cursor from the response typed into the variables editor.
    // (The response pane wraps long strings; a cursor never holds white space.)
    const endCursor = /"endCursor":\s*"(v2\.[^"]+)"/.exec(first)?.[1]?.replace(/\s+/g, '');
    expect(endCursor).toMatch(/^v2\./);
    await page.locator('.graphiql-editor-tool .monaco-editor').first().click(); // variables, then headers
    await page.keyboard.insertText(JSON.stringify({ after: endCursor }));
    const second = await runQuery(runs[5] as string);
    expect(second).toContain(runs[3]);
    expect(second).toContain(runs[4]);
    expect(second).not.toContain(runs[2]);
    await page.screenshot({ path: 'test-results/graphiql-next-page.png' });

    expect(pageErrors).toEqual([]);
    expect(
      fixture.emulator.requests.some((r) => r.path === '/workflowexecution' && r.signatureVerified),
    ).toBe(true);
    // GraphiQL asked no other host for anything: no CDN scripts, styles or fonts.
    expect(blocked).toEqual([]);
    await context.close();
  });

  it('offers a trigger in its default document, and a run triggered from it shows at the top of the list', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1400 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const response = page.locator('.graphiql-response');

    await page.goto(`${origin}/graphql`);
    // The editor draws spaces as no-break spaces.
    const editorText = async () =>
      ((await page.locator('.graphiql-editors').textContent()) ?? '').replace(/\u00a0/g, ' ');
    await expect.poll(editorText, { timeout: 20_000 }).toContain('mutation TriggerRun');

    const trigger = `mutation { triggerWorkflow(input: { workflowId: "${DEMO_WORKFLOW_IDS.large}", objectKey: "uploads/from graphiql.mp4" }) { runId execution { state } } }`;
    await page.goto(`${origin}/graphql?${new URLSearchParams({ query: trigger })}`);
    await page.locator('.graphiql-execute-button').click({ timeout: 20_000 });
    await expect
      .poll(() => response.textContent(), { timeout: 20_000 })
      .toMatch(/"runId":\s*"i[0-9a-f]{32}"/);
    const triggered = (await response.textContent()) ?? '';
    const runId = /"runId":\s*"(i[0-9a-f]{32})"/.exec(triggered)?.[1] as string;
    expect(triggered).toMatch(/"state":\s*"RUNNING"/);

    const list = `{ workflowExecutions(filter: { workflowId: "${DEMO_WORKFLOW_IDS.large}" }, first: 1) { edges { node { runId objectKey state } } } }`;
    await page.goto(`${origin}/graphql?${new URLSearchParams({ query: list })}`);
    await page.locator('.graphiql-execute-button').click({ timeout: 20_000 });
    await expect.poll(() => response.textContent(), { timeout: 20_000 }).toContain(runId);
    expect(((await response.textContent()) ?? '').replace(/\u00a0/g, ' ')).toContain(
      'uploads/from graphiql.mp4',
    );
    await page.screenshot({ path: 'test-results/graphiql-triggered.png' });
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('shows a subscribed run finish by itself', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1400 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const response = page.locator('.graphiql-response');
    const text = async () => ((await response.textContent()) ?? '').replace(/\u00a0/g, ' ');

    const triggered = await fixture.query<{ triggerWorkflow: { runId: string } }>(
      `mutation { triggerWorkflow(input: { workflowId: "${DEMO_WORKFLOW_IDS.large}", objectKey: "uploads/live.mp4" }) { runId } }`,
    );
    const runId = triggered.data?.triggerWorkflow.runId as string;
    const subscription = `subscription { workflowExecutionUpdated(runId: "${runId}") { runId state tasks { type state } } }`;
    await page.goto(`${origin}/graphql?${new URLSearchParams({ query: subscription })}`);
    await page.locator('.graphiql-execute-button').click({ timeout: 20_000 });
    await expect.poll(text, { timeout: 20_000 }).toMatch(/"state":\s*"RUNNING"/);

    // CI finishes the run and calls back; the open subscription shows it with no further click.
    nowMs += 21_000;
    await expect.poll(text, { timeout: 20_000 }).toMatch(/"state":\s*"SUCCESS"/);
    expect(await text()).toContain(runId);
    await page.screenshot({ path: 'test-results/graphiql-subscription.png' });
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});
