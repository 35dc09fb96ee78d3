// importSources: `surgctl import csv --profile P` (and `import fhir`, which stages FHIR through the fhir library and
// maps its observation-readings view the same way). Each source file is staged in DuckDB, mapped by its profile table
// (map.ts) and then goes the NORMAL way in: the contract rows are written to a staged NDJSON file that loadOneFile
// validates and loads (ledger, quarantine, idempotency by key, replay). Inside the load's merge transaction (its
// afterInsert hook, so all of it commits with the rows or none of it does) the import puts the source's own line
// numbers and the original value/unit/code (migration 4's lineage columns) on the loaded rows, adds the rows the
// mapping itself quarantined (keywords unit, timezone, anchor, format, type, enum) to the quarantine and the ledger,
// and records the import's own sha256 (source bytes + profile + options) so a rerun of the same import is skipped. --dry-run maps in memory and writes nothing; --out writes contract files instead.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from '../../db/db.js';
import { openWorkDb } from '../../db/lakehouse.js';
import { ident, literal } from '../../db/sql.js';
import { InterruptedError, toIoError, UsageError } from '../../errors.js';
import { markAbandoned, newLoadId, succeededByShas } from '../load/ledger.js';
import { LOAD_MEMORY_LIMIT } from '../load/lakehouse.js';
import { loadOneFile, LOAD_STEPS, recordRun, restoreQuarantineFiles, sumTotals, type FileLoadResult, type LoadEvent, type LoadResult } from '../load/load.js';
import { rawTableName } from '../load/raw-tables.js';
import type { FhirInputError, ViewDefinition } from '../fhir/index.js';
import { spoolStream } from '../validate/inputs.js';
import { scanCsv } from '../validate/csv-scan.js';
import { checkOutput, commitOutput, discardOutput, tempPathFor, writeMarker } from '../safe-output.js';
import { loadDatasetSchema, orderByDependencies, type DatasetSchema } from '../schemas.js';
import { loadRules, resolveRulesFile } from '../transform/rules.js';
import { countsBy, MAPPED_TABLE, mapTable, type MapCounts, type MapOptions } from './map.js';
import { isTimeZone, loadProfile, tablesFor, type Profile, type ProfileTable } from './profile.js';
import type { StageContext } from '../stage.js';

export type ImportMode = 'load' | 'dry-run' | 'out';

/**
 * An import's request: its sources and flags. The lakehouse it loads into (and whose path --out never replaces) is
 * the context's, with its limits; ctx.signal stops it (the current file rolls back), ctx.onEvent hears its progress.
 */
export interface ImportInput {
  /** Files, directories or globs (import fhir: '-' for standard input). */
  inputs: string[];
  cwd?: string | undefined;
  /** Profile name or path (csv). */
  profile: string;
  /** IANA zone for naive timestamps; overrides the profile's. */
  timezone?: string | undefined;
  /** Instant relative times count from; overrides the profile's relative_time.anchor. */
  anchor?: string | undefined;
  dryRun?: boolean | undefined;
  /** Write contract files into this directory instead of loading. */
  out?: string | undefined;
  outFormat?: 'csv' | 'parquet' | undefined;
  /** Load again a source that was already imported with the same profile and options (still idempotent by key). */
  force?: boolean | undefined;
  allowOrphans?: boolean | undefined;
  quarantineDir?: string | undefined;
  rulesPath?: string | undefined;
  args?: string[] | undefined;
  /** import fhir: standard input for '-'. */
  stdin?: NodeJS.ReadableStream | undefined;
  /** import fhir: the ViewDefinition engine (default auto). */
  engine?: 'compiled' | 'reference' | 'auto' | undefined;
  /** Test hook: called at each step of a file's load and import (fault injection: a test kills the process here). */
  atStep?: ((step: ImportStep) => void) | undefined;
}

/** What an import's steps read: the input's flags and the stage context. */
type ImportOptions = Omit<ImportInput, 'inputs'> & StageContext<ImportEvent>;

/** The steps where a fault can be injected: the load's, then 'after-load' (the load, lineage included, committed;
 *  the quarantine file not yet written). */
export const IMPORT_STEPS = [...LOAD_STEPS, 'after-load'] as const;
export type ImportStep = (typeof IMPORT_STEPS)[number];

export type ImportEvent = LoadEvent | { type: 'mapped'; path: string; dataset: string; counts: MapCounts };

export interface ImportFileResult {
  path: string;
  dataset: string | null;
  /** loaded: went through validate -> load; skipped: the profile skips the file or it was imported before;
   *  mapped: --dry-run or --out; failed: the load refused it. */
  status: 'loaded' | 'skipped' | 'mapped' | 'failed';
  message: string | null;
  counts: MapCounts | null;
  load: FileLoadResult | null;
  /** --dry-run: the contract check the load would make (foreign keys not checked: there is no lakehouse). */
  validation?: { rows_valid: number; rows_quarantined: number; failures_by_rule: Record<string, number> } | undefined;
}

export interface ImportResult {
  mode: ImportMode;
  profile: string;
  db: string | null;
  out: string | null;
  files: ImportFileResult[];
  totals: {
    rows_read: number;
    mapped: number;
    skipped: number;
    missing: number;
    rows_inserted: number;
    rows_duplicate: number;
    rows_quarantined: number;
    /** import fhir: read errors booked to no load (see `unreadable`); also in rows_read. */
    unreadable: number;
  };
  /** Per-reason totals over all files. */
  skipped: Record<string, number>;
  missing: Record<string, number>;
  quarantined_by_keyword: Record<string, number>;
  by_metric: Record<string, number>;
  /** import fhir: resources no view maps onto a contract, by type (each also counted in skipped). */
  resources_skipped: Record<string, number>;
  /**
   * import fhir: what could not be read and names no resource type a view maps (its text gives no resourceType, or
   * one no view maps onto a contract), so it belongs to no dataset's load. A broken resource whose text does name a
   * mapped type (Patient, Device, Procedure, Observation) is quarantined (keyword fhir) in that dataset's load instead.
   */
  unreadable: { file: string; line: number | null; entry: number | null; entry_of: 'Bundle' | 'array' | null; resource_type: string | null; reason: string }[];
  /** --dry-run: the first contract rows that would load, per dataset. */
  sample: Record<string, Record<string, unknown>[]>;
}

interface Planned {
  path: string;
  display: string;
  table: ProfileTable;
  /** Which of the file's tables this is when several map it (part of the import's sha256), else null. */
  tableKey?: number | null;
  ds: DatasetSchema | null;
}

