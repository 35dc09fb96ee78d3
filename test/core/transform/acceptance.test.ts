// Acceptance (issue 5): generate a dataset with planted incidents (small sizes, some bad rows), load it with the
// load stage, transform it, and check against the manifest: every planted robot incident raises, on each of its
// events, the alert level the manifest says with at least its triggers; every deterioration hour has the expected
// NEWS2 band; and no critical alert appears on an event the manifest does not list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { generateDataset, type DeteriorationIncident, type Manifest, type RobotIncident } from '../../../src/core/generate/index.js';
import { loadFiles } from '../../../src/core/load/load.js';
import { runTransform, type TransformResult } from '../../../src/core/transform/transform.js';
import { openDb, type Db } from '../../../src/db/db.js';
import { tempDir } from '../../helpers/run-cli.js';
import { lakeAt } from '../../helpers/lake.js';

let db: Db;
let cleanup: () => void;
let manifest: Manifest;
let result: TransformResult;

beforeAll(async () => {
  const t = tempDir();
  cleanup = t.cleanup;
  const gen = await generateDataset({
    out: join(t.dir, 'data'),
    seed: 7,
    robots: 4,
    patients: 40,
    procedures: 48,
    telemetryRows: 60_000,
    vitalsHours: 16,
    incidents: 0.25,
    badRows: 0.002,
  });
  manifest = gen.manifest;
  const dbPath = join(t.dir, 'lake.duckdb');
  await loadFiles({ inputs: [gen.outDir], cwd: t.dir, quarantineDir: join(t.dir, 'quarantine') }, { lake: lakeAt(dbPath) });
  result = await runTransform({ cwd: t.dir, env: {} }, { lake: lakeAt(dbPath) });
  db = await openDb(dbPath, { readOnly: true });
}, 180_000);

afterAll(() => {
  db?.close();
  cleanup?.();
});

describe('transform of a generated dataset with incidents', () => {
  it('plants every kind of incident and passes its model tests', () => {
    const kinds = new Set(manifest.incidents.map((i) => i.kind));
    expect([...kinds].sort()).toEqual(['combined', 'deterioration', 'force_overload', 'latency_spike', 'network_degradation', 'severe_error']);
    expect(result.tests_failed).toBe(0);
    expect(manifest.bad_rows.length).toBeGreaterThan(0);
  });

  it('raises the alert the manifest says on every event of every robot incident', async () => {
    const robot = manifest.incidents.filter((i): i is RobotIncident => i.kind !== 'deterioration');
    const expected = robot.flatMap((i) => i.event_ids.map((e) => ({ incident: i.id, event_id: e, ...i.expected, procedure_id: i.procedure_id, robot_arm: i.robot_arm })));
    expect(expected.length).toBeGreaterThan(0);
    const alerts = await db.all<{ event_id: string; level: string; triggers: string[]; procedure_id: string; robot_arm: string }>(
      `SELECT event_id, level, triggers, procedure_id, robot_arm FROM alerts WHERE list_contains($ids::JSON::VARCHAR[], event_id)`,
      { ids: JSON.stringify(expected.map((e) => e.event_id)) },
    );
    const byEvent = new Map(alerts.map((a) => [a.event_id, a]));
    const misses = expected.filter((e) => {
      const a = byEvent.get(e.event_id);
      return !a || a.level !== e.level || !e.triggers.every((t) => a.triggers.includes(t)) || a.procedure_id !== e.procedure_id || a.robot_arm !== e.robot_arm;
    });
    expect(misses.map((m) => ({ ...m, got: byEvent.get(m.event_id) ?? null }))).toEqual([]);
  });

  it('shows every deterioration episode at the expected NEWS2 band for its three hours', async () => {
    const det = manifest.incidents.filter((i): i is DeteriorationIncident => i.kind === 'deterioration');
    expect(det.length).toBeGreaterThan(0);
    for (const d of det) {
      const rows = await db.all<{ news2_band: string }>(
        `SELECT news2_band FROM news2_hourly WHERE patient_id = $p AND hour_start >= $h::TIMESTAMPTZ AND hour_start < $h::TIMESTAMPTZ + INTERVAL 3 HOURS ORDER BY hour_start`,
        { p: d.patient_id, h: d.expected.hour_start },
      );
      expect(rows.map((r) => r.news2_band), `${d.id} ${d.patient_id} ${d.expected.hour_start}`).toEqual([d.expected.news2_band, d.expected.news2_band, d.expected.news2_band]);
    }
  });

  it('raises no critical alert, and no alert at all, where the manifest planted none', async () => {
    const planted = manifest.incidents.flatMap((i) => (i.kind === 'deterioration' ? [] : i.event_ids));
    const stray = await db.all<{ event_id: string; level: string; reason: string }>(
      `SELECT event_id, level, reason FROM alerts WHERE NOT list_contains($ids::JSON::VARCHAR[], event_id) ORDER BY event_id`,
      { ids: JSON.stringify(planted) },
    );
    expect(stray.filter((s) => s.level === 'critical')).toEqual([]);
    expect(stray).toEqual([]);
  });
});
