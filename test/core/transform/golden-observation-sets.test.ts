// Golden tests, worked by hand, at every boundary of issue 15's vitals rules: the NEWS2 observation-set look-back
// (a value exactly lookback_h old counts, a second older does not; the default 4 h and a rules override of 1 h),
// completeness and the alert a partial set still raises, SpO2 Scale 2 per patient (RCP 2017 Chart 1) and the trend
// window and minimum number of points (default and overridden for yearly visits).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../../../src/db/db.js';
import { transformDb } from '../../../src/core/transform/transform.js';
import { tempDir } from '../../helpers/run-cli.js';
import { insertRows, openLakehouse, vital } from './helpers.js';

let db: Db;
let cleanup: () => void;

type Row = Record<string, unknown>;
/** Marts of the run with the shipped rules, copied before the override run replaces them. */
const DEFAULT_TABLES = ['news2_hourly', 'trends'] as const;

const t = (iso: string, plusS = 0): string => new Date(Date.parse(iso) + plusS * 1000).toISOString();
const H = 3600;

// SpO2 Scale 2 cases, one set every 5 h for PT-S2 (on Scale 2 by the rules override) and the same for PT-S1
// (Scale 1): [SpO2, O2 reading (1 oxygen, 0 air, null none), Scale 2 score, Scale 1 score].
const SCALE2: [number, number | null, number, number][] = [
  [83, 0, 3, 3], [84, 0, 2, 3], [85, 0, 2, 3], [86, 0, 1, 3], [87, 0, 1, 3], [88, 0, 0, 3], [92, 0, 0, 2],
  [93, 0, 0, 2], [97, 0, 0, 0], [88, 1, 0, 3], [92, 1, 0, 2], [93, 1, 1, 2], [94, 1, 1, 1], [95, 1, 2, 1], [96, 1, 2, 0],
  [97, 1, 3, 0], [97, null, 0, 0], [93, null, 0, 2],
];
const S0 = '2026-03-01T00:00:00Z';

