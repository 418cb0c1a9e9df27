/**
 * Builds the production bundle once for every test of the production project, into a fresh folder holding only
 * what the image holds (`dist/` and `package.json`, no `node_modules`), and removes it afterwards.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildGateway } from '../../scripts/build.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The folder the image's runtime stage would hold. */
    bundleFolder: string;
  }
}

export default async function setup(project: TestProject) {
  const root = new URL('../..', import.meta.url).pathname;
  const folder = await mkdtemp(join(tmpdir(), 'gateway-image-'));
  // What the Dockerfile's build stage runs, then what its runtime stage copies.
  await buildGateway(join(folder, 'dist'));
  await cp(join(root, 'package.json'), join(folder, 'package.json'));
  project.provide('bundleFolder', folder);
  return async () => {
    await rm(folder, { recursive: true, force: true });
  };
}
