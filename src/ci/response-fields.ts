/**
 * The pieces every CI response schema is made of (CI's leaves are strings, its lists repeated elements, its times
 * in three formats, its ids held to their rules) and the one way a body is decoded: anything that does not match
 * its schema is an `unreadable_response` error rather than a crash or a silently empty list.
 */
import { z } from 'zod';
import { CiError } from './errors.js';
import type { BucketId, InputRule } from './inputs.js';
import { parseCiTime } from './time.js';
import { parseXml, repeated, XmlSyntaxError } from './xml.js';

/** A leaf that must be present and non-empty. */
export const requiredText = z.string().trim().min(1);
/** A leaf that may be absent or empty; both read as undefined. */
export const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value));
export const ciTime = z.string().transform((value, context) => {
  const instant = parseCiTime(value);
  if (instant === undefined) {
    context.addIssue({ code: 'custom', message: `unparseable time "${value}"` });
    return z.NEVER;
  }
  return instant;
});
export const optionalCiTime = optionalText.pipe(z.union([z.undefined(), ciTime]));
/** An id CI issued, held to the rule its inputs are: an answer naming a malformed one is unreadable. */
export const ciId = <T>(rule: InputRule<T>) =>
  requiredText.transform((value, context) => {
    const parsed = rule.parse(value);
    if (parsed.ok) return parsed.value;
    context.addIssue({ code: 'custom', message: `"${value}" ${parsed.problem}` });
    return z.NEVER;
  });
export const optionalCiId = <T>(rule: InputRule<T>) =>
  optionalText.pipe(z.union([z.undefined(), ciId(rule)]));
export const list = <T extends z.ZodType>(item: T) => z.preprocess(repeated, z.array(item));

/** A count or size: digits, possibly with a fraction; absent or unparseable reads as undefined. */
export const optionalNumber = optionalText.transform((value) => {
  if (value === undefined) return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
});
export const optionalRecord = <T extends z.ZodRawShape>(shape: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), z.object(shape).optional());

export function parseOrExplain(body: string) {
  try {
    return parseXml(body);
  } catch (error) {
    const reason = error instanceof XmlSyntaxError ? error.message : 'unparseable XML';
    throw new CiError('unreadable_response', `response is not well-formed XML: ${reason}`, { cause: error });
  }
}

export function decode<T>(schema: z.ZodType<T>, body: string): T {
  const tree = parseOrExplain(body);
  const parsed = schema.safeParse(tree);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'document';
    throw new CiError(
      'unreadable_response',
      `response has an unexpected shape at ${where}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

/** Adds the bucket an answer came from to each resource in it (CI's answers do not name it). */
export const inBucket =
  (bucketId: BucketId) =>
  <T extends object>(value: T): T & { readonly bucketId: BucketId } => ({ ...value, bucketId });
