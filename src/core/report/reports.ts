// The reports: each one SELECT over the marts (see the README's JSON contracts), its filters bound as
// parameters, a stable ORDER BY, and the columns exactly as documented. Types stay native here (TIMESTAMPTZ,
// BIGINT) so Parquet and Arrow outputs keep them; text outputs convert through read/values.ts.
import type { DuckDBValue } from '@duckdb/node-api';
import { UsageError } from '../../errors.js';
import type { ChartKind } from './dashboard.js';
import { alertLevelCountsSql, NEWS2_SCORE_COLUMNS, RISK_LEVEL_RANK, riskLevelRankSql } from '../domain.js';
import { FILTER_FLAGS, Where, containsPattern, type FilterName, type ReportFilters } from './filters.js';

export const REPORT_NAMES = [
  'summary', 'patient-risk', 'procedure-risk', 'top-alerts', 'vitals-hourly', 'news2', 'trends', 'robot-kpis',
  'outcomes', 'data-quality', 'timeline', 'search',
] as const;
export type ReportName = (typeof REPORT_NAMES)[number];

export interface BuiltQuery {
  sql: string;
  params: Record<string, DuckDBValue>;
}

export interface ReportDefinition {
  name: ReportName;
  title: string;
  /** One line for --help. */
  description: string;
  /** Tables the report reads; a missing one is a usage error (run transform). */
  tables: readonly string[];
  /** The filters it understands; any other given filter is a usage error. */
  filters: readonly FilterName[];
  /** The row limit when neither --limit nor --all is given (none when absent); index.ts prepare() applies it. */
  defaultLimit?: number;
  /** Charts in its HTML page. */
  charts: readonly ChartKind[];
  /** Free-text columns: a terminal table shows them last and elides or wraps them (ids and instants never). */
  textColumns: readonly string[];
  /** Columns most important first, when a terminal is too narrow for all (default: ids and instants, then in order). */
  priority?: readonly string[];
  /** The query, ending in its ORDER BY; the row limit is added by prepare() in index.ts, where it is decided. */
  build(f: ReportFilters): BuiltQuery;
}

/**
 * The default limit of the reports with a row per patient-hour, reading or event (issue 18): at 25M telemetry rows
 * vitals-hourly alone is over a million rows, which no terminal reader wants by default and which took seconds to
 * render as JSON. `--limit N` or `--all` give more (JSON consumers: `--all`), as export gives every mart row.
 */
export const ROW_HEAVY_LIMIT = 1000;

/** Binds the common id filters on a relation's columns (only those the report allows are ever set). */
function ids(w: Where, f: ReportFilters, prefix = ''): Where {
  if (f.patient !== undefined) w.add(`${prefix}patient_id = $patient`, 'patient', f.patient);
  if (f.procedure !== undefined) w.add(`${prefix}procedure_id = $procedure`, 'procedure', f.procedure);
  if (f.robot !== undefined) w.add(`${prefix}robot_id = $robot`, 'robot', f.robot);
  return w;
}

function window(w: Where, f: ReportFilters, column: string): Where {
  if (f.since !== undefined) w.add(`${column} >= CAST($since AS TIMESTAMPTZ)`, 'since', f.since);
  if (f.until !== undefined) w.add(`${column} < CAST($until AS TIMESTAMPTZ)`, 'until', f.until);
  return w;
}

/** SQL fragment for the time/level conditions of one UNION branch, reusing the already-bound parameters. */
function branch(f: ReportFilters, time: string, rank: string | undefined, idCols: { patient?: string; procedure?: string; robot?: string }): string {
  const c: string[] = [];
  if (f.patient !== undefined && idCols.patient) c.push(`${idCols.patient} = $patient`);
  if (f.procedure !== undefined && idCols.procedure) c.push(`${idCols.procedure} = $procedure`);
  if (f.robot !== undefined && idCols.robot) c.push(`${idCols.robot} = $robot`);
  if (f.since !== undefined) c.push(`${time} >= CAST($since AS TIMESTAMPTZ)`);
  if (f.until !== undefined) c.push(`${time} < CAST($until AS TIMESTAMPTZ)`);
  if (f.minLevel !== undefined && rank) c.push(`${rank} >= $min_rank`);
  return c.length === 0 ? '' : c.join(' AND ');
}

