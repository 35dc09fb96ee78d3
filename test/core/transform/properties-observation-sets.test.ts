// Property test: NEWS2 observation sets through the real model agree with a plain JS reading of the rules on
// random readings: random parameters at random 5-minute instants (ties and readings exactly the look-back old included) over 8 h per patient. Each hour
// with a reading is scored at its latest reading from the latest value of each parameter no older than the
// look-back (ties on the instant: greatest reading_id); band `incomplete` unless all 7 are present; the alert is the
// Chart 2 band the present parameters reach.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Db } from '../../../src/db/db.js';
import { loadRules, NEWS2_PARAMETERS, type BandedScore } from '../../../src/core/transform/rules.js';
import { transformDb } from '../../../src/core/transform/transform.js';
import { tempDir } from '../../helpers/run-cli.js';
import { insertRows, openLakehouse } from './helpers.js';

const rules = loadRules(null).rules;
const LOOKBACK_MIN = rules.news2.observation_set.lookback_h * 60;
const T0 = Date.parse('2026-05-01T00:00:00Z');
const UNITS: Record<string, string> = {
  resp_rate: '/min', spo2: '%', o2_supplemental: '{flag}', systolic_bp: 'mmHg', heart_rate: '/min', consciousness: '{score}', temperature_c: 'Cel',
};
const RANGES: Record<string, [number, number]> = {
  resp_rate: [4, 40], spo2: [80, 100], o2_supplemental: [0, 1], systolic_bp: [70, 240], heart_rate: [30, 160], consciousness: [0, 1], temperature_c: [340, 410],
};

function bandScore(v: number, b: Pick<BandedScore, 'bands' | 'above'>): number {
  for (const band of b.bands) if (v <= band.max) return band.score;
  return b.above;
}

interface Reading { id: string; metric: string; value: number; min: number }

const readingArb = fc.record({
  metric: fc.constantFrom(...NEWS2_PARAMETERS),
  // 5-minute steps: readings exactly lookback_h apart (and same-instant ties) occur often
  min: fc.integer({ min: 0, max: 95 }).map((x) => x * 5),
  raw: fc.integer({ min: 0, max: 1_000_000 }),
});
const patients = fc.sample(fc.array(readingArb, { minLength: 1, maxLength: 40 }), { numRuns: 80, seed: 15 }).map((rs, p) =>
  rs.map((r, i): Reading => {
    const [lo, hi] = RANGES[r.metric] as [number, number];
    const x = lo + (r.raw % (hi - lo + 1));
    return { id: `R-${String(p).padStart(3, '0')}-${String(i).padStart(3, '0')}`, metric: r.metric, value: r.metric === 'temperature_c' ? x / 10 : x, min: r.min };
  }),
);

function expected(p: number, rs: Reading[]): Record<string, unknown>[] {
  const hours = [...new Set(rs.map((r) => Math.floor(r.min / 60)))].sort((a, b) => a - b);
  return hours.map((h) => {
    const at = Math.max(...rs.filter((r) => Math.floor(r.min / 60) === h).map((r) => r.min));
    const used = NEWS2_PARAMETERS.map((m) => {
      const c = rs.filter((r) => r.metric === m && r.min <= at && at - r.min <= LOOKBACK_MIN);
      c.sort((a, b) => b.min - a.min || (a.id < b.id ? 1 : -1));
      return c[0];
    });
    const scores = NEWS2_PARAMETERS.map((m, i) => (used[i] ? bandScore((used[i] as Reading).value, rules.news2[m]) : 0));
    const total = scores.reduce((a, b) => a + b, 0);
    const b = rules.news2.bands;
    const floor = total >= b.high_min ? 'high' : total >= b.medium_min ? 'medium' : scores.some((s) => s >= b.low_medium_single) ? 'low-medium' : 'low';
    const present = used.filter(Boolean).length;
    return {
      patient_id: `PT-${p}`, h, at, news2_total: total, news2_band: present === 7 ? floor : 'incomplete', news2_alert: floor === 'low' ? null : floor,
      parameters_present: present, missing: NEWS2_PARAMETERS.filter((_, i) => !used[i]),
      ages: used.map((u) => (u ? at - u.min : null)),
    };
  });
}

let db: Db;
let cleanup: () => void;

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  db = await openLakehouse(t.dir);
  await insertRows(db, 'vitals', patients.flatMap((rs, p) => rs.map((r) => ({
    reading_id: r.id, patient_id: `PT-${p}`, metric: r.metric, value: r.value, unit: UNITS[r.metric] ?? '',
    measured_at: new Date(T0 + r.min * 60_000).toISOString(),
  }))), 'L-prop-sets');
  const r = await transformDb(db, { cwd: t.dir, env: {}, select: ['news2_hourly'] });
  expect(r.tests.filter((x) => x.status === 'fail')).toEqual([]);
}, 60_000);

afterAll(() => {
  db?.close();
  cleanup?.();
});

describe('NEWS2 observation sets through the model', () => {
  it('carry values forward, band and alert as the RCP chart and the look-back say, on random readings', async () => {
    const got = await db.all<Record<string, unknown>>(
      `SELECT patient_id, ((epoch(hour_start) - $t0) / 3600)::INTEGER AS h, ((epoch(scored_at) - $t0) / 60)::INTEGER AS at,
              news2_total, news2_band, news2_alert, parameters_present, missing,
              [resp_rate_age_min, spo2_age_min, o2_supplemental_age_min, systolic_bp_age_min, heart_rate_age_min, consciousness_age_min, temperature_age_min] AS ages
       FROM news2_hourly ORDER BY patient_id, hour_start`,
      { t0: T0 / 1000 },
    );
    const want = patients.flatMap((rs, p) => expected(p, rs)).sort((a, b) => String(a.patient_id).localeCompare(String(b.patient_id)) || (a.h as number) - (b.h as number));
    expect(got.length).toBeGreaterThan(200);
    expect(got).toEqual(want);
    // the sample exercises carrying: sets with a value from an earlier hour, and values dropped for age
    expect(want.some((w) => (w.ages as (number | null)[]).some((a) => a !== null && a >= 60))).toBe(true);
    expect(want.filter((w) => w.news2_band !== 'incomplete').length).toBeGreaterThan(0);
  });
});
