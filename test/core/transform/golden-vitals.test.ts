// Golden tests for the vitals models with hand-worked answers: NEWS2 sub-scores at every chart boundary
// (RCP 2017 Chart 1), the bands (Chart 2), the hourly and 5-minute aggregates of a small hand-made CSV file,
// blood-pressure categories (ACC/AHA 2017), glucose levels (ADA), weight gain in 72 h and trends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import type { Db } from '../../../src/db/db.js';
import { literal } from '../../../src/db/sql.js';
import { transformDb } from '../../../src/core/transform/transform.js';
import { tempDir } from '../../helpers/run-cli.js';
import { insertRows, openLakehouse, vital } from './helpers.js';

let db: Db;
let cleanup: () => void;

// [metric, value, expected score]: one patient-hour each, 5 h apart so no reading is carried into the next set
// (look-back 4 h): the total equals the parameter's score.
const NEWS2: [string, number, number][] = [
  ...([[40, 3], [41, 1], [50, 1], [51, 0], [90, 0], [91, 1], [110, 1], [111, 2], [130, 2], [131, 3]] as const).map(([v, s]) => ['heart_rate', v, s] as [string, number, number]),
  ...([[8, 3], [9, 1], [11, 1], [12, 0], [20, 0], [21, 2], [24, 2], [25, 3]] as const).map(([v, s]) => ['resp_rate', v, s] as [string, number, number]),
  ...([[91, 3], [92, 2], [93, 2], [94, 1], [95, 1], [96, 0], [100, 0]] as const).map(([v, s]) => ['spo2', v, s] as [string, number, number]),
  ...([[35.0, 3], [35.1, 1], [36.0, 1], [36.1, 0], [38.0, 0], [38.1, 1], [39.0, 1], [39.1, 2]] as const).map(([v, s]) => ['temperature_c', v, s] as [string, number, number]),
  ...([[90, 3], [91, 2], [100, 2], [101, 1], [110, 1], [111, 0], [219, 0], [220, 3]] as const).map(([v, s]) => ['systolic_bp', v, s] as [string, number, number]),
  ['consciousness', 0, 0],
  ['consciousness', 1, 3],
  ['o2_supplemental', 0, 0],
  ['o2_supplemental', 1, 2],
];
const SCORE_COLUMN: Record<string, string> = {
  heart_rate: 'heart_rate_score', resp_rate: 'resp_rate_score', spo2: 'spo2_score', temperature_c: 'temperature_score',
  systolic_bp: 'systolic_bp_score', consciousness: 'consciousness_score', o2_supplemental: 'o2_supplemental_score',
};
const CHART = ['resp_rate', 'spo2', 'o2_supplemental', 'systolic_bp', 'heart_rate', 'consciousness', 'temperature_c'];
const hour = (h: number): string => new Date(Date.parse('2026-01-06T00:00:00Z') + h * 3_600_000).toISOString();

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  db = await openLakehouse(t.dir);
  const csv = fileURLToPath(new URL('./fixtures/vitals-small.csv', import.meta.url));
  await db.run(`INSERT INTO raw_vitals (reading_id, patient_id, metric, value, unit, measured_at, _load_id, _source_file, _source_line)
    SELECT reading_id, patient_id, metric, value, unit, measured_at, 'L-csv', 'vitals-small.csv', row_number() OVER () + 1
    FROM read_csv(${literal(csv)}, header = true, columns = {'reading_id': 'VARCHAR', 'patient_id': 'VARCHAR', 'metric': 'VARCHAR',
      'value': 'DOUBLE', 'unit': 'VARCHAR', 'measured_at': 'TIMESTAMPTZ'})`);
  await insertRows(db, 'vitals', NEWS2.map(([m, v], i) => vital('PT-N', m, v, hour(5 * i))), 'L-news2');
  // Bands, patient PT-BAND, one complete set every 5 h (so nothing carries over; the parameters not named read
  // normal and score 0: resp 16, SpO2 97, air, SBP 120, HR 70, alert, 37.0 C), hand totals:
  //  h0: resp 21 (2) + HR 111 (2) = 4, no 3 -> low
  //  h1: SpO2 91 (3) alone = 3 -> low-medium
  //  h2: SpO2 91 (3) + temp 38.5 (1) = 4 with a single 3 -> low-medium
  //  h3: SpO2 91 (3) + resp 21 (2) = 5 -> medium
  //  h4: resp 21 (2) + HR 111 (2) + O2 (2) = 6 -> medium
  //  h5: resp 25 (3) + SBP 100 (2) + HR 111 (2) = 7 -> high
  //  h6: HR 131 (3) read at :10, then HR 60 (0) at :50: the most recent reading counts -> 0, low
  //  h7: all seven parameters at 0 -> total 0, nothing missing
  const B = 'PT-BAND';
  const at = (h: number, min: number): string => new Date(Date.parse(hour(h)) + min * 60_000).toISOString();
  const NORMAL: Record<string, number> = { resp_rate: 16, spo2: 97, o2_supplemental: 0, systolic_bp: 120, heart_rate: 70, consciousness: 0, temperature_c: 37 };
  const set = (k: number, over: Record<string, number>): ReturnType<typeof vital>[] =>
    CHART.filter((m) => !(m in over)).map((m) => vital(B, m, NORMAL[m] as number, at(5 * k, 1)))
      .concat(Object.entries(over).map(([m, v]) => vital(B, m, v, at(5 * k, 2))));
  await insertRows(db, 'vitals', [
    ...set(0, { resp_rate: 21, heart_rate: 111 }),
    ...set(1, { spo2: 91 }),
    ...set(2, { spo2: 91, temperature_c: 38.5 }),
    ...set(3, { spo2: 91, resp_rate: 21 }),
    ...set(4, { resp_rate: 21, heart_rate: 111, o2_supplemental: 1 }),
    ...set(5, { resp_rate: 25, systolic_bp: 100, heart_rate: 111 }),
    ...set(6, {}).filter((r) => r.metric !== 'heart_rate'), vital(B, 'heart_rate', 131, at(30, 10)), vital(B, 'heart_rate', 60, at(30, 50)),
    ...set(7, {}),
  ], 'L-bands');
  // Blood pressure (ACC/AHA 2017), patient PT-BP, one hour each: [sbp, dbp] -> category.
  const bp: [number, number][] = [[119, 79], [120, 79], [129, 79], [130, 79], [119, 80], [139, 89], [140, 70], [110, 90], [180, 119], [181, 80], [150, 121], [119.5, 79]];
  await insertRows(db, 'vitals', bp.flatMap(([s, d], i) => [vital('PT-BP', 'systolic_bp', s, at(i, 5)), vital('PT-BP', 'diastolic_bp', d, at(i, 6))]), 'L-bp');
  // A systolic reading with no diastolic in its hour: no category.
  await insertRows(db, 'vitals', [vital('PT-BP', 'systolic_bp', 150, at(20, 5))], 'L-bp2');
  // Glucose (ADA), patient PT-GLU, one reading an hour.
  const glu = [53, 54, 69, 70, 180, 181, 250, 251];
  await insertRows(db, 'vitals', glu.map((g, i) => vital('PT-GLU', 'glucose_mg_dl', g, at(i, 0))), 'L-glu');
  // An hour with 50 and 300: the low reading wins (hypoglycaemia is the more urgent).
  await insertRows(db, 'vitals', [vital('PT-GLU', 'glucose_mg_dl', 50, at(10, 0)), vital('PT-GLU', 'glucose_mg_dl', 300, at(10, 30))], 'L-glu2');
  // Weight, patient PT-W: 70.0 at h0, 72.0 at h24 (gain 2.0: not over 2), 72.1 at h48 (gain 2.1 over 70.0: flag),
  // 72.3 at h73 (the 70.0 is now 73 h old: gain over min(72.0, 72.1, 72.3) = 0.3).
  await insertRows(db, 'vitals', [
    vital('PT-W', 'weight_kg', 70.0, at(0, 0)), vital('PT-W', 'weight_kg', 72.0, at(24, 0)),
    vital('PT-W', 'weight_kg', 72.1, at(48, 0)), vital('PT-W', 'weight_kg', 72.3, at(73, 0)),
  ], 'L-w');
  // Trends over the last 24 h (patient PT-T): glucose 100, 110, ..., 150 hourly (slope 10/h: increasing);
  // heart rate 80 constant over 5 readings (stable, cv 0); SpO2 two readings (too few: insufficient_data);
  // resp_rate 10, 30, 10, 30 (cv = 11.547/20 = 0.577 >= 0.36: volatile); an old systolic reading 30 h before the
  // rest is outside the window: 140, 120, 119, 121 -> the 140 is dropped.
  await insertRows(db, 'vitals', [
    ...[100, 110, 120, 130, 140, 150].map((g, i) => vital('PT-T', 'glucose_mg_dl', g, at(i, 0))),
    ...[0, 1, 2, 3, 4].map((i) => vital('PT-T', 'heart_rate', 80, at(i, 0))),
    vital('PT-T', 'spo2', 90, at(0, 0)), vital('PT-T', 'spo2', 99, at(1, 0)),
    ...[10, 30, 10, 30].map((r, i) => vital('PT-T', 'resp_rate', r, at(i, 0))),
    vital('PT-T', 'systolic_bp', 140, at(0, 0)), vital('PT-T', 'systolic_bp', 120, at(30, 0)),
    vital('PT-T', 'systolic_bp', 119, at(31, 0)), vital('PT-T', 'systolic_bp', 121, at(32, 0)),
  ], 'L-trend');
  const r = await transformDb(db, { cwd: t.dir, env: {} });
  expect(r.tests.filter((x) => x.status === 'fail')).toEqual([]);
});

