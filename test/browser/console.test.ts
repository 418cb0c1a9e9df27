/**
 * The operations console in headless Chromium, as its users drive it, against the demo data: the page and its
 * assets as `npm run build` makes them, every request to another host blocked (it must work offline). Each step
 * is photographed into a temporary folder (or `CONSOLE_SCREENSHOTS_DIR`, which `npm run docs:screenshot` sets).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../scripts/build-console.js';
import { LARGE_WORKFLOW_EXECUTION_COUNT } from '../../src/emulator/demo-data.js';
import { faults } from '../../src/emulator/server.js';
import { chromiumAvailable, launchChromium, offlineContext } from '../support/browser.js';
import { type GatewayFixture, startGateway } from '../support/gateway.js';
import { expectedRunIds } from '../support/oracle.js';

const RUN_ID = /^i[0-9a-f]{32}$/;

describe.skipIf(!chromiumAvailable)('the operations console in headless Chromium', () => {
  let fixture: GatewayFixture;
  let server: Server;
  let origin: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let built: string;
  let screenshots: string;
  let blocked: string[] = [];
  const pageErrors: string[] = [];

  // The emulator's clock, moved by the tests to finish runs; it starts behind the wall clock so that runs the
  // tests start lie inside the statistics' default window (the last 24 hours up to now).
  let nowMs = Date.now() - 10 * 60_000;
  const CALLBACK_TOKEN = 'console-callback-token-0123456789abcdef';

  const shot = (name: string) => page.screenshot({ path: join(screenshots, `${name}.png`) });
  const rowOf = (runId: string) => page.locator(`tr[data-run-id="${runId}"]`);
  /** The text of what `locator` finds now, without waiting for it to appear (polls ask again). */
  const textOf = async (locator: Locator) => (await locator.allTextContents()).join('');
  const rows = () => page.locator('section.executions tbody tr');
  /** Triggers the large workflow on `objectKey` from the form; the id of the run it started. */
  const triggerFromForm = async (objectKey: string) => {
    const outcome = page.locator('form .outcome');
    const before = await outcome.first().textContent();
    await page.getByLabel('Object key').fill(objectKey);
    await page.getByRole('button', { name: 'Trigger' }).click();
    // Past "Sending…": what became of this attempt.
    const settled = async () => {
      const text = (await outcome.first().textContent()) ?? '';
      return text !== before && !text.startsWith('Sending') ? text : undefined;
    };
    await expect.poll(settled, { timeout: 20_000 }).toBeDefined();
    const text = (await settled()) ?? '';
    expect(text).toMatch(/^Run started: i[0-9a-f]{32}\.$/);
    return /(i[0-9a-f]{32})/.exec(text)?.[1] as string;
  };
  const shownRunIds = () =>
    page
      .locator('tbody tr[data-run-id]')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-run-id')));

  beforeAll(async () => {
    built = await mkdtemp(join(tmpdir(), 'console-build-'));
    screenshots =
      process.env['CONSOLE_SCREENSHOTS_DIR'] ?? (await mkdtemp(join(tmpdir(), 'console-screens-')));
    await buildConsole(built);
    fixture = await startGateway({
      emulator: { now: () => nowMs },
      pollIntervalMs: 1_000,
      gateway: { callbackToken: CALLBACK_TOKEN, console: { directory: built } },
    });
    server = createServer(fixture.gateway);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    fixture.emulator.sendCallbacksTo(`${origin}/ci/callback/${CALLBACK_TOKEN}`);
    browser = await launchChromium();
    ({ context, blocked } = await offlineContext(browser));
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await fixture?.close();
    if (built) await rm(built, { recursive: true, force: true });
  });

  it('opens offline, lists the bucket’s workflows, and labels every control', async () => {
    const response = await page.goto(`${origin}/console`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("connect-src 'self'");
    const picker = page.getByLabel('Workflow', { exact: true });
    await expect.poll(() => picker.locator('option').count(), { timeout: 20_000 }).toBeGreaterThan(3);
    expect(await picker.locator('optgroup').getAttribute('label')).toBe('demo-1250000000 (default)');

    // Chosen with the keyboard alone.
    await picker.focus();
    await picker.press('ArrowDown');
    await expect.poll(() => picker.inputValue()).not.toBe('');
    await expect
      .poll(() => page.getByRole('heading', { name: 'transcode-and-snapshot' }).isVisible())
      .toBe(true);
    await expect.poll(() => rows().count(), { timeout: 20_000 }).toBe(20);
    expect(await shownRunIds()).toEqual(expectedRunIds().slice(0, 20));

    // Every control has a name a screen reader reads out.
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('button, input, select')]
        .filter((control) => {
          const labelled = 'labels' in control && (control as HTMLInputElement).labels?.length;
          return !labelled && !control.getAttribute('aria-label') && !control.textContent?.trim();
        })
        .map((control) => control.outerHTML),
    );
    expect(unnamed).toEqual([]);
    await shot('01-workflow');
  });

  it('shows a triggered run at once, and its success by itself', async () => {
    const runId = await triggerFromForm('uploads/from the console.mp4');
    const row = rowOf(runId);
    await expect.poll(() => textOf(row.locator('.state')), { timeout: 20_000 }).toBe('RUNNING');
    expect((await shownRunIds())[0]).toBe(runId);
    await shot('02-triggered');

    // CI finishes the run and calls back: the row changes with no click.
    nowMs += 21_000;
    await expect.poll(() => textOf(row.locator('.state')), { timeout: 20_000 }).toBe('SUCCESS');
    await shot('03-succeeded');
  });

  it('puts a failing run among the top failure reasons', async () => {
    const runId = await triggerFromForm('fail/console clip.mp4');
    nowMs += 21_000;
    await expect.poll(() => textOf(rowOf(runId).locator('.state')), { timeout: 20_000 }).toBe('FAILED');

    // The statistics are read again once runs finish: the failure is there, with this run as its example.
    const reasons = page.locator('figure.reasons li');
    const firstReason = async () => (await reasons.allTextContents())[0] ?? '';
    await expect
      .poll(firstReason, { timeout: 20_000 })
      .toContain('transcode failed: unsupported codec in source');
    expect(await reasons.first().textContent()).toContain(runId);
    expect(await reasons.first().locator('.bar-value').textContent()).toBe('1×');
    await shot('04-failure-reason');
  });

  it('opens a run with its tasks delivered later, and re-runs it as a new row', async () => {
    const [first] = (await shownRunIds()) as string[];
    await rowOf(first as string)
      .getByRole('button')
      .click();
    const details = page.locator('section.details');
    await expect.poll(() => details.getByRole('heading', { name: `Run ${first}` }).isVisible()).toBe(true);
    // The tasks come in the answer's deferred part, with their media jobs' progress.
    await expect.poll(() => details.locator('li.task').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await details.locator('li.task progress').first().isVisible()).toBe(true);

    await details.getByRole('button', { name: 'Re-run' }).click();
    const outcome = details.locator('.outcome.ok');
    await expect.poll(() => textOf(outcome), { timeout: 20_000 }).toMatch(/Re-run started: i[0-9a-f]{32}/);
    const rerunId = /(i[0-9a-f]{32})/.exec((await outcome.textContent()) ?? '')?.[1] as string;
    expect(rerunId).not.toBe(first);
    await expect.poll(async () => (await shownRunIds())[0], { timeout: 20_000 }).toBe(rerunId);
    await shot('05-rerun');
  });

  it('pages to the end of the big workflow with no run twice', async () => {
    await page.getByLabel('Per page').selectOption('100');
    const more = page.getByRole('button', { name: 'Load more' });
    // The list is read again from its first page, now of 100.
    await expect.poll(() => rows().count(), { timeout: 20_000 }).toBe(100);
    for (let pages = 1; pages < 10 && (await more.isVisible()); pages += 1) {
      const before = await rows().count();
      await more.click();
      await expect.poll(() => rows().count(), { timeout: 20_000 }).toBeGreaterThan(before);
    }
    expect(await page.locator('.count').textContent()).toContain('end of list');
    const shown = (await shownRunIds()) as string[];
    expect(new Set(shown).size).toBe(shown.length);
    // The demo's runs, newest first, after the three the tests started.
    expect(shown).toHaveLength(LARGE_WORKFLOW_EXECUTION_COUNT + 3);
    expect(shown.slice(3)).toEqual(expectedRunIds());
    expect(shown.slice(0, 3).every((runId) => RUN_ID.test(runId))).toBe(true);
    await shot('06-paged-to-end');
  });

  it('draws the statistics of the demo week', async () => {
    await page.getByLabel('Window').selectOption('days');
    await page.getByLabel('From').fill('2026-11-01');
    await page.getByLabel('to', { exact: true }).fill('2026-11-07');
    const coverage = page.locator('.coverage');
    await expect
      .poll(() => textOf(coverage), { timeout: 20_000 })
      .toContain(`${LARGE_WORKFLOW_EXECUTION_COUNT} runs listed`);
    // Six days of runs in 24 intervals of seven hours: most intervals have a bar.
    expect(await page.locator('figure.chart svg g rect').count()).toBeGreaterThan(20);
    expect(await page.locator('figure.durations li').count()).toBe(3);
    await page.evaluate(() => {
      (document.activeElement as HTMLElement | null)?.blur();
      window.scrollTo(0, 0);
    });
    await shot('07-statistics');

    expect(pageErrors).toEqual([]);
    expect(blocked).toEqual([]);
  });

  it('shows a lost answer to a trigger, keeps it from being sent again unchecked, and checks before allowing it', async () => {
    // A few seconds later, so that what starts now is the newest run; CI's answer to the next trigger is a 500:
    // it may or may not have started the run.
    nowMs += 5_000;
    fixture.emulator.script(faults.internalError(), 1, '/triggerworkflow');
    fixture.emulator.clearRequests();
    const trigger = page.getByRole('button', { name: 'Trigger' });
    await page.getByLabel('Object key').fill('uploads/lost answer.mp4');
    await trigger.click();
    const alert = page.locator('form .outcome.unknown');
    await expect.poll(() => textOf(alert), { timeout: 20_000 }).toContain('UPSTREAM_OUTCOME_UNKNOWN');
    expect(await trigger.isDisabled()).toBe(true);
    await shot('08-outcome-unknown');
    // Sent once: the gateway did not retry it, and the page cannot send it again from here.
    const triggers = () => fixture.emulator.requests.filter((request) => request.path === '/triggerworkflow');
    expect(triggers()).toHaveLength(1);

    // The check lists the object's runs since the attempt: none, so sending again is safe.
    await page.getByRole('button', { name: 'Check what it started' }).click();
    const checked = page.locator('form .outcome.ok');
    await expect.poll(() => textOf(checked), { timeout: 20_000 }).toContain('CI did not act');
    expect(await trigger.isDisabled()).toBe(false);
    const runId = await triggerFromForm('uploads/lost answer.mp4');
    expect(triggers()).toHaveLength(2);
    await expect.poll(async () => (await shownRunIds())[0], { timeout: 20_000 }).toBe(runId);
    await shot('09-sent-after-check');
    expect(pageErrors).toEqual([]);
  });
});
