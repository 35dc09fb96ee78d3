// Readers during a load: the lakehouse is locked only for the 'running' ledger row and the merge, so another process
// opens it read-only while a file is staged and validated, and sees the state before the load (never a part of it);
// a load killed while staging leaves a scratch the next load removes; a live load's 'running' row is left alone.
// A big merge gives readers a read snapshot: a reader in another process answers at once with the state before the
// load while the merge holds the lakehouse; a snapshot left by a killed load is never read as current.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { openDb } from '../../../src/db/db.js';
import { loadFiles, type LoadStep } from '../../../src/core/load/load.js';
import { markAbandoned } from '../../../src/core/load/ledger.js';
import { removeStaleScratch, scratchPaths } from '../../../src/core/load/session.js';
import { scratchDirs } from '../../helpers/run-cli.js';
import { writeSmallDataset } from '../../helpers/small-dataset.js';
import { lakeAt } from '../../helpers/lake.js';

const tmp = scratchDirs();
const NODE_API = resolve('node_modules/@duckdb/node-api/lib/index.js');
const BIN = resolve('bin/surgctl.js');
const COUNTS = "SELECT (SELECT count(*) FROM raw_telemetry)::INTEGER AS telemetry, (SELECT count(*) FROM loads WHERE status = 'running')::INTEGER AS running";

/** Opens the lakehouse read-only from another process (no lock wait) and returns what it sees, or the error. */
function readFromAnotherProcess(dbPath: string): { ok: true; telemetry: number; running: number } | { ok: false; error: string } {
  const script = `
    const { DuckDBInstance } = await import(${JSON.stringify(NODE_API)});
    try {
      const inst = await DuckDBInstance.create(${JSON.stringify(dbPath)}, { access_mode: 'READ_ONLY' });
      const con = await inst.connect();
      const t = (await con.runAndReadAll('SELECT count(*)::INTEGER AS n FROM raw_telemetry')).getRowObjectsJson()[0].n;
      const r = (await con.runAndReadAll("SELECT count(*)::INTEGER AS n FROM loads WHERE status = 'running'")).getRowObjectsJson()[0].n;
      con.closeSync(); inst.closeSync();
      process.stdout.write(JSON.stringify({ ok: true, telemetry: t, running: r }));
    } catch (e) { process.stdout.write(JSON.stringify({ ok: false, error: String(e.message) })); }`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(r.stdout) as ReturnType<typeof readFromAnotherProcess>;
}

/** `surgctl query` (the built bin: npm test builds dist/) in another process: the rows, or the error's first line. */
function queryFromAnotherProcess(dbPath: string, sql: string, lockTimeoutS: number): { ok: true; rows: unknown[] } | { ok: false; error: string } {
  const r = spawnSync(process.execPath, [BIN, '--lock-timeout', String(lockTimeoutS), 'query', sql, '--db', dbPath, '--format', 'json'], { encoding: 'utf8' });
  return r.status === 0 ? { ok: true, rows: JSON.parse(r.stdout) as unknown[] } : { ok: false, error: r.stderr.split('\n')[0] ?? '' };
}

function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

