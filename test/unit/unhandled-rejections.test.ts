import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;

describe('unhandled rejections', () => {
  it('are logged with the id of the request they happened for, and the process goes on', () => {
    // A process of its own: the test runner treats an unhandled rejection in its own process as a failure.
    const script = `
      import { createLogger } from './src/telemetry/logger.ts';
      import { runInRequestScope } from './src/request-context.ts';
      import { logUnhandledRejections } from './src/unhandled-rejections.ts';
      process.on('unhandledRejection', logUnhandledRejections(createLogger('info')));
      runInRequestScope('req-42', () => setTimeout(() => Promise.reject(new Error('lost')), 5));
      Promise.reject(new Error('outside'));
      setTimeout(() => process.stdout.write('still serving\\n'), 50);
    `;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const logged = lines.slice(0, 2).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'unhandled promise rejection',
        err: expect.objectContaining({ message: 'outside' }),
      }),
      expect.objectContaining({ requestId: 'req-42', err: expect.objectContaining({ message: 'lost' }) }),
    ]);
    expect(logged[0]).not.toHaveProperty('requestId');
    expect(lines[2]).toBe('still serving');
  });
});