beforeAll(async () => {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  db = await openLakehouse(tmp.dir);
  await insertRows(db, 'vitals', [
    // Look-back 4 h: the heart rate at 10:00 is exactly 240 min old when the 14:00:00 SpO2 completes PT-LB's set...
    vital('PT-LB', 'heart_rate', 131, '2026-03-01T10:00:00Z'), vital('PT-LB', 'spo2', 97, '2026-03-01T14:00:00Z'),
    // ...and 240 min 1 s old at 14:00:01 for PT-LB2: missing.
    vital('PT-LB2', 'heart_rate', 131, '2026-03-01T10:00:00Z'), vital('PT-LB2', 'spo2', 97, '2026-03-01T14:00:01Z'),
    // 1 h apart: in the set under both look-backs (4 h default, 1 h override: exactly 60 min)
    vital('PT-LB1', 'heart_rate', 131, '2026-03-01T10:00:00Z'), vital('PT-LB1', 'spo2', 97, '2026-03-01T11:00:00Z'),
    // A later reading of the same parameter replaces the carried one; a tie on measured_at goes to the greatest id.
    vital('PT-LB3', 'heart_rate', 131, '2026-03-01T10:00:00Z'), vital('PT-LB3', 'heart_rate', 60, '2026-03-01T12:30:00Z'),
    vital('PT-LB3', 'spo2', 97, '2026-03-01T13:00:00Z'),
    vital('PT-TIE', 'heart_rate', 131, '2026-03-01T10:00:00Z', 'VR-TIE-A'), vital('PT-TIE', 'heart_rate', 60, '2026-03-01T10:00:00Z', 'VR-TIE-B'),
    // A partial set already past the high threshold: resp 25 (3) + SBP 90 (3) + HR 131 (3) = 9 with 3 of 7 present.
    vital('PT-FLOOR', 'resp_rate', 25, '2026-03-01T08:00:00Z'), vital('PT-FLOOR', 'systolic_bp', 90, '2026-03-01T08:01:00Z'),
    vital('PT-FLOOR', 'heart_rate', 131, '2026-03-01T08:02:00Z'),
    // Partial sets at the Chart 2 edges, each alone (no 3): 5 -> medium, 6 -> medium, 7 -> high.
    vital('PT-F5', 'resp_rate', 21, '2026-03-01T08:00:00Z'), vital('PT-F5', 'heart_rate', 111, '2026-03-01T08:00:00Z'), vital('PT-F5', 'temperature_c', 38.5, '2026-03-01T08:00:00Z'),
    vital('PT-F6', 'resp_rate', 21, '2026-03-01T08:00:00Z'), vital('PT-F6', 'heart_rate', 111, '2026-03-01T08:00:00Z'), vital('PT-F6', 'systolic_bp', 100, '2026-03-01T08:00:00Z'),
    vital('PT-F7', 'resp_rate', 21, '2026-03-01T08:00:00Z'), vital('PT-F7', 'heart_rate', 111, '2026-03-01T08:00:00Z'), vital('PT-F7', 'systolic_bp', 100, '2026-03-01T08:00:00Z'),
    vital('PT-F7', 'temperature_c', 38.5, '2026-03-01T08:00:00Z'),
    // A partial set of 4 (total 4, no 3): no alert; the same with the SpO2 at 91 (3): a low-medium alert.
    vital('PT-PART', 'resp_rate', 21, '2026-03-01T08:00:00Z'), vital('PT-PART', 'heart_rate', 111, '2026-03-01T08:00:00Z'),
    vital('PT-PART', 'spo2', 97, '2026-03-01T08:00:00Z'), vital('PT-PART', 'temperature_c', 37, '2026-03-01T08:00:00Z'),
    vital('PT-PART', 'spo2', 91, '2026-03-01T13:00:00Z'),
    // SpO2 Scale 2 vs Scale 1
    ...SCALE2.flatMap(([spo2, o2], i) =>
      ['PT-S2', 'PT-S1'].flatMap((p) => [
        vital(p, 'spo2', spo2, t(S0, i * 5 * H)),
        ...(o2 === null ? [] : [vital(p, 'o2_supplemental', o2, t(S0, i * 5 * H))]),
      ]),
    ),
    // Trend minimum and window (defaults: 3 readings in 24 h): 2 readings -> insufficient_data; 3 -> a trend.
    ...[100, 100].map((g, i) => vital('PT-TR2', 'glucose_mg_dl', g, t('2026-03-01T00:00:00Z', i * H))),
    ...[100, 100, 100].map((g, i) => vital('PT-TR3', 'glucose_mg_dl', g, t('2026-03-01T00:00:00Z', i * H))),
    // the first reading exactly 24 h before the last: in the window (3 points)...
    ...[0, 12, 24].map((h) => vital('PT-TRW', 'glucose_mg_dl', 100, t('2026-03-01T00:00:00Z', h * H))),
    // ...1 s earlier: out of it (2 points)
    vital('PT-TRW2', 'glucose_mg_dl', 100, t('2026-03-01T00:00:00Z', -1)),
    ...[12, 24].map((h) => vital('PT-TRW2', 'glucose_mg_dl', 100, t('2026-03-01T00:00:00Z', h * H))),
    // Yearly visits (Synthea-like): one reading per 24 h window by default.
    ...['2024-01-01', '2025-01-01', '2026-01-01'].map((d, i) => vital('PT-YEAR', 'glucose_mg_dl', [100, 110, 120][i] as number, `${d}T09:00:00Z`)),
  ], 'L-sets');
  const r1 = await transformDb(db, { cwd: tmp.dir, env: {} });
  expect(r1.tests.filter((x) => x.status === 'fail')).toEqual([]);
  for (const m of DEFAULT_TABLES) await db.run(`CREATE TABLE default_${m} AS SELECT * FROM ${m}`);
  const rules = join(tmp.dir, 'override.rules.json');
  writeFileSync(rules, JSON.stringify({
    news2: { observation_set: { lookback_h: 1 }, spo2_scale2: { patients: ['PT-S2'] } },
    trends: { window_h: 17544, min_points: 2 },
  }));
  const r2 = await transformDb(db, { cwd: tmp.dir, env: {}, rulesPath: rules });
  expect(r2.tests.filter((x) => x.status === 'fail')).toEqual([]);
});

