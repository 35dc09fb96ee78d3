// surgctl transform and surgctl rules, in-process: exit codes, JSON and table output, dry runs, failing model
// tests (exit 1, or 0 with --warn-only), rules show / plan, usage and configuration errors.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../src/db/db.js';
import { readMetricValue } from '../../src/core/metrics.js';
import { runCliWith, tempDir } from '../helpers/run-cli.js';
import { event, insertRows, insertSynthetic, openLakehouse } from '../core/transform/helpers.js';

let dir: string;
let cleanup: () => void;
let dbPath: string;
const cli = (...argv: string[]) => runCliWith({ cwd: dir, env: { NO_COLOR: '1' } }, ...argv);

beforeEach(async () => {
  const t = tempDir();
  dir = t.dir;
  cleanup = t.cleanup;
  const db = await openLakehouse(dir);
  dbPath = db.path;
  try {
    await insertSynthetic(db, { loadId: 'L1', from: 0, to: 3, events: 200, patients: 2, vitalsPatients: [0, 1], hours: 3 });
  } finally {
    db.close();
  }
});
afterEach(() => cleanup());

describe('surgctl transform', () => {
  it('builds the marts, prints JSON, writes metrics, then finds nothing new on a rerun', async () => {
    const r = await cli('transform', '--db', dbPath, '--format', 'json', '--metrics-file', 'transform.prom');
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { mode: string; tests_failed: number; models: { model: string; status: string }[]; alerts_by_level: Record<string, number> };
    expect(out.mode).toBe('full');
    expect(out.tests_failed).toBe(0);
    expect(out.models.filter((m) => m.status === 'succeeded')).toHaveLength(17);
    const db = await openDb(dbPath, { readOnly: true });
    try {
      const levels = await db.all<{ level: string; n: number }>('SELECT level, count(*)::INTEGER AS n FROM alerts GROUP BY level');
      expect(levels.length).toBeGreaterThan(0);
      for (const l of levels) {
        expect(out.alerts_by_level[l.level]).toBe(l.n);
        expect(readMetricValue(join(dir, 'transform.prom'), 'surgctl_alerts', { level: l.level })).toBe(l.n);
      }
    } finally {
      db.close();
    }
    expect(readMetricValue(join(dir, 'transform.prom'), 'surgctl_last_run_success', { command: 'transform' })).toBe(1);
    const again = await cli('transform', '--db', dbPath, '--format', 'json');
    expect(again.exitCode).toBe(0);
    expect((JSON.parse(again.stdout) as { mode: string }).mode).toBe('up_to_date');
  });

  it('prints a table by default when asked, and finds the lakehouse through SURGCTL_DB', async () => {
    const r = await runCliWith({ cwd: dir, env: { NO_COLOR: '1', SURGCTL_DB: dbPath } }, 'transform', '--format', 'table');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^transform full \(first run\)/);
    expect(r.stdout).toMatch(/telemetry_risk\s+full\s+succeeded\s+600/);
    expect(r.stdout).toContain('tests: ');
    expect(r.stdout).toContain(', 0 failed');
  });

  it('--dry-run says what would run and changes nothing', async () => {
    const r = await cli('transform', '--db', dbPath, '--dry-run', '--format', 'json');
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { dry_run: boolean; models: { status: string }[] };
    expect(out.dry_run).toBe(true);
    expect(out.models.every((m) => m.status === 'planned')).toBe(true);
    const db = await openDb(dbPath, { readOnly: true });
    try {
      expect(await db.scalar("SELECT count(*)::INTEGER FROM information_schema.tables WHERE table_name = 'telemetry_risk'")).toBe(0);
      // model_runs exists since the load's migrations (003) made it; the dry run recorded nothing in it.
      expect(await db.scalar('SELECT count(*)::INTEGER FROM model_runs')).toBe(0);
    } finally {
      db.close();
    }
  });

  it('fails with exit 1 when a model test fails, and stores the result; --warn-only reports and exits 0', async () => {
    const db = await openDb(dbPath);
    try {
      // The same event loaded twice (a load that did not dedupe): telemetry_risk's grain test must catch it.
      await insertRows(db, 'telemetry', [event('EV-0-1', { procedure_id: 'PR-0', patient_id: 'PT-0', robot_id: 'RB-0' })], 'L-dup');
    } finally {
      db.close();
    }
    await cli('transform', '--db', dbPath, '--format', 'json', '--metrics-file', 'm.prom', '--select', 'vitals_hourly');
    const lastOk = readMetricValue(join(dir, 'm.prom'), 'surgctl_last_success_timestamp_seconds', { command: 'transform' });
    expect(lastOk).toBeGreaterThan(0);
    const r = await cli('transform', '--db', dbPath, '--format', 'json', '--metrics-file', 'm.prom');
    expect(r.exitCode).toBe(1);
    expect(readMetricValue(join(dir, 'm.prom'), 'surgctl_last_run_success', { command: 'transform' })).toBe(0);
    expect(readMetricValue(join(dir, 'm.prom'), 'surgctl_last_success_timestamp_seconds', { command: 'transform' })).toBe(lastOk);
    expect(JSON.parse(r.stderr.trim().split('\n').pop() as string)).toMatchObject({ error: 'gate_failed' });
    expect(r.stderr).toContain('telemetry_risk unique(event_id) (1)');
    expect((JSON.parse(r.stdout) as { tests_failed: number }).tests_failed).toBeGreaterThan(0);
    const check = await openDb(dbPath, { readOnly: true });
    try {
      expect(await check.scalar("SELECT failures::INTEGER FROM model_tests WHERE model = 'telemetry_risk' AND test = 'unique(event_id)'")).toBe(1);
    } finally {
      check.close();
    }
    const w = await cli('transform', '--db', dbPath, '--warn-only', '--full-refresh', '--format', 'table');
    expect(w.exitCode).toBe(0);
    expect(w.stderr).toContain('warning: ');
    expect(w.stdout).toContain('FAIL telemetry_risk unique(event_id): 1');
  });

  it('refuses a missing lakehouse, an unknown model and an invalid rules file with exit 2', async () => {
    const missing = await cli('transform', '--db', join(dir, 'nope.duckdb'));
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('no lakehouse at');
    const sel = await cli('transform', '--db', dbPath, '--select', 'no_such_model');
    expect(sel.exitCode).toBe(2);
    expect(sel.stderr).toContain('unknown model "no_such_model"');
    expect(sel.stderr).toContain('hint: models are:');
    const bad = join(dir, 'bad.rules.json');
    writeFileSync(bad, JSON.stringify({ news2: { heart_rate: { above: 7 } } }));
    const r = await cli('transform', '--db', dbPath, '--rules', bad);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('news2.heart_rate.above');
    expect(r.stderr).toContain(bad);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('surgctl rules', () => {
  it('show prints every value with where it came from', async () => {
    writeFileSync(join(dir, 'surgctl.rules.json'), JSON.stringify({ alerts: { episode_gap_s: 30 } }));
    const r = await cli('rules', 'show', '--format', 'json');
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { project_file: string; values: { path: string; value: unknown; from: string }[] };
    expect(out.project_file).toBe(join(dir, 'surgctl.rules.json'));
    expect(out.values.find((v) => v.path === 'alerts.episode_gap_s')).toEqual({ path: 'alerts.episode_gap_s', value: 30, from: join(dir, 'surgctl.rules.json') });
    expect(out.values.find((v) => v.path === 'news2.heart_rate.above')).toEqual({ path: 'news2.heart_rate.above', value: 3, from: 'default' });
    const table = await cli('rules', 'show', '--format', 'table');
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toMatch(/news2\.heart_rate\.bands\s+<=40:3 <=50:1 <=90:0 <=110:1 <=130:2\s+default/);
    expect(table.stdout).toContain('sources:');
    expect(table.stdout).toContain('Royal College of Physicians');
  });

  it('plan previews a rule change on the loaded data, by level and by rule', async () => {
    const db = await openLakehouse(dir, 'plan.duckdb');
    const planDb = db.path;
    try {
      await insertRows(db, 'telemetry', [
        event('PL-1', { procedure_id: 'PR-1', latency_ms: 250, error_code: 'W-COMM' }), // now 1+1 low; after 2+1 medium: appears
        event('PL-2', { procedure_id: 'PR-2', latency_ms: 450, error_code: 'W-COMM' }), // now 2+1 medium; after 2+1 medium
        event('PL-3', { procedure_id: 'PR-3', latency_ms: 100, error_code: 'E-ARC' }), // 0+3 high both
        event('PL-5', { procedure_id: 'PR-5', latency_ms: 600 }), // now 3 high; after 2 low: disappears
        event('PL-7', { procedure_id: 'PR-7', latency_ms: 600, error_code: 'W-COMM' }), // now 3+1 high; after 2+1 medium
      ], 'L-plan');
    } finally {
      db.close();
    }
    const none = await cli('rules', 'plan', '--db', planDb, '--rules', 'proposed.json', '--format', 'json');
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('proposed.json');
    writeFileSync(join(dir, 'proposed.json'), JSON.stringify({ version: 'wider', robot_risk: { latency_ms: { bands: [{ max: 100, score: 0 }, { max: 200, score: 1 }, { max: 700, score: 2 }] } } }));
    const r = await cli('rules', 'plan', '--db', planDb, '--rules', 'proposed.json', '--format', 'json');
    expect(r.exitCode, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(plan.changed_rules).toEqual([
      { path: 'version', current: 'surgctl-default-1', proposed: 'wider' },
      {
        path: 'robot_risk.latency_ms.bands',
        current: [{ max: 200, score: 0 }, { max: 300, score: 1 }, { max: 500, score: 2 }],
        proposed: [{ max: 100, score: 0 }, { max: 200, score: 1 }, { max: 700, score: 2 }],
      },
    ]);
    expect(plan.totals).toEqual({ current: 4, proposed: 4, appear: 1, disappear: 1, level_changed: 1, unchanged: 2 });
    expect(plan.by_level).toEqual([
      { level: 'low', current: 0, proposed: 0, appear: 0, disappear: 0, changed_in: 0, changed_out: 0 },
      { level: 'medium', current: 1, proposed: 3, appear: 1, disappear: 0, changed_in: 1, changed_out: 0 },
      { level: 'high', current: 3, proposed: 1, appear: 0, disappear: 1, changed_in: 0, changed_out: 1 },
      { level: 'critical', current: 0, proposed: 0, appear: 0, disappear: 0, changed_in: 0, changed_out: 0 },
    ]);
    expect(plan.by_rule).toEqual([
      { rule: 'latency', current: 3, proposed: 3, appear: 1, disappear: 1, level_changed: 1 },
      { rule: 'force', current: 0, proposed: 0, appear: 0, disappear: 0, level_changed: 0 },
      { rule: 'error', current: 3, proposed: 4, appear: 1, disappear: 0, level_changed: 1 },
      { rule: 'force_spike', current: 0, proposed: 0, appear: 0, disappear: 0, level_changed: 0 },
      { rule: 'velocity', current: 0, proposed: 0, appear: 0, disappear: 0, level_changed: 0 },
    ]);
    expect(plan.level_moves).toEqual([{ from: 'high', to: 'medium', alerts: 1 }]);
    const table = await cli('rules', 'plan', '--db', planDb, '--rules', 'proposed.json', '--format', 'table');
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toContain('robot_risk.latency_ms.bands: <=200:0 <=300:1 <=500:2 -> <=100:0 <=200:1 <=700:2');
    expect(table.stdout).toContain('alerts: 4 now, 4 after: 1 appear, 1 disappear, 1 change level, 2 unchanged');
  });
});
