/**
 * What the CI API accepts as ids and object keys. Each rule is decided here, once; a value that passes carries a
 * brand, and the client's calls take only branded values, so nothing unchecked can reach a signed URL.
 *
 * Ids are what CI issues: one letter for the kind of resource and 32 lowercase hex digits (`i166ee19017b011eda8a5525400c540df`
 * for a run, `w…` for a workflow, `b…` for a batch-trigger job, `j…` for a media job). Anything else names no
 * resource, so it is refused before a call instead of being signed and sent (where `..` or `/` would change the
 * path and come back as a signature error).
 */

declare const brand: unique symbol;
type Branded<T, B extends string> = T & { readonly [brand]: B };

export type RunId = Branded<string, 'RunId'>;
export type WorkflowId = Branded<string, 'WorkflowId'>;
export type BatchJobId = Branded<string, 'BatchJobId'>;
export type ObjectKey = Branded<string, 'ObjectKey'>;
export type MediaJobId = Branded<string, 'MediaJobId'>;
/** A name CI accepts for a trigger or a batch-trigger job. */
export type JobName = Branded<string, 'JobName'>;
/** A key prefix for a batch trigger. */
export type ObjectPrefix = Branded<string, 'ObjectPrefix'>;
/** The COS URL of an inventory manifest or URL list. */
export type ObjectUrl = Branded<string, 'ObjectUrl'>;
/** A bucket this gateway serves, as COS names it (`<BucketName-APPID>`), or the name the configuration gives it. */
export type BucketId = Branded<string, 'BucketId'>;

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problem: string };

/** One input rule: parses a raw string into its branded type or says, for a person, what is wrong. */
export interface InputRule<T> {
  parse(raw: string): Parsed<T>;
}

/**
 * A rule from what is wrong with a raw value (undefined when nothing is): the one place a brand is given, so a
 * value carries one only when its rule has passed.
 */
function rule<T extends string>(problemOf: (raw: string) => string | undefined): InputRule<T> {
  const passes = (_raw: string, problem: string | undefined): _raw is T => problem === undefined;
  return {
    parse(raw) {
      const problem = problemOf(raw);
      return passes(raw, problem) ? { ok: true, value: raw } : { ok: false, problem: problem ?? '' };
    },
  };
}

const HEX_DIGITS = 32;

function idRule<T extends string>(prefix: string, noun: string): InputRule<T> {
  const pattern = new RegExp(`^${prefix}[0-9a-f]{${HEX_DIGITS}}$`);
  return rule<T>((raw) =>
    pattern.test(raw)
      ? undefined
      : `must be a ${noun} as CI issues them: "${prefix}" and ${HEX_DIGITS} lowercase hex digits`,
  );
}

export const runIdRule = idRule<RunId>('i', 'run id');
export const workflowIdRule = idRule<WorkflowId>('w', 'workflow id');
export const batchJobIdRule = idRule<BatchJobId>('b', 'batch-trigger job id');
export const mediaJobIdRule = idRule<MediaJobId>('j', 'media job id');

/**
 * COS bucket names: lowercase letters, digits and `-`, with the account's APPID appended (`media-1250000000`), at
 * most 60 characters in all. A single-bucket gateway without `CI_BUCKET` calls its bucket `default`.
 */
export const bucketIdRule = rule<BucketId>((raw) =>
  /^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$/.test(raw)
    ? undefined
    : 'must be a bucket id: lowercase letters, digits and "-", like media-1250000000',
);

/** CI allows up to 128 characters of CJK, letters, digits, `-` and `_` in a trigger's or job's name. */
export const MAX_JOB_NAME_LENGTH = 128;
const JOB_NAME = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}A-Za-z0-9_-]+$/u;

export const jobNameRule = rule<JobName>((raw) => {
  if (raw === '') return 'must not be empty';
  const length = [...raw].length;
  if (length > MAX_JOB_NAME_LENGTH)
    return `is ${length} characters; CI allows at most ${MAX_JOB_NAME_LENGTH}`;
  if (!JOB_NAME.test(raw)) return 'may hold only CJK characters, letters, digits, "-" and "_"';
  return undefined;
});

/** COS limits object keys to 850 bytes of UTF-8. */
export const MAX_OBJECT_KEY_BYTES = 850;

function objectKeyProblem(raw: string): string | undefined {
  if (raw === '') return 'must not be empty';
  // A lone surrogate has no UTF-8 form: it could be neither signed nor sent as the user meant it.
  if (!raw.isWellFormed()) return 'is not well-formed Unicode (it holds a lone surrogate)';
  const bytes = Buffer.byteLength(raw, 'utf8');
  if (bytes > MAX_OBJECT_KEY_BYTES) {
    return `is ${bytes} bytes of UTF-8; COS keys are at most ${MAX_OBJECT_KEY_BYTES}`;
  }
  return undefined;
}

export const objectKeyRule = rule<ObjectKey>(objectKeyProblem);

/** A prefix follows the object-key rules: a batch trigger over the whole bucket must be asked for explicitly. */
export const objectPrefixRule = rule<ObjectPrefix>(objectKeyProblem);

/** An https URL (a COS object URL, in practice), at most 1024 bytes. */
export const objectUrlRule = rule<ObjectUrl>((raw) => {
  if (!URL.canParse(raw) || new URL(raw).protocol !== 'https:') {
    return 'must be an https URL, e.g. the COS URL of the file';
  }
  if (Buffer.byteLength(raw, 'utf8') > 1024) return 'is longer than 1024 bytes';
  return undefined;
});

/** The branded value, or a RangeError: for trusted values (demo data, ids CI itself returned, tests). */
export function assume<T>(rule: InputRule<T>, raw: string): T {
  const parsed = rule.parse(raw);
  if (!parsed.ok) throw new RangeError(`${JSON.stringify(raw)} ${parsed.problem}`);
  return parsed.value;
}
