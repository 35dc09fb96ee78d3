// loadFiles: idempotent, transactional loads of CSV / NDJSON / Parquet files (or a stdin stream in batches) into
// the raw_<dataset> tables of a DuckDB lakehouse, validated on the way in, with a `loads` ledger and a quarantine.
// Set-at-a-time throughout: the file is staged and validated in DuckDB, orphans and duplicates are found with
// joins, and each file lands in one transaction (ledger row 'running' first, so a killed process is visible).
// The `quarantine` table is the truth about rejected rows, committed in the same transaction as the data; the
// quarantine NDJSON file is a derived copy written after the commit (tmp + rename) to the path the ledger records,
// and re-derived by the next load when it is missing (a full disk, a kill between commit and rename).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Db, LakeLimits } from '../../db/db.js';
import { ident, literal } from '../../db/sql.js';
import { InterruptedError, toIoError, UsageError } from '../../errors.js';
import { inferDataset, listDatasets, loadDatasetSchema, orderByDependencies, type DatasetSchema } from '../schemas.js';
import { dropStaged, expandInputs, stageAndValidate, type InputFormat } from '../validate/index.js';
import { findSucceededBySha, finishLoad, markAbandoned, newLoadId, startLoad } from './ledger.js';
import { checkRawTableMatches } from './migrations.js';
import { openLakehouse } from './lakehouse.js';
import { finishRun, newRunId, startRun } from '../runs.js';
import { rawTableName } from './raw-tables.js';

/** The writer's gate (src/core/load/lakehouse.ts), re-exported for the callers that import it from here. */
export { openLakehouse };

export interface LoadOptions {
  dbPath: string;
  /** Dataset for every input (required for stdin); otherwise inferred from each file name. */
  dataset?: string | undefined;
  format?: InputFormat | undefined;
  delimiter?: string | undefined;
  /** Reload a file whose content already loaded successfully (still idempotent by key). */
  force?: boolean | undefined;
  allowOrphans?: boolean | undefined;
  lockTimeoutMs?: number | undefined;
  /** DuckDB threads and memory (default: 2 threads, 512MB for a load). */
  limits?: LakeLimits | undefined;
  /** Where quarantine NDJSON files go (default ./quarantine under cwd). */
  quarantineDir?: string | undefined;
  cwd?: string | undefined;
  /** The command's arguments, recorded in the run history. */
  args?: string[] | undefined;
  onEvent?: ((e: LoadEvent) => void) | undefined;
  /** Aborting stops at the next check (between files and statements; a running statement is interrupted), rolls the
   *  current file back, marks its ledger row and the run 'interrupted' and throws InterruptedError (exit 130). */
  signal?: AbortSignal | undefined;
  /** Test hook: called at each step of a file's load (fault injection: a test kills the process here). */
  atStep?: ((step: LoadStep) => void) | undefined;
}

/** The steps of one file's load, in order, where a fault can be injected. */
export const LOAD_STEPS = [
  'after-ledger-start',
  'after-stage',
  'after-validate',
  'mid-insert',
  'before-commit',
  'after-commit',
  'after-quarantine-tmp',
  'after-rename',
  'after-finish',
] as const;
export type LoadStep = (typeof LOAD_STEPS)[number];

export type LoadEvent =
  /** The files to load, once planned (not for stdin, whose size is unknown). */
  | { type: 'start'; files: number }
  | { type: 'file-start'; path: string; dataset: string; loadId: string }
  /** A stage of one file began; step/of is how far through the file's stages (validation phases, then 'inserting' at 1/1). */
  | { type: 'file-progress'; path: string; phase: string; step: number; of: number }
  | { type: 'file-skipped'; path: string; dataset: string; previousLoadId: string }
  | { type: 'file-done'; result: FileLoadResult }
  | { type: 'abandoned'; count: number }
  | { type: 'warning'; message: string }
  | { type: 'quarantine-restored'; loadId: string; path: string };

