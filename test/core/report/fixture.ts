// A small hand-made lakehouse built to the mart contract (/tmp/contracts.md, "Marts written by transform"):
// raw tables from the dataset schemas, the ledger and quarantine, and every mart, filled with a few rows
// through bound parameters. Shared by the report, export and query tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultModelsDir } from '../../../src/core/transform/models.js';
import { afterAll, beforeAll } from 'vitest';
import { openDb, type Db } from '../../../src/db/db.js';
import { ident } from '../../../src/db/sql.js';
import { rawTableDdl } from '../../../src/core/load/raw-tables.js';
import { listDatasets, loadDatasetSchema } from '../../../src/core/schemas.js';
import { tempDir } from '../../helpers/run-cli.js';

type Value = string | number | boolean | null | string[];
type Row = Record<string, Value>;

/** Mart and ledger columns with their DuckDB types, as the contract lists them. */
export const MART_COLUMNS: Record<string, [string, string][]> = {
  loads: [
    ['load_id', 'VARCHAR'], ['path', 'VARCHAR'], ['sha256', 'VARCHAR'], ['bytes', 'BIGINT'], ['dataset', 'VARCHAR'],
    ['started_at', 'TIMESTAMPTZ'], ['finished_at', 'TIMESTAMPTZ'], ['status', 'VARCHAR'], ['rows_read', 'BIGINT'],
    ['rows_inserted', 'BIGINT'], ['rows_duplicate', 'BIGINT'], ['rows_quarantined', 'BIGINT'],
  ],
  quarantine: [
    ['load_id', 'VARCHAR'], ['file', 'VARCHAR'], ['line', 'BIGINT'], ['row', 'BIGINT'], ['dataset', 'VARCHAR'], ['raw', 'VARCHAR'],
    ['errors', 'VARCHAR'], ['rule', 'VARCHAR'], ['quarantined_at', 'TIMESTAMPTZ'],
  ],
  telemetry_risk: [
    ['event_id', 'VARCHAR'], ['procedure_id', 'VARCHAR'], ['patient_id', 'VARCHAR'], ['robot_id', 'VARCHAR'], ['robot_arm', 'VARCHAR'],
    ['instrument', 'VARCHAR'], ['step', 'VARCHAR'], ['recorded_at', 'TIMESTAMPTZ'], ['force_n', 'DOUBLE'], ['velocity_mm_s', 'DOUBLE'],
    ['latency_ms', 'DOUBLE'], ['error_code', 'VARCHAR'], ['latency_score', 'INTEGER'], ['force_score', 'INTEGER'],
    ['error_score', 'INTEGER'], ['force_spike', 'BOOLEAN'], ['risk_score', 'INTEGER'], ['risk_level', 'VARCHAR'],
  ],
  alerts: [
    ['alert_id', 'VARCHAR'], ['event_id', 'VARCHAR'], ['procedure_id', 'VARCHAR'], ['patient_id', 'VARCHAR'], ['robot_id', 'VARCHAR'],
    ['robot_arm', 'VARCHAR'], ['instrument', 'VARCHAR'], ['step', 'VARCHAR'], ['at', 'TIMESTAMPTZ'], ['level', 'VARCHAR'],
    ['level_rank', 'INTEGER'], ['risk_score', 'INTEGER'], ['triggers', 'VARCHAR[]'], ['reason', 'VARCHAR'], ['error_code', 'VARCHAR'],
  ],
  alert_episodes: [
    ['episode_id', 'VARCHAR'], ['procedure_id', 'VARCHAR'], ['patient_id', 'VARCHAR'], ['robot_id', 'VARCHAR'], ['robot_arm', 'VARCHAR'],
    ['started_at', 'TIMESTAMPTZ'], ['ended_at', 'TIMESTAMPTZ'], ['alerts', 'INTEGER'], ['level', 'VARCHAR'], ['level_rank', 'INTEGER'],
    ['risk_score', 'INTEGER'], ['reason', 'VARCHAR'],
  ],
  vitals_hourly: [
    ['patient_id', 'VARCHAR'], ['metric', 'VARCHAR'], ['hour_start', 'TIMESTAMPTZ'], ['n', 'BIGINT'], ['min', 'DOUBLE'], ['max', 'DOUBLE'],
    ['avg', 'DOUBLE'], ['p95', 'DOUBLE'], ['alarming_n', 'BIGINT'],
  ],
  vitals_5min: [
    ['patient_id', 'VARCHAR'], ['metric', 'VARCHAR'], ['window_start', 'TIMESTAMPTZ'], ['n', 'BIGINT'], ['min', 'DOUBLE'], ['max', 'DOUBLE'],
    ['avg', 'DOUBLE'],
  ],
  news2_hourly: [
    ['patient_id', 'VARCHAR'], ['hour_start', 'TIMESTAMPTZ'], ['news2_total', 'INTEGER'], ['news2_band', 'VARCHAR'], ['missing', 'VARCHAR[]'],
    ['resp_rate_score', 'INTEGER'], ['spo2_score', 'INTEGER'], ['o2_supplemental_score', 'INTEGER'], ['systolic_bp_score', 'INTEGER'],
    ['heart_rate_score', 'INTEGER'], ['consciousness_score', 'INTEGER'], ['temperature_score', 'INTEGER'],
    ['complete', 'BOOLEAN'], ['parameters_present', 'INTEGER'], ['news2_alert', 'VARCHAR'],
  ],
  vitals_flags: [
    ['patient_id', 'VARCHAR'], ['hour_start', 'TIMESTAMPTZ'], ['bp_category', 'VARCHAR'], ['glucose_level', 'VARCHAR'],
    ['weight_gain_72h_kg', 'DOUBLE'], ['weight_gain_flag', 'BOOLEAN'],
  ],
  trends: [
    ['patient_id', 'VARCHAR'], ['metric', 'VARCHAR'], ['n', 'BIGINT'], ['mean', 'DOUBLE'], ['cv', 'DOUBLE'], ['slope_per_h', 'DOUBLE'],
    ['trend', 'VARCHAR'],
  ],
  patient_risk: [
    ['patient_id', 'VARCHAR'], ['events', 'BIGINT'], ['avg_risk', 'DOUBLE'], ['p95_latency_ms', 'DOUBLE'], ['critical_alerts', 'BIGINT'],
    ['max_news2', 'INTEGER'],
  ],
  procedure_risk: [
    ['procedure_id', 'VARCHAR'], ['patient_id', 'VARCHAR'], ['robot_id', 'VARCHAR'], ['procedure_type', 'VARCHAR'], ['events', 'BIGINT'],
    ['avg_risk', 'DOUBLE'], ['p95_latency_ms', 'DOUBLE'], ['critical_alerts', 'BIGINT'], ['max_news2', 'INTEGER'],
    ['duration_min', 'DOUBLE'], ['outcome', 'VARCHAR'],
  ],
  robot_kpis: [
    ['robot_id', 'VARCHAR'], ['model', 'VARCHAR'], ['facility_id', 'VARCHAR'], ['procedures', 'BIGINT'], ['utilization_hours', 'DOUBLE'],
    ['downtime_hours', 'DOUBLE'], ['maintenance_cost_usd', 'DOUBLE'], ['error_rate', 'DOUBLE'],
  ],
  outcomes_by_type: [
    ['procedure_type', 'VARCHAR'], ['procedures', 'BIGINT'], ['success_rate', 'DOUBLE'], ['readmission_rate', 'DOUBLE'],
    ['avg_length_of_stay_days', 'DOUBLE'], ['grade_none', 'BIGINT'], ['grade_i', 'BIGINT'], ['grade_ii', 'BIGINT'], ['grade_iiia', 'BIGINT'],
    ['grade_iiib', 'BIGINT'], ['grade_iva', 'BIGINT'], ['grade_ivb', 'BIGINT'], ['grade_v', 'BIGINT'],
  ],
  data_quality: [['load_id', 'VARCHAR'], ['path', 'VARCHAR'], ['dataset', 'VARCHAR'], ['rule', 'VARCHAR'], ['rows', 'BIGINT']],
  model_runs: [
    ['run_id', 'VARCHAR'], ['model', 'VARCHAR'], ['started_at', 'TIMESTAMPTZ'], ['finished_at', 'TIMESTAMPTZ'], ['duration_ms', 'BIGINT'],
    ['rows', 'BIGINT'], ['status', 'VARCHAR'], ['error', 'VARCHAR'],
  ],
};

