// The shape every tabular output shares (report, query, export to text): named, typed columns and rows that
// arrive in batches, so a renderer can stream JSON/CSV or collect for a fitted table. Renderers live in
// src/render and are handed in by the CLI: the core never draws.
import type { ResultColumn, ResultRow } from './values.js';

/** One chart: a complete Vega-Lite spec (data inline), drawn to SVG by src/render or handed to a notebook. */
export interface ChartSpec {
  /** What it shows: vitals, risk, alerts-procedure, alerts-robot, quality. */
  kind: string;
  title: string;
  spec: Record<string, unknown>;
}

/** Where text outputs go: process stdout, or an AtomicTextFile (export/output.ts). */
export interface TextSink {
  write(chunk: string): unknown;
}

export interface TabularResult {
  /** e.g. 'top-alerts' or 'query'. */
  name: string;
  /** A human title, e.g. 'Top alerts'. */
  title: string;
  columns: ResultColumn[];
  /** JSON-safe rows (see values.ts), in the result's stable order. Iterate once. */
  rows: AsyncIterable<ResultRow[]>;
  /** Charts as Vega-Lite specs (reports only, for the html and vega-lite formats). */
  charts?: ChartSpec[] | undefined;
  /** Where and how the result was made, for page headers, e.g. { lakehouse: '/x.duckdb', last_load_id: 'L…' }. */
  about?: Record<string, string> | undefined;
  /** The filters that shaped the result, for headers (e.g. { patient: 'PAT-0001' }). */
  filters?: Record<string, string> | undefined;
  /** Free-text columns (a terminal table shows them last, elided or under the row); absent: the renderer guesses. */
  textColumns?: readonly string[] | undefined;
  /** Columns most important first, for a narrow terminal (absent: ids and instants, then the rest in order). */
  priority?: readonly string[] | undefined;
}

/** Renders a result as text to a sink; returns the number of rows written. */
export type TextRenderer = (result: TabularResult, sink: TextSink) => Promise<number>;

/** A materialised result, e.g. for tests and the TUI. */
export interface MaterialisedResult {
  columns: ResultColumn[];
  rows: ResultRow[];
}

/** Collects every row of a result. For bounded results only (reports with a limit, tests). */
export async function collectRows(result: Pick<TabularResult, 'columns' | 'rows'>): Promise<MaterialisedResult> {
  const rows: ResultRow[] = [];
  for await (const batch of result.rows) rows.push(...batch);
  return { columns: result.columns, rows };
}
