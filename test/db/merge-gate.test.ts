// Writer priority: a read-only open holds back while a live writer's note is up (a load about to merge), within its
// own lock timeout, and ignores the note of a process that is gone.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../src/db/db.js';
import { withWriterNote, writerNotePath, writerWaiting } from '../../src/db/merge-gate.js';
import { scratchDirs } from '../helpers/run-cli.js';

const tmp = scratchDirs();

async function timedOpen(path: string, lockTimeoutMs: number): Promise<number> {
  const t0 = Date.now();
  const db = await openDb(path, { readOnly: true, lockTimeoutMs });
  db.close();
  return Date.now() - t0;
}

describe('writer note', () => {
  it("readers wait while a live writer's note is up, up to their lock timeout, and not for a dead one", async () => {
    const path = join(tmp(), 'lake.duckdb');
    (await openDb(path)).close();
    const sleeper = spawn('sleep', ['30']);
    try {
      writeFileSync(writerNotePath(path), JSON.stringify({ pid: sleeper.pid, host: hostname() }));
      expect(writerWaiting(path)).toBe(true);
      expect(await timedOpen(path, 600)).toBeGreaterThanOrEqual(550);
      const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
      writeFileSync(writerNotePath(path), JSON.stringify({ pid: dead, host: hostname() }));
      expect(writerWaiting(path)).toBe(false);
      expect(await timedOpen(path, 5000)).toBeLessThan(2000);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('withWriterNote puts the note up for the duration of fn only', async () => {
    const path = join(tmp(), 'lake.duckdb');
    let during = false;
    await withWriterNote(path, async () => {
      during = (await import('node:fs')).existsSync(writerNotePath(path));
    });
    expect(during).toBe(true);
    expect((await import('node:fs')).existsSync(writerNotePath(path))).toBe(false);
  });
});