function bindCommon(f: ReportFilters): Record<string, DuckDBValue> {
  const p: Record<string, DuckDBValue> = {};
  if (f.patient !== undefined) p.patient = f.patient;
  if (f.procedure !== undefined) p.procedure = f.procedure;
  if (f.robot !== undefined) p.robot = f.robot;
  if (f.since !== undefined) p.since = f.since;
  if (f.until !== undefined) p.until = f.until;
  if (f.minLevel !== undefined) p.min_rank = RISK_LEVEL_RANK[f.minLevel];
  return p;
}

const and = (...parts: string[]): string => {
  const kept = parts.filter((p) => p !== '');
  return kept.length === 0 ? '' : ` AND ${kept.join(' AND ')}`;
};

// telemetry_summary (a small mart: one row per procedure and latency value) holds what this needs from the
// millions of telemetry_risk rows: summed over procedures, the event count, mean risk, error rate, the events per
// level and the fleet p95 latency as an exact nearest-rank quantile over the latency histogram (deterministic,
// unlike approx_quantile). The sums are integers, so the result is the same as from telemetry_risk itself.
const SUMMARY_SQL = `
WITH g AS (
  SELECT latency_ms AS v, sum(events) AS c, sum(risk_sum) AS rs, sum(risk_n) AS rn, sum(errors) AS e
  FROM telemetry_summary GROUP BY latency_ms),
t AS (SELECT sum(c) AS events, sum(rs) / nullif(sum(rn), 0) AS avg_risk, sum(e) AS errors FROM g),
lv AS (
  SELECT coalesce(sum(events_none), 0) AS n_none, coalesce(sum(events_low), 0) AS n_low, coalesce(sum(events_medium), 0) AS n_medium,
         coalesce(sum(events_high), 0) AS n_high, coalesce(sum(events_critical), 0) AS n_critical FROM telemetry_summary),
lat AS (SELECT v, c FROM g WHERE v IS NOT NULL),
p95 AS (
  SELECT min(v) AS p95_latency_ms FROM (SELECT v, sum(c) OVER (ORDER BY v) AS cum, sum(c) OVER () AS n FROM lat) WHERE cum >= 0.95 * n),
a AS (
  SELECT ${alertLevelCountsSql()} FROM alerts),
l AS (
  SELECT count(*) FILTER (WHERE status = 'succeeded') AS ok, count(*) FILTER (WHERE status = 'failed') AS failed,
         coalesce(sum(rows_inserted), 0) AS inserted, coalesce(sum(rows_quarantined), 0) AS quarantined FROM loads),
n AS (
  SELECT max(news2_total) AS max_news2, count(*) FILTER (WHERE news2_band = 'high') AS high_hours,
         count(DISTINCT patient_id) FILTER (WHERE news2_band = 'high') AS high_patients FROM news2_hourly),
o AS (
  SELECT sum(success_rate * procedures) / nullif(sum(procedures), 0) AS success_rate,
         sum(readmission_rate * procedures) / nullif(sum(procedures), 0) AS readmission_rate FROM outcomes_by_type),
metrics(ord, area, metric, value) AS (
  SELECT * FROM (VALUES
    (1, 'lakehouse', 'loads_succeeded', (SELECT ok FROM l)::DOUBLE),
    (2, 'lakehouse', 'loads_failed', (SELECT failed FROM l)::DOUBLE),
    (3, 'lakehouse', 'rows_inserted', (SELECT inserted FROM l)::DOUBLE),
    (4, 'lakehouse', 'rows_quarantined', (SELECT quarantined FROM l)::DOUBLE),
    (5, 'telemetry', 'events', (SELECT events FROM t)::DOUBLE),
    (6, 'telemetry', 'procedures', (SELECT count(*) FROM procedure_risk)::DOUBLE),
    (7, 'telemetry', 'patients', (SELECT count(*) FROM patient_risk)::DOUBLE),
    (8, 'telemetry', 'robots', (SELECT count(*) FROM robot_kpis)::DOUBLE),
    (9, 'telemetry', 'avg_risk', (SELECT avg_risk FROM t)::DOUBLE),
    (10, 'telemetry', 'p95_latency_ms', (SELECT p95_latency_ms FROM p95)::DOUBLE),
    (11, 'telemetry', 'error_rate', (SELECT errors / nullif(events, 0) FROM t)::DOUBLE),
    (12, 'risk', 'events_none', (SELECT n_none FROM lv)::DOUBLE),
    (13, 'risk', 'events_low', (SELECT n_low FROM lv)::DOUBLE),
    (14, 'risk', 'events_medium', (SELECT n_medium FROM lv)::DOUBLE),
    (15, 'risk', 'events_high', (SELECT n_high FROM lv)::DOUBLE),
    (16, 'risk', 'events_critical', (SELECT n_critical FROM lv)::DOUBLE),
    (17, 'alerts', 'alerts_medium', (SELECT medium FROM a)::DOUBLE),
    (18, 'alerts', 'alerts_high', (SELECT high FROM a)::DOUBLE),
    (19, 'alerts', 'alerts_critical', (SELECT critical FROM a)::DOUBLE),
    (20, 'alerts', 'alert_episodes', (SELECT count(*) FROM alert_episodes)::DOUBLE),
    (21, 'vitals', 'max_news2', (SELECT max_news2 FROM n)::DOUBLE),
    (22, 'vitals', 'patient_hours_news2_high', (SELECT high_hours FROM n)::DOUBLE),
    (23, 'vitals', 'patients_news2_high', (SELECT high_patients FROM n)::DOUBLE),
    (24, 'outcomes', 'success_rate', (SELECT success_rate FROM o)::DOUBLE),
    (25, 'outcomes', 'readmission_rate', (SELECT readmission_rate FROM o)::DOUBLE)
  ))
SELECT area, metric, value FROM metrics ORDER BY ord`;

