/**
 * The Node versions are named alike everywhere: the image's (the Dockerfile, `.nvmrc`) and the oldest supported
 * (`engines`) are the ones CI runs, and the image can be built from what the build context holds.
 */
import { spawnSync } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { imageCommand } from '../support/processes.js';

const read = (path: string) => readFile(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('runtimes', () => {
  it('agree on the image’s Node major version and the oldest supported one, and CI runs both', async () => {
    const image = /^ARG NODE_VERSION=(\d+)$/m.exec(await read('Dockerfile'))?.[1];
    expect(image).toBeDefined();
    expect((await read('.nvmrc')).trim()).toBe(image);
    const engines = (JSON.parse(await read('package.json')) as { engines: { node: string } }).engines.node;
    const minimum = /^>=(\d+)\.(\d+)$/.exec(engines)?.[1];
    expect(minimum, engines).toBeDefined();
    expect(Number(minimum)).toBeLessThanOrEqual(Number(image));
    const ciMajors = /^for major in ([\d ]+); do$/m.exec(await read('.ci/run'))?.[1]?.split(' ');
    expect(ciMajors).toEqual([minimum, image]);
  });
});

describe('the image’s command', () => {
  it('passes Node only flags this Node accepts (CI runs this on every supported Node)', async () => {
    const cmd = imageCommand(new URL('../..', import.meta.url).pathname);
    expect(cmd[0]).toBe('node');
    expect(cmd.at(-1)).toBe('dist/index.js');
    const flags = cmd.slice(1, -1);
    const result = spawnSync(process.execPath, [...flags, '-e', 'process.exit(0)'], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('the Dockerfile’s build context', () => {
  it('holds every file the Dockerfile copies from it: none is left out by .dockerignore', async () => {
    const rules = (await read('.dockerignore'))
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    // The last matching rule wins; `!` brings a path back.
    const ignored = (path: string) => {
      let excluded = false;
      for (const rule of rules) {
        const negated = rule.startsWith('!');
        const pattern = negated ? rule.slice(1) : rule;
        const regex = new RegExp(
          `^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/.*)?$`,
        );
        if (regex.test(path)) excluded = !negated;
      }
      return excluded;
    };
    const copied = [...(await read('Dockerfile')).matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((match) =>
      (match[1] as string).split(/\s+/).slice(0, -1),
    );
    // `npm run build` in the image runs scripts/build.ts, which needs every script it imports.
    const buildScripts = [...(await read('scripts/build.ts')).matchAll(/from '\.\/([\w-]+)\.js'/g)].map(
      (match) => `scripts/${match[1]}.ts`,
    );
    expect(buildScripts.length).toBeGreaterThan(0);
    for (const script of ['scripts/build.ts', ...buildScripts]) expect(copied, script).toContain(script);
    for (const path of copied) {
      expect(ignored(path), path).toBe(false);
      await expect(access(new URL(`../../${path}`, import.meta.url)), path).resolves.toBeUndefined();
    }
  });
});
