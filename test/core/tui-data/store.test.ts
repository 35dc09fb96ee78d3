import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../../src/db/db.js';
import { writerNotePath } from '../../../src/db/merge-gate.js';
import { DatabaseError, UsageError } from '../../../src/errors.js';
import {
  DEFAULT_VIEW, openAlertStore, type AlertStore, type ListRow, type RowKey, type ViewSpec,
} from '../../../src/core/tui-data/index.js';
import { tempDir } from '../../helpers/run-cli.js';
import { buildMartFixture } from './fixture.js';
import { lakeAt } from '../../helpers/lake.js';

const t = tempDir('surgctl-tui-data-');
const dbPath = join(t.dir, 'lake.duckdb');
const clock = () => new Date('2026-01-06T12:00:00Z');
let store: AlertStore;

beforeAll(async () => {
  expect(await buildMartFixture(dbPath, { alerts: 600 })).toBe(600);
  store = await openAlertStore({ user: 'tester', now: clock }, { lake: lakeAt(dbPath) });
});
afterAll(() => {
  store?.close();
  t.cleanup();
});

/** A private copy of the fixture (for tests that write). */
function copyLake(name: string): string {
  const p = join(t.dir, `${name}.duckdb`);
  copyFileSync(dbPath, p);
  return p;
}

/** The ids of a view in order, straight from SQL (the reference the keyset pages must reproduce). */
async function referenceIds(spec: ViewSpec): Promise<string[]> {
  const db = await openDb(dbPath, { readOnly: true });
  try {
    const table = spec.mode === 'alerts' ? 'alerts' : 'alert_episodes';
    const id = spec.mode === 'alerts' ? 'alert_id' : 'episode_id';
    const time = spec.mode === 'alerts' ? '"at"' : 'started_at';
    // Ties run earliest first, then by id, as in `report top-alerts` (issue 16); reverse flips every column.
    const cols: Record<ViewSpec['sort'], [string, boolean][]> = {
      risk: [['risk_score', true], [time, false], [id, false]],
      newest: [[time, true], [id, false]],
      oldest: [[time, false], [id, false]],
      level: [['level_rank', true], ['risk_score', true], [time, false], [id, false]],
      patient: [['patient_id', false], [time, false], [id, false]],
      procedure: [['procedure_id', false], [time, false], [id, false]],
      arm: [['robot_arm', false], [time, false], [id, false]],
    };
    const order = cols[spec.sort].map(([c, desc]) => `${c} ${desc !== (spec.reverse === true) ? 'DESC' : 'ASC'}`).join(', ');
    const rank = { medium: 2, high: 3, critical: 4 }[spec.minLevel];
    const rows = await db.all<{ id: string }>(
      `SELECT ${id} AS id FROM ${table} WHERE level_rank >= $r AND ($p::VARCHAR IS NULL OR patient_id = $p) ORDER BY ${order}`,
      { r: rank, p: spec.patientId },
    );
    return rows.map((r) => r.id);
  } finally {
    db.close();
  }
}

async function walkForward(spec: ViewSpec, limit: number): Promise<ListRow[]> {
  const out: ListRow[] = [];
  let after: RowKey | undefined;
  for (;;) {
    const page = await store.page(spec, { after, limit });
    out.push(...page);
    if (page.length < limit) return out;
    after = page[page.length - 1]!.key;
  }
}

