// Real (synthetic-patient) data: 16 patients of a public Synthea run (fixtures/synthea-vitals, see its SOURCE.txt),
// their vital-sign observations mapped by LOINC code onto vitals rows, loaded by the load stage and transformed.
// Synthea records neither consciousness nor supplemental oxygen, so no observation set is complete: issue 15 found
// such hours banded "low" as if the score were whole. Here every set reads `incomplete`, the alerts its present
// parameters already reach still fire (checked by hand on two sets), yearly visits give insufficient_data trends,
// and fevers above 41 C load and are flagged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { LoadResult } from '../../../src/core/load/load.js';
import { openDb, type Db } from '../../../src/db/db.js';
import { literal } from '../../../src/db/sql.js';
import { tempDir } from '../../helpers/run-cli.js';
import { loadPatientsAndVitals } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('../../../fixtures/synthea-vitals/', import.meta.url));
// LOINC code -> vitals metric and unit (Synthea's mm[Hg] is mmHg)
const LOINC = `VALUES ('8867-4', 'heart_rate', '/min'), ('9279-1', 'resp_rate', '/min'), ('2708-6', 'spo2', '%'),
  ('59408-5', 'spo2', '%'), ('8480-6', 'systolic_bp', 'mmHg'), ('8462-4', 'diastolic_bp', 'mmHg'), ('8310-5', 'temperature_c', 'Cel'),
  ('2339-0', 'glucose_mg_dl', 'mg/dL'), ('2345-7', 'glucose_mg_dl', 'mg/dL'), ('29463-7', 'weight_kg', 'kg')`;

let db: Db;
let cleanup: () => void;
let load: LoadResult;

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const scratch = await openDb(join(t.dir, 'map.duckdb'));
  try {
    await scratch.run(`COPY (
      SELECT 'SY-' || lpad(row_number() OVER (ORDER BY o.DATE, o.PATIENT, o.CODE, o.VALUE)::VARCHAR, 5, '0') AS reading_id, o.PATIENT AS patient_id,
             m.metric, o.VALUE::DOUBLE AS value, m.unit, o.DATE AS measured_at
      FROM read_csv(${literal(join(FIXTURE, 'observations.csv'))}, all_varchar = true) o JOIN (${LOINC}) m(code, metric, unit) ON m.code = o.CODE
      ORDER BY reading_id) TO ${literal(join(t.dir, 'vitals.csv'))} (HEADER)`);
    await scratch.run(`COPY (
      SELECT Id AS patient_id, CASE GENDER WHEN 'M' THEN 'male' WHEN 'F' THEN 'female' ELSE 'unknown' END AS sex, BIRTHDATE AS birth_date, 'SYNTHEA' AS facility_id
      FROM read_csv(${literal(join(FIXTURE, 'patients.csv'))}, all_varchar = true)) TO ${literal(join(t.dir, 'patients.csv'))} (HEADER)`);
  } finally {
    scratch.close();
  }
  ({ load, db } = await loadPatientsAndVitals(t.dir));
}, 60_000);

afterAll(() => {
  db?.close();
  cleanup?.();
});

describe('NEWS2 on Synthea observations', () => {
  it('loads every mapped observation (weights from 3.6 kg newborns to fevers of 42.1 C are possible values)', () => {
    const v = load.files.find((f) => f.dataset === 'vitals');
    expect(v?.rows_read).toBe(997);
    expect({ inserted: v?.rows_inserted, quarantined: v?.rows_quarantined, duplicate: v?.rows_duplicate }).toEqual({ inserted: 997, quarantined: 0, duplicate: 0 });
  });

  it('never bands a set without consciousness and oxygen: every set is incomplete', async () => {
    const rows = await db.all<{ sets: number; incomplete: number; lacking_both: number; full_band: number }>(
      `SELECT count(*)::INTEGER AS sets, count(*) FILTER (WHERE news2_band = 'incomplete' AND NOT complete)::INTEGER AS incomplete,
              count(*) FILTER (WHERE list_has_all(missing, ['o2_supplemental', 'consciousness']))::INTEGER AS lacking_both,
              count(*) FILTER (WHERE news2_band IN ('low', 'low-medium', 'medium', 'high'))::INTEGER AS full_band
       FROM news2_hourly`,
    );
    expect(rows[0]?.sets).toBeGreaterThan(100);
    expect(rows[0]).toEqual({ sets: rows[0]?.sets, incomplete: rows[0]?.sets, lacking_both: rows[0]?.sets, full_band: 0 });
  });

  it('still alerts on what is present: a COVID-19 admission past high, and a lone SpO2 of 86%', async () => {
    const sets = await db.all(
      `SELECT strftime(scored_at, '%Y-%m-%dT%H:%M:%SZ') AS at, news2_total, news2_band, news2_alert, parameters_present,
              resp_rate_score, spo2_score, systolic_bp_score, heart_rate_score, temperature_score
       FROM news2_hourly WHERE (patient_id = '5b873911-2d32-cc75-2e2f-e6ad79df3e28' AND hour_start = TIMESTAMPTZ '2020-10-04 15:00:00+00')
          OR (patient_id = '05ac6b28-140c-3bc0-2260-ad0e5a0e03cb' AND hour_start = TIMESTAMPTZ '2000-05-18 10:00:00+00')
       ORDER BY scored_at`,
    );
    expect(sets).toEqual([
      // SpO2 86 at 10:13:42 and again at 10:21:45, nothing else: 3, one parameter of seven, a red single parameter
      { at: '2000-05-18T10:21:45Z', news2_total: 3, news2_band: 'incomplete', news2_alert: 'low-medium', parameters_present: 1,
        resp_rate_score: 0, spo2_score: 3, systolic_bp_score: 0, heart_rate_score: 0, temperature_score: 0 },
      // resp 21.8 (21-24: 2), SpO2 81.9 (<= 91: 3), SBP 110 (101-110: 1), HR 166.5 (>= 131: 3), 41.5 C (>= 39.1: 2) = 11
      { at: '2020-10-04T15:20:57Z', news2_total: 11, news2_band: 'incomplete', news2_alert: 'high', parameters_present: 5,
        resp_rate_score: 2, spo2_score: 3, systolic_bp_score: 1, heart_rate_score: 3, temperature_score: 2 },
    ]);
  });

  it('says insufficient_data, not stable, for yearly visits, and flags the fevers above 41 C', async () => {
    const trends = await db.all<{ trend: string; n_max: number; rows: number }>(
      `SELECT trend, max(n)::INTEGER AS n_max, count(*)::INTEGER AS rows FROM trends GROUP BY trend ORDER BY trend`,
    );
    const insufficient = trends.find((t) => t.trend === 'insufficient_data');
    expect(insufficient?.n_max).toBe(2);
    // the few metrics with 3+ readings within 24 h (inpatient stays) get a trend; the rest are not called stable
    expect(insufficient?.rows).toBeGreaterThan(trends.filter((t) => t.trend !== 'insufficient_data').reduce((a, t) => a + t.rows, 0));
    // 15 temperatures in the file are above 41.0 (41.2 to 42.1), each its own hour
    expect(await db.scalar(`SELECT sum(alarming_n)::INTEGER FROM vitals_hourly WHERE metric = 'temperature_c'`)).toBe(15);
    expect(await db.scalar(`SELECT min(max)::DOUBLE FROM vitals_hourly WHERE metric = 'temperature_c' AND alarming_n > 0`)).toBe(41.2);
  });
});