function globToRe(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`, 'i');
}

/** Inputs -> files with their profile tables, referenced datasets first. A directory yields the files any table matches. */
export function planImport(inputs: string[], profile: Profile, cwd: string): Planned[] {
  const files: { path: string; display: string }[] = [];
  for (const input of inputs) {
    if (input === '-') throw new UsageError('import csv reads files, not standard input', { hint: 'save the data to a file named as the profile expects (surgctl profiles show NAME)' });
    const abs = resolve(cwd, input);
    let st;
    try {
      st = statSync(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`input ${input} does not exist`, { file: input, hint: 'check the path' });
      throw toIoError(input, e, 'read input');
    }
    if (st.isDirectory()) {
      const names = readdirSync(abs).filter((n) => profile.tables.some((t) => globToRe(t.match).test(n)) && statSync(join(abs, n)).isFile()).sort();
      if (names.length === 0) throw new UsageError(`directory ${input} holds no file the profile ${profile.name} maps`, { file: input, hint: `file names it maps: ${profile.tables.map((t) => t.match).join(', ')}` });
      for (const n of names) files.push({ path: join(abs, n), display: join(input, n) });
    } else files.push({ path: abs, display: input });
  }
  // Every table whose match fits is applied (e.g. one table per manipulator of one kinematics file), unless the
  // first one that fits skips the file; a skip table after a mapping one (a catch-all) does not apply.
  const planned = files.flatMap((f) => {
    const all = tablesFor(profile, f.path);
    const first = all[0];
    if (!first) {
      throw new UsageError(`profile ${profile.name} has no table for ${f.display}`, {
        file: f.display,
        hint: `file names it maps: ${profile.tables.map((t) => t.match).join(', ')}; rename the file or write your own profile`,
      });
    }
    const tables = first.skip !== undefined ? [first] : all.filter((t) => t.skip === undefined);
    return tables.map((table, k) => ({
      ...f, table, tableKey: tables.length > 1 ? k : null, ds: table.skip === undefined && table.dataset ? loadDatasetSchema(table.dataset) : null,
    }));
  });
  const dsList = [...new Map(planned.filter((p) => p.ds).map((p) => [p.ds!.name, p.ds!])).values()];
  const order = orderByDependencies(dsList).map((d) => d.name);
  return planned
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.ds ? order.indexOf(a.p.ds.name) : -1) - (b.p.ds ? order.indexOf(b.p.ds.name) : -1) || a.i - b.i)
    .map((x) => x.p);
}

const SRC_TABLE = 'imp_src';

/** DuckDB's reject kinds -> the keywords validate uses for the same structural faults. */
const REJECT_KEYWORD_SQL = `CASE error_type WHEN 'TOO MANY COLUMNS' THEN 'csv_field_count' WHEN 'MISSING COLUMNS' THEN 'csv_field_count'
  WHEN 'UNQUOTED VALUE' THEN 'csv_unterminated_quote' WHEN 'INVALID ENCODING' THEN 'csv_invalid_utf8' WHEN 'INVALID UNICODE' THEN 'csv_invalid_utf8'
  ELSE 'csv' END`;

/**
 * Stages a CSV file as TEMP table imp_src: every cell VARCHAR, plus _row (1-based data row) and _line (the physical
 * line, header = 1: blank lines and quoted newlines counted, from the byte scan validate uses). Lines DuckDB cannot
 * parse (wrong field count, an open quote, bad UTF-8) go to TEMP table imp_rejects (_line, keyword, message, raw):
 * the mapping quarantines them, nothing is lost.
 */
async function stageCsv(db: Db, p: Planned): Promise<void> {
  const csv = p.table.csv ?? {};
  const header = csv.header ?? true;
  const h = header ? 1 : 0;
  const scan = await scanCsv(p.path, { delimiter: csv.delimiter, header });
  if (scan.notText) throw new UsageError(`${p.display} is not a text CSV file: ${scan.notText.message}`, { file: p.display, hint: 'check the file; import csv reads UTF-8 text' });
  if (scan.empty) throw new UsageError(`${p.display} is empty: not even a header line`, { file: p.display, hint: 'remove it from the inputs, or check the export that wrote it' });
  if (csv.whitespace) {
    await stageWhitespace(db, p, header);
    return;
  }
  const opts = ['all_varchar = true', `header = ${header ? 'true' : 'false'}`, 'parallel = false', 'store_rejects = true',
    "rejects_table = 'imp_rej'", "rejects_scan = 'imp_rej_scan'"];
  if (csv.delimiter !== undefined) opts.push(`delim = ${literal(csv.delimiter)}`);
  if (csv.columns !== undefined) opts.push(`names = [${csv.columns.map(literal).join(', ')}]`);
  await db.run('DROP TABLE IF EXISTS imp_rej; DROP TABLE IF EXISTS imp_rej_scan');
  await db.run(`CREATE OR REPLACE TEMP TABLE imp_csv AS SELECT *, row_number() OVER () AS _k FROM read_csv(${literal(p.path)}, ${opts.join(', ')})`);
  await db.run(`CREATE OR REPLACE TEMP TABLE imp_holes AS
    WITH holes AS (SELECT DISTINCT line AS d FROM imp_rej UNION SELECT unnest(CAST(CAST($blanks AS JSON) AS BIGINT[])) AS d),
         numbered AS (SELECT d, row_number() OVER (ORDER BY d) AS j FROM holes)
    SELECT d - ${h} - j AS gap, max(j) AS j FROM numbered GROUP BY ALL`, { blanks: JSON.stringify(scan.blankLines) });
  await db.run(`CREATE OR REPLACE TEMP TABLE imp_shift AS
    SELECT unnest(CAST(CAST($sd AS JSON) AS BIGINT[])) AS d, unnest(CAST(CAST($sv AS JSON) AS BIGINT[])) AS delta`,
    { sd: JSON.stringify(scan.shifts.map((x) => x.d)), sv: JSON.stringify(scan.shifts.map((x) => x.delta)) });
  await db.run(`CREATE OR REPLACE TEMP TABLE imp_blank AS
    SELECT d, row_number() OVER (ORDER BY d) AS j FROM (SELECT unnest(CAST(CAST($b AS JSON) AS BIGINT[])) AS d)`, { b: JSON.stringify(scan.blankLines) });
  // A parsed row k sits on DuckDB line d = k + header + the holes (rejects, blank lines) before it; its data-row
  // number is d - header - the blank lines before it (a rejected line keeps its number, so {_row} ids do not move
  // when a bad line is fixed); its physical line adds the quoted newlines before d.
  await db.run(`CREATE OR REPLACE TEMP TABLE ${SRC_TABLE} AS
    SELECT x.* EXCLUDE (_k, _d), x._d - ${h} - coalesce(b.j, 0) AS _row, x._d + coalesce(sh.delta, 0) AS _line FROM (
      SELECT c.*, c._k + ${h} + coalesce(m.j, 0) AS _d FROM imp_csv c ASOF LEFT JOIN imp_holes m ON c._k > m.gap) x
    ASOF LEFT JOIN imp_blank b ON x._d > b.d
    ASOF LEFT JOIN imp_shift sh ON x._d >= sh.d`);
  await db.run(`CREATE OR REPLACE TEMP TABLE imp_rejects AS
    SELECT r.line - ${h} - coalesce(b.j, 0) AS _row, r.line + coalesce(sh.delta, 0) AS _line, ${REJECT_KEYWORD_SQL} AS keyword,
      first(r.error_message) AS message, first(r.csv_line) AS raw
    FROM imp_rej r ASOF LEFT JOIN imp_blank b ON r.line > b.d ASOF LEFT JOIN imp_shift sh ON r.line >= sh.d GROUP BY ALL ORDER BY 2`);
  await db.run('DROP TABLE IF EXISTS imp_csv; DROP TABLE IF EXISTS imp_holes; DROP TABLE IF EXISTS imp_shift; DROP TABLE IF EXISTS imp_blank; DROP TABLE IF EXISTS imp_rej; DROP TABLE IF EXISTS imp_rej_scan');
}

/**
 * Stages a file whose columns are separated by runs of spaces or tabs (profile csv.whitespace) as imp_src, set at a
 * time: the file's lines (read_text, a byte order mark at its start dropped, split on LF, a CR before it dropped) are trimmed and split on runs of
 * whitespace. Blank lines are not rows; with a header the first non-blank line names the columns (csv.columns wins);
 * _row numbers the data lines from 1, _line is the physical line. A line with another number of fields goes to
 * imp_rejects (csv_field_count) with its text, so rows read = mapped + skipped holds.
 */
async function stageWhitespace(db: Db, p: Planned, header: boolean): Promise<void> {
  const re = { ws: String.raw`\s+`, edges: String.raw`^\s+|\s+$`, blank: String.raw`\s*` };
  await db.run(`CREATE OR REPLACE TEMP TABLE imp_ws AS
    SELECT _line, line, regexp_split_to_array(regexp_replace(line, $edges, '', 'g'), $ws) AS f,
      row_number() OVER (ORDER BY _line) AS _k
    FROM (SELECT generate_subscripts(ls, 1) AS _line, unnest(ls) AS line FROM (SELECT string_split(
      CASE WHEN starts_with(content, chr(65279)) THEN content[2:] ELSE content END, chr(10)) AS ls FROM read_text(${literal(p.path)})))
    WHERE NOT regexp_full_match(line, $blank)`, re);
  const first = (await db.all<{ f: string[] }>('SELECT f FROM imp_ws WHERE _k = 1'))[0]?.f ?? [];
  const names = p.table.csv?.columns ?? (header ? first : first.map((_, i) => `column${i}`));
  const h = header ? 1 : 0;
  await db.run(`CREATE OR REPLACE TEMP TABLE ${SRC_TABLE} AS
    SELECT ${names.map((n, i) => `f[${i + 1}] AS ${ident(n)}`).join(', ')}, _k - ${h} AS _row, _line
    FROM imp_ws WHERE _k > ${h} AND len(f) = ${names.length} ORDER BY _line`);
  await db.run(`CREATE OR REPLACE TEMP TABLE imp_rejects AS
    SELECT _k - ${h} AS _row, _line, 'csv_field_count' AS keyword,
      'expected ' || ${names.length} || ' whitespace-separated fields, found ' || len(f) AS message, line AS raw
    FROM imp_ws WHERE _k > ${h} AND len(f) <> ${names.length} ORDER BY _line`);
  await db.run('DROP TABLE imp_ws');
}

/** Adds the lines staging could not parse (imp_rejects) to imp_mapped as quarantined rows. */
async function addRejects(db: Db, counts: MapCounts): Promise<MapCounts> {
  const n = (await db.scalar<number>("SELECT count(*)::INTEGER FROM duckdb_tables() WHERE temporary AND table_name = 'imp_rejects'")) ?? 0;
  if (!n) return counts;
  const rows = await db.all<{ keyword: string; n: number }>('SELECT keyword, count(*)::INTEGER AS n FROM imp_rejects GROUP BY ALL');
  if (rows.length > 0) {
    await db.run(`INSERT INTO ${MAPPED_TABLE} (_row, _line, _status, _reason, _keyword, _field, _bad_value)
      SELECT _row, _line, 'quarantine', 'the line cannot be parsed: ' || message, keyword, NULL, raw FROM imp_rejects`);
    for (const r of rows) {
      counts.rows_read += r.n;
      counts.mapped += r.n;
      counts.quarantined_by_keyword[r.keyword] = (counts.quarantined_by_keyword[r.keyword] ?? 0) + r.n;
    }
  }
  await db.run('DROP TABLE imp_rejects');
  return counts;
}

function importSha(p: Planned, identity: string, opts: ImportOptions): { sha256: string; bytes: number } {
  let data: Buffer;
  try {
    data = readFileSync(p.path);
  } catch (e) {
    throw toIoError(p.display, e, 'read');
  }
  const h = createHash('sha256');
  h.update(data);
  h.update(JSON.stringify({ mapping: identity, tz: opts.timezone ?? null, anchor: opts.anchor ?? null }));
  return { sha256: h.digest('hex'), bytes: data.length };
}

function addTo(target: Record<string, number>, src: Record<string, number>): void {
  for (const [k, v] of Object.entries(src)) target[k] = (target[k] ?? 0) + v;
}

function molarMass(opts: ImportOptions, cwd: string): number {
  const rules = loadRules(resolveRulesFile({ cwd, rulesPath: opts.rulesPath ?? null })).rules;
  return rules.glucose.molar_mass?.g_per_mol ?? 180.156;
}

function checkFlags(opts: ImportOptions): void {
  if (opts.timezone !== undefined && !isTimeZone(opts.timezone)) {
    throw new UsageError(`--timezone ${opts.timezone} is not an IANA time zone`, { hint: 'e.g. --timezone Europe/London or --timezone America/New_York' });
  }
  if (opts.anchor !== undefined && Number.isNaN(Date.parse(opts.anchor))) {
    throw new UsageError(`--anchor ${opts.anchor} is not an instant`, { hint: 'an RFC 3339 instant, e.g. --anchor 2012-01-01T00:00:00Z' });
  }
  if (opts.dryRun && opts.out) throw new UsageError('--dry-run and --out cannot be combined', { hint: '--dry-run writes nothing; --out writes contract files' });
}

/** One mapped source: a file and the profile table (and dataset) it maps onto. */
interface Source {
  p: Planned;
  /** What decides the mapping besides the file's bytes (the profile text, the view): part of the import's sha256. */
  identity: string;
  profilePath: string;
  mapOpts: Omit<MapOptions, 'molarMass' | 'file' | 'display'>;
  /** Creates TEMP table imp_src (VARCHAR-able cells, _row, _line) for this source. */
  stage: () => Promise<void>;
}

interface Session {
  db: Db;
  mode: ImportMode;
  mm: number;
  work: string;
  result: ImportResult;
  /** load mode: the mapped files waiting for their dataset's one load (flushBatch). */
  batch?: Batch | undefined;
  /** load mode: per dataset, the import sha256s already loaded (-> load id), read once; this run's files join it. */
  imported: Map<string, Map<string, string>>;
}

/** Opens the lakehouse (or an in-memory DuckDB for --dry-run and --out), runs `body`, records the run, sums totals. */
async function withSession(kind: 'csv' | 'fhir', profileName: string, inputs: string[], opts: ImportOptions, planned: number, body: (s: Session) => Promise<void>): Promise<ImportResult> {
  const cwd = opts.cwd ?? process.cwd();
  checkFlags(opts);
  const mode: ImportMode = opts.dryRun ? 'dry-run' : opts.out ? 'out' : 'load';
  const mm = molarMass(opts, cwd);
  const guard = { kind: 'import', shape: 'directory' as const, force: opts.force, cwd, protect: [resolve(cwd, opts.lake.path)] };
  if (opts.out) checkOutput(opts.out, guard);
  const db = mode === 'load'
    ? await opts.lake.openWriter({ memoryLimit: LOAD_MEMORY_LIMIT, readSnapshot: true })
    : await openWorkDb(':memory:', {
      ...(opts.lake.limits.threads === undefined ? {} : { threads: opts.lake.limits.threads }),
      ...(opts.lake.limits.memoryLimit === undefined ? {} : { memoryLimit: opts.lake.limits.memoryLimit }),
    });
  const work = mkdtempSync(join(tmpdir(), 'surgctl-import-'));
  const result: ImportResult = {
    mode, profile: profileName, db: mode === 'load' ? opts.lake.path : null, out: opts.out ?? null, files: [],
    totals: { rows_read: 0, mapped: 0, skipped: 0, missing: 0, rows_inserted: 0, rows_duplicate: 0, rows_quarantined: 0, unreadable: 0 },
    skipped: {}, missing: {}, quarantined_by_keyword: {}, by_metric: {}, resources_skipped: {}, unreadable: [], sample: {},
  };
  const session: Session = { db, mode, mm, work, result, imported: new Map() };
  try {
    const run = async (): Promise<LoadResult> => {
      await body(session);
      await flushBatch(session, opts);
      if (mode === 'out') await writeOut(db, result, opts, kind);
      const files = result.files.flatMap((f) => (f.load ? [f.load] : []));
      return { db: opts.lake.path, files, totals: sumTotals(files) };
    };
    if (mode === 'load') {
      const abandoned = await markAbandoned(db);
      if (abandoned > 0) opts.onEvent?.({ type: 'abandoned', count: abandoned });
      await restoreQuarantineFiles(db, opts);
      opts.onEvent?.({ type: 'start', files: planned });
      await recordRun(db, 'import', opts.args ?? ['import', kind, ...inputs], run);
    } else await run();
  } finally {
    db.close();
    rmSync(work, { recursive: true, force: true });
  }
  for (const f of result.files) {
    if (!f.counts) continue;
    result.totals.rows_read += f.counts.rows_read;
    result.totals.mapped += f.counts.mapped;
    result.totals.skipped += Object.values(f.counts.skipped).reduce((a, b) => a + b, 0);
    result.totals.missing += Object.values(f.counts.missing).reduce((a, b) => a + b, 0);
    addTo(result.skipped, f.counts.skipped);
    addTo(result.missing, f.counts.missing);
    addTo(result.quarantined_by_keyword, f.counts.quarantined_by_keyword);
    addTo(result.by_metric, f.counts.by_metric);
    if (f.load) {
      result.totals.rows_inserted += f.load.rows_inserted;
      result.totals.rows_duplicate += f.load.rows_duplicate;
      result.totals.rows_quarantined += f.load.rows_quarantined;
    }
  }
  return result;
}

/**
 * Imports CSV files through a profile. Throws UsageError (exit 2) for bad inputs, flags or a file no table maps,
 * ConfigError for a bad profile, DatabaseError/QueryError/IoError for runtime faults; InterruptedError on Ctrl-C
 * (the current file rolls back).
 */
export async function importCsv(input: ImportInput, ctx: StageContext<ImportEvent>): Promise<ImportResult> {
  const { inputs, ...rest } = input;
  const opts: ImportOptions = { ...rest, ...ctx };
  const cwd = opts.cwd ?? process.cwd();
  const loaded = loadProfile(opts.profile, cwd);
  const planned = planImport(inputs, loaded.profile, cwd);
  const profileText = readFileSync(loaded.path, 'utf8');
  const profile = loaded.profile;
  return withSession('csv', profile.name, inputs, opts, planned.length, async (s) => {
    for (const p of planned) {
      if (opts.signal?.aborted) throw new InterruptedError(`import stopped before ${p.display}`);
      if (p.table.skip !== undefined || !p.ds) {
        s.result.files.push({ path: p.display, dataset: null, status: 'skipped', message: p.table.skip ?? 'skipped by the profile', counts: null, load: null });
        continue;
      }
      s.result.files.push(await importOne(s, {
        p,
        identity: p.tableKey == null ? profileText : `${profileText}\ntable ${p.tableKey}`,
        profilePath: loaded.path,
        mapOpts: {
          timezone: opts.timezone ?? p.table.timezone ?? profile.timezone,
          anchor: opts.anchor ?? profile.relative_time?.anchor,
          missing: p.table.missing ?? profile.missing ?? [],
        },
        stage: () => stageCsv(s.db, p),
      }, opts));
    }
  });
}

/** How the shipped FHIR views map onto the contracts (the FHIR counterpart of a profile's tables). */
const FHIR_TABLES: { view: string; resource: string; table: ProfileTable }[] = [
  {
    view: 'patients',
    resource: 'Patient',
    table: {
      match: '*',
      dataset: 'patients',
      columns: {
        patient_id: { from: 'patient_id' },
        sex: { from: 'gender' },
        birth_date: { from: 'birth_date' },
        facility_id: { from: 'managing_organization', default: 'unknown' },
      },
    },
  },
  {
    // import's own view: the robots contract's columns (before procedures, which reference robots). FHIR R4 Device
    // has no installation date: the surgctl installed-on extension, else manufactureDate's calendar date (the
    // earliest possible installation), else none and the contract quarantines the row (installed_on is required).
    // Device.status inactive becomes retired unless statusReason.text carries the fleet status (the generator's).
    view: 'import:devices-contract',
    resource: 'Device',
    table: {
      match: '*',
      dataset: 'robots',
      only: { column: 'fhir_status', values: ['active', 'inactive', 'unknown'], reason: 'Device status entered-in-error: not a real device record' },
      columns: {
        ...Object.fromEntries(['robot_id', 'serial', 'model', 'manufacturer', 'facility_id', 'installed_on'].map((c) => [c, { from: c }])),
        status: { from: 'status', map: { inactive: 'retired' } },
      },
    },
  },
  {
    // import's own view (src/core/import/views): the contract's columns, robot and surgeon from the performers.
    view: 'import:procedures-contract',
    resource: 'Procedure',
    table: {
      match: '*',
      dataset: 'procedures',
      columns: Object.fromEntries(['procedure_id', 'patient_id', 'robot_id', 'surgeon_id', 'procedure_type', 'started_at', 'ended_at', 'status'].map((c) => [c, { from: c }])),
    },
  },
  {
    view: 'observation-readings',
    resource: 'Observation',
    table: {
      match: '*',
      dataset: 'vitals',
      only: { column: 'status', values: ['final', 'amended', 'corrected', 'preliminary'], reason: 'status is not a result (cancelled, entered-in-error, registered or unknown)' },
      readings: { code: 'code', value: '_value_any', unit: 'unit', time: 'effective', code_maps: ['loinc'], codes: {} },
      columns: {
        reading_id: { template: '{id}-{code}' },
        patient_id: { from: 'patient_id' },
      },
    },
  },
];

/** A ViewDefinition shipped with import (src/core/import/views/<name>.json). */
function importView(name: string): ViewDefinition {
  const file = fileURLToPath(new URL(`../../../src/core/import/views/${name}.json`, import.meta.url));
  return JSON.parse(readFileSync(file, 'utf8')) as ViewDefinition;
}

/**
 * Imports FHIR R4 (Bulk Data NDJSON, Bundles, single resources; '-' reads standard input): each file is staged by
 * the fhir library, flattened by the shipped ViewDefinitions (patients, devices, procedures, observation-readings) and mapped like a
 * profile table: LOINC codes to metrics, UCUM units converted. Resources no view maps are skipped by type with a
 * reason; a resource the stage could not read is quarantined with its line or entry. Throws as importCsv.
 */
export async function importFhir(input: ImportInput, ctx: StageContext<ImportEvent>): Promise<ImportResult> {
  const { inputs, ...rest } = input;
  const opts: ImportOptions = { ...rest, ...ctx };
  const cwd = opts.cwd ?? process.cwd();
  const fhir = await import('../fhir/index.js');
  const work = mkdtempSync(join(tmpdir(), 'surgctl-import-stdin-'));
  try {
    const files: { path: string; display: string }[] = [];
    for (const input of inputs) {
      if (input === '-') {
        if (!opts.stdin) throw new UsageError('standard input is not available');
        const spooled = await spoolStream(opts.stdin, work);
        files.push({ path: spooled.path, display: '-' });
        continue;
      }
      const abs = resolve(cwd, input);
      if (!existsSync(abs)) throw new UsageError(`input ${input} does not exist`, { file: input, hint: 'check the path' });
      for (const f of fhir.fhirFiles([abs])) files.push({ path: f, display: f === abs ? input : join(input, relative(abs, f)) });
    }
    if (files.length === 0) throw new UsageError(`no FHIR file in ${inputs.join(', ')}`, { hint: 'name .ndjson / .json files, or a directory holding them' });
    const engine = opts.engine ?? 'auto';
    return await withSession('fhir', 'fhir', inputs, opts, files.length * FHIR_TABLES.length, async (s) => {
      // All files staged once; then dataset by dataset (patients before the vitals that reference them), one load
      // per file and dataset.
      const staged = await fhir.stageFhir(s.db, files.map((f) => f.path), { table: 'imp_fhir', ...(opts.signal ? { signal: opts.signal } : {}) });
      for (const [type, n] of Object.entries(staged.byType)) {
        if (!FHIR_TABLES.some((t) => t.resource === type)) s.result.resources_skipped[type] = n;
      }
      // Resources per type and file, counted in one scan (not one scan of every staged resource per file and type:
      // an export of one Bundle per patient has thousands of files).
      const perFile = new Map((await s.db.all<{ t: string; f: string; n: number }>(
        'SELECT resource_type AS t, _file AS f, count(*)::INTEGER AS n FROM imp_fhir GROUP BY ALL',
      )).map((r) => [`${r.t}\u0000${r.f}`, r.n]));
      for (const ft of FHIR_TABLES) {
        const ds = loadDatasetSchema(ft.table.dataset as string);
        const view = ft.view.startsWith('import:') ? importView(ft.view.slice('import:'.length)) : fhir.shippedView(ft.view);
        await fhir.runView(s.db, view, { source: 'imp_fhir', target: 'imp_view', engine, lineage: true, ...(opts.signal ? { signal: opts.signal } : {}) });
        const identity = `fhir:${JSON.stringify(view)}:${JSON.stringify(ft.table)}:${engine}`;
        const profilePath = `shipped ViewDefinition ${ft.view}`;
        const mapOpts = { timezone: opts.timezone, anchor: opts.anchor, missing: [] };
        // The view's rows of the files as imp_src: _row numbers a file's rows in the order of its lines and entries
        // (several files: _frow does, and _row numbers the rows of all of them, which one mapping needs).
        const stageSrc = async (paths: string[]): Promise<void> => {
          const order = 'ORDER BY v._line NULLS LAST, v._entry NULLS LAST, v._resource_id';
          await setTodo(s.db, paths);
          await s.db.run(`CREATE OR REPLACE TEMP TABLE ${SRC_TABLE} AS
            SELECT v.* EXCLUDE (_line)${ft.resource === 'Device' ? ' REPLACE (left(v.installed_on, 10) AS installed_on)' : ''},
              ${ft.resource === 'Observation' ? 'coalesce(CAST(v.value AS VARCHAR), v.value_code) AS _value_any,' : ''}
              t.fi AS _fi, ${paths.length === 1 ? `row_number() OVER (${order}) AS _row`
                : `row_number() OVER (PARTITION BY t.fi ${order}) AS _frow, row_number() OVER (ORDER BY t.fi, ${order.slice('ORDER BY '.length)}) AS _row`},
              coalesce(v._line, v._entry) AS _line
            FROM imp_view v JOIN imp_todo t ON t.path = v._file`);
        };
        const todo: { p: Planned; errors: FhirInputError[] }[] = [];
        for (const f of files) {
          if (opts.signal?.aborted) throw new InterruptedError(`import stopped before ${f.display}`);
          const inFile = perFile.get(`${ft.resource}\u0000${f.path}`) ?? 0;
          // A read error is booked to the load of the dataset its resource was meant for (see unreadable).
          const errors = staged.errors.filter((e) => e.file === f.path && e.resourceType === ft.resource);
          if (inFile === 0 && errors.length === 0) continue;
          const p: Planned = { path: f.path, display: f.display, table: ft.table, ds };
          if (s.mode === 'load') {
            todo.push({ p, errors });
            continue;
          }
          s.result.files.push(await importOne(s, {
            p, identity, profilePath, mapOpts, stage: () => stageSrc([f.path]), fhirFile: f.path, fhirResource: ft.resource, fhirErrors: errors,
          }, opts));
        }
        if (todo.length > 0) await importFhirFiles(s, ft.resource, ds, todo, { identity, profilePath, mapOpts, stageSrc }, opts);
        await s.db.run('DROP TABLE IF EXISTS imp_view');
      }
      await s.db.run('DROP TABLE IF EXISTS imp_fhir');
      const display = new Map(files.map((f) => [f.path, f.display]));
      for (const e of staged.errors) {
        if (e.resourceType !== undefined && FHIR_TABLES.some((t) => t.resource === e.resourceType)) continue;
        s.result.unreadable.push({
          file: display.get(e.file) ?? e.file, line: e.line ?? null, entry: e.entry ?? null, entry_of: e.entryOf ?? null,
          resource_type: e.resourceType ?? null, reason: e.reason,
        });
      }
      s.result.totals.unreadable = s.result.unreadable.length;
      s.result.totals.rows_read += s.result.unreadable.length;
      for (const [type, n] of Object.entries(s.result.resources_skipped)) {
        s.result.skipped[`resource type ${type}: no view maps it onto a contract`] = n;
        s.result.totals.skipped += n;
        s.result.totals.rows_read += n;
      }
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * import fhir's load mode: the files of one view (dataset) not imported before are mapped together, each file's rows
 * numbered as its own mapping numbers them (imp_mapped._fi names the file), counted per file, and joined to the
 * dataset's batch: one mapping per dataset instead of one per file (an export of one Bundle per patient has thousands).
 */
async function importFhirFiles(
  s: Session, resource: string, ds: DatasetSchema, todo: { p: Planned; errors: FhirInputError[] }[],
  src: { identity: string; profilePath: string; mapOpts: Source['mapOpts']; stageSrc: (paths: string[]) => Promise<void> }, opts: ImportOptions,
): Promise<void> {
  const { db, result } = s;
  const shas = await importedShas(s, ds.name);
  // Each file's place in result.files: a skip now, or its load's result once mapped.
  const slots: (ImportFileResult | number)[] = [];
  const entries: { p: Planned; sha: { sha256: string; bytes: number }; errors: FhirInputError[] }[] = [];
  for (const t of todo) {
    const sha = importSha(t.p, src.identity, opts);
    const prev = opts.force ? undefined : shas.get(sha.sha256);
    if (prev) {
      opts.onEvent?.({ type: 'file-skipped', path: t.p.display, dataset: ds.name, previousLoadId: prev });
      slots.push({ path: t.p.display, dataset: ds.name, status: 'skipped', message: `already imported by ${prev}; pass --force to import it again (idempotent by key)`, counts: null, load: null });
      continue;
    }
    if (!opts.force) shas.set(sha.sha256, '(this import)');
    slots.push(entries.length);
    entries.push({ p: t.p, sha, errors: t.errors });
  }
  if (entries.length > 0) {
    await src.stageSrc(entries.map((e) => e.p.path));
    // One mapping for all the files, by the rows' run-wide number (_row); each row then takes its file's own (_frow).
    const first = (entries[0] as { p: Planned }).p;
    await mapTable(db, SRC_TABLE, first.table, ds, { ...src.mapOpts, molarMass: s.mm, file: basename(first.path), display: first.display }, src.profilePath);
    const own = entries.length === 1 ? 'x._row' : 'x._frow';
    await db.run(`CREATE OR REPLACE TEMP TABLE ${MAPPED_TABLE} AS
      SELECT m.* REPLACE (${own} AS _row), x._fi AS _fi FROM ${MAPPED_TABLE} m JOIN ${SRC_TABLE} x ON x._row = m._row ORDER BY x._fi, ${own}`);
    await addFhirRows(db, resource, entries.map((e) => e.errors));
    const counts = await countsBy(db, ds, '_fi');
    const mapped = entries.map((e, fi) => {
      const c = counts.get(fi) ?? { rows_read: 0, mapped: 0, quarantined_by_keyword: {}, skipped: {}, missing: {}, unmapped_codes: {}, by_metric: {} };
      opts.onEvent?.({ type: 'mapped', path: e.p.display, dataset: ds.name, counts: c });
      return { p: e.p, counts: c, sha: e.sha };
    });
    const results = await addAllToBatch(s, ds, mapped, '_fi', opts);
    await db.run(`DROP TABLE IF EXISTS ${SRC_TABLE}; DROP TABLE IF EXISTS imp_todo`);
    for (const [i, slot] of slots.entries()) slots[i] = typeof slot === 'number' ? (results[slot] as ImportFileResult) : slot;
  }
  for (const slot of slots) if (typeof slot !== 'number') result.files.push(slot);
}

async function importOne(s: Session, src: Source & { fhirFile?: string; fhirResource?: string; fhirErrors?: FhirInputError[] }, opts: ImportOptions): Promise<ImportFileResult> {
  const { db, mode, result } = s;
  const p = src.p;
  const ds = p.ds as DatasetSchema;
  let sha: { sha256: string; bytes: number } | undefined;
  if (mode === 'load') {
    sha = importSha(p, src.identity, opts);
    if (!opts.force) {
      const prev = (await importedShas(s, ds.name)).get(sha.sha256);
      if (prev) {
        const message = `already imported by ${prev}; pass --force to import it again (idempotent by key)`;
        opts.onEvent?.({ type: 'file-skipped', path: p.display, dataset: ds.name, previousLoadId: prev });
        return { path: p.display, dataset: ds.name, status: 'skipped', message, counts: null, load: null };
      }
    }
  }
  await src.stage();
  let counts = await mapTable(db, SRC_TABLE, p.table, ds, { ...src.mapOpts, molarMass: s.mm, file: basename(p.path), display: p.display }, src.profilePath);
  counts = await addRejects(db, counts);
  if (src.fhirFile !== undefined && src.fhirResource !== undefined) {
    await db.run(`ALTER TABLE ${MAPPED_TABLE} ADD COLUMN _fi INTEGER DEFAULT 0`);
    await setTodo(db, [src.fhirFile]);
    await addFhirRows(db, src.fhirResource, [src.fhirErrors ?? []]);
    counts = (await countsBy(db, ds, '_fi')).get(0) ?? counts;
  }
  opts.onEvent?.({ type: 'mapped', path: p.display, dataset: ds.name, counts });
  await db.run(`DROP TABLE IF EXISTS ${SRC_TABLE}`);
  if (mode === 'dry-run') {
    const rows = await db.all(`SELECT ${contractSelect(ds)} FROM ${MAPPED_TABLE} WHERE _status = 'ok' ORDER BY _row LIMIT 5`);
    result.sample[ds.name] = [...(result.sample[ds.name] ?? []), ...rows].slice(0, 5);
    return { path: p.display, dataset: ds.name, status: 'mapped', message: null, counts, load: null, validation: await dryValidate(db, p, ds, s.work) };
  }
  if (mode === 'out') {
    await accumulate(db, ds);
    return { path: p.display, dataset: ds.name, status: 'mapped', message: null, counts, load: null };
  }
  return addToBatch(s, p, ds, counts, sha as { sha256: string; bytes: number }, opts);
}

/** The import sha256s of the dataset's succeeded loads (one query per dataset and run), with this run's added. */
async function importedShas(s: Session, dataset: string): Promise<Map<string, string>> {
  let m = s.imported.get(dataset);
  if (!m) {
    m = await succeededByShas(s.db, dataset);
    s.imported.set(dataset, m);
  }
  return m;
}

/**
 * FHIR accounting for the files of TEMP table imp_todo (fi: the file's place, path) mapped into imp_mapped (its _fi
 * column names the file): a Device without an installation date is quarantined (keyword required); a resource that
 * yields no row of the view (an Observation without a value, data absent) is a skipped row with that reason; a
 * resource or line the stage could not read is a quarantined row at its line (NDJSON) or entry (Bundle). Each file's
 * added rows are numbered after its mapped ones, in the order the stage met them. Count them with countsBy after.
 */
async function addFhirRows(db: Db, resource: string, errors: FhirInputError[][]): Promise<void> {
  if (resource === 'Device') {
    // robots requires installed_on and FHIR R4 Device has no installation date: say so here, not as a bare type error.
    await db.run(
      `UPDATE ${MAPPED_TABLE} SET _status = 'quarantine', _keyword = 'required', _field = 'installed_on', _reason = $reason
       WHERE _status = 'ok' AND installed_on IS NULL`,
      { reason: 'Device has no installation date: neither the installed-on extension nor manufactureDate (robots requires installed_on)' },
    );
  }
  await db.run(
    `INSERT INTO ${MAPPED_TABLE} (_fi, _row, _line, _status, _reason)
     SELECT t.fi, coalesce(mx.m, 0) + row_number() OVER (PARTITION BY t.fi ORDER BY f._line NULLS LAST, f._entry NULLS LAST, f.id),
       coalesce(f._line, f._entry), 'skip', $reason
     FROM imp_fhir f JOIN imp_todo t ON t.path = f._file
     LEFT JOIN (SELECT _fi, max(_row) AS m FROM ${MAPPED_TABLE} GROUP BY _fi) mx ON mx._fi = t.fi
     WHERE f.resource_type = $t AND NOT EXISTS (SELECT 1 FROM ${SRC_TABLE} s WHERE s._resource_id = f.id AND s._file = f._file)`,
    { reason: `${resource} without a value (no valueQuantity or valueCodeableConcept, e.g. dataAbsentReason)`, t: resource },
  );
  if (errors.every((e) => e.length === 0)) return;
  const maxRow = new Map((await db.all<{ fi: number; m: number }>(`SELECT _fi AS fi, max(_row)::INTEGER AS m FROM ${MAPPED_TABLE} GROUP BY _fi`)).map((r) => [r.fi, r.m]));
  // One statement for all of them (a broken export can have thousands of bad lines), in the order the stage met them.
  const rows = errors.flatMap((list, fi) => list.map((e, i) => ({
    fi, row: (maxRow.get(fi) ?? 0) + i + 1, line: e.line ?? e.entry ?? null, reason: e.entry !== undefined ? `${entryName(e)}: ${e.reason}` : e.reason, raw: e.raw ?? null,
  })));
  await db.run(
    `INSERT INTO ${MAPPED_TABLE} (_fi, _row, _line, _status, _reason, _keyword, _field, _bad_value)
     SELECT e.fi, e."row", e.line, 'quarantine', e.reason, 'fhir', NULL, e.raw
     FROM (SELECT unnest(CAST(CAST($errors AS JSON) AS STRUCT(fi INTEGER, "row" BIGINT, line BIGINT, reason VARCHAR, raw VARCHAR)[])) AS e)`,
    { errors: JSON.stringify(rows) },
  );
}

/** TEMP table imp_todo: the files mapped together, each with its place (fi) and path. */
async function setTodo(db: Db, paths: string[]): Promise<void> {
  await db.run(`CREATE OR REPLACE TEMP TABLE imp_todo AS SELECT r.fi, r.path FROM (
    SELECT unnest(CAST(CAST($t AS JSON) AS STRUCT(fi INTEGER, path VARCHAR)[])) AS r)`, { t: JSON.stringify(paths.map((path, fi) => ({ fi, path }))) });
}

/** "Bundle entry N" or "array element N" (0-based, as stageFhir counts them) for an error inside a document. */
function entryName(e: FhirInputError): string {
  return `${e.entryOf === 'array' ? 'array element' : 'Bundle entry'} ${e.entry}`;
}

const contractSelect = (ds: DatasetSchema): string => ds.columns.map(ident).join(', ');

/** json_object over `cols` of the contract; its keys are the parameters of contractKeys (bound, not inlined). */
const contractJson = (ds: DatasetSchema, cols: string[]): string => `json_object(${cols.map((c) => `$k${ds.columns.indexOf(c)}, ${ident(c)}`).join(', ')})`;
const contractKeys = (ds: DatasetSchema): Record<string, string> => Object.fromEntries(ds.columns.map((c, i) => [`k${i}`, c]));

/** --dry-run: validates the mapped rows against the contract as the load would (no foreign keys), in memory. */
async function dryValidate(db: Db, p: Planned, ds: DatasetSchema, work: string): Promise<ImportFileResult['validation']> {
  const staged = join(work, `${basename(p.path)}.${ds.name}.dry.ndjson`);
  await writeContractNdjson(db, ds, staged);
  const { stageAndValidate, dropStaged } = await import('../validate/index.js');
  const v = await stageAndValidate(db, { path: staged, displayName: p.display, format: 'ndjson' }, ds, { foreignKeyTables: {}, materializeValid: false });
  await dropStaged(db, v);
  rmSync(staged, { force: true });
  return { rows_valid: v.rowsValid, rows_quarantined: v.rowsQuarantined, failures_by_rule: v.failuresByRule };
}

/**
 * Writes the ok contract rows of imp_mapped to `path` as NDJSON, in _row order. An optional column whose value is
 * NULL is left out of its object (absent, as the contract means it: e.g. force_n of a kinematics-only source), since
 * a JSON null is a type failure; required columns are always written.
 */
async function writeContractNdjson(db: Db, ds: DatasetSchema, path: string): Promise<void> {
  await db.run(
    `COPY (SELECT CAST(${contractRow(ds)} AS VARCHAR) AS j FROM ${MAPPED_TABLE} WHERE _status = 'ok' ORDER BY _row)
     TO ${literal(path)} (${NDJSON_COPY})`,
    contractKeys(ds),
  );
}

/** COPY options that write one VARCHAR column of JSON texts as NDJSON: CSV without a header, quoting or escapes, and
 *  chr(1) as the delimiter, which never occurs in JSON text. */
const NDJSON_COPY = "FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01'";

/** The contract row of imp_mapped as a JSON object, optional NULL columns left out (binds contractKeys). */
function contractRow(ds: DatasetSchema): string {
  const required = ds.columns.filter((c) => ds.required.includes(c));
  const optional = ds.columns.filter((c) => !ds.required.includes(c));
  return optional.length === 0 ? contractJson(ds, required) : `json_merge_patch(${required.length === 0 ? "'{}'" : contractJson(ds, required)}, ${contractJson(ds, optional)})`;
}

async function accumulate(db: Db, ds: DatasetSchema): Promise<void> {
  const t = ident(`imp_out_${ds.name}`);
  const exists = await db.scalar<number>("SELECT count(*)::INTEGER FROM duckdb_tables() WHERE temporary AND table_name = $t", { t: `imp_out_${ds.name}` });
  if (exists) await db.run(`INSERT INTO ${t} SELECT ${contractSelect(ds)} FROM ${MAPPED_TABLE} WHERE _status = 'ok' ORDER BY _row`);
  else await db.run(`CREATE TEMP TABLE ${t} AS SELECT ${contractSelect(ds)} FROM ${MAPPED_TABLE} WHERE _status = 'ok' ORDER BY _row`);
}

async function writeOut(db: Db, result: ImportResult, opts: ImportOptions, kind: 'csv' | 'fhir'): Promise<void> {
  const cwd = opts.cwd ?? process.cwd();
  const target = resolve(cwd, opts.out as string);
  const temp = tempPathFor(target);
  const fmt = opts.outFormat ?? 'csv';
  try {
    mkdirSync(temp, { recursive: true });
    const names = (await db.all<{ n: string }>("SELECT table_name AS n FROM duckdb_tables() WHERE temporary AND starts_with(table_name, 'imp_out_') ORDER BY 1")).map((r) => r.n);
    for (const n of names) {
      const file = join(temp, `${n.slice('imp_out_'.length)}.${fmt}`);
      await db.run(`COPY ${ident(n)} TO ${literal(file)} (${fmt === 'parquet' ? 'FORMAT parquet, COMPRESSION zstd' : 'FORMAT csv, HEADER true'})`);
    }
    writeMarker(temp, 'import', kind === 'csv' ? `import csv --profile ${result.profile}` : 'import fhir');
  } catch (e) {
    discardOutput(temp);
    throw e;
  }
  commitOutput(temp, opts.out as string, { kind: 'import', shape: 'directory', force: opts.force, cwd, protect: [resolve(cwd, opts.lake.path)] });
}

/** A file mapped in load mode, waiting for its dataset's load. */
interface BatchFile {
  /** Its place in the batch (batch order: the run's file order). */
  f: number;
  p: Planned;
  counts: MapCounts;
  sha: { sha256: string; bytes: number };
  /** Rows the mapping itself quarantined (in its load's quarantine and counts). */
  nq: number;
  /** Its result in ImportResult.files, filled in by its load. */
  result: ImportFileResult;
}

/** The files of one dataset mapped so far in this run: their ok rows (imp_batch) and mapping quarantine (imp_batch_q). */
interface Batch {
  ds: DatasetSchema;
  files: BatchFile[];
}

const BATCH_ROWS = 'imp_batch';
const BATCH_QUARANTINE = 'imp_batch_q';

/**
 * Keeps a mapped file's ok contract rows (as the NDJSON texts its own load would stage, with the map back to its
 * source rows and lineage) and its mapping quarantine rows for its dataset's load, which flushBatch makes once the
 * run moves on to another dataset or ends. Returns the file's result, filled in by that load.
 */
async function addToBatch(
  s: Session, p: Planned, ds: DatasetSchema, counts: MapCounts, sha: { sha256: string; bytes: number }, opts: ImportOptions,
): Promise<ImportFileResult> {
  return (await addAllToBatch(s, ds, [{ p, counts, sha }], '0', opts))[0] as ImportFileResult;
}

/**
 * addToBatch for several files mapped into imp_mapped at once: `fileExpr` is the SQL of a row's 0-based place in
 * `entries` (a column of imp_mapped, or '0' for one file). Returns the files' results, in entries' order.
 */
async function addAllToBatch(
  s: Session, ds: DatasetSchema, entries: { p: Planned; counts: MapCounts; sha: { sha256: string; bytes: number } }[], fileExpr: string,
  opts: ImportOptions,
): Promise<ImportFileResult[]> {
  if (s.batch && s.batch.ds.name !== ds.name) await flushBatch(s, opts);
  const { db } = s;
  if (!s.batch) {
    await db.run(`CREATE OR REPLACE TEMP TABLE ${BATCH_ROWS} (f INTEGER, _row BIGINT, _line BIGINT, original_value VARCHAR,
      original_unit VARCHAR, original_code VARCHAR, j VARCHAR, k VARCHAR[])`);
    await db.run(`CREATE OR REPLACE TEMP TABLE ${BATCH_QUARANTINE} (f INTEGER, line BIGINT, "row" BIGINT, raw VARCHAR, errors VARCHAR, rule VARCHAR)`);
    s.batch = { ds, files: [] };
  }
  const b = s.batch;
  const offset = b.files.length;
  // k: the primary key as validate reads it from the staged line (text of a JSON string, else the JSON text), NULL
  // when a part is missing (validate does not compare those): flushBatch keeps files sharing a key in separate loads.
  const keyParams = Object.fromEntries(ds.primaryKey.map((c, i) => [`kp${i}`, `/${c.replaceAll('~', '~0').replaceAll('/', '~1')}`]));
  const parts = ds.primaryKey.map((_, i) => `CASE WHEN json_type(j -> $kp${i}) = 'VARCHAR' THEN j ->> $kp${i} ELSE CAST(j -> $kp${i} AS VARCHAR) END`);
  const key = parts.length === 0 ? 'CAST(NULL AS VARCHAR[])' : `CASE WHEN ${parts.map((x) => `(${x}) IS NOT NULL`).join(' AND ')} THEN [${parts.join(', ')}] END`;
  await db.run(
    `INSERT INTO ${BATCH_ROWS} SELECT f, _row, _line, original_value, original_unit, original_code, j, ${key}
     FROM (SELECT ${fileExpr} + $offset AS f, _row, _line, original_value, original_unit, original_code, CAST(${contractRow(ds)} AS VARCHAR) AS j
           FROM ${MAPPED_TABLE} WHERE _status = 'ok')`,
    { offset, ...keyParams, ...contractKeys(ds) },
  );
  const nqs = entries.map((e) => Object.values(e.counts.quarantined_by_keyword).reduce((x, y) => x + y, 0));
  if (nqs.some((n) => n > 0)) {
    // raw: the contract row as far as it was mapped (replay re-validates it); the source's value is in errors[].value.
    await db.run(
      `INSERT INTO ${BATCH_QUARANTINE} SELECT ${fileExpr} + $offset, _line, _row, CAST(${contractJson(ds, ds.columns)} AS VARCHAR),
         CAST(json_array(json_object('field', _field, 'keyword', _keyword, 'message', _reason, 'value', _bad_value)) AS VARCHAR), _keyword
       FROM ${MAPPED_TABLE} WHERE _status = 'quarantine'`,
      { offset, ...contractKeys(ds) },
    );
  }
  const shas = await importedShas(s, ds.name);
  return entries.map((e, i) => {
    const result: ImportFileResult = { path: e.p.display, dataset: ds.name, status: 'loaded', message: null, counts: e.counts, load: null };
    b.files.push({ f: offset + i, p: e.p, counts: e.counts, sha: e.sha, nq: nqs[i] ?? 0, result });
    // A second file of the same content in this run is skipped, as it was when the first one's load came before it.
    shas.set(e.sha.sha256, '(this import)');
    return result;
  });
}

/**
 * Loads the batch: one load for all its files, except that files sharing a primary key go to separate loads (in
 * batch order: a file starts a new load when it holds a key of an earlier file of the current one), so that each
 * load's duplicate-key check and its anti-join against the raw table see what file-by-file loads saw: the first
 * file in batch order inserts the key and a later file counts it as its own duplicate.
 */
async function flushBatch(s: Session, opts: ImportOptions): Promise<void> {
  const b = s.batch;
  if (!b) return;
  s.batch = undefined;
  const { db } = s;
  // For each file, the latest earlier file holding one of its keys.
  const conflicts = new Map((await db.all<{ f: number; g: number }>(
    `SELECT f, max(g)::INTEGER AS g FROM (
       SELECT f, lag(f) OVER (PARTITION BY k ORDER BY f) AS g FROM (SELECT DISTINCT k, f FROM ${BATCH_ROWS} WHERE k IS NOT NULL))
     WHERE g IS NOT NULL GROUP BY f`,
  )).map((r) => [r.f, r.g]));
  const groups: BatchFile[][] = [];
  let start = 0;
  for (const bf of b.files) {
    const g = conflicts.get(bf.f);
    if (g !== undefined && g >= start) {
      groups.push(b.files.slice(start, bf.f));
      start = bf.f;
    }
  }
  groups.push(b.files.slice(start));
  try {
    for (const group of groups) await loadGroup(s, b.ds, group, opts);
  } finally {
    await db.run(`DROP TABLE IF EXISTS ${BATCH_ROWS}; DROP TABLE IF EXISTS ${BATCH_QUARANTINE}; DROP TABLE IF EXISTS imp_lines; DROP TABLE IF EXISTS imp_batch_files`);
  }
}

/**
 * Loads a group of the batch's files as ONE load: their ok rows in batch order (file, then row) as one staged NDJSON
 * through loadOneFile (ledger, validation, idempotent merge: one transaction), and inside that transaction
 * (afterInsert) the load is split back into one load per file: each its own load id, ledger row (path, import
 * sha256, bytes, counts), raw rows (_load_id, _source_file, _source_line at the source's line, vitals' lineage) and
 * quarantine rows (the validation's, at the source's line and row, and the mapping's own); the group's own ledger row
 * goes. A kill leaves all of the group or none of it. A group the load refuses as a whole (a file-level error) is
 * loaded again file by file, so each file gets its own verdict.
 */
async function loadGroup(s: Session, ds: DatasetSchema, group: BatchFile[], opts: ImportOptions): Promise<void> {
  const { db } = s;
  const first = group[0] as BatchFile;
  const range = { lo: first.f, hi: (group.at(-1) as BatchFile).f };
  const staged = join(s.work, `${ds.name}-${range.lo}.ndjson`);
  await db.run(`COPY (SELECT j FROM ${BATCH_ROWS} WHERE f BETWEEN $lo AND $hi ORDER BY f, _row) TO ${literal(staged)} (${NDJSON_COPY})`, range);
  // NDJSON line k is the k-th ok row of the group: the map back to the file, its source rows and lines, and lineage.
  await db.run(`CREATE OR REPLACE TEMP TABLE imp_lines AS
    SELECT row_number() OVER (ORDER BY f, _row) AS staged_line, f, _row, _line, original_value, original_unit, original_code
    FROM ${BATCH_ROWS} WHERE f BETWEEN $lo AND $hi`, range);
  const qdir = resolve(opts.cwd ?? process.cwd(), opts.quarantineDir ?? 'quarantine');
  const files = group.map((bf) => {
    const loadId = newLoadId();
    return { f: bf.f, load_id: loadId, path: bf.p.display, sha256: bf.sha.sha256, bytes: bf.sha.bytes, nq: bf.nq, qfile: join(qdir, `${basename(bf.p.path)}.${loadId}.quarantine.ndjson`) };
  });
  await db.run(`CREATE OR REPLACE TEMP TABLE imp_batch_files AS SELECT r.f, r.load_id, r.path FROM (
    SELECT unnest(CAST(CAST($files AS JSON) AS STRUCT(f INTEGER, load_id VARCHAR, path VARCHAR)[])) AS r)`,
    { files: JSON.stringify(files.map((x) => ({ f: x.f, load_id: x.load_id, path: x.path }))) });
  const okRows = new Map((await db.all<{ f: number; n: number }>('SELECT f, count(*)::INTEGER AS n FROM imp_lines GROUP BY f')).map((r) => [r.f, r.n]));
  const raw = rawTableName(ds.name);
  const lineage = ds.name === 'vitals';
  type Split = { rows_read: number; rows_inserted: number; rows_duplicate: number; rows_quarantined: number; quarantine_path: string | null; rules: Record<string, number> };
  const split = new Map<number, Split>();
  const afterInsert = async (lake: Db, loadId: string): Promise<void> => {
    const inserted = new Map((await lake.all<{ f: number; n: number }>(
      `SELECT m.f, count(*)::INTEGER AS n FROM ${raw} r JOIN imp_lines m ON m.staged_line = r._source_line WHERE r._load_id = $load GROUP BY ALL`,
      { load: loadId })).map((r) => [r.f, r.n]));
    // Quarantined rows per file and rule (a row counts once per rule, as validate's failures_by_rule counts them;
    // a schema's named rule is in the message as "(rule NAME)").
    const rules = await lake.all<{ f: number; rule: string; n: number }>(
      `SELECT f, rule, count(DISTINCT line)::INTEGER AS n FROM (
         SELECT m.f, q.line, coalesce(nullif(regexp_extract(q.e.message, '\\(rule ([^()]+)\\)$', 1), ''), q.e.keyword) AS rule FROM (
           SELECT line, unnest(from_json(errors, '[{"keyword":"VARCHAR","message":"VARCHAR"}]')) AS e FROM quarantine WHERE load_id = $load) q
         JOIN imp_lines m ON m.staged_line = q.line)
       GROUP BY ALL ORDER BY f, n DESC, rule`,
      { load: loadId },
    );
    const quarantined = new Map((await lake.all<{ f: number; n: number }>(
      `SELECT m.f, count(*)::INTEGER AS n FROM quarantine q JOIN imp_lines m ON m.staged_line = q.line WHERE q.load_id = $load GROUP BY ALL`,
      { load: loadId })).map((r) => [r.f, r.n]));
    await lake.run(
      `UPDATE ${raw} r SET _load_id = m.load_id, _source_file = m.path, _source_line = m._line${lineage ? ', original_value = m.original_value, original_unit = m.original_unit, original_code = m.original_code' : ''}
       FROM (SELECT l.*, bf.load_id, bf.path FROM imp_lines l JOIN imp_batch_files bf USING (f)) m
       WHERE r._load_id = $load AND r._source_line = m.staged_line`,
      { load: loadId },
    );
    await lake.run(
      `UPDATE quarantine q SET load_id = m.load_id, file = m.path, line = m._line, "row" = m._row
       FROM (SELECT l.*, bf.load_id, bf.path FROM imp_lines l JOIN imp_batch_files bf USING (f)) m
       WHERE q.load_id = $load AND q.line = m.staged_line`,
      { load: loadId },
    );
    await lake.run(
      `INSERT INTO quarantine (load_id, file, line, "row", dataset, raw, errors, rule, quarantined_at)
       SELECT bf.load_id, bf.path, q.line, q."row", $ds, q.raw, q.errors, q.rule, now()
       FROM ${BATCH_QUARANTINE} q JOIN imp_batch_files bf USING (f) ORDER BY q.f, q.line, q."row"`,
      { ds: ds.name },
    );
    const ledger = files.map((x) => {
      const ok = okRows.get(x.f) ?? 0;
      const ins = inserted.get(x.f) ?? 0;
      const vq = quarantined.get(x.f) ?? 0;
      const out: Split = {
        rows_read: ok + x.nq, rows_inserted: ins, rows_duplicate: ok - ins - vq, rows_quarantined: vq + x.nq,
        quarantine_path: vq + x.nq > 0 ? x.qfile : null, rules: {},
      };
      for (const r of rules) if (r.f === x.f) out.rules[r.rule] = r.n;
      split.set(x.f, out);
      return { load_id: x.load_id, path: x.path, sha256: x.sha256, bytes: x.bytes, read: out.rows_read, inserted: ins,
        duplicate: out.rows_duplicate, quarantined: out.rows_quarantined, qfile: out.quarantine_path };
    });
    await lake.run(
      `INSERT INTO loads (load_id, path, sha256, bytes, dataset, started_at, finished_at, status, rows_read, rows_inserted,
         rows_duplicate, rows_quarantined, engine, message, quarantine_file)
       SELECT r.load_id, r.path, r.sha256, r.bytes, b.dataset, b.started_at, b.finished_at, 'succeeded', r.read, r.inserted,
         r.duplicate, r.quarantined, b.engine, b.message, r.qfile
       FROM (SELECT unnest(CAST(CAST($rows AS JSON) AS STRUCT(load_id VARCHAR, path VARCHAR, sha256 VARCHAR, bytes BIGINT, "read" BIGINT,
               inserted BIGINT, duplicate BIGINT, quarantined BIGINT, qfile VARCHAR)[])) AS r),
            (SELECT * FROM loads WHERE load_id = $load) b`,
      { rows: JSON.stringify(ledger), load: loadId },
    );
    await lake.run('DELETE FROM loads WHERE load_id = $load', { load: loadId });
  };
  // The group's own load events would name a file that is not the user's: each file gets its file-done instead.
  const onEvent = opts.onEvent && ((e: LoadEvent): void => {
    if (e.type !== 'file-start' && e.type !== 'file-progress' && e.type !== 'file-done' && e.type !== 'file-skipped') opts.onEvent?.(e);
  });
  const display = group.length === 1 ? first.p.display : `${first.p.display} and ${group.length - 1} more (one import load)`;
  const loadOpts = {
    lake: opts.lake, force: true, allowOrphans: opts.allowOrphans, quarantineDir: opts.quarantineDir, cwd: opts.cwd,
    onEvent, signal: opts.signal, atStep: opts.atStep,
  };
  const load = await loadOneFile(db, { path: staged, display, ds }, loadOpts, { format: 'ndjson', afterInsert });
  rmSync(staged, { force: true });
  if (load.status !== 'succeeded') {
    if (group.length > 1) {
      // Refused as a whole: its ledger row goes, and each file is loaded alone for its own verdict.
      await db.run("DELETE FROM loads WHERE load_id = $load AND status = 'failed'", { load: load.load_id });
      for (const bf of group) await loadGroup(s, ds, [bf], opts);
      return;
    }
    Object.assign(first.result, { status: 'failed', message: load.message, load });
    return;
  }
  opts.atStep?.('after-load');
  // The quarantine files are derived copies of the table (the load leaves them to us since the hook changed the rows):
  // written from the committed rows; after a kill here the next run's restoreQuarantineFiles writes them.
  if ([...split.values()].some((x) => x.quarantine_path !== null)) await restoreQuarantineFiles(db, {});
  for (const [i, bf] of group.entries()) {
    const x = split.get(bf.f) as Split;
    const byRule = { ...x.rules };
    addTo(byRule, bf.counts.quarantined_by_keyword);
    const fileLoad: FileLoadResult = {
      load_id: (files[i] as { load_id: string }).load_id, path: bf.p.display, dataset: ds.name, status: 'succeeded', sha256: bf.sha.sha256,
      bytes: bf.sha.bytes, rows_read: x.rows_read, rows_inserted: x.rows_inserted, rows_duplicate: x.rows_duplicate,
      rows_quarantined: x.rows_quarantined, quarantine_path: x.quarantine_path, engine: load.engine, message: load.message, failures_by_rule: byRule,
    };
    Object.assign(bf.result, { status: 'loaded', message: load.message, load: fileLoad });
    opts.onEvent?.({ type: 'file-done', result: fileLoad });
  }
}

/** The counts of one input of import's --max-invalid gate (overMaxInvalid in core/load/gate.ts). */
export interface GateInput {
  path: string;
  status: 'succeeded' | 'skipped' | 'failed';
  rows_read: number;
  rows_quarantined: number;
}

/**
 * What import's --max-invalid gate counts: each load's rows, and the resources that no load could take (unreadable:
 * in no load, but invalid input all the same), added to the first load of their file, or an input of their own
 * when their file made no load.
 */
export function gateInputs<L extends GateInput>(loads: L[], unreadable: ImportResult['unreadable']): GateInput[] {
  const byFile = new Map<string, number>();
  for (const u of unreadable) byFile.set(u.file, (byFile.get(u.file) ?? 0) + 1);
  const inputs: GateInput[] = loads.map((l) => {
    const n = byFile.get(l.path) ?? 0;
    byFile.delete(l.path);
    return n === 0 ? l : { ...l, rows_read: l.rows_read + n, rows_quarantined: l.rows_quarantined + n };
  });
  for (const [path, n] of byFile) inputs.push({ path, status: 'succeeded', rows_read: n, rows_quarantined: n });
  return inputs;
}
