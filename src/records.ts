/**
 * Reading untyped values (parsed JSON or XML, an error of unknown shape) field by field, narrowed rather than cast:
 * the one definition of "an object with fields" every reader shares.
 */

/** A plain object with fields: not null, not an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A field of a value that may not be an object at all: undefined when there is none. */
export function child(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}
