// validateFiles: the `surgctl validate` stage. Resolves inputs and their datasets, validates each file in one
// in-memory DuckDB (referenced datasets first, so foreign keys across the inputs are checked), writes quarantine and
// valid-row files, applies the --max-invalid gate and returns a JSON-safe report (schemas/validation-report.schema.json).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { Db } from '../../db/db.js';
import { openWorkDb } from '../../db/lakehouse.js';
import type { WorkContext } from '../stage.js';
import { ident, literal, quoteAnyIdent } from '../../db/sql.js';
import { InterruptedError, toIoError, UsageError } from '../../errors.js';
import { inferDataset, listDatasets, loadDatasetSchema, orderByDependencies, type DatasetSchema } from '../schemas.js';
import { dropStaged, stageAndValidate, type EngineChoice, type ErrorExample, type FileError, type StagedValidation } from './engine.js';
import { expandInputs, formatFromName, spoolStream, type InputFormat } from './inputs.js';
import { writeQuarantineNdjson } from './quarantine-file.js';
import { VALIDATE_MAX_INVALID } from '../domain.js';

/**
 * What to validate and how (the flags of `surgctl validate`). Validation needs no lakehouse: its context's lake, when
 * given, lends its limits (default 2 threads, 512MB) and its validateFast switch (false: never take the CSV fast path,
 * SURGCTL_VALIDATE_FAST=0); ctx.signal (Ctrl-C) cuts the running statement and stops before the next file
 * (InterruptedError).
 */
export interface ValidateInput {
  /** Files, directories, globs, or - for stdin. */
  inputs: string[];
  /** Directory relative paths resolve against (default process.cwd()). */
  cwd?: string | undefined;
  /** Dataset name or path to a JSON Schema file, for every input; else inferred from each file name. */
  schema?: string | undefined;
  delimiter?: string | undefined;
  engine?: EngineChoice | undefined;
  /** Default ./quarantine under cwd. */
  quarantineDir?: string | undefined;
  validOut?: string | undefined;
  validFormat?: 'same' | 'parquet' | undefined;
  /** "N" rows or "P%" of rows read, per file (default VALIDATE_MAX_INVALID, "0"). */
  maxInvalid?: string | undefined;
  /** Failing-row examples kept per file (default 20); never limits the quarantine. */
  limitErrors?: number | undefined;
  /** Standard input for '-' (spooled to a temporary file). */
  stdin?: NodeJS.ReadableStream | undefined;
  /** Format of stdin when it cannot be sniffed. */
  inputFormat?: InputFormat | undefined;
  /** Distinguishes this run's output file names (default: a UTC timestamp). */
  runId?: string | undefined;
}

/** What validation's steps read: the input's flags and the context. */
type ValidateOptions = Omit<ValidateInput, 'inputs'> & WorkContext<ValidateEvent>;

export type ValidateEvent =
  | { type: 'file-start'; path: string; dataset: string; index: number; count: number }
  | { type: 'file-progress'; path: string; phase: string; step: number; of: number }
  | { type: 'file-done'; file: FileReport; index: number; count: number }
  /** Each DuckDB statement, once it ends: its SQL, wall time and the process's CPU time meanwhile (ms). For `--debug`. */
  | { type: 'statement'; sql: string; ms: number; cpuMs: number };

export interface FileReport {
  path: string;
  dataset: string;
  format: InputFormat;
  engine: 'compiled' | 'ajv';
  engine_reasons: string[];
  rows_read: number;
  rows_valid: number;
  rows_quarantined: number;
  quarantine_path: string | null;
  valid_path: string | null;
  failures_by_rule: Record<string, number>;
  warnings_by_rule: Record<string, number>;
  file_errors: FileError[];
  examples: ErrorExample[];
  notes: string[];
  passed: boolean;
}

export interface ValidationReport {
  passed: boolean;
  max_invalid: string;
  files: FileReport[];
  totals: { files: number; rows_read: number; rows_valid: number; rows_quarantined: number };
}

