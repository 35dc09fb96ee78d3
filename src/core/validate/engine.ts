// stageAndValidate: one input file staged into DuckDB and checked, set-at-a-time. Leaves two TEMP tables in the
// caller's Db: the valid rows typed per duckType() and the quarantined rows with their reasons. The row checks run
// compiled (one SQL query) or, for what the compiler does not support, through ajv row by row.
import type { DuckDBValue } from '@duckdb/node-api';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../../db/db.js';
import { ident, literal, quoteAnyIdent } from '../../db/sql.js';
import { ConfigError, QueryError, toIoError, UsageError } from '../../errors.js';
import { duckType, type DatasetSchema, type JsonSchema } from '../schemas.js';
import { coerceCsvCell, compileAjv, mapAjvErrors, propertyTypes, schemaProblem, type RowError } from './ajv-engine.js';
import { compileChecks, FORMAT_MACROS_SQL, unsupportedReasons, type CompileSource } from './compile.js';
import { mixesLineEndings, scanCsv, writeLfCopy, type CsvScan } from './csv-scan.js';
import type { EngineName, ErrorExample, FileError, ProgressPhase, StagedValidation } from './staged.js';
import { castTextSql, dropStaged, ERR_STRUCT, publicErrorsSql, rejectMessageSql, STAGE_DB, stageRef, tempName } from './stage-common.js';
import { tryFastCsv } from './fast-csv.js';
import { dateTimeProperties, isLeapSecondDateTime, LEAP_SECOND_KEYWORD, LEAP_SECOND_MESSAGE } from './formats.js';
import { formatFromName, sniffFile, type InputFormat } from './inputs.js';

export type EngineChoice = 'auto' | 'compiled' | 'ajv';

export interface StageInput {
  /** File to read (absolute or relative to the process cwd). */
  path: string;
  /** Name written into quarantine records and messages (default: path). */
  displayName?: string;
  /** Default: from the file name, else sniffed from the first bytes. */
  format?: InputFormat;
}

export interface StageOptions {
  /** CSV delimiter; default sniffed from the header line. */
  delimiter?: string | undefined;
  engine?: EngineChoice | undefined;
  /** Foreign-key targets: dataset name -> a table with the referenced key columns (VARCHAR) of its valid rows. */
  foreignKeyTables?: Record<string, string> | undefined;
  /** How many failing-row examples to keep in the result (default 20). */
  examples?: number | undefined;
  /** Build the typed valid table (default true; validate without --valid-out skips it). */
  materializeValid?: boolean | undefined;
  /** The valid rows may be a TEMP view over the staged data, read before dropStaged (load: the rows are written once,
   *  from the staged read into the raw table). Lets a CSV file take the line fast path (fast-csv.ts). */
  validView?: boolean | undefined;
  /** Internal: false keeps a CSV file off the line fast path (fast-csv.ts hands its tail back this way). */
  fastPath?: boolean | undefined;
  /** Called as each phase starts (for a progress display); step is 1-based of `of`. */
  onProgress?: ((phase: ProgressPhase, step: number, of: number) => void) | undefined;
}

export type { EngineName, ErrorExample, FileError, ProgressPhase, StagedValidation };

const PHASES: ProgressPhase[] = ['reading', 'mapping lines', 'checking rows', 'keys', 'quarantine', 'valid rows', 'summary'];



const macrosInstalled = new WeakSet<object>();
async function installMacros(db: Db): Promise<void> {
  if (macrosInstalled.has(db)) return;
  for (const stmt of FORMAT_MACROS_SQL.split(';').map((s) => s.trim()).filter(Boolean)) await db.run(stmt);
  await db.run(`ATTACH IF NOT EXISTS ':memory:' AS ${STAGE_DB} (COMPRESS)`);
  macrosInstalled.add(db);
}


interface Staging {
  table: string;
  /** SQL over the staged table yielding _row (the parse ordinal k), and the columns the checks read. */
  source: CompileSource;
  /** Header names (csv) or the schema columns (json kinds) mapped to staged expressions. */
  columnExprs: Map<string, string>;
  /** Number of parsed rows (k = 1..parsed). */
  parsed: number;
  /** Structural rejects: DuckDB line number d, keyword, message, raw text. */
  rejectsSql: string | undefined;
  /** k -> d mapping inputs. */
  headerLines: number;
  scan: CsvScan | undefined;
  /** SQL condition on the staged row (alias s) that the row could be parsed at all (NDJSON json_valid). */
  parseOk: string | undefined;
  /** Rows in the staged table (rowids 0..total-1), including blank-line rows that are not data (NDJSON). */
  total: number;
  /** NDJSON: DuckDB returns blank lines as NULL rows (they are not holes in its numbering); this tells real rows. */
  isRow: ((alias: string) => string) | undefined;
  rawJson: (alias: string) => string;
  extraParams: Record<string, DuckDBValue>;
  delimiter: string | null;
  fileErrors: FileError[];
  /** Fatal file error: every parsed row fails with it. */
  fatal: FileError | undefined;
  notes?: string[];
}

function resolveFormat(input: StageInput): { format: InputFormat; gzip: boolean } {
  const byName = formatFromName(input.path);
  const sniffed = sniffFile(input.path);
  return { format: input.format ?? byName ?? sniffed.format, gzip: sniffed.gzip };
}

/** Columns a CSV header may have beyond the schema's properties before only the named ones are staged. */
const MAX_UNNAMED_COLUMNS = 100;