/**
 * The step and error-code rows of report search (kind, ord, match, procedure_id, patient_id, robot_id, n, first_at,
 * last_at, alert_id, level): the events whose step or error code contains $pattern, grouped by that text and the
 * procedure, patient and robot. telemetry_search holds exactly those groups (issue 17), so with at most id filters
 * they are read from it: a few rows per procedure instead of a scan of every telemetry_risk row (issue 18: reports
 * < 1 s at 25M rows). A time window or a minimum level filters the events themselves, which only telemetry_risk has;
 * the texts that match are then taken from telemetry_search, so the ILIKE runs over its few rows per procedure and
 * the events are picked by equality, a filter DuckDB pushes into the scan (about a third less CPU at 5M rows).
 */
function searchGroups(f: ReportFilters): string {
  const idCols = { patient: 'patient_id', procedure: 'procedure_id', robot: 'robot_id' };
  if (f.since === undefined && f.until === undefined && f.minLevel === undefined) {
    return `SELECT kind, CASE kind WHEN 'step' THEN 1 ELSE 2 END AS ord, match, procedure_id, patient_id, robot_id, n, first_at, last_at,
                 NULL::VARCHAR AS alert_id, NULL::VARCHAR AS level
          FROM telemetry_search WHERE match ILIKE $pattern ESCAPE '\\'${and(branch(f, 'first_at', undefined, idCols))}`;
  }
  const ev = branch(f, 'recorded_at', riskLevelRankSql('risk_level'), idCols);
  const grouped = (column: string, order: number): string => `
          SELECT '${column}' AS kind, ${order} AS ord, ${column} AS match, procedure_id, patient_id, robot_id, count(*) AS n,
                 min(recorded_at) AS first_at, max(recorded_at) AS last_at, NULL::VARCHAR AS alert_id, NULL::VARCHAR AS level
          FROM telemetry_risk
          WHERE ${column} IN (SELECT match FROM telemetry_search WHERE kind = '${column}' AND match ILIKE $pattern ESCAPE '\\')${and(ev)}
          GROUP BY ${column}, procedure_id, patient_id, robot_id`;
  return `${grouped('step', 1)}
          UNION ALL
          ${grouped('error_code', 2)}`;
}

