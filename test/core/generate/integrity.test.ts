// Referential integrity, schedules and the planted ground truth, checked in DuckDB over generated files.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb, type Db } from '../../../src/db/db.js';
import { literal } from '../../../src/db/sql.js';
import { INSTRUMENT_FORCE_LIMIT_N } from '../../../src/core/domain.js';
import type { Manifest, RobotIncident, DeteriorationIncident } from '../../../src/core/generate/index.js';
import { tempDir } from '../../helpers/run-cli.js';
import { generate } from './helpers.js';

const tmp = tempDir('surgctl-gen-int-');
let db: Db;
let m: Manifest;

beforeAll(async () => {
  // Clean data (no bad rows), many incidents, more telemetry per procedure so incidents fit everywhere.
  m = (await generate(tmp.dir + '/d', { seed: 21, badRows: 0, incidents: 0.5, telemetryRows: 12_000, vitalsHours: 10 })).manifest;
  db = await openDb(':memory:');
  for (const d of ['robots', 'patients', 'procedures', 'telemetry', 'vitals', 'outcomes', 'maintenance']) {
    await db.run(`CREATE TABLE ${d} AS SELECT * FROM read_csv(${literal(join(tmp.dir, 'd', `${d}.csv`))}, header = true, auto_detect = true)`);
  }
  await db.run('CREATE TABLE limits(instrument VARCHAR, limit_n DOUBLE)');
  for (const [instrument, limit] of Object.entries(INSTRUMENT_FORCE_LIMIT_N)) {
    await db.run('INSERT INTO limits VALUES ($i, $l)', { i: instrument, l: limit });
  }
  const incidentEvents = m.incidents.flatMap((i) => (i.kind === 'deterioration' ? [] : i.event_ids));
  await db.run(`CREATE TABLE incident_events AS SELECT unnest(from_json($ids::JSON, '["VARCHAR"]')) AS event_id`, { ids: JSON.stringify(incidentEvents) });
});
afterAll(() => {
  db?.close();
  tmp.cleanup();
});

const one = async (sql: string): Promise<number> => Number(await db.scalar(sql));