async function stageCsv(db: Db, path: string, opts: StageOptions, ds: DatasetSchema, gzip: boolean): Promise<Staging> {
  const scan = await scanCsv(path, { delimiter: opts.delimiter, gzip });
  const table = tempName('csv');
  const rej = `${table}_rej`;
  const fileErrors: FileError[] = [];
  let fatal: FileError | undefined;
  const header = scan.header;
  const allColumns = header.map((name, i) => ({ name, column: `c${i}` }));
  // A wide file (thousands of columns the schema does not name) is staged by the columns the schema names only:
  // DuckDB gives every staged column its own buffers, so 10,000 columns of a 200 KB file would exhaust memory.
  const named = new Set(Object.keys(ds.schema.properties ?? {}));
  const stagingNotes: string[] = [];
  const unknown = header.filter((h) => !named.has(h));
  const wide = unknown.length > MAX_UNNAMED_COLUMNS;
  const columns = wide ? allColumns.filter((c) => named.has(c.name)) : allColumns;
  if (scan.empty || scan.notText) {
    // Not CSV text at all (UTF-16, binary, ...) or no header: refused as a whole, before DuckDB's reader sees it.
    fatal = scan.notText ?? { keyword: 'csv_empty', message: 'the file is empty: no header row' };
    fileErrors.push(fatal);
    await db.run(`CREATE TABLE ${stageRef(table)} (c0 VARCHAR)`);
    return {
      table, source: { kind: 'csv', columns: [] }, columnExprs: new Map(), parsed: 0, rejectsSql: undefined,
      headerLines: 1, scan, parseOk: undefined, total: 0, isRow: undefined, rawJson: () => "'{}'", extraParams: {}, delimiter: scan.delimiter,
      fileErrors, fatal,
    };
  }
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h) && !fatal) {
      fatal = { keyword: 'csv_duplicate_column', message: `the header names column "${h}" twice`, fields: [h] };
      fileErrors.push(fatal);
    }
    seen.add(h);
  }
  const missing = ds.required.filter((c) => !seen.has(c));
  if (missing.length) {
    fileErrors.push({
      keyword: 'required',
      message: `the header lacks required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      fields: missing,
    });
  }
  if (wide) {
    const list = `${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}`;
    const extra = ds.schema.additionalProperties;
    if (extra === false) {
      fatal ??= { keyword: 'additionalProperties', message: `the header has ${unknown.length} columns the schema does not allow (${list})`, fields: unknown.slice(0, 20) };
    } else if (extra !== undefined && extra !== true || ds.schema.patternProperties !== undefined) {
      fatal ??= { keyword: 'csv_too_many_columns', message: `the header has ${unknown.length} columns the schema does not name (${list}); surgctl checks at most ${MAX_UNNAMED_COLUMNS}` };
    }
    if (fatal && !fileErrors.includes(fatal)) fileErrors.push(fatal);
    else stagingNotes.push(`only the ${columns.length} columns the schema names were read; ${unknown.length} other columns were skipped (${list})`);
  }
  const colSpec = `{${allColumns.map((c) => `'${c.column}': 'VARCHAR'`).join(', ')}}`;
  // DuckDB's reader stops at a file mixing line endings (CRLF then LF, as two tools appending to one file write):
  // read an LF copy instead; it has the same lines, so every row is still read and numbered as in the file.
  const mixed = mixesLineEndings(scan);
  let readPath = path;
  let tmpDir: string | undefined;
  if (mixed) {
    tmpDir = mkdtempSync(join(tmpdir(), 'surgctl-lf-'));
    readPath = join(tmpDir, 'input.csv');
    await writeLfCopy(path, readPath, { delimiter: scan.delimiter, gzip });
  }
  try {
    const select = wide ? columns.map((c) => c.column).join(', ') || 'NULL::VARCHAR AS _none' : '*';
    await db.run(`CREATE TABLE ${stageRef(table)} AS SELECT ${select} FROM read_csv(${literal(readPath)}, columns = ${colSpec},
      header = true, delim = ${literal(scan.delimiter)}, quote = '"', escape = '"', auto_detect = false,
      store_rejects = true, rejects_table = ${literal(rej)}, rejects_scan = ${literal(`${table}_scan`)},
      compression = ${gzip && !mixed ? "'gzip'" : "'none'"}, max_line_size = 4194304)`);
  } finally {
    if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
  }
  if (allColumns.length === 1 && scan.blankLines.length > 0) await dropBlankLineRows(db, table, rej, scan.blankLines);
  const parsed = Number(await db.scalar(`SELECT count(*)::BIGINT FROM ${stageRef(table)}`));
  const params: Record<string, DuckDBValue> = {};
  columns.forEach((c, i) => (params[`h${i}`] = c.name));
  const columnExprs = new Map(columns.map((c) => [c.name, c.column]));
  return {
    table,
    source: { kind: 'csv', columns },
    columnExprs,
    parsed,
    rejectsSql: `SELECT line AS d, list(DISTINCT error_type ORDER BY error_type) AS types, min(column_name) AS col,
        first(csv_line ORDER BY line) AS raw FROM ${ident(rej)} GROUP BY line`,
    headerLines: 1,
    scan,
    parseOk: undefined,
    total: parsed,
    isRow: undefined,
    rawJson: (a) => `json_object(${columns.map((c, i) => `$h${i}, coalesce(${a}.${c.column}, '')`).join(', ')})::VARCHAR`,
    extraParams: params,
    delimiter: scan.delimiter,
    fileErrors,
    fatal,
    notes: stagingNotes,
  };
}

/**
 * A blank line is not a row. DuckDB skips blank lines in a file of several columns but reads each as a row of one
 * NULL when the file has a single column: those rows are dropped here, found by their line, so the staged rows (and
 * the line map, which counts blank lines as holes) are the same as for any other file. Staged row k comes from DuckDB
 * line d = k + 1 + (rejected lines before d); a row is dropped only when its line is blank and its value NULL.
 */
async function dropBlankLineRows(db: Db, table: string, rej: string, blankLines: number[]): Promise<void> {
  const all = `${table}_all`;
  await db.run(`ALTER TABLE ${stageRef(table)} RENAME TO ${ident(all)}`);
  await db.run(`CREATE TABLE ${stageRef(table)} AS SELECT * EXCLUDE (_k) FROM (SELECT rowid + 1 AS _k, * FROM ${stageRef(all)}) s
    WHERE NOT (s.c0 IS NULL AND s._k IN (
      SELECT b.d - 1 - (SELECT count(DISTINCT r.line) FROM ${ident(rej)} r WHERE r.line < b.d)
      FROM (SELECT unnest(CAST(CAST($blanks AS JSON) AS BIGINT[])) AS d) b))
    ORDER BY s._k`, { blanks: JSON.stringify(blankLines) });
  await db.run(`DROP TABLE ${stageRef(all)}`);
}

async function stageNdjson(db: Db, path: string, gzip: boolean): Promise<Staging> {
  const scan = await scanCsv(path, { gzip, header: false, quoting: false });
  const table = tempName('ndjson');
  const rej = `${table}_rej`;
  // UTF-16/32 or binary: refused as a whole. Invalid UTF-8 in the first line stays that line's reject, as in any line.
  if (scan.notText && scan.notText.keyword !== 'csv_invalid_utf8') {
    const fatal = { ...scan.notText, message: scan.notText.message.replace('not CSV text', 'not NDJSON text') };
    return refusedStaging(db, table, fatal, scan);
  }
  if (scan.bytes === 0) {
    await db.run(`CREATE TABLE ${stageRef(table)} (_json VARCHAR)`);
  } else {
    // Mixed line endings stop DuckDB's reader: read an LF copy (same lines), as for CSV.
    const mixed = mixesLineEndings(scan);
    const tmpDir = mixed ? mkdtempSync(join(tmpdir(), 'surgctl-lf-')) : undefined;
    const readPath = tmpDir ? join(tmpDir, 'input.ndjson') : path;
    try {
      if (tmpDir) await writeLfCopy(path, readPath, { delimiter: '\u0001', gzip, quoting: false });
      // Each physical line as one VARCHAR: no quoting, a delimiter JSON text cannot hold unescaped (U+0001).
      await db.run(`CREATE TABLE ${stageRef(table)} AS SELECT * FROM read_csv(${literal(readPath)}, columns = {'_json': 'VARCHAR'},
        header = false, delim = chr(1), quote = '', escape = '', auto_detect = false,
        store_rejects = true, rejects_table = ${literal(rej)}, rejects_scan = ${literal(`${table}_scan`)},
        compression = ${gzip && !mixed ? "'gzip'" : "'none'"}, max_line_size = 4194304)`.replace('chr(1)', literal('\u0001')));
    } finally {
      if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
    }
  }
  const total = Number(await db.scalar(`SELECT count(*)::BIGINT FROM ${stageRef(table)}`));
  const parsed = Number(await db.scalar(`SELECT count(*)::BIGINT FROM ${stageRef(table)} WHERE _json IS NOT NULL`));
  return {
    table,
    total,
    isRow: (a) => `${a}._json IS NOT NULL`,
    source: { kind: 'json', jsonColumn: '_json' },
    columnExprs: new Map(),
    parsed,
    rejectsSql: scan.bytes === 0 ? undefined : `SELECT line AS d, list(DISTINCT error_type ORDER BY error_type) AS types,
        NULL::VARCHAR AS col, first(csv_line ORDER BY line) AS raw FROM ${ident(rej)} GROUP BY line`,
    headerLines: 0,
    scan,
    parseOk: 's._json IS NOT NULL AND json_valid(s._json)',
    rawJson: (a) => `CASE WHEN json_valid(${a}._json) THEN ${a}._json ELSE to_json(${a}._json)::VARCHAR END`,
    extraParams: {},
    delimiter: null,
    fileErrors: [],
    fatal: undefined,
  };
}

/** Why a file cannot be Parquet, from its size and magic bytes (PAR1 at both ends), or undefined. */
function parquetProblem(path: string): string | undefined {
  let size: number;
  const head = Buffer.alloc(4);
  const tail = Buffer.alloc(4);
  try {
    size = statSync(path).size;
    const fd = openSync(path, 'r');
    try {
      if (size >= 12) {
        readSync(fd, head, 0, 4, 0);
        readSync(fd, tail, 0, 4, size - 4);
      }
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw toIoError(path, e, 'read');
  }
  if (size === 0) return 'the file is empty (0 bytes), not a Parquet file';
  if (size < 12) return `the file is ${size} bytes, too small to be a Parquet file`;
  if (head.toString('latin1') !== 'PAR1') return 'the file is not Parquet: it does not start with the magic bytes PAR1';
  if (tail.toString('latin1') !== 'PAR1') return 'the Parquet file is cut off: it does not end with the magic bytes PAR1 (a partial copy?)';
  return undefined;
}

/** The file error of a Parquet file DuckDB cannot read (a corrupt footer or page); rethrows any other error. */
function unreadableParquet(e: unknown, path: string): FileError {
  if (!(e instanceof QueryError) || !/Invalid Input Error|Invalid Error|Corrupt|Parquet/i.test(e.message)) throw e;
  // The first line of DuckDB's message, without the error class and the path it repeats.
  const why = (e.message.split('\n')[0] ?? '').replace(/^[A-Za-z ]*Error: /, '').replaceAll(path, 'the file');
  return { keyword: 'parquet_invalid', message: `the Parquet file cannot be read: ${why}` };
}

/** A staging of no rows for a file refused as a whole. */
async function refusedStaging(db: Db, table: string, fatal: FileError, scan?: CsvScan): Promise<Staging> {
  await db.run(`CREATE TABLE ${stageRef(table)} (c0 VARCHAR)`);
  return {
    table, source: { kind: 'json', columns: [] }, columnExprs: new Map(), parsed: 0, rejectsSql: undefined,
    headerLines: 0, scan, parseOk: undefined, total: 0, isRow: undefined, rawJson: () => "'{}'", extraParams: {}, delimiter: null,
    fileErrors: [fatal], fatal,
  };
}

async function stageParquet(db: Db, path: string): Promise<Staging> {
  const table = tempName('parquet');
  const problem = parquetProblem(path);
  if (problem) return refusedStaging(db, table, { keyword: 'parquet_invalid', message: problem });
  let cols: { column_name: string; column_type: string }[];
  try {
    cols = await db.all<{ column_name: string; column_type: string }>(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${literal(path)}))`,
    );
  } catch (e) {
    return refusedStaging(db, table, unreadableParquet(e, path));
  }
  const columns = cols.map((c, i) => ({ name: c.column_name, column: `c${i}` }));
  // Each value as JSON (NULL stays SQL NULL, i.e. absent); instants and dates in ISO 8601 as a JSON string.
  const exprs = cols.map((c, i) => {
    const q = quoteAnyIdent(c.column_name);
    const t = c.column_type.toUpperCase();
    const v = t.startsWith('TIMESTAMP')
      ? `to_json(strftime(${q}::TIMESTAMPTZ, '%Y-%m-%dT%H:%M:%S.%fZ'))`
      : t === 'DATE'
        ? `to_json(strftime(${q}, '%Y-%m-%d'))`
        : `to_json(${q})`;
    return `${v} AS c${i}`;
  });
  try {
    await db.run(`CREATE TABLE ${stageRef(table)} AS SELECT ${exprs.join(', ') || '1 AS _none'} FROM read_parquet(${literal(path)})`);
  } catch (e) {
    await db.run(`DROP TABLE IF EXISTS ${stageRef(table)}`);
    return refusedStaging(db, table, unreadableParquet(e, path));
  }
  const parsed = Number(await db.scalar(`SELECT count(*)::BIGINT FROM ${stageRef(table)}`));
  const params: Record<string, DuckDBValue> = {};
  columns.forEach((c, i) => (params[`h${i}`] = c.name));
  return {
    table,
    source: { kind: 'json', columns },
    columnExprs: new Map(columns.map((c) => [c.name, c.column])),
    parsed,
    rejectsSql: undefined,
    headerLines: 0,
    scan: undefined,
    parseOk: undefined,
    total: parsed,
    isRow: undefined,
    rawJson: (a) => `json_object(${columns.map((c, i) => `$h${i}, ${a}.${c.column}`).join(', ')})::VARCHAR`,
    extraParams: params,
    delimiter: null,
    fileErrors: [],
    fatal: undefined,
  };
}