afterAll(() => {
  db?.close();
  cleanup?.();
});

describe('vitals_hourly and vitals_5min over a hand-made file', () => {
  it('computes n, min, max, avg and continuous p95 per patient, metric and UTC hour', async () => {
    const rows = await db.all(
      `SELECT patient_id, metric, strftime(hour_start, '%Y-%m-%dT%H:%M:%SZ') AS hour_start, n::INTEGER AS n, min, max, avg, round(p95, 9) AS p95
       FROM vitals_hourly WHERE patient_id IN ('PT-A', 'PT-B') ORDER BY patient_id, metric, hour_start`,
    );
    expect(rows).toEqual([
      // 60, 70, 80, 90: avg 75; p95 at rank 3 x 0.95 = 2.85 -> 80 + 0.85 x 10 = 88.5
      { patient_id: 'PT-A', metric: 'heart_rate', hour_start: '2026-01-05T10:00:00Z', n: 4, min: 60, max: 90, avg: 75, p95: 88.5 },
      { patient_id: 'PT-A', metric: 'heart_rate', hour_start: '2026-01-05T11:00:00Z', n: 1, min: 100, max: 100, avg: 100, p95: 100 },
      // 93, 95, 97: avg 95; p95 at 2 x 0.95 = 1.9 -> 95 + 0.9 x 2 = 96.8
      { patient_id: 'PT-A', metric: 'spo2', hour_start: '2026-01-05T10:00:00Z', n: 3, min: 93, max: 97, avg: 95, p95: 96.8 },
      { patient_id: 'PT-B', metric: 'heart_rate', hour_start: '2026-01-05T10:00:00Z', n: 1, min: 55, max: 55, avg: 55, p95: 55 },
      // 10:31+01:00 is 09:31 UTC
      { patient_id: 'PT-B', metric: 'temperature_c', hour_start: '2026-01-05T09:00:00Z', n: 1, min: 36.5, max: 36.5, avg: 36.5, p95: 36.5 },
    ]);
  });

  it('cuts 5-minute windows aligned to the hour', async () => {
    const rows = await db.all(
      `SELECT metric, strftime(window_start, '%H:%M') AS w, n::INTEGER AS n, min, max, avg FROM vitals_5min
       WHERE patient_id = 'PT-A' ORDER BY metric, window_start`,
    );
    expect(rows).toEqual([
      { metric: 'heart_rate', w: '10:00', n: 2, min: 60, max: 70, avg: 65 },
      { metric: 'heart_rate', w: '10:05', n: 1, min: 80, max: 80, avg: 80 },
      { metric: 'heart_rate', w: '10:55', n: 1, min: 90, max: 90, avg: 90 },
      { metric: 'heart_rate', w: '11:00', n: 1, min: 100, max: 100, avg: 100 },
      { metric: 'spo2', w: '10:10', n: 1, min: 97, max: 97, avg: 97 },
      { metric: 'spo2', w: '10:20', n: 1, min: 95, max: 95, avg: 95 },
      { metric: 'spo2', w: '10:30', n: 1, min: 93, max: 93, avg: 93 },
    ]);
    expect(await db.scalar("SELECT count(*)::INTEGER FROM vitals_5min WHERE patient_id IN ('PT-A', 'PT-B')")).toBe(9);
  });

  it('scores NEWS2 for the file from the latest reading of each parameter, carried forward within 4 h', async () => {
    const rows = await db.all(
      `SELECT patient_id, strftime(hour_start, '%H') AS h, strftime(scored_at, '%H:%M:%S') AS scored_at, news2_total, news2_band,
              parameters_present, missing, heart_rate_score, spo2_score, heart_rate_age_min, spo2_age_min, temperature_age_min
       FROM news2_hourly WHERE patient_id IN ('PT-A', 'PT-B') ORDER BY patient_id, hour_start`,
    );
    const rest5 = ['resp_rate', 'o2_supplemental', 'systolic_bp', 'consciousness', 'temperature_c'];
    expect(rows).toEqual([
      // scored at 10:59:59: HR latest 90 (0, age 0), SpO2 latest 93 at 10:30 (2, age 29.98 min); 2 of 7: incomplete
      { patient_id: 'PT-A', h: '10', scored_at: '10:59:59', news2_total: 2, news2_band: 'incomplete', parameters_present: 2, missing: rest5, heart_rate_score: 0, spo2_score: 2, heart_rate_age_min: 0, spo2_age_min: 29 + 59 / 60, temperature_age_min: null },
      // scored at 11:00: HR 100 (1); the SpO2 93 from 10:30 is carried forward (age 30 min, score 2): total 3
      { patient_id: 'PT-A', h: '11', scored_at: '11:00:00', news2_total: 3, news2_band: 'incomplete', parameters_present: 2, missing: rest5, heart_rate_score: 1, spo2_score: 2, heart_rate_age_min: 0, spo2_age_min: 30, temperature_age_min: null },
      { patient_id: 'PT-B', h: '09', scored_at: '09:31:00', news2_total: 0, news2_band: 'incomplete', parameters_present: 1, missing: ['resp_rate', 'spo2', 'o2_supplemental', 'systolic_bp', 'heart_rate', 'consciousness'], heart_rate_score: 0, spo2_score: 0, heart_rate_age_min: null, spo2_age_min: null, temperature_age_min: 0 },
      // HR 55 at 10:30 with the 36.5 C from 09:31 (59 min old) carried forward
      { patient_id: 'PT-B', h: '10', scored_at: '10:30:00', news2_total: 0, news2_band: 'incomplete', parameters_present: 2, missing: ['resp_rate', 'spo2', 'o2_supplemental', 'systolic_bp', 'consciousness'], heart_rate_score: 0, spo2_score: 0, heart_rate_age_min: 0, spo2_age_min: null, temperature_age_min: 59 },
    ]);
  });
});

