// Issue 15 (4): kinematics-only robots. Golden cases worked out by hand from the default rules: a measurement the
// event lacks gets a NULL sub-score and a `missing` entry, never a 0; tool-tip speed is banded (<=250 0, <=375 1,
// <=500 2, else 3) and, when not reported, derived from consecutive positions; motion_kpis differences speed into
// acceleration and jerk.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/db.js';
import { transformDb } from '../../../src/core/transform/transform.js';
import { tempDir } from '../../helpers/run-cli.js';
import { event, insertRows, openLakehouse } from './helpers.js';

let db: Db;
let cleanup: () => void;

// [event_id, overrides, latency_score, force_score, error_score, velocity_score, missing, risk, level]
type Case = [string, Record<string, unknown>, number | null, number | null, number | null, number | null, string[], number, string];
const CASES: Case[] = [
  ['K-FULL', {}, 0, 0, 0, 0, [], 0, 'none'],
  ['K-NOFORCE', { force_n: null }, 0, null, 0, 0, ['force'], 0, 'none'],
  ['K-NOFORCE-LAT', { force_n: null, latency_ms: 501 }, 3, null, 0, 0, ['force'], 3, 'high'],
  // No latency: the error code is unknown too (it travels with the console status), unless one is present.
  ['K-NOLAT', { latency_ms: null }, null, 0, null, 0, ['latency', 'error'], 0, 'none'],
  ['K-NOLAT-ERR', { latency_ms: null, error_code: 'E-ARC' }, null, 0, 3, 0, ['latency'], 3, 'high'],
  ['K-KIN', { force_n: null, latency_ms: null }, null, null, null, 0, ['force', 'latency', 'error'], 0, 'none'],
  ['K-NOTHING', { force_n: null, latency_ms: null, velocity_mm_s: null }, null, null, null, null, ['force', 'latency', 'error', 'velocity'], 0, 'none'],
  ['V-250', { velocity_mm_s: 250 }, 0, 0, 0, 0, [], 0, 'none'],
  ['V-250.1', { velocity_mm_s: 250.1 }, 0, 0, 0, 1, [], 1, 'low'],
  ['V-375', { velocity_mm_s: 375 }, 0, 0, 0, 1, [], 1, 'low'],
  ['V-376', { velocity_mm_s: 376 }, 0, 0, 0, 2, [], 2, 'low'],
  ['V-500', { velocity_mm_s: 500 }, 0, 0, 0, 2, [], 2, 'low'],
  ['V-501', { velocity_mm_s: 501 }, 0, 0, 0, 3, [], 3, 'high'],
  ['V-SUM-3', { velocity_mm_s: 251, latency_ms: 301 }, 2, 0, 0, 1, [], 3, 'medium'],
  ['V-KIN-400', { velocity_mm_s: 400, force_n: null, latency_ms: null }, null, null, null, 2, ['force', 'latency', 'error'], 2, 'low'],
  ['V-KIN-600', { velocity_mm_s: 600, force_n: null, latency_ms: null }, null, null, null, 3, ['force', 'latency', 'error'], 3, 'high'],
];

const at = (s: number): string => new Date(Date.parse('2026-01-05T12:00:00Z') + s * 1000).toISOString();

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  db = await openLakehouse(t.dir);
  await insertRows(db, 'telemetry', CASES.map(([id, over]) => event(id, { procedure_id: `PR-${id}`, ...over })));
  // Speed from positions: no velocity reported; 3-4-0 mm steps (5 mm) every 0.1 s = 50 mm/s, then a 100 mm jump
  // in 0.1 s = 1000 mm/s (score 3), then a 2 s gap (over motion.max_gap_s 1 s: no speed).
  const pos: [number, number, number, number][] = [[0, 0, 0, 0], [0.1, 3, 4, 0], [0.2, 6, 8, 0], [0.3, 106, 8, 0], [2.3, 106, 8, 0]];
  await insertRows(db, 'telemetry', pos.map(([s, x, y, z], i) =>
    event(`P-${i}`, { procedure_id: 'PR-POS', velocity_mm_s: null, force_n: null, latency_ms: null, tool_x_mm: x, tool_y_mm: y, tool_z_mm: z, recorded_at: at(s) })), 'L-test-2');
  // Scalar motion (no positions): speeds 10, 20, 40, 40, 10 mm/s every 0.1 s, then 3 mm/s after a 5 s gap.
  const speeds: [number, number][] = [[0, 10], [0.1, 20], [0.2, 40], [0.3, 40], [0.4, 10], [5.4, 3]];
  await insertRows(db, 'telemetry', speeds.map(([s, v], i) => event(`S-${i}`, { procedure_id: 'PR-SCALAR', velocity_mm_s: v, recorded_at: at(s) })), 'L-test-3');
  const r = await transformDb(db, { cwd: t.dir, env: {} });
  expect(r.tests_failed).toBe(0);
});