describe('generated data in DuckDB', () => {
  it('keeps primary keys unique', async () => {
    for (const [t, k] of [['robots', 'robot_id'], ['patients', 'patient_id'], ['procedures', 'procedure_id'], ['telemetry', 'event_id'],
      ['vitals', 'reading_id'], ['outcomes', 'procedure_id'], ['maintenance', 'log_id']]) {
      expect(await one(`SELECT count(*) - count(DISTINCT ${k}) FROM ${t}`), t).toBe(0);
    }
  });

  it('resolves every foreign key, and telemetry patient/robot agree with the procedure', async () => {
    expect(await one('SELECT count(*) FROM procedures p ANTI JOIN patients USING (patient_id)')).toBe(0);
    expect(await one('SELECT count(*) FROM procedures p ANTI JOIN robots USING (robot_id)')).toBe(0);
    expect(await one('SELECT count(*) FROM telemetry t ANTI JOIN procedures USING (procedure_id)')).toBe(0);
    expect(await one('SELECT count(*) FROM telemetry t JOIN procedures p USING (procedure_id) WHERE t.patient_id <> p.patient_id OR t.robot_id <> p.robot_id')).toBe(0);
    expect(await one('SELECT count(*) FROM vitals ANTI JOIN patients USING (patient_id)')).toBe(0);
    expect(await one('SELECT count(*) FROM outcomes ANTI JOIN procedures USING (procedure_id)')).toBe(0);
    expect(await one('SELECT count(*) FROM procedures ANTI JOIN outcomes USING (procedure_id)')).toBe(0);
    expect(await one('SELECT count(*) FROM maintenance ANTI JOIN robots USING (robot_id)')).toBe(0);
    expect(await one("SELECT count(*) FROM patients p JOIN procedures USING (patient_id) JOIN robots r USING (robot_id) WHERE p.facility_id <> r.facility_id")).toBe(0);
  });

  it('never overlaps procedures on a robot or a patient, nor maintenance with procedures', async () => {
    for (const k of ['robot_id', 'patient_id']) {
      expect(await one(`SELECT count(*) FROM (SELECT started_at, lag(ended_at) OVER (PARTITION BY ${k} ORDER BY started_at) AS prev FROM procedures) WHERE prev > started_at`), k).toBe(0);
    }
    expect(await one(`SELECT count(*) FROM maintenance mt JOIN procedures p USING (robot_id)
      WHERE mt.started_at < p.ended_at AND mt.started_at + to_milliseconds(CAST(mt.downtime_hours * 3600000 AS BIGINT)) > p.started_at`)).toBe(0);
    expect(await one('SELECT count(*) FROM procedures WHERE ended_at < started_at')).toBe(0);
  });

  it('keeps telemetry inside its procedure and in time order', async () => {
    expect(await one('SELECT count(*) FROM telemetry t JOIN procedures p USING (procedure_id) WHERE t.recorded_at < p.started_at OR t.recorded_at > p.ended_at')).toBe(0);
    expect(await one(`SELECT count(*) FROM (SELECT recorded_at, lag(recorded_at) OVER (PARTITION BY procedure_id ORDER BY event_id) AS prev FROM telemetry) WHERE prev > recorded_at`)).toBe(0);
    expect(await one('SELECT count(*) FROM vitals v WHERE measured_at < (SELECT min(started_at) FROM procedures)')).toBe(0);
  });

  it('keeps normal forces under 0.8 x the instrument limit and normal latency at or under 200 ms', async () => {
    expect(await one(`SELECT count(*) FROM telemetry JOIN limits USING (instrument) ANTI JOIN incident_events USING (event_id) WHERE force_n > 0.8 * limit_n`)).toBe(0);
    expect(await one(`SELECT count(*) FROM telemetry ANTI JOIN incident_events USING (event_id) WHERE latency_ms > 200`)).toBe(0);
    expect(await one(`SELECT count(*) FROM telemetry ANTI JOIN incident_events USING (event_id) WHERE error_code LIKE 'E-%'`)).toBe(0);
    // Realism: some minor codes and some degraded latency exist.
    expect(await one(`SELECT count(*) FROM telemetry WHERE error_code LIKE 'W-%'`)).toBeGreaterThan(0);
    expect(await one(`SELECT count(*) FROM telemetry WHERE latency_ms > 100`)).toBeGreaterThan(0);
  });

  it('raises exactly the planted robot alerts, at the planted level (default risk rules)', async () => {
    const robot = m.incidents.filter((i): i is RobotIncident => i.kind !== 'deterioration');
    expect(new Set(robot.map((i) => i.kind))).toEqual(new Set(['latency_spike', 'force_overload', 'severe_error', 'combined', 'network_degradation']));
    const rows = await db.all<{ event_id: string; level: string; latency: number; force: number; error: number }>(`
      WITH s AS (
        SELECT event_id,
          CASE WHEN latency_ms <= 200 THEN 0 WHEN latency_ms <= 300 THEN 1 WHEN latency_ms <= 500 THEN 2 ELSE 3 END AS latency,
          CASE WHEN force_n / limit_n <= 1.0 THEN 0 WHEN force_n / limit_n <= 1.25 THEN 1 WHEN force_n / limit_n <= 1.5 THEN 2 ELSE 3 END AS force,
          CASE WHEN error_code LIKE 'E-%' THEN 3 WHEN error_code LIKE 'W-%' THEN 1 ELSE 0 END AS error
        FROM telemetry JOIN limits USING (instrument))
      SELECT event_id, latency, force, error,
        CASE WHEN latency + force + error >= 7 THEN 'critical'
             WHEN latency + force + error >= 5 OR greatest(latency, force, error) = 3 THEN 'high'
             WHEN latency + force + error >= 3 THEN 'medium' ELSE 'low' END AS level
      FROM s WHERE latency + force + error >= 3 ORDER BY event_id`);
    const expected = new Map(robot.flatMap((i) => i.event_ids.map((e) => [e, i] as const)));
    expect(rows.map((r) => r.event_id)).toEqual([...expected.keys()].sort());
    for (const r of rows) {
      const inc = expected.get(r.event_id) as RobotIncident;
      expect(r.level, `${inc.id} ${inc.kind}`).toBe(inc.expected.level);
      const fired = [r.latency > 0 && 'latency', r.force > 0 && 'force', r.error > 0 && 'error'].filter(Boolean);
      expect(fired, inc.id).toEqual(inc.expected.triggers);
    }
    for (const inc of robot) {
      const first = await db.all<{ at: string; arm: string; proc: string }>(
        `SELECT strftime(recorded_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS at, robot_arm AS arm, procedure_id AS proc FROM telemetry WHERE event_id = $e`,
        { e: inc.event_ids[0] as string },
      );
      expect(first[0], inc.id).toEqual({ at: inc.at, arm: inc.robot_arm, proc: inc.procedure_id });
    }
  });

  it('gives NEWS2 medium or high only in the planted deterioration hours, at the planted band', async () => {
    const det = m.incidents.filter((i): i is DeteriorationIncident => i.kind === 'deterioration');
    expect(new Set(det.map((d) => d.expected.news2_band))).toEqual(new Set(['high', 'medium']));
    const hours = await db.all<{ patient_id: string; hour_start: string; band: string }>(`
      WITH last AS (
        SELECT patient_id, date_trunc('hour', measured_at) AS h, metric, arg_max(value, measured_at) AS v
        FROM vitals GROUP BY ALL),
      p AS (PIVOT last ON metric USING first(v) GROUP BY patient_id, h),
      s AS (
        SELECT patient_id, h,
          CASE WHEN resp_rate IS NULL THEN 0 WHEN resp_rate <= 8 THEN 3 WHEN resp_rate <= 11 THEN 1 WHEN resp_rate <= 20 THEN 0 WHEN resp_rate <= 24 THEN 2 ELSE 3 END AS rr,
          CASE WHEN spo2 IS NULL THEN 0 WHEN spo2 <= 91 THEN 3 WHEN spo2 <= 93 THEN 2 WHEN spo2 <= 95 THEN 1 ELSE 0 END AS sp,
          CASE WHEN o2_supplemental = 1 THEN 2 ELSE 0 END AS o2,
          CASE WHEN systolic_bp IS NULL THEN 0 WHEN systolic_bp <= 90 THEN 3 WHEN systolic_bp <= 100 THEN 2 WHEN systolic_bp <= 110 THEN 1 WHEN systolic_bp <= 219 THEN 0 ELSE 3 END AS bp,
          CASE WHEN heart_rate IS NULL THEN 0 WHEN heart_rate <= 40 THEN 3 WHEN heart_rate <= 50 THEN 1 WHEN heart_rate <= 90 THEN 0 WHEN heart_rate <= 110 THEN 1 WHEN heart_rate <= 130 THEN 2 ELSE 3 END AS hr,
          CASE WHEN consciousness = 1 THEN 3 ELSE 0 END AS cv,
          CASE WHEN temperature_c IS NULL THEN 0 WHEN temperature_c <= 35.0 THEN 3 WHEN temperature_c <= 36.0 THEN 1 WHEN temperature_c <= 38.0 THEN 0 WHEN temperature_c <= 39.0 THEN 1 ELSE 2 END AS tp
        FROM p)
      SELECT patient_id, strftime(h, '%Y-%m-%dT%H:%M:%S.%gZ') AS hour_start,
        CASE WHEN rr + sp + o2 + bp + hr + cv + tp >= 7 THEN 'high' WHEN rr + sp + o2 + bp + hr + cv + tp >= 5 THEN 'medium'
             WHEN greatest(rr, sp, bp, hr, cv, tp) = 3 THEN 'low-medium' ELSE 'low' END AS band
      FROM s WHERE band <> 'low' ORDER BY patient_id, hour_start`);
    const expected = det.flatMap((d) =>
      [0, 1, 2].map((k) => ({ patient_id: d.patient_id, hour_start: new Date(Date.parse(d.expected.hour_start) + k * 3_600_000).toISOString(), band: d.expected.news2_band })),
    );
    const key = (x: { patient_id: string; hour_start: string }): string => `${x.patient_id} ${x.hour_start}`;
    expect(hours.sort((a, b) => key(a).localeCompare(key(b)))).toEqual(expected.sort((a, b) => key(a).localeCompare(key(b))));
    expect(await one("SELECT count(*) FROM vitals WHERE metric = 'o2_supplemental' AND value = 1")).toBeGreaterThan(0);
  });

  it('lists each incident once with an id, a time and the alert it should raise', () => {
    expect(m.incidents.map((i) => i.id)).toEqual(m.incidents.map((_, k) => `INC-${String(k + 1).padStart(4, '0')}`));
    const text = readFileSync(join(tmp.dir, 'd', 'manifest.json'), 'utf8');
    expect(text).toContain('"expected"');
    for (const i of m.incidents) expect(Number.isNaN(Date.parse(i.at))).toBe(false);
  });
});
