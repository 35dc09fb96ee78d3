// `report`: run one named report over the marts, read-only, and emit it in any output format. Filters are
// checked before the database is opened; missing marts are a usage error that says to run transform.
import type { Db } from '../../db/db.js';
import { emitQuery, stagedOutput, streamQuery, type EmitResult, type EmitTarget } from '../export/emit.js';
import { provenance } from '../export/metadata.js';
import { listRelations, queryColumns, readRows, relationColumns, requireRelations } from '../read/lakehouse.js';
import type { StageContext } from '../stage.js';
import { collectRows, type MaterialisedResult } from '../read/result.js';
import { chartSpecs } from './chart-specs.js';
import { loadDashboard } from './dashboard.js';
import { parseFilters, type RawFilters, type ReportFilters } from './filters.js';
import { checkFilters, reportDefinition, type BuiltQuery, type ReportDefinition, type ReportName } from './reports.js';

export { REPORT_NAMES, listReports, reportDefinition, type ReportName, type ReportDefinition } from './reports.js';
export { RISK_LEVELS, parseFilters, type RawFilters, type ReportFilters, type RiskLevel } from './filters.js';
export type { Dashboard, ChartKind, PatientVitals } from './dashboard.js';
export { chartSpecs, splitStays, vitalsSpec } from './chart-specs.js';

/** One report and where it goes; the lakehouse (which must exist; opened read-only) is the context's. */
export interface ReportRequest {
  name: string;
  filters?: RawFilters | undefined;
  /** The clock for the page header's generation time (default: now). */
  now?: (() => Date) | undefined;
  /** Where the report goes (stdout through target.render, or --out). */
  target: EmitTarget;
}

export interface ReportOutcome extends EmitResult {
  report: ReportName;
  /** The report's default limit when it applied (no --limit, no --all): the rows stop there if there are more. */
  defaultLimit?: number | undefined;
}

interface Prepared {
  def: ReportDefinition;
  filters: ReportFilters;
  built: BuiltQuery;
  /** The default limit in force (the row limit came from the report's default, not from --limit). */
  defaultLimit: number | undefined;
}

/**
 * Checks the name and filters and builds the query with its row limit, bound as ` LIMIT $limit` after the report's
 * ORDER BY. Throws UsageError (unknown report, bad filter, timeline without an id, ...) before any database work.
 */
function prepare(name: string, raw: RawFilters | undefined): Prepared {
  const def = reportDefinition(name);
  const filters = parseFilters(raw ?? {});
  checkFilters(def, filters);
  const built = def.build(filters);
  // The one place the row limit is decided: --limit N; every row with --all; else the report's default (if any).
  const defaultLimit = filters.all === true || filters.limit !== undefined ? undefined : def.defaultLimit;
  const limit = filters.limit ?? defaultLimit;
  if (limit !== undefined) {
    built.sql = `${built.sql} LIMIT $limit`;
    built.params.limit = limit;
  }
  return { def, filters, built, defaultLimit };
}

function shown(f: ReportFilters): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(f)) if (v !== undefined) out[k] = String(v);
  return out;
}

/**
 * Runs report `name` on the lakehouse and writes it to `target` (stdout through target.render, or --out).
 * Throws UsageError for an unknown report, a bad or inapplicable filter, a missing lakehouse or missing marts;
 * OutputExistsError when --out exists without --force; QueryError when DuckDB fails.
 */
export async function runReport(req: ReportRequest, ctx: StageContext): Promise<ReportOutcome> {
  prepare(req.name, req.filters); // usage errors (e.g. timeline without an id) before the database is opened
  const staged = stagedOutput(req.target);
  return ctx.lake.withReader((db) => emitReport(db, req.name, req.filters, staged.target, req.now), { writePaths: staged.writePaths });
}

/**
 * runReport on an already-open database (the TUI, tests): the same checks, output and errors. A Parquet --out is
 * written by DuckDB, so on a sealed read-only handle its folder must be among the handle's writePaths.
 */
export async function emitReport(db: Db, name: string, raw: RawFilters | undefined, target: EmitTarget, now: () => Date = () => new Date()): Promise<ReportOutcome> {
  const { def, filters, built, defaultLimit } = prepare(name, raw);
  await requireRelations(db, def.tables, `report ${def.name}`);
  const withCharts = target.format === 'html' || target.format === 'vega-lite';
  const charts = withCharts ? chartSpecs(await loadDashboard(db, filters, def.charts)) : undefined;
  const about = target.format === 'html' ? await reportAbout(db, now()) : undefined;
  const kvMetadata =
    target.format === 'parquet'
      ? await provenance(db, { columns: await queryColumns(db, built.sql), extra: { surgctl_report: def.name, surgctl_filters: JSON.stringify(shown(filters)) } })
      : undefined;
  const spec = { name: def.name, title: def.title, sql: built.sql, params: built.params, charts, about, filters: shown(filters), textColumns: def.textColumns, priority: def.priority };
  const result = await emitQuery(db, spec, { ...target, kvMetadata });
  return { ...result, report: def.name, defaultLimit };
}

/**
 * Where and how a report page was made: generation time, lakehouse path, the last succeeded load and transform
 * run, the rules hash they ran with and the surgctl version (keys absent when the lakehouse does not say).
 */
export async function reportAbout(db: Db, at: Date): Promise<Record<string, string>> {
  const about: Record<string, string> = { generated_at: `${at.toISOString().slice(0, 19)}Z`, lakehouse: db.path };
  const have = new Set(await listRelations(db));
  if (have.has('loads')) {
    const rows = await readRows(db, "SELECT load_id FROM loads WHERE status = 'succeeded' ORDER BY started_at DESC, load_id DESC LIMIT 1");
    if (rows[0]?.load_id != null) about.last_load_id = String(rows[0].load_id);
  }
  const kv = await provenance(db, { columns: [] });
  if (have.has('transform_runs')) {
    const cols = new Set((await relationColumns(db, 'transform_runs')).map((c) => c.name));
    if (cols.has('run_id') && cols.has('status') && cols.has('started_at')) {
      const rows = await readRows(db, "SELECT run_id FROM transform_runs WHERE status = 'succeeded' ORDER BY started_at DESC, run_id DESC LIMIT 1");
      if (rows[0]?.run_id != null) about.last_transform_run_id = String(rows[0].run_id);
    }
  }
  if (kv.surgctl_rules_version !== undefined) about.rules_version = kv.surgctl_rules_version;
  if (kv.surgctl_rules_sha256 !== undefined) about.rules_sha256 = kv.surgctl_rules_sha256;
  about.surgctl_version = kv.surgctl_version ?? '';
  return about;
}

/** Runs a report on an already-open database and returns all its rows (for the TUI and tests; use --limit). */
export async function readReport(db: Db, name: string, raw?: RawFilters): Promise<MaterialisedResult> {
  const { def, built } = prepare(name, raw);
  await requireRelations(db, def.tables, `report ${def.name}`);
  return collectRows(await streamQuery(db, { name: def.name, title: def.title, sql: built.sql, params: built.params }));
}