/** Parses --max-invalid: "N" (rows) or "P%" (of rows read). Throws UsageError. */
export function parseMaxInvalid(s: string): { rows?: number; percent?: number } {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(s.trim());
  if (!m) throw new UsageError(`--max-invalid must be a row count or a percentage, got "${s}"`, { hint: 'e.g. --max-invalid 10 or --max-invalid 0.5%' });
  const n = Number(m[1]);
  if (m[2] === '%') {
    if (n > 100) throw new UsageError(`--max-invalid ${s} is over 100%`);
    return { percent: n };
  }
  if (!Number.isInteger(n)) throw new UsageError(`--max-invalid ${s}: a row count must be a whole number`);
  return { rows: n };
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('.', '');
}

/** A name in dir that does not exist yet: base.runId.suffix, then base.runId-2.suffix, ... */
function freshPath(dir: string, base: string, runId: string, suffix: string): string {
  for (let i = 1; ; i++) {
    const p = join(dir, `${base}.${runId}${i > 1 ? `-${i}` : ''}${suffix}`);
    if (!existsSync(p) && !existsSync(`${p}.tmp`)) return p;
  }
}

function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw toIoError(dir, e, 'create directory');
  }
}

interface Planned {
  input: string;
  path: string;
  display: string;
  ds: DatasetSchema;
  format?: InputFormat;
}

function plan(inputs: string[], opts: ValidateOptions, cwd: string, spooled: { path: string; format: InputFormat } | undefined): Planned[] {
  const files = expandInputs(inputs, cwd);
  const known = listDatasets();
  const fixed = opts.schema === undefined ? undefined : loadDatasetSchema(opts.schema.includes('/') || opts.schema.endsWith('.json') ? resolve(cwd, opts.schema) : opts.schema);
  return files.map((f) => {
    if (f === '-') {
      if (!fixed) throw new UsageError('reading standard input needs --schema DATASET|PATH', { hint: `e.g. --schema telemetry (one of ${known.join(', ')})` });
      if (!spooled) throw new UsageError('standard input is not available');
      return { input: f, path: spooled.path, display: '-', ds: fixed, format: spooled.format };
    }
    let ds = fixed;
    if (!ds) {
      const name = inferDataset(f, known);
      if (!name) {
        throw new UsageError(`cannot tell which dataset ${f} holds`, {
          file: f,
          hint: `name the file after its dataset (${known.join(', ')}) or pass --schema DATASET|PATH`,
        });
      }
      ds = loadDatasetSchema(name);
    }
    return { input: f, path: resolve(cwd, f), display: f, ds };
  });
}

/**
 * Validates files, directories, globs or '-' (stdin). Returns the report; `passed` is false when a file has
 * more quarantined rows than --max-invalid allows or a file-level error. Throws UsageError / ConfigError (exit 2)
 * for bad arguments, missing files, unknown datasets and invalid schemas; IoError / QueryError (exit 3) otherwise.
 */
