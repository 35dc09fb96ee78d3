// Writers: small JS-built tables go through an Appender into DuckDB (for Parquet) or straight to a text file;
// SQL-built rows go through COPY. Text rows are written as one preformatted VARCHAR line per row through DuckDB's
// CSV writer with quoting and escaping off, so bad rows and broken CSV lines come out byte for byte as planned.
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import type { Db } from '../../db/db.js';
import { ident, literal, quoteAnyIdent } from '../../db/sql.js';
import { toIoError } from '../../errors.js';
import { duckType, type DatasetSchema } from '../schemas.js';
import { formatCsvLine, formatJsonLine, type LineFault } from './format.js';
import type { DataFormat } from './options.js';
import type { Cell, Row } from './reference.js';

export type ColumnType = 'VARCHAR' | 'DOUBLE' | 'BIGINT' | 'INTEGER' | 'BOOLEAN';

/** Creates a table and fills it through one Appender. Values must match the declared types (checked upstream). */
export async function createFilledTable(db: Db, name: string, columns: [string, ColumnType][], rows: Iterable<Cell[]>): Promise<void> {
  await db.run(`CREATE OR REPLACE TABLE ${ident(name)} (${columns.map(([c, t]) => `${ident(c)} ${t}`).join(', ')})`);
  await appendRows(db, name, columns, rows);
}

/** Appends rows to a table made by createFilledTable, through one Appender. */
export async function appendRows(db: Db, name: string, columns: [string, ColumnType][], rows: Iterable<Cell[]>): Promise<void> {
  const app = await db.appender(name);
  try {
    for (const row of rows) {
      columns.forEach(([, t], i) => {
        const v = row[i];
        if (v === null || v === undefined) app.appendNull();
        else if (t === 'VARCHAR') app.appendVarchar(String(v));
        else if (t === 'DOUBLE') app.appendDouble(Number(v));
        else if (t === 'BIGINT') app.appendBigInt(BigInt(v as number));
        else if (t === 'INTEGER') app.appendInteger(Number(v));
        else app.appendBoolean(Boolean(v));
      });
      app.endRow();
    }
    app.flushSync();
  } finally {
    app.closeSync();
  }
}

/** COPY options that write each row's single VARCHAR column verbatim, one line each. */
export function lineCopyOptions(header: boolean): string {
  return `(FORMAT csv, HEADER ${header ? 'true' : 'false'}, QUOTE '', ESCAPE '', DELIMITER E'\\x01', NEW_LINE E'\\n')`;
}

/** A one-column SELECT whose column name is the CSV header line (written as the header by COPY). */
export function lineSelect(format: Exclude<DataFormat, 'parquet'>, columns: readonly string[], lineExpr: string, from: string): string {
  const name = format === 'csv' ? columns.join(',') : 'line';
  return `SELECT ${lineExpr} AS ${quoteAnyIdent(name)} FROM (${from})`;
}

/**
 * The SQL expression of one good text line from per-column VARCHAR expressions. Values the generator makes never
 * need CSV quoting or JSON escaping (identifiers, enum values, numbers, ISO instants).
 */
export function goodLineSql(format: Exclude<DataFormat, 'parquet'>, ds: DatasetSchema, exprs: Record<string, string>): string {
  const e = (c: string): string => {
    const x = exprs[c];
    if (x === undefined) throw new Error(`no SQL expression for ${ds.name}.${c}`);
    return x;
  };
  if (format === 'csv') return `concat_ws(',', ${ds.columns.map(e).join(', ')})`;
  const parts = ds.columns.map((c, i) => {
    const t = ds.columnTypes[c]?.type ?? 'string';
    const quoted = t === 'string';
    const keyText = `${i === 0 ? '{' : ','}"${c}":${quoted ? '"' : ''}`;
    return `'${keyText}' || ${e(c)}${quoted ? ` || '"'` : ''}`;
  });
  return `${parts.join(' || ')} || '}'`;
}