const T = (h: number, m = 0, s = 0): string => new Date(Date.UTC(2026, 0, 5, h, m, s)).toISOString();

function listText(v: string[]): string {
  return `[${v.map((x) => `'${x.replaceAll("'", "''")}'`).join(', ')}]`;
}

/** Inserts rows, each value bound as text and cast to the column's type in SQL. */
export async function insertRows(db: Db, table: string, rows: Row[], types?: [string, string][]): Promise<void> {
  const cols = types ?? MART_COLUMNS[table];
  if (!cols) throw new Error(`no column list for ${table}`);
  for (const row of rows) {
    const names = cols.filter(([c]) => c in row);
    const params: Record<string, string | null> = {};
    const exprs = names.map(([c, type], i) => {
      const v = row[c];
      params[`p${i}`] = v === null || v === undefined ? null : Array.isArray(v) ? listText(v) : String(v);
      return `CAST($p${i} AS ${type})`;
    });
    await db.run(`INSERT INTO ${ident(table)} (${names.map(([c]) => ident(c)).join(', ')}) VALUES (${exprs.join(', ')})`, params);
  }
}

export const EVENTS: Row[] = [
  { event_id: 'EV-01', procedure_id: 'PROC-1', patient_id: 'PAT-1', robot_id: 'ROB-1', robot_arm: 'arm_1', instrument: 'needle_driver', step: 'suturing', recorded_at: T(1, 0, 0), force_n: 4.5, velocity_mm_s: 12, latency_ms: 120, error_code: null, latency_score: 0, force_score: 0, error_score: 0, force_spike: false, risk_score: 0, risk_level: 'none' },
  { event_id: 'EV-02', procedure_id: 'PROC-1', patient_id: 'PAT-1', robot_id: 'ROB-1', robot_arm: 'arm_2', instrument: 'needle_driver', step: 'suturing', recorded_at: T(1, 0, 1), force_n: 14.2, velocity_mm_s: 30, latency_ms: 612, error_code: null, latency_score: 3, force_score: 3, error_score: 0, force_spike: true, risk_score: 8, risk_level: 'critical' },
  { event_id: 'EV-03', procedure_id: 'PROC-1', patient_id: 'PAT-1', robot_id: 'ROB-1', robot_arm: 'arm_1', instrument: 'monopolar_scissors', step: 'dissection', recorded_at: T(1, 5, 0), force_n: 3.1, velocity_mm_s: 8, latency_ms: 90, error_code: 'W-COMM', latency_score: 0, force_score: 0, error_score: 1, force_spike: false, risk_score: 1, risk_level: 'low' },
  { event_id: 'EV-04', procedure_id: 'PROC-2', patient_id: 'PAT-2', robot_id: 'ROB-2', robot_arm: 'arm_3', instrument: 'vessel_sealer', step: 'cauterization', recorded_at: T(2, 0, 0), force_n: 9, velocity_mm_s: 10, latency_ms: 300, error_code: 'E-ARC', latency_score: 1, force_score: 0, error_score: 3, force_spike: false, risk_score: 4, risk_level: 'medium' },
  { event_id: 'EV-05', procedure_id: 'PROC-2', patient_id: 'PAT-2', robot_id: 'ROB-2', robot_arm: 'arm_3', instrument: 'vessel_sealer', step: 'cauterization', recorded_at: T(2, 0, 30), force_n: 16, velocity_mm_s: 11, latency_ms: 650, error_code: 'E-ARC', latency_score: 3, force_score: 1, error_score: 3, force_spike: false, risk_score: 7, risk_level: 'high' },
  { event_id: 'EV-06', procedure_id: 'PROC-3', patient_id: 'PAT-1', robot_id: 'ROB-1', robot_arm: 'arm_4', instrument: 'stapler', step: 'stapling', recorded_at: T(5, 0, 0), force_n: 20, velocity_mm_s: 5, latency_ms: 110, error_code: null, latency_score: 0, force_score: 0, error_score: 0, force_spike: false, risk_score: 0, risk_level: 'none' },
  { event_id: 'EV-07', procedure_id: 'PROC-3', patient_id: 'PAT-1', robot_id: 'ROB-1', robot_arm: 'arm_1', instrument: 'needle_driver', step: 'closure', recorded_at: T(5, 10, 0), force_n: 5, velocity_mm_s: 9, latency_ms: 530, error_code: null, latency_score: 2, force_score: 0, error_score: 0, force_spike: false, risk_score: 3, risk_level: 'medium' },
];

