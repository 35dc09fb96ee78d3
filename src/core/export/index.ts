// `export`: one lakehouse table or model to Parquet (zstd, optional Hive partitions, provenance metadata), CSV,
// NDJSON or Arrow IPC. Filters are `col OP value` with the column checked against the table and the value bound;
// the output goes through a temporary name and a rename, and an existing one needs --force (a directory is
// replaced only when an earlier export wrote it: src/core/safe-output.ts). `--out -` is standard output.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBValue } from '@duckdb/node-api';
import { ident } from '../../db/sql.js';
import { InterruptedError, QueryError, UsageError } from '../../errors.js';
import { listRelations, relationColumns, type RelationColumn } from '../read/lakehouse.js';
import type { StageContext } from '../stage.js';
import { writeArrowFile } from './arrow.js';
import { copyQueryTo } from './copy.js';
import { EXPORT_FORMATS, resolveFormat, type ExportFormat } from './formats.js';
import { writeMarker } from '../safe-output.js';
import { provenance } from './metadata.js';
import { checkPartitionCount, parseMaxPartitions, parsePartitionBy, partitionedSource } from './partition.js';
import { checkOutput, commitOutput, discardOutput, pipeFile, STDOUT, tempPathFor, type ByteSink, type OutputGuard } from './output.js';

export { EXPORT_FORMATS, OUTPUT_FORMATS, resolveFormat, type ExportFormat, type OutputFormat } from './formats.js';
export { emitQuery, streamQuery, type EmitResult, type EmitTarget, type QuerySpec } from './emit.js';
export { AtomicTextFile, type TextSink } from './output.js';
export { DEFAULT_MAX_PARTITIONS, PARTITION_TRANSFORMS } from './partition.js';

/** What to export; the lakehouse (which must exist; opened read-only) is the context's. */
export interface ExportRequest {
  /** A table or view in the lakehouse, e.g. telemetry_risk or raw_telemetry. */
  table: string;
  /** A file, or a directory with partitionBy; `-` is standard output (see `stdout`). */
  out: string;
  /** Default: from the --out extension, else parquet. */
  format?: ExportFormat | undefined;
  /** Hive partitions (parquet only): a column, or `day(col)` / `hour(col)` of a timestamp column. */
  partitionBy?: readonly string[] | undefined;
  /** Refuse (before writing) an export that would write more partitions than this (default 10,000). */
  maxPartitions?: number | string | undefined;
  /** Row filters `col=value`, `col>=value`, ... (ANDed). */
  where?: readonly string[] | undefined;
  force?: boolean | undefined;
  /** The directory a relative --out is resolved against, and which is never replaced (default process.cwd()). */
  cwd?: string | undefined;
  /** Where `--out -` writes (process.stdout in the CLI); binary formats are refused when it is a terminal. */
  stdout?: ByteSink | undefined;
}

export interface ExportResult {
  table: string;
  format: ExportFormat;
  /** The file or directory written, or `-` for standard output. */
  path: string;
  rows: number;
  /** The Parquet key/value metadata written (empty for other formats). */
  metadata: Record<string, string>;
}

export interface WhereFilter {
  column: string;
  op: '=' | '!=' | '<' | '<=' | '>' | '>=';
  value: string;
}

const WHERE_RE = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|!=|<>|=|<|>)(.*)$/s;

/** Parses `col OP value` (OP one of = != <> < <= > >=) and checks the column exists. Throws UsageError. */
export function parseWhere(expr: string, columns: readonly RelationColumn[], table: string): WhereFilter {
  const m = WHERE_RE.exec(expr);
  if (m === null) {
    throw new UsageError(`--where ${JSON.stringify(expr)} is not COLUMN OP VALUE`, {
      field: '--where',
      hint: 'e.g. --where procedure_id=PROC-0001 --where "recorded_at>=2026-01-05T06:00:00Z" (OP: = != < <= > >=)',
    });
  }
  const [, column = '', rawOp = '=', value = ''] = m;
  if (!columns.some((c) => c.name === column)) {
    throw new UsageError(`--where: ${table} has no column ${JSON.stringify(column)}`, {
      field: '--where',
      hint: `columns: ${columns.map((c) => c.name).join(', ')}`,
    });
  }
  const op = (rawOp === '<>' ? '!=' : rawOp) as WhereFilter['op'];
  return { column, op, value: value.trim() };
}

/** ' WHERE "col" OP $w0 AND ...' with the values bound (DuckDB casts each to its column's type). */
export function whereSql(filters: readonly WhereFilter[]): { sql: string; params: Record<string, DuckDBValue> } {
  const params: Record<string, DuckDBValue> = {};
  const clauses = filters.map((f, i) => {
    params[`w${i}`] = f.value;
    return `${ident(f.column)} ${f.op} $w${i}`;
  });
  return { sql: clauses.length ? ` WHERE ${clauses.join(' AND ')}` : '', params };
}

function formatFor(req: ExportRequest): ExportFormat {
  const tty = req.stdout?.isTTY === true;
  return resolveFormat(req.format, req.out, tty, EXPORT_FORMATS, { fallback: 'parquet', json: 'ndjson', command: 'export' }) as ExportFormat;
}