/** Runs a COPY, turning a failure into an IoError naming the file. */
export async function copyTo(db: Db, select: string, path: string, options: string): Promise<void> {
  try {
    await db.run(`COPY (${select}) TO ${literal(path)} ${options}`);
  } catch (e) {
    throw toIoError(path, e, 'write');
  }
}

export const PARQUET_OPTIONS = '(FORMAT parquet, COMPRESSION zstd)';

/** One row as the generator keeps it before writing: the values, and the CSV fault it carries, if any. */
export interface OutRow {
  row: Row;
  fault?: LineFault | undefined;
  faultField?: string | undefined;
}

/** Writes JS-built rows: text formats directly, Parquet through a DuckDB table cast to the schema's types. */
export async function writeJsRows(db: Db, ds: DatasetSchema, format: DataFormat, rows: OutRow[], path: string): Promise<void> {
  if (format !== 'parquet') {
    const lines: string[] = [];
    if (format === 'csv') lines.push(ds.columns.join(','));
    for (const r of rows) {
      lines.push(format === 'csv' ? formatCsvLine(r.row, ds.columns, r.fault, r.faultField) : formatJsonLine(r.row, ds.columns));
    }
    try {
      writeFileSync(path, lines.length ? `${lines.join('\n')}\n` : '');
    } catch (e) {
      throw toIoError(path, e, 'write');
    }
    return;
  }
  const table = `gen_${ds.name}`;
  await createFilledTable(
    db,
    table,
    [['ord', 'BIGINT'], ...ds.columns.map((c) => [c, 'VARCHAR'] as [string, ColumnType])],
    rows.map((r, i) => [i, ...ds.columns.map((c) => textValue(r.row[c]))]),
  );
  const casts = ds.columns.map((c) => `CAST(${ident(c)} AS ${duckType(ds.columnTypes[c] ?? { type: 'string' })}) AS ${ident(c)}`);
  await copyTo(db, `SELECT ${casts.join(', ')} FROM ${ident(table)} ORDER BY ord`, path, PARQUET_OPTIONS);
  await db.run(`DROP TABLE ${ident(table)}`);
}

/** A value as the VARCHAR DuckDB casts back to the column type (numbers as DuckDB prints them). */
export function textValue(v: Cell | undefined): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isInteger(v) ? v.toFixed(1) : String(v);
  return String(v);
}

/** Size and sha256 of a written file, streamed. */
export async function fileDigest(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    return { bytes: statSync(path).size, sha256: hash.digest('hex') };
  } catch (e) {
    throw toIoError(path, e, 'read back');
  }
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Hashes a file while `work` (a DuckDB COPY running on its own thread) appends to it, so the sha256 costs no extra
 * pass. CSV and Parquet writers only append. If the file was replaced or its size differs from what was read, the
 * file is hashed again from the start. `onRead` hears the bytes and line breaks read so far (progress).
 */
export async function digestWhileWriting(
  path: string,
  work: Promise<void>,
  onRead?: (bytes: number, newlines: number) => void,
): Promise<{ bytes: number; sha256: string }> {
  let finished = false;
  let failure: unknown;
  let failed = false;
  const watched = work.then(
    () => { finished = true; },
    (e: unknown) => { finished = true; failed = true; failure = e; },
  );
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 22);
  let fd: number | undefined;
  let pos = 0;
  let newlines = 0;
  try {
    for (;;) {
      const last = finished;
      if (fd === undefined) {
        try {
          fd = openSync(path, 'r');
        } catch {
          if (last) break;
          await pause(10);
          continue;
        }
      }
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, pos);
        if (n <= 0) break;
        hash.update(buf.subarray(0, n));
        pos += n;
        if (onRead) {
          for (let i = buf.indexOf(10); i !== -1 && i < n; i = buf.indexOf(10, i + 1)) newlines++;
          onRead(pos, newlines);
        }
      }
      if (last) break;
      await pause(10);
    }
    await watched;
    if (failed) throw failure;
    const same = fd !== undefined && fstatSync(fd).ino === statSync(path).ino && statSync(path).size === pos;
    return same ? { bytes: pos, sha256: hash.digest('hex') } : await fileDigest(path);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
