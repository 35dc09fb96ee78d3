// The CSV fast path of the compiled engine. Most lines of a real file are plain: no quotes, the header's field
// count, every cell valid. DuckDB reads the file as lines (no CSV parsing, no per-column strings) and one compiled
// regex (fast-regex.ts) marks the lines that are valid for sure, in parallel and in file order (the ordered CTAS
// gives each line its number as rowid). Only the other lines, usually a few percent, are split into cells and go
// through the exact compiled checks (compile.ts), so every verdict and reason is the exact engine's. Duplicate keys
// are found by hashing every line's key cells, then comparing the actual keys of the rows in colliding hash groups;
// those rows' lines are read back from the file at their byte offsets (the scan keeps each line's length), so a
// plain file is scanned once. A gzip file, or lengths that do not add up to the file's size, scan it a second time
// (load's typed pass keeps every line's text: its candidate lines are at hand).
// Foreign keys into datasets validated in the same run are spelled into the regex as the referenced keys.
//
// It applies only when that is sound and cheap to prove: CSV with quote '"', an unquoted header on one LF/CRLF line,
// no file-level error, a schema buildFastLine accepts, single-column foreign keys into at most 50,000 keys, no typed
// valid table wanted, or the valid rows as a view (load: `typed`, the first pass also keeps the text of the plainly valid
// lines, which the view types as the merge reads it). Lines from the first quote on are the exact staging's (a quoted field can span lines); it
// takes them when they are a short tail that parses as no row. Otherwise it backs out (returns undefined, leaving
// nothing behind), as when DuckDB refuses a line (invalid UTF-8, over 4 MiB, mixed line ends): the exact path
// decides then.
import { closeSync, createReadStream, fstatSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { DuckDBValue } from '@duckdb/node-api';
import { processTempDir, type Db } from '../../db/db.js';
import { megabytes } from '../../db/memory-size.js';
import { ident, literal, quoteAnyIdent } from '../../db/sql.js';
import { toIoError } from '../../errors.js';
import { duckType, type DatasetSchema } from '../schemas.js';
import { compileChecks } from './compile.js';
import { sniffDelimiter, sniffText } from './csv-scan.js';
import type { ProgressPhase, StagedValidation } from './staged.js';
import { buildFastLine } from './fast-regex.js';
import { castTextSql, dropStaged, ERR_STRUCT, publicErrorsSql, REJECT_MESSAGES, stageRef, tempName } from './stage-common.js';

/** Bits of the candidate-duplicate bitmap: with 10,000 duplicated keys about 1% of lines are kept in vain by the second pass. */
const BITMAP_BITS = 2 ** 20;

export interface FastCsvInput {
  path: string;
  display: string;
  gzip: boolean;
  delimiter?: string | undefined;
  examples: number;
  progress: (phase: ProgressPhase) => void;
  /** Foreign-key targets as for stageAndValidate: dataset name -> a table of its valid rows' key columns (VARCHAR). */
  foreignKeyTables?: Record<string, string> | undefined;
  /** The exact staging of another CSV file (same dataset and options), for a tail of lines this path cannot parse. */
  exact: (path: string) => Promise<StagedValidation>;
  /** Also give the valid rows, typed, as a TEMP view (load): the one ordered pass over the file keeps every line's text
   *  beside its state, and the view splits and casts the plainly valid ones as its reader (the merge) reads them, so
   *  the rows are written, typed, only into their target. */
  typed?: boolean | undefined;
}

/**
 * Candidate duplicate lines read back from the file by byte offset up to this many, or up to one line in
 * OFFSET_READ_SHARE of the file's when that is more; more, and one more scan is cheaper. The scan also costs memory:
 * its ordered CTAS over every line took the 25M-line bench file (125,000 candidates) to 488-606 MiB of RSS at 192MB.
 */
const MAX_OFFSET_READS = 100_000;
const OFFSET_READ_SHARE = 100;

/** A tail of lines from the first quote on is handed to the exact staging when it is at most this long. */
const MAX_TAIL_LINES = 1000;

/** Referenced key sets above this size leave the file to the exact path (the line regex spells every key out). */
const MAX_REFERENCED_KEYS = 50_000;

interface Head {
  header: string[];
  delimiter: string;
  /** Byte offset of the first data line (after a BOM and the header line) and the bytes of a line end (LF 1, CRLF 2). */
  dataStart: number;
  eol: 1 | 2;
}

/** SQL ordering of two text values, NULL first (as ORDER BY ... NULLS FIRST, byte order as DuckDB compares). */
function cmp(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Reads the header line (up to 1 MiB): undefined when the fast path cannot take the file by its head. */
async function readHead(path: string, gzip: boolean, delimiter: string | undefined): Promise<Head | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    await new Promise<void>((resolveP, reject) => {
      const raw = createReadStream(path, { highWaterMark: 1 << 16 });
      const stream = gzip ? raw.pipe(createGunzip()) : raw;
      const stop = (): void => {
        raw.destroy();
        resolveP();
      };
      raw.on('error', reject);
      stream.on('error', (e: Error) => (size > 0 ? stop() : reject(e)));
      stream.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        // At least the 64 KiB the exact path sniffs for binary content (sniffText), then up to the first line end.
        if ((size >= 1 << 16 && (c.includes(0x0a) || c.includes(0x0d))) || size >= 1 << 20) stop();
      });
      stream.on('end', () => resolveP());
      stream.on('close', () => resolveP());
    });
  } catch (e) {
    throw toIoError(path, e, 'read');
  }
  let buf = Buffer.concat(chunks);
  let bom = 0;
  // A file the exact path refuses as a whole (UTF-16, binary, a NUL byte): let it say so.
  if (sniffText(buf) !== undefined) return undefined;
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
    buf = buf.subarray(3);
    bom = 3;
  }
  const lf = buf.indexOf(0x0a);
  const cr = buf.indexOf(0x0d);
  if (lf === -1 && cr === -1) return undefined; // header only, or a huge header: the exact path
  if (cr !== -1 && (lf === -1 || cr < lf - 1 || cr > lf)) return undefined; // CR line ends
  const crlf = cr !== -1 && cr === lf - 1;
  const text = buf.subarray(0, crlf ? cr : lf).toString('utf8');
  if (text === '' || text.includes('"') || text.includes('\uFFFD')) return undefined;
  const delim = delimiter ?? sniffDelimiter(text);
  if (delim.length !== 1 || delim === '\u0001') return undefined;
  return { header: text.split(delim), delimiter: delim, dataStart: bom + lf + 1, eol: crlf ? 2 : 1 };
}