/**
 * Exports one table or model to a file, a directory (partitionBy) or standard output (`-`). Throws UsageError for
 * a missing lakehouse, an unknown table or column, a bad --where, --partition-by with a non-Parquet format or to
 * `-`, an --out extension that contradicts --format; OutputExistsError when --out exists without --force;
 * OutputRefusedError for an --out surgctl never replaces (see safe-output.ts); QueryError when DuckDB fails.
 * ctx.signal (Ctrl-C) interrupts the running write; nothing is left at --out or beside it (InterruptedError, exit 130).
 */
export async function exportTable(req: ExportRequest, ctx: StageContext): Promise<ExportResult> {
  const { lake, signal } = ctx;
  const partitionBy = (req.partitionBy ?? []).map((c) => c.trim()).filter((c) => c !== '');
  const toStdout = req.out === STDOUT;
  if (toStdout && partitionBy.length > 0) {
    throw new UsageError('--partition-by writes a directory of files; it cannot go to standard output (--out -)', {
      field: '--partition-by',
      hint: 'give --out a directory name, e.g. --out exports/by_patient',
    });
  }
  if (toStdout && req.stdout === undefined) throw new UsageError('--out - needs standard output', { field: '--out' });
  const maxPartitions = parseMaxPartitions(req.maxPartitions);
  const guard: OutputGuard = {
    kind: 'export',
    shape: partitionBy.length > 0 ? 'directory' : 'file',
    force: req.force,
    cwd: req.cwd,
    protect: [lake.path],
  };
  // Where it goes is checked first: a refused --out (the lakehouse, a user's folder) is named as such.
  if (!toStdout) checkOutput(req.out, guard);
  const format = formatFor(req);
  if (partitionBy.length > 0 && format !== 'parquet') {
    throw new UsageError(`--partition-by writes Hive-partitioned Parquet; it cannot be used with --format ${format}`, { field: '--partition-by' });
  }
  // Fixed before opening: the sealed read-only handle may write this one temporary path and nothing else. To stdout
  // the file is written whole in a private temporary folder, then copied out (nothing named `-` is created).
  const scratch = toStdout ? mkdtempSync(join(tmpdir(), 'surgctl-export-')) : undefined;
  const temp = scratch === undefined ? tempPathFor(req.out) : join(scratch, `${req.table}.${format}`);
  try {
    return await lake.withReader(async (db) => {
    const relations = await listRelations(db);
    if (!relations.includes(req.table)) {
      throw new UsageError(`no table or model ${JSON.stringify(req.table)} in ${db.path}`, {
        field: 'table',
        hint: relations.length ? `choose one of ${relations.join(', ')}` : 'the lakehouse is empty: run surgctl load and surgctl transform',
      });
    }
    const columns = await relationColumns(db, req.table);
    const keys = parsePartitionBy(partitionBy, columns, req.table);
    const filters = (req.where ?? []).map((w) => parseWhere(w, columns, req.table));
    const where = whereSql(filters);
    const base = `SELECT * FROM ${ident(req.table)}${where.sql}`;
    if (keys.length > 0) await checkPartitionCount(db, base, where.params, keys, columns, maxPartitions);
    const sql = partitionedSource(base, keys);
    const metadata =
      format === 'parquet'
        ? await provenance(db, {
            table: req.table,
            columns,
            where,
            extra: filters.length ? { surgctl_where: filters.map((f) => `${f.column}${f.op}${f.value}`).join(' AND ') } : undefined,
          })
        : {};
    const interrupting = db.interruptOn(signal);
    try {
      if (signal?.aborted) throw new InterruptedError('export stopped');
      const rows =
        format === 'arrow'
          ? await writeArrowFile(db, sql, where.params, temp, signal)
          : await copyQueryTo(db, sql, where.params, temp, { format, partitionBy: keys.map((k) => k.name), kvMetadata: metadata });
      // An interrupt can end a streamed result early without an error: a write the signal reached is never kept.
      if (signal?.aborted) throw new InterruptedError('export stopped');
      if (scratch !== undefined && req.stdout !== undefined) {
        await pipeFile(temp, req.stdout, format === 'csv' || format === 'ndjson');
        return { table: req.table, format, path: STDOUT, rows, metadata };
      }
      if (partitionBy.length > 0) writeMarker(temp, 'export', `export ${req.table} --partition-by ${partitionBy.join(',')}`);
      commitOutput(temp, req.out, guard);
      return { table: req.table, format, path: req.out, rows, metadata };
    } catch (e) {
      discardOutput(temp);
      if (signal?.aborted) {
        throw new InterruptedError(`export of ${req.table} stopped${toStdout ? '' : `; nothing written to ${req.out}`}`);
      }
      if (e instanceof QueryError && filters.length > 0 && /Conversion Error|Could not convert|invalid .* format/i.test(e.message)) {
        throw new UsageError(`--where value does not fit its column: ${e.message}`, {
          field: '--where',
          hint: `columns: ${columns.map((c) => `${c.name} ${c.type}`).join(', ')}`,
          cause: e,
        });
      }
      throw e;
    } finally {
      interrupting.remove();
    }
    }, { writePaths: [temp] });
  } finally {
    if (scratch !== undefined) discardOutput(scratch);
  }
}
