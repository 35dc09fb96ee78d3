// Incremental transform: after new loads only the touched partitions are recomputed, and the marts equal a full
// rebuild of the same raw data (EXCEPT ALL both ways, every mart); a rerun with nothing new changes nothing; a rules
// change forces a full rebuild; --select rebuilds only what it names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../../../src/db/db.js';
import { ident } from '../../../src/db/sql.js';
import { transformDb, type TransformResult } from '../../../src/core/transform/transform.js';
import { tempDir } from '../../helpers/run-cli.js';
import { insertSynthetic, MARTS, martDiff, openLakehouse } from './helpers.js';

let dir: string;
let cleanup: () => void;
let inc: Db;
let full: Db;
const runs: TransformResult[] = [];

type Loader = (db: Db) => Promise<void>;
const LOADS: Loader[] = [
  // L1: procedures 0-5 (patients 0-2), vitals for patients 0-2 over 8 h.
  (db) => insertSynthetic(db, { loadId: 'L1', from: 0, to: 6, events: 300, patients: 3, vitalsPatients: [0, 1, 2], hours: 8 }),
  // L2: two new procedures (patients 0, 1), more telemetry for PR-2, vitals for patient 1 in existing hours
  // (7 minutes off the first load's ticks) and for a new patient 4 whose procedure has not arrived; a
  // quarantined row in the ledger.
  async (db) => {
    await insertSynthetic(db, { loadId: 'L2', from: 6, to: 8, events: 300, patients: 3 });
    await insertSynthetic(db, { loadId: 'L2', from: 2, to: 3, events: 120, eventFrom: 300, patients: 3, withReference: false });
    await insertSynthetic(db, { loadId: 'L2', from: 0, to: 0, events: 0, patients: 3, vitalsPatients: [1, 4], hours: 3, vitalsStart: '2026-01-05T07:07:00Z', withReference: false });
    await db.run(`INSERT INTO loads (load_id, path, sha256, bytes, dataset, started_at, finished_at, status, rows_read, rows_inserted, rows_duplicate, rows_quarantined)
      VALUES ('L2', 'telemetry-2.csv', 'abc', 100, 'telemetry', TIMESTAMPTZ '2026-01-05 12:00:00+00', TIMESTAMPTZ '2026-01-05 12:00:01+00', 'succeeded', 10, 9, 0, 1)`);
    await db.run(`INSERT INTO quarantine (load_id, file, line, "row", dataset, raw, errors, rule, quarantined_at)
      VALUES ('L2', 'telemetry-2.csv', 5, 4, 'telemetry', '{}', '[]', 'maximum', TIMESTAMPTZ '2026-01-05 12:00:01+00')`);
  },
  // L3: only vitals, later hours for patient 2 (weight included), touching procedures of patient 2 via max_news2.
  (db) => insertSynthetic(db, { loadId: 'L3', from: 0, to: 0, events: 0, patients: 3, vitalsPatients: [2], hours: 4, vitalsStart: '2026-01-05T20:00:00Z', withReference: false }),
];

