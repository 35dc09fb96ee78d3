// Writer priority: a read-only open holds back while a live writer's note is up (a load about to merge), within its
// own lock timeout, and ignores the note of a process that is gone. The read snapshot: a reader that finds the
// lakehouse held by a writer whose note names the snapshot reads that at once; a stale snapshot is never read.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { openDb } from '../../src/db/db.js';
import {
  copySnapshotShared, publishSnapshot, readySnapshot, removeSnapshot, removeStaleSnapshot, snapshotPath, withWriterNote, writerNotePath, writerWaiting,
} from '../../src/db/merge-gate.js';
import { isProcessAlive } from '../../src/db/process.js';
import { holdLock, killHolder } from '../helpers/hold-lock.js';
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

async function count(path: string, lockTimeoutMs: number): Promise<number | undefined> {
  const db = await openDb(path, { readOnly: true, lockTimeoutMs });
  try {
    return await db.scalar<number>('SELECT count(*)::INTEGER FROM t');
  } finally {
    db.close();
  }
}

async function lakeWithOneRow(): Promise<string> {
  const path = join(tmp(), 'lake.duckdb');
  const db = await openDb(path);
  await db.run('CREATE TABLE t AS SELECT 1 AS x');
  db.close();
  return path;
}

function snapshotNote(path: string, pid: number, snapshot: unknown): void {
  writeFileSync(writerNotePath(path), JSON.stringify({ pid, host: hostname(), snapshot }));
}

describe('read snapshot', () => {
  it("a second writer that gives up waiting leaves a live writer's note and snapshot in place", async () => {
    const path = await lakeWithOneRow();
    const copy = await copySnapshotShared(path);
    expect(copy).toBeDefined();
    const first = spawn('sleep', ['30']);
    try {
      snapshotNote(path, first.pid!, copy!.snapshot);
      const before = readFileSync(writerNotePath(path), 'utf8');
      expect(readySnapshot(path)).toBe(snapshotPath(path));
      // The second writer's note and its clean-up, as a load that timed out on the lock runs them.
      await withWriterNote(path, async () => {
        expect(readFileSync(writerNotePath(path), 'utf8')).toBe(before);
      });
      removeSnapshot(path);
      expect(readFileSync(writerNotePath(path), 'utf8')).toBe(before);
      expect(readySnapshot(path)).toBe(snapshotPath(path));
    } finally {
      first.kill('SIGKILL');
    }
  });

  it("a reader reads the snapshot a live writer's note names, at once, while the writer holds the lakehouse", async () => {
    const path = await lakeWithOneRow();
    const copy = await copySnapshotShared(path);
    expect(copy).toBeDefined();
    const writer = await holdLock(path, ['INSERT INTO t VALUES (2)']);
    const pid = writer.pid!;
    try {
      // The note does not name the snapshot yet: the reader waits for the writer, and fails at its timeout.
      snapshotNote(path, pid, undefined);
      const read = await count(path, 300).then((n) => `read ${n} rows`, (e: unknown) => e);
      expect(read, `writer pid ${pid} (${isProcessAlive(pid) ? 'alive' : 'gone'}) did not hold the lakehouse`).toMatchObject({ code: 'db_locked' });
      // Once it does: the reader does not wait (the writer never lets go here) and sees the state before the write.
      snapshotNote(path, pid, copy!.snapshot);
      expect(readySnapshot(path)).toBe(snapshotPath(path));
      expect(await count(path, 20_000)).toBe(1);
    } finally {
      await killHolder(writer);
    }
  });

  it('a stale snapshot is never read: a dead writer, a live note on an unlocked lakehouse, a snapshot replaced', async () => {
    const path = await lakeWithOneRow();
    const copy = await copySnapshotShared(path);
    const writer = await holdLock(path, ['INSERT INTO t VALUES (2)']);
    const pid = writer.pid!;
    await killHolder(writer);
    // The writer was killed after the copy, its note naming the snapshot still up: the lakehouse (2 rows) is read.
    snapshotNote(path, pid, copy!.snapshot);
    expect(readySnapshot(path)).toBeUndefined();
    expect(await count(path, 5000)).toBe(2);
    // A live process's note (a reused pid) naming the snapshot, but no one holds the lakehouse: the lakehouse is read.
    const sleeper = spawn('sleep', ['30']);
    try {
      snapshotNote(path, sleeper.pid!, copy!.snapshot);
      expect(readySnapshot(path)).toBe(snapshotPath(path));
      expect(await count(path, 5000)).toBe(2);
      // A snapshot that is not the file the note names is not offered at all.
      writeFileSync(snapshotPath(path), 'another file');
      expect(readySnapshot(path)).toBeUndefined();
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((r) => sleeper.on('exit', r));
    }
    // The next writer removes what no live note names.
    expect(removeStaleSnapshot(path)).toEqual([basename(snapshotPath(path))]);
    expect(existsSync(snapshotPath(path))).toBe(false);
  });

  it('publishSnapshot reuses the copy made before the lock when the file has not changed, and copies again when it has', async () => {
    const path = await lakeWithOneRow();
    const first = await copySnapshotShared(path);
    let db = await openDb(path);
    try {
      expect(await publishSnapshot(path, first, () => db.run('CHECKPOINT'))).toBe(true);
      const note = JSON.parse(readFileSync(writerNotePath(path), 'utf8')) as { pid: number; snapshot: { ino: string } };
      expect(note).toMatchObject({ pid: process.pid, snapshot: first!.snapshot });
    } finally {
      db.close();
    }
    const second = await copySnapshotShared(path);
    db = await openDb(path);
    try {
      await db.run('INSERT INTO t VALUES (2)');
      expect(await publishSnapshot(path, second, () => db.run('CHECKPOINT'))).toBe(true);
      const note = JSON.parse(readFileSync(writerNotePath(path), 'utf8')) as { snapshot: { ino: string } };
      expect(note.snapshot.ino).not.toBe(second!.snapshot.ino);
    } finally {
      db.close();
    }
    // The new copy is the file as it was when published: two rows.
    const snap = await openDb(snapshotPath(path), { readOnly: true });
    try {
      expect(await snap.scalar('SELECT count(*)::INTEGER FROM t')).toBe(2);
    } finally {
      snap.close();
    }
    removeSnapshot(path);
    expect(existsSync(snapshotPath(path))).toBe(false);
  });
});
