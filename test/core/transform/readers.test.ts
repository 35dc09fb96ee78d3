// Readers during a transform (beside test/core/load/readers.test.ts, which covers load): a real `surgctl transform` in
// one process holds the lakehouse for writing for as long as it runs. A long one (--full-refresh, or an incremental
// scope of at least readSnapshotRows raw rows) gives readers a read snapshot of the lakehouse as it was before it
// (src/db/merge-gate.ts): a `surgctl report top-alerts` started in another process while the transform runs answers
// without waiting for it, with the state before the transform; once the transform is done, the same report shows the
// new state. A short incremental run makes no copy: a reader started while it holds the lakehouse waits for it and
// reads the new state. No snapshot is left behind either way. Real processes on a real file; the order of events is
// asserted, never a time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateDataset } from '../../../src/core/generate/index.js';
import { loadFiles } from '../../../src/core/load/load.js';
import { runTransform } from '../../../src/core/transform/transform.js';
import { readySnapshot, snapshotPath, writerNotePath } from '../../../src/db/merge-gate.js';
import { lakeAt } from '../../helpers/lake.js';
import { scratchDirs, tempDir } from '../../helpers/run-cli.js';

const tmp = scratchDirs();
const BIN = resolve('bin/surgctl.js');
/** Enough telemetry that a full transform runs for a while after it has taken the lakehouse (seconds here). */
const TELEMETRY_ROWS = 300_000;

/** `surgctl report top-alerts` (every alert, JSON) in another process, waiting for it to end. */
function topAlerts(db: string): { status: number | null; rows: unknown[]; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, '--lock-timeout', '30', 'report', 'top-alerts', '--limit', '1000000', '--db', db, '--format', 'json'], { encoding: 'utf8' });
  return { status: r.status, rows: r.status === 0 ? (JSON.parse(r.stdout) as unknown[]) : [], stderr: r.stderr };
}

/** Resolves with the exit code when `child` ends. */
function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((res) => child.once('exit', (code) => res(code)));
}

