// Where a load does its work, so that readers never wait long on it: each file is staged and validated in a scratch
// DuckDB file beside the lakehouse (`.surgctl-stage-<load id>.duckdb`, owned by this process: its pid and host are in
// `.surgctl-stage-<load id>.json`), and the lakehouse is ATTACHed only for two short moments: the ledger's 'running'
// row (and the referenced keys the file's foreign keys are checked against), then the merge of the new rows,
// quarantine and ledger in one transaction. DETACH releases the file lock between them. Scratch files whose process
// is gone are removed by the next load, which also marks their 'running' ledger rows as failed.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Db } from '../../db/db.js';
import type { Lakehouse } from '../../db/lakehouse.js';
import { copySnapshotShared, publishSnapshot, removeSnapshot, withWriterNote } from '../../db/merge-gate.js';
import { cpuMs, isProcessAlive } from '../../db/process.js';
import { quoteAnyIdent } from '../../db/sql.js';
import { LOAD_MEMORY_LIMIT } from './lakehouse.js';

/** How a load reaches the lakehouse: `work` stages and validates; `withLake` runs fn with the lakehouse attached. */
export interface LakeAccess {
  /** The database the file is staged and validated in (the scratch; or the lakehouse itself when pinned). */
  readonly work: Db;
  /**
   * Runs fn with the lakehouse open for writing on `work`'s connection (unqualified table names are the
   * lakehouse's; TEMP tables of `work` stay visible), then releases it. The Db given to fn is `work` under the
   * lakehouse's path. Throws DatabaseError('db_locked') when another process holds it past the lock timeout.
   */
  withLake<T>(fn: (lake: Db) => Promise<T>, opts?: WithLakeOptions): Promise<T>;
  /** Closes the scratch and removes its files (a pinned access closes nothing). */
  close(): void;
}

export interface WithLakeOptions {
  /**
   * A long write (a big merge): readers get a read snapshot of the lakehouse as it was before it (src/db/merge-gate.ts)
   * instead of waiting for the write; the copy is made before the lock is asked for where the file allows.
   */
  readSnapshot?: boolean | undefined;
}

/** A lakehouse already open for writing (quarantine replay, tests): no scratch, the lock is held throughout. */
export function pinnedLake(db: Db): LakeAccess {
  return { work: db, withLake: (fn) => fn(db), close: () => undefined };
}

const LAKE_ALIAS = 'surgctl_lake';
const SCRATCH_RE = /^\.surgctl-stage-(.+)\.json$/;

/** The scratch files of a load: the DuckDB file (and its WAL) and the owner note, beside the lakehouse. */
export function scratchPaths(dbPath: string, loadId: string): { db: string; wal: string; owner: string } {
  const dir = dirname(resolve(dbPath));
  const db = join(dir, `.surgctl-stage-${loadId}.duckdb`);
  return { db, wal: `${db}.wal`, owner: join(dir, `.surgctl-stage-${loadId}.json`) };
}

interface Owner {
  pid: number;
  host: string;
  load_id: string;
}

function readOwner(path: string): Owner | undefined {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as Partial<Owner>;
    return typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.load_id === 'string' ? (o as Owner) : undefined;
  } catch {
    return undefined;
  }
}

/** True when the load's scratch belongs to a process that may still be running (this one, a live pid, another host). */
export function isLoadLive(dbPath: string, loadId: string, alive: (pid: number) => boolean = isProcessAlive): boolean {
  if (dbPath === ':memory:') return false;
  const owner = readOwner(scratchPaths(dbPath, loadId).owner);
  if (!owner) return false;
  return owner.host !== hostname() || owner.pid === process.pid || alive(owner.pid);
}

/**
 * Removes the scratch files beside the lakehouse whose process (on this host) is gone. Returns the load ids whose
 * scratch was removed. A scratch of another host, or of a live process, is left alone.
 */
export function removeStaleScratch(dbPath: string, alive: (pid: number) => boolean = isProcessAlive): string[] {
  if (dbPath === ':memory:') return [];
  const dir = dirname(resolve(dbPath));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = SCRATCH_RE.exec(n);
    if (!m) continue;
    const loadId = m[1] as string;
    if (isLoadLive(dbPath, loadId, alive)) continue;
    const p = scratchPaths(dbPath, loadId);
    rmSync(p.db, { force: true });
    rmSync(p.wal, { force: true });
    rmSync(p.owner, { force: true });
    removed.push(loadId);
  }
  return removed;
}

/**
 * Opens the scratch of one load (written owner note first, so a crash at any point leaves a scratch the next load can
 * tell is abandoned). The caller closes it; closing removes the files. onStatement gets each statement's SQL and wall
 * time (`--debug`).
 */
export async function openScratch(lake: Lakehouse, loadId: string,
  onStatement?: (sql: string, ms: number, cpuMs: number) => void): Promise<LakeAccess> {
  const dbPath = lake.path;
  const p = scratchPaths(dbPath, loadId);
  writeFileSync(p.owner, `${JSON.stringify({ pid: process.pid, host: hostname(), load_id: loadId, lakehouse: resolve(dbPath) })}\n`);
  let work: Db;
  try {
    work = await lake.openScratch(p.db, LOAD_MEMORY_LIMIT, onStatement);
  } catch (e) {
    rmSync(p.owner, { force: true });
    throw e;
  }
  const own = quoteAnyIdent(String(await work.scalar<string>('SELECT current_database()')));
  const lakeView: Db = { ...work, path: dbPath };
  let attached = false;
  const close = (): void => {
    work.close();
    rmSync(p.db, { force: true });
    rmSync(p.wal, { force: true });
    rmSync(p.owner, { force: true });
  };
  return {
    work,
    close,
    withLake: async (fn, opts) => {
      if (attached) return fn(lakeView);
      const snapshot = opts?.readSnapshot === true;
      const copying = performance.now();
      const cpu = process.cpuUsage();
      const before = snapshot ? await copySnapshotShared(dbPath) : undefined;
      if (snapshot) onStatement?.('(read snapshot: copy of the lakehouse before the lock)', performance.now() - copying, cpuMs(cpu));
      try {
        // The writer's note keeps new readers back until the lakehouse is detached again, or sends them to the read
        // snapshot once it is ready (src/db/merge-gate.ts).
        return await withWriterNote(dbPath, async () => {
          await lake.attachTo(work, LAKE_ALIAS);
          attached = true;
          try {
            await work.run(`USE ${LAKE_ALIAS}`);
            if (snapshot) await publishSnapshot(dbPath, before, () => work.run(`CHECKPOINT ${LAKE_ALIAS}`));
            return await fn(lakeView);
          } finally {
            attached = false;
            // A failed statement may leave the connection in an aborted transaction; end it before detaching.
            await work.run('ROLLBACK').catch(() => undefined);
            await work.run(`USE ${own}`);
            await work.run(`DETACH ${LAKE_ALIAS}`);
          }
        });
      } finally {
        if (snapshot) removeSnapshot(dbPath);
      }
    },
  };
}

/** True when the lakehouse path has a scratch directory of its own (a file path, not ':memory:'). */
export function usesScratch(dbPath: string): boolean {
  return dbPath !== ':memory:' && existsSync(dirname(resolve(dbPath)));
}
