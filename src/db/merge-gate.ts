// Writer priority and the read snapshot on the lakehouse file. DuckDB gives a writer the file only when no reader
// holds it, so readers started every second, each overlapping the next, would starve a load's short merge. A writer
// that is about to take the lock leaves a note beside the database (`<db>.surgctl-writer`, its pid and host) for as
// long as it wants or holds the lock; read-only opens wait (within their own lock timeout) while such a note of a live
// process exists, then open as usual. The note is a courtesy, not a lock: a stale or foreign note only delays a reader
// up to its timeout.
// A long writer (a big merge, a transform, an import) also gives readers a read snapshot: a copy of the lakehouse as
// it was when the writer took the lock (`<db>.surgctl-snapshot`, written to a temporary name and renamed), named in
// its note once it is the current file's copy. A reader that finds the lakehouse locked and such a note opens the
// snapshot instead of waiting. The lakehouse itself is only ever written in place; the snapshot is removed when the
// writer is done, and a snapshot left by a killed writer is never read (its note is not a live process's, and the
// lakehouse opens).
import type { DuckDBInstance } from '@duckdb/node-api';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { duckdb } from './duckdb-api.js';
import { isProcessAlive as alive } from './process.js';

export function writerNotePath(dbPath: string): string {
  return `${resolve(dbPath)}.surgctl-writer`;
}

/** Where a long writer puts the read snapshot of the lakehouse at `dbPath`. */
export function snapshotPath(dbPath: string): string {
  return `${resolve(dbPath)}.surgctl-snapshot`;
}

/** A file's identity: inode, size and mtime (ns), as decimal strings (JSON-safe). */
interface FileId {
  ino: string;
  size: string;
  mtime_ns: string;
}

interface Note {
  pid: number;
  host: string;
  /** Present once the snapshot is the copy of the lakehouse as this writer found it: the snapshot file's identity. */
  snapshot?: FileId;
}

function fileId(path: string): FileId | undefined {
  const s = statSync(path, { bigint: true, throwIfNoEntry: false });
  return s === undefined ? undefined : { ino: String(s.ino), size: String(s.size), mtime_ns: String(s.mtimeNs) };
}

function sameId(a: FileId | undefined, b: FileId | undefined): boolean {
  return a !== undefined && b !== undefined && a.ino === b.ino && a.size === b.size && a.mtime_ns === b.mtime_ns;
}

function readNote(dbPath: string): Note | undefined {
  let note: Partial<Note>;
  try {
    note = JSON.parse(readFileSync(writerNotePath(dbPath), 'utf8')) as Partial<Note>;
  } catch {
    return undefined;
  }
  return typeof note.pid === 'number' && typeof note.host === 'string' ? (note as Note) : undefined;
}

/** A note of a live process other than this one (any note of another host counts). */
function liveNote(dbPath: string): Note | undefined {
  if (dbPath === ':memory:') return undefined;
  const note = readNote(dbPath);
  if (note === undefined) return undefined;
  if (note.host !== hostname()) return note;
  return note.pid !== process.pid && alive(note.pid) ? note : undefined;
}

/** True when a live process (on this host; any note of another host counts) says it wants the file to write. */
export function writerWaiting(dbPath: string): boolean {
  return liveNote(dbPath) !== undefined;
}

/**
 * The snapshot a reader may open instead of waiting: its path when a live writer's note names it and the file on
 * disk is the one the note names; otherwise undefined.
 */
export function readySnapshot(dbPath: string): string | undefined {
  return snapshotOf(dbPath, liveNote(dbPath));
}

/** The snapshot `note` names, when the file on disk is that one. */
function snapshotOf(dbPath: string, note: Note | undefined): string | undefined {
  if (note?.snapshot === undefined) return undefined;
  const path = snapshotPath(dbPath);
  return sameId(fileId(path), note.snapshot) ? path : undefined;
}

/**
 * Waits (polling every 25 ms, one read of the note a tick) while a writer's note is up, until deadlineMs (epoch ms).
 * Returns the snapshot's path as soon as the writer's note says readers may use it; undefined when there is no
 * writer (or the deadline passed).
 */
