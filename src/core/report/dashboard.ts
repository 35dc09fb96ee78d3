// Chart data for the HTML report and --format vega-lite, aggregated in SQL (small results): hourly vitals, NEWS2
// and each parameter's score per patient, the risk-level distribution, alerts per procedure and per robot, data
// quality over loads, and the stay gap from the rules the lakehouse was transformed with. chart-specs.ts turns
// it into Vega-Lite.
import type { DuckDBValue } from '@duckdb/node-api';
import type { Db } from '../../db/db.js';
import { alertLevelCountsSql, NEWS2_SCORE_COLUMN, RISK_LEVELS, RISK_LEVELS_SQL } from '../domain.js';
import { listRelations, readRows } from '../read/lakehouse.js';
import type { ReportFilters } from './filters.js';

export { readRows } from '../read/lakehouse.js';

export interface PatientVitals {
  patient_id: string;
  /** NEWS2 per hour, in time order. hour_start ISO 8601 UTC. */
  news2: { hour_start: string; news2_total: number | null; news2_band: string | null }[];
  /** Hourly averages per metric, in time order, with the hour's NEWS2 score for that parameter (0-3, or null). */
  metrics: { metric: string; points: { hour_start: string; avg: number | null; score: number | null }[] }[];
}

export interface LevelCounts {
  medium: number;
  high: number;
  critical: number;
}

export interface RiskLevelCount {
  level: string;
  events: number;
}

export interface LoadQuality {
  load_id: string;
  dataset: string;
  /** ISO 8601 UTC. */
  started_at: string;
  rows_inserted: number;
  rows_duplicate: number;
  rows_quarantined: number;
}

export interface Dashboard {
  vitals?: PatientVitals[];
  /** Hours without a reading that end a stay (a new chart column), from the rules in force (kpis.stay_gap_h). */
  stayGapHours?: number;
  riskLevels?: RiskLevelCount[];
  alertsByProcedure?: (LevelCounts & { procedure_id: string })[];
  alertsByRobot?: (LevelCounts & { robot_id: string })[];
  dataQuality?: LoadQuality[];
}

/** The stay gap when the lakehouse's rules do not say (kpis.stay_gap_h in the rules file). */
export const DEFAULT_STAY_GAP_HOURS = 12;

export type ChartKind = 'vitals' | 'risk' | 'alerts' | 'quality';

/** Metrics drawn per patient (avg per hour), in this order. */
export const CHART_METRICS = ['heart_rate', 'resp_rate', 'spo2', 'systolic_bp', 'temperature_c'] as const;
/** Patients drawn when no --patient is given: the highest NEWS2 first. */
export const CHART_PATIENTS = 6;
const CHART_BARS = 15;

function conds(f: ReportFilters, cols: { patient?: string; procedure?: string; robot?: string; time?: string }): { where: string; params: Record<string, DuckDBValue> } {
  const c: string[] = [];
  const params: Record<string, DuckDBValue> = {};
  if (f.patient !== undefined && cols.patient) (c.push(`${cols.patient} = $patient`), (params.patient = f.patient));
  if (f.procedure !== undefined && cols.procedure) (c.push(`${cols.procedure} = $procedure`), (params.procedure = f.procedure));
  if (f.robot !== undefined && cols.robot) (c.push(`${cols.robot} = $robot`), (params.robot = f.robot));
  if (f.since !== undefined && cols.time) (c.push(`${cols.time} >= CAST($since AS TIMESTAMPTZ)`), (params.since = f.since));
  if (f.until !== undefined && cols.time) (c.push(`${cols.time} < CAST($until AS TIMESTAMPTZ)`), (params.until = f.until));
  return { where: c.length ? ` WHERE ${c.join(' AND ')}` : '', params };
}

async function loadVitals(db: Db, f: ReportFilters): Promise<PatientVitals[]> {
  const { where, params } = conds(f, { patient: 'patient_id', time: 'hour_start' });
  const chosen = await readRows(
    db,
    `SELECT patient_id FROM news2_hourly${where} GROUP BY patient_id
     ORDER BY max(news2_total) DESC NULLS LAST, patient_id LIMIT ${CHART_PATIENTS}`,
    params,
  );
  const out: PatientVitals[] = [];
  for (const row of chosen) {
    const patient = String(row.patient_id);
    const p = conds({ ...f, patient }, { patient: 'patient_id', time: 'hour_start' });
    const news2 = await readRows<PatientVitals['news2'][number]>(db, `SELECT hour_start, news2_total, news2_band FROM news2_hourly${p.where} ORDER BY hour_start`, p.params);
    const pv = conds({ ...f, patient }, { patient: 'v.patient_id', time: 'v.hour_start' });
    const scores = Object.entries(NEWS2_SCORE_COLUMN)
      .filter(([m]) => (CHART_METRICS as readonly string[]).includes(m))
      .map(([m, col]) => `WHEN '${m}' THEN n.${col}`)
      .join(' ');
    const vit = await readRows(
      db,
      `SELECT v.metric, v.hour_start, v.avg, CASE v.metric ${scores} END AS score
       FROM vitals_hourly AS v LEFT JOIN news2_hourly AS n ON n.patient_id = v.patient_id AND n.hour_start = v.hour_start
       ${pv.where} AND v.metric IN (${CHART_METRICS.map((m) => `'${m}'`).join(', ')})
       ORDER BY v.metric, v.hour_start`,
      pv.params,
    );
    out.push({
      patient_id: patient,
      news2,
      metrics: CHART_METRICS.map((metric) => ({
        metric,
        points: vit
          .filter((v) => v.metric === metric)
          .map((v) => ({ hour_start: String(v.hour_start), avg: v.avg as number | null, score: v.score as number | null })),
      })).filter((m) => m.points.length > 0),
    });
  }
  return out;
}

