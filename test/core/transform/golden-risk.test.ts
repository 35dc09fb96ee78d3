// Golden boundary tests for the robot risk rules (telemetry_risk, alerts, alert_episodes), with answers worked out
// by hand from the default rules: latency <=200 0, <=300 1, <=500 2, else 3; force ratio to the instrument limit
// (needle_driver 12 N) <=1.0 0, <=1.25 1, <=1.5 2, else 3; severe error 3, minor 1; levels 0 none, 1-2 low,
// 3-4 medium, 5-6 or a single 3 high, >=7 critical.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/db.js';
import { transformDb } from '../../../src/core/transform/transform.js';
import { tempDir } from '../../helpers/run-cli.js';
import { event, insertRows, openLakehouse } from './helpers.js';

let db: Db;
let cleanup: () => void;

// [event_id, latency_ms, force_n (needle_driver, limit 12 N), error_code, latency_score, force_score, error_score, risk, level]
type Case = [string, number, number, string | null, number, number, number, number, string];
const CASES: Case[] = [
  ['LAT-200', 200, 2, null, 0, 0, 0, 0, 'none'],
  ['LAT-201', 201, 2, null, 1, 0, 0, 1, 'low'],
  ['LAT-300', 300, 2, null, 1, 0, 0, 1, 'low'],
  ['LAT-301', 301, 2, null, 2, 0, 0, 2, 'low'],
  ['LAT-500', 500, 2, null, 2, 0, 0, 2, 'low'],
  ['LAT-501', 501, 2, null, 3, 0, 0, 3, 'high'],
  ['LAT-200.5', 200.5, 2, null, 1, 0, 0, 1, 'low'],
  ['F-1.0', 100, 12, null, 0, 0, 0, 0, 'none'],
  ['F-1.0001', 100, 12.0012, null, 0, 1, 0, 1, 'low'],
  ['F-1.25', 100, 15, null, 0, 1, 0, 1, 'low'],
  ['F-1.2501', 100, 15.0012, null, 0, 2, 0, 2, 'low'],
  ['F-1.5', 100, 18, null, 0, 2, 0, 2, 'low'],
  ['F-1.5001', 100, 18.0012, null, 0, 3, 0, 3, 'high'],
  ['E-SEVERE', 100, 2, 'E-ARC', 0, 0, 3, 3, 'high'],
  ['E-MINOR', 100, 2, 'W-COMM', 0, 0, 1, 1, 'low'],
  ['E-EMPTY', 100, 2, '', 0, 0, 0, 0, 'none'],
  ['SUM-3', 301, 2, 'W-GRIP', 2, 0, 1, 3, 'medium'],
  ['SUM-4', 301, 15.0012, null, 2, 2, 0, 4, 'medium'],
  ['SUM-5', 301, 15.0012, 'W-GRIP', 2, 2, 1, 5, 'high'],
  ['SUM-5b', 500, 17, 'W-TOOL-RECOG', 2, 2, 1, 5, 'high'],
  ['SINGLE-3', 100, 2, 'E-VIDEO', 0, 0, 3, 3, 'high'],
  ['SINGLE-3+1', 501, 12.5, null, 3, 1, 0, 4, 'high'],
  ['SUM-6', 501, 18, 'W-COMM', 3, 2, 1, 6, 'high'],
  ['SUM-6b', 400, 14, 'E-MOTION', 2, 1, 3, 6, 'high'],
  ['SUM-7', 501, 14, 'E-MOTION', 3, 1, 3, 7, 'critical'],
  ['SUM-7b', 301, 15.0012, 'E-FRAG', 2, 2, 3, 7, 'critical'],
  ['SUM-8', 301, 18.5, 'E-FRAG', 2, 3, 3, 8, 'critical'],
  ['CRIT-9', 612, 19, 'E-SYSRESTART', 3, 3, 3, 9, 'critical'],
];

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  db = await openLakehouse(t.dir);
  // One procedure per case, so no case sees another's force history (no spikes).
  await insertRows(
    db,
    'telemetry',
    CASES.map(([id, lat, force, err]) => event(id, { procedure_id: `PR-${id}`, latency_ms: lat, force_n: force, error_code: err })),
  );
  // An instrument the rules know no limit for scores force 0 whatever the force.
  await insertRows(db, 'telemetry', [event('F-NOLIMIT', { procedure_id: 'PR-NL', instrument: 'mystery_tool', force_n: 99 })], 'L-test-2');
  // Force spike: 12 quiet events (2.0 / 2.2 N alternating, 1 s apart) then a jump to 4.0 N (still under the limit).
  const spike = Array.from({ length: 12 }, (_, i) =>
    event(`SP-${String(i).padStart(2, '0')}`, { procedure_id: 'PR-SPIKE', force_n: i % 2 ? 2.2 : 2.0, recorded_at: `2026-01-05T09:00:${String(i).padStart(2, '0')}Z` }),
  );
  spike.push(event('SP-12', { procedure_id: 'PR-SPIKE', force_n: 4.0, latency_ms: 400, error_code: 'W-GRIP', recorded_at: '2026-01-05T09:00:12Z' }));
  // Same jump after only 5 events on another arm: too little history (min_events 10), no spike.
  for (let i = 0; i < 5; i++) spike.push(event(`SQ-${i}`, { procedure_id: 'PR-SPIKE', robot_arm: 'arm_3', force_n: i % 2 ? 2.2 : 2.0, recorded_at: `2026-01-05T09:00:0${i}Z` }));
  spike.push(event('SQ-5', { procedure_id: 'PR-SPIKE', robot_arm: 'arm_3', force_n: 4.0, recorded_at: '2026-01-05T09:00:05Z' }));
  await insertRows(db, 'telemetry', spike, 'L-test-3');
  // Episodes, procedure PR-EP arm_1: alerts at 0 s, 10 s (gap 10: same episode), 20.5 s (gap 10.5: new), 25 s;
  // arm_2 at 5 s is its own episode. Each alert is a latency 501 (high, risk 3); the 25 s one is critical.
  const at = (s: number): string => new Date(Date.parse('2026-01-05T12:00:00Z') + s * 1000).toISOString();
  await insertRows(db, 'telemetry', [
    event('EP-A', { procedure_id: 'PR-EP', latency_ms: 501, recorded_at: at(0) }),
    event('EP-B', { procedure_id: 'PR-EP', latency_ms: 501, recorded_at: at(10) }),
    event('EP-C', { procedure_id: 'PR-EP', latency_ms: 501, recorded_at: at(20.5) }),
    event('EP-D', { procedure_id: 'PR-EP', latency_ms: 501, force_n: 18.5, error_code: 'E-ARC', recorded_at: at(25) }),
    event('EP-E', { procedure_id: 'PR-EP', robot_arm: 'arm_2', latency_ms: 501, recorded_at: at(5) }),
  ], 'L-test-4');
  const r = await transformDb(db, { cwd: t.dir, env: {} });
  expect(r.tests_failed).toBe(0);
});

