/** XML bodies in the shapes CI answers with, and CI's three time formats. */
import { XMLBuilder } from 'fast-xml-parser';
import { formatCiTime } from '../ci/time.js';

const builder = new XMLBuilder({ format: false, suppressEmptyNode: false });

const CHINA_STANDARD_TIME_MINUTES = 8 * 60;

/** `<?xml …?><Root>…</Root>`; arrays become repeated elements, undefined fields are left out. */
export function xmlDocument(root: 'Response' | 'Error', content: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="utf-8"?>${builder.build({ [root]: content }) as string}`;
}

/** `2022-08-09T14:54:17+08:00`, as the list call writes execution times. */
export function rfc3339Time(instant: Date): string {
  return formatCiTime(instant, CHINA_STANDARD_TIME_MINUTES).replace(/(\d{2})(\d{2})$/, '$1:$2');
}

/** `2022-06-29T14:37:44+0800`, as the workflow search writes times. */
export function compactOffsetTime(instant: Date): string {
  return formatCiTime(instant, CHINA_STANDARD_TIME_MINUTES);
}

/** `2022-08-09 14:54:40+0800`, as execution details write task times. */
export function spacedTime(instant: Date | undefined): string {
  return instant ? formatCiTime(instant, CHINA_STANDARD_TIME_MINUTES).replace('T', ' ') : '';
}
