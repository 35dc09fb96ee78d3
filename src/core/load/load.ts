// loadFiles: idempotent, transactional loads of CSV / NDJSON / Parquet files (or a stdin stream in batches) into
// the raw_<dataset> tables of a DuckDB lakehouse, validated on the way in, with a `loads` ledger and a quarantine.
// Set-at-a-time throughout: the file is staged and validated in DuckDB, orphans and duplicates are found with
// joins. Readers never wait on the staging: each file is staged and validated in a scratch database of its own
// (session.ts), and the lakehouse is locked only to write the ledger's 'running' row (so a killed process is
// visible) and then for the merge, one transaction that lands the rows, the quarantine and the ledger row together.
// The `quarantine` table is the truth about rejected rows; the quarantine NDJSON file is a derived copy written
// after the commit (tmp + rename) to the path the ledger records, and re-derived by the next load when it is
// missing (a full disk, a kill between commit and rename).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Db } from '../../db/db.js';
import { ident, literal, quoteAnyIdent } from '../../db/sql.js';
import { InterruptedError, toIoError, UsageError } from '../../errors.js';
import { inferDataset, listDatasets, loadDatasetSchema, orderByDependencies, type DatasetSchema } from '../schemas.js';
import { dropStaged, expandInputs, stageAndValidate, writeQuarantineNdjson, type InputFormat } from '../validate/index.js';
import { findSucceededBySha, finishLoad, markAbandoned, newLoadId, startLoad } from './ledger.js';
import { checkRawTableMatches } from './migrations.js';
import { LOAD_MEMORY_LIMIT } from './lakehouse.js';
import { finishRun, newRunId, startRun } from '../runs.js';
import { removeStaleSnapshot, withWriterNote } from '../../db/merge-gate.js';
import { cpuMs } from '../../db/process.js';
import { openScratch, pinnedLake, removeStaleScratch, usesScratch, type LakeAccess } from './session.js';
import { rawTableName } from './raw-tables.js';
import type { StageContext } from '../stage.js';

/**
 * A load's own request (the flags of `surgctl load`); where the lakehouse is, its limits, lock wait, the validate
 * fast-path switch and the read-snapshot threshold are the Lakehouse's (StageContext.lake).
 */
export interface LoadInput {
  /** Dataset for every input (required for stdin); otherwise inferred from each file name. */
  dataset?: string | undefined;
  format?: InputFormat | undefined;
  delimiter?: string | undefined;
  /** Reload a file whose content already loaded successfully (still idempotent by key). */
  force?: boolean | undefined;
  allowOrphans?: boolean | undefined;
  /** Where quarantine NDJSON files go (default ./quarantine under cwd). */
  quarantineDir?: string | undefined;
  cwd?: string | undefined;
  /** The command's arguments, recorded in the run history. */
  args?: string[] | undefined;
  /** Test hook: called at each step of a file's load (fault injection: a test kills the process here). */
  atStep?: ((step: LoadStep) => void) | undefined;
}

/**
 * What a load's steps read: the input and the stage context. ctx.signal: aborting stops at the next check (between
 * files and statements; a running statement is interrupted), rolls the current file back, marks its ledger row and
 * the run 'interrupted' and throws InterruptedError (exit 130). lake.validateFast false keeps CSV files off
 * validate's line fast path; merges of at least lake.readSnapshotRows valid rows (default READ_SNAPSHOT_ROWS; 0:
 * every merge) give readers a read snapshot of the lakehouse as it was before the merge instead of making them wait.
 * The lakehouse and its scratch get a load's memory default (LOAD_MEMORY_LIMIT) unless the lake's limits say otherwise.
 */
export type LoadOptions = LoadInput & StageContext<LoadEvent>;

/** loadFiles' input: the files, directories or globs to load, and the load's flags. */
export interface LoadFilesInput extends LoadInput {
  inputs: string[];
}

/**
 * From how many valid rows a file's merge gives readers a read snapshot (a copy of the lakehouse, src/db/merge-gate.ts).
 * Below it the merge holds the lock about a second at most (measured on the shared 2-core machine at a load average of
 * 18: 50k telemetry rows merge in 0.9 s, 100k in 0.9-1.2 s, 300k in 3.6 s), which readers wait out, and a copy of a
 * big lakehouse per small file would cost more than it saves.
 */