/** Alerts: a100 a_b tests the LIKE escape ("100%_sure" only matches literally). */
export const ALERTS: Row[] = [
  { alert_id: 'AL-1', event_id: 'EV-02', procedure_id: 'PROC-1', patient_id: 'PAT-1', robot_id: 'ROB-1', robot_arm: 'arm_2', instrument: 'needle_driver', step: 'suturing', at: T(1, 0, 1), level: 'critical', level_rank: 4, risk_score: 8, triggers: ['latency', 'force', 'force_spike'], reason: 'latency 612 ms (>500); force 14.2 N = 1.18x needle_driver limit', error_code: null },
  { alert_id: 'AL-2', event_id: 'EV-04', procedure_id: 'PROC-2', patient_id: 'PAT-2', robot_id: 'ROB-2', robot_arm: 'arm_3', instrument: 'vessel_sealer', step: 'cauterization', at: T(2, 0, 0), level: 'medium', level_rank: 2, risk_score: 4, triggers: ['error'], reason: 'severe error E-ARC (electrical arcing of instrument)', error_code: 'E-ARC' },
  { alert_id: 'AL-3', event_id: 'EV-05', procedure_id: 'PROC-2', patient_id: 'PAT-2', robot_id: 'ROB-2', robot_arm: 'arm_3', instrument: 'vessel_sealer', step: 'cauterization', at: T(2, 0, 30), level: 'high', level_rank: 3, risk_score: 7, triggers: ['latency', 'error'], reason: 'latency 650 ms (>500); severe error E-ARC', error_code: 'E-ARC' },
  { alert_id: 'AL-4', event_id: 'EV-07', procedure_id: 'PROC-3', patient_id: 'PAT-1', robot_id: 'ROB-1', robot_arm: 'arm_1', instrument: 'needle_driver', step: 'closure', at: T(5, 10, 0), level: 'medium', level_rank: 2, risk_score: 3, triggers: ['latency'], reason: 'latency 530 ms (>500) 100%_sure', error_code: null },
  { alert_id: 'AL-5', event_id: 'EV-03', procedure_id: 'PROC-1', patient_id: 'PAT-1', robot_id: 'ROB-1', robot_arm: 'arm_1', instrument: 'monopolar_scissors', step: 'dissection', at: T(1, 5, 0), level: 'medium', level_rank: 2, risk_score: 4, triggers: ['error'], reason: 'communication fault W-COMM', error_code: 'W-COMM' },
];