describe('NEWS2 (RCP 2017)', () => {
  it.each(NEWS2.map((c, i) => [...c, i] as const))('%s %s scores %s', async (metric, _value, score, i) => {
    const col = SCORE_COLUMN[metric] as string;
    const row = (await db.all<Record<string, unknown>>(
      `SELECT news2_total, missing, ${col} AS score, news2_band, news2_alert FROM news2_hourly WHERE patient_id = 'PT-N' AND hour_start = $h::TIMESTAMPTZ`,
      { h: hour(5 * i) },
    ))[0];
    // One parameter of seven: the band is incomplete; a parameter scoring 3 still raises the low-medium alert.
    expect(row).toEqual({ news2_total: score, missing: CHART.filter((m) => m !== metric), score, news2_band: 'incomplete', news2_alert: score === 3 ? 'low-medium' : null });
  });

  it('bands: low, low-medium for a single 3 with total <= 4, medium 5-6, high >= 7, latest reading wins', async () => {
    const rows = await db.all<{ h: string; news2_total: number; news2_band: string; news2_alert: string | null; missing: string[]; complete: boolean }>(
      `SELECT strftime(hour_start, '%d %H') AS h, news2_total, news2_band, news2_alert, missing, complete FROM news2_hourly WHERE patient_id = 'PT-BAND' ORDER BY hour_start`,
    );
    expect(rows.map((r) => [r.h, r.news2_total, r.news2_band, r.news2_alert])).toEqual([
      ['06 00', 4, 'low', null],
      ['06 05', 3, 'low-medium', 'low-medium'],
      ['06 10', 4, 'low-medium', 'low-medium'],
      ['06 15', 5, 'medium', 'medium'],
      ['06 20', 6, 'medium', 'medium'],
      ['07 01', 7, 'high', 'high'],
      ['07 06', 0, 'low', null],
      ['07 11', 0, 'low', null],
    ]);
    expect(rows.every((r) => r.complete && r.missing.length === 0)).toBe(true);
  });
});

