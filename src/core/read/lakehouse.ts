// Reading the lakehouse (report, export, query), on a handle opened by src/db/lakehouse.ts Lakehouse.openReader or
// withReader (READ_ONLY and sealed, a clear usage error when it is missing): checks that the marts a reader needs
// exist (else: run transform), the relations and columns it holds, and small JSON-safe reads (readRows).
import type { DuckDBValue } from '@duckdb/node-api';
import type { Db } from '../../db/db.js';
import { isSurgctlError, QueryError, UsageError } from '../../errors.js';
import { jsonSafeConverter, type ResultRow } from './values.js';

export interface RelationColumn {
  name: string;
  type: string;
}

/** Tables and views in the main schema, by name. */
export async function listRelations(db: Db): Promise<string[]> {
  const rows = await db.all<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'main' AND table_catalog = current_database() ORDER BY 1",
  );
  return rows.map((r) => r.name);
}

/** The columns of a table or view in schema order; an empty list when it does not exist. */
export async function relationColumns(db: Db, name: string): Promise<RelationColumn[]> {
  return db.all<{ name: string; type: string }>(
    `SELECT column_name AS name, data_type AS type FROM information_schema.columns
     WHERE table_schema = 'main' AND table_catalog = current_database() AND table_name = $name ORDER BY ordinal_position`,
    { name },
  );
}

/**
 * Throws UsageError when any of `tables` is missing: the lakehouse has not been transformed (or loaded) yet.
 * `what` names the reader, e.g. 'report top-alerts'.
 */
export async function requireRelations(db: Db, tables: readonly string[], what: string): Promise<void> {
  const have = new Set(await listRelations(db));
  const missing = tables.filter((t) => !have.has(t));
  if (missing.length === 0) return;
  const raw = missing.every((t) => t.startsWith('raw_') || t === 'loads' || t === 'quarantine');
  throw new UsageError(`${what} needs table${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, not in ${db.path}`, {
    file: db.path,
    hint: raw
      ? 'load data first: surgctl load DIR (or surgctl pipeline)'
      : 'build the marts first: surgctl transform (or surgctl pipeline)',
  });
}

/** The result columns of a query (prepared, not run), as name and DuckDB type text. */
export async function queryColumns(db: Db, sql: string): Promise<RelationColumn[]> {
  let prepared;
  try {
    prepared = await db.prepare(sql);
  } catch (e) {
    if (isSurgctlError(e)) throw e;
    throw new QueryError((e as Error).message.split('\n')[0] ?? 'prepare failed', sql, undefined, { cause: e });
  }
  try {
    const cols: RelationColumn[] = [];
    for (let i = 0; i < prepared.columnCount; i++) cols.push({ name: prepared.columnName(i), type: prepared.columnType(i).toString() });
    return cols;
  } finally {
    prepared.destroySync();
  }
}

/** Runs a small query and returns JSON-safe rows (ISO instants, numbers as numbers). */
export async function readRows<T = ResultRow>(db: Db, sql: string, params: Record<string, DuckDBValue> = {}): Promise<T[]> {
  try {
    const reader = await db.read(sql, params);
    return reader.convertRowObjects(jsonSafeConverter) as unknown as T[];
  } catch (e) {
    if (isSurgctlError(e)) throw e;
    throw new QueryError((e as Error).message.split('\n')[0] ?? 'query failed', sql, params, { cause: e });
  }
}