export interface FileLoadResult {
  load_id: string;
  path: string;
  dataset: string;
  status: 'succeeded' | 'skipped' | 'failed';
  sha256: string | null;
  bytes: number | null;
  rows_read: number;
  rows_inserted: number;
  rows_duplicate: number;
  rows_quarantined: number;
  quarantine_path: string | null;
  engine: string | null;
  message: string | null;
  /** Quarantined rows per rule (keyword, or the schema's x-rule name). */
  failures_by_rule: Record<string, number>;
}

export interface LoadResult {
  db: string;
  files: FileLoadResult[];
  totals: { rows_read: number; rows_inserted: number; rows_duplicate: number; rows_quarantined: number };
}

/** Streams a file through sha256. Returns the hex digest and the byte count. */
export async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } catch (e) {
    throw toIoError(path, e, 'read');
  }
  return { sha256: hash.digest('hex'), bytes };
}

interface PlannedFile {
  path: string;
  display: string;
  ds: DatasetSchema;
}

/** Resolves inputs to files with their datasets, ordered so referenced datasets load first. */
export function planFiles(inputs: string[], opts: Pick<LoadOptions, 'dataset' | 'cwd'>): PlannedFile[] {
  const cwd = opts.cwd ?? process.cwd();
  const files = expandInputs(inputs, cwd);
  const known = listDatasets();
  const planned = files.map((f) => {
    const name = opts.dataset ?? inferDataset(f, known);
    if (!name) {
      throw new UsageError(`cannot tell which dataset ${f} holds`, {
        file: f,
        hint: `name the file after its dataset (${known.join(', ')}) or pass --dataset NAME`,
      });
    }
    if (!known.includes(name)) loadDatasetSchema(name); // throws the unknown-dataset error with the choices
    return { path: resolve(cwd, f), display: f, ds: loadDatasetSchema(name) };
  });
  const order = orderByDependencies([...new Map(planned.map((p) => [p.ds.name, p.ds])).values()]).map((d) => d.name);
  return planned
    .map((p, i) => ({ p, i }))
    .sort((a, b) => order.indexOf(a.p.ds.name) - order.indexOf(b.p.ds.name) || a.i - b.i)
    .map((x) => x.p);
}

/**
 * Loads files into the lakehouse at opts.dbPath. Each file lands whole or not at all; rows whose key is already
 * present count as duplicates; a file whose sha256 already loaded successfully is skipped unless force.
 * Throws UsageError (exit 2) for bad inputs, DatabaseError for locks and drift, QueryError/IoError for runtime faults;
 * a runtime fault marks that file's ledger row 'failed' before it propagates.
 */
export async function loadFiles(inputs: string[], opts: LoadOptions): Promise<LoadResult> {
  const planned = planFiles(inputs, opts);
  const db = await openLakehouse(opts.dbPath, opts.lockTimeoutMs, { limits: opts.limits });
  try {
    const abandoned = await markAbandoned(db);
    if (abandoned > 0) opts.onEvent?.({ type: 'abandoned', count: abandoned });
    await restoreQuarantineFiles(db, opts);
    opts.onEvent?.({ type: 'start', files: planned.length });
    return await recordRun(db, 'load', opts.args ?? inputs, async () => {
      const files: FileLoadResult[] = [];
      for (const p of planned) {
        if (opts.signal?.aborted) throw new InterruptedError(`load stopped before ${p.display}; ${keptFiles(files)} earlier file(s) kept`);
        try {
          files.push(await loadOneFile(db, p, opts));
        } catch (e) {
          if (e instanceof InterruptedError) throw new InterruptedError(`load of ${p.display} rolled back; ${keptFiles(files)} earlier file(s) kept`);
          throw e;
        }
      }
      return { db: opts.dbPath, files, totals: sumTotals(files) };
    });
  } finally {
    db.close();
  }
}

