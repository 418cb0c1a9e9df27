/** The emulator's errors and parameter parsing: CI's codes, CI's limits. */
import { parseCiTime } from '../ci/time.js';
import { MAX_UPSTREAM_PAGE_SIZE } from '../ci/types.js';

const DEFAULT_LIST_SIZE = 10;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function invalid(message: string): HttpError {
  return new HttpError(400, 'InvalidArgument', message);
}

export function parseSize(value: string | null): number {
  return parseBoundedInteger(value, 'size', DEFAULT_LIST_SIZE, 1, MAX_UPSTREAM_PAGE_SIZE);
}

export function parseBoundedInteger(
  value: string | null,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === null) return fallback;
  const number = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= min && number <= max)) throw invalid(`${name} must be an integer from ${min} to ${max}`);
  return number;
}

/** A comma-separated list of states, each one of `known`; undefined when the parameter is absent. */
export function parseStates<S extends string>(value: string | null, known: readonly S[]): S[] | undefined {
  if (value === null) return undefined;
  const isKnown = (state: string): state is S => known.some((one) => one === state);
  return value.split(',').map((state) => {
    if (!isKnown(state)) throw invalid(`unknown state "${state}"`);
    return state;
  });
}

export function parseTime(value: string | null, name: string): number | undefined {
  if (value === null) return undefined;
  const instant = parseCiTime(value);
  if (!instant) throw invalid(`${name} is not a valid time`);
  return instant.getTime();
}
