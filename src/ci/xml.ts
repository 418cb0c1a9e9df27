/**
 * The one configured XML parser for CI responses.
 *
 * - Values stay strings (`parseTagValue: false`): a `NextToken` of `0115716` must not become the number 115716.
 * - Elements that repeat are declared once, here, by path, and always parse to arrays (zero, one or many), so no
 *   call site has to guess whether it got an object or a list.
 * - One pass. The parser is lenient (it hands back a partial tree for a truncated body), so instead of a second,
 *   validating pass over every body, a document must be one element that closes at the very end of the body: a
 *   cut-off answer (the failure that happens on the wire) never reads as a shorter, complete one. Whatever else is
 *   wrong with a body is caught by each response's schema.
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

/** Paths (root first) of every element the CI API repeats. */
const REPEATING_ELEMENTS = new Set([
  'Response.WorkflowExecutionList',
  'Response.WorkflowExecution.Tasks',
  'Response.MediaWorkflowList',
  'Response.NonExistIDs',
  'Response.JobsDetail',
  'Response.NonExistJobIds',
]);
/** Their names, so the path is only spelled out for the few tags that might repeat. */
const REPEATING_NAMES = new Set([...REPEATING_ELEMENTS].map((path) => path.slice(path.lastIndexOf('.') + 1)));

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  trimValues: true,
  // Callbacks get the parser's path matcher rather than a path string built for every tag.
  jPath: false,
  isArray: (tagName, path) => REPEATING_NAMES.has(tagName) && REPEATING_ELEMENTS.has(String(path)),
});

export class XmlSyntaxError extends Error {
  override readonly name = 'XmlSyntaxError';
}

/** A parsed document: nested records, arrays for repeating elements, strings for every leaf. */
export type XmlTree = Record<string, unknown>;

/** The document's root element closes at the end of the body (trailing whitespace aside). */
const CLOSED_ROOT = /<\/([A-Za-z_][\w.-]*)>\s*$/;

export function parseXml(body: string): XmlTree {
  const closing = CLOSED_ROOT.exec(body.length > 256 ? body.slice(-256) : body)?.[1];
  let tree: XmlTree;
  try {
    tree = parser.parse(body) as XmlTree;
  } catch (error) {
    throw new XmlSyntaxError(error instanceof Error ? error.message : String(error));
  }
  const roots = Object.keys(tree);
  if (closing === undefined || roots.length !== 1 || roots[0] !== closing) {
    throw new XmlSyntaxError('not one complete XML element');
  }
  return tree;
}

/**
 * A repeating element as a clean list. An empty repeating tag (`<NonExistIDs></NonExistIDs>`) parses to `[""]`,
 * which is an empty list, not a list holding one empty item.
 */
export function repeated(value: unknown): unknown[] {
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value : [value];
  return items.filter((item) => item !== '');
}

const builder = new XMLBuilder({ suppressEmptyNode: false, format: false });

/** A request body: `<Root>…</Root>` from nested records, arrays for repeated elements, strings for leaves. */
export function buildXml(root: string, content: Record<string, unknown>): string {
  return builder.build({ [root]: content }) as string;
}
