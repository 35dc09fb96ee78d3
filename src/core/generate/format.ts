// Text forms of one row, for the rows the generator builds in JS (reference tables and every bad row). The SQL
// writers for telemetry and vitals format the same way: numbers as DuckDB prints a DOUBLE ("12.0", "3.25"),
// instants as ISO 8601 with milliseconds and Z, an empty cell / absent key for a missing value.
import type { Cell, Row } from './reference.js';

/** A CSV line's deliberate breakage. */
export type LineFault = 'ragged_row' | 'unterminated_quote';

export function formatNumber(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

function csvCell(v: Cell | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/**
 * One CSV line (no newline). A ragged row gets one extra field; an unterminated quote opens a quote at the start
 * of `faultField` and never closes it (so it may only be a file's last line).
 */
export function formatCsvLine(row: Row, columns: readonly string[], fault?: LineFault, faultField?: string): string {
  const cells = columns.map((c) => csvCell(row[c]));
  if (fault === 'ragged_row') cells.push('1');
  if (fault === 'unterminated_quote') {
    const i = Math.max(0, columns.indexOf(faultField ?? columns[1] ?? ''));
    cells[i] = `"${cells[i] ?? ''}`;
  }
  return cells.join(',');
}

/** One NDJSON line (no newline): keys in schema order; absent or null values are left out. */
export function formatJsonLine(row: Row, columns: readonly string[]): string {
  const parts: string[] = [];
  for (const c of columns) {
    const v = row[c];
    if (v === null || v === undefined) continue;
    parts.push(`${JSON.stringify(c)}:${typeof v === 'number' ? formatNumber(v) : JSON.stringify(v)}`);
  }
  return `{${parts.join(',')}}`;
}
