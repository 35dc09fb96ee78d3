// Machine formats for results: json is one array (one object per line inside it, so diffs and `head` stay
// readable), ndjson one object per line. Values are already JSON-safe (ISO instants, numbers as numbers).
import type { TabularResult } from '../core/read/result.js';
import type { TextSink } from '../core/export/output.js';

export async function renderJson(result: TabularResult, sink: TextSink): Promise<number> {
  let n = 0;
  sink.write('[');
  for await (const batch of result.rows) {
    const parts: string[] = [];
    for (const row of batch) parts.push(`${n++ === 0 ? '\n' : ',\n'}${JSON.stringify(row)}`);
    sink.write(parts.join(''));
  }
  sink.write(n === 0 ? ']\n' : '\n]\n');
  return n;
}

export async function renderNdjson(result: TabularResult, sink: TextSink): Promise<number> {
  let n = 0;
  for await (const batch of result.rows) {
    sink.write(batch.map((row) => `${JSON.stringify(row)}\n`).join(''));
    n += batch.length;
  }
  return n;
}

/**
 * The report's charts as Vega-Lite specs for a notebook: one JSON array of complete specs (data inline), each
 * with its title; the report's rows are not written. Returns the number of charts.
 */
export async function renderVegaLite(result: TabularResult, sink: TextSink): Promise<number> {
  const charts = result.charts ?? [];
  sink.write(`${JSON.stringify(charts.map((c) => ({ ...c.spec, name: c.kind })), null, 1)}\n`);
  return charts.length;
}