describe('readers during a load', () => {
  it('another process reads the lakehouse while a file stages and validates, and sees the state before the load', async () => {
    const dir = tmp();
    const files = writeSmallDataset(dir, 400);
    const db = join(dir, 'lake.duckdb');
    await loadFiles({ inputs: [files.robots, files.patients, files.procedures], cwd: dir }, { lake: lakeAt(db) });
    const seen: Partial<Record<LoadStep, ReturnType<typeof readFromAnotherProcess>>> = {};
    let scratchDuringStage = false;
    const result = await loadFiles({
      inputs: [files.telemetry],
      cwd: dir,
      atStep: (step) => {
        if (step === 'after-stage') scratchDuringStage = readdirSync(dir).some((n) => n.startsWith('.surgctl-stage-') && n.endsWith('.duckdb'));
        if (step === 'after-stage' || step === 'after-validate' || step === 'mid-insert' || step === 'after-finish') seen[step] = readFromAnotherProcess(db);
      },
    }, { lake: lakeAt(db) });
    expect(result.files[0]?.rows_inserted).toBe(400);
    // Staging and validation: the lakehouse is free; the reader sees no telemetry yet and the load's 'running' row.
    expect(seen['after-stage']).toEqual({ ok: true, telemetry: 0, running: 1 });
    expect(seen['after-validate']).toEqual({ ok: true, telemetry: 0, running: 1 });
    // The merge transaction holds the lock (the short window a reader retries through with --lock-timeout).
    expect(seen['mid-insert']).toMatchObject({ ok: false });
    expect((seen['mid-insert'] as { error: string }).error).toMatch(/lock/i);
    // After it: everything at once.
    expect(seen['after-finish']).toEqual({ ok: true, telemetry: 400, running: 0 });
    expect(scratchDuringStage).toBe(true);
    expect(readdirSync(dir).filter((n) => n.startsWith('.surgctl-stage-'))).toEqual([]);
  }, 60_000);

  it('with a big merge running, a reader in another process reads the snapshot at once: the state before the load, then after', async () => {
    const dir = tmp();
    const files = writeSmallDataset(dir, 400);
    const db = join(dir, 'lake.duckdb');
    await loadFiles({ inputs: [files.robots, files.patients, files.procedures], cwd: dir }, { lake: lakeAt(db) });
    const seen: Partial<Record<LoadStep, ReturnType<typeof queryFromAnotherProcess>>> = {};
    const files$: Partial<Record<LoadStep, string[]>> = {};
    const result = await loadFiles({
      inputs: [files.telemetry],
      cwd: dir,
      atStep: (step) => {
        if (step !== 'mid-insert' && step !== 'after-finish') return;
        files$[step] = readdirSync(dir).filter((n) => n.includes('.surgctl-snapshot') || n.endsWith('.surgctl-writer')).sort();
        // The load is paused here (this callback blocks it), holding the lakehouse: a reader that waited for it would
        // fail at its lock timeout instead of answering.
        seen[step] = queryFromAnotherProcess(db, COUNTS, 20);
      },
    }, { lake: lakeAt(db, { readSnapshotRows: 0 }) }); // every merge counts as big here
    expect(result.files[0]?.rows_inserted).toBe(400);
    expect(files$['mid-insert']).toEqual(['lake.duckdb.surgctl-snapshot', 'lake.duckdb.surgctl-writer']);
    expect(seen['mid-insert']).toEqual({ ok: true, rows: [{ telemetry: 0, running: 1 }] });
    expect(seen['after-finish']).toEqual({ ok: true, rows: [{ telemetry: 400, running: 0 }] });
    // The writer is done: its note and snapshot are gone.
    expect(files$['after-finish']).toEqual([]);
  }, 60_000);

  it('a merge smaller than readSnapshotRows makes no snapshot (readers wait for it as before)', async () => {
    const dir = tmp();
    const files = writeSmallDataset(dir, 50);
    const db = join(dir, 'lake.duckdb');
    // Undefined unless the mid-insert step ran: the test fails if it never looked.
    let during: string[] | undefined;
    await loadFiles({
      inputs: [files.robots],
      cwd: dir,
      atStep: (step) => {
        if (step === 'mid-insert') during = readdirSync(dir).filter((n) => n.includes('.surgctl-snapshot'));
      },
    }, { lake: lakeAt(db, { readSnapshotRows: 1000 }) });
    expect(during).toEqual([]);
  }, 30_000);

  it('a snapshot left by a killed load is not read once the lakehouse changed, and the next load removes it', async () => {
    const dir = tmp();
    const files = writeSmallDataset(dir, 300);
    const db = join(dir, 'lake.duckdb');
    await loadFiles({ inputs: [files.robots, files.patients, files.procedures], cwd: dir }, { lake: lakeAt(db) });
    const killed = spawnSync(process.execPath, [BIN, 'load', files.telemetry, '--db', db, '-q'], {
      cwd: dir, encoding: 'utf8', env: { ...process.env, SURGCTL_FAULT: 'mid-insert', SURGCTL_READ_SNAPSHOT_ROWS: '0' },
    });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(existsSync(join(dir, 'lake.duckdb.surgctl-snapshot'))).toBe(true);
    // A short writer changes the lakehouse (the snapshot holds the robots as they were before).
    const w = await openDb(db);
    try {
      await w.run('DELETE FROM raw_robots');
    } finally {
      w.close();
    }
    expect(queryFromAnotherProcess(db, 'SELECT count(*)::INTEGER AS n FROM raw_robots', 5)).toEqual({ ok: true, rows: [{ n: 0 }] });
    await loadFiles({ inputs: [files.telemetry], cwd: dir, allowOrphans: true }, { lake: lakeAt(db) });
    expect(readdirSync(dir).filter((n) => n.includes('.surgctl-snapshot') || n.includes('.surgctl-writer'))).toEqual([]);
  }, 60_000);

  it('a long writer (transform, import: Lakehouse.openWriter readSnapshot) gives readers the state before it until it closes', async () => {
    const dir = tmp();
    const files = writeSmallDataset(dir, 10);
    const db = join(dir, 'lake.duckdb');
    await loadFiles({ inputs: [files.robots], cwd: dir }, { lake: lakeAt(db) });
    const robots = 'SELECT count(*)::INTEGER AS n FROM raw_robots';
    const before = queryFromAnotherProcess(db, robots, 5);
    expect(before).toMatchObject({ ok: true });
    const lake = await lakeAt(db, { lockTimeoutMs: 5000 }).openWriter({ readSnapshot: true });
    try {
      await lake.run('DELETE FROM raw_robots');
      // This process holds the lakehouse for writing throughout: the reader answers from the snapshot.
      expect(queryFromAnotherProcess(db, robots, 20)).toEqual(before);
    } finally {
      lake.close();
    }
    expect(queryFromAnotherProcess(db, robots, 5)).toEqual({ ok: true, rows: [{ n: 0 }] });
    expect(readdirSync(dir).filter((n) => n.includes('.surgctl-snapshot') || n.includes('.surgctl-writer'))).toEqual([]);
  }, 60_000);

  it("the next load marks a dead load's 'running' row failed and removes its scratch, and leaves a live one alone", async () => {
    const dir = tmp();
    const files = writeSmallDataset(dir, 10);
    const dbPath = join(dir, 'lake.duckdb');
    await loadFiles({ inputs: [files.robots], cwd: dir }, { lake: lakeAt(dbPath) });
    const dead = scratchPaths(dbPath, 'L-dead');
    const live = scratchPaths(dbPath, 'L-live');
    writeFileSync(dead.owner, JSON.stringify({ pid: deadPid(), host: hostname(), load_id: 'L-dead' }));
    writeFileSync(dead.db, 'a scratch left by a killed load');
    writeFileSync(live.owner, JSON.stringify({ pid: process.pid, host: hostname(), load_id: 'L-live' }));
    const db = await openDb(dbPath);
    try {
      for (const id of ['L-dead', 'L-live', 'L-noscratch']) {
        await db.run("INSERT INTO loads (load_id, path, dataset, started_at, status) VALUES ($id, 'x.csv', 'robots', now(), 'running')", { id });
      }
      expect(await markAbandoned(db)).toBe(2);
      const rows = await db.all<{ load_id: string; status: string }>('SELECT load_id, status FROM loads WHERE load_id LIKE $p ORDER BY load_id', { p: 'L-%' });
      expect(rows).toEqual([
        { load_id: 'L-dead', status: 'failed' },
        { load_id: 'L-live', status: 'running' },
        { load_id: 'L-noscratch', status: 'failed' },
      ]);
    } finally {
      db.close();
    }
    expect(removeStaleScratch(dbPath)).toEqual(['L-dead']);
    expect(existsSync(dead.db) || existsSync(dead.owner)).toBe(false);
    expect(existsSync(live.owner)).toBe(true);
  }, 30_000);
});
