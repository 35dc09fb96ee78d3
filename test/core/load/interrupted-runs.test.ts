// Runs left 'running' by a process that is gone: the next writer marks them 'interrupted' (runs and
// transform_runs), and leaves alone a run whose process is alive or on another host.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../../src/db/db.js';
import { lakeAt } from '../../helpers/lake.js';
import { migrate } from '../../../src/core/load/migrations.js';
import { runCliWith, scratchDirs } from '../../helpers/run-cli.js';

const tmp = scratchDirs();

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('interrupted runs', () => {
  it('the next writer marks runs and transform_runs of a dead process interrupted, and only those', async () => {
    const path = join(tmp(), 'lake.duckdb');
    const alive = spawn('sleep', ['30']);
    try {
      const db = await openDb(path);
      try {
        await migrate(db);
        const rows: [string, number | null, string][] = [
          ['R-dead', deadPid(), hostname()],
          ['R-legacy', null, hostname()],
          ['R-alive', alive.pid!, hostname()],
          ['R-elsewhere', deadPid(), 'another-host'],
        ];
        for (const [id, pid, host] of rows) {
          await db.run("INSERT INTO runs (run_id, command, args, started_at, status, pid, host) VALUES ($id, 'transform', '[]', now(), 'running', $pid, $host)", { id, pid, host });
          await db.run("INSERT INTO transform_runs (run_id, mode, started_at, status, pid, host) VALUES ($id, 'full', now(), 'running', $pid, $host)", { id, pid, host });
        }
      } finally {
        db.close();
      }
      const lake = await lakeAt(path).openWriter();
      try {
        const runs = await lake.all<{ run_id: string; status: string; error: string | null; finished: boolean }>(
          'SELECT run_id, status, error, finished_at IS NOT NULL AS finished FROM runs ORDER BY run_id',
        );
        expect(runs).toEqual([
          { run_id: 'R-alive', status: 'running', error: null, finished: false },
          { run_id: 'R-dead', status: 'interrupted', error: 'interrupted: the process stopped before the run finished', finished: true },
          { run_id: 'R-elsewhere', status: 'running', error: null, finished: false },
          { run_id: 'R-legacy', status: 'interrupted', error: 'interrupted: the process stopped before the run finished', finished: true },
        ]);
        const tr = await lake.all<{ run_id: string; status: string }>('SELECT run_id, status FROM transform_runs ORDER BY run_id');
        expect(tr.map((r) => `${r.run_id}:${r.status}`)).toEqual(['R-alive:running', 'R-dead:interrupted', 'R-elsewhere:running', 'R-legacy:interrupted']);
      } finally {
        lake.close();
      }
    } finally {
      alive.kill('SIGKILL');
    }
  });

  it('a load killed mid-transaction leaves its run running; the next load marks it interrupted', async () => {
    const dir = tmp();
    const path = join(dir, 'lake.duckdb');
    const { writeSmallDataset } = await import('../../helpers/small-dataset.js');
    const files = writeSmallDataset(dir);
    const bin = join(process.cwd(), 'bin/surgctl.js');
    const killed = spawnSync(process.execPath, [bin, 'load', files.robots, '--db', path, '-q'], { cwd: dir, env: { ...process.env, SURGCTL_FAULT: 'mid-insert' } });
    expect(killed.signal).toBe('SIGKILL');
    let db = await openDb(path, { readOnly: true });
    try {
      expect(await db.all("SELECT command, status FROM runs")).toEqual([{ command: 'load', status: 'running' }]);
    } finally {
      db.close();
    }
    // A reader cannot write: `surgctl runs` shows the run as 'interrupted?' and leaves the table as it is.
    const listed = await runCliWith({ cwd: dir, env: {} }, 'runs', '--db', path, '--format', 'json');
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { status: string }[]).map((r) => r.status)).toEqual(['interrupted?']);
    const again = spawnSync(process.execPath, [bin, 'load', files.robots, '--db', path, '-q'], { cwd: dir, encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    db = await openDb(path, { readOnly: true });
    try {
      expect(await db.all("SELECT command, status FROM runs ORDER BY started_at")).toEqual([
        { command: 'load', status: 'interrupted' },
        { command: 'load', status: 'succeeded' },
      ]);
      expect(await db.scalar('SELECT count(*)::INTEGER FROM raw_robots')).toBe(2);
    } finally {
      db.close();
    }
  }, 30_000);
});