afterAll(() => {
  db?.close();
  cleanup?.();
});

interface RiskRow {
  event_id: string;
  latency_score: number;
  force_score: number;
  error_score: number;
  risk_score: number;
  risk_level: string;
  force_spike: boolean;
  error_code: string | null;
}

describe('telemetry_risk at every boundary', () => {
  it.each(CASES)('%s: latency %s ms, force %s N, error %s', async (id, _l, _f, _e, ls, fs, es, risk, level) => {
    const row = (await db.all<RiskRow & Record<string, unknown>>('SELECT * FROM telemetry_risk WHERE event_id = $id', { id }))[0];
    expect(row).toBeDefined();
    expect([row?.latency_score, row?.force_score, row?.error_score, row?.risk_score, row?.risk_level]).toEqual([ls, fs, es, risk, level]);
  });

  it('stores an empty error code as NULL and scores an instrument without a limit as force 0', async () => {
    expect(await db.scalar("SELECT error_code FROM telemetry_risk WHERE event_id = 'E-EMPTY'")).toBeNull();
    expect(await db.scalar("SELECT force_score FROM telemetry_risk WHERE event_id = 'F-NOLIMIT'")).toBe(0);
  });

  it('flags a force spike over mean + 3 sd of the previous events, only with enough history', async () => {
    const rows = await db.all<{ event_id: string; force_spike: boolean }>(
      "SELECT event_id, force_spike FROM telemetry_risk WHERE procedure_id = 'PR-SPIKE' AND force_spike ORDER BY event_id",
    );
    // mean of 2.0/2.2 x6 = 2.1, sd = 0.1044 -> 2.1 + 3 x 0.1044 = 2.41 < 4.0: spike. SQ-5 has 5 events of history.
    expect(rows.map((r) => r.event_id)).toEqual(['SP-12']);
  });
});

