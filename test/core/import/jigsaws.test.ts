// Issue 15 (4): the JIGSAWS kinematics profile. A synthetic trial in the public JIGSAWS layout
// (fixtures/jigsaws: 76 whitespace-separated columns per frame at 30 Hz) is imported by the real command,
// `surgctl import csv --profile jigsaws <file>` (every table whose match fits the file is applied: one per slave
// manipulator; columns split on runs of whitespace), loaded and transformed: force and latency stay NULL, the risk
// lists them as missing, and the speed and jerk measures equal a plain computation from the file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadProfile } from '../../../src/core/import/profile.js';
import { loadFiles } from '../../../src/core/load/load.js';
import { planRules } from '../../../src/core/transform/plan.js';
import { runTransform } from '../../../src/core/transform/transform.js';
import { openDb, type Db } from '../../../src/db/db.js';
import { runCliWith, tempDir } from '../../helpers/run-cli.js';
import { lakeAt } from '../../helpers/lake.js';

const FIXTURE = resolve(import.meta.dirname, '../../../fixtures/jigsaws/Suturing_S01T01.txt');
const tmp = tempDir('surgctl-jigsaws-');
let db: Db;
let dbPath = '';
let imported: { totals: Record<string, number>; files: { dataset: string; status: string; load: { rows_read: number; rows_inserted: number; rows_quarantined: number } }[] };

interface Frame {
  us: number;
  p: [number, number, number];
  grip: number;
}

/** The trial's frames for one slave manipulator, read the plain way: column offsets from the public layout. */
function frames(side: 'left' | 'right'): Frame[] {
  const base = side === 'left' ? 38 : 57; // 0-based index of the slave manipulator's x
  return readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l, i) => {
    const c = l.trim().split(/\s+/).map(Number);
    return { us: Math.round((i * 1e6) / 30), p: [c[base]! * 1000, c[base + 1]! * 1000, c[base + 2]! * 1000], grip: c[base + 18]! };
  });
}

/** Speed, acceleration and jerk by backward differences (mm/s, mm/s^2, mm/s^3), as motion_kpis defines them. */
function plainMotion(f: Frame[]) {
  const sub = (a: number[], b: number[]): number[] => a.map((x, k) => x - b[k]!);
  const div = (a: number[], d: number): number[] => a.map((x) => x / d);
  const norm = (a: number[]): number => Math.sqrt(a.reduce((s, x) => s + x * x, 0));
  const v: (number[] | null)[] = [null];
  const a: (number[] | null)[] = [null];
  const j: (number[] | null)[] = [null];
  let path = 0;
  let duration = 0;
  let idle = 0;
  for (let i = 1; i < f.length; i++) {
    const dt = (f[i]!.us - f[i - 1]!.us) / 1e6;
    const d = sub(f[i]!.p, f[i - 1]!.p);
    v.push(div(d, dt));
    a.push(v[i - 1] ? div(sub(v[i]!, v[i - 1]!), dt) : null);
    j.push(a[i - 1] && a[i] ? div(sub(a[i]!, a[i - 1]!), dt) : null);
    path += norm(d);
    duration += dt;
    if (norm(v[i]!) < 5) idle += dt;
  }
  const mags = (xs: (number[] | null)[]): number[] => xs.filter((x): x is number[] => x !== null).map(norm);
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  const speed = mags(v);
  const jerk = mags(j);
  const last = f[f.length - 1]!;
  return {
    samples: f.length, duration_s: duration, path_length_mm: path, straight_line_mm: norm(sub(last.p, f[0]!.p)),
    mean_speed_mm_s: mean(speed), max_speed_mm_s: Math.max(...speed), mean_accel_mm_s2: mean(mags(a)), max_accel_mm_s2: Math.max(...mags(a)),
    mean_jerk_mm_s3: mean(jerk), max_jerk_mm_s3: Math.max(...jerk), jerk_events: jerk.filter((x) => x > 15000).length, idle_s: idle,
    gripper_min_rad: Math.min(...f.map((x) => x.grip)), gripper_max_rad: Math.max(...f.map((x) => x.grip)),
  };
}

