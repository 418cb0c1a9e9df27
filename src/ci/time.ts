/**
 * CI's time formats. Responses mix `2022-08-09T14:54:17+08:00`, `2022-06-29T14:37:44+0800` and
 * `2022-08-09 14:54:17+0800` (and may use `Z`); requests want `YYYY-MM-DDTHH:mm:ss±HHMM`. An explicit parser
 * keeps us off `Date.parse`'s implementation-defined legacy path and rejects impossible dates instead of
 * rolling them over.
 */

const CI_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

const MAX_OFFSET_MINUTES = 18 * 60;

/** Parses any of CI's time formats; undefined when the text is not one of them or names no real instant. */
export function parseCiTime(text: string): Date | undefined {
  const match = CI_TIME.exec(text.trim());
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction, zulu, sign, offsetHours, offsetMinutes] = match;
  const fields = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [y, mo, d, h, mi, s] = fields;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return undefined;

  let offset = 0;
  if (!zulu) {
    const oh = Number(offsetHours);
    const om = Number(offsetMinutes);
    if (om > 59) return undefined;
    offset = (oh * 60 + om) * (sign === '-' ? -1 : 1);
    if (Math.abs(offset) > MAX_OFFSET_MINUTES) return undefined;
  }
  const millis = fraction ? Number(fraction.slice(0, 3).padEnd(3, '0')) : 0;
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s, millis) - offset * 60_000);
}

/** Formats an instant as CI expects in requests: `YYYY-MM-DDTHH:mm:ss±HHMM`, in the given offset (default UTC). */
export function formatCiTime(instant: Date, offsetMinutes = 0): string {
  const shifted = new Date(instant.getTime() + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const absolute = Math.abs(offsetMinutes);
  return (
    `${shifted.getUTCFullYear().toString().padStart(4, '0')}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())}` +
    `T${pad(shifted.getUTCHours())}:${pad(shifted.getUTCMinutes())}:${pad(shifted.getUTCSeconds())}` +
    `${sign}${pad(Math.floor(absolute / 60))}${pad(absolute % 60)}`
  );
}

function pad(value: number): string {
  return value.toString().padStart(2, '0');
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