/** Runs fn as one entry of the run history: 'succeeded' with the totals, or 'failed' with the error. */
export async function recordRun(db: Db, command: string, args: string[], fn: () => Promise<LoadResult>): Promise<LoadResult> {
  const runId = newRunId();
  await startRun(db, runId, command, args);
  try {
    const result = await fn();
    const failed = result.files.filter((f) => f.status === 'failed').length;
    await finishRun(db, runId, failed > 0 ? 'failed' : 'succeeded', { ...result.totals, files: result.files.length, files_failed: failed });
    return result;
  } catch (e) {
    await finishRun(db, runId, e instanceof InterruptedError ? 'interrupted' : 'failed', {}, e instanceof Error ? e.message : String(e)).catch(() => undefined);
    throw e;
  }
}

function keptFiles(files: FileLoadResult[]): number {
  return files.filter((f) => f.status === 'succeeded').length;
}

export function sumTotals(files: FileLoadResult[]): LoadResult['totals'] {
  const t = { rows_read: 0, rows_inserted: 0, rows_duplicate: 0, rows_quarantined: 0 };
  for (const f of files) {
    t.rows_read += f.rows_read;
    t.rows_inserted += f.rows_inserted;
    t.rows_duplicate += f.rows_duplicate;
    t.rows_quarantined += f.rows_quarantined;
  }
  return t;
}

