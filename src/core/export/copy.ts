// Files DuckDB writes itself with COPY ... TO: Parquet (zstd, optional Hive partitions, key/value metadata),
// CSV, NDJSON and one JSON array (instants rewritten as ISO 8601 UTC strings in SQL so every text output prints
// them alike). export, report and query write through it, and so does the alert browser's `x` export.
import type { Db, Params } from '../../db/db.js';
import { literal, quoteAnyIdent } from '../../db/sql.js';
import { isSurgctlError, QueryError, type SurgctlError } from '../../errors.js';
import type { DataFormat } from '../domain.js';
import { columnKind, isoSql } from '../read/values.js';

export interface CopyOptions {
  /** A data format, or `json`: one JSON array of objects (the alert browser's export). */
  format: DataFormat | 'json';
  /** Hive partition columns (parquet only); `path` is then a directory. */
  partitionBy?: readonly string[] | undefined;
  /** Parquet key/value metadata. */
  kvMetadata?: Record<string, string> | undefined;
}

function fail(e: unknown, sql: string, params: Params | undefined): SurgctlError {
  // The Lakehouse already wrapped DuckDB's error (a sealed handle's refusal as a UsageError).
  if (isSurgctlError(e)) return e;
  return new QueryError((e as Error).message.split('\n')[0] ?? 'COPY failed', sql, params, { cause: e });
}

/** The source query with instant columns projected to ISO strings (for CSV and NDJSON). */
async function isoProjection(db: Db, sql: string, params: Params | undefined): Promise<string> {
  let prepared;
  try {
    prepared = await db.prepare(sql);
  } catch (e) {
    throw fail(e, sql, params);
  }
  const cols: string[] = [];
  let changed = false;
  for (let i = 0; i < prepared.columnCount; i++) {
    const name = quoteAnyIdent(prepared.columnName(i));
    if (columnKind(prepared.columnType(i)) === 'instant') {
      cols.push(`${isoSql(`q.${name}`)} AS ${name}`);
      changed = true;
    } else cols.push(`q.${name}`);
  }
  prepared.destroySync();
  return changed ? `SELECT ${cols.join(', ')} FROM (${sql}\n) AS q` : sql;
}

/**
 * Writes the rows of `sql` to `path` with COPY ... TO (the path exactly as given: callers pass a temporary name).
 * Returns the number of rows written. Throws QueryError when DuckDB refuses the query or the write.
 */
export async function copyQueryTo(db: Db, sql: string, params: Params | undefined, path: string, options: CopyOptions): Promise<number> {
  const source = options.format === 'parquet' ? sql : await isoProjection(db, sql, params);
  const opts: string[] = [];
  if (options.format === 'parquet') {
    opts.push('FORMAT parquet', 'COMPRESSION zstd');
    if (options.partitionBy && options.partitionBy.length > 0) {
      opts.push(`PARTITION_BY (${options.partitionBy.map(quoteAnyIdent).join(', ')})`);
    }
    const kv = Object.entries(options.kvMetadata ?? {});
    if (kv.length > 0) opts.push(`KV_METADATA {${kv.map(([k, v]) => `${literal(k)}: ${literal(v)}`).join(', ')}}`);
  } else if (options.format === 'csv') {
    opts.push('FORMAT csv', 'HEADER true');
  } else if (options.format === 'json') {
    opts.push('FORMAT json', 'ARRAY true');
  } else {
    opts.push('FORMAT json');
  }
  const copy = `COPY (${source}\n) TO ${literal(path)} (${opts.join(', ')})`;
  try {
    const result = await db.read(copy, params);
    const rows = result.getRowObjects();
    const count = rows[0] ? Object.values(rows[0])[0] : result.rowsChanged;
    return Number(count ?? 0);
  } catch (e) {
    throw fail(e, copy, params);
  }
}