/**
 * Validates a CSV file the fast way, or returns undefined (and leaves nothing behind) when the exact path must.
 * The result is the same StagedValidation the exact path returns, with an empty validTable.
 */
export async function tryFastCsv(db: Db, ds: DatasetSchema, input: FastCsvInput): Promise<StagedValidation | undefined> {
  // Only the one pass over the file needs the file order; the small tables after it carry k and are ordered
  // explicitly, and an order-preserving insert of a few rows filtered from millions costs more than the rows.
  const preserve = await db.scalar<boolean>(`SELECT current_setting('preserve_insertion_order')`);
  // Everything this path holds spills (the per-line table, the hash aggregate), so a smaller buffer pool costs
  // little time and keeps the process's peak RSS down (25M rows, measured: 878 MiB at 512MB, 528 MiB at 256MB,
  // 404 MiB at 192MB, the same CPU time).
  // Not for load's typed pass, whose per-line table carries every line's text.
  const lower = !input.typed && (megabytes(db.memoryLimit) ?? 0) > FAST_MEMORY_LIMIT_MB;
  if (lower) await db.run(`SET memory_limit = '${FAST_MEMORY_LIMIT_MB}MB'`);
  // The kept lines (a few percent of the file: often one row group of 122,880 rows, which DuckDB scans on one thread)
  // live in a scratch database of small row groups, so the statements over them (the split, the exact checks, the
  // quarantine rows) run on every thread. Only an attached file takes a row group size (an in-memory one ignores it).
  // Not for load's typed pass: its valid view and its caller read these tables as TEMP tables. The folder is named as
  // this process's spill folder, so a later surgctl sweeps it if this one is killed.
  const scratch = input.typed ? undefined : { dir: processTempDir(), alias: tempName('kept') };
  try {
    if (scratch) await db.run(`ATTACH ${literal(join(scratch.dir, 'kept.duckdb'))} AS ${ident(scratch.alias)} (ROW_GROUP_SIZE ${KEPT_ROW_GROUP_SIZE})`);
    return await fastCsv(db, ds, input, scratch && ident(scratch.alias));
  } finally {
    await db.run(`SET preserve_insertion_order = ${preserve === false ? 'false' : 'true'}`);
    if (lower) await db.run(`SET memory_limit = ${literal(db.memoryLimit)}`);
    if (scratch) {
      await db.run(`DETACH DATABASE IF EXISTS ${ident(scratch.alias)}`);
      rmSync(scratch.dir, { recursive: true, force: true });
    }
  }
}

/** Rows per row group of the kept lines' tables: 100,000 kept lines make 7 tasks instead of 1 (a multiple of 2,048). */
const KEPT_ROW_GROUP_SIZE = 16_384;

/** DuckDB's memory_limit while the fast path runs (when the database's own is higher), in MB. */
const FAST_MEMORY_LIMIT_MB = 192;

