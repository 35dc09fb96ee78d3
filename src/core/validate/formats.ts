// The RFC 3339 reading of `format: date-time` and `format: time` both engines share (ajv gets these functions; the
// compiled SQL macros in compile.ts and the fast line regex in fast-regex.ts spell the same rule), and the
// leap-second warning. The rule, stricter than ajv-formats where RFC 3339 is:
// - an offset is `Z`/`z` or `±HH:MM` (hour <= 23, minute <= 59); `+05`, `+0530` and `+05:30:00` are invalid;
// - the date and time are separated by `T`, `t` or one space (RFC 3339 5.6's note); no other character;
// - hour <= 23 and minute <= 59 always; the seconds' integer part <= 59, or 60 for a leap second, which only exists
//   at 23:59 UTC (the local time minus the offset), as the JSON Schema Test Suite has it; any fraction digits.
// Digits are ASCII only. A leap second is valid; load stores it as 23:59:59.999999 of its minute (TIMESTAMPTZ has no
// second 60), and validate reports it as the warning `leap_second` so nobody is surprised by that.
import type { JsonSchema } from '../schemas.js';

const TIME_RE = /^([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?(?:[zZ]|([+-])([0-9]{2}):([0-9]{2}))$/;
const DATE_RE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

function daysInMonth(y: number, m: number): number {
  if (m === 2) return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(m) ? 30 : 31;
}

/** RFC 3339 full-date. */
export function isRfc3339Date(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const month = Number(m[2]);
  const day = Number(m[3]);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(Number(m[1]), month);
}

/** RFC 3339 full-time (partial-time and a required offset). */
export function isRfc3339Time(s: string): boolean {
  const m = TIME_RE.exec(s);
  if (!m) return false;
  const [h, mi, sec, tzh, tzm] = [m[1], m[2], m[3], m[5] ?? '0', m[6] ?? '0'].map(Number) as [number, number, number, number, number];
  if (h > 23 || mi > 59 || tzh > 23 || tzm > 59) return false;
  if (sec <= 59) return true;
  if (sec !== 60) return false;
  const sign = m[4] === '-' ? -1 : 1;
  // Minutes of the day in UTC, modulo a day: a leap second is at 23:59 UTC only.
  return (((h * 60 + mi - sign * (tzh * 60 + tzm)) % 1440) + 1440) % 1440 === 1439;
}

/** RFC 3339 date-time: full-date, `T`, `t` or a space, full-time. */
export function isRfc3339DateTime(s: string): boolean {
  const sep = s.charAt(10);
  return (sep === 'T' || sep === 't' || sep === ' ') && isRfc3339Date(s.slice(0, 10)) && isRfc3339Time(s.slice(11));
}

export const LEAP_SECOND_KEYWORD = 'leap_second';
export const LEAP_SECOND_MESSAGE = 'a leap second: loaded as second 59.999999 of the same minute';

/** A valid date-time whose seconds are 60. */
export function isLeapSecondDateTime(s: string): boolean {
  return s.slice(17, 19) === '60' && isRfc3339DateTime(s);
}

/**
 * Microseconds since the epoch of a valid date-time, as DuckDB's TIMESTAMPTZ holds it: fraction digits past the sixth
 * dropped, a leap second as second 59.999999 of its minute (what load stores). Undefined when it cannot be read.
 */
export function instantMicros(s: string): bigint | undefined {
  const m = /^(.{16}):([0-9]{2})(?:\.([0-9]+))?(.*)$/.exec(`${s.slice(0, 10)}T${s.slice(11)}`.toUpperCase());
  if (!m) return undefined;
  const leap = m[2] === '60';
  const ms = Date.parse(`${m[1]}:${leap ? '59' : m[2]}${m[4]}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1000n + BigInt(leap ? '999999' : `${m[3] ?? ''}000000`.slice(0, 6));
}

/** The top-level properties declared `format: date-time` (the ones load casts to TIMESTAMPTZ), in schema order. */
export function dateTimeProperties(schema: JsonSchema): string[] {
  const props = schema.properties ?? {};
  return Object.entries(props)
    .filter(([, p]) => typeof p === 'object' && p !== null && (p as JsonSchema).format === 'date-time')
    .map(([name]) => name);
}