export async function validateFiles(input: ValidateInput, ctx: WorkContext<ValidateEvent> = {}): Promise<ValidationReport> {
  const { inputs, ...rest } = input;
  const opts: ValidateOptions = { ...rest, ...ctx };
  const cwd = opts.cwd ?? process.cwd();
  const gate = parseMaxInvalid(opts.maxInvalid ?? VALIDATE_MAX_INVALID);
  if (inputs.length === 0) throw new UsageError('no input given', { hint: 'pass files, directories, globs or - for stdin' });
  if (inputs.filter((i) => i === '-').length > 1) throw new UsageError('- (stdin) can be given only once');
  const spoolDir = mkdtempSync(join(tmpdir(), 'surgctl-validate-'));
  try {
    let spooled: { path: string; format: InputFormat } | undefined;
    if (inputs.includes('-')) {
      if (!opts.stdin) throw new UsageError('standard input is not available');
      spooled = await spoolStream(opts.stdin, spoolDir, opts.inputFormat);
    }
    const planned = plan(inputs, opts, cwd, spooled);
    const order = orderByDependencies([...new Map(planned.map((p) => [p.ds.name, p.ds])).values()]).map((d) => d.name);
    const sorted = planned.map((p, i) => ({ p, i })).sort((a, b) => order.indexOf(a.p.ds.name) - order.indexOf(b.p.ds.name) || a.i - b.i).map((x) => x.p);
    const datasets = new Set(planned.map((p) => p.ds.name));
    // Which columns of each dataset other inputs reference (to keep its valid keys for the FK check).
    const referenced = new Map<string, Set<string>>();
    for (const p of planned) {
      for (const fk of p.ds.foreignKeys) {
        if (!datasets.has(fk.references.dataset) || fk.references.dataset === p.ds.name) continue;
        const set = referenced.get(fk.references.dataset) ?? new Set<string>();
        fk.references.columns.forEach((c) => set.add(c));
        referenced.set(fk.references.dataset, set);
      }
    }
    const runId = opts.runId ?? stamp();
    const onEvent = opts.onEvent;
    const db = await openWorkDb(':memory:', {
      threads: opts.lake?.limits.threads,
      memoryLimit: opts.lake?.limits.memoryLimit ?? '512MB',
      onStatement: onEvent && ((sql, ms, cpuMs) => onEvent({ type: 'statement', sql, ms, cpuMs })),
    });
    // An interrupt cuts only the statement running at that moment: keep cutting (every 20 ms) until the run ends, so
    // the next statement of the file's staging stops too.
    const interrupting = db.interruptOn(opts.signal, 20);
    const keyTables: Record<string, string> = {};
    const files: FileReport[] = [];
    let current = '';
    // The report is only written for a whole run; this says where it stopped.
    const stopped = (): InterruptedError =>
      new InterruptedError(`validate stopped at ${current}; ${files.length} file(s) checked before it, no report written`);
    try {
      for (const [index, p] of sorted.entries()) {
        current = p.display;
        if (opts.signal?.aborted) throw stopped();
        opts.onEvent?.({ type: 'file-start', path: p.display, dataset: p.ds.name, index, count: sorted.length });
        const keep = referenced.get(p.ds.name);
        const staged = await stageAndValidate(db, { path: p.path, displayName: p.display, ...(p.format ? { format: p.format } : {}) }, p.ds, {
          delimiter: opts.delimiter,
          engine: opts.engine,
          fastPath: opts.lake?.validateFast,
          foreignKeyTables: keyTables,
          examples: opts.limitErrors ?? 20,
          materializeValid: opts.validOut !== undefined || keep !== undefined,
          onProgress: (phase, step, of) => opts.onEvent?.({ type: 'file-progress', path: p.display, phase, step, of }),
        });
        try {
          if (opts.signal?.aborted) throw stopped();
          if (keep) await keepKeys(db, p.ds.name, [...keep], staged, keyTables);
          const quarantinePath = staged.rowsQuarantined > 0 ? await writeQuarantine(db, staged, p, resolve(cwd, opts.quarantineDir ?? 'quarantine'), runId) : null;
          const validPath = opts.validOut !== undefined ? await writeValid(db, staged, p, resolve(cwd, opts.validOut), runId, opts.validFormat ?? 'same') : null;
          const file = fileReport(p, staged, quarantinePath, validPath, gate);
          files.push(file);
          opts.onEvent?.({ type: 'file-done', file, index, count: sorted.length });
        } finally {
          await dropStaged(db, staged);
        }
      }
      // Report in the order the inputs were given.
      files.sort((a, b) => planned.findIndex((p) => p.display === a.path) - planned.findIndex((p) => p.display === b.path));
      const totals = { files: files.length, rows_read: 0, rows_valid: 0, rows_quarantined: 0 };
      for (const f of files) {
        totals.rows_read += f.rows_read;
        totals.rows_valid += f.rows_valid;
        totals.rows_quarantined += f.rows_quarantined;
      }
      return { passed: files.every((f) => f.passed), max_invalid: opts.maxInvalid ?? VALIDATE_MAX_INVALID, files, totals };
    } catch (e) {
      // Whatever the cut statement threw, an interrupted run ends as one InterruptedError.
      throw opts.signal?.aborted && !(e instanceof InterruptedError) ? stopped() : e;
    } finally {
      interrupting.remove();
      db.close();
    }
  } finally {
    rmSync(spoolDir, { recursive: true, force: true });
  }
}

