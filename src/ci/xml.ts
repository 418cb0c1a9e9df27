/**
 * The one configured XML parser for CI responses.
 *
 * - Values stay strings (`parseTagValue: false`): a `NextToken` of `0115716` must not become the number 115716.
 * - Elements that repeat are declared once, here, by path, and always parse to arrays (zero, one or many), so no
 *   call site has to guess whether it got an object or a list.
 * - Malformed documents are rejected up front: the parser itself is lenient and would hand back partial trees.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

/** Paths (root first) of every element the CI API repeats. */
const REPEATING_ELEMENTS = new Set([
  'Response.WorkflowExecutionList',
  'Response.WorkflowExecution.Tasks',
  'Response.MediaWorkflowList',
  'Response.NonExistIDs',
  'Response.JobsDetail',
]);

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (_tagName, jPath) => REPEATING_ELEMENTS.has(String(jPath)),
});

export class XmlSyntaxError extends Error {
  override readonly name = 'XmlSyntaxError';
}

/** A parsed document: nested records, arrays for repeating elements, strings for every leaf. */
export type XmlTree = Record<string, unknown>;

export function parseXml(body: string): XmlTree {
  const validation = XMLValidator.validate(body);
  if (validation !== true) {
    throw new XmlSyntaxError(`${validation.err.msg} (line ${validation.err.line})`);
  }
  return parser.parse(body) as XmlTree;
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
