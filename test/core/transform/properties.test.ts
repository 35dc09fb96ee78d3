// Property tests: the SQL scoring agrees with a plain JS reading of the rules on generated inputs.
// - band_score (the macro every banded rule uses) on random increasing bands and random values, incl. the bounds;
// - NEWS2 totals and bands on random patient-hours run through the real model;
// - robot risk level from random sub-scores run through the real model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Db } from '../../../src/db/db.js';
import { loadModels } from '../../../src/core/transform/models.js';
import { loadRules, NEWS2_PARAMETERS, type BandedScore } from '../../../src/core/transform/rules.js';
import { prepareSession, transformDb } from '../../../src/core/transform/transform.js';
import { tempDir } from '../../helpers/run-cli.js';
import { event, insertRows, openLakehouse, vital } from './helpers.js';

const rules = loadRules(null);

function bandScore(v: number, b: Pick<BandedScore, 'bands' | 'above'>): number {
  for (const band of b.bands) if (v <= band.max) return band.score;
  return b.above;
}

let db: Db;
let cleanup: () => void;
let dir: string;
beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  dir = t.dir;
  db = await openLakehouse(t.dir);
  await prepareSession(db, rules, loadModels());
});
afterAll(() => {
  db?.close();
  cleanup?.();
});

describe('band_score', () => {
  it('scores like the rules read: the first band whose max the value does not exceed, else above', async () => {
    const bandsArb = fc
      .uniqueArray(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 8 })
      .chain((maxes) =>
        fc.record({
          bands: fc.tuple(...[...maxes].sort((a, b) => a - b).map((max) => fc.integer({ min: 0, max: 3 }).map((score) => ({ max: max / 4, score })))),
          above: fc.integer({ min: 0, max: 3 }),
        }),
      );
    const caseArb = bandsArb.chain((b) =>
      fc.record({
        b: fc.constant(b),
        // values on a bound, just above one, or anywhere
        v: fc.oneof(fc.constantFrom(...b.bands.map((x) => x.max)), fc.constantFrom(...b.bands.map((x) => x.max + 0.0001)), fc.double({ min: -300, max: 300, noNaN: true })),
      }),
    );
    const cases = fc.sample(caseArb, { numRuns: 400, seed: 7 });
    const got = await db.all<{ i: number; s: number }>(
      `SELECT c.i::INTEGER AS i, band_score(c.v, c.maxes, c.scores, c.above) AS s
       FROM (SELECT unnest(from_json($cases, '[{"i":"INTEGER","v":"DOUBLE","maxes":"DOUBLE[]","scores":"INTEGER[]","above":"INTEGER"}]'), recursive := true)) c
       ORDER BY i`,
      { cases: JSON.stringify(cases.map((c, i) => ({ i, v: c.v, maxes: c.b.bands.map((x) => x.max), scores: c.b.bands.map((x) => x.score), above: c.b.above }))) },
    );
    expect(got.map((g) => g.s)).toEqual(cases.map((c) => bandScore(c.v, c.b)));
  });
});

describe('NEWS2 through the model', () => {
  it('totals and bands random patient-hours as the RCP chart says', async () => {
    const hourArb = fc.record(
      Object.fromEntries(
        NEWS2_PARAMETERS.map((p) => {
          const ranges: Record<string, [number, number]> = {
            resp_rate: [4, 40], spo2: [80, 100], o2_supplemental: [0, 1], systolic_bp: [70, 240], heart_rate: [30, 160], consciousness: [0, 1], temperature_c: [340, 410],
          };
          const [lo, hi] = ranges[p] as [number, number];
          const v = fc.integer({ min: lo, max: hi }).map((x) => (p === 'temperature_c' ? x / 10 : x));
          return [p, fc.option(v, { nil: null, freq: 5 })];
        }),
      ) as Record<string, fc.Arbitrary<number | null>>,
    );
    const hours = fc.sample(hourArb, { numRuns: 150, seed: 11 });
    const rows = hours.flatMap((h, i) =>
      Object.entries(h)
        .filter(([, v]) => v !== null)
        // 5 h apart: beyond the 4 h look-back, so each set stands alone
        .map(([m, v]) => vital('PT-P', m, v as number, new Date(Date.parse('2026-02-01T00:00:00Z') + i * 5 * 3_600_000 + 60_000).toISOString())),
    );
    await insertRows(db, 'vitals', rows, 'L-prop');
    await transformDb(db, { cwd: dir, env: {}, select: ['news2_hourly'] });
    const got = await db.all<{ i: number; news2_total: number; news2_band: string; news2_alert: string | null; missing: string[] }>(
      `SELECT ((epoch(hour_start) - epoch(TIMESTAMPTZ '2026-02-01 00:00:00+00')) / 3600 / 5)::INTEGER AS i, news2_total, news2_band, news2_alert, missing
       FROM news2_hourly WHERE patient_id = 'PT-P' ORDER BY hour_start`,
    );
    const want = hours
      .map((h, i) => {
        const scores = NEWS2_PARAMETERS.map((p) => (h[p] === null ? 0 : bandScore(h[p] as number, rules.rules.news2[p])));
        const total = scores.reduce((a, b) => a + b, 0);
        const band = total >= 7 ? 'high' : total >= 5 ? 'medium' : scores.some((s) => s === 3) ? 'low-medium' : 'low';
        const missing = NEWS2_PARAMETERS.filter((p) => h[p] === null) as string[];
        // A partial set has band incomplete; its alert is the band its present parameters already reach.
        return { i, news2_total: total, news2_band: missing.length > 0 ? 'incomplete' : band, news2_alert: band === 'low' ? null : band, missing, any: NEWS2_PARAMETERS.some((p) => h[p] !== null) };
      })
      .filter((w) => w.any)
      .map(({ any: _any, ...w }) => w);
    expect(got).toEqual(want);
  });
});

describe('robot risk levels through the model', () => {
  it('band the sum of random sub-scores as issue 5 says', async () => {
    const latency = [100, 250, 400, 600]; // scores 0..3
    const force = [6, 13, 16.5, 20]; // needle_driver 12 N: ratios 0.5, 1.08, 1.375, 1.67 -> 0..3
    const errors = [null, 'W-COMM', 'E-ARC']; // 0, 1, 3
    const combos = fc.sample(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 })), { numRuns: 120, seed: 3 });
    await insertRows(
      db,
      'telemetry',
      combos.map(([l, f, e], i) => event(`PX-${i}`, { procedure_id: `PR-PX-${i}`, latency_ms: latency[l] as number, force_n: force[f] as number, error_code: errors[e] ?? null })),
      'L-prop-risk',
    );
    await transformDb(db, { cwd: dir, env: {}, select: ['telemetry_risk'] });
    const got = await db.all<{ event_id: string; risk_score: number; risk_level: string }>(
      "SELECT event_id, risk_score, risk_level FROM telemetry_risk WHERE event_id LIKE 'PX-%' ORDER BY CAST(split_part(event_id, '-', 2) AS INTEGER)",
    );
    const want = combos.map(([l, f, e], i) => {
      const subs = [l, f, e === 2 ? 3 : e];
      const sum = subs.reduce((a, b) => a + b, 0);
      const level = sum >= 7 ? 'critical' : sum >= 5 || subs.includes(3) ? 'high' : sum >= 3 ? 'medium' : sum >= 1 ? 'low' : 'none';
      return { event_id: `PX-${i}`, risk_score: sum, risk_level: level };
    });
    expect(got).toEqual(want);
  });
});