describe('vitals_flags', () => {
  it('categorises blood pressure by ACC/AHA 2017, the higher category when systolic and diastolic disagree', async () => {
    const rows = await db.all<{ bp_category: string | null }>(
      "SELECT bp_category FROM vitals_flags WHERE patient_id = 'PT-BP' ORDER BY hour_start",
    );
    expect(rows.map((r) => r.bp_category)).toEqual([
      'normal', 'elevated', 'elevated', 'stage_1', 'stage_1', 'stage_1', 'stage_2', 'stage_2', 'stage_2', 'crisis', 'crisis', 'normal', null,
    ]);
  });

  it('grades glucose by ADA: < 54 level 2, 54-69 level 1, > 180 high, > 250 very high', async () => {
    const rows = await db.all<{ glucose_level: string }>("SELECT glucose_level FROM vitals_flags WHERE patient_id = 'PT-GLU' ORDER BY hour_start");
    expect(rows.map((r) => r.glucose_level)).toEqual([
      'hypo_level_2', 'hypo_level_1', 'hypo_level_1', 'in_range', 'in_range', 'high', 'high', 'very_high', 'hypo_level_2',
    ]);
  });

  it('flags a weight gain over 2 kg within 72 h', async () => {
    const rows = await db.all<{ g: number; weight_gain_flag: boolean }>(
      "SELECT round(weight_gain_72h_kg, 6) AS g, weight_gain_flag FROM vitals_flags WHERE patient_id = 'PT-W' ORDER BY hour_start",
    );
    expect(rows).toEqual([
      { g: 0, weight_gain_flag: false },
      { g: 2, weight_gain_flag: false },
      { g: 2.1, weight_gain_flag: true },
      { g: 0.3, weight_gain_flag: false },
    ]);
    expect(await db.scalar("SELECT count(*)::INTEGER FROM vitals_flags WHERE patient_id = 'PT-BP' AND weight_gain_72h_kg IS NOT NULL")).toBe(0);
  });
});

