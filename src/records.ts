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

/**
 * JSON that keeps dates: live updates and shared caches carry runs whose times are `Date`s, and every replica must
 * see the same values the writing one did.
 */
export const DATE_PRESERVING_JSON = {
  stringify(value: unknown): string {
    return JSON.stringify(value, function (this: Record<string, unknown>, key, plain) {
      const original = this[key];
      return original instanceof Date ? { $date: original.getTime() } : plain;
    });
  },
  parse(text: string): unknown {
    return JSON.parse(text, (_key, value) =>
      value !== null &&
      typeof value === 'object' &&
      typeof value.$date === 'number' &&
      Object.keys(value).length === 1
        ? new Date(value.$date)
        : value,
    );
  },
};