beforeAll(async () => {
  const t = tempDir();
  dir = t.dir;
  cleanup = t.cleanup;
  inc = await openLakehouse(dir, 'inc.duckdb');
  full = await openLakehouse(dir, 'full.duckdb');
  for (const load of LOADS) {
    await load(inc);
    runs.push(await transformDb(inc, { cwd: dir, env: {} }));
  }
  // The same raw data, transformed once.
  for (const load of LOADS) await load(full);
  await transformDb(full, { cwd: dir, env: {} });
  full.close();
  await inc.run(`ATTACH ${`'${join(dir, 'full.duckdb').replaceAll("'", "''")}'`} AS full_db (READ_ONLY)`);
}, 120_000);

afterAll(() => {
  inc?.close();
  cleanup?.();
});

// The marts as /tmp/contracts.md lists them (report, export and the TUI read these names and types).
const CONTRACT: Record<string, string> = {
  telemetry_risk: 'event_id VARCHAR, procedure_id VARCHAR, patient_id VARCHAR, robot_id VARCHAR, robot_arm VARCHAR, instrument VARCHAR, step VARCHAR, recorded_at TIMESTAMP WITH TIME ZONE, force_n DOUBLE, velocity_mm_s DOUBLE, latency_ms DOUBLE, error_code VARCHAR, latency_score INTEGER, force_score INTEGER, error_score INTEGER, force_spike BOOLEAN, risk_score INTEGER, risk_level VARCHAR, velocity_score INTEGER, missing VARCHAR[]',
  motion_kpis: 'procedure_id VARCHAR, patient_id VARCHAR, robot_id VARCHAR, robot_arm VARCHAR, step VARCHAR, started_at TIMESTAMP WITH TIME ZONE, ended_at TIMESTAMP WITH TIME ZONE, samples BIGINT, duration_s DOUBLE, path_length_mm DOUBLE, straight_line_mm DOUBLE, economy_of_motion DOUBLE, mean_speed_mm_s DOUBLE, max_speed_mm_s DOUBLE, mean_accel_mm_s2 DOUBLE, max_accel_mm_s2 DOUBLE, mean_jerk_mm_s3 DOUBLE, max_jerk_mm_s3 DOUBLE, jerk_events BIGINT, idle_s DOUBLE, gripper_min_rad DOUBLE, gripper_max_rad DOUBLE, gripper_mean_rad DOUBLE',
  alerts: 'alert_id VARCHAR, event_id VARCHAR, procedure_id VARCHAR, patient_id VARCHAR, robot_id VARCHAR, robot_arm VARCHAR, instrument VARCHAR, step VARCHAR, at TIMESTAMP WITH TIME ZONE, level VARCHAR, level_rank INTEGER, risk_score INTEGER, triggers VARCHAR[], reason VARCHAR, error_code VARCHAR',
  alert_episodes: 'episode_id VARCHAR, procedure_id VARCHAR, patient_id VARCHAR, robot_id VARCHAR, robot_arm VARCHAR, started_at TIMESTAMP WITH TIME ZONE, ended_at TIMESTAMP WITH TIME ZONE, alerts INTEGER, level VARCHAR, level_rank INTEGER, risk_score INTEGER, reason VARCHAR',
  vitals_hourly: 'patient_id VARCHAR, metric VARCHAR, hour_start TIMESTAMP WITH TIME ZONE, n BIGINT, min DOUBLE, max DOUBLE, avg DOUBLE, p95 DOUBLE, alarming_n BIGINT',
  vitals_5min: 'patient_id VARCHAR, metric VARCHAR, window_start TIMESTAMP WITH TIME ZONE, n BIGINT, min DOUBLE, max DOUBLE, avg DOUBLE, alarming_n BIGINT',
  news2_hourly: 'patient_id VARCHAR, hour_start TIMESTAMP WITH TIME ZONE, news2_total INTEGER, news2_band VARCHAR, missing VARCHAR[], resp_rate_score INTEGER, spo2_score INTEGER, o2_supplemental_score INTEGER, systolic_bp_score INTEGER, heart_rate_score INTEGER, consciousness_score INTEGER, temperature_score INTEGER, scored_at TIMESTAMP WITH TIME ZONE, complete BOOLEAN, parameters_present INTEGER, news2_alert VARCHAR, resp_rate_age_min DOUBLE, spo2_age_min DOUBLE, o2_supplemental_age_min DOUBLE, systolic_bp_age_min DOUBLE, heart_rate_age_min DOUBLE, consciousness_age_min DOUBLE, temperature_age_min DOUBLE',
  vitals_flags: 'patient_id VARCHAR, hour_start TIMESTAMP WITH TIME ZONE, bp_category VARCHAR, glucose_level VARCHAR, weight_gain_72h_kg DOUBLE, weight_gain_flag BOOLEAN',
  trends: 'patient_id VARCHAR, metric VARCHAR, n BIGINT, mean DOUBLE, cv DOUBLE, slope_per_h DOUBLE, trend VARCHAR',
  patient_risk: 'patient_id VARCHAR, events BIGINT, avg_risk DOUBLE, p95_latency_ms DOUBLE, critical_alerts BIGINT, max_news2 INTEGER',
  procedure_risk: 'procedure_id VARCHAR, patient_id VARCHAR, robot_id VARCHAR, procedure_type VARCHAR, events BIGINT, avg_risk DOUBLE, p95_latency_ms DOUBLE, critical_alerts BIGINT, max_news2 INTEGER, duration_min DOUBLE, outcome VARCHAR',
  robot_kpis: 'robot_id VARCHAR, model VARCHAR, facility_id VARCHAR, procedures BIGINT, utilization_hours DOUBLE, downtime_hours DOUBLE, maintenance_cost_usd DOUBLE, error_rate DOUBLE',
  outcomes_by_type: 'procedure_type VARCHAR, procedures BIGINT, success_rate DOUBLE, readmission_rate DOUBLE, avg_length_of_stay_days DOUBLE, grade_none BIGINT, grade_i BIGINT, grade_ii BIGINT, grade_iiia BIGINT, grade_iiib BIGINT, grade_iva BIGINT, grade_ivb BIGINT, grade_v BIGINT',
  data_quality: 'load_id VARCHAR, path VARCHAR, dataset VARCHAR, rule VARCHAR, rows BIGINT',
  telemetry_summary: 'procedure_id VARCHAR, latency_key DOUBLE, latency_ms DOUBLE, events BIGINT, risk_sum BIGINT, risk_n BIGINT, errors BIGINT, events_none BIGINT, events_low BIGINT, events_medium BIGINT, events_high BIGINT, events_critical BIGINT',
  telemetry_search: 'kind VARCHAR, match VARCHAR, procedure_id VARCHAR, patient_id VARCHAR, robot_id VARCHAR, n BIGINT, first_at TIMESTAMP WITH TIME ZONE, last_at TIMESTAMP WITH TIME ZONE',
  model_runs: 'run_id VARCHAR, model VARCHAR, started_at TIMESTAMP WITH TIME ZONE, finished_at TIMESTAMP WITH TIME ZONE, duration_ms BIGINT, rows BIGINT, status VARCHAR, error VARCHAR',
};

describe('the marts', () => {
  it.each(Object.keys(CONTRACT))('%s has the contract columns and types, in order', async (table) => {
    const cols = await inc.all<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = 'inc' AND table_schema = 'main' AND table_name = $t ORDER BY ordinal_position`,
      { t: table },
    );
    expect(cols.map((c) => `${c.column_name} ${c.data_type}`).join(', ')).toBe(CONTRACT[table]);
  });
});

describe('incremental transform', () => {
  it('runs full first, then incrementally on the touched partitions only', () => {
    expect(runs.map((r) => r.mode)).toEqual(['full', 'incremental', 'incremental']);
    const second = runs[1] as TransformResult;
    expect(second.new_loads).toEqual(['L2']);
    // PR-6, PR-7 (new), PR-2 (more telemetry), and every procedure of patients 1 (vitals) and 4 (none): PR-1, PR-4, PR-7
    expect(second.scope?.procedures).toBe(5);
    const tr = second.models.find((m) => m.model === 'telemetry_risk');
    expect(tr?.action).toBe('incremental');
    // PR-6, PR-7: 300 each; PR-2: 420; PR-1, PR-4: 300 each
    expect(tr?.rows).toBe(300 * 4 + 420);
    expect(second.models.find((m) => m.model === 'robot_kpis')?.action).toBe('full');
    const third = runs[2] as TransformResult;
    expect(third.scope).toEqual({ procedures: 2, patients: 1, patient_hours: 4 });
    expect(third.models.find((m) => m.model === 'telemetry_risk')?.rows).toBe(420 + 300);
    expect(runs.every((r) => r.tests_failed === 0)).toBe(true);
  });

  it.each(MARTS)('%s equals a full rebuild of the same data', async (mart) => {
    const rows = await inc.scalar<number>(`SELECT count(*)::INTEGER FROM ${ident(mart)}`);
    if (mart !== 'data_quality') expect(rows).toBeGreaterThan(0);
    expect(await martDiff(inc, 'inc', 'full_db', mart)).toBe(0);
  });

  it('records the loads each run consumed and every model run', async () => {
    const state = await inc.all<{ load_id: string; n: number }>(
      'SELECT s.load_id, count(*)::INTEGER AS n FROM transform_state s GROUP BY s.load_id ORDER BY s.load_id',
    );
    expect(state).toEqual([{ load_id: 'L1', n: 1 }, { load_id: 'L2', n: 1 }, { load_id: 'L3', n: 1 }]);
    const mr = await inc.all<{ run_id: string; n: number; ok: number }>(
      "SELECT run_id, count(*)::INTEGER AS n, count(*) FILTER (WHERE status = 'succeeded')::INTEGER AS ok FROM model_runs GROUP BY run_id ORDER BY min(started_at)",
    );
    expect(mr.map((r) => [r.n, r.ok])).toEqual([[17, 17], [17, 17], [17, 17]]);
    expect(await inc.scalar("SELECT count(*)::INTEGER FROM model_tests WHERE status = 'fail'")).toBe(0);
    expect(await inc.scalar(`SELECT "rows"::INTEGER FROM data_quality WHERE load_id = 'L2' AND rule = 'maximum'`)).toBe(1);
  });

  it('changes nothing when rerun with no new loads', async () => {
    for (const m of MARTS) await inc.run(`CREATE OR REPLACE TEMP TABLE ${ident(`snap_${m}`)} AS SELECT * FROM ${ident(m)}`);
    const again = await transformDb(inc, { cwd: dir, env: {} });
    expect(again.mode).toBe('up_to_date');
    expect(again.models.every((m) => m.status === 'up_to_date' || m.materialized === 'view')).toBe(true);
    for (const m of MARTS) {
      const n = await inc.scalar<number>(
        `SELECT ((SELECT count(*) FROM (SELECT * FROM ${ident(m)} EXCEPT ALL SELECT * FROM ${ident(`snap_${m}`)})) +
                 (SELECT count(*) FROM (SELECT * FROM ${ident(`snap_${m}`)} EXCEPT ALL SELECT * FROM ${ident(m)})))::INTEGER`,
      );
      expect(n, m).toBe(0);
    }
  });

  it('rebuilds in full when the rules change, and --full-refresh forces it', async () => {
    const rules = join(dir, 'surgctl.rules.json');
    writeFileSync(rules, JSON.stringify({ version: 'stricter', robot_risk: { latency_ms: { bands: [{ max: 150, score: 0 }, { max: 300, score: 1 }, { max: 500, score: 2 }] } } }));
    const r = await transformDb(inc, { cwd: dir, env: {} });
    expect([r.mode, r.reason, r.rules.version]).toEqual(['full', 'rules changed since the last run', 'stricter']);
    const f = await transformDb(inc, { cwd: dir, env: {}, fullRefresh: true });
    expect([f.mode, f.reason]).toEqual(['full', '--full-refresh']);
    expect(await inc.scalar("SELECT count(*)::INTEGER FROM rules_in_force WHERE path = 'version' AND source LIKE '%surgctl.rules.json'")).toBe(1);
  });

  it('--select NAME+ rebuilds a model and what depends on it, nothing else', async () => {
    const r = await transformDb(inc, { cwd: dir, env: {}, select: ['alerts+'] });
    expect(r.mode).toBe('select');
    expect(r.models.map((m) => m.model)).toEqual(['alerts', 'alert_episodes', 'patient_risk', 'procedure_risk']);
    const d = await transformDb(inc, { cwd: dir, env: {}, select: ['vitals_hourly'], dryRun: true });
    expect(d.models.map((m) => [m.model, m.status])).toEqual([['vitals_hourly', 'planned']]);
  });
});