const LEVEL_COUNTS = alertLevelCountsSql('::INTEGER');

/** Loads the chart data for `kinds`, honouring the id and time filters. Charts whose tables are absent are left out. */
export async function loadDashboard(db: Db, f: ReportFilters, kinds: readonly ChartKind[]): Promise<Dashboard> {
  const have = new Set(await listRelations(db));
  const d: Dashboard = {};
  if (kinds.includes('vitals') && have.has('news2_hourly') && have.has('vitals_hourly')) {
    d.vitals = await loadVitals(db, f);
    d.stayGapHours = DEFAULT_STAY_GAP_HOURS;
    if (have.has('rules_in_force')) {
      const rows = await readRows(db, "SELECT value FROM rules_in_force WHERE path = 'kpis.stay_gap_h'");
      const gap = Number(rows[0]?.value);
      if (Number.isFinite(gap) && gap > 0) d.stayGapHours = gap;
    }
  }
  if (kinds.includes('risk') && have.has('telemetry_risk')) {
    // Without a patient, robot or time filter the events per level are telemetry_summary's sums (a few rows per
    // procedure), the same counts without a scan of every telemetry_risk row (issue 18: reports < 1 s at 25M rows).
    const summed = have.has('telemetry_summary') && f.patient === undefined && f.robot === undefined && f.since === undefined && f.until === undefined;
    const { where, params } = summed
      ? conds(f, { procedure: 'procedure_id' })
      : conds(f, { patient: 'patient_id', procedure: 'procedure_id', robot: 'robot_id', time: 'recorded_at' });
    const counts = summed
      ? `SELECT unnest(${RISK_LEVELS_SQL}) AS risk_level, unnest([${RISK_LEVELS.map((l) => `s.n_${l}`).join(', ')}]) AS events
         FROM (SELECT ${RISK_LEVELS.map((l) => `sum(events_${l}) AS n_${l}`).join(', ')} FROM telemetry_summary${where}) AS s`
      : `SELECT risk_level, count(*) AS events FROM telemetry_risk${where} GROUP BY risk_level`;
    d.riskLevels = await readRows<RiskLevelCount>(
      db,
      `SELECT l.level, coalesce(c.events, 0)::INTEGER AS events
       FROM (SELECT unnest(${RISK_LEVELS_SQL}) AS level, generate_subscripts(${RISK_LEVELS_SQL}, 1) AS ord) AS l
       LEFT JOIN (${counts}) AS c ON c.risk_level = l.level
       ORDER BY l.ord`,
      params,
    );
  }
  if (kinds.includes('alerts') && have.has('alerts')) {
    const { where, params } = conds(f, { patient: 'patient_id', procedure: 'procedure_id', robot: 'robot_id', time: '"at"' });
    d.alertsByProcedure = await readRows<LevelCounts & { procedure_id: string }>(
      db,
      `SELECT procedure_id, ${LEVEL_COUNTS} FROM alerts${where} GROUP BY procedure_id
       ORDER BY count(*) FILTER (WHERE level = 'critical') DESC, count(*) DESC, procedure_id LIMIT ${CHART_BARS}`,
      params,
    );
    d.alertsByRobot = await readRows<LevelCounts & { robot_id: string }>(
      db,
      `SELECT robot_id, ${LEVEL_COUNTS} FROM alerts${where} GROUP BY robot_id
       ORDER BY count(*) FILTER (WHERE level = 'critical') DESC, count(*) DESC, robot_id LIMIT ${CHART_BARS}`,
      params,
    );
  }
  if (kinds.includes('quality') && have.has('loads')) {
    const { where, params } = conds(f, { time: 'started_at' });
    d.dataQuality = await readRows<LoadQuality>(
      db,
      `SELECT load_id, dataset, started_at, rows_inserted::DOUBLE AS rows_inserted, rows_duplicate::DOUBLE AS rows_duplicate,
              rows_quarantined::DOUBLE AS rows_quarantined FROM loads${where} ORDER BY started_at, load_id`,
      params,
    );
  }
  return d;
}