describe('openAlertStore', () => {
  it('refuses a missing lakehouse with a line that names report top-alerts', async () => {
    const err = await openAlertStore({ user: 'x' }, { lake: lakeAt(join(t.dir, 'nope.duckdb')) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toContain('surgctl report top-alerts');
    expect((err as UsageError).message).toContain('nope.duckdb');
  });

  it('refuses a database without the alerts mart', async () => {
    const p = join(t.dir, 'empty.duckdb');
    (await openDb(p)).close();
    const err = await openAlertStore({ user: 'x' }, { lake: lakeAt(p) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(/no alerts mart.*surgctl transform.*report top-alerts/);
  });

  it('holds only a shared (read-only) lock: another process can read the lakehouse meanwhile', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', `
      import { DuckDBInstance } from '@duckdb/node-api';
      const i = await DuckDBInstance.create(${JSON.stringify(dbPath)}, { access_mode: 'READ_ONLY' });
      const c = await i.connect();
      const r = await c.runAndReadAll('SELECT count(*)::INTEGER AS n FROM alerts');
      console.log(JSON.stringify(r.getRowObjectsJson()[0]));`], { cwd: process.cwd() });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ n: 600 });
  });
});

describe('a writer in another process', () => {
  it('gets the file while a browser is left open: the store lets go between queries and reopens for the next', async () => {
    const p = copyLake('writer-waits');
    const s = await openAlertStore({ user: 'u' }, { lake: lakeAt(p) });
    try {
      expect((await s.counts(DEFAULT_VIEW)).total).toBe(600);
      expect(s.isOpen).toBe(true);
      // A writer as a load does it: its note beside the file (src/db/merge-gate.ts), then a read-write open, retried
      // while a reader holds the file (DuckDB gives a writer the file only when no reader has it).
      const child = spawn(process.execPath, ['--input-type=module', '-e', `
        import { writeFileSync, rmSync } from 'node:fs';
        import { hostname } from 'node:os';
        import { DuckDBInstance } from '@duckdb/node-api';
        const note = ${JSON.stringify(writerNotePath(p))};
        writeFileSync(note, JSON.stringify({ pid: process.pid, host: hostname() }));
        const until = Date.now() + 8000;
        let i;
        for (;;) {
          try { i = await DuckDBInstance.create(${JSON.stringify(p)}); break; }
          catch (e) { if (Date.now() > until) { console.log('locked'); process.exit(3); } await new Promise((r) => setTimeout(r, 50)); }
        }
        const c = await i.connect();
        await c.run("DELETE FROM alerts WHERE level <> 'critical'");
        c.closeSync(); i.closeSync(); rmSync(note);
        console.log('wrote');`], { cwd: process.cwd() });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((r) => child.on('close', r));
      expect(out.trim()).toBe('wrote');
      expect(code).toBe(0);
      expect(s.isOpen).toBe(false);
      const after = await s.counts(DEFAULT_VIEW);
      expect(after.total).toBe(after.critical);
      expect(after.critical).toBeGreaterThan(0);
      expect(s.isOpen).toBe(true);
    } finally {
      s.close();
    }
  });
});

describe('counts', () => {
  it('counts by level over the patient filter, and what the level filter leaves in view', async () => {
    const c = await store.counts(DEFAULT_VIEW);
    expect(c.medium + c.high + c.critical).toBe(600);
    expect(c.total).toBe(600);
    expect(c.inView).toBe(600);
    const high = await store.counts({ ...DEFAULT_VIEW, minLevel: 'high' });
    expect(high.inView).toBe(c.high + c.critical);
    expect(high.medium).toBe(c.medium);
    const p = await store.counts({ ...DEFAULT_VIEW, patientId: 'PT-00001' });
    expect(p.total).toBe(120);
    expect((await referenceIds({ ...DEFAULT_VIEW, patientId: 'PT-00001' })).length).toBe(120);
  });

  it('counts episodes in episodes mode', async () => {
    const c = await store.counts({ ...DEFAULT_VIEW, mode: 'episodes' });
    expect(c.total).toBe(120);
  });
});

describe('keyset paging', () => {
  const specs: ViewSpec[] = [
    DEFAULT_VIEW,
    { ...DEFAULT_VIEW, sort: 'newest' },
    { ...DEFAULT_VIEW, sort: 'oldest', minLevel: 'high' },
    { ...DEFAULT_VIEW, minLevel: 'critical', patientId: 'PT-00002' },
    { ...DEFAULT_VIEW, mode: 'episodes' },
    { ...DEFAULT_VIEW, mode: 'episodes', sort: 'oldest', minLevel: 'high' },
    // Every other column sort, and a reversed one (S), keyset-paged in mixed directions.
    { ...DEFAULT_VIEW, sort: 'level' },
    { ...DEFAULT_VIEW, sort: 'patient' },
    { ...DEFAULT_VIEW, sort: 'procedure', reverse: true },
    { ...DEFAULT_VIEW, sort: 'arm', minLevel: 'high' },
    { ...DEFAULT_VIEW, sort: 'risk', reverse: true },
    { ...DEFAULT_VIEW, mode: 'episodes', sort: 'patient', reverse: true },
  ];
  for (const spec of specs) {
    it(`pages through ${JSON.stringify(spec)} exactly as one ORDER BY would`, async () => {
      const ref = await referenceIds(spec);
      expect(ref.length).toBeGreaterThan(0);
      const fwd = await walkForward(spec, 37);
      expect(fwd.map((r) => r.id)).toEqual(ref);
      // Backwards from the end, page by page.
      const back: ListRow[] = [];
      let page = await store.page(spec, { fromEnd: true, limit: 37 });
      while (page.length > 0) {
        back.unshift(...page);
        page = await store.page(spec, { before: page[0]!.key, limit: 37 });
      }
      expect(back.map((r) => r.id)).toEqual(ref);
      const mid = fwd[Math.floor(fwd.length / 2)]!;
      expect(await store.rankOf(spec, mid.key)).toBe(ref.indexOf(mid.id));
      for (const r of fwd) {
        expect(r.levelRank).toBeGreaterThanOrEqual({ medium: 2, high: 3, critical: 4 }[spec.minLevel]);
        if (spec.patientId) expect(r.patientId).toBe(spec.patientId);
      }
    });
  }

  it('maps alert rows with ISO times, step and reason', async () => {
    const [row] = await store.page(DEFAULT_VIEW, { limit: 1 });
    expect(row).toMatchObject({ kind: 'alert', level: 'critical', alerts: 1, acked: 0, ack: null });
    expect(row!.at).toMatch(/^2026-01-05T\d\d:\d\d:\d\dZ$/);
    expect(row!.step).not.toBeNull();
    expect(row!.reason.length).toBeGreaterThan(0);
  });
});

describe('the / filter', () => {
  it('keeps the rows whose reason, step, patient or procedure contains the text, case-insensitively, in view order', async () => {
    const spec = { ...DEFAULT_VIEW, sort: 'oldest' as const };
    const all = await walkForward(spec, 1000);
    const matches = all.filter((r) => r.step === 'suturing' || r.reason.includes('suturing'));
    expect(matches.length).toBeGreaterThan(0);
    const filtered = { ...spec, filter: 'SUTURING' };
    expect((await store.counts(filtered)).inView).toBe(matches.length);
    expect((await walkForward(filtered, 37)).map((r) => r.id)).toEqual(matches.map((r) => r.id));
    expect((await store.counts({ ...spec, filter: 'no such thing' })).inView).toBe(0);
  });

  it('matches patient and procedure ids, and treats % and _ literally', async () => {
    const [hit] = await store.page({ ...DEFAULT_VIEW, filter: 'pr-000003' }, { limit: 1 });
    expect(hit!.procedureId).toBe('PR-000003');
    expect((await store.counts({ ...DEFAULT_VIEW, filter: 'PT-00004' })).inView).toBe(120);
    expect((await store.counts({ ...DEFAULT_VIEW, filter: '%' })).inView).toBe(0);
    expect((await store.counts({ ...DEFAULT_VIEW, filter: 'PT_00004' })).inView).toBe(0);
  });
});

describe('detail', () => {
  it('returns the event, the arm window, vitals, NEWS2 and the procedure\'s other alerts', async () => {
    const [row] = await store.page(DEFAULT_VIEW, { limit: 1 });
    const d = await store.detail(row!, { buckets: 30, relatedLimit: 5 });
    expect(d.event?.eventId).toBe(row!.id.replace('AL-', 'EV-'));
    expect(d.triggers.length).toBeGreaterThan(0);
    expect(d.window!.force).toHaveLength(30);
    expect(d.window!.bucketSeconds).toBe(2);
    expect(d.window!.events).toBeGreaterThan(10);
    // The alert's own force is the window's maximum bucket near the middle.
    expect(d.window!.force.some((f) => f !== null && f >= d.event!.forceN! - 1e-9)).toBe(true);
    expect(d.hour).toBe(`${row!.at.slice(0, 13)}:00:00.000Z`);
    expect(d.vitalsHour).toBe(d.hour);
    expect(d.news2Hour).toBe(d.hour);
    expect(d.vitals!.map((v) => v.metric)).toContain('heart_rate');
    expect(d.news2!.band).toMatch(/low|medium|high/);
    expect(d.related.total).toBe(59);
    expect(d.related.rows).toHaveLength(5);
    expect(d.related.rows.every((r) => r.alertId !== row!.id)).toBe(true);
    expect(d.missing).toEqual([]);
  });

  it('falls back to the patient\'s nearest hour when the alert\'s hour has no vitals or NEWS2', async () => {
    const p = copyLake('nearest');
    const db = await openDb(p);
    // An alert of a patient with more than one scored hour (so a nearest other hour exists).
    const many = new Set((await db.all<{ p: string }>('SELECT patient_id AS p FROM news2_hourly GROUP BY 1 HAVING count(*) > 1')).map((r) => r.p));
    const row = (await store.page(DEFAULT_VIEW, { limit: 200 })).find((r) => many.has(r.patientId));
    const hour = `${row!.at.slice(0, 13)}:00:00.000Z`;
    await db.run('DELETE FROM vitals_hourly WHERE patient_id = $p AND hour_start = $h::TIMESTAMPTZ', { p: row!.patientId, h: hour });
    await db.run('DELETE FROM news2_hourly WHERE patient_id = $p AND hour_start = $h::TIMESTAMPTZ', { p: row!.patientId, h: hour });
    // The patient's hours left, nearest first (the fixture has the same hours in both marts).
    const hours = (await db.all<{ h: string }>(
      `SELECT strftime(hour_start, '%Y-%m-%dT%H:%M:%S.%gZ') AS h FROM news2_hourly WHERE patient_id = $p`, { p: row!.patientId },
    )).map((r) => r.h).sort((a, b) => Math.abs(Date.parse(a) - Date.parse(hour)) - Math.abs(Date.parse(b) - Date.parse(hour)) || a.localeCompare(b));
    db.close();
    const s = await openAlertStore({ user: 'x' }, { lake: lakeAt(p) });
    try {
      const d = await s.detail(row!);
      expect(d.hour).toBe(hour);
      expect(hours.length).toBeGreaterThan(0);
      expect(d.vitalsHour).toBe(hours[0]);
      expect(d.vitals!.length).toBeGreaterThan(0);
      expect(d.news2Hour).toBe(hours[0]);
      expect(d.news2).not.toBeNull();
    } finally {
      s.close();
    }
  });

  it('returns alarming_n per vital (null on a lakehouse built before the two tiers) and null for unmeasured force', async () => {
    const [row] = await store.page(DEFAULT_VIEW, { limit: 1 });
    // The shared fixture's vitals_hourly has no alarming_n column: an older lakehouse.
    expect((await store.detail(row!)).vitals!.every((v) => v.alarmingN === null)).toBe(true);
    const p = copyLake('alarming');
    const db = await openDb(p);
    await db.run('ALTER TABLE vitals_hourly ADD COLUMN alarming_n BIGINT DEFAULT 0');
    await db.run(`UPDATE vitals_hourly SET alarming_n = 3 WHERE metric = 'heart_rate'`);
    // Kinematics-only telemetry: no force and no latency for this arm.
    await db.run('UPDATE telemetry_risk SET force_n = NULL, latency_ms = NULL WHERE procedure_id = $p AND robot_arm = $a',
      { p: row!.procedureId, a: row!.robotArm });
    db.close();
    const s = await openAlertStore({ user: 'x' }, { lake: lakeAt(p) });
    try {
      const d = await s.detail(row!, { buckets: 30 });
      expect(d.vitals!.find((v) => v.metric === 'heart_rate')!.alarmingN).toBe(3);
      expect(d.vitals!.filter((v) => v.metric !== 'heart_rate').every((v) => v.alarmingN === 0)).toBe(true);
      expect(d.event!.forceN).toBeNull();
      expect(d.event!.latencyMs).toBeNull();
      expect(d.window!.events).toBeGreaterThan(0);
      expect(d.window!.force.every((f) => f === null)).toBe(true);
      expect(d.window!.latency.every((l) => l === null)).toBe(true);
    } finally {
      s.close();
    }
  });

  it('lists an episode\'s own alerts', async () => {
    const [ep] = await store.page({ ...DEFAULT_VIEW, mode: 'episodes' }, { limit: 1 });
    const d = await store.detail(ep!);
    expect(d.related.total).toBe(ep!.alerts);
    expect(d.related.rows.every((r) => r.robotArm === ep!.robotArm)).toBe(true);
    expect(d.event).toBeNull();
  });

  it('names the marts a partial lakehouse lacks instead of failing', async () => {
    const p = join(t.dir, 'partial.duckdb');
    await buildMartFixture(p, { alerts: 60, without: ['telemetry_risk', 'vitals_hourly', 'news2_hourly'] });
    const s = await openAlertStore({ user: 'x' }, { lake: lakeAt(p) });
    try {
      const [row] = await s.page(DEFAULT_VIEW, { limit: 1 });
      const d = await s.detail(row!);
      expect(d.missing).toEqual(['telemetry_risk', 'vitals_hourly', 'news2_hourly']);
      expect(d.window).toBeNull();
      expect(d.vitals).toBeNull();
    } finally {
      s.close();
    }
  });
});

describe('acknowledge', () => {
  it('stores who and when, shows it in the list, and survives reopening', async () => {
    const p = copyLake('ack');
    const s = await openAlertStore({ user: 'nurse.k', now: clock }, { lake: lakeAt(p) });
    const [row] = await s.page(DEFAULT_VIEW, { limit: 1 });
    const r = await s.acknowledge(row!, 'seen, instrument swapped');
    expect(r).toEqual({
      added: 1, already: 0,
      ack: { alertId: row!.id, ackedBy: 'nurse.k', ackedAt: '2026-01-06T12:00:00Z', note: 'seen, instrument swapped' },
    });
    expect((await s.page(DEFAULT_VIEW, { limit: 1 }))[0]!.ack?.ackedBy).toBe('nurse.k');
    expect((await s.counts(DEFAULT_VIEW)).acked).toBe(1);
    const again = await s.acknowledge(row!, 'twice');
    expect(again.added).toBe(0);
    expect(again.already).toBe(1);
    expect(again.ack?.note).toBe('seen, instrument swapped');
    s.close();
    const reopened = await openAlertStore({ user: 'someone.else' }, { lake: lakeAt(p) });
    try {
      const [first] = await reopened.page(DEFAULT_VIEW, { limit: 1 });
      expect(first!.ack).toEqual(r.ack);
      expect(first!.acked).toBe(1);
    } finally {
      reopened.close();
    }
  });

  it('un-acknowledges with a note; the history keeps the acknowledgement and its withdrawal, both with notes', async () => {
    const p = copyLake('unack');
    const s = await openAlertStore({ user: 'nurse.k', now: clock }, { lake: lakeAt(p) });
    const [row] = await s.page(DEFAULT_VIEW, { limit: 1 });
    await s.acknowledge(row!, 'seen');
    const r = await s.unacknowledge(row!, 'acked the wrong alert');
    expect(r).toEqual({ removed: 1 });
    const [after] = await s.page(DEFAULT_VIEW, { limit: 1 });
    expect(after!.id).toBe(row!.id);
    expect(after!.ack).toBeNull();
    expect((await s.counts(DEFAULT_VIEW)).acked).toBe(0);
    expect(await s.unacknowledge(row!, null)).toEqual({ removed: 0 });
    s.close();
    const db = await openDb(p, { readOnly: true });
    try {
      const history = await db.all(
        `SELECT alert_id, action, acted_by, strftime(acted_at, '%Y-%m-%dT%H:%M:%SZ') AS at, note FROM alert_ack_history ORDER BY acted_at, action`,
      );
      expect(history).toEqual([
        { alert_id: row!.id, action: 'ack', acted_by: 'nurse.k', at: '2026-01-06T12:00:00Z', note: 'seen' },
        { alert_id: row!.id, action: 'unack', acted_by: 'nurse.k', at: '2026-01-06T12:00:00Z', note: 'acked the wrong alert' },
      ]);
      expect(await db.scalar('SELECT count(*)::INTEGER FROM alert_acks')).toBe(0);
    } finally {
      db.close();
    }
  });

  it('acknowledges every alert of an episode', async () => {
    const p = copyLake('ack-episode');
    const s = await openAlertStore({ user: 'u', now: clock }, { lake: lakeAt(p) });
    try {
      const spec = { ...DEFAULT_VIEW, mode: 'episodes' as const };
      const [ep] = await s.page(spec, { limit: 1 });
      const r = await s.acknowledge(ep!, null);
      expect(r.added).toBe(ep!.alerts);
      expect((await s.page(spec, { limit: 1 }))[0]!.acked).toBe(ep!.alerts);
      expect((await s.counts(spec)).acked).toBe(1);
      expect((await s.counts(DEFAULT_VIEW)).acked).toBe(ep!.alerts);
    } finally {
      s.close();
    }
  });

  it('says the database is busy when another process holds it, and keeps browsing', async () => {
    const p = copyLake('ack-locked');
    const s = await openAlertStore({ user: 'u' }, { lake: lakeAt(p, { lockTimeoutMs: 200 }) });
    try {
      const [row] = await s.page(DEFAULT_VIEW, { limit: 1 });
      // Another process takes a shared lock (a report reading); a write must wait for it.
      const child = spawn(process.execPath, ['--input-type=module', '-e', `
        import { DuckDBInstance } from '@duckdb/node-api';
        const i = await DuckDBInstance.create(${JSON.stringify(p)}, { access_mode: 'READ_ONLY' });
        console.log('ready'); setTimeout(() => i.closeSync(), 4000);`], { cwd: process.cwd() });
      await new Promise<void>((res) => child.stdout.on('data', () => res()));
      const err = await s.acknowledge(row!, null).catch((e: unknown) => e);
      child.kill();
      await new Promise((r) => child.on('close', r));
      expect(err).toBeInstanceOf(DatabaseError);
      expect((err as DatabaseError).message).toMatch(/in use by another process; try again/);
      expect(await s.page(DEFAULT_VIEW, { limit: 2 })).toHaveLength(2);
      expect((await s.acknowledge(row!, null)).added).toBe(1);
    } finally {
      s.close();
    }
  });
});

describe('exportView', () => {
  it('writes the current view to CSV in view order, never over an existing file', async () => {
    const out = join(t.dir, 'exports');
    (await import('node:fs')).mkdirSync(out);
    writeFileSync(join(out, 'surgctl-alerts-20260106T120000Z.csv'), 'mine\n');
    const spec = { ...DEFAULT_VIEW, minLevel: 'high' as const, sort: 'newest' as const };
    const r = await store.exportView(spec, 'csv', out);
    expect(r.path).toBe(join(out, 'surgctl-alerts-20260106T120000Z-2.csv'));
    expect(readFileSync(join(out, 'surgctl-alerts-20260106T120000Z.csv'), 'utf8')).toBe('mine\n');
    const lines = readFileSync(r.path, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(
      'alert_id,level,risk_score,at,patient_id,procedure_id,robot_id,robot_arm,instrument,step,triggers,reason,error_code,acked_by,acked_at,ack_note',
    );
    const ref = await referenceIds(spec);
    expect(r.rows).toBe(ref.length);
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(ref);
    const again = await store.exportView(spec, 'csv', out);
    expect(again.path).toBe(join(out, 'surgctl-alerts-20260106T120000Z-3.csv'));
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writes episodes to one JSON array', async () => {
    const out = join(t.dir, 'exports-json');
    (await import('node:fs')).mkdirSync(out);
    const spec = { ...DEFAULT_VIEW, mode: 'episodes' as const, patientId: 'PT-00000' };
    const r = await store.exportView(spec, 'json', out);
    const data = JSON.parse(readFileSync(r.path, 'utf8')) as { episode_id: string; started_at: string }[];
    expect(data.map((d) => d.episode_id)).toEqual(await referenceIds(spec));
    expect(data[0]!.started_at).toMatch(/^2026-01-05T.*Z$/);
    expect(r.rows).toBe(data.length);
  });
});