/** `kept`: the attached database (a quoted alias) for the kept lines' tables; TEMP tables when undefined. */
async function fastCsv(db: Db, ds: DatasetSchema, input: FastCsvInput, kept: string | undefined): Promise<StagedValidation | undefined> {
  const head = await readHead(input.path, input.gzip, input.delimiter);
  if (!head) return undefined;
  const { header, delimiter } = head;
  if (new Set(header).size !== header.length || ds.required.some((c) => !header.includes(c))) return undefined;
  // A wide header (thousands of columns the schema does not name): the exact path stages the named ones only.
  if (header.length > Object.keys(ds.schema.properties ?? {}).length + 100) return undefined;
  const first = buildFastLine(ds.schema, header, delimiter);
  if (!first.ok) return undefined;
  const pk = ds.primaryKey.map((c) => header.indexOf(c));
  if (pk.some((i) => i < 0)) return undefined;
  // Foreign keys checked against datasets validated in the same run: the line regex spells out the referenced keys
  // (those that pass the column's own checks), so a line it accepts has no orphan either.
  const fks = ds.foreignKeys
    .map((fk) => ({ fk, target: input.foreignKeyTables?.[fk.references.dataset] }))
    .filter((x): x is { fk: (typeof ds.foreignKeys)[number]; target: string } => x.target !== undefined && x.fk.columns.every((c) => header.includes(c)));
  if (fks.some(({ fk }) => fk.columns.length !== 1)) return undefined;
  const members = new Map<string, string[]>();
  for (const { fk, target } of fks) {
    const col = fk.columns[0] as string;
    const ref = quoteAnyIdent(fk.references.columns[0] ?? '');
    const cellRule = first.cells[header.indexOf(col)];
    if (!cellRule) return undefined;
    const size = Number(await db.scalar(`SELECT count(DISTINCT ${ref})::BIGINT FROM ${ident(target)}`));
    if (size > MAX_REFERENCED_KEYS) return undefined;
    // Each key behind a '.', dropped below: node-api's text decoding strips a U+FEFF that begins a value.
    const rows = await db.all<{ v: string }>(`SELECT DISTINCT '.' || CAST(${ref} AS VARCHAR) AS v FROM ${ident(target)}
      WHERE ${ref} IS NOT NULL AND regexp_full_match(CAST(${ref} AS VARCHAR), $re)${cellRule.maxLength !== null ? ` AND length(CAST(${ref} AS VARCHAR)) <= ${cellRule.maxLength}` : ''}
      ORDER BY v`, { re: cellRule.re === '' ? '(?:)' : cellRule.re });
    const values = rows.map((r) => r.v.slice(1));
    const before = members.get(col);
    members.set(col, before ? before.filter((v) => values.includes(v)) : values);
  }
  const fast = members.size ? buildFastLine(ds.schema, header, delimiter, members) : first;
  if (!fast.ok) return undefined;

  const base = tempName('fast');
  const keptRef = (name: string): string => (kept ? `${kept}.main.${ident(name)}` : ident(name));
  const keptTable = kept ? 'TABLE' : 'TEMP TABLE';
  const t = {
    lines: stageRef(base),
    candHash: ident(`${base}_candh`),
    kept: keptRef(`${base}_kept`),
    cand: ident(`${base}_cand`),
    extra: stageRef(`${base}_extra`),
    parts: keptRef(`${base}_parts`),
    err: keptRef(`${base}_err`),
    rowErr: keptRef(`${base}_rowerr`),
    blank: ident(`${base}_blank`),
    quar: `${base}_quar`,
    valid: `${base}_valid`,
  };
  const n = header.length;
  const p: Record<string, DuckDBValue> = { d: delimiter };
  const reader = `read_csv(${literal(input.path)}, columns = {'l': 'VARCHAR'}, header = true, delim = ${literal('\u0001')},
    quote = '', escape = '', auto_detect = false, compression = ${input.gzip ? "'gzip'" : "'none'"}, max_line_size = 4194304)`;
  // The key cells by position (exact on plainly valid lines: no quotes), NULL when empty, as DuckDB reads them.
  const cell = (line: string, i: number): string =>
    n === 1 ? `nullif(split_part(${line}, $d, 1), '')`
      : i === 0 ? `nullif(substr(${line}, 1, strpos(${line}, $d) - 1), '')`
        : `nullif(split_part(${line}, $d, ${i + 1}), '')`;
  // NULL hashes to a constant: rows without a key may land in a candidate group, and are never duplicates below.
  const keyHash = (line: string): string => `hash(${pk.map((i) => cell(line, i)).join(', ')})`;
  // A line over maxLineLength may still be valid: then each cell the regex does not bound by length is measured
  // (a line the regex matches has exactly its cells between the delimiters). A CASE, so only such lines are split
  // (DuckDB computes every operand of AND / OR in a projection). strlen (bytes, stored with the string) at most
  // maxLineLength means length (characters, read from the bytes) is too. (A second RE2 regex measuring the cells
  // instead cost 1 CPU s less on the generator's 5M file, but 66 MiB more peak RSS in the 25M first pass: not kept.)
  const cellBounds = fast.cellMaxLength.flatMap((m, i) => (m === null ? [] : [`length(split_part(l, $d, ${i + 1})) <= ${m}`]));
  const okExpr = fast.maxLineLength === null ? 'regexp_full_match(l, $rx)'
    : `CASE WHEN NOT regexp_full_match(l, $rx) THEN false WHEN strlen(l) <= ${fast.maxLineLength} THEN true ELSE ${cellBounds.join(' AND ') || 'false'} END`;
  const dropAll = async (): Promise<void> => {
    await db.run(`DROP TABLE IF EXISTS ${t.lines};
      DROP TABLE IF EXISTS ${t.candHash}; DROP TABLE IF EXISTS ${t.kept}; DROP TABLE IF EXISTS ${t.cand}; DROP TABLE IF EXISTS ${t.extra}; DROP TABLE IF EXISTS ${t.parts}; DROP TABLE IF EXISTS ${t.err}; DROP TABLE IF EXISTS ${t.rowErr};
      DROP TABLE IF EXISTS ${t.blank}`);
  };

  // A plain file keeps each line's byte length, so candidate duplicate lines can be read back by offset (a gzip
  // stream cannot be read at an offset: it scans again). Load's typed pass keeps every line's text instead.
  const byOffset = pk.length > 0 && !input.gzip && !input.typed;
  input.progress('reading');
  // 1. One ordered pass over the file (rowid = k - 1, k = the data line number after the header): each line's state
  //    (0 blank, 1 valid for sure, 2 to check), the hash of its key cells, and the text of the lines to check.
  // Typed (load): every line's text is kept (not only the lines to check); the valid view types the plainly valid ones.
  const schemaTypes = ds.columns.map((c) => duckType(ds.columnTypes[c] ?? { type: 'string' }));
  const typedCells = (cellOf: (j: number) => string): string[] =>
    ds.columns.map((c, i) => {
      const j = header.indexOf(c);
      const t = schemaTypes[i] as string;
      return j < 0 ? `NULL::${t}` : castTextSql(t, cellOf(j));
    });
  // The same for the cells of a line the regex accepted: its date-time cells have a second below 60, so DuckDB's own
  // cast gives what castTextSql gives wherever it reads the text (it reads no lower-case 't' or 'z': those take
  // castTextSql's way), and skips castTextSql's checks and upper-casing on the usual value.
  const provenCells = (cellOf: (j: number) => string): string[] =>
    typedCells(cellOf).map((sql, i) => {
      const j = header.indexOf(ds.columns[i] as string);
      return j >= 0 && schemaTypes[i] === 'TIMESTAMPTZ' ? `coalesce(TRY_CAST(${cellOf(j)} AS TIMESTAMPTZ), ${sql})` : sql;
    });
  try {
    await db.run(`CREATE TABLE ${t.lines} AS
      SELECT CASE WHEN l IS NULL THEN 0 WHEN ok THEN 1 ELSE 2 END::UTINYINT AS st,
             ${pk.length ? `CASE WHEN l IS NOT NULL THEN ${keyHash('l')} END` : 'NULL::UBIGINT'} AS h, ${input.typed ? 'l' : 'CASE WHEN NOT ok THEN l END AS l'}
             ${byOffset ? ', strlen(l)::UINTEGER AS n' : ''}
      FROM (SELECT l, ${okExpr} AS ok FROM ${reader})`,
    { rx: fast.regex, ...(pk.length || cellBounds.length ? p : {}) });
  } catch (e) {
    // DuckDB refused a line (encoding, length, the U+0001 separator, mixed line ends): the exact path reports it.
    // Anything else is ours.
    await dropAll();
    if (e instanceof Error && /Invalid Input Error|CSV Error|CSV Parser/.test(e.message)) return undefined;
    throw e;
  }
  await db.run('SET preserve_insertion_order = false');
  input.progress('mapping lines');
  const lines = Number(await db.scalar(`SELECT count(*)::BIGINT FROM ${t.lines}`));
  // 2. Candidate duplicate keys: hash groups of more than one line.
  let candidates = 0;
  if (pk.length) {
    await db.run(`CREATE TEMP TABLE ${t.candHash} AS SELECT h FROM ${t.lines} WHERE h IS NOT NULL GROUP BY h HAVING count(*) > 1`);
    candidates = Number(await db.scalar(`SELECT count(*)::BIGINT FROM ${t.candHash}`));
  }
  // One scan of the per-line table keeps, with their numbers, the lines to check, the blank ones, and the plainly
  // valid lines of candidate keys (their length and key hash: their text is read back below; load's typed pass kept
  // every line's text, so there they stay as they are).
  await db.run(`CREATE ${keptTable} ${t.kept} AS SELECT rowid + 1 AS k, st, l, h, ${byOffset ? 'n' : 'NULL::UINTEGER AS n'} FROM ${t.lines}
    WHERE st <> 1${candidates > 0 ? ` OR h IN (SELECT h FROM ${t.candHash})` : ''}`);
  if (candidates > 0 && !input.typed) {
    await db.run(`CREATE TEMP TABLE ${t.cand} AS SELECT k, h, n FROM ${t.kept} WHERE st = 1`);
    await db.run(`DELETE FROM ${t.kept} WHERE st = 1`);
  }
  const counts = (await db.all<{ blank: number; check: number; quoted: number }>(`SELECT
      count(*) FILTER (WHERE st = 0)::DOUBLE AS blank, count(*) FILTER (WHERE st = 2)::DOUBLE AS "check",
      count(*) FILTER (WHERE st = 2 AND contains(l, '"'))::DOUBLE AS quoted
    FROM ${t.kept}`))[0] ?? { blank: 0, check: 0, quoted: 0 };
  // A quote can open a field that runs over the next lines: every line from the first quote on is the exact
  // staging's. It takes them here only when they are few and all kept (their text is at hand) and none of them
  // parses as a row (a truncated last record, a stray quote): then nothing in the tail takes part in the
  // duplicate-key or foreign-key checks of the rest. Otherwise the whole file goes to the exact staging.
  let tail: { from: number; rowsBefore: number; staged: StagedValidation } | undefined;
  if (counts.quoted > 0) {
    const from = Number(await db.scalar(`SELECT min(k)::BIGINT FROM ${t.kept} WHERE st = 2 AND contains(l, '"')`));
    const plainAfter = Number(await db.scalar(`SELECT count(*)::BIGINT FROM ${t.lines} WHERE st = 1 AND rowid + 1 > ${from}`));
    if (lines - from + 1 > MAX_TAIL_LINES || plainAfter > 0) {
      await dropAll();
      return undefined;
    }
    const rows = await db.all<{ l: string | null }>(`SELECT l FROM ${t.kept} WHERE k >= ${from} ORDER BY k`);
    const dir = processTempDir();
    try {
      const file = join(dir, 'tail.csv');
      writeFileSync(file, `${header.join(delimiter)}\n${rows.map((r) => r.l ?? '').join('\n')}\n`);
      const staged = await input.exact(file);
      const structural = await db.scalar<boolean>(`SELECT coalesce(bool_and(starts_with(rule, 'csv_')), true) FROM ${ident(staged.quarantineTable)}`);
      if (staged.rowsValid > 0 || !structural || staged.fileErrors.length) {
        await dropStaged(db, staged);
        await dropAll();
        return undefined;
      }
      const blanksBefore = Number(await db.scalar(`SELECT count(*)::BIGINT FROM ${t.kept} WHERE st = 0 AND k < ${from}`));
      tail = { from, rowsBefore: from - 1 - blanksBefore, staged };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await db.run(`DELETE FROM ${t.kept} WHERE k >= ${from}`);
    counts.check = Number(await db.scalar(`SELECT count(*)::BIGINT FROM ${t.kept} WHERE st = 2`));
    counts.blank = Number(await db.scalar(`SELECT count(*)::BIGINT FROM ${t.kept} WHERE st = 0`));
  }

  // Physical line = k + 1; the data-row number skips blank lines.
  await db.run(`CREATE TEMP TABLE ${t.blank} AS SELECT k, row_number() OVER (ORDER BY k) AS j FROM ${t.kept} WHERE st = 0`);
  const rowOf = (k: string, alias: string): { row: string; join: string } =>
    counts.blank === 0 ? { row: k, join: '' }
      : { row: `(${k} - coalesce(${alias}.j, 0))`, join: `ASOF LEFT JOIN ${t.blank} ${alias} ON ${k} > ${alias}.k` };

  input.progress('keys');
  // The plainly valid lines of candidate keys are read back from the file at their byte offsets, or else by a second
  // ordered pass that keeps the lines whose key hash is set in a bitmap of the candidates (a join in that pass would
  // not keep the file order that numbers the lines).
  if (candidates > 0 && !input.typed) {
    const nCand = Number(await db.scalar(`SELECT count(*)::BIGINT FROM ${t.cand}`));
    const read = nCand > 0 && byOffset && nCand <= Math.max(MAX_OFFSET_READS, lines / OFFSET_READ_SHARE)
      && await readLinesAt(db, input.path, head, t.lines, t.cand, t.kept, keyHash);
    if (nCand > 0 && !read) {
      // Bit h mod 2^20 set for each candidate hash, as a bound parameter (folded once at planning) of '0'/'1' text.
      const bitmap = await db.scalar<string>(`SELECT bitstring_agg((h % ${BITMAP_BITS})::INTEGER, 0, ${BITMAP_BITS - 1})::VARCHAR FROM ${t.candHash}`);
      await db.run('SET preserve_insertion_order = true');
      await db.run(`CREATE TABLE ${t.extra} AS SELECT CASE WHEN get_bit($bm::BIT, (${keyHash('l')} % ${BITMAP_BITS})::INTEGER) = 1 THEN l END AS l
        FROM ${reader}`, { ...p, bm: bitmap ?? '' });
      await db.run('SET preserve_insertion_order = false');
      await db.run(`INSERT INTO ${t.kept} (k, st, l) SELECT rowid + 1, 1, l FROM ${t.extra} WHERE l IS NOT NULL AND rowid + 1 IN (SELECT k FROM ${t.cand})`);
    }
  }
  // 3. The kept lines split into cells (no quotes in them: a plain split is the CSV parse). Empty fields past the
  //    header's count are dropped, as DuckDB's read_csv drops them; a non-empty one makes the row ragged.
  const cols = header.map((_, i) => `c${i}`);
  await db.run(`CREATE ${keptTable} ${t.parts} AS
    SELECT k, l, len(parts) >= ${n} AND array_to_string(parts[${n + 1}:], '') = '' AS parsed, "check",
      ${cols.map((c, i) => `nullif(parts[${i + 1}], '') AS ${c}`).join(', ')}
    FROM (SELECT k, l, string_split(l, $d) AS parts, st = 2 AS "check" FROM ${t.kept} WHERE l IS NOT NULL)`, p);

  input.progress('checking rows');
  await db.run(`CREATE ${keptTable} ${t.err} (k BIGINT, src INTEGER, errs ${ERR_STRUCT}[])`);
  const staged = `(SELECT k AS _row, ${cols.join(', ')} FROM ${t.parts} WHERE parsed AND "check")`;
  if (counts.check > 0) {
    const q = compileChecks(ds.schema, staged, { kind: 'csv', columns: header.map((name, i) => ({ name, column: `c${i}` })) });
    await db.run(`INSERT INTO ${t.err} SELECT _row, 0, errs FROM (${q.sql})`, q.params);
  }
  // Exact duplicates among the kept lines (every line of a duplicated key is kept): the first occurrence (lowest k)
  // is valid, later ones duplicate_key.
  if (pk.length && candidates > 0) {
    const keys = pk.map((i) => `c${i}`);
    await db.run(`INSERT INTO ${t.err}
      SELECT k, 1, [{'field': $f, 'keyword': 'duplicate_key', 'message': 'duplicate primary key: an earlier row has the same ' || $f,
             'value': ${keys[0]}, 'severity': 'error', 'rule': NULL}]
      FROM (SELECT k, ${keys.join(', ')}, row_number() OVER (PARTITION BY ${keys.join(', ')} ORDER BY k) AS rn
            FROM ${t.parts} WHERE parsed AND ${keys.map((c) => `${c} IS NOT NULL`).join(' AND ')})
      WHERE rn > 1`, { f: ds.primaryKey.join(',') });
  }

  // Orphan foreign keys (src 2, 3, ... in the schema's order) among the lines checked in full.
  for (const [i, { fk, target }] of fks.entries()) {
    const c = `c${header.indexOf(fk.columns[0] as string)}`;
    await db.run(`INSERT INTO ${t.err}
      SELECT k, ${2 + i}, [{'field': $f, 'keyword': 'orphan_foreign_key', 'message': $msg, 'value': ${c}, 'severity': 'error', 'rule': NULL}]
      FROM ${t.parts} x WHERE parsed AND "check" AND ${c} IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM ${ident(target)} t WHERE t.${quoteAnyIdent(fk.references.columns[0] ?? '')} = x.${c})`,
      { f: fk.columns.join(','), msg: `no ${fk.references.dataset} row with this ${fk.references.columns.join(', ')}` });
  }

  input.progress('quarantine');
  // At most one row per line from the checks (src 0) and from duplicates (src 1); then the orphans in order.
  await db.run(`CREATE ${keptTable} ${t.rowErr} AS
    SELECT k, list_filter(all_errs, e -> e.severity = 'error') AS errs, list_filter(all_errs, e -> e.severity = 'warn') AS warns
    FROM (SELECT coalesce(a.k, b.k, f.k) AS k, list_concat(list_concat(coalesce(a.errs, []), coalesce(b.errs, [])), coalesce(f.errs, [])) AS all_errs
          FROM (SELECT k, errs FROM ${t.err} WHERE src = 0) a
          FULL JOIN (SELECT k, errs FROM ${t.err} WHERE src = 1) b ON a.k = b.k
          FULL JOIN (SELECT k, flatten(list(errs ORDER BY src)) AS errs FROM ${t.err} WHERE src >= 2 GROUP BY k) f ON f.k = coalesce(a.k, b.k))`);
  const hp: Record<string, DuckDBValue> = {};
  header.forEach((h, i) => (hp[`h${i}`] = h));
  const raw = `json_object(${cols.map((c, i) => `$h${i}, coalesce(x.${c}, '')`).join(', ')})::VARCHAR`;
  const fieldCount = REJECT_MESSAGES.csv_field_count as string;
  const r1 = rowOf('x.k', 'b1');
  const r2 = rowOf('x.k', 'b2');
  await db.run(`CREATE TEMP TABLE ${ident(t.quar)} AS
    SELECT $file AS file, line, "row", raw, errors, rule FROM (
      SELECT x.k + 1 AS line, ${r1.row} AS "row", ${raw} AS raw, ${publicErrorsSql('e.errs')} AS errors, e.errs[1].keyword AS rule
      FROM ${t.parts} x JOIN ${t.rowErr} e ON e.k = x.k ${r1.join}
      WHERE x.parsed AND len(e.errs) > 0
      UNION ALL
      SELECT x.k + 1, ${r2.row}, to_json(x.l)::VARCHAR, to_json([{'field': NULL::VARCHAR, 'keyword': 'csv_field_count',
             'message': $fc, 'value': NULL::VARCHAR}])::VARCHAR, 'csv_field_count'
      FROM ${t.parts} x ${r2.join} WHERE NOT x.parsed)`, { ...hp, file: input.display, fc: fieldCount });
  if (tail) {
    await db.run(`INSERT INTO ${ident(t.quar)} SELECT file, line + ${tail.from - 1}, "row" + ${tail.rowsBefore}, raw, errors, rule
      FROM ${ident(tail.staged.quarantineTable)} ORDER BY line, "row"`);
  }
  const rowsQuarantined = Number(await db.scalar(`SELECT count(*)::BIGINT FROM ${ident(t.quar)}`));
  const rowsRead = tail ? tail.rowsBefore + tail.staged.rowsRead : lines - counts.blank;

  input.progress('summary');
  const byRule = await db.all<{ rule: string; sev: string; n: number }>(`
    SELECT coalesce(e.rule, e.keyword) AS rule, e.severity AS sev, count(DISTINCT k)::INTEGER AS n
    FROM (SELECT k, unnest(list_concat(errs, warns)) AS e FROM ${t.rowErr}) GROUP BY ALL
    UNION ALL SELECT 'csv_field_count', 'error', count(*)::INTEGER FROM ${t.parts} WHERE NOT parsed HAVING count(*) > 0
    ORDER BY n DESC, rule`);
  const failuresByRule: Record<string, number> = {};
  const warningsByRule: Record<string, number> = {};
  for (const r of byRule) (r.sev === 'warn' ? warningsByRule : failuresByRule)[r.rule] = r.n;
  if (tail) {
    // Merged, then in the exact path's order again: most rows first, then by rule name.
    const merged = new Map(Object.entries(failuresByRule));
    for (const [rule, count] of Object.entries(tail.staged.failuresByRule)) merged.set(rule, (merged.get(rule) ?? 0) + count);
    for (const rule of Object.keys(failuresByRule)) delete failuresByRule[rule];
    for (const [rule, count] of [...merged].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0]))) failuresByRule[rule] = count;
  }
  const limit = Math.floor(input.examples);
  const r3 = rowOf('x.k', 'b3');
  const r4 = rowOf('x.k', 'b4');
  const headExamples = limit <= 0 ? [] : await db.all<{ line: number; row: number; field: string | null; keyword: string; message: string;
    value: string | null; severity: 'error' | 'warn' }>(`
    SELECT (x.k + 1)::DOUBLE AS line, ${r3.row}::DOUBLE AS "row", e.field, e.keyword,
           CASE WHEN e.rule IS NULL THEN e.message ELSE e.message || ' (rule ' || e.rule || ')' END AS message,
           '.' || left(e.value, 200) AS value, e.severity
    FROM (SELECT k, unnest(list_concat(errs, warns)) AS e FROM (SELECT * FROM ${t.rowErr} ORDER BY k LIMIT ${limit})) x ${r3.join}
    UNION ALL
    SELECT (x.k + 1)::DOUBLE, ${r4.row}::DOUBLE, NULL, 'csv_field_count', $fc, '.' || left(x.l, 200), 'error'
    FROM (SELECT * FROM ${t.parts} WHERE NOT parsed ORDER BY k LIMIT ${limit}) x ${r4.join}
    ORDER BY line, keyword, field NULLS FIRST, message, value NULLS FIRST LIMIT ${limit}`, { fc: fieldCount });

  // Values were read behind a '.' (node-api's text decoding strips a U+FEFF that begins a value; it is data).
  const examples = headExamples.map((e) => ({ ...e, line: Number(e.line), row: Number(e.row), value: e.value === null ? null : e.value.slice(1) }));
  if (tail) {
    examples.push(...tail.staged.examples.map((e) => ({ ...e, line: e.line + tail.from - 1, row: e.row + tail.rowsBefore })));
    await dropStaged(db, tail.staged);
  }
  examples.sort((a, b) => a.line - b.line || cmp(a.keyword, b.keyword) || cmp(a.field, b.field) || cmp(a.message, b.message) || cmp(a.value, b.value));
  examples.splice(Math.max(0, limit));
  if (input.typed) {
    // The valid rows as a view, in file order: the plainly valid lines but those found duplicates, split and typed as
    // the merge reads them (each row is written, typed, once: into its raw table), then the lines checked in full that
    // passed. Line numbers are the first pass's rowids.
    const bad = `(SELECT k FROM ${t.rowErr} WHERE len(errs) > 0)`;
    const names = ds.columns.map(quoteAnyIdent);
    const r5 = rowOf('x.k', 'b5');
    const r6 = rowOf('x.k', 'b6');
    // A view cannot bind parameters: the delimiter (one character) is spelled as a literal.
    await db.run(`CREATE TEMP VIEW ${ident(t.valid)} AS
      SELECT ${provenCells((j) => `nullif(x._p[${j + 1}], '')`).map((v, i) => `${v} AS ${names[i]}, `).join('')}x.k + 1 AS _source_line, ${r5.row} AS _row
      FROM (SELECT rowid + 1 AS k, string_split(l, ${literal(delimiter)}) AS _p FROM ${t.lines} WHERE st = 1) x ${r5.join}
      WHERE x.k NOT IN ${bad}
      UNION ALL
      SELECT ${typedCells((j) => `x.c${j}`).map((v, i) => `${v} AS ${names[i]}, `).join('')}x.k + 1, ${r6.row}
      FROM ${t.parts} x ${r6.join}
      WHERE x.parsed AND x."check" AND x.k NOT IN ${bad}`);
    await db.run(`DROP TABLE IF EXISTS ${t.candHash}; DROP TABLE IF EXISTS ${t.kept}; DROP TABLE IF EXISTS ${t.cand}; DROP TABLE IF EXISTS ${t.extra};
      DROP TABLE IF EXISTS ${t.err}`);
  } else {
    // The typed valid table the caller did not ask for: empty, with the promised columns.
    const typed = ds.columns.map((c) => `NULL::${duckType(ds.columnTypes[c] ?? { type: 'string' })} AS ${quoteAnyIdent(c)}`);
    await db.run(`CREATE TEMP TABLE ${ident(t.valid)} AS SELECT ${typed.map((x) => `${x}, `).join('')}NULL::BIGINT AS _source_line, NULL::BIGINT AS _row LIMIT 0`);
    await db.run(`DROP TABLE IF EXISTS ${t.candHash}; DROP TABLE IF EXISTS ${t.kept}; DROP TABLE IF EXISTS ${t.cand}; DROP TABLE IF EXISTS ${t.extra};
      DROP TABLE IF EXISTS ${t.parts}; DROP TABLE IF EXISTS ${t.err}; DROP TABLE IF EXISTS ${t.rowErr}; DROP TABLE IF EXISTS ${t.blank}`);
  }
  const rowsValid = rowsRead - rowsQuarantined;
  return {
    validTable: t.valid,
    ...(input.typed ? { validIsView: true, extraTables: [`${base}_parts`, `${base}_rowerr`, `${base}_blank`] } : {}),
    quarantineTable: t.quar,
    stagedTable: base,
    format: 'csv',
    delimiter,
    engine: 'compiled',
    fastPath: true,
    engineReasons: [],
    rowsRead,
    rowsValid,
    rowsQuarantined,
    failuresByRule,
    warningsByRule,
    fileErrors: [],
    examples,
    notes: [],
  };
}

