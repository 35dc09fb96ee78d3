// One way out for every query-shaped result (report, query): binary formats written by DuckDB (parquet) or
// apache-arrow (arrow) to --out, text formats streamed through an injected renderer to stdout or to --out; `--out -`
// is stdout (binary only when it is not a terminal). Files always go through a temporary name and a rename; an
// existing --out needs --force and is never a directory (src/core/safe-output.ts).
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Db, Params } from '../../db/db.js';
import { isSurgctlError, QueryError, UsageError, type SurgctlError } from '../../errors.js';
import type { ChartSpec, TabularResult, TextRenderer } from '../read/result.js';
import { createRowReader, describeColumns, type ResultRow } from '../read/values.js';
import { writeArrowFile } from './arrow.js';
import { copyQueryTo } from './copy.js';
import { isFileFormat, type OutputFormat } from './formats.js';
import { AtomicTextFile, checkOutput, commitOutput, discardOutput, pipeFile, STDOUT, tempPathFor, type ByteSink, type OutputGuard } from './output.js';

export interface QuerySpec {
  name: string;
  title: string;
  sql: string;
  params?: Params | undefined;
  charts?: ChartSpec[] | undefined;
  about?: Record<string, string> | undefined;
  filters?: Record<string, string> | undefined;
  textColumns?: readonly string[] | undefined;
  priority?: readonly string[] | undefined;
}

export interface EmitTarget {
  format: OutputFormat;
  /** A file to write instead of stdout (required for parquet and arrow); `-` is stdout. */
  out?: string | undefined;
  force?: boolean | undefined;
  /** The directory a relative --out is resolved against, and which is never replaced (default process.cwd()). */
  cwd?: string | undefined;
  /** Standard output: text formats, and parquet/arrow with `--out -` when it is not a terminal. */
  stdout: ByteSink;
  /** Renders text formats; required unless the format is parquet or arrow. */
  render?: TextRenderer | undefined;
  /** Parquet key/value metadata. */
  kvMetadata?: Record<string, string> | undefined;
  /** The temporary path --out is written through (see stagedOutput); a fresh one beside --out when absent. */
  temp?: string | undefined;
}

export interface EmitResult {
  format: OutputFormat;
  rows: number;
  /** The file written, when --out was given. */
  path?: string | undefined;
}

function queryFailure(e: unknown, sql: string, params: Params | undefined): SurgctlError {
  if (isSurgctlError(e)) return e;
  return new QueryError((e as Error).message.split('\n')[0] ?? 'query failed', sql, params, { cause: e });
}

/** Streams the query's rows as a TabularResult (JSON-safe values). Do not run other statements on db meanwhile. */
export async function streamQuery(db: Db, spec: QuerySpec): Promise<TabularResult> {
  const result = await db.stream(spec.sql, spec.params).catch((e: unknown) => {
    throw queryFailure(e, spec.sql, spec.params);
  });
  const names = result.columnNames();
  const types = result.columnTypes();
  const columns = describeColumns(names, types);
  const read = createRowReader(names, types);
  async function* rows(): AsyncGenerator<ResultRow[]> {
    try {
      for await (const chunk of result) {
        if (chunk.rowCount > 0) yield read(chunk);
      }
    } catch (e) {
      throw queryFailure(e, spec.sql, spec.params);
    }
  }
  return { name: spec.name, title: spec.title, columns, rows: rows(), charts: spec.charts, about: spec.about, filters: spec.filters, textColumns: spec.textColumns, priority: spec.priority };
}

/**
 * Fixes, before the lakehouse is opened, the temporary path a Parquet output is written through (beside --out, or
 * in a private folder of its own for `--out -`, made when the file is written), so the sealed read-only handle can
 * allow exactly that path (openDb writePaths) and nothing else.
 */
export function stagedOutput(target: EmitTarget): { target: EmitTarget; writePaths: string[] } {
  if (target.format !== 'parquet' || target.out === undefined) return { target, writePaths: [] };
  const temp = target.temp ?? (target.out === STDOUT ? join(tmpdir(), `surgctl-out-${randomUUID()}`, 'result.parquet') : tempPathFor(target.out));
  return { target: { ...target, temp }, writePaths: [temp] };
}

/** Writes the query's result in target.format. Returns the rows written (and the path for --out). */
export async function emitQuery(db: Db, spec: QuerySpec, target: EmitTarget): Promise<EmitResult> {
  const { format } = target;
  const toStdout = target.out === undefined || target.out === STDOUT;
  const out = toStdout ? undefined : target.out;
  const guard: OutputGuard = { kind: 'report', shape: 'file', force: target.force, cwd: target.cwd, protect: [db.path] };
  if (isFileFormat(format)) {
    if (target.out === undefined) throw new UsageError(`--format ${format} needs --out PATH`);
    if (out !== undefined) checkOutput(out, guard);
    // Binary to stdout: written whole to a private temporary file first, then copied out.
    const temp = target.temp ?? (out === undefined ? join(tmpdir(), `surgctl-out-${randomUUID()}`, `result.${format}`) : tempPathFor(out));
    const scratch = out === undefined ? dirname(temp) : undefined;
    if (scratch !== undefined) mkdirSync(scratch, { recursive: true, mode: 0o700 });
    try {
      const rows =
        format === 'parquet'
          ? await copyQueryTo(db, spec.sql, spec.params, temp, { format: 'parquet', kvMetadata: target.kvMetadata })
          : await writeArrowFile(db, spec.sql, spec.params, temp);
      if (out === undefined) {
        await pipeFile(temp, target.stdout, false);
        return { format, rows };
      }
      commitOutput(temp, out, guard);
      return { format, rows, path: out };
    } catch (e) {
      discardOutput(temp);
      throw e;
    } finally {
      if (scratch !== undefined) discardOutput(scratch);
    }
  }
  if (!target.render) throw new Error(`no renderer for --format ${format}`);
  const file = out === undefined ? undefined : new AtomicTextFile(out, guard);
  try {
    const result = await streamQuery(db, spec);
    const rows = await target.render(result, file ?? target.stdout);
    file?.commit();
    return { format, rows, ...(out === undefined ? {} : { path: out }) };
  } catch (e) {
    file?.abort();
    throw e;
  }
}
