// Real processes: a load killed with SIGKILL mid-file, a second writer that must wait, then fail clearly, and two
// loads at once (they stage side by side; their merges take turns).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { openDb } from '../../src/db/db.js';
import { tempDir } from '../helpers/run-cli.js';
import { writeRobotsCsv } from '../helpers/files.js';

const BIN = resolve('bin/surgctl.js');
const ROWS = 400_000;
let dir = '';
let cleanup = () => {};
let csv = '';

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('surgctl-proc-'));
  csv = join(dir, 'robots.csv');
  await writeRobotsCsv(csv, ROWS);
}, 120_000);
afterAll(() => cleanup());

function startLoad(dbPath: string, extra: string[] = []): { child: ChildProcess; started: Promise<void>; done: Promise<{ code: number | null; stderr: string; stdout: string }> } {
  const child = spawn(process.execPath, [BIN, 'load', csv, '--db', dbPath, '--verbose', '--format', 'json', ...extra], { cwd: dir });
  let stderr = '';
  let stdout = '';
  let resolveStarted = () => {};
  const started = new Promise<void>((r) => (resolveStarted = r));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.includes('loading ')) resolveStarted();
  });
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const done = new Promise<{ code: number | null; stderr: string; stdout: string }>((r) => child.on('close', (code) => r({ code, stderr, stdout })));
  return { child, started, done };
}

async function ledger(dbPath: string): Promise<{ status: string; rows_inserted: number }[]> {
  const db = await openDb(dbPath, { readOnly: true });
  try {
    return await db.all('SELECT status, rows_inserted::INTEGER AS rows_inserted FROM loads ORDER BY started_at');
  } finally {
    db.close();
  }
}

describe('load under real process faults', () => {
  it('a SIGKILL mid-load leaves an openable database, an unfinished ledger row, and a re-run completes correctly', async () => {
    const dbPath = join(dir, 'killed.duckdb');
    const first = startLoad(dbPath);
    await first.started;
    await new Promise((r) => setTimeout(r, 150));
    first.child.kill('SIGKILL');
    const res = await first.done;
    expect(res.code).toBeNull(); // killed, not finished

    const after = await ledger(dbPath);
    expect(after).toEqual([{ status: 'running', rows_inserted: 0 }]);
    const db = await openDb(dbPath, { readOnly: true });
    try {
      expect(await db.scalar('SELECT count(*)::INTEGER FROM raw_robots')).toBe(0);
    } finally {
      db.close();
    }

    const again = startLoad(dbPath);
    const r2 = await again.done;
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stderr).toContain('marked 1 unfinished earlier load(s) as failed');
    const out = JSON.parse(r2.stdout) as { totals: { rows_read: number; rows_inserted: number } };
    expect(out.totals).toMatchObject({ rows_read: ROWS, rows_inserted: ROWS });
    expect((await ledger(dbPath)).map((l) => l.status)).toEqual(['failed', 'succeeded']);
  }, 180_000);

  it('a second writer waits up to --lock-timeout, then fails with a clear message; the first is unharmed', async () => {
    // Loads hold the lakehouse only for short moments now (they stage in a scratch beside it), so the first writer
    // here is a process that holds it open for writing, as a load does during its merge.
    const dbPath = join(dir, 'shared.duckdb');
    const holder = spawn(process.execPath, ['--input-type=module', '-e', `
      const { DuckDBInstance } = await import(${JSON.stringify(resolve('node_modules/@duckdb/node-api/lib/index.js'))});
      const inst = await DuckDBInstance.create(${JSON.stringify(dbPath)});
      const con = await inst.connect();
      await con.run('CREATE TABLE IF NOT EXISTS holder_mark (x INTEGER)');
      process.stdout.write('ready\\n');
      setTimeout(() => { con.closeSync(); inst.closeSync(); }, 60000);`], { cwd: dir });
    try {
      await new Promise<void>((r) => holder.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && r()));
      const t0 = Date.now();
      const second = spawnSync(process.execPath, [BIN, 'load', csv, '--db', dbPath, '--lock-timeout', '0.3'], { cwd: dir, encoding: 'utf8' });
      const waited = Date.now() - t0;
      expect(second.status, second.stderr).toBe(3);
      expect(second.stderr).toContain('locked by another process');
      expect(second.stderr).toContain('--lock-timeout');
      expect(waited).toBeGreaterThanOrEqual(250);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.on('close', r));
    }
    // With the holder gone, the load runs.
    const r1 = await startLoad(dbPath).done;
    expect(r1.code, r1.stderr).toBe(0);
    expect((JSON.parse(r1.stdout) as { totals: { rows_inserted: number } }).totals.rows_inserted).toBe(ROWS);
  }, 180_000);

  it('two loads of the same file at once: both succeed, every row lands once, the second is a skip or all duplicates', async () => {
    const dbPath = join(dir, 'twice.duckdb');
    const a = startLoad(dbPath);
    await a.started;
    const b = startLoad(dbPath, ['--lock-timeout', '120']);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    const db = await openDb(dbPath, { readOnly: true });
    try {
      expect(await db.scalar('SELECT count(*)::INTEGER FROM raw_robots')).toBe(ROWS);
      expect(await db.scalar('SELECT count(DISTINCT robot_id)::INTEGER FROM raw_robots')).toBe(ROWS);
      expect(await db.scalar("SELECT count(*)::INTEGER FROM loads WHERE status = 'running'")).toBe(0);
    } finally {
      db.close();
    }
  }, 180_000);

});