describe('alerts', () => {
  it('raises exactly the medium-and-above events, with a deterministic id and level rank', async () => {
    const want = CASES.filter((c) => ['medium', 'high', 'critical'].includes(c[8])).map((c) => `AL-${c[0]}`).sort();
    const got = await db.all<{ alert_id: string }>("SELECT alert_id FROM alerts WHERE procedure_id LIKE 'PR-%' AND procedure_id NOT IN ('PR-EP', 'PR-SPIKE') ORDER BY alert_id");
    expect(got.map((r) => r.alert_id)).toEqual(want);
    const ranks = await db.all<{ level: string; level_rank: number }>('SELECT DISTINCT level, level_rank FROM alerts ORDER BY level_rank');
    expect(ranks).toEqual([
      { level: 'medium', level_rank: 2 },
      { level: 'high', level_rank: 3 },
      { level: 'critical', level_rank: 4 },
    ]);
  });

  it('lists triggers in order and says why in words', async () => {
    const a = (await db.all<{ triggers: string[]; reason: string; level: string; risk_score: number }>(
      "SELECT triggers, reason, level, risk_score FROM alerts WHERE event_id = 'CRIT-9'",
    ))[0];
    expect(a).toEqual({
      triggers: ['latency', 'force', 'error'],
      reason: 'latency 612 ms (>500); force 19.0 N = 1.58x needle_driver limit (12 N); error E-SYSRESTART (severe)',
      level: 'critical',
      risk_score: 9,
    });
    const s = (await db.all<{ triggers: string[]; reason: string }>("SELECT triggers, reason FROM alerts WHERE event_id = 'SP-12'"))[0];
    expect(s?.triggers).toEqual(['latency', 'error', 'force_spike']);
    expect(s?.reason).toBe('latency 400 ms (>300); error W-GRIP (minor); force spike 4.0 N (> mean + 3 sd of the previous 20 events)');
    const f = (await db.all<{ reason: string }>("SELECT reason FROM alerts WHERE event_id = 'F-1.5001'"))[0];
    expect(f?.reason).toBe('force 18.0 N = 1.50x needle_driver limit (12 N)');
  });
});

describe('alert_episodes', () => {
  it('collapses alerts of one procedure and arm no more than 10 s apart', async () => {
    const rows = await db.all<Record<string, unknown>>(
      `SELECT episode_id, robot_arm, strftime(started_at, '%H:%M:%S.%g') AS s, strftime(ended_at, '%H:%M:%S.%g') AS e, alerts, level, level_rank, risk_score, reason
       FROM alert_episodes WHERE procedure_id = 'PR-EP' ORDER BY started_at, robot_arm`,
    );
    expect(rows).toEqual([
      { episode_id: 'EP-EP-A', robot_arm: 'arm_1', s: '12:00:00.000', e: '12:00:10.000', alerts: 2, level: 'high', level_rank: 3, risk_score: 3, reason: 'latency 501 ms (>500)' },
      { episode_id: 'EP-EP-E', robot_arm: 'arm_2', s: '12:00:05.000', e: '12:00:05.000', alerts: 1, level: 'high', level_rank: 3, risk_score: 3, reason: 'latency 501 ms (>500)' },
      {
        episode_id: 'EP-EP-C', robot_arm: 'arm_1', s: '12:00:20.500', e: '12:00:25.000', alerts: 2, level: 'critical', level_rank: 4, risk_score: 9,
        reason: 'latency 501 ms (>500); force 18.5 N = 1.54x needle_driver limit (12 N); error E-ARC (severe)',
      },
    ]);
  });
});
