// Helpers for the generator tests: a small generated dataset, ajv set up on the dataset contracts, and readers
// that turn each output format back into JSON rows (one per data row, with its physical line).
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { parse } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../../src/db/db.js';
import { literal } from '../../../src/db/sql.js';
import { loadDatasetSchema, type DatasetSchema, type JsonSchema } from '../../../src/core/schemas.js';
import { generateDataset, type GenerateOptions, type GenerateResult } from '../../../src/core/generate/index.js';

const addFormats = addFormatsImport as unknown as (ajv: Ajv2020) => Ajv2020;

/** Sizes that keep a full generation well under a second. */
export const SMALL: Omit<GenerateOptions, 'out'> = {
  robots: 3,
  patients: 16,
  procedures: 24,
  telemetryRows: 4000,
  vitalsHours: 8,
  badRows: 0.03,
  incidents: 0.34,
};

export function generate(out: string, extra: Partial<GenerateOptions> = {}): Promise<GenerateResult> {
  return generateDataset({ out, ...SMALL, ...extra });
}

/** ajv 2020-12 with formats; the contracts' x- keywords registered as annotations. */
export function validators(): Map<string, ValidateFunction> {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictNumbers: true });
  addFormats(ajv);
  const xKeywords = new Set<string>();
  const collect = (s: unknown): void => {
    if (Array.isArray(s)) s.forEach(collect);
    else if (s && typeof s === 'object') {
      for (const [k, v] of Object.entries(s)) {
        if (k.startsWith('x-')) xKeywords.add(k);
        if (k !== 'enum' && k !== 'const') collect(v);
      }
    }
  };
  const names = ['robots', 'patients', 'procedures', 'telemetry', 'vitals', 'outcomes', 'maintenance'];
  for (const n of names) collect(loadDatasetSchema(n).schema);
  for (const k of xKeywords) ajv.addKeyword({ keyword: k });
  return new Map(names.map((n) => [n, ajv.compile(loadDatasetSchema(n).schema as JsonSchema & object)]));
}

/** The x-compare rules (procedures: ended_at >= started_at), checked in JS. */
export function xCompareFailures(ds: DatasetSchema, row: Record<string, unknown>): string[] {
  const rules = (ds.schema['x-compare'] as { field: string; op: string; other: string }[] | undefined) ?? [];
  const out: string[] = [];
  for (const r of rules) {
    const a = Date.parse(String(row[r.field]));
    const b = Date.parse(String(row[r.other]));
    if (Number.isNaN(a) || Number.isNaN(b)) continue;
    const ok = r.op === '>=' ? a >= b : r.op === '>' ? a > b : r.op === '<=' ? a <= b : r.op === '<' ? a < b : a === b;
    if (!ok) out.push(`${r.field} ${r.op} ${r.other}`);
  }
  return out;
}

export interface ReadRow {
  /** 1-based data row. */
  row: number;
  line: number;
  /** Parsed values (CSV cells coerced by the schema's JSON types; empty cell = absent). */
  value: Record<string, unknown>;
  /** CSV structure problems found on the line. */
  structure: 'ok' | 'csv_field_count' | 'csv_unterminated_quote';
}

function coerceCell(type: string, cell: string): unknown {
  if (type === 'number' && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(cell)) return Number(cell);
  if (type === 'boolean' && (cell === 'true' || cell === 'false')) return cell === 'true';
  return cell;
}

/** Reads every data row of a generated file back into JS (small files only). */
export async function readRows(dir: string, file: string, ds: DatasetSchema): Promise<ReadRow[]> {
  const path = join(dir, file);
  if (file.endsWith('.csv')) {
    const lines = readFileSync(path, 'utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    const header = lines[0]?.split(',') ?? [];
    return lines.slice(1).map((text, i) => {
      let cells: string[];
      let structure: ReadRow['structure'] = 'ok';
      try {
        cells = (parse(text, { relax_column_count: true }) as string[][])[0] ?? [];
      } catch {
        return { row: i + 1, line: i + 2, value: {}, structure: 'csv_unterminated_quote' };
      }
      if (cells.length !== header.length) structure = 'csv_field_count';
      const value: Record<string, unknown> = {};
      header.forEach((h, j) => {
        const c = cells[j];
        if (c !== undefined && c !== '') value[h] = coerceCell(ds.columnTypes[h]?.type ?? 'string', c);
        else if (c === '' && h === 'error_code') value[h] = '';
      });
      return { row: i + 1, line: i + 2, value, structure };
    });
  }
  if (file.endsWith('.ndjson')) {
    const lines = readFileSync(path, 'utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.map((text, i) => ({ row: i + 1, line: i + 1, value: JSON.parse(text) as Record<string, unknown>, structure: 'ok' }));
  }
  const db = await openDb(':memory:');
  try {
    // Optional columns a file leaves out (telemetry's kinematic ones) are absent values.
    const present = new Set((await db.all<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${literal(path)})`)).map((r) => r.column_name));
    const cols = ds.columns.filter((c) => present.has(c)).map((c) => {
      const f = ds.columnTypes[c]?.format;
      if (f === 'date-time') return `strftime(${c}, '%Y-%m-%dT%H:%M:%S.%gZ') AS ${c}`;
      if (f === 'date') return `strftime(${c}, '%Y-%m-%d') AS ${c}`;
      return c;
    });
    const rows = await db.all(`SELECT ${cols.join(', ')} FROM read_parquet(${literal(path)})`);
    return rows.map((r, i) => ({
      row: i + 1,
      line: i + 1,
      value: Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null)),
      structure: 'ok',
    }));
  } finally {
    db.close();
  }
}