const DEFINITIONS: ReportDefinition[] = [
  {
    name: 'summary',
    title: 'Summary',
    description: 'an overview of everything: loads, telemetry, risk levels, alerts, NEWS2, outcomes',
    tables: ['loads', 'telemetry_summary', 'alerts', 'alert_episodes', 'news2_hourly', 'patient_risk', 'procedure_risk', 'robot_kpis', 'outcomes_by_type'],
    filters: [],
    charts: ['vitals', 'risk', 'alerts', 'quality'],
    textColumns: [],
    build: () => ({ sql: SUMMARY_SQL, params: {} }),
  },
  {
    name: 'patient-risk',
    title: 'Patient risk',
    description: 'per patient: events, average risk, p95 latency, critical alerts, max NEWS2 (riskiest first)',
    tables: ['patient_risk'],
    filters: ['patient', 'limit'],
    charts: ['risk', 'alerts'],
    textColumns: [],
    build: (f) => {
      const w = ids(new Where(), { patient: f.patient });
      const sql = `SELECT patient_id, events, avg_risk, p95_latency_ms, critical_alerts, max_news2 FROM patient_risk${w.sql()}
        ORDER BY critical_alerts DESC NULLS LAST, avg_risk DESC NULLS LAST, patient_id`;
      return { sql, params: w.params };
    },
  },
  {
    name: 'procedure-risk',
    title: 'Procedure risk',
    description: 'per procedure: events, average risk, p95 latency, critical alerts, max NEWS2, duration, outcome',
    tables: ['procedure_risk'],
    filters: ['patient', 'procedure', 'robot', 'limit'],
    charts: ['risk', 'alerts'],
    textColumns: [],
    build: (f) => {
      const w = ids(new Where(), f);
      const sql = `SELECT procedure_id, patient_id, robot_id, procedure_type, events, avg_risk, p95_latency_ms, critical_alerts,
          max_news2, duration_min, outcome FROM procedure_risk${w.sql()}
        ORDER BY critical_alerts DESC NULLS LAST, avg_risk DESC NULLS LAST, procedure_id`;
      return { sql, params: w.params };
    },
  },
  {
    name: 'top-alerts',
    title: 'Top alerts',
    description: 'the highest-risk alerts, then the earliest (default: 20)',
    tables: ['alerts'],
    filters: ['patient', 'procedure', 'robot', 'since', 'until', 'minLevel', 'limit'],
    defaultLimit: 20,
    charts: ['risk', 'alerts'],
    textColumns: ['reason'],
    build: (f) => {
      const w = window(ids(new Where(), f), f, '"at"');
      if (f.minLevel !== undefined) w.add('level_rank >= $min_rank', 'min_rank', RISK_LEVEL_RANK[f.minLevel]);
      const sql = `SELECT alert_id, level, risk_score, procedure_id, patient_id, robot_arm, step, "at", reason FROM alerts${w.sql()}
        ORDER BY risk_score DESC, "at", alert_id`;
      return { sql, params: w.params };
    },
  },
  {
    name: 'vitals-hourly',
    title: 'Hourly vitals',
    description: 'per patient, metric and hour: n, min, max, avg, p95, readings alarming but possible',
    tables: ['vitals_hourly'],
    filters: ['patient', 'since', 'until', 'limit'],
    defaultLimit: ROW_HEAVY_LIMIT,
    charts: ['vitals'],
    textColumns: [],
    build: (f) => {
      const w = window(ids(new Where(), { patient: f.patient }), f, 'hour_start');
      const sql = `SELECT patient_id, metric, hour_start, n, min, max, avg, p95, alarming_n FROM vitals_hourly${w.sql()}
        ORDER BY patient_id, metric, hour_start`;
      return { sql, params: w.params };
    },
  },
  {
    name: 'news2',
    title: 'NEWS2 by hour',
    description: 'per patient and hour: NEWS2 total, band (incomplete when a parameter is missing), missing parameters, each parameter score, parameters present and the alert',
    tables: ['news2_hourly'],
    filters: ['patient', 'since', 'until', 'limit'],
    defaultLimit: ROW_HEAVY_LIMIT,
    charts: ['vitals'],
    textColumns: ['missing'],
    build: (f) => {
      const w = window(ids(new Where(), { patient: f.patient }), f, 'hour_start');
      const sql = `SELECT patient_id, hour_start, news2_total, news2_band, missing, ${NEWS2_SCORE_COLUMNS.join(', ')}, parameters_present, news2_alert
        FROM news2_hourly${w.sql()}
        ORDER BY patient_id, hour_start`;
      return { sql, params: w.params };
    },
  },
  {
    name: 'trends',
    title: 'Vital-sign trends',
    description: 'per patient and metric: mean, coefficient of variation, slope per hour, trend',
    tables: ['trends'],
    filters: ['patient', 'limit'],
    charts: ['vitals'],
    textColumns: [],
    build: (f) => {
      const w = ids(new Where(), { patient: f.patient });
      const sql = `SELECT patient_id, metric, n, mean, cv, slope_per_h, trend FROM trends${w.sql()}
        ORDER BY patient_id, metric`;
      return { sql, params: w.params };
    },
  },
  {
    name: 'robot-kpis',
    title: 'Robot KPIs',
    description: 'per robot: procedures, utilisation, downtime, maintenance cost, error rate',
    tables: ['robot_kpis'],
    filters: ['robot', 'limit'],
    charts: ['alerts'],
    textColumns: [],
    build: (f) => {
      const w = ids(new Where(), { robot: f.robot });
      const sql = `SELECT robot_id, model, facility_id, procedures, utilization_hours, downtime_hours, maintenance_cost_usd, error_rate
        FROM robot_kpis${w.sql()} ORDER BY robot_id`;
      return { sql, params: w.params };
    },
  },
  {
    name: 'outcomes',
    title: 'Outcomes by procedure type',
    description: 'per procedure type: success and readmission rates, length of stay, Clavien-Dindo grades',
    tables: ['outcomes_by_type'],
    filters: ['limit'],
    charts: [],
    textColumns: [],
    build: () => {
      const sql = `SELECT procedure_type, procedures, success_rate, readmission_rate, avg_length_of_stay_days, grade_none, grade_i,
          grade_ii, grade_iiia, grade_iiib, grade_iva, grade_ivb, grade_v FROM outcomes_by_type ORDER BY procedure_type`;
      return { sql, params: {} };
    },
  },
  {
    name: 'data-quality',
    title: 'Data quality by load',
    description: 'per load and failing rule: rows read, inserted, duplicate and quarantined',
    tables: ['loads', 'data_quality'],
    filters: ['since', 'until', 'limit'],
    charts: ['quality'],
    textColumns: ['path'],
    build: (f) => {
      const w = window(new Where(), f, 'l.started_at');
      const sql = `SELECT l.load_id, l.dataset, l.path, l.status, l.started_at, l.rows_read, l.rows_inserted, l.rows_duplicate,
          l.rows_quarantined, dq.rule, coalesce(dq."rows", 0) AS rule_rows
        FROM loads AS l LEFT JOIN data_quality AS dq ON dq.load_id = l.load_id${w.sql()}
        ORDER BY l.started_at, l.load_id, dq.rule NULLS FIRST`;
      return { sql, params: w.params };
    },
  },
  {
    name: 'timeline',
    title: 'Timeline',
    description: "one patient's or procedure's events, alerts and vitals in time order (--patient or --procedure)",
    tables: ['telemetry_risk', 'alerts', 'raw_vitals', 'raw_procedures'],
    filters: ['patient', 'procedure', 'since', 'until', 'minLevel', 'limit'],
    defaultLimit: ROW_HEAVY_LIMIT,
    charts: ['vitals'],
    textColumns: ['detail'],
    priority: ['at', 'kind', 'id', 'level', 'risk_score', 'procedure_id', 'step', 'patient_id', 'robot_arm', 'robot_id'],
    build: (f) => {
      if (f.patient === undefined && f.procedure === undefined) {
        throw new UsageError('report timeline needs --patient ID or --procedure ID', { hint: 'e.g. surgctl report timeline --patient PAT-0001' });
      }
      const params = bindCommon({ ...f, robot: undefined });
      const ev = branch(f, 'recorded_at', riskLevelRankSql('risk_level'), { patient: 'patient_id', procedure: 'procedure_id' });
      const al = branch(f, '"at"', 'level_rank', { patient: 'patient_id', procedure: 'procedure_id' });
      const vt = branch({ ...f, minLevel: undefined }, 'v.measured_at', undefined, { patient: 'v.patient_id' });
      // A procedure's vitals are its patient's readings from the start of the procedure to 24 h after its end
      // (the window procedure_risk takes max_news2 over): intra- and post-operative monitoring.
      const vitalsFrom =
        f.procedure === undefined
          ? 'raw_vitals AS v'
          : `raw_vitals AS v JOIN raw_procedures AS p ON p.procedure_id = $procedure AND v.patient_id = p.patient_id
               AND v.measured_at >= p.started_at AND v.measured_at < p.ended_at + INTERVAL 24 HOUR`;
      const sql = `SELECT "at", kind, id, procedure_id, patient_id, robot_id, robot_arm, step, level, risk_score, detail FROM (
          SELECT recorded_at AS "at", 'event' AS kind, 1 AS kind_order, event_id AS id, procedure_id, patient_id, robot_id, robot_arm,
                 step, risk_level AS level, risk_score,
                 instrument || ': force ' || coalesce(printf('%.2f N', force_n), 'not measured')
                   || ', velocity ' || coalesce(printf('%.1f mm/s', velocity_mm_s), 'not measured')
                   || ', latency ' || coalesce(printf('%.0f ms', latency_ms), 'not measured')
                   || coalesce(', error ' || nullif(error_code, ''), '') AS detail
          FROM telemetry_risk${ev === '' ? '' : ` WHERE ${ev}`}
          UNION ALL
          SELECT "at", 'alert', 2, alert_id, procedure_id, patient_id, robot_id, robot_arm, step, level, risk_score, reason
          FROM alerts${al === '' ? '' : ` WHERE ${al}`}
          UNION ALL
          SELECT v.measured_at, 'vital', 0, v.reading_id, ${f.procedure === undefined ? 'NULL' : 'p.procedure_id'}, v.patient_id, NULL, NULL,
                 NULL, NULL, NULL, concat_ws(' ', v.metric, round(v.value, 2)::VARCHAR, v.unit)
          FROM ${vitalsFrom}${vt === '' ? '' : ` WHERE ${vt}`}
        ) ORDER BY "at", kind_order, id`;
      return { sql, params };
    },
  },
  {
    name: 'search',
    title: 'Search',
    description: 'text across surgical steps, error codes and alert reasons (a prefix like "sutur" finds suturing)',
    tables: ['telemetry_search', 'telemetry_risk', 'alerts'],
    filters: ['text', 'patient', 'procedure', 'robot', 'since', 'until', 'minLevel', 'limit'],
    defaultLimit: 100,
    charts: [],
    textColumns: ['match'],
    priority: ['kind', 'procedure_id', 'patient_id', 'first_at', 'n', 'level', 'alert_id', 'robot_id', 'last_at'],
    build: (f) => {
      if (f.text === undefined || f.text.trim() === '') {
        throw new UsageError('report search needs the text to look for', { hint: 'e.g. surgctl report search sutur' });
      }
      const params = bindCommon(f);
      params.pattern = containsPattern(f.text);
      const idCols = { patient: 'patient_id', procedure: 'procedure_id', robot: 'robot_id' };
      const al = branch(f, '"at"', 'level_rank', idCols);
      const sql = `SELECT kind, match, procedure_id, patient_id, robot_id, n, first_at, last_at, alert_id, level FROM (
          ${searchGroups(f)}
          UNION ALL
          SELECT 'alert', 3, reason, procedure_id, patient_id, robot_id, 1, "at", "at", alert_id, level
          FROM alerts WHERE reason ILIKE $pattern ESCAPE '\\'${and(al)}
        ) ORDER BY ord, first_at, procedure_id, match, alert_id`;
      return { sql, params };
    },
  },
];

export function reportDefinition(name: string): ReportDefinition {
  const def = DEFINITIONS.find((d) => d.name === name);
  if (def === undefined) {
    throw new UsageError(`unknown report ${JSON.stringify(name)}`, { hint: `choose one of ${REPORT_NAMES.join(', ')}` });
  }
  return def;
}

export function listReports(): readonly ReportDefinition[] {
  return DEFINITIONS;
}

/** Throws UsageError when a filter was given that the report does not understand. */
export function checkFilters(def: ReportDefinition, f: ReportFilters): void {
  for (const key of Object.keys(f) as FilterName[]) {
    // --all lifts a default limit; on a report without one it changes nothing.
    if (f[key] === undefined || key === 'all' || def.filters.includes(key)) continue;
    const accepted = def.filters.map((k) => FILTER_FLAGS[k]).filter((k) => k !== 'TEXT');
    throw new UsageError(`report ${def.name} does not take ${FILTER_FLAGS[key] === 'TEXT' ? 'search text' : FILTER_FLAGS[key]}`, {
      field: FILTER_FLAGS[key],
      hint: accepted.length ? `it takes ${accepted.join(', ')}` : 'it takes no filters',
    });
  }
}
