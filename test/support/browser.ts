/**
 * Headless Chromium for the browser tests: Debian's (`CHROMIUM_PATH`, `/usr/bin/chromium` by default), required
 * where CI says so (`BROWSER_TESTS=required`, set by `.ci/run`), and pages that may reach 127.0.0.1 alone.
 */
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const chromiumAvailable = existsSync(CHROMIUM);
if (!chromiumAvailable && process.env['BROWSER_TESTS'] === 'required') {
  throw new Error(`BROWSER_TESTS=required but there is no Chromium at ${CHROMIUM}`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A browser context as if offline: every request to a host other than 127.0.0.1 is aborted and recorded in
 * `blocked`, so a test can show that a page asked nothing of the internet.
 */
export async function offlineContext(
  browser: Browser,
  viewport = { width: 1400, height: 1000 },
): Promise<{ context: BrowserContext; blocked: string[] }> {
  const context = await browser.newContext({ viewport });
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || url.hostname === '127.0.0.1') {
      return route.continue();
    }
    blocked.push(url.href);
    return route.abort();
  });
  return { context, blocked };
}
