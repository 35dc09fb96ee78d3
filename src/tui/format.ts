// Text helpers for the alert browser's views: fixed-width cells, times, level labels and colours, sparklines.
// Pure functions of their arguments; no ink, no data access.
import type { Level } from '../core/tui-data/types.js';

/** One styled run of text; a line is a list of them. */
export interface Segment {
  text: string;
  color?: string | undefined;
  bold?: boolean | undefined;
  dim?: boolean | undefined;
  inverse?: boolean | undefined;
}
export type Line = Segment[];

export const LEVEL_LABEL: Record<Level, string> = { critical: 'CRIT', high: 'HIGH', medium: 'MED' };
export const LEVEL_COLOR: Record<Level, string> = { critical: 'red', high: 'yellow', medium: 'cyan' };

/** Pads or cuts `s` to exactly `width` columns (an ellipsis marks a cut). */
export function cell(s: string, width: number, align: 'left' | 'right' = 'left'): string {
  if (width <= 0) return '';
  if (s.length > width) return width === 1 ? '…' : `${s.slice(0, width - 1)}…`;
  return align === 'left' ? s.padEnd(width) : s.padStart(width);
}

/** '2026-01-05T10:29:55Z' -> '01-05 10:29:55' (the list's time column, UTC). */
export function shortTime(iso: string): string {
  return `${iso.slice(5, 10)} ${iso.slice(11, 19)}`;
}

/** '2026-01-05T10:29:55Z' -> '10:29:55'. */
export function clockTime(iso: string): string {
  return iso.slice(11, 19);
}

/** Whole seconds between two ISO instants as '45s', '4m10s' or '2h05m'. */
export function duration(fromIso: string, toIso: string): string {
  const s = Math.max(0, Math.round((Date.parse(toIso) - Date.parse(fromIso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function thousands(n: number): string {
  return n.toLocaleString('en-US');
}

/** A number with at most `digits` decimals, '-' for null. */
export function num(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  return String(Math.round(n * 10 ** digits) / 10 ** digits);
}

const BARS = '▁▂▃▄▅▆▇█';

/** One character per value, scaled between the non-null minimum and maximum; a gap (no data) is a space. */
export function sparkline(values: readonly (number | null)[]): string {
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (present.length === 0) return ' '.repeat(values.length);
  const lo = Math.min(...present);
  const hi = Math.max(...present);
  return values
    .map((v) => {
      if (v === null || !Number.isFinite(v)) return ' ';
      const i = hi === lo ? BARS.length - 1 : Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1));
      return BARS[i] ?? ' ';
    })
    .join('');
}

/** The plain text of a line (for tests and width checks). */
export function lineText(line: Line): string {
  return line.map((s) => s.text).join('');
}