function vitalsHourly(): Row[] {
  const rows: Row[] = [];
  const base: Record<string, number[]> = { heart_rate: [72, 95, 118], resp_rate: [14, 20, 26], spo2: [98, 95, 91] };
  for (const [patient, shift] of [['PAT-1', 0], ['PAT-2', -5]] as const) {
    for (const [metric, values] of Object.entries(base)) {
      values.forEach((v, h) => rows.push({ patient_id: patient, metric, hour_start: T(h), n: 12, min: v + shift - 3, max: v + shift + 4, avg: v + shift, p95: v + shift + 3, alarming_n: 0 }));
    }
  }
  return rows;
}

/** A news2_hourly row; with `missing` the set is incomplete and `band` is the alert its partial total reaches. */
function news2(patient: string, h: number, total: number, band: string, missing: string[] = []): Row {
  const complete = missing.length === 0;
  return { patient_id: patient, hour_start: T(h), news2_total: total, news2_band: complete ? band : 'incomplete', missing, resp_rate_score: Math.min(3, total), spo2_score: 0, o2_supplemental_score: 0, systolic_bp_score: 0, heart_rate_score: Math.max(0, total - 3), consciousness_score: 0, temperature_score: 0,
    complete, parameters_present: 7 - missing.length, news2_alert: band === 'low' ? null : band };
}

