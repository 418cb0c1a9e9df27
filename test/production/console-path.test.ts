/**
 * The console as the image ships it: `dist/console` beside the bundle, served by the bundle itself. Off in
 * production until asked for; in the demo (`npm start` on a laptop), driven in headless Chromium with every
 * request to another host blocked, where a run started from it finishes by itself.
 */
import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CiEmulator, createCiEmulator } from '../../src/emulator/server.js';
import { chromiumAvailable, launchChromium, offlineContext } from '../support/browser.js';
import { expectedRunIds } from '../support/oracle.js';
import { emulatorUpstream, spawnBundle } from '../support/processes.js';

const root = new URL('../..', import.meta.url).pathname;
const ROUTER_SECRET = 'router-secret-for-the-console-test';

let folder: string;
let emulator: CiEmulator;

beforeAll(async () => {
  folder = inject('bundleFolder');
  emulator = createCiEmulator();
  await emulator.listen(0);
});
afterAll(() => emulator?.close());

describe('the console in the image', () => {
  it('is off in production unless CONSOLE=true, and then served from the image’s dist/console', async () => {
    const env = { ...emulatorUpstream(emulator.url), ROUTER_SECRET, SHUTDOWN_DELAY_MS: '0' };
    const off = await spawnBundle(root, folder, env);
    try {
      expect((await fetch(`${off.url}/console`)).status).toBe(404);
    } finally {
      off.child.kill('SIGTERM');
      await off.exited;
    }
    const on = await spawnBundle(root, folder, { ...env, CONSOLE: 'true' });
    try {
      const page = await fetch(`${on.url}/console`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
      const html = await page.text();
      const script = /src="(\/console\/assets\/main-\w+\.js)"/.exec(html)?.[1];
      const stylesheet = /href="(\/console\/assets\/main-\w+\.css)"/.exec(html)?.[1];
      for (const asset of [script, stylesheet]) {
        const response = await fetch(`${on.url}${asset}`);
        expect(response.status, asset).toBe(200);
        expect(response.headers.get('cache-control')).toContain('immutable');
      }
    } finally {
      on.child.kill('SIGTERM');
      await on.exited;
    }
  });
});

describe.skipIf(!chromiumAvailable)('the console in the demo the bundle starts (npm start)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());

  it('lists the workflows of every demo bucket and the demo’s runs, and shows a run it started finish by itself', async () => {
    const gateway = await spawnBundle(root, folder, { NODE_ENV: 'development', SHUTDOWN_DELAY_MS: '0' });
    try {
      const { context, blocked } = await offlineContext(browser);
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      const textOf = async (locator: Locator) => (await locator.allTextContents()).join('');

      await page.goto(`${gateway.url}/console`);
      const picker = page.getByLabel('Workflow', { exact: true });
      await expect.poll(() => picker.locator('option').count(), { timeout: 20_000 }).toBeGreaterThan(3);
      // Every bucket the demo serves (three, in two regions and two accounts), each with its workflows.
      const answer = await fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: '{ buckets { bucketId isDefault workflows { edges { node { name } } } } }',
        }),
      });
      const { data } = (await answer.json()) as {
        data: {
          buckets: Array<{
            bucketId: string;
            isDefault: boolean;
            workflows: { edges: Array<{ node: { name: string } }> };
          }>;
        };
      };
      expect(data.buckets.length).toBe(3);
      expect(
        await picker
          .locator('optgroup')
          .evaluateAll((groups) => groups.map((group) => group.getAttribute('label'))),
      ).toEqual(data.buckets.map((bucket) => `${bucket.bucketId}${bucket.isDefault ? ' (default)' : ''}`));
      expect(await picker.locator('option:not([disabled])').count()).toBe(
        data.buckets.reduce((sum, bucket) => sum + bucket.workflows.edges.length, 0),
      );
      await picker.selectOption({ label: 'transcode-and-snapshot · w5f1e0c8a9b2d4e6f8a0b1c2d3e4f5a6b' });
      const rows = page.locator('section.executions tbody tr[data-run-id]');
      await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(20);
      const shown = () => rows.evaluateAll((found) => found.map((row) => row.getAttribute('data-run-id')));
      expect(await shown()).toEqual(expectedRunIds().slice(0, 20));

      await page.getByLabel('Object key').fill('uploads/from the image.mp4');
      await page.getByRole('button', { name: 'Trigger' }).click();
      const outcome = page.locator('form .outcome.ok');
      await expect.poll(() => textOf(outcome), { timeout: 20_000 }).toMatch(/^Run started: i[0-9a-f]{32}\.$/);
      const runId = /(i[0-9a-f]{32})/.exec(await textOf(outcome))?.[1] as string;
      const state = page.locator(`tr[data-run-id="${runId}"] .state`);
      expect(await textOf(state)).toBe('RUNNING');
      // The demo's emulator runs it for real (about 20 s), then calls the gateway back.
      await expect.poll(() => textOf(state), { timeout: 60_000, interval: 500 }).toBe('SUCCESS');

      expect(pageErrors).toEqual([]);
      expect(blocked).toEqual([]);
      await context.close();
    } finally {
      gateway.child.kill('SIGTERM');
      await gateway.exited;
    }
  }, 120_000);
});
