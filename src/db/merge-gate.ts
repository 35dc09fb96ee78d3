// Writer priority on the lakehouse file. DuckDB gives a writer the file only when no reader holds it, so readers
// started every second, each overlapping the next, would starve a load's short merge. A writer that is about to take
// the lock leaves a note beside the database (`<db>.surgctl-writer`, its pid and host) for as long as it wants or
// holds the lock; read-only opens wait (within their own lock timeout) while such a note of a live process exists,
// then open as usual. The note is a courtesy, not a lock: a stale or foreign note only delays a reader up to its
// timeout.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

export function writerNotePath(dbPath: string): string {
  return `${resolve(dbPath)}.surgctl-writer`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when a live process (on this host; any note of another host counts) says it wants the file to write. */
export function writerWaiting(dbPath: string): boolean {
  if (dbPath === ':memory:') return false;
  let note: { pid?: unknown; host?: unknown };
  try {
    note = JSON.parse(readFileSync(writerNotePath(dbPath), 'utf8')) as typeof note;
  } catch {
    return false;
  }
  if (typeof note.pid !== 'number' || typeof note.host !== 'string') return false;
  if (note.host !== hostname()) return true;
  return note.pid !== process.pid && alive(note.pid);
}

/** Waits (polling every 25 ms) while a writer's note is up, until deadlineMs (epoch ms). */
export async function waitForWriter(dbPath: string, deadlineMs: number): Promise<void> {
  while (Date.now() < deadlineMs && writerWaiting(dbPath)) await new Promise((r) => setTimeout(r, 25));
}

/** Runs fn with this process's writer note up (readers hold back meanwhile), and takes it down after. */
export async function withWriterNote<T>(dbPath: string, fn: () => Promise<T>): Promise<T> {
  if (dbPath === ':memory:') return fn();
  const path = writerNotePath(dbPath);
  try {
    writeFileSync(path, `${JSON.stringify({ pid: process.pid, host: hostname() })}\n`);
  } catch {
    return fn(); // a read-only directory: no note, the write will say why it cannot open
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}