afterAll(() => {
  db?.close();
  cleanup?.();
});

describe('telemetry_risk on incomplete events', () => {
  it.each(CASES)('%s', async (id, _over, lat, force, err, vel, missing, risk, level) => {
    const [row] = await db.all<Record<string, unknown>>(
      'SELECT latency_score, force_score, error_score, velocity_score, missing, risk_score, risk_level FROM telemetry_risk WHERE event_id = $id', { id },
    );
    expect(row).toEqual({ latency_score: lat, force_score: force, error_score: err, velocity_score: vel, missing, risk_score: risk, risk_level: level });
  });

  it('keeps absent force and latency NULL in the mart (never an invented 0)', async () => {
    const [row] = await db.all<{ force_n: number | null; latency_ms: number | null }>("SELECT force_n, latency_ms FROM telemetry_risk WHERE event_id = 'K-KIN'");
    expect(row).toEqual({ force_n: null, latency_ms: null });
  });

  it('derives the speed from positions when none is reported, and skips gaps over max_gap_s', async () => {
    const rows = await db.all<{ event_id: string; velocity_mm_s: number | null; velocity_score: number | null }>(
      "SELECT event_id, velocity_mm_s, velocity_score FROM telemetry_risk WHERE procedure_id = 'PR-POS' ORDER BY event_id",
    );
    expect(rows.map((r) => [r.event_id, r.velocity_mm_s === null ? null : Math.round(r.velocity_mm_s * 1e6) / 1e6, r.velocity_score])).toEqual([
      ['P-0', null, null], ['P-1', 50, 0], ['P-2', 50, 0], ['P-3', 1000, 3], ['P-4', null, null],
    ]);
  });

  it('raises a velocity alert naming the speed, its threshold and what was not measured', async () => {
    const [a] = await db.all<{ level: string; triggers: string[]; reason: string }>("SELECT level, triggers, reason FROM alerts WHERE event_id = 'V-KIN-600'");
    expect(a).toEqual({ level: 'high', triggers: ['velocity'], reason: 'tool-tip speed 600 mm/s (>500); not measured: force, latency, error' });
  });
});

describe('motion_kpis', () => {
  it('differences reported speeds into acceleration and jerk, stopping at gaps', async () => {
    const [m] = await db.all<Record<string, number | null>>(
      `SELECT samples, duration_s, path_length_mm, mean_speed_mm_s, max_speed_mm_s, mean_accel_mm_s2, max_accel_mm_s2,
              mean_jerk_mm_s3, max_jerk_mm_s3, jerk_events, idle_s FROM motion_kpis WHERE procedure_id = 'PR-SCALAR'`,
    );
    // dt 0.1 s x 4 (the 5 s gap is not differenced); a = 100, 200, 0, -300 mm/s^2; jerk = 1000, -2000, -3000 mm/s^3.
    const r = Object.fromEntries(Object.entries(m!).map(([k, v]) => [k, v === null ? null : Math.round(Number(v) * 1e6) / 1e6]));
    expect(r).toEqual({
      samples: 6, duration_s: 0.4, path_length_mm: null, mean_speed_mm_s: (10 + 20 + 40 + 40 + 10 + 3) / 6, max_speed_mm_s: 40,
      mean_accel_mm_s2: 150, max_accel_mm_s2: 300, mean_jerk_mm_s3: 2000, max_jerk_mm_s3: 3000, jerk_events: 0, idle_s: 0,
    });
  });

  it('measures path length and economy of motion from positions', async () => {
    const [m] = await db.all<Record<string, number>>(
      "SELECT path_length_mm, straight_line_mm, economy_of_motion, duration_s, max_speed_mm_s FROM motion_kpis WHERE procedure_id = 'PR-POS'",
    );
    // Path 5 + 5 + 100 (the gap's step is not motion); straight line from (0,0,0) to (106,8,0).
    const straight = Math.hypot(106, 8);
    expect(m!.path_length_mm).toBeCloseTo(110, 9);
    expect(m!.straight_line_mm).toBeCloseTo(straight, 9);
    expect(m!.economy_of_motion).toBeCloseTo(straight / 110, 9);
    expect(m!.duration_s).toBeCloseTo(0.3, 9);
    expect(m!.max_speed_mm_s).toBeCloseTo(1000, 6);
  });
});