function fileReport(p: Planned, s: StagedValidation, quarantinePath: string | null, validPath: string | null, gate: { rows?: number; percent?: number }): FileReport {
  const allowed = gate.percent !== undefined ? (gate.percent / 100) * s.rowsRead : (gate.rows ?? 0);
  const fatal = s.fileErrors.length > 0;
  return {
    path: p.display,
    dataset: p.ds.name,
    format: s.format,
    engine: s.engine,
    engine_reasons: s.engineReasons,
    rows_read: s.rowsRead,
    rows_valid: s.rowsValid,
    rows_quarantined: s.rowsQuarantined,
    quarantine_path: quarantinePath,
    valid_path: validPath,
    failures_by_rule: s.failuresByRule,
    warnings_by_rule: s.warningsByRule,
    file_errors: s.fileErrors,
    examples: s.examples,
    notes: s.notes,
    passed: !fatal && s.rowsQuarantined <= allowed,
  };
}

async function keepKeys(db: Db, dataset: string, cols: string[], s: StagedValidation, keyTables: Record<string, string>): Promise<void> {
  const name = keyTables[dataset] ?? `_sv_keys_${dataset.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const select = cols.map((c) => `CAST(${quoteAnyIdent(c)} AS VARCHAR) AS ${quoteAnyIdent(c)}`).join(', ');
  if (keyTables[dataset]) await db.run(`INSERT INTO ${ident(name)} SELECT ${select} FROM ${ident(s.validTable)}`);
  else await db.run(`CREATE OR REPLACE TEMP TABLE ${ident(name)} AS SELECT ${select} FROM ${ident(s.validTable)}`);
  keyTables[dataset] = name;
}

function baseName(p: Planned): string {
  return p.display === '-' ? 'stdin' : basename(p.path);
}

async function writeQuarantine(db: Db, s: StagedValidation, p: Planned, dir: string, runId: string): Promise<string> {
  ensureDir(dir);
  const final = freshPath(dir, baseName(p), runId, '.quarantine.ndjson');
  await writeQuarantineNdjson(db, ident(s.quarantineTable), undefined, final);
  return final;
}

async function writeValid(db: Db, s: StagedValidation, p: Planned, dir: string, runId: string, validFormat: 'same' | 'parquet'): Promise<string> {
  ensureDir(dir);
  const fmt = validFormat === 'parquet' ? 'parquet' : s.format;
  const stem = baseName(p).replace(/(\.gz)?$/i, '').replace(/\.(csv|tsv|ndjson|jsonl|json|parquet)$/i, '');
  const ext = fmt === 'ndjson' ? (formatFromName(p.path) === 'ndjson' && /\.jsonl/i.test(p.path) ? '.jsonl' : '.ndjson') : `.${fmt}`;
  const final = freshPath(dir, stem, runId, `.valid${ext}`);
  const cols = await db.all<{ name: string; type: string }>(`SELECT column_name AS name, data_type AS type FROM information_schema.columns
    WHERE table_name = $t ORDER BY ordinal_position`, { t: s.validTable });
  const dataCols = cols.filter((c) => c.name !== '_source_line' && c.name !== '_row');
  const iso = dataCols.map((c) =>
    c.type.startsWith('TIMESTAMP') ? `strftime(${quoteAnyIdent(c.name)}, '%Y-%m-%dT%H:%M:%S.%fZ') AS ${quoteAnyIdent(c.name)}`
      : c.type === 'DATE' ? `strftime(${quoteAnyIdent(c.name)}, '%Y-%m-%d') AS ${quoteAnyIdent(c.name)}` : quoteAnyIdent(c.name));
  const from = `FROM ${ident(s.validTable)} ORDER BY _row`;
  if (fmt === 'parquet') {
    await db.copyToFile(`SELECT ${dataCols.map((c) => quoteAnyIdent(c.name)).join(', ')} ${from}`, undefined, final, 'FORMAT parquet, COMPRESSION zstd');
  } else if (fmt === 'csv') {
    await db.copyToFile(`SELECT ${iso.join(', ')} ${from}`, undefined, final, `FORMAT csv, HEADER true, DELIMITER ${literal(s.delimiter ?? ',')}`);
  } else {
    await db.copyToFile(`SELECT ${iso.join(', ')} ${from}`, undefined, final, 'FORMAT json');
  }
  return final;
}
