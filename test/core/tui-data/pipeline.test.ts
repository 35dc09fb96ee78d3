// The data layer on a really generated, loaded and transformed lakehouse (the built bin: generate -> load ->
// transform, small and seeded): proves the queries fit the marts transform actually writes, including how
// episodes group alerts, not only the hand-made fixture.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { openDb } from '../../../src/db/db.js';
import { DEFAULT_VIEW, SORTS, openAlertStore, type AlertStore, type ListRow, type ViewSpec } from '../../../src/core/tui-data/index.js';
import { tempDir } from '../../helpers/run-cli.js';
import { buildPipelineLakehouse } from '../report/pipeline-lakehouse.js';
import { lakeAt } from '../../helpers/lake.js';

const t = tempDir('surgctl-tui-pipeline-');
let dbPath: string;
let store: AlertStore;

beforeAll(async () => {
  dbPath = buildPipelineLakehouse(t.dir).dbPath;
  store = await openAlertStore({ user: 'pipeline', now: () => new Date('2026-01-06T00:00:00Z') }, { lake: lakeAt(dbPath) });
}, 300_000);
afterAll(() => {
  store?.close();
  t.cleanup();
});

async function sqlRows<T extends Record<string, unknown>>(q: string): Promise<T[]> {
  const db = await openDb(dbPath, { readOnly: true });
  try {
    return await db.all<T>(q);
  } finally {
    db.close();
  }
}

async function all(spec: ViewSpec): Promise<ListRow[]> {
  const out: ListRow[] = [];
  for (let page = await store.page(spec, { limit: 2 }); page.length > 0; page = await store.page(spec, { after: page.at(-1)!.key, limit: 2 })) {
    out.push(...page);
  }
  return out;
}

describe('tui data layer on a transformed lakehouse', () => {
  it('counts and pages the real alerts and episodes marts in every order', async () => {
    const byLevel = await sqlRows<{ level: string; n: number }>('SELECT level, count(*)::INTEGER AS n FROM alerts GROUP BY level');
    const total = byLevel.reduce((s, r) => s + r.n, 0);
    expect(total).toBeGreaterThan(0);
    const c = await store.counts(DEFAULT_VIEW);
    expect(c.total).toBe(total);
    for (const r of byLevel) expect(c[r.level as 'medium' | 'high' | 'critical']).toBe(r.n);
    for (const sort of SORTS) {
      const ids = (await all({ ...DEFAULT_VIEW, sort })).map((r) => r.id);
      // Ties earliest first, then by id, as in `report top-alerts` (issue 16).
      const order = {
        risk: 'risk_score DESC, "at", alert_id',
        newest: '"at" DESC, alert_id',
        oldest: '"at", alert_id',
        level: 'level_rank DESC, risk_score DESC, "at", alert_id',
        patient: 'patient_id, "at", alert_id',
        procedure: 'procedure_id, "at", alert_id',
        arm: 'robot_arm, "at", alert_id',
      }[sort];
      expect(ids).toEqual((await sqlRows<{ id: string }>(`SELECT alert_id AS id FROM alerts ORDER BY ${order}`)).map((r) => r.id));
      const eps = (await all({ ...DEFAULT_VIEW, mode: 'episodes', sort })).map((r) => r.id);
      expect(eps.length).toBe((await sqlRows('SELECT episode_id FROM alert_episodes')).length);
    }
  });

  it('finds each alert\'s event, arm telemetry and procedure; every alert sits in exactly one episode', async () => {
    const alerts = await all(DEFAULT_VIEW);
    for (const a of alerts) {
      const d = await store.detail(a);
      expect(d.missing).toEqual([]);
      expect(d.event?.eventId).toBe(a.id.replace(/^AL-/, ''));
      expect(d.triggers.length).toBeGreaterThan(0);
      expect(d.window!.events).toBeGreaterThanOrEqual(1);
      const maxForce = Math.max(...d.window!.force.filter((f): f is number => f !== null));
      expect(maxForce).toBeGreaterThanOrEqual(d.event!.forceN!);
      expect(d.related.total).toBe(alerts.filter((x) => x.procedureId === a.procedureId).length - 1);
    }
    const episodes = await all({ ...DEFAULT_VIEW, mode: 'episodes' });
    let members = 0;
    for (const e of episodes) {
      const d = await store.detail(e);
      expect(d.related.total).toBe(e.alerts);
      members += d.related.total;
    }
    expect(members).toBe(alerts.length);
  });

  it('acknowledges an episode\'s alerts and exports the view', async () => {
    const [ep] = await store.page({ ...DEFAULT_VIEW, mode: 'episodes' }, { limit: 1 });
    const r = await store.acknowledge(ep!, 'pipeline check');
    expect(r.added).toBe(ep!.alerts);
    expect((await store.counts(DEFAULT_VIEW)).acked).toBe(ep!.alerts);
    const x = await store.exportView(DEFAULT_VIEW, 'csv', t.dir);
    const lines = readFileSync(x.path, 'utf8').trimEnd().split('\n');
    expect(lines.length - 1).toBe(x.rows);
    expect(lines.filter((l) => l.includes(',pipeline,')).length).toBe(ep!.alerts);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual((await all(DEFAULT_VIEW)).map((a) => a.id));
  });
});
