/** The Node version that ships is the one named everywhere: the image, `.nvmrc`, CI's second run, `engines`. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFile(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('runtimes', () => {
  it('agree on the image’s Node major version', async () => {
    const image = /^ARG NODE_VERSION=(\d+)$/m.exec(await read('Dockerfile'))?.[1];
    expect(image).toBeDefined();
    expect((await read('.nvmrc')).trim()).toBe(image);
    expect(await read('.ci/run')).toContain(`--package node@${image} -- `);
    const engines = (JSON.parse(await read('package.json')) as { engines: { node: string } }).engines.node;
    const minimum = /^>=(\d+)\.(\d+)$/.exec(engines);
    expect(minimum, engines).not.toBeNull();
    expect(Number(minimum?.[1])).toBeLessThanOrEqual(Number(image));
  });
});