/** Loads one file (already planned) into an open, migrated lakehouse. */
export async function loadOneFile(
  db: Db,
  p: PlannedFile,
  opts: LoadOptions,
  extra: { replayOf?: string; format?: InputFormat } = {},
): Promise<FileLoadResult> {
  await checkRawTableMatches(db, p.ds.name);
  const { sha256, bytes } = await hashFile(p.path);
  if (!opts.force && extra.replayOf === undefined) {
    const prev = await findSucceededBySha(db, sha256, p.ds.name);
    if (prev) {
      opts.onEvent?.({ type: 'file-skipped', path: p.display, dataset: p.ds.name, previousLoadId: prev.load_id });
      return {
        load_id: prev.load_id, path: p.display, dataset: p.ds.name, status: 'skipped', sha256, bytes,
        rows_read: 0, rows_inserted: 0, rows_duplicate: 0, rows_quarantined: 0, quarantine_path: null, engine: null,
        message: `already loaded by ${prev.load_id}; pass --force to load it again (idempotent by key)`, failures_by_rule: {},
      };
    }
  }
  const loadId = newLoadId();
  const step = (name: LoadStep): void => {
    opts.atStep?.(name);
    if (opts.signal?.aborted) throw new InterruptedError();
  };
  // A statement running when the user presses Ctrl-C is cut short; the transaction then rolls back.
  if (opts.signal?.aborted) throw new InterruptedError();
  const interrupting = db.interruptOn(opts.signal);
  await startLoad(db, { loadId, path: p.display, sha256, bytes, dataset: p.ds.name, ...(extra.replayOf ? { replayOf: extra.replayOf } : {}) });
  opts.onEvent?.({ type: 'file-start', path: p.display, dataset: p.ds.name, loadId });
  try {
    step('after-ledger-start');
    const format = extra.format ?? opts.format;
    // Foreign keys resolve against what is already in the lakehouse (referenced datasets load first).
    const foreignKeyTables = opts.allowOrphans
      ? {}
      : Object.fromEntries(p.ds.foreignKeys.map((fk) => [fk.references.dataset, `raw_${fk.references.dataset}`]));
    const staged = await stageAndValidate(
      db,
      { path: p.path, displayName: p.display, ...(format ? { format } : {}) },
      p.ds,
      {
        delimiter: opts.delimiter,
        foreignKeyTables,
        onProgress: (phase, step, of) => opts.onEvent?.({ type: 'file-progress', path: p.display, phase, step, of: of + 1 }),
      },
    );
    // Staging and validation are one call (stageAndValidate); both hooks fire after it.
    step('after-stage');
    step('after-validate');
    if (staged.fileErrors.length > 0) {
      // The file as a whole does not fit the dataset (e.g. required columns missing): nothing of it is loaded.
      const message = staged.fileErrors.map((f) => f.message).join('; ');
      await finishLoad(db, loadId, 'failed', { read: staged.rowsRead, inserted: 0, duplicate: 0, quarantined: staged.rowsRead }, { engine: staged.engine, message });
      await dropStaged(db, staged);
      const failed: FileLoadResult = {
        load_id: loadId, path: p.display, dataset: p.ds.name, status: 'failed', sha256, bytes,
        rows_read: staged.rowsRead, rows_inserted: 0, rows_duplicate: 0, rows_quarantined: staged.rowsRead,
        quarantine_path: null, engine: staged.engine,
        // Asking about the dataset helps when the columns do not fit, not when the file is not text or not Parquet.
        message: staged.fileErrors.some((f) => f.keyword === 'required' || f.keyword === 'additionalProperties')
          ? `${message} (is this a ${p.ds.name} file? pass --dataset NAME)` : message,
        failures_by_rule: { file: staged.rowsRead },
      };
      opts.onEvent?.({ type: 'file-done', result: failed });
      return failed;
    }
    opts.onEvent?.({ type: 'file-progress', path: p.display, phase: 'inserting', step: 1, of: 1 });
    const qPath = staged.rowsQuarantined > 0 ? quarantineFilePath(p.path, loadId, opts) : null;
    const result = await db.transaction(async () => {
      const inserted = await insertNew(db, p.ds, staged.validTable, loadId, p.display);
      await db.run(
        `INSERT INTO quarantine (load_id, file, line, "row", dataset, raw, errors, rule, quarantined_at)
         SELECT $load, file, line, "row", $ds, raw, errors, rule, now() FROM ${ident(staged.quarantineTable)}`,
        { load: loadId, ds: p.ds.name },
      );
      step('mid-insert');
      const counts = { read: staged.rowsRead, inserted, duplicate: staged.rowsValid - inserted, quarantined: staged.rowsQuarantined };
      await finishLoad(db, loadId, 'succeeded', counts, { engine: staged.engine, quarantineFile: qPath });
      step('before-commit');
      return counts;
    });
    // Committed: from here on the load stands, whatever happens to the derived quarantine file.
    interrupting.remove();
    opts.atStep?.('after-commit');
    let message: string | null = null;
    if (qPath !== null) {
      try {
        await writeQuarantineFile(db, loadId, qPath, opts.atStep);
      } catch (e) {
        message = `quarantine file ${qPath} not written (${e instanceof Error ? e.message : String(e)}); its ${result.quarantined} row(s) are in the quarantine table and the next load writes the file`;
        opts.onEvent?.({ type: 'warning', message });
      }
    }
    await dropStaged(db, staged);
    const out: FileLoadResult = {
      load_id: loadId, path: p.display, dataset: p.ds.name, status: 'succeeded', sha256, bytes,
      rows_read: result.read, rows_inserted: result.inserted, rows_duplicate: result.duplicate,
      rows_quarantined: result.quarantined, quarantine_path: qPath, engine: staged.engine, message,
      failures_by_rule: staged.failuresByRule,
    };
    opts.onEvent?.({ type: 'file-done', result: out });
    opts.atStep?.('after-finish');
    return out;
  } catch (e) {
    // The ledger row below must not be interrupted.
    interrupting.remove();
    const interrupted = opts.signal?.aborted === true;
    const msg = interrupted ? 'interrupted (Ctrl-C): rolled back; no rows of it were kept' : e instanceof Error ? e.message : String(e);
    await finishLoad(db, loadId, interrupted ? 'interrupted' : 'failed', { read: 0, inserted: 0, duplicate: 0, quarantined: 0 }, { message: msg }).catch(() => undefined);
    throw interrupted ? new InterruptedError() : e;
  } finally {
    interrupting.remove();
  }
}

