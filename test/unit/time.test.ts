import { describe, expect, it } from 'vitest';
import { formatCiTime, parseCiTime } from '../../src/ci/time.js';

describe('parseCiTime', () => {
  const instant = Date.UTC(2022, 7, 9, 6, 54, 17);
  it.each([
    '2022-08-09T14:54:17+08:00',
    '2022-08-09T14:54:17+0800',
    '2022-08-09 14:54:17+0800',
    '2022-08-09T06:54:17Z',
    '2022-08-09T06:54:17z',
    '2022-08-09T01:54:17-05:00',
    ' 2022-08-09T14:54:17+08:00 ',
  ])('reads %s', (text) => {
    expect(parseCiTime(text)?.getTime()).toBe(instant);
  });

  it('keeps milliseconds of a fractional second', () => {
    expect(parseCiTime('2022-08-09T06:54:17.123456Z')?.getTime()).toBe(instant + 123);
  });

  it.each([
    '',
    '2022-08-09',
    '2022-08-09T14:54:17',
    '2022-02-30T00:00:00Z',
    '2022-13-01T00:00:00Z',
    '2022-08-09T24:00:00Z',
    '2022-08-09T14:60:00Z',
    '2022-08-09T14:54:17+19:00',
    '2022-08-09T14:54:17+08:60',
    'Tue, 09 Aug 2022 06:54:17 GMT',
    '1660028057',
  ])('rejects %j', (text) => {
    expect(parseCiTime(text)).toBeUndefined();
  });
});

describe('formatCiTime', () => {
  const instant = new Date(Date.UTC(2022, 7, 9, 6, 54, 17, 999));
  it('writes YYYY-MM-DDTHH:mm:ss±HHMM in UTC by default', () => {
    expect(formatCiTime(instant)).toBe('2022-08-09T06:54:17+0000');
  });
  it('writes any offset, east or west', () => {
    expect(formatCiTime(instant, 480)).toBe('2022-08-09T14:54:17+0800');
    expect(formatCiTime(instant, -330)).toBe('2022-08-09T01:24:17-0530');
  });
  it('round-trips through the parser to the second', () => {
    expect(parseCiTime(formatCiTime(instant, 345))?.getTime()).toBe(instant.getTime() - 999);
  });
});
