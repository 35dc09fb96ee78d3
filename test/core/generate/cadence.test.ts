// Issue 15 (5): a generator with a real cadence. Telemetry is recorded at --telemetry-hz per arm in windows around
// the surgical steps, so the default dataset (same size as before) has alert episodes of several alerts, force
// spikes measured over seconds and every risk level; --telemetry-hz alone still records whole procedures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { generateDataset } from '../../../src/core/generate/index.js';
import { loadFiles } from '../../../src/core/load/load.js';
import { runTransform } from '../../../src/core/transform/transform.js';
import { openDb, type Db } from '../../../src/db/db.js';
import { DEFAULT_VIEW, openAlertStore } from '../../../src/core/tui-data/index.js';
import { literal } from '../../../src/db/sql.js';
import { tempDir } from '../../helpers/run-cli.js';
import { lakeAt } from '../../helpers/lake.js';

const tmp = tempDir('surgctl-cadence-');
afterAll(() => tmp.cleanup());

/** Gaps in ms between consecutive samples of one procedure and arm, as (gap, count), from a generated CSV. */
async function gaps(file: string): Promise<Map<number, number>> {
  const db = await openDb(':memory:');
  try {
    const rows = await db.all<{ gap: number; n: number }>(
      `SELECT gap::INTEGER AS gap, count(*)::INTEGER AS n FROM (
         SELECT epoch_ms(recorded_at) - epoch_ms(lag(recorded_at) OVER (PARTITION BY procedure_id, robot_arm ORDER BY event_id)) AS gap
         FROM read_csv(${literal(file)}, header = true, auto_detect = true))
       WHERE gap IS NOT NULL GROUP BY ALL`,
    );
    return new Map(rows.map((r) => [r.gap, r.n]));
  } finally {
    db.close();
  }
}

const small = { robots: 3, patients: 16, procedures: 24, vitalsHours: 1, badRows: 0, incidents: 0.2, datasets: ['robots', 'patients', 'procedures', 'telemetry'] };

describe('telemetry cadence', () => {
  it('samples each arm at --telemetry-hz inside windows, keeping the row budget', async () => {
    for (const hz of [10, 30]) {
      const g = await generateDataset({ out: join(tmp.dir, `hz${hz}`), ...small, telemetryRows: 6000, telemetryHz: hz });
      expect(g.manifest.files.find((f) => f.dataset === 'telemetry')?.rows).toBe(6000);
      const gap = await gaps(join(g.outDir, 'telemetry.csv'));
      const total = [...gap.values()].reduce((a, b) => a + b, 0);
      // Within a window consecutive samples are 1000/hz ms apart (floored to whole ms); only window starts jump.
      const inWindow = [...gap.entries()].filter(([ms]) => ms === Math.floor(1000 / hz) || ms === Math.ceil(1000 / hz)).reduce((a, [, n]) => a + n, 0);
      expect(inWindow / total, `hz ${hz}`).toBeGreaterThan(0.97);
    }
  });

  it('records every second of every procedure when --telemetry-hz is given alone', async () => {
    const g = await generateDataset({ out: join(tmp.dir, 'alone'), ...small, procedures: 3, telemetryHz: 0.5 });
    const gap = await gaps(join(g.outDir, 'telemetry.csv'));
    // Windows fill their steps: every gap is 2 s, or at a step boundary less than two sample periods (rounding of
    // the step's share of samples against its share of time).
    for (const ms of gap.keys()) {
      expect(ms).toBeGreaterThan(1500);
      expect(ms).toBeLessThan(4000);
    }
    const near = [...gap.entries()].filter(([ms]) => Math.abs(ms - 2000) <= 40).reduce((a, [, n]) => a + n, 0);
    expect(near).toBeGreaterThan(0.99 * [...gap.values()].reduce((a, b) => a + b, 0));
    expect(g.manifest.options.telemetry_rows).toBeNull();
  });
});

describe('the default dataset, loaded and transformed', () => {
  let db: Db;
  let dbPath = '';
  beforeAll(async () => {
    const g = await generateDataset({ out: join(tmp.dir, 'default'), datasets: ['robots', 'patients', 'procedures', 'telemetry'] });
    dbPath = join(tmp.dir, 'default.duckdb');
    await loadFiles({ inputs: [g.outDir], cwd: tmp.dir, quarantineDir: join(tmp.dir, 'q') }, { lake: lakeAt(dbPath) });
    await runTransform({ cwd: tmp.dir, env: {} }, { lake: lakeAt(dbPath) });
    db = await openDb(dbPath, { readOnly: true });
  }, 120_000);
  afterAll(() => db?.close());

  it('has events at every risk level and alerts at every alert level', async () => {
    const levels = await db.all<{ risk_level: string; n: number }>('SELECT risk_level, count(*)::INTEGER AS n FROM telemetry_risk GROUP BY ALL');
    const by = Object.fromEntries(levels.map((l) => [l.risk_level, l.n]));
    for (const level of ['none', 'low', 'medium', 'high', 'critical']) expect(by[level] ?? 0, level).toBeGreaterThan(0);
    const alerts = await db.all<{ level: string }>('SELECT DISTINCT level FROM alerts ORDER BY level');
    expect(alerts.map((a) => a.level)).toEqual(['critical', 'high', 'medium']);
  });

  it('groups alerts into episodes of several alerts lasting more than an instant', async () => {
    const [e] = await db.all<{ episodes: number; median_alerts: number; multi: number; median_s: number }>(
      `SELECT count(*)::INTEGER AS episodes, median(alerts)::DOUBLE AS median_alerts, count(*) FILTER (WHERE alerts > 1)::INTEGER AS multi,
              median(epoch_ms(ended_at) - epoch_ms(started_at))::DOUBLE / 1000 AS median_s
       FROM alert_episodes`,
    );
    expect(e!.episodes).toBeGreaterThan(5);
    expect(e!.median_alerts).toBeGreaterThan(1);
    expect(e!.median_s).toBeGreaterThan(0);
  });

  it('measures force spikes over seconds, not minutes', async () => {
    // The spike window is the 20 events before each event of one procedure and arm: at 10 Hz about 2 s.
    const [w] = await db.all<{ p50_s: number }>(
      `SELECT median(span_ms)::DOUBLE / 1000 AS p50_s FROM (
         SELECT epoch_ms(recorded_at) - epoch_ms(lag(recorded_at, 20) OVER (PARTITION BY procedure_id, robot_arm ORDER BY recorded_at, event_id)) AS span_ms
         FROM telemetry_risk) WHERE span_ms IS NOT NULL`,
    );
    expect(w!.p50_s).toBeGreaterThan(1);
    expect(w!.p50_s).toBeLessThan(5);
  });

  it("gives the tui's episode sparkline real shape: many one-second cells with data, not one bar", async () => {
    const store = await openAlertStore({ user: 'test', now: () => new Date('2026-02-01T00:00:00Z') }, { lake: lakeAt(dbPath) });
    try {
      const episodes = await store.page({ ...DEFAULT_VIEW, mode: 'episodes' }, { limit: 100 });
      expect(episodes.length).toBeGreaterThan(5);
      const filled: number[] = [];
      for (const e of episodes) {
        const w = (await store.detail(e)).window!;
        const cells = w.force.filter((f): f is number => f !== null);
        filled.push(cells.length);
        expect(new Set(cells).size, e.id).toBeGreaterThan(Math.min(3, cells.length - 1));
      }
      filled.sort((a, b) => a - b);
      expect(filled[Math.floor(filled.length / 2)]).toBeGreaterThanOrEqual(10);
    } finally {
      store.close();
    }
  });
});
