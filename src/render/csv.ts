// CSV for results (RFC 4180 quoting, LF line ends, a header row): null is an empty cell, lists and objects are
// JSON text, numbers and ISO instants as they are.
import type { TabularResult } from '../core/read/result.js';
import type { TextSink } from '../core/export/output.js';
import type { JsonValue } from '../core/read/values.js';

export function csvCell(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return '';
  const s = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\n\r]|^\s|\s$/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export async function renderCsv(result: TabularResult, sink: TextSink): Promise<number> {
  const names = result.columns.map((c) => c.name);
  sink.write(`${names.map(csvCell).join(',')}\n`);
  let n = 0;
  for await (const batch of result.rows) {
    sink.write(batch.map((row) => `${names.map((k) => csvCell(row[k])).join(',')}\n`).join(''));
    n += batch.length;
  }
  return n;
}
