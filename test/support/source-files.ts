import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The repository's root folder. */
export const repositoryRoot = new URL('../..', import.meta.url).pathname;

/** Every `.ts` and `.tsx` file under `folder` (relative to the repository), recursively, as repository-relative paths. */
export function sourceFiles(folder: string): string[] {
  return readdirSync(join(repositoryRoot, folder), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(folder, entry.name))
      : /\.tsx?$/.test(entry.name)
        ? [join(folder, entry.name)]
        : [],
  );
}