export const READ_SNAPSHOT_ROWS = 100_000;

/** The steps of one file's load, in order, where a fault can be injected: the 'running' ledger row committed, the file
 *  staged in the scratch, validated, the lakehouse attached for the merge, inside the merge transaction (twice), the
 *  merge committed, the quarantine file's temporary copy, its rename, the file done. */
export const LOAD_STEPS = [
  'after-ledger-start',
  'after-stage',
  'after-validate',
  'lake-attached',
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
  | { type: 'quarantine-restored'; loadId: string; path: string }
  /** A DuckDB statement of a file's scratch once it ends, or a step outside DuckDB (in parentheses: the file's
   *  sha256, the read snapshot): what it was, its wall time and the process's CPU time meanwhile (ms). For `--debug`. */
  | { type: 'statement'; sql: string; ms: number; cpuMs: number };

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
    // 1 MiB reads: with the default 64 KiB the per-chunk overhead doubled the hash's CPU time (580 MB: 0.86 -> 0.47 CPU s).
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
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
 * Loads files into the context's lakehouse. Each file lands whole or not at all; rows whose key is already
 * present count as duplicates; a file whose sha256 already loaded successfully is skipped unless force. Each file is
 * staged and validated in a scratch database (session.ts); the lakehouse is locked only for short moments (the
 * run's start and end, each file's 'running' ledger row, each file's merge), so readers never wait on the staging.
 * Throws UsageError (exit 2) for bad inputs, DatabaseError for locks and drift, QueryError/IoError for runtime faults;
 * a runtime fault marks that file's ledger row 'failed' before it propagates.
 */
export async function loadFiles(input: LoadFilesInput, ctx: StageContext<LoadEvent>): Promise<LoadResult> {
  const { inputs, ...rest } = input;
  const opts: LoadOptions = { ...rest, ...ctx };
  const planned = planFiles(inputs, opts);
  return runLoad(opts, opts.args ?? inputs, async (open) => {
    opts.onEvent?.({ type: 'start', files: planned.length });
    const files: FileLoadResult[] = [];
    for (const p of planned) {
      if (opts.signal?.aborted) throw new InterruptedError(`load stopped before ${p.display}; ${keptFiles(files)} earlier file(s) kept`);
      try {
        files.push(await loadOneFile(open, p, opts));
      } catch (e) {
        if (e instanceof InterruptedError) throw new InterruptedError(`load of ${p.display} rolled back; ${keptFiles(files)} earlier file(s) kept`);
        throw e;
      }
    }
    return { db: opts.lake.path, files, totals: sumTotals(files) };
  });
}

/** The scratch's statement timings as LoadEvents, when someone listens. */
function statementHook(opts: Pick<LoadOptions, 'onEvent'>): ((sql: string, ms: number, cpuMs: number) => void) | undefined {
  const onEvent = opts.onEvent;
  return onEvent && ((sql, ms, cpu) => onEvent({ type: 'statement', sql, ms, cpuMs: cpu }));
}

/** Opens what one load (by its id) works in: a scratch beside the lakehouse, or the lakehouse itself when pinned. */
export type LakeOpener = (loadId: string) => Promise<LakeAccess>;

/**
 * One load run as an entry of the run history. A short first opening of the lakehouse migrates it, marks the loads
 * and runs of processes that are gone, removes their scratch files, re-derives missing quarantine files and records
 * the run 'running'; body then loads its files, each through its own scratch; a short last opening records the
 * run 'succeeded' with the totals, or 'failed' / 'interrupted' with the error. An in-memory lakehouse (':memory:')
 * stays open throughout and has no scratch.
 */
export async function runLoad(opts: LoadOptions, args: string[], body: (open: LakeOpener) => Promise<LoadResult>): Promise<LoadResult> {
  const { lake } = opts;
  const pinned = usesScratch(lake.path) ? undefined : await lake.openWriter({ memoryLimit: LOAD_MEMORY_LIMIT });
  const briefly = async <T>(fn: (db: Db) => Promise<T>): Promise<T> => {
    if (pinned) return fn(pinned);
    return withWriterNote(lake.path, async () => {
      const db = await lake.openWriter({ memoryLimit: LOAD_MEMORY_LIMIT });
      try {
        return await fn(db);
      } finally {
        db.close();
      }
    });
  };
  try {
    const runId = newRunId();
    await briefly(async (db) => {
      const abandoned = await markAbandoned(db);
      removeStaleScratch(lake.path);
      removeStaleSnapshot(lake.path);
      if (abandoned > 0) opts.onEvent?.({ type: 'abandoned', count: abandoned });
      await restoreQuarantineFiles(db, opts);
      await startRun(db, runId, 'load', args);
    });
    const open: LakeOpener = pinned ? async () => pinnedLake(pinned) : (loadId) => openScratch(lake, loadId, statementHook(opts));
    try {
      const result = await body(open);
      const failed = result.files.filter((f) => f.status === 'failed').length;
      await briefly((db) => finishRun(db, runId, failed > 0 ? 'failed' : 'succeeded', { ...result.totals, files: result.files.length, files_failed: failed }));
      return result;
    } catch (e) {
      await briefly((db) => finishRun(db, runId, e instanceof InterruptedError ? 'interrupted' : 'failed', {}, e instanceof Error ? e.message : String(e))).catch(() => undefined);
      throw e;
    }
  } finally {
    pinned?.close();
  }
}

/**
 * Runs fn as one entry of the run history on a lakehouse the caller holds open for writing (import): 'succeeded'
 * with the totals, or 'failed' / 'interrupted' with the error. Loads use runLoad, which holds the lakehouse briefly.
 */
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

/**
 * Loads one file (already planned). `target` is a lakehouse already open for writing (it stays locked throughout:
 * quarantine replay, tests) or a LakeOpener (loadFiles, streams: a scratch per file, the lakehouse locked only for
 * the 'running' ledger row and for the merge).
 */
export async function loadOneFile(
  target: Db | LakeOpener,
  p: PlannedFile,
  opts: LoadOptions,
  extra: LoadExtra = {},
): Promise<FileLoadResult> {
  const open: LakeOpener = typeof target === 'function' ? target : async () => pinnedLake(target);
  const hashing = performance.now();
  const cpu = process.cpuUsage();
  const { sha256, bytes } = await hashFile(p.path);
  opts.onEvent?.({ type: 'statement', sql: `(sha256 of ${p.display})`, ms: performance.now() - hashing, cpuMs: cpuMs(cpu) });
  if (opts.signal?.aborted) throw new InterruptedError();
  const loadId = newLoadId();
  const access = await open(loadId);
  try {
    return await loadThrough(access, loadId, { sha256, bytes }, p, opts, extra);
  } finally {
    access.close();
  }
}

/** What a caller adds to one file's load. */
export interface LoadExtra {
  replayOf?: string;
  format?: InputFormat;
  /**
   * Runs inside the merge transaction, after the rows, the quarantine and the succeeded ledger row are written and
   * before COMMIT, with the lakehouse (`lake`: unqualified names are the lakehouse's, `work`'s TEMP tables stay
   * visible): whatever it writes commits with the load or not at all (import's lineage and its mapping's own
   * quarantine rows). It may change the load's quarantine rows, so with a hook the load writes no quarantine file:
   * the caller writes it (restoreQuarantineFiles re-derives it from the table after a kill).
   */
  afterInsert?: (lake: Db, loadId: string) => Promise<void>;
}

function skippedResult(p: PlannedFile, prevLoadId: string, sha256: string, bytes: number): FileLoadResult {
  return {
    load_id: prevLoadId, path: p.display, dataset: p.ds.name, status: 'skipped', sha256, bytes,
    rows_read: 0, rows_inserted: 0, rows_duplicate: 0, rows_quarantined: 0, quarantine_path: null, engine: null,
    message: `already loaded by ${prevLoadId}; pass --force to load it again (idempotent by key)`, failures_by_rule: {},
  };
}

async function loadThrough(
  access: LakeAccess,
  loadId: string,
  file: { sha256: string; bytes: number },
  p: PlannedFile,
  opts: LoadOptions,
  extra: LoadExtra,
): Promise<FileLoadResult> {
  const { sha256, bytes } = file;
  const work = access.work;
  const step = (name: LoadStep): void => {
    opts.atStep?.(name);
    if (opts.signal?.aborted) throw new InterruptedError();
  };
  const checkSha = !opts.force && extra.replayOf === undefined;
  // A statement running when the user presses Ctrl-C is cut short; the transaction then rolls back.
  if (opts.signal?.aborted) throw new InterruptedError();
  const interrupting = work.interruptOn(opts.signal);
  let started = false;
  const keyTables: string[] = [];
  try {
    // 1. A short moment with the lakehouse: drift check, content already loaded?, the 'running' ledger row, and a copy
    //    of the keys this file's foreign keys point at (referenced datasets load first), for the checks in the scratch.
    const foreignKeyTables: Record<string, string> = {};
    const prev = await access.withLake(async (lake) => {
      await checkRawTableMatches(lake, p.ds.name);
      if (checkSha) {
        const found = await findSucceededBySha(lake, sha256, p.ds.name);
        if (found) return found;
      }
      await startLoad(lake, { loadId, path: p.display, sha256, bytes, dataset: p.ds.name, ...(extra.replayOf ? { replayOf: extra.replayOf } : {}) });
      started = true;
      if (!opts.allowOrphans) {
        const refCols = new Map<string, Set<string>>();
        for (const fk of p.ds.foreignKeys) {
          const set = refCols.get(fk.references.dataset) ?? new Set<string>();
          for (const c of fk.references.columns) set.add(c);
          refCols.set(fk.references.dataset, set);
        }
        for (const [dataset, cols] of refCols) {
          const t = `_keys_${dataset}_${loadId.replace(/[^A-Za-z0-9]/g, '_')}`;
          const list = [...cols].map(quoteAnyIdent).join(', ');
          await lake.run(`CREATE OR REPLACE TEMP TABLE ${ident(t)} AS SELECT DISTINCT ${list} FROM ${rawTableName(dataset)}`);
          keyTables.push(t);
          foreignKeyTables[dataset] = t;
        }
      }
      return undefined;
    });
    if (prev) {
      opts.onEvent?.({ type: 'file-skipped', path: p.display, dataset: p.ds.name, previousLoadId: prev.load_id });
      return skippedResult(p, prev.load_id, sha256, bytes);
    }
    opts.onEvent?.({ type: 'file-start', path: p.display, dataset: p.ds.name, loadId });
    step('after-ledger-start');

    // 2. Stage and validate in the scratch: the lakehouse is free for readers and other writers meanwhile.
    const format = extra.format ?? opts.format;
    let staged$ = false;
    const staged = await stageAndValidate(
      work,
      { path: p.path, displayName: p.display, ...(format ? { format } : {}) },
      p.ds,
      {
        delimiter: opts.delimiter,
        foreignKeyTables,
        // The valid rows as a view over the staged read where the CSV fast path can decide the file: each row is
        // written to the scratch once (typed, by the one ordered pass over the file) and once into the raw table.
        validView: true,
        ...(opts.lake.validateFast ? {} : { fastPath: false }),
        onProgress: (phase, n, of) => {
          // The file is staged (read into the scratch) once the row checks begin.
          if (phase === 'checking rows' && !staged$) {
            staged$ = true;
            step('after-stage');
          }
          opts.onEvent?.({ type: 'file-progress', path: p.display, phase, step: n, of: of + 1 });
        },
      },
    );
    if (!staged$) step('after-stage');
    step('after-validate');
    if (staged.fileErrors.length > 0) {
      // The file as a whole does not fit the dataset (e.g. required columns missing): nothing of it is loaded.
      const message = staged.fileErrors.map((f) => f.message).join('; ');
      await access.withLake((lake) =>
        finishLoad(lake, loadId, 'failed', { read: staged.rowsRead, inserted: 0, duplicate: 0, quarantined: staged.rowsRead }, { engine: staged.engine, message }));
      await dropStaged(work, staged);
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

    // 3. The merge: one short transaction with the lakehouse attached. The valid rows whose key is new go from the
    //    scratch into the raw table (an anti-join by key), the quarantine and the ledger row land with them.
    opts.onEvent?.({ type: 'file-progress', path: p.display, phase: 'inserting', step: 1, of: 1 });
    const qPath = staged.rowsQuarantined > 0 ? quarantineFilePath(p.path, loadId, opts) : null;
    const readSnapshot = staged.rowsValid >= (opts.lake.readSnapshotRows ?? READ_SNAPSHOT_ROWS);
    const result = await access.withLake(async (lake) => {
      step('lake-attached');
      return withMergeSettings(lake, () => lake.transaction(async () => {
        if (checkSha) {
          // Another load of the same content may have committed while this one staged: then this one is a skip.
          const found = await findSucceededBySha(lake, sha256, p.ds.name);
          if (found) {
            await finishLoad(lake, loadId, 'skipped', { read: 0, inserted: 0, duplicate: 0, quarantined: 0 },
              { message: `already loaded by ${found.load_id} while this load staged` });
            return { skippedBy: found.load_id };
          }
        }
        const inserted = await insertNew(lake, p.ds, staged.validTable, loadId, p.display);
        await lake.run(
          `INSERT INTO quarantine (load_id, file, line, "row", dataset, raw, errors, rule, quarantined_at)
           SELECT $load, file, line, "row", $ds, raw, errors, rule, now() FROM ${ident(staged.quarantineTable)}`,
          { load: loadId, ds: p.ds.name },
        );
        step('mid-insert');
        const counts = { read: staged.rowsRead, inserted, duplicate: staged.rowsValid - inserted, quarantined: staged.rowsQuarantined };
        await finishLoad(lake, loadId, 'succeeded', counts, { engine: staged.engine, quarantineFile: qPath });
        if (extra.afterInsert) await extra.afterInsert(lake, loadId);
        step('before-commit');
        return counts;
      }));
    }, { readSnapshot });
    // Committed: from here on the load stands, whatever happens to the derived quarantine file.
    interrupting.remove();
    started = false;
    if ('skippedBy' in result) {
      await dropStaged(work, staged);
      opts.onEvent?.({ type: 'file-skipped', path: p.display, dataset: p.ds.name, previousLoadId: result.skippedBy });
      return skippedResult(p, result.skippedBy, sha256, bytes);
    }
    opts.atStep?.('after-commit');
    let message: string | null = null;
    if (qPath !== null && !extra.afterInsert) {
      try {
        // From the scratch's copy of the rows just committed: the lakehouse is not needed for it.
        await writeQuarantineFile(work, { table: staged.quarantineTable }, qPath, opts.atStep);
      } catch (e) {
        message = `quarantine file ${qPath} not written (${e instanceof Error ? e.message : String(e)}); its ${result.quarantined} row(s) are in the quarantine table and the next load writes the file`;
        opts.onEvent?.({ type: 'warning', message });
      }
    }
    await dropStaged(work, staged);
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
    if (started) {
      const msg = interrupted ? 'interrupted (Ctrl-C): rolled back; no rows of it were kept' : e instanceof Error ? e.message : String(e);
      await access.withLake((lake) =>
        finishLoad(lake, loadId, interrupted ? 'interrupted' : 'failed', { read: 0, inserted: 0, duplicate: 0, quarantined: 0 }, { message: msg })).catch(() => undefined);
    }
    throw interrupted ? new InterruptedError() : e;
  } finally {
    interrupting.remove();
    for (const t of keyTables) await work.run(`DROP TABLE IF EXISTS ${ident(t)}`).catch(() => undefined);
  }
}

/**
 * Inserts the valid rows whose primary key is not in the raw table yet, with their lineage. Returns the count.
 * A one-column key (every built-in dataset) dedupes with NOT IN: a join whose hash table is the raw table's keys and
 * through which the staged rows stream. A composite key anti-joins. The raw table's physical order carries no
 * meaning (every row has its _source_file and _source_line, and readers order explicitly), so the merge does not
 * keep the staged order (MERGE_SETTINGS): DuckDB's order-preserving insert cost about a quarter more CPU (5M telemetry rows: 12.0 vs
 * 9.2 CPU s) and a sort would cost more still.
 */
async function insertNew(db: Db, ds: DatasetSchema, validTable: string, loadId: string, display: string): Promise<number> {
  const cols = ds.columns.map(ident).join(', ');
  const select = `SELECT ${ds.columns.map((c) => `v.${ident(c)}`).join(', ')}, $load, $file, v._source_line FROM ${ident(validTable)} v`;
  const raw = rawTableName(ds.name);
  const [key, ...more] = ds.primaryKey;
  const dedupe = key === undefined ? select
    : more.length === 0 ? `${select} WHERE v.${ident(key)} NOT IN (SELECT r.${ident(key)} FROM ${raw} r WHERE r.${ident(key)} IS NOT NULL)`
      : `${select} ANTI JOIN ${raw} r ON ${ds.primaryKey.map((k) => `r.${ident(k)} = v.${ident(k)}`).join(' AND ')}`;
  const n = await db.scalar<number | string>(`INSERT INTO ${raw} (${cols}, _load_id, _source_file, _source_line) ${dedupe}`, { load: loadId, file: display });
  return Number(n ?? 0);
}

/**
 * DuckDB's settings for the merge (withMergeSettings). preserve_insertion_order off: see insertNew.
 * checkpoint_threshold 0: COMMIT checkpoints the lakehouse instead of writing the WAL. The rows of a file's merge
 * that fill whole row groups (122,880) are written to the file as the INSERT runs (DuckDB's optimistic writes), but a
 * smaller table's rows (the quarantine's 100,000 rows of raw and errors JSON, ~40 MB at 5M lines) went into the WAL at
 * COMMIT and were written again by DETACH's checkpoint. Checkpointing at COMMIT writes them once (DuckDB skips the WAL
 * for a commit it checkpoints whose estimated size passes auto_checkpoint_skip_wal_threshold, 100 KB) and leaves
 * DETACH nothing to do. Still all or nothing: the checkpoint's header write is what commits it, so a kill or a failure
 * before it leaves the lakehouse as it was (test/core/load/commit-checkpoint.test.ts).
 */
const MERGE_SETTINGS = { preserve_insertion_order: 'false', checkpoint_threshold: '0b' } as const;

/**
 * Runs fn (a whole transaction: the merge) under MERGE_SETTINGS, then restores each setting as it was. Around the
 * transaction, not inside it: a failed statement aborts the transaction, and an aborted transaction refuses even SET
 * until its ROLLBACK; the staging's ordered passes need insertion order back, and the scratch's own commits their WAL.
 */
async function withMergeSettings<T>(db: Db, fn: () => Promise<T>): Promise<T> {
  const before: [string, string][] = [];
  let failed = false;
  try {
    for (const [name, value] of Object.entries(MERGE_SETTINGS)) {
      before.push([name, String(await db.scalar<string>('SELECT current_setting($name)::VARCHAR', { name }))]);
      await db.run(`SET ${ident(name)} = ${literal(value)}`);
    }
    return await fn();
  } catch (e) {
    failed = true;
    throw e;
  } finally {
    // After a failed merge its own error is the one to report: a failed commit checkpoint invalidates the database,
    // and the SET that restores a setting then fails too.
    for (const [name, value] of before) {
      await db.run(`SET ${ident(name)} = ${literal(value)}`).catch((e: unknown) => {
        if (!failed) throw e;
      });
    }
  }
}

/** Where a load's quarantine file goes: <quarantine dir>/<input name>.<load id>.quarantine.ndjson (absolute). */
function quarantineFilePath(inputPath: string, loadId: string, opts: Pick<LoadOptions, 'cwd' | 'quarantineDir'>): string {
  const dir = resolve(opts.cwd ?? process.cwd(), opts.quarantineDir ?? 'quarantine');
  return join(dir, `${basename(inputPath)}.${loadId}.quarantine.ndjson`);
}

/**
 * Writes a load's quarantine rows to `final` through a temporary name and a rename, so the file is either whole or
 * absent: from the lakehouse's quarantine table (`{ loadId }`), or from the staged quarantine table the merge
 * committed (`{ table }`, the same rows). Ordered by line and row; one JSON object per line.
 */
async function writeQuarantineFile(db: Db, from: { loadId: string } | { table: string }, final: string, atStep?: (step: LoadStep) => void): Promise<void> {
  const dir = dirname(final);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw toIoError(dir, e, 'create quarantine directory');
  }
  const source = 'table' in from ? `${ident(from.table)}` : '(SELECT * FROM quarantine WHERE load_id = $load)';
  await writeQuarantineNdjson(db, source, 'table' in from ? undefined : { load: from.loadId }, final, () => atStep?.('after-quarantine-tmp'));
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
      await writeQuarantineFile(db, { loadId: r.load_id }, r.quarantine_file);
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
