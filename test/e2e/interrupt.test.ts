// Ctrl-C on real processes: SIGINT during a load (and a transform) prints one line saying what was interrupted and
// what was kept, exits 130, and leaves the ledger and the run history saying 'interrupted'.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { openDb } from '../../src/db/db.js';
import { tempDir } from '../helpers/run-cli.js';
import { writeRobotsCsv } from '../helpers/files.js';
import { PATIENTS } from '../helpers/small-dataset.js';
import { copyFileSync, writeFileSync } from 'node:fs';

const BIN = resolve('bin/surgctl.js');
const ROWS = 400_000;
let dir = '';
let cleanup = (): void => {};
let robots = '';
let patients = '';

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('surgctl-sigint-'));
  robots = join(dir, 'robots.csv');
  patients = join(dir, 'patients.csv');
  writeFileSync(patients, `${PATIENTS.join('\n')}\n`);
  await writeRobotsCsv(robots, ROWS);
}, 60_000);
afterAll(() => cleanup());

/** Starts surgctl, sends SIGINT (`times` times, 20 ms apart) once stderr matches `when`, and resolves with the exit. */
function interruptWhen(args: string[], when: RegExp, times = 1): Promise<{ code: number | null; signal: string | null; stderr: string; stdout: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!sent && when.test(stderr)) {
        sent = true;
        for (let i = 0; i < times; i++) setTimeout(() => child.kill('SIGINT'), 100 + 20 * i);
      }
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('close', (code, signal) => done({ code, signal, stderr, stdout }));
  });
}

describe('Ctrl-C', () => {
  it('during a load: one line, exit 130, the file rolled back and marked interrupted, earlier files kept', async () => {
    const db = join(dir, 'load.duckdb');
    const r = await interruptWhen(['load', patients, robots, '--db', db, '--verbose'], /loading \S*robots\.csv/);
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(130);
    const lines = r.stderr.trim().split('\n');
    expect(lines.at(-1)).toBe(`surgctl: interrupted: load of ${robots} rolled back; 1 earlier file(s) kept`);
    expect(lines.filter((l) => l.startsWith('surgctl:'))).toHaveLength(1);
    expect(r.stderr).not.toContain('hint:');
    const lake = await openDb(db, { readOnly: true });
    try {
      expect(await lake.all('SELECT dataset, status FROM loads ORDER BY started_at')).toEqual([
        { dataset: 'patients', status: 'succeeded' },
        { dataset: 'robots', status: 'interrupted' },
      ]);
      expect(await lake.all('SELECT command, status FROM runs')).toEqual([{ command: 'load', status: 'interrupted' }]);
      expect(await lake.scalar('SELECT count(*)::INTEGER FROM raw_robots')).toBe(0);
      expect(await lake.scalar('SELECT count(*)::INTEGER FROM raw_patients')).toBe(2);
    } finally {
      lake.close();
    }
    // The rerun loads what was rolled back and skips what was kept.
    const again = spawnSync(process.execPath, [BIN, 'load', patients, robots, '--db', db, '--format', 'json'], { cwd: dir, encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    const out = JSON.parse(again.stdout) as { files: { status: string; rows_inserted: number }[] };
    expect(out.files.map((f) => [f.status, f.rows_inserted])).toEqual([['skipped', 0], ['succeeded', ROWS]]);
  }, 120_000);

  it('a second Ctrl-C exits at once with 130; the next writer cleans up after it', async () => {
    const db = join(dir, 'twice.duckdb');
    const r = await interruptWhen(['load', robots, '--db', db, '--verbose'], /loading \S*robots\.csv/, 2);
    // Killed by its own SIGINT (a shell reports 130), or finished the graceful path first (130).
    expect(r.signal === 'SIGINT' || r.code === 130, `${r.code} ${r.signal} ${r.stderr}`).toBe(true);
    const again = spawnSync(process.execPath, [BIN, 'load', patients, '--db', db], { cwd: dir, encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    const lake = await openDb(db, { readOnly: true });
    try {
      expect(await lake.scalar("SELECT count(*)::INTEGER FROM loads WHERE status = 'running'")).toBe(0);
      expect(await lake.scalar("SELECT count(*)::INTEGER FROM runs WHERE status = 'running'")).toBe(0);
      expect(await lake.scalar('SELECT count(*)::INTEGER FROM raw_robots')).toBe(0);
    } finally {
      lake.close();
    }
  }, 60_000);

  it('a command that does not handle Ctrl-C (query) still exits 130 on the first one', async () => {
    const db = join(dir, 'query.duckdb');
    const made = await openDb(db);
    made.close();
    const child = spawn(process.execPath, [BIN, 'query', 'SELECT count(*) FROM range(200000) a, range(200000) b WHERE a.range + b.range = 7', '--db', db], { cwd: dir });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.resume();
    const closed = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    // No start line to wait for: give node and DuckDB time to start the statement (it runs for minutes).
    await new Promise((r) => setTimeout(r, 4000));
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await closed;
    // Dies of its own SIGINT at once (the shell's 130), not waiting for the running statement.
    expect(code, stderr).toBeNull();
    expect(child.signalCode).toBe('SIGINT');
    expect(stderr).toBe('surgctl: interrupted\n');
    expect(Date.now() - t0).toBeLessThan(5000);
  }, 60_000);

  it('during validate: one line saying where it stopped, exit 130, no report', async () => {
    const second = join(dir, 'robots-copy.csv');
    copyFileSync(robots, second);
    const r = await interruptWhen(['validate', robots, second, '--schema', 'robots', '--verbose', '--format', 'json'], /rows quarantined/);
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(130);
    expect(r.stdout).toBe('');
    const last = JSON.parse(r.stderr.trim().split('\n').at(-1) ?? '{}') as { error: string; message: string };
    expect(last).toEqual({ error: 'interrupted', message: `interrupted: validate stopped at ${second}; 1 file(s) checked before it, no report written` });
  }, 120_000);
});