beforeAll(async () => {
  const dir = join(tmp.dir, 'refs');
  mkdirSync(dir);
  // The contracts need the referenced rows (foreign keys); JIGSAWS has no patient, procedure or robot record, so
  // the test loads nominal ones first (the enums have no bench-top values: these are placeholders, not data).
  writeFileSync(join(dir, 'robots.csv'), 'robot_id,serial,model,manufacturer,facility_id,installed_on,status\nJIGSAWS-DVSS,JHU-1,da Vinci X,Intuitive Surgical,JHU,2014-01-01,active\n');
  writeFileSync(join(dir, 'patients.csv'), 'patient_id,sex,birth_date,facility_id\nJIGSAWS-BENCH,unknown,2014-01-01,JHU\n');
  writeFileSync(join(dir, 'procedures.csv'), 'procedure_id,patient_id,robot_id,surgeon_id,procedure_type,started_at,ended_at,status\n'
    + 'JG-Suturing_S01T01.txt,JIGSAWS-BENCH,JIGSAWS-DVSS,S01,hernia_repair,2014-01-01T00:00:00Z,2014-01-01T00:00:02Z,completed\n');
  dbPath = join(tmp.dir, 'lake.duckdb');
  await loadFiles({ inputs: [dir], cwd: tmp.dir, quarantineDir: join(tmp.dir, 'q') }, { lake: lakeAt(dbPath) });
  copyFileSync(FIXTURE, join(tmp.dir, 'Suturing_S01T01.txt'));
  const r = await runCliWith({ cwd: tmp.dir }, 'import', 'csv', '--profile', 'jigsaws', 'Suturing_S01T01.txt', '--db', dbPath, '--format', 'json');
  expect(r.exitCode, r.stderr).toBe(0);
  imported = JSON.parse(r.stdout) as typeof imported;
  const t = await runTransform({ cwd: tmp.dir, env: {} }, { lake: lakeAt(dbPath) });
  expect(t.tests_failed).toBe(0);
  db = await openDb(dbPath, { readOnly: true });
}, 120_000);

afterAll(() => {
  db?.close();
  tmp.cleanup();
});

