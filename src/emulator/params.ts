/** The emulator's errors and parameter parsing: CI's codes, CI's limits. */
import { parseCiTime } from '../ci/time.js';
import { EXECUTION_STATES, type ExecutionState, MAX_UPSTREAM_PAGE_SIZE } from '../ci/types.js';

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

export function parseStates(value: string | null): ExecutionState[] | undefined {
  if (value === null) return undefined;
  const states = value.split(',');
  for (const state of states) {
    if (!(EXECUTION_STATES as readonly string[]).includes(state)) throw invalid(`unknown state "${state}"`);
  }
  return states as ExecutionState[];
}

export function parseTime(value: string | null, name: string): number | undefined {
  if (value === null) return undefined;
  const instant = parseCiTime(value);
  if (!instant) throw invalid(`${name} is not a valid time`);
  return instant.getTime();
}