describe('readers during a transform', () => {
  it('a report started while a transform runs answers at once with the state before the transform', async () => {
    const dir = tmp();
    const data = join(dir, 'data');
    await generateDataset({ out: data, seed: 13, telemetryRows: TELEMETRY_ROWS, procedures: 400, badRows: 0, incidents: 0.2, datasets: ['robots', 'patients', 'procedures', 'telemetry'] });
    // The telemetry in two parts: the first is transformed before, the second by the transform the reader overlaps.
    const lines = readFileSync(join(data, 'telemetry.csv'), 'utf8').trimEnd().split('\n');
    const header = lines[0] as string;
    const cut = 1 + Math.floor((lines.length - 1) * 0.6);
    const first = join(dir, 'telemetry-1.csv');
    const second = join(dir, 'telemetry-2.csv');
    writeFileSync(first, `${[header, ...lines.slice(1, cut)].join('\n')}\n`);
    writeFileSync(second, `${[header, ...lines.slice(cut)].join('\n')}\n`);
    const db = join(dir, 'lake.duckdb');
    const lake = lakeAt(db);
    const setup = { cwd: dir, quarantineDir: join(dir, 'q') };
    await loadFiles({ ...setup, inputs: ['robots', 'patients', 'procedures'].map((d) => join(data, `${d}.csv`)) }, { lake });
    await loadFiles({ ...setup, inputs: [first], dataset: 'telemetry' }, { lake });
    expect((await runTransform({ cwd: dir, env: {} }, { lake })).tests_failed).toBe(0);
    const before = topAlerts(db);
    expect(before.status, before.stderr).toBe(0);
    expect(before.rows.length).toBeGreaterThan(0);
    await loadFiles({ ...setup, inputs: [second], dataset: 'telemetry' }, { lake });

    const transform = spawn(process.execPath, [BIN, 'transform', '--full-refresh', '--db', db, '--format', 'json', '-q'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let transformErr = '';
    transform.stderr?.on('data', (c: Buffer) => (transformErr += c.toString()));
    const order: string[] = [];
    const transformDone = exited(transform).then((code) => {
      order.push('transform');
      return code;
    });
    // The transform holds the lakehouse once its note names a ready snapshot (it took the lock, then published it).
    while (readySnapshot(db) === undefined && order.length === 0) await new Promise((r) => setTimeout(r, 25));
    expect(order, `the transform ended before it held the lakehouse: ${transformErr}`).toEqual([]);

    const report = spawn(process.execPath, [BIN, '--lock-timeout', '30', 'report', 'top-alerts', '--limit', '1000000', '--db', db, '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    report.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    report.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    const reportCode = await exited(report);
    order.push('report');
    // The transform still holds the lakehouse: the reader did not wait for it.
    const writerStillUp = existsSync(writerNotePath(db));
    expect(reportCode, err).toBe(0);
    expect(JSON.parse(out)).toEqual(before.rows);

    expect(await transformDone, transformErr).toBe(0);
    expect(order).toEqual(['report', 'transform']);
    expect(writerStillUp).toBe(true);
    // Afterwards the report shows the transform's result, which the second part of the telemetry changed.
    const after = topAlerts(db);
    expect(after.status, after.stderr).toBe(0);
    expect(after.rows.length).toBeGreaterThan(before.rows.length);
  }, 300_000);
});

/** `surgctl query` (JSON rows) in another process, started now; resolves when it ends. */
function queryLater(db: string, sql: string): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [BIN, '--lock-timeout', '30', 'query', sql, '--db', db, '--format', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  return exited(child).then((code) => ({ code, out, err }));
}

/**
 * `surgctl query` (JSON rows) in another process, this process blocked until it ends: called while this process's
 * transform holds the lakehouse, the reader can only answer from a read snapshot (or give up after its lock timeout).
 */
function queryNow(db: string, sql: string, lockTimeoutS: number): { status: number | null; n: number | undefined; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, '--lock-timeout', String(lockTimeoutS), 'query', sql, '--db', db, '--format', 'json'], { encoding: 'utf8' });
  return { status: r.status, n: r.status === 0 ? (JSON.parse(r.stdout) as { n: number }[])[0]?.n : undefined, stderr: r.stderr };
}

describe('readers during an incremental transform', () => {
  const COUNT = 'SELECT count(*)::INTEGER AS n FROM telemetry_risk';
  let base: string;
  let second: string;
  let dir: string;
  let cleanup: (() => void) | undefined;
  afterAll(() => cleanup?.());

  // A lakehouse transformed once, and a second telemetry file (the last procedures) not loaded yet.
  beforeAll(async () => {
    ({ dir, cleanup } = tempDir());
    const data = join(dir, 'data');
    await generateDataset({ out: data, seed: 17, telemetryRows: 20_000, procedures: 40, badRows: 0, incidents: 0.2, datasets: ['robots', 'patients', 'procedures', 'telemetry'] });
    const lines = readFileSync(join(data, 'telemetry.csv'), 'utf8').trimEnd().split('\n');
    const header = lines[0] as string;
    const cut = 1 + Math.floor((lines.length - 1) * 0.95);
    const first = join(dir, 'telemetry-1.csv');
    second = join(dir, 'telemetry-2.csv');
    writeFileSync(first, `${[header, ...lines.slice(1, cut)].join('\n')}\n`);
    writeFileSync(second, `${[header, ...lines.slice(cut)].join('\n')}\n`);
    base = join(dir, 'base.duckdb');
    const lake = lakeAt(base);
    const opts = { cwd: dir, quarantineDir: join(dir, 'q') };
    await loadFiles({ ...opts, inputs: ['robots', 'patients', 'procedures'].map((d) => join(data, `${d}.csv`)) }, { lake });
    await loadFiles({ ...opts, inputs: [first], dataset: 'telemetry' }, { lake });
    expect((await runTransform({ cwd: dir, env: {} }, { lake })).tests_failed).toBe(0);
  }, 300_000);

  /**
   * Loads the second file into a copy of the base lakehouse, then runs an incremental transform in this process;
   * `atPlan` runs when its plan is made (it then holds the lakehouse). What each event saw of the snapshot.
   */
  async function incremental(name: string, atPlan: (db: string) => void, readSnapshotRows?: number) {
    const db = join(dir, `${name}.duckdb`);
    copyFileSync(base, db);
    const lake = lakeAt(db, readSnapshotRows === undefined ? {} : { readSnapshotRows });
    await loadFiles({ cwd: dir, quarantineDir: join(dir, 'q'), inputs: [second], dataset: 'telemetry' }, { lake });
    const before = (await lake.withReader((r) => r.all<{ n: number }>(COUNT)))[0]?.n;
    const seen: { event: string; snapshot: boolean; noteNamesSnapshot: boolean }[] = [];
    const result = await runTransform({ cwd: dir, env: {} }, {
      lake,
      onEvent: (e) => {
        const note = existsSync(writerNotePath(db)) ? (JSON.parse(readFileSync(writerNotePath(db), 'utf8')) as { snapshot?: unknown }) : {};
        seen.push({ event: e.type, snapshot: existsSync(snapshotPath(db)), noteNamesSnapshot: note.snapshot !== undefined });
        if (e.type === 'plan') atPlan(db);
      },
    });
    const after = (await lake.withReader((r) => r.all<{ n: number }>(COUNT)))[0]?.n;
    return { result, before, after, seen, leftBehind: existsSync(snapshotPath(db)) || existsSync(writerNotePath(db)) };
  }

  it('a short incremental run makes no snapshot: a reader started while it holds the lakehouse waits, then reads the new state', async () => {
    let blocked: ReturnType<typeof queryNow> | undefined;
    let waiting: ReturnType<typeof queryLater> | undefined;
    const r = await incremental('short', (db) => {
      // One reader gives up after 1 s (this process is blocked meanwhile, holding the lakehouse): no snapshot to read.
      blocked = queryNow(db, COUNT, 1);
      // Another waits for the transform to finish.
      waiting = queryLater(db, COUNT);
    });
    expect(r.result.mode).toBe('incremental');
    expect(r.result.scope?.procedures).toBeGreaterThan(0);
    expect(r.after).toBeGreaterThan(r.before ?? 0);
    expect(r.seen.length).toBeGreaterThan(2);
    expect(r.seen.every((s) => !s.snapshot && !s.noteNamesSnapshot)).toBe(true);
    expect(blocked?.status, blocked?.stderr).toBe(3);
    expect(blocked?.stderr).toMatch(/locked by another process/);
    const read = await (waiting as NonNullable<typeof waiting>);
    expect(read.code, read.err).toBe(0);
    expect((JSON.parse(read.out) as { n: number }[])[0]?.n).toBe(r.after);
    expect(r.leftBehind).toBe(false);
  }, 300_000);

  it('an incremental scope of at least readSnapshotRows rows gives readers the snapshot from its plan on, and removes it', async () => {
    let read: ReturnType<typeof queryNow> | undefined;
    const r = await incremental('long', (db) => (read = queryNow(db, COUNT, 30)), 0);
    expect(r.result.mode).toBe('incremental');
    expect(r.after).toBeGreaterThan(r.before ?? 0);
    expect(r.seen.length).toBeGreaterThan(2);
    expect(r.seen.every((s) => s.snapshot && s.noteNamesSnapshot)).toBe(true);
    // Answered while this process held the lakehouse: from the snapshot, the state before the run.
    expect(read?.status, read?.stderr).toBe(0);
    expect(read?.n).toBe(r.before);
    expect(r.leftBehind).toBe(false);
  }, 300_000);
});
