/**
 * Two measures of how much the types are trusted, held where they are so they cannot creep back: type assertions
 * (`as`, not `as const`) in `src`, each a place where the compiler takes our word; and the largest source file.
 * Lower a ceiling when a change brings the figure down; raising one needs a reason in the commit.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repositoryRoot, sourceFiles } from '../support/source-files.js';

const root = repositoryRoot;
/** Type assertions in src: half of what there were when this was first measured (104), and lower since. */
const MAX_CASTS = 34;
/** Lines in one source file: past this, a module does more than one thing. */
const MAX_LINES = 460;

/** Every `x as T` and `<T>x` in the file, `as const` aside, with its line. */
function castsIn(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    const isCast = ts.isAsExpression(node) || ts.isTypeAssertionExpression(node);
    const isConst = isCast && ts.isTypeReferenceNode(node.type) && node.type.typeName.getText() === 'const';
    if (isCast && !isConst) {
      found.push(`${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('the shape of src', () => {
  const files = sourceFiles('src');

  it(`has at most ${MAX_CASTS} type assertions`, () => {
    const casts = files.flatMap(castsIn);
    expect(casts.length, casts.join('\n')).toBeLessThanOrEqual(MAX_CASTS);
  });

  it(`has no file over ${MAX_LINES} lines`, () => {
    const long = files
      .map((file) => ({ file, lines: readFileSync(join(root, file), 'utf8').split('\n').length }))
      .filter(({ lines }) => lines > MAX_LINES);
    expect(long).toEqual([]);
  });
});