/** SQL for the CSV/NDJSON reject keyword of a DuckDB error_type list. */
function rejectKeyword(isLastOpenQuote: string): string {
  return `CASE WHEN list_contains(types, 'INVALID ENCODING') THEN 'csv_invalid_utf8'
    WHEN list_contains(types, 'UNQUOTED VALUE') AND ${isLastOpenQuote} THEN 'csv_unterminated_quote'
    WHEN list_contains(types, 'UNQUOTED VALUE') THEN 'csv_stray_quote'
    WHEN list_contains(types, 'TOO MANY COLUMNS') OR list_contains(types, 'MISSING COLUMNS') THEN 'csv_field_count'
    WHEN list_contains(types, 'LINE SIZE OVER MAXIMUM') THEN 'csv_line_too_long'
    ELSE 'csv_parse' END`;
}


/**
 * Stages `input` into `db` and validates it against `ds`. Leaves TEMP tables (see StagedValidation); the caller
 * drops them with dropStaged(). Throws UsageError (bad delimiter, unreadable format), ConfigError (the schema itself
 * is invalid: meta-validated), IoError and QueryError for runtime faults.
 */
export async function stageAndValidate(
  db: Db,
  input: StageInput,
  ds: DatasetSchema,
  opts: StageOptions = {},
): Promise<StagedValidation> {
  const problem = schemaProblem(ds.schema);
  if (problem?.startsWith('keyword pattern ')) {
    throw new ConfigError(`schema ${ds.path}: ${problem}`, {
      file: ds.path,
      hint: 'rewrite the pattern without lookaround or backreferences; surgctl runs patterns in linear time only',
    });
  }
  if (problem) {
    throw new ConfigError(`schema ${ds.path} is not a valid JSON Schema 2020-12: ${problem}`, {
      file: ds.path,
      hint: 'fix the schema; `surgctl schemas NAME` prints a built-in one to start from',
    });
  }
  await installMacros(db);
  const display = input.displayName ?? input.path;
  const { format, gzip } = resolveFormat(input);
  const progress = (phase: ProgressPhase): void => opts.onProgress?.(phase, PHASES.indexOf(phase) + 1, PHASES.length);
  if (format === 'csv' && opts.delimiter !== undefined && opts.delimiter.length !== 1) {
    throw new UsageError(`--delimiter must be one character, got ${JSON.stringify(opts.delimiter)}`);
  }
  // The CSV fast path (fast-csv.ts) when nothing it cannot do is asked of it; it backs out by itself otherwise.
  if (format === 'csv' && (opts.materializeValid === false || opts.validView === true) && opts.fastPath !== false && (opts.engine ?? 'auto') !== 'ajv'
    && unsupportedReasons(ds.schema, 'csv').length === 0) {
    const fast = await tryFastCsv(db, ds, {
      path: input.path, display, gzip, delimiter: opts.delimiter, examples: opts.examples ?? 20, progress, foreignKeyTables: opts.foreignKeyTables,
      typed: opts.materializeValid !== false && opts.validView === true,
      exact: (path) => stageAndValidate(db, { path, displayName: display, format: 'csv' }, ds, { ...opts, fastPath: false, onProgress: undefined }),
    });
    if (fast) return fast;
  }
  progress('reading');
  const st =
    format === 'csv' ? await stageCsv(db, input.path, opts, ds, gzip)
      : format === 'ndjson' ? await stageNdjson(db, input.path, gzip)
        : await stageParquet(db, input.path);
  const base = st.table;
  const errT = `${base}_err`;
  const badT = `${base}_bad`;
  const mapT = `${base}_map`;
  const validT = `${base}_valid`;
  const quarT = `${base}_quar`;
  const notes: string[] = [...(st.notes ?? [])];
  if (st.scan && !st.fatal && mixesLineEndings(st.scan)) {
    const t = st.scan.terminators;
    notes.push(`the file mixes line endings (${t.crlf} CRLF, ${t.lf} LF, ${t.cr} CR); read as if all were LF`);
  }
  const p = st.extraParams;

  progress('mapping lines');
  // 1. Structural rejects (DuckDB line numbers d) and the k -> d -> (row, physical line) map.
  const blanks = st.scan?.blankLines ?? [];
  const shifts = st.scan?.shifts ?? [];
  await db.run(`CREATE TEMP TABLE ${ident(badT)} (d BIGINT, keyword VARCHAR, col VARCHAR, raw VARCHAR)`);
  if (st.rejectsSql) {
    const maxD = `(SELECT max(d) FROM (${st.rejectsSql}))`;
    const lastOpen = st.scan?.openQuoteAtEnd ? `d = ${maxD}` : 'false';
    await db.run(`INSERT INTO ${ident(badT)} SELECT d, ${rejectKeyword(lastOpen)}, col, regexp_replace(raw, '^[\\r\\n]+|[\\r\\n]+$', '', 'g')
      FROM (${st.rejectsSql})`);
  }
  const rejected = Number(await db.scalar(`SELECT count(*)::BIGINT FROM ${ident(badT)}`));
  const h = st.headerLines;
  const simpleMap = blanks.length === 0 && shifts.length === 0 && rejected === 0;
  // holes: DuckDB line numbers that are not parsed rows (rejects and blank lines), as gap -> count before.
  await db.run(`CREATE TEMP TABLE ${ident(mapT)} AS
    WITH holes AS (SELECT d FROM ${ident(badT)} UNION SELECT unnest(CAST(CAST($blanks AS JSON) AS BIGINT[])) AS d${st.isRow ? ' WHERE false' : ''}),
         numbered AS (SELECT d, row_number() OVER (ORDER BY d) AS j FROM holes)
    SELECT d - ${h} - j AS gap, max(j) AS j FROM numbered GROUP BY ALL`, { blanks: JSON.stringify(blanks) });
  await db.run(`CREATE OR REPLACE TEMP TABLE ${ident(`${base}_blank`)} AS
    SELECT d, row_number() OVER (ORDER BY d) AS j FROM (SELECT unnest(CAST(CAST($b AS JSON) AS BIGINT[])) AS d)`, { b: JSON.stringify(blanks) });
  await db.run(`CREATE OR REPLACE TEMP TABLE ${ident(`${base}_shift`)} AS
    SELECT unnest(CAST(CAST($sd AS JSON) AS BIGINT[])) AS d, unnest(CAST(CAST($sv AS JSON) AS BIGINT[])) AS delta`,
    { sd: JSON.stringify(shifts.map((s) => s.d)), sv: JSON.stringify(shifts.map((s) => s.delta)) });
  /** SQL: from a relation with column k, adds d, _row and _line. */
  const mapRows = (rel: string): string =>
    simpleMap
      ? `SELECT *, k + ${h} AS d, k AS _row, k + ${h} AS _line FROM ${rel}`
      : `SELECT x.*, x.d - ${h} - coalesce(b.j, 0) AS _row, x.d + coalesce(sh.delta, 0) AS _line FROM (
           SELECT r.*, r.k + ${h} + coalesce(m.j, 0) AS d FROM ${rel} r ASOF LEFT JOIN ${ident(mapT)} m ON r.k > m.gap) x
         ASOF LEFT JOIN ${ident(`${base}_blank`)} b ON x.d > b.d
         ASOF LEFT JOIN ${ident(`${base}_shift`)} sh ON x.d >= sh.d`;
  const dMap = (dExpr: string, alias: string): { row: string; line: string; joins: string } =>
    simpleMap
      ? { row: `${dExpr} - ${h}`, line: dExpr, joins: '' }
      : {
          row: `${dExpr} - ${h} - coalesce(${alias}b.j, 0)`,
          line: `${dExpr} + coalesce(${alias}s.delta, 0)`,
          joins: `ASOF LEFT JOIN ${ident(`${base}_blank`)} ${alias}b ON ${dExpr} > ${alias}b.d
                  ASOF LEFT JOIN ${ident(`${base}_shift`)} ${alias}s ON ${dExpr} >= ${alias}s.d`,
        };
  if (st.scan && st.scan.records !== st.parsed + rejected && !st.isRow && !(st.scan.empty && st.parsed === 0) && !st.scan.notText) {
    notes.push(`line numbers may be approximate: the pre-scan saw ${st.scan.records} records, DuckDB ${st.parsed + rejected}`);
  }

  progress('checking rows');
  // 2. Row checks into ERR(k, src, errs).
  await db.run(`CREATE TEMP TABLE ${ident(errT)} (k BIGINT, src INTEGER, errs ${ERR_STRUCT}[])`);
  if (st.parseOk) {
    await db.run(`INSERT INTO ${ident(errT)} SELECT rowid + 1, 0, [{'field': NULL, 'keyword': 'json_parse',
      'message': 'the line is not valid JSON', 'value': left(_json, 200), 'severity': 'error', 'rule': NULL}]
      FROM ${stageRef(base)} s WHERE ${st.isRow ? `${st.isRow('s')} AND ` : ''}NOT json_valid(s._json)`);
  }
  const wideT = `${base}_wide`;
  if (st.parseOk && !st.source.columns && ds.schema.additionalProperties === false) {
    // An NDJSON object with thousands of properties the schema does not allow: one error for the line, and the row
    // checks skip it (one error per property ran out of memory on a few such lines).
    await db.run(`CREATE TEMP TABLE ${ident(wideT)} AS SELECT k, extra FROM (
        SELECT rowid + 1 AS k, list_filter(json_keys(s._json), x -> NOT list_contains(CAST(CAST($props AS JSON) AS VARCHAR[]), x)) AS extra
        FROM ${stageRef(base)} s WHERE ${st.parseOk} AND json_type(s._json) = 'OBJECT' AND len(json_keys(s._json)) > $limit)
      WHERE len(extra) > $limit`, { props: JSON.stringify(Object.keys(ds.schema.properties ?? {})), limit: MAX_UNNAMED_COLUMNS });
    await db.run(`INSERT INTO ${ident(errT)} SELECT k, 0, [{'field': NULL, 'keyword': 'additionalProperties',
      'message': 'the object has ' || len(extra) || ' properties the schema does not allow (' || array_to_string(extra[1:5], ', ') || ' and ' || (len(extra) - 5) || ' more)',
      'value': NULL, 'severity': 'error', 'rule': NULL}] FROM ${ident(wideT)}`);
    st.parseOk = `${st.parseOk} AND s.rowid + 1 NOT IN (SELECT k FROM ${ident(wideT)})`;
  }
  const staged = `(SELECT rowid + 1 AS _row, * FROM ${stageRef(base)} s${st.parseOk ? ` WHERE ${st.parseOk}` : ''})`;
  const kind = st.source.kind;
  const reasons = unsupportedReasons(ds.schema, kind);
  const choice = opts.engine ?? 'auto';
  if (choice === 'compiled' && reasons.length) {
    throw new UsageError(`the compiled engine cannot run schema ${ds.path}: ${reasons.join('; ')}`, {
      hint: 'use --engine auto (falls back to ajv) or --engine ajv',
    });
  }
  const engine: EngineName = choice === 'ajv' || reasons.length ? 'ajv' : 'compiled';
  if (st.fatal) {
    const f = st.fatal;
    await db.run(`INSERT INTO ${ident(errT)} SELECT rowid + 1, 0, [{'field': $f, 'keyword': $kw, 'message': $msg,
      'value': NULL, 'severity': 'error', 'rule': NULL}] FROM ${stageRef(base)}`,
      { f: f.fields?.[0] ?? null, kw: f.keyword, msg: f.message });
  } else if (st.parsed > 0) {
    if (engine === 'compiled') {
      const q = compileChecks(ds.schema, staged, st.source);
      await db.run(`INSERT INTO ${ident(errT)} SELECT _row, 0, errs FROM (${q.sql})`, q.params);
    } else {
      await runAjv(db, ds.schema, st, errT);
    }
  }
  progress('keys');
  // Duplicate primary keys: the first occurrence (lowest k) is valid, later ones duplicate_key.
  const pk = ds.primaryKey;
  const keyExpr = (c: string): string | undefined => {
    if (kind === 'csv') return st.columnExprs.get(c);
    if (st.source.columns) {
      const col = st.columnExprs.get(c);
      return col ? `CASE WHEN json_type(${col}) = 'VARCHAR' THEN ${col} ->> '$' ELSE CAST(${col} AS VARCHAR) END` : undefined;
    }
    const ptr = `/${c.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    return `CASE WHEN json_type(_json -> ${literalPointer(ptr)}) = 'VARCHAR' THEN _json ->> ${literalPointer(ptr)}
      ELSE CAST(_json -> ${literalPointer(ptr)} AS VARCHAR) END`;
  };
  const pkExprs = pk.map(keyExpr);
  if (!st.fatal && pk.length && pkExprs.every((e) => e !== undefined) && st.parsed > 0) {
    const keys = pkExprs as string[];
    const keyCols = keys.map((e, i) => `${e} AS _k${i}`).join(', ');
    const notNull = keys.map((_, i) => `_k${i} IS NOT NULL`).join(' AND ');
    await db.run(`INSERT INTO ${ident(errT)}
      WITH keyed AS (SELECT _row, ${keyCols} FROM ${staged}),
           dup AS (SELECT ${keys.map((_, i) => `_k${i}`).join(', ')} FROM keyed WHERE ${notNull} GROUP BY ALL HAVING count(*) > 1)
      SELECT _row, 1, [{'field': $f, 'keyword': 'duplicate_key', 'message': 'duplicate primary key: an earlier row has the same ' || $f,
             'value': _k0, 'severity': 'error', 'rule': NULL}]
      FROM (SELECT keyed.*, row_number() OVER (PARTITION BY ${keys.map((_, i) => `keyed._k${i}`).join(', ')} ORDER BY keyed._row) AS rn
            FROM keyed SEMI JOIN dup USING (${keys.map((_, i) => `_k${i}`).join(', ')}))
      WHERE rn > 1`, { f: pk.join(',') });
  }
  // Orphan foreign keys against datasets validated in the same run.
  for (const [fkIndex, fk] of ds.foreignKeys.entries()) {
    const target = opts.foreignKeyTables?.[fk.references.dataset];
    const exprs = fk.columns.map(keyExpr);
    if (!target || st.fatal || exprs.some((e) => e === undefined) || st.parsed === 0) continue;
    const on = fk.columns.map((_, i) => `t.${quoteAnyIdent(fk.references.columns[i] ?? '')} = x._f${i}`).join(' AND ');
    await db.run(`INSERT INTO ${ident(errT)}
      SELECT _row, ${2 + fkIndex}, [{'field': $f, 'keyword': 'orphan_foreign_key', 'message': $msg, 'value': _f0, 'severity': 'error', 'rule': NULL}]
      FROM (SELECT _row, ${(exprs as string[]).map((e, i) => `${e} AS _f${i}`).join(', ')} FROM ${staged}) x
      WHERE ${fk.columns.map((_, i) => `x._f${i} IS NOT NULL`).join(' AND ')}
        AND NOT EXISTS (SELECT 1 FROM ${ident(target)} t WHERE ${on})`,
      { f: fk.columns.join(','), msg: `no ${fk.references.dataset} row with this ${fk.references.columns.join(', ')}` });
  }

  progress('quarantine');
  // 3. Per row: error list (severity error) and warnings; the quarantine table.
  const rowErrT = `${base}_rowerr`;
  await db.run(`CREATE TEMP TABLE ${ident(rowErrT)} AS
    SELECT k, list_filter(all_errs, e -> e.severity = 'error') AS errs, list_filter(all_errs, e -> e.severity = 'warn') AS warns
    FROM (SELECT k, flatten([coalesce(flatten(list(errs) FILTER (WHERE src = 0)), []), coalesce(flatten(list(errs) FILTER (WHERE src = 1)), []),
                             coalesce(flatten(list(errs ORDER BY src) FILTER (WHERE src >= 2)), [])]) AS all_errs
          FROM ${ident(errT)} GROUP BY k)`);
  const dm = dMap('q.d', 'q');
  // DuckDB names the staged column (c3); report the header name, and only for encoding errors (a count error has none).
  p.hdr = JSON.stringify(st.source.columns?.map((c) => c.name) ?? []);
  const fieldOf = (a: string): string =>
    `CASE WHEN ${a}.keyword = 'csv_invalid_utf8' THEN CAST(CAST($hdr AS JSON) AS VARCHAR[])[TRY_CAST(substr(${a}.col, 2) AS INTEGER) + 1] END`;
  const publicErrs = publicErrorsSql;
  await db.run(`CREATE TEMP TABLE ${ident(quarT)} AS
    SELECT $file AS file, _line AS line, _row AS "row", raw, errors, rule FROM (
      SELECT m._line, m._row, ${st.rawJson('s')} AS raw, ${publicErrs('m.errs')} AS errors, m.errs[1].keyword AS rule
      FROM (${mapRows(`(SELECT k, errs FROM ${ident(rowErrT)} WHERE len(errs) > 0)`)}) m
      JOIN (SELECT rowid AS _rid, * FROM ${stageRef(base)} WHERE rowid IN (SELECT k - 1 FROM ${ident(rowErrT)} WHERE len(errs) > 0)) s
        ON s._rid = m.k - 1
      UNION ALL
      SELECT ${dm.line} AS _line, ${dm.row} AS _row, to_json(q.raw)::VARCHAR AS raw,
             to_json([{'field': ${fieldOf('q')}, 'keyword': q.keyword, 'message': ${rejectMessageSql('q.keyword')}, 'value': NULL::VARCHAR}])::VARCHAR,
             q.keyword
      FROM ${ident(badT)} q ${dm.joins})`, { ...p, file: display });
  const rowsQuarantined = Number(await db.scalar(`SELECT count(*)::BIGINT FROM ${ident(quarT)}`));
  const badParsed = Number(await db.scalar(`SELECT count(*)::BIGINT FROM ${ident(rowErrT)} WHERE len(errs) > 0`));
  const rowsRead = st.parsed + rejected;
  const rowsValid = st.parsed - badParsed;

  progress('valid rows');
  // 4. The typed valid table.
  const typed = ds.columns.map((c) => {
    const t = duckType(ds.columnTypes[c] ?? { type: 'string' });
    const src = st.columnExprs.get(c);
    let text: string;
    if (kind === 'csv') text = src ? `s.${src}` : 'NULL';
    else if (st.source.columns) text = src ? `(CASE WHEN json_type(s.${src}) = 'VARCHAR' THEN s.${src} ->> '$' ELSE CAST(s.${src} AS VARCHAR) END)` : 'NULL';
    else {
      const ptr = literalPointer(`/${c.replaceAll('~', '~0').replaceAll('/', '~1')}`);
      text = `(CASE WHEN json_type(s._json -> ${ptr}) IN ('VARCHAR') THEN s._json ->> ${ptr}
        WHEN json_type(s._json -> ${ptr}) = 'NULL' THEN NULL ELSE CAST(s._json -> ${ptr} AS VARCHAR) END)`;
    }
    return `${castTextSql(t, text)} AS ${quoteAnyIdent(c)}`;
  });
  if (opts.materializeValid === false) {
    await db.run(`CREATE TEMP TABLE ${ident(validT)} AS SELECT ${typed.map((t) => `${t}, `).join('')}NULL::BIGINT AS _source_line, NULL::BIGINT AS _row
      FROM ${stageRef(base)} s LIMIT 0`);
  } else {
    await db.run(`CREATE TEMP TABLE ${ident(validT)} AS
      SELECT ${typed.map((t) => `${t}, `).join('')}m._line AS _source_line, m._row AS _row
      FROM (${mapRows(`(SELECT rowid + 1 AS k FROM ${stageRef(base)} s0 WHERE ${st.isRow ? `${st.isRow('s0')} AND ` : ''}NOT EXISTS (SELECT 1 FROM ${ident(rowErrT)} e WHERE e.k = s0.rowid + 1 AND len(e.errs) > 0))`)}) m
      JOIN ${stageRef(base)} s ON s.rowid = m.k - 1
      ORDER BY m.k`);
  }

  progress('summary');
  // 5. Summaries.
  const byRule = await db.all<{ rule: string; sev: string; n: number }>(`
    SELECT coalesce(e.rule, e.keyword) AS rule, e.severity AS sev, count(DISTINCT k)::INTEGER AS n
    FROM (SELECT k, unnest(list_concat(errs, warns)) AS e FROM ${ident(rowErrT)}) GROUP BY ALL
    UNION ALL SELECT keyword, 'error', count(*)::INTEGER FROM ${ident(badT)} GROUP BY ALL
    ORDER BY n DESC, rule`);
  const failuresByRule: Record<string, number> = {};
  const warningsByRule: Record<string, number> = {};
  for (const r of byRule) (r.sev === 'warn' ? warningsByRule : failuresByRule)[r.rule] = r.n;
  const limit = opts.examples ?? 20;
  const examples = limit <= 0 ? [] : await db.all<{ line: number; row: number; field: string | null; keyword: string; message: string;
    value: string | null; severity: 'error' | 'warn' }>(`
    SELECT _line::BIGINT::DOUBLE AS line, _row::DOUBLE AS "row", e.field, e.keyword,
           CASE WHEN e.rule IS NULL THEN e.message ELSE e.message || ' (rule ' || e.rule || ')' END AS message,
           '.' || left(e.value, 200) AS value, e.severity
    FROM (SELECT *, unnest(list_concat(errs, warns)) AS e FROM (${mapRows(`(SELECT k, errs, warns FROM ${ident(rowErrT)} ORDER BY k LIMIT ${Math.floor(limit)})`)}))
    UNION ALL
    SELECT ${dm.line}::DOUBLE, ${dm.row}::DOUBLE, ${fieldOf('q')}, q.keyword, ${rejectMessageSql('q.keyword')}, '.' || left(q.raw, 200), 'error'
    FROM (SELECT * FROM ${ident(badT)} ORDER BY d LIMIT ${Math.floor(limit)}) q ${dm.joins}
    ORDER BY line, keyword, field NULLS FIRST, message, value NULLS FIRST LIMIT ${Math.floor(limit)}`, { hdr: p.hdr ?? '[]' });

  await db.run(`DROP TABLE IF EXISTS ${ident(errT)}; DROP TABLE IF EXISTS ${ident(rowErrT)}; DROP TABLE IF EXISTS ${ident(mapT)};
    DROP TABLE IF EXISTS ${ident(`${base}_blank`)}; DROP TABLE IF EXISTS ${ident(`${base}_shift`)}; DROP TABLE IF EXISTS ${ident(badT)};
    DROP TABLE IF EXISTS ${ident(`${base}_rej`)}; DROP TABLE IF EXISTS ${ident(`${base}_scan`)}; DROP TABLE IF EXISTS ${ident(wideT)}`);
  if (rowsRead !== rowsValid + rowsQuarantined) {
    throw new Error(`internal: rows_read ${rowsRead} != valid ${rowsValid} + quarantined ${rowsQuarantined} for ${display}`);
  }
  return {
    validTable: validT,
    quarantineTable: quarT,
    stagedTable: base,
    format,
    delimiter: st.delimiter,
    engine,
    fastPath: false,
    engineReasons: engine === 'ajv' ? (reasons.length ? reasons : ['--engine ajv']) : [],
    rowsRead,
    rowsValid,
    rowsQuarantined,
    failuresByRule,
    warningsByRule,
    fileErrors: st.fileErrors,
    // Values were read behind a '.' (node-api's text decoding strips a U+FEFF that begins a value; it is data).
    examples: examples.map((e) => ({ ...e, line: Number(e.line), row: Number(e.row), value: e.value === null ? null : e.value.slice(1) })),
    notes,
  };
}

function literalPointer(ptr: string): string {
  return literal(ptr);
}

export { dropStaged };

const TOO_DEEP: RowError = { field: null, keyword: 'json_too_deep', message: 'the value nests too deeply to check', value: null, severity: 'error', rule: null };

/** Runs ajv over the staged rows in batches of 10,000 (bounded memory); failing rows' errors go into errT. */
async function runAjv(db: Db, schema: JsonSchema, st: Staging, errT: string): Promise<void> {
  const validate = compileAjv(schema);
  const types = propertyTypes(schema);
  const leapFields = dateTimeProperties(schema);
  const unmark = (v: unknown): string | null => (v === null || v === undefined ? null : String(v).slice(1));
  const outT = `${errT}_ajv`;
  await db.run(`CREATE TEMP TABLE ${ident(outT)} (k BIGINT, errs VARCHAR)`);
  // TEMP tables are visible on this connection only, and a query on a connection ends an open stream on it:
  // read in rowid ranges instead, appending failures between batches.
  const appender = await db.appender(outT, 'main', 'temp');
  try {
    const cols = st.source.columns;
    const names = cols ? cols.map((c) => c.name) : [];
    // Each text behind one character, dropped again below: @duckdb/node-api decodes VARCHAR with a default
    // TextDecoder, which strips a U+FEFF at the start of a value, and a U+FEFF that begins a cell is data.
    const selectCols = cols ? cols.map((c) => `'.' || CAST(${c.column} AS VARCHAR)`).join(', ') : `'.' || _json`;
    const BATCH = 10_000;
    for (let from = 0; from < st.total; from += BATCH) {
      const reader = await db.read(
        `SELECT rowid + 1 AS _row, ${selectCols || "''"} FROM ${stageRef(st.table)} s
         WHERE rowid >= ${from} AND rowid < ${from + BATCH}${st.parseOk ? ` AND ${st.parseOk}` : ''} ORDER BY rowid`,
      );
      const columns = reader.getColumns();
      const ks = (columns[0] ?? []) as unknown as bigint[];
      const rowCount = ks.length;
      const kindCsv = st.source.kind === 'csv';
      const colTypes = names.map((name) => types.get(name));
      for (let r = 0; r < rowCount; r++) {
        let row: unknown;
        let errs: RowError[];
        try {
          if (!cols) {
            row = JSON.parse(String(columns[1]?.[r]).slice(1));
          } else {
            const obj: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
            for (let i = 0; i < names.length; i++) {
              const cell = unmark(columns[i + 1]?.[r]);
              const v = kindCsv ? coerceCsvCell(cell, colTypes[i]) : cell === null ? undefined : JSON.parse(cell);
              if (v !== undefined) obj[names[i] as string] = v;
            }
            row = obj;
          }
          const leaps = leapFields.filter((f) => {
            const v = typeof row === 'object' && row !== null ? (row as Record<string, unknown>)[f] : undefined;
            return typeof v === 'string' && isLeapSecondDateTime(v);
          });
          if (validate(row) && leaps.length === 0) continue;
          // Only failing rows need the original text of each field (what the file holds, not the coerced value).
          const texts = cols
            ? (f: string): string | null => {
                const at = names.indexOf(f);
                const c = at < 0 ? null : unmark(columns[at + 1]?.[r]);
                if (c === null || kindCsv) return c;
                const parsed = JSON.parse(c) as unknown;
                return typeof parsed === 'string' ? parsed : c;
              }
            : undefined;
          errs = mapAjvErrors(validate.errors, schema, row, texts);
          for (const f of leaps) {
            const value = texts ? texts(f) : ((row as Record<string, unknown>)[f] as string);
            errs.push({ field: f, keyword: LEAP_SECOND_KEYWORD, message: LEAP_SECOND_MESSAGE, value, severity: 'warn', rule: null });
          }
        } catch (e) {
          // ajv and the error mapping recurse per nesting level: a line nested thousands deep overflows the stack.
          if (!(e instanceof RangeError)) throw e;
          errs = [TOO_DEEP];
        }
        if (errs.length === 0) continue;
        appender.appendBigInt(ks[r] as bigint);
        appender.appendVarchar(JSON.stringify(errs));
        appender.endRow();
      }
      appender.flushSync();
    }
  } finally {
    appender.closeSync();
  }
  await db.run(`INSERT INTO ${ident(errT)} SELECT k, 0, from_json(errs, '[{"field":"VARCHAR","keyword":"VARCHAR","message":"VARCHAR","value":"VARCHAR","severity":"VARCHAR","rule":"VARCHAR"}]')
    FROM ${ident(outT)}`);
  await db.run(`DROP TABLE ${ident(outT)}`);
}
