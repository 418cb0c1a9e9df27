/**
 * The one-pass parser against the two-pass one it replaced (a validating pass, then a parse that spelled out every
 * tag's path): the same trees for every well-formed CI body, and a refusal for every cut-off one.
 */
import fc from 'fast-check';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { parseXml } from '../../src/ci/xml.js';

const REPEATING = new Set([
  'Response.WorkflowExecutionList',
  'Response.WorkflowExecution.Tasks',
  'Response.MediaWorkflowList',
  'Response.NonExistIDs',
  'Response.JobsDetail',
]);
const reference = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  trimValues: true,
  isArray: (_name, path) => REPEATING.has(String(path)),
});
function referenceParse(body: string): unknown {
  const validation = XMLValidator.validate(body);
  if (validation !== true) throw new Error(validation.err.msg);
  return reference.parse(body);
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const space = fc.constantFrom('', ' ', '\n', '\n  ', '\t', '\r\n');
const text = fc.string({ unit: 'grapheme', maxLength: 12 }).map(escapeXml);
const leaf = (name: string, value: fc.Arbitrary<string>) =>
  fc
    .tuple(space, value, space)
    .map(([before, content, after]) => `${before}<${name}>${content}</${name}>${after}`);

const execution = fc
  .tuple(
    leaf('RunId', text),
    leaf('WorkflowId', text),
    leaf('Object', text),
    leaf('State', text),
    leaf('CreateTime', text),
  )
  .map((fields) => `<WorkflowExecutionList>${fields.join('')}</WorkflowExecutionList>`);
const listBody = fc
  .tuple(
    fc.boolean(),
    leaf('RequestId', text),
    fc.array(execution, { maxLength: 4 }),
    leaf('NextToken', text),
    space,
  )
  .map(
    ([declaration, requestId, items, token, trailing]) =>
      `${declaration ? '<?xml version="1.0" encoding="utf-8"?>' : ''}<Response>${requestId}${items.join('')}${token}</Response>${trailing}`,
  );
const task = fc
  .tuple(leaf('Type', text), leaf('State', text), leaf('Message', text))
  .map((fields) => `<Tasks>${fields.join('')}</Tasks>`);
const detailBody = fc
  .tuple(
    leaf('RunId', text),
    fc.array(task, { maxLength: 3 }),
    fc.option(fc.constant('<Topology><Nodes><A><Type>x</Type></A></Nodes></Topology>')),
  )
  .map(
    ([runId, tasks, topology]) =>
      `<Response><WorkflowExecution>${runId}${topology ?? ''}${tasks.join('')}</WorkflowExecution></Response>`,
  );
const lookupBody = fc
  .tuple(fc.array(leaf('WorkflowId', text), { maxLength: 3 }), fc.array(text, { maxLength: 3 }))
  .map(
    ([workflows, missing]) =>
      `<Response>${workflows.map((w) => `<MediaWorkflowList>${w}</MediaWorkflowList>`).join('')}${missing
        .map((id) => `<NonExistIDs>${id}</NonExistIDs>`)
        .join('')}</Response>`,
  );
const anyBody = fc.oneof(listBody, detailBody, lookupBody);

describe('parseXml', () => {
  it('gives the tree the validating two-pass parse gave, for every well-formed body', () => {
    fc.assert(
      fc.property(anyBody, (body) => {
        expect(parseXml(body)).toEqual(referenceParse(body));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses every body cut off before its end, as the validating parse did', () => {
    fc.assert(
      fc.property(anyBody, fc.double({ min: 0, max: 1, noNaN: true }), (body, fraction) => {
        const complete = body.trimEnd();
        const cut = complete.slice(0, Math.floor(fraction * complete.length));
        fc.pre(cut.length < complete.length);
        expect(() => referenceParse(cut)).toThrow();
        expect(() => parseXml(cut)).toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a body with anything after its one root element', () => {
    expect(() => parseXml('<Response><A>1</A></Response><Response/>')).toThrow();
    expect(() => parseXml('<Response><A>1</A></Response>trailing')).toThrow();
  });
});