afterAll(() => {
  db?.close();
  cleanup?.();
});

const sets = (table: string, patient: string): Promise<Row[]> =>
  db.all<Row>(
    `SELECT strftime(hour_start, '%H') AS h, strftime(scored_at, '%H:%M:%S') AS scored_at, news2_total, news2_band, news2_alert,
            complete, parameters_present, heart_rate_score, heart_rate_age_min, spo2_age_min
     FROM ${table} WHERE patient_id = $p ORDER BY hour_start`,
    { p: patient },
  );

describe('NEWS2 observation-set look-back', () => {
  it('uses a value exactly 4 h old and drops one 4 h 1 s old (default look-back)', async () => {
    expect(await sets('default_news2_hourly', 'PT-LB')).toEqual([
      { h: '10', scored_at: '10:00:00', news2_total: 3, news2_band: 'incomplete', news2_alert: 'low-medium', complete: false, parameters_present: 1, heart_rate_score: 3, heart_rate_age_min: 0, spo2_age_min: null },
      // HR 131 (3) carried 240 min, SpO2 97 (0)
      { h: '14', scored_at: '14:00:00', news2_total: 3, news2_band: 'incomplete', news2_alert: 'low-medium', complete: false, parameters_present: 2, heart_rate_score: 3, heart_rate_age_min: 240, spo2_age_min: 0 },
    ]);
    expect((await sets('default_news2_hourly', 'PT-LB2'))[1]).toEqual(
      { h: '14', scored_at: '14:00:01', news2_total: 0, news2_band: 'incomplete', news2_alert: null, complete: false, parameters_present: 1, heart_rate_score: 0, heart_rate_age_min: null, spo2_age_min: 0 },
    );
  });

  it('follows the rules override (1 h): 60 min old counts, 4 h old does not', async () => {
    expect((await sets('news2_hourly', 'PT-LB1'))[1]).toMatchObject({ h: '11', parameters_present: 2, heart_rate_score: 3, heart_rate_age_min: 60 });
    expect((await sets('news2_hourly', 'PT-LB'))[1]).toMatchObject({ h: '14', parameters_present: 1, heart_rate_score: 0, heart_rate_age_min: null, news2_alert: null });
    expect((await sets('default_news2_hourly', 'PT-LB1'))[1]).toMatchObject({ h: '11', parameters_present: 2, heart_rate_age_min: 60 });
  });

  it('carries the latest value, not an older one, and breaks a tie on measured_at by reading_id', async () => {
    // 13:00: HR 60 from 12:30 (30 min, 0) replaces the 131 from 10:00
    expect((await sets('default_news2_hourly', 'PT-LB3'))[2]).toMatchObject({ h: '13', heart_rate_score: 0, heart_rate_age_min: 30, parameters_present: 2 });
    expect(await sets('default_news2_hourly', 'PT-TIE')).toMatchObject([{ h: '10', heart_rate_score: 0 }]);
  });
});