describe('trends', () => {
  it('classifies volatile, increasing, decreasing and stable over the last 24 h', async () => {
    const rows = await db.all<Record<string, unknown>>(
      `SELECT metric, n::INTEGER AS n, round(mean, 6) AS mean, round(cv, 6) AS cv, round(slope_per_h, 6) AS slope_per_h, trend
       FROM trends WHERE patient_id = 'PT-T' ORDER BY metric`,
    );
    expect(rows).toEqual([
      // 100..150: mean 125, sd 18.708287, cv 0.149666; slope 10/h x 24 = 240 >= 0.05 x 125
      { metric: 'glucose_mg_dl', n: 6, mean: 125, cv: 0.149666, slope_per_h: 10, trend: 'increasing' },
      { metric: 'heart_rate', n: 5, mean: 80, cv: 0, slope_per_h: 0, trend: 'stable' },
      // 10, 30, 10, 30: sd 11.547005, cv 0.57735
      { metric: 'resp_rate', n: 4, mean: 20, cv: 0.57735, slope_per_h: 4, trend: 'volatile' },
      // two readings, below min_points 3: insufficient_data, not stable
      { metric: 'spo2', n: 2, mean: 94.5, cv: 0.067344, slope_per_h: 9, trend: 'insufficient_data' },
      // 120, 119, 121 (the 140 is 30 h old): mean 120, sd 1, cv 0.008333, slope 0.5/h x 24 = 12 >= 6: increasing
      { metric: 'systolic_bp', n: 3, mean: 120, cv: 0.008333, slope_per_h: 0.5, trend: 'increasing' },
    ]);
  });
});
