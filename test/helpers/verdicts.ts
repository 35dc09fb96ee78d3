// The verdict every engine gives each row of one file: the CSV fast path, the exact compiled staging, ajv, and load
// (inserted, or quarantined with its keywords; and which typed columns came out NULL). Real DuckDB, real files.
import type { Db } from '../../src/db/db.js';
import { ident } from '../../src/db/sql.js';
import { loadOneFile } from '../../src/core/load/load.js';
import { rawTableName } from '../../src/core/load/raw-tables.js';
import type { DatasetSchema } from '../../src/core/schemas.js';
import { dropStaged, stageAndValidate } from '../../src/core/validate/index.js';
import { lakeAt } from './lake.js';

export type ValidatePath = 'fast' | 'exact' | 'ajv';

export interface FileVerdicts {
  /** Physical line -> the row's failures as sorted "field:keyword" (valid rows absent). */
  errors: Record<number, string>;
  /** Physical line -> the row's warnings as sorted "field:keyword" (rows without warnings absent). */
  warnings: Record<number, string>;
  rowsRead: number;
  /** Whether the fast path decided the file (validate) — false for exact, ajv and load. */
  fastPath: boolean;
}

const keywords = (list: { field: string | null; keyword: string }[]): string =>
  [...new Set(list.map((e) => `${e.field}:${e.keyword}`))].sort().join(' ');

/** validate's verdicts for `file` by one path (warnings read from the examples, which are not capped here). */
export async function validateVerdicts(db: Db, file: string, ds: DatasetSchema, path: ValidatePath): Promise<FileVerdicts> {
  const s = await stageAndValidate(db, { path: file }, ds, { engine: path === 'ajv' ? 'ajv' : 'compiled', materializeValid: false, examples: 1e6, fastPath: path === 'fast' });
  try {
    const rows = await db.all<{ line: number; errors: string }>(`SELECT line::INTEGER AS line, errors FROM ${ident(s.quarantineTable)}`);
    const errors: Record<number, string> = {};
    for (const r of rows) errors[Number(r.line)] = keywords(JSON.parse(r.errors) as { field: string | null; keyword: string }[]);
    const warnings: Record<number, string> = {};
    for (const e of s.examples.filter((x) => x.severity === 'warn')) {
      warnings[e.line] = keywords([...(warnings[e.line] ?? '').split(' ').filter(Boolean).map((w) => {
        const at = w.lastIndexOf(':');
        return { field: w.slice(0, at), keyword: w.slice(at + 1) };
      }), e]);
    }
    return { errors, warnings, rowsRead: s.rowsRead, fastPath: s.fastPath };
  } finally {
    await dropStaged(db, s);
  }
}

export interface LoadVerdicts {
  /** Physical line -> failures as sorted "field:keyword", from the lakehouse's quarantine table. */
  errors: Record<number, string>;
  /** Physical line of each inserted row -> the schema columns that are NULL in raw_<dataset>. */
  inserted: Record<number, string[]>;
  /** Physical line of each inserted row -> its schema columns as DuckDB prints them (TIMESTAMPTZ as '... +00'). */
  values: Record<number, Record<string, unknown>>;
  rowsRead: number;
}

/**
 * Loads `file` into the migrated lakehouse `db` (foreign keys not checked), reads back what landed, and empties the
 * raw table again so the next file's keys are new.
 */
export async function loadVerdicts(db: Db, file: string, ds: DatasetSchema, quarantineDir: string): Promise<LoadVerdicts> {
  const r = await loadOneFile(db, { path: file, display: file, ds }, { lake: lakeAt(':memory:'), allowOrphans: true, force: true, quarantineDir });
  const q = await db.all<{ line: number; errors: string }>('SELECT line::INTEGER AS line, errors FROM quarantine WHERE load_id = $l', { l: r.load_id });
  const errors: Record<number, string> = {};
  for (const x of q) errors[Number(x.line)] = keywords(JSON.parse(x.errors) as { field: string | null; keyword: string }[]);
  const nullCols = ds.columns.map((c) => `CASE WHEN ${ident(c)} IS NULL THEN ${`'${c.replaceAll("'", "''")}'`} END`).join(', ');
  const rows = await db.all<{ line: number; nulls: (string | null)[] } & Record<string, unknown>>(
    `SELECT ${ds.columns.map(ident).join(', ')}, _source_line::INTEGER AS line, [${nullCols}] AS nulls FROM ${rawTableName(ds.name)} WHERE _load_id = $l`,
    { l: r.load_id });
  const inserted: Record<number, string[]> = {};
  const values: Record<number, Record<string, unknown>> = {};
  for (const x of rows) {
    inserted[Number(x.line)] = x.nulls.filter((c): c is string => c !== null);
    values[Number(x.line)] = Object.fromEntries(ds.columns.map((c) => [c, x[c]]));
  }
  await db.run(`DELETE FROM ${rawTableName(ds.name)}`);
  if (r.rows_duplicate !== 0) throw new Error(`loadVerdicts: ${r.rows_duplicate} rows were duplicates of earlier loads`);
  return { errors, inserted, values, rowsRead: r.rows_read };
}