/** Creates the lakehouse at dir/surgctl.duckdb and returns its path. */
export async function createFixtureLakehouse(dir: string): Promise<string> {
  const path = join(dir, 'surgctl.duckdb');
  const db = await openDb(path);
  try {
    for (const [table, cols] of Object.entries(MART_COLUMNS)) {
      await db.run(`CREATE TABLE ${ident(table)} (${cols.map(([c, t]) => `${ident(c)} ${t}`).join(', ')})`);
    }
    for (const name of listDatasets()) await db.run(rawTableDdl(loadDatasetSchema(name)));
    await insertRows(db, 'loads', [
      { load_id: 'L-001', path: '/data/procedures.csv', sha256: 'aa', bytes: 1000, dataset: 'procedures', started_at: T(0, 0), finished_at: T(0, 1), status: 'succeeded', rows_read: 3, rows_inserted: 3, rows_duplicate: 0, rows_quarantined: 0 },
      { load_id: 'L-002', path: '/data/telemetry.csv', sha256: 'bb', bytes: 9000, dataset: 'telemetry', started_at: T(0, 2), finished_at: T(0, 3), status: 'succeeded', rows_read: 10, rows_inserted: 7, rows_duplicate: 1, rows_quarantined: 2 },
      { load_id: 'L-003', path: '/data/vitals.csv', sha256: 'cc', bytes: 5000, dataset: 'vitals', started_at: T(0, 4), finished_at: T(0, 5), status: 'succeeded', rows_read: 9, rows_inserted: 8, rows_duplicate: 0, rows_quarantined: 1 },
    ]);
    await insertRows(db, 'quarantine', [
      { load_id: 'L-002', file: '/data/telemetry.csv', line: 4, row: 3, dataset: 'telemetry', raw: '{"force_n":"abc"}', errors: '[{"field":"force_n","keyword":"type"}]', rule: 'type', quarantined_at: T(0, 3) },
      { load_id: 'L-002', file: '/data/telemetry.csv', line: 9, row: 8, dataset: 'telemetry', raw: '{"robot_arm":"arm_9"}', errors: '[{"field":"robot_arm","keyword":"enum"}]', rule: 'enum', quarantined_at: T(0, 3) },
      { load_id: 'L-003', file: '/data/vitals.csv', line: 5, row: 4, dataset: 'vitals', raw: '{}', errors: '[{"field":"value","keyword":"required"}]', rule: 'required', quarantined_at: T(0, 5) },
    ]);
    await insertRows(db, 'data_quality', [
      { load_id: 'L-002', path: '/data/telemetry.csv', dataset: 'telemetry', rule: 'enum', rows: 1 },
      { load_id: 'L-002', path: '/data/telemetry.csv', dataset: 'telemetry', rule: 'type', rows: 1 },
      { load_id: 'L-003', path: '/data/vitals.csv', dataset: 'vitals', rule: 'required', rows: 1 },
    ]);
    const procedures = loadDatasetSchema('procedures');
    const procCols = procedures.columns.map((c) => [c, c.endsWith('_at') ? 'TIMESTAMPTZ' : 'VARCHAR'] as [string, string]);
    await insertRows(
      db,
      'raw_procedures',
      [
        { procedure_id: 'PROC-1', patient_id: 'PAT-1', robot_id: 'ROB-1', surgeon_id: 'S-1', procedure_type: 'prostatectomy', started_at: T(0, 50), ended_at: T(1, 30), status: 'completed', _load_id: 'L-001', _source_file: '/data/procedures.csv', _source_line: 2 },
        { procedure_id: 'PROC-2', patient_id: 'PAT-2', robot_id: 'ROB-2', surgeon_id: 'S-2', procedure_type: 'hysterectomy', started_at: T(1, 50), ended_at: T(2, 40), status: 'completed', _load_id: 'L-001', _source_file: '/data/procedures.csv', _source_line: 3 },
        { procedure_id: 'PROC-3', patient_id: 'PAT-1', robot_id: 'ROB-1', surgeon_id: 'S-1', procedure_type: 'prostatectomy', started_at: T(4, 50), ended_at: T(5, 30), status: 'completed', _load_id: 'L-001', _source_file: '/data/procedures.csv', _source_line: 4 },
      ],
      [...procCols, ['_load_id', 'VARCHAR'], ['_source_file', 'VARCHAR'], ['_source_line', 'BIGINT']],
    );
    const vitalsCols: [string, string][] = [
      ['reading_id', 'VARCHAR'], ['patient_id', 'VARCHAR'], ['metric', 'VARCHAR'], ['value', 'DOUBLE'], ['unit', 'VARCHAR'], ['measured_at', 'TIMESTAMPTZ'],
      ['_load_id', 'VARCHAR'], ['_source_file', 'VARCHAR'], ['_source_line', 'BIGINT'],
    ];
    await insertRows(
      db,
      'raw_vitals',
      [
        { reading_id: 'VR-1', patient_id: 'PAT-1', metric: 'heart_rate', value: 95, unit: '/min', measured_at: T(1, 0, 30), _load_id: 'L-003', _source_file: '/data/vitals.csv', _source_line: 2 },
        { reading_id: 'VR-2', patient_id: 'PAT-1', metric: 'spo2', value: 94.5, unit: '%', measured_at: T(1, 10), _load_id: 'L-003', _source_file: '/data/vitals.csv', _source_line: 3 },
        { reading_id: 'VR-3', patient_id: 'PAT-1', metric: 'heart_rate', value: 80, unit: '/min', measured_at: T(3, 0), _load_id: 'L-003', _source_file: '/data/vitals.csv', _source_line: 4 },
        { reading_id: 'VR-4', patient_id: 'PAT-2', metric: 'heart_rate', value: 88, unit: '/min', measured_at: T(2, 5), _load_id: 'L-003', _source_file: '/data/vitals.csv', _source_line: 6 },
      ],
      vitalsCols,
    );
    const telCols = loadDatasetSchema('telemetry').columns.map((c) => {
      const t = c === 'recorded_at' ? 'TIMESTAMPTZ' : ['force_n', 'velocity_mm_s', 'latency_ms'].includes(c) ? 'DOUBLE' : 'VARCHAR';
      return [c, t] as [string, string];
    });
    await insertRows(
      db,
      'raw_telemetry',
      EVENTS.map((e, i) => {
        const raw: Row = { _load_id: 'L-002', _source_file: '/data/telemetry.csv', _source_line: i + 2 };
        for (const [c] of telCols) raw[c] = e[c] ?? null;
        return raw;
      }),
      [...telCols, ['_load_id', 'VARCHAR'], ['_source_file', 'VARCHAR'], ['_source_line', 'BIGINT']],
    );
    await insertRows(db, 'telemetry_risk', EVENTS);
    // The summary and search reports' marts, made from those rows by their own models (every procedure in scope, as
    // in a full run).
    await db.run('CREATE TEMP MACRO in_scope_procedure(p) AS true');
    for (const mart of ['telemetry_summary', 'telemetry_search']) {
      await db.run(`CREATE TABLE ${ident(mart)} AS ${readFileSync(join(defaultModelsDir(), `${mart}.sql`), 'utf8')}`);
    }
    await insertRows(db, 'alerts', ALERTS);
    await insertRows(db, 'alert_episodes', [
      { episode_id: 'EP-1', procedure_id: 'PROC-1', patient_id: 'PAT-1', robot_id: 'ROB-1', robot_arm: 'arm_2', started_at: T(1, 0, 1), ended_at: T(1, 0, 1), alerts: 1, level: 'critical', level_rank: 4, risk_score: 8, reason: 'latency 612 ms (>500)' },
      { episode_id: 'EP-2', procedure_id: 'PROC-2', patient_id: 'PAT-2', robot_id: 'ROB-2', robot_arm: 'arm_3', started_at: T(2, 0, 0), ended_at: T(2, 0, 30), alerts: 2, level: 'high', level_rank: 3, risk_score: 7, reason: 'latency 650 ms (>500); severe error E-ARC' },
    ]);
    await insertRows(db, 'vitals_hourly', vitalsHourly());
    await insertRows(db, 'vitals_5min', [{ patient_id: 'PAT-1', metric: 'heart_rate', window_start: T(1, 0), n: 2, min: 90, max: 96, avg: 93 }]);
    await insertRows(db, 'news2_hourly', [
      news2('PAT-1', 0, 1, 'low'), news2('PAT-1', 1, 5, 'medium'), news2('PAT-1', 2, 8, 'high', ['temperature']),
      news2('PAT-2', 0, 0, 'low'), news2('PAT-2', 1, 3, 'low-medium'), news2('PAT-2', 2, 4, 'low'),
    ]);
    await insertRows(db, 'vitals_flags', [{ patient_id: 'PAT-1', hour_start: T(1), bp_category: 'normal', glucose_level: 'normal', weight_gain_72h_kg: 0.2, weight_gain_flag: false }]);
    await insertRows(db, 'trends', [
      { patient_id: 'PAT-1', metric: 'heart_rate', n: 36, mean: 95, cv: 0.2, slope_per_h: 23, trend: 'increasing' },
      { patient_id: 'PAT-2', metric: 'spo2', n: 36, mean: 92, cv: 0.01, slope_per_h: -0.1, trend: 'stable' },
    ]);
    await insertRows(db, 'patient_risk', [
      { patient_id: 'PAT-1', events: 5, avg_risk: 2.4, p95_latency_ms: 596.4, critical_alerts: 1, max_news2: 8 },
      { patient_id: 'PAT-2', events: 2, avg_risk: 5.5, p95_latency_ms: 632.5, critical_alerts: 0, max_news2: 4 },
    ]);
    await insertRows(db, 'procedure_risk', [
      { procedure_id: 'PROC-1', patient_id: 'PAT-1', robot_id: 'ROB-1', procedure_type: 'prostatectomy', events: 3, avg_risk: 3, p95_latency_ms: 562.8, critical_alerts: 1, max_news2: 5, duration_min: 40, outcome: 'success' },
      { procedure_id: 'PROC-2', patient_id: 'PAT-2', robot_id: 'ROB-2', procedure_type: 'hysterectomy', events: 2, avg_risk: 5.5, p95_latency_ms: 632.5, critical_alerts: 0, max_news2: 4, duration_min: 50, outcome: 'minor_complication' },
      { procedure_id: 'PROC-3', patient_id: 'PAT-1', robot_id: 'ROB-1', procedure_type: 'prostatectomy', events: 2, avg_risk: 1.5, p95_latency_ms: 509, critical_alerts: 0, max_news2: null, duration_min: 40, outcome: 'success' },
    ]);
    await insertRows(db, 'robot_kpis', [
      { robot_id: 'ROB-1', model: 'da Vinci Xi', facility_id: 'FAC-1', procedures: 2, utilization_hours: 1.33, downtime_hours: 4, maintenance_cost_usd: 1200, error_rate: 0.2 },
      { robot_id: 'ROB-2', model: 'Hugo RAS', facility_id: 'FAC-2', procedures: 1, utilization_hours: 0.83, downtime_hours: 0, maintenance_cost_usd: 0, error_rate: 1 },
    ]);
    await insertRows(db, 'outcomes_by_type', [
      { procedure_type: 'hysterectomy', procedures: 1, success_rate: 0, readmission_rate: 1, avg_length_of_stay_days: 3.5, grade_none: 0, grade_i: 1, grade_ii: 0, grade_iiia: 0, grade_iiib: 0, grade_iva: 0, grade_ivb: 0, grade_v: 0 },
      { procedure_type: 'prostatectomy', procedures: 2, success_rate: 1, readmission_rate: 0, avg_length_of_stay_days: 1.5, grade_none: 2, grade_i: 0, grade_ii: 0, grade_iiia: 0, grade_iiib: 0, grade_iva: 0, grade_ivb: 0, grade_v: 0 },
    ]);
    await insertRows(db, 'model_runs', [
      { run_id: 'RUN-1', model: 'telemetry_risk', started_at: T(0, 10), finished_at: T(0, 11), duration_ms: 1000, rows: 7, status: 'succeeded', error: null },
      { run_id: 'RUN-2', model: 'alerts', started_at: T(0, 11), finished_at: T(0, 12), duration_ms: 500, rows: 5, status: 'succeeded', error: null },
    ]);
  } finally {
    db.close();
  }
  return path;
}

/** The fixture lakehouse in a scratch directory for one test file: built before its tests, removed after. */
export function useFixtureLakehouse(): { readonly dir: string; readonly db: string } {
  let tmp: { dir: string; cleanup: () => void } | undefined;
  let path: string | undefined;
  beforeAll(async () => {
    tmp = tempDir();
    path = await createFixtureLakehouse(tmp.dir);
  });
  afterAll(() => tmp?.cleanup());
  return {
    get dir(): string {
      if (!tmp) throw new Error('useFixtureLakehouse: used outside a test');
      return tmp.dir;
    },
    get db(): string {
      if (!path) throw new Error('useFixtureLakehouse: used outside a test');
      return path;
    },
  };
}

/** Runs `sql` on a fresh in-memory DuckDB (e.g. over read_parquet of an export) and returns its rows. */
export async function inspect<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  const db = await openDb(':memory:');
  try {
    return await db.all<T & Record<string, unknown>>(sql);
  } finally {
    db.close();
  }
}
