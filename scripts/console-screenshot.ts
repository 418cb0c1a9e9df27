/**
 * `npm run docs:screenshot`: the README's picture of the console (`docs/console.png`), taken by the console's
 * browser test as it drives the console against the demo. Needs Chromium (`CHROMIUM_PATH`, `/usr/bin/chromium` by
 * default) and, for the demo's Chinese object keys, a CJK font (Debian: `fonts-wqy-microhei`).
 */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The test's step that shows the most: a run opened, the executions, and a week's statistics. */
const STEP = '07-statistics.png';
const TARGET = 'docs/console.png';

const folder = await mkdtemp(join(tmpdir(), 'console-screenshots-'));
try {
  execFileSync('npx', ['vitest', 'run', '--project', 'browser', 'test/browser/console.test.ts'], {
    stdio: 'inherit',
    env: { ...process.env, CONSOLE_SCREENSHOTS_DIR: folder, BROWSER_TESTS: 'required' },
  });
  await copyFile(join(folder, STEP), TARGET);
  process.stdout.write(`wrote ${TARGET}\n`);
} finally {
  await rm(folder, { recursive: true, force: true });
}