/** Whether the lines' byte lengths (line ends included) cover the file from dataStart: the last line may lack its end. */
function fileSizeMatches(path: string, dataStart: number, bytes: number, eol: number): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size - dataStart;
    return bytes === size || bytes === size + eol;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Lines per block of the read-back offsets: each candidate sums the lengths of the lines before it in its block. */
const OFFSET_BLOCK = 64;

/**
 * Reads the candidate lines (table `cand`: k, the key hash h and the byte length n the scan recorded) back from the
 * file at their byte offsets (the sum of the line lengths `n` before them in `lines`) into `kept` as state 1. It
 * returns false, keeping nothing, when the lengths do not add up to the file's size or a line read has not the
 * length and key hash recorded for it (the caller scans again).
 */
async function readLinesAt(db: Db, path: string, head: Head, lines: string, cand: string, kept: string,
  keyHash: (line: string) => string): Promise<boolean> {
  // Offsets without a window over every line: the byte sums of blocks of lines (line ends included), a running sum
  // over the blocks, then each candidate's block summed up to its line.
  const w = `(SELECT rowid AS r, coalesce(n, 0) + ${head.eol} AS w FROM ${lines})`;
  const blk = ident(tempName('blk'));
  const table = tempName('readback');
  await db.run(`CREATE TEMP TABLE ${blk} AS SELECT r // ${OFFSET_BLOCK} AS b, sum(w)::BIGINT AS s FROM ${w} GROUP BY b`);
  try {
    // The lengths add up to the file's size only when DuckDB's lines are the file's lines byte for byte (no stripped
    // character, a blank line empty): then each line's offset is the sum of the lengths before it.
    const bytes = await db.scalar<number | null>(`SELECT sum(s)::DOUBLE FROM ${blk}`);
    if (bytes == null || !fileSizeMatches(path, head.dataStart, bytes, head.eol)) return false;
    const at = await db.read(`WITH pre AS (SELECT b, coalesce(sum(s) OVER (ORDER BY b ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before FROM ${blk}),
        c AS (SELECT k, n, (k - 1) // ${OFFSET_BLOCK} AS b FROM ${cand}),
        part AS (SELECT c.k, sum(x.w) FILTER (WHERE x.r < c.k - 1) AS inb FROM c JOIN ${w} x ON x.r // ${OFFSET_BLOCK} = c.b GROUP BY c.k)
      SELECT c.k, (pre.before + coalesce(part.inb, 0))::BIGINT AS off, c.n::DOUBLE AS n
      FROM part JOIN c USING (k) JOIN pre USING (b) ORDER BY off`);
    const [ks = [], offs = [], ns = []] = at.getColumns() as unknown as [bigint[], bigint[], (number | null)[]];
    await db.run(`CREATE TEMP TABLE ${ident(table)} (k BIGINT, l VARCHAR)`);
    const appender = await db.appender(table, 'main', 'temp');
    let fd: number | undefined;
    // Only the file's own open and reads are IoErrors; the appender's failures stay DuckDB's.
    const fsCall = <T>(f: () => T): T => {
      try {
        return f();
      } catch (e) {
        throw toIoError(path, e, 'read');
      }
    };
    try {
      const file = fsCall(() => openSync(path, 'r'));
      fd = file;
      let buf = Buffer.alloc(1 << 16);
      for (let i = 0; i < ks.length; i++) {
        const n = ns[i] ?? 0;
        if (buf.length < n) buf = Buffer.alloc(n);
        const chunk = buf;
        if (fsCall(() => readSync(file, chunk, 0, n, head.dataStart + Number(offs[i]))) !== n) return false;
        appender.appendBigInt(ks[i] as bigint);
        appender.appendVarchar(buf.toString('utf8', 0, n));
        appender.endRow();
      }
    } finally {
      appender.closeSync();
      if (fd !== undefined) closeSync(fd);
    }
    const same = Number(await db.scalar(`SELECT count(*)::BIGINT FROM ${ident(table)} r JOIN ${cand} x USING (k)
      WHERE strlen(r.l) = x.n AND ${keyHash('r.l')} = x.h`, { d: head.delimiter }));
    if (same !== ks.length) return false;
    await db.run(`INSERT INTO ${kept} (k, st, l) SELECT k, 1, l FROM ${ident(table)}`);
    return true;
  } finally {
    await db.run(`DROP TABLE IF EXISTS ${ident(table)}; DROP TABLE IF EXISTS ${blk}`);
  }
}
