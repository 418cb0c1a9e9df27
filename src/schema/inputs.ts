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