describe('the jigsaws profile', () => {
  it('is a valid profile in the import format, mapping both slave manipulators of the 76-column layout', () => {
    const { profile } = loadProfile('jigsaws');
    expect(profile.tables.map((t) => [t.csv?.columns?.length, t.columns?.robot_arm?.const, t.columns?.tool_x_mm?.from])).toEqual([
      [76, 'arm_1', 'sl_x'],
      [76, 'arm_2', 'sr_x'],
    ]);
    for (const t of profile.tables) {
      expect(Object.keys(t.columns ?? {})).not.toContain('force_n');
      expect(Object.keys(t.columns ?? {})).not.toContain('latency_ms');
      expect(t.columns?.recorded_at?.row_time?.seconds_per_row).toBeCloseTo(1 / 30, 15);
    }
  });

  it('is imported by `surgctl import csv --profile jigsaws`: both slave arms, every frame, nothing lost', () => {
    // One load per profile table of the file; each reads the 60 frames: read = inserted + duplicate + quarantined.
    expect(imported.files.map((f) => [f.dataset, f.status, f.load.rows_read, f.load.rows_inserted, f.load.rows_quarantined])).toEqual([
      ['telemetry', 'loaded', 60, 60, 0],
      ['telemetry', 'loaded', 60, 60, 0],
    ]);
    expect(imported.totals).toMatchObject({ rows_read: 120, mapped: 120, skipped: 0, rows_inserted: 120, rows_duplicate: 0, rows_quarantined: 0 });
  });

  it('loads a trial with absent force and latency, one row per frame and arm, 1/30 s apart', async () => {
    const [r] = await db.all<{ n: number; force: number; latency: number; arms: number; step_us: number }>(
      `SELECT count(*)::INTEGER AS n, count(force_n)::INTEGER AS force, count(latency_ms)::INTEGER AS latency, count(DISTINCT robot_arm)::INTEGER AS arms,
              (max(epoch_us(recorded_at)) - min(epoch_us(recorded_at)))::INTEGER AS step_us FROM raw_telemetry`,
    );
    expect(r).toEqual({ n: 120, force: 0, latency: 0, arms: 2, step_us: Math.round((59 * 1e6) / 30) });
  });

  it('scores from what is present and lists the rest as missing (no invented zeros)', async () => {
    const rows = await db.all<{ missing: string[]; levels: string[]; n: number }>(
      `SELECT missing, list_sort(list_distinct(list(risk_level))) AS levels, count(*)::INTEGER AS n FROM telemetry_risk
       WHERE force_score IS NULL AND latency_score IS NULL AND error_score IS NULL GROUP BY missing ORDER BY n DESC`,
    );
    // Each arm's first frame has no previous position, so no speed either.
    expect(rows).toEqual([
      { missing: ['force', 'latency', 'error'], levels: ['none'], n: 118 },
      { missing: ['force', 'latency', 'error', 'velocity'], levels: ['none'], n: 2 },
    ]);
  });

  it.each(['left', 'right'] as const)('gives motion measures equal to a plain computation (slave %s)', async (side) => {
    const expected = plainMotion(frames(side));
    const [m] = await db.all<Record<string, number>>(
      `SELECT samples::INTEGER AS samples, duration_s, path_length_mm, straight_line_mm, mean_speed_mm_s, max_speed_mm_s, mean_accel_mm_s2,
              max_accel_mm_s2, mean_jerk_mm_s3, max_jerk_mm_s3, jerk_events::INTEGER AS jerk_events, idle_s, gripper_min_rad, gripper_max_rad
       FROM motion_kpis WHERE robot_arm = $arm`,
      { arm: side === 'left' ? 'arm_1' : 'arm_2' },
    );
    for (const [k, v] of Object.entries(expected)) expect(m![k], k).toBeCloseTo(v, Math.abs(v) > 1000 ? 4 : 8);
    if (side === 'left') expect(m!.idle_s).toBeGreaterThan(0.25); // frames 20-29 hold still
    const [speed] = await db.all<{ mean: number }>('SELECT avg(velocity_mm_s) AS mean FROM telemetry_risk WHERE robot_arm = $arm', { arm: side === 'left' ? 'arm_1' : 'arm_2' });
    expect(speed!.mean).toBeCloseTo(expected.mean_speed_mm_s, 8);
  });

  it('lets `rules plan` preview a velocity rule on kinematics-only data', async () => {
    const rules = join(tmp.dir, 'slow.rules.json');
    writeFileSync(rules, JSON.stringify({ version: 'slow', robot_risk: { velocity_mm_s: { bands: [{ max: 20, score: 0 }, { max: 30, score: 2 }], above: 3, source: 'test' } } }));
    const plan = await planRules({ proposedRules: rules, cwd: tmp.dir, env: {} }, { lake: lakeAt(dbPath) });
    const velocity = plan.by_rule.find((r) => r.rule === 'velocity');
    expect(velocity?.current).toBe(0);
    expect(velocity?.appear).toBeGreaterThan(0);
    expect(plan.changed_rules.map((c) => c.path)).toContain('robot_risk.velocity_mm_s.bands');
  });

  it('lets `rules plan` preview the motion rules (jerk and idle thresholds) on motion_kpis', async () => {
    const rules = join(tmp.dir, 'jerky.rules.json');
    writeFileSync(rules, JSON.stringify({ version: 'jerky', motion: { jerk_high_mm_s3: 1e-6, idle_speed_mm_s: 1e9 } }));
    const plan = await planRules({ proposedRules: rules, cwd: tmp.dir, env: {} }, { lake: lakeAt(dbPath) });
    const db = await openDb(dbPath, { readOnly: true });
    try {
      const [now] = await db.all<{ jerk: number; idle: number }>('SELECT sum(jerk_events)::DOUBLE AS jerk, round(sum(idle_s), 1)::DOUBLE AS idle FROM motion_kpis');
      // Now: the same figures as the mart the transform wrote under the rules in force.
      expect(plan.motion.current.jerk_events).toBe(now!.jerk);
      expect(plan.motion.current.idle_s).toBe(now!.idle);
      // After: almost every differenced sample counts (threshold 1e-6), and every differenced second is idle.
      expect(plan.motion.proposed.jerk_events).toBeGreaterThan(plan.motion.current.jerk_events);
      expect(plan.motion.proposed.idle_s).toBeGreaterThan(plan.motion.current.idle_s);
    } finally {
      db.close();
    }
    expect(plan.changed_rules.map((c) => c.path)).toEqual(expect.arrayContaining(['motion.jerk_high_mm_s3', 'motion.idle_speed_mm_s']));
  });
});