/** Inserts valid rows whose primary key is not in the raw table yet. Returns the number inserted. */
async function insertNew(db: Db, ds: DatasetSchema, validTable: string, loadId: string, display: string): Promise<number> {
  const cols = ds.columns.map(ident).join(', ');
  const on = ds.primaryKey.map((k) => `r.${ident(k)} = v.${ident(k)}`).join(' AND ');
  const n = await db.scalar<number | string>(
    `INSERT INTO ${rawTableName(ds.name)} (${cols}, _load_id, _source_file, _source_line)
     SELECT ${ds.columns.map((c) => `v.${ident(c)}`).join(', ')}, $load, $file, v._source_line
     FROM ${ident(validTable)} v
     WHERE NOT EXISTS (SELECT 1 FROM ${rawTableName(ds.name)} r WHERE ${on})
     ORDER BY v._source_line`,
    { load: loadId, file: display },
  );
  return Number(n ?? 0);
}

/** Where a load's quarantine file goes: <quarantine dir>/<input name>.<load id>.quarantine.ndjson (absolute). */
function quarantineFilePath(inputPath: string, loadId: string, opts: Pick<LoadOptions, 'cwd' | 'quarantineDir'>): string {
  const dir = resolve(opts.cwd ?? process.cwd(), opts.quarantineDir ?? 'quarantine');
  return join(dir, `${basename(inputPath)}.${loadId}.quarantine.ndjson`);
}

/**
 * Writes a load's quarantine rows, from the quarantine table, to `final` through a temporary name and a rename,
 * so the file is either whole or absent. Ordered by line and row; one JSON object per line.
 */
async function writeQuarantineFile(db: Db, loadId: string, final: string, atStep?: (step: LoadStep) => void): Promise<void> {
  const dir = dirname(final);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw toIoError(dir, e, 'create quarantine directory');
  }
  const tmp = `${final}.tmp-${process.pid}`;
  try {
    await db.run(`COPY (SELECT file, line, "row", json(raw) AS raw, json(errors) AS errors
      FROM quarantine WHERE load_id = $load ORDER BY line, "row") TO ${literal(tmp)} (FORMAT json)`, { load: loadId });
    atStep?.('after-quarantine-tmp');
    renameSync(tmp, final);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  atStep?.('after-rename');
}

/**
 * Re-derives the quarantine files the ledger says should exist but do not (a full disk, a kill between the
 * commit and the rename), and removes their leftover temporary files. A failure is a warning, not an error:
 * the quarantine table holds the rows. Returns the paths written.
 */
export async function restoreQuarantineFiles(db: Db, opts: Pick<LoadOptions, 'onEvent'>): Promise<string[]> {
  const rows = await db.all<{ load_id: string; quarantine_file: string }>(
    `SELECT load_id, quarantine_file FROM loads
     WHERE status = 'succeeded' AND quarantine_file IS NOT NULL AND rows_quarantined > 0 ORDER BY load_id`,
  );
  const written: string[] = [];
  for (const r of rows) {
    if (existsSync(r.quarantine_file)) continue;
    removeStaleTmpFiles(r.quarantine_file);
    try {
      await writeQuarantineFile(db, r.load_id, r.quarantine_file);
      written.push(r.quarantine_file);
      opts.onEvent?.({ type: 'quarantine-restored', loadId: r.load_id, path: r.quarantine_file });
    } catch (e) {
      opts.onEvent?.({ type: 'warning', message: `quarantine file ${r.quarantine_file} of ${r.load_id} still missing: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  return written;
}

function removeStaleTmpFiles(final: string): void {
  const dir = dirname(final);
  const prefix = `${basename(final)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith(prefix)) rmSync(join(dir, n), { force: true });
}