describe('NEWS2 on incomplete sets', () => {
  it('never bands a partial sum, and alerts on what the present parameters already reach', async () => {
    const floor = await db.all<Row>(`SELECT news2_total, news2_band, news2_alert, complete, parameters_present, missing
      FROM default_news2_hourly WHERE patient_id = 'PT-FLOOR'`);
    expect(floor).toEqual([
      { news2_total: 9, news2_band: 'incomplete', news2_alert: 'high', complete: false, parameters_present: 3, missing: ['spo2', 'o2_supplemental', 'consciousness', 'temperature_c'] },
    ]);
    // resp 21 (2) + HR 111 (2) + 38.5 C (1) = 5; + SBP 100 (2) instead of the temperature = 6; all four = 7
    expect(await db.all(`SELECT patient_id, news2_total, news2_band, news2_alert, parameters_present FROM default_news2_hourly
      WHERE patient_id IN ('PT-F5', 'PT-F6', 'PT-F7') ORDER BY patient_id`)).toEqual([
      { patient_id: 'PT-F5', news2_total: 5, news2_band: 'incomplete', news2_alert: 'medium', parameters_present: 3 },
      { patient_id: 'PT-F6', news2_total: 6, news2_band: 'incomplete', news2_alert: 'medium', parameters_present: 3 },
      { patient_id: 'PT-F7', news2_total: 7, news2_band: 'incomplete', news2_alert: 'high', parameters_present: 4 },
    ]);
    // 08:00: resp 21 (2) + HR 111 (2) + SpO2 97 + 37.0 C = 4, no single 3: no alert. 13:00: SpO2 91 (3) with the 08:00
    // values 5 h old dropped: 3 alone, a single red parameter: low-medium, 1 of 7 present.
    expect(await sets('default_news2_hourly', 'PT-PART')).toMatchObject([
      { h: '08', news2_total: 4, news2_band: 'incomplete', news2_alert: null, parameters_present: 4 },
      { h: '13', news2_total: 3, news2_band: 'incomplete', news2_alert: 'low-medium', parameters_present: 1 },
    ]);
  });
});

describe('SpO2 Scale 2 (RCP 2017, hypercapnic respiratory failure)', () => {
  it.each(SCALE2.map((c, i) => [...c, i] as const))('SpO2 %s with O2 %s scores %s on Scale 2 (Scale 1: %s)', async (_spo2, _o2, s2, s1, i) => {
    const at = t(S0, i * 5 * H);
    const score = async (table: string, p: string): Promise<unknown> =>
      db.scalar(`SELECT spo2_score FROM ${table} WHERE patient_id = $p AND hour_start = $h::TIMESTAMPTZ`, { p, h: at });
    expect(await score('news2_hourly', 'PT-S2')).toBe(s2);
    expect(await score('news2_hourly', 'PT-S1')).toBe(s1);
    // without the override every patient is on Scale 1
    expect(await score('default_news2_hourly', 'PT-S2')).toBe(s1);
  });
});

describe('trend window and minimum points', () => {
  const trend = (table: string, p: string): Promise<Row[]> =>
    db.all<Row>(`SELECT n::INTEGER AS n, trend FROM ${table} WHERE patient_id = $p AND metric = 'glucose_mg_dl'`, { p });

  it('says insufficient_data below min_points (3) and trends from min_points up', async () => {
    expect(await trend('default_trends', 'PT-TR2')).toEqual([{ n: 2, trend: 'insufficient_data' }]);
    expect(await trend('default_trends', 'PT-TR3')).toEqual([{ n: 3, trend: 'stable' }]);
  });

  it('includes a reading exactly window_h (24 h) before the last, not one a second older', async () => {
    expect(await trend('default_trends', 'PT-TRW')).toEqual([{ n: 3, trend: 'stable' }]);
    expect(await trend('default_trends', 'PT-TRW2')).toEqual([{ n: 2, trend: 'insufficient_data' }]);
  });

  it('gives yearly visits insufficient_data by default and a trend with a 2-year window and 2 points', async () => {
    expect(await trend('default_trends', 'PT-YEAR')).toEqual([{ n: 1, trend: 'insufficient_data' }]);
    // 17544 h = 731 days reaches back from 2026-01-01 09:00 to 2024-01-01 09:00 exactly: all 3 visits. Slope
    // 10 mg/dL per 365-366 days: far below 5% of the mean per 24 h, so stable.
    expect(await trend('trends', 'PT-YEAR')).toEqual([{ n: 3, trend: 'stable' }]);
    // min_points 2 now: the two-reading patient gets a trend
    expect(await trend('trends', 'PT-TR2')).toEqual([{ n: 2, trend: 'stable' }]);
  });
});
