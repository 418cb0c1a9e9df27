/**
 * The GraphQL edge of the input rules in `ci/inputs.ts`: an argument that breaks its rule is a `BAD_USER_INPUT`
 * error naming the argument, raised before any upstream call; a federation reference that breaks it names nothing
 * and resolves to null.
 */
import type { InputRule } from '../ci/inputs.js';
import { userInputError } from './errors.js';

/** The argument as its branded type, or a `BAD_USER_INPUT` error that says which argument and why. */
export function parseArgument<T>(rule: InputRule<T>, raw: string, argumentName: string): T {
  const parsed = rule.parse(raw);
  if (!parsed.ok) throw userInputError(`${argumentName} ${parsed.problem}.`, argumentName.split('.')[0]);
  return parsed.value;
}

/** An optional argument: absent stays absent. */
export function parseOptionalArgument<T>(
  rule: InputRule<T>,
  raw: string | null | undefined,
  argumentName: string,
): T | undefined {
  return raw === null || raw === undefined ? undefined : parseArgument(rule, raw, argumentName);
}

/** A key from another subgraph's reference: undefined when no resource can have it. */
export function parseReference<T>(rule: InputRule<T>, raw: unknown): T | undefined {
  if (typeof raw !== 'string') return undefined;
  const parsed = rule.parse(raw);
  return parsed.ok ? parsed.value : undefined;
}

/**
 * A list filter's states, as a set to match: refused when empty (an empty list matches nothing, which is never what
 * was meant), else deduplicated and sorted so equal filters get equal cursors.
 */
export function parseStates<T extends string>(
  states: readonly T[] | null | undefined,
  argumentName: string,
): T[] | undefined {
  if (states === null || states === undefined) return undefined;
  if (states.length === 0) {
    throw userInputError(
      `${argumentName}.states must not be empty; omit it to match every state`,
      argumentName.split('.')[0],
    );
  }
  return [...new Set(states)].sort();
}

/** A creation-time window whose bounds, when both given, are in order. */
export function checkTimeWindow(
  createdAfter: Date | null | undefined,
  createdBefore: Date | null | undefined,
  argumentName: string,
): void {
  if (createdAfter && createdBefore && createdAfter > createdBefore) {
    throw userInputError(
      `${argumentName}.createdAfter must not be later than ${argumentName}.createdBefore`,
      argumentName.split('.')[0],
    );
  }
}
