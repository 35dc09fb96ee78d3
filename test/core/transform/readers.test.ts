// Readers during a transform (beside test/core/load/readers.test.ts, which covers load): a real `surgctl transform` in
// one process holds the lakehouse for writing for as long as it runs, and gives readers a read snapshot of the
// lakehouse as it was before it (src/db/merge-gate.ts). A `surgctl report top-alerts` started in another process while
// the transform runs answers without waiting for it, with the state before the transform; once the transform is done,
// the same report shows the new state. Real processes on a real file; the order of events is asserted, never a time.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateDataset } from '../../../src/core/generate/index.js';
import { loadFiles } from '../../../src/core/load/load.js';
import { runTransform } from '../../../src/core/transform/transform.js';
import { readySnapshot, writerNotePath } from '../../../src/db/merge-gate.js';
import { lakeAt } from '../../helpers/lake.js';
import { scratchDirs } from '../../helpers/run-cli.js';

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