export async function waitForWriter(dbPath: string, deadlineMs: number): Promise<string | undefined> {
  for (;;) {
    const note = liveNote(dbPath);
    const snapshot = snapshotOf(dbPath, note);
    if (snapshot !== undefined) return snapshot;
    if (Date.now() >= deadlineMs || note === undefined) return undefined;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Writes the note through a temporary name and a rename, so a reader never reads half of it. */
function writeNote(dbPath: string, note: Note): void {
  const path = writerNotePath(dbPath);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(note)}\n`);
  renameSync(tmp, path);
}

/**
 * Puts this process's writer note up and returns what takes it down (only while the note is still this process's:
 * another writer may have put its own up since). Undefined when no note can be written (':memory:', a read-only
 * directory: the write will say why it cannot open).
 */
export function raiseWriterNote(dbPath: string): (() => void) | undefined {
  if (dbPath === ':memory:') return undefined;
  try {
    // A live writer whose note sends readers to its snapshot keeps its note: replacing it would send them back to wait
    // on the file that writer holds. This writer's own note goes up when it publishes a snapshot of its own.
    if (liveNote(dbPath)?.snapshot === undefined) writeNote(dbPath, { pid: process.pid, host: hostname() });
  } catch {
    return undefined;
  }
  return () => {
    const note = readNote(dbPath);
    if (note === undefined || (note.pid === process.pid && note.host === hostname())) rmSync(writerNotePath(dbPath), { force: true });
  };
}

/** Runs fn with this process's writer note up (readers hold back meanwhile), and takes it down after. */
export async function withWriterNote<T>(dbPath: string, fn: () => Promise<T>): Promise<T> {
  const release = raiseWriterNote(dbPath);
  try {
    return await fn();
  } finally {
    release?.();
  }
}

/**
 * Copies `from` to `to` in a child process. Never in this one: POSIX record locks belong to the process, and closing
 * ANY descriptor of the lakehouse file drops every lock this process holds on it, DuckDB's write lock included
 * (measured: an in-process fs.copyFileSync of the locked file let another process open it at once).
 */
function copyOutOfProcess(from: string, to: string): Promise<void> {
  const script = 'const fs = require("node:fs"); fs.copyFileSync(process.argv[1], process.argv[2], fs.constants.COPYFILE_FICLONE);';
  return new Promise((done, fail) => {
    execFile(process.execPath, ['-e', script, from, to], (e) => (e ? fail(e) : done()));
  });
}

function walEmpty(dbPath: string): boolean {
  const s = statSync(`${resolve(dbPath)}.wal`, { throwIfNoEntry: false });
  return s === undefined || s.size === 0;
}

/** Copies the lakehouse to the snapshot (temporary name, then rename: readers of the old one keep its inode). */
async function writeSnapshot(dbPath: string): Promise<FileId | undefined> {
  const target = snapshotPath(dbPath);
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    await copyOutOfProcess(resolve(dbPath), tmp);
    renameSync(tmp, target);
    return fileId(target);
  } catch {
    rmSync(tmp, { force: true });
    return undefined;
  }
}

/** What a copy made before the write lock holds: the lakehouse's identity when copied, and the snapshot's. */
export interface SnapshotCopy {
  lake: FileId;
  snapshot: FileId;
}

/**
 * The copy a long writer makes before it asks for the write lock, so that readers never wait for it: the lakehouse
 * is opened read-only (a shared lock: readers keep reading, no writer can change the file meanwhile) and copied.
 * Undefined (nothing to reuse; the copy is then made under the write lock) when the file is held by a writer, has
 * a WAL to replay, or cannot be copied.
 */
export async function copySnapshotShared(dbPath: string): Promise<SnapshotCopy | undefined> {
  if (dbPath === ':memory:' || fileId(dbPath) === undefined) return undefined;
  let instance: DuckDBInstance | undefined;
  try {
    instance = await duckdb.DuckDBInstance.create(resolve(dbPath), { access_mode: 'READ_ONLY', threads: '1', memory_limit: '64MB', autoinstall_known_extensions: 'false' });
    const lake = fileId(dbPath);
    if (lake === undefined || !walEmpty(dbPath)) return undefined;
    const snapshot = await writeSnapshot(dbPath);
    return snapshot === undefined ? undefined : { lake, snapshot };
  } catch {
    return undefined;
  } finally {
    // Closed before the writer attaches the file: the same process must not hold it twice (see copyOutOfProcess).
    instance?.closeSync();
  }
}

/**
 * Called by a long writer holding the write lock, before it writes anything: checkpoints (so the file alone is the
 * state), makes sure the snapshot is the copy of the file as it is now (the copy made before the lock when the file
 * has not changed since, else a new one), then says so in this process's note: readers use the snapshot from here on.
 * Returns false when no snapshot could be made (readers then wait as before); never throws.
 */
export async function publishSnapshot(dbPath: string, before: SnapshotCopy | undefined, checkpoint: () => Promise<void>): Promise<boolean> {
  if (dbPath === ':memory:') return false;
  try {
    await checkpoint();
    if (!walEmpty(dbPath)) return false;
    const snapshot = before !== undefined && sameId(fileId(dbPath), before.lake) && sameId(fileId(snapshotPath(dbPath)), before.snapshot)
      ? before.snapshot : await writeSnapshot(dbPath);
    if (snapshot === undefined) return false;
    writeNote(dbPath, { pid: process.pid, host: hostname(), snapshot });
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes the snapshot and this process's temporary copy (done by the writer that made them, after its note). A
 * snapshot another live writer's note names is that writer's (this one gave up waiting for the lock): it stays.
 */
export function removeSnapshot(dbPath: string): void {
  if (dbPath === ':memory:') return;
  if (liveNote(dbPath)?.snapshot === undefined) rmSync(snapshotPath(dbPath), { force: true });
  rmSync(`${snapshotPath(dbPath)}.tmp-${process.pid}`, { force: true });
}

/**
 * Removes a snapshot no live writer names (left by a killed writer) and temporary copies and notes of processes on
 * this host that are gone. Called by a writer holding the write lock. Returns the names removed.
 */
export function removeStaleSnapshot(dbPath: string): string[] {
  if (dbPath === ':memory:') return [];
  const snap = snapshotPath(dbPath);
  const removed: string[] = [];
  if (liveNote(dbPath)?.snapshot === undefined && fileId(snap) !== undefined) {
    rmSync(snap, { force: true });
    removed.push(basename(snap));
  }
  const tmpRe = /\.tmp-(\d+)$/;
  const prefixes = [`${basename(snap)}.tmp-`, `${basename(writerNotePath(dbPath))}.tmp-`];
  let names: string[] = [];
  try {
    names = readdirSync(dirname(snap));
  } catch {
    return removed;
  }
  for (const n of names) {
    const m = tmpRe.exec(n);
    if (!m || !prefixes.some((p) => n.startsWith(p)) || alive(Number(m[1]))) continue;
    rmSync(join(dirname(snap), n), { force: true });
    removed.push(n);
  }
  return removed;
}
