// The one way a writer opens the lakehouse (load, stdin load, quarantine replay, transform, pipeline). Before
// anything is written it checks that the path can be written and that the schema is not newer than this CLI; then
// it migrates and marks runs left 'running' by a process that is gone as 'interrupted'.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { openDb, type Db, type LakeLimits } from '../../db/db.js';
import { copySnapshotShared, publishSnapshot, raiseWriterNote, removeSnapshot } from '../../db/merge-gate.js';
import { DatabaseError, isSurgctlError, UsageError } from '../../errors.js';
import { markInterruptedRuns } from '../runs.js';
import { migrate, refuseNewer } from './migrations.js';

/** A load's DuckDB memory limit, for the lakehouse and its scratch (see openLakehouse); limits.memoryLimit overrides. */
export const LOAD_MEMORY_LIMIT = '512MB';
const READ_ONLY_HINT =
  'make it writable (DuckDB also writes a .wal file next to the database), or pass --db with a writable path; report, query and export only read';

/**
 * Throws UsageError (exit 2) when the lakehouse's directory does not exist, DatabaseError('db_read_only', exit 3)
 * when the directory or the database file cannot be written. Touches nothing.
 */
export function assertWritableLakehousePath(dbPath: string): void {
  if (dbPath === ':memory:') return;
  const file = resolve(dbPath);
  const dir = dirname(file);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(`the directory of the lakehouse ${dbPath} does not exist: ${dir}`, {
      hint: `create it first (mkdir -p ${dir}) or pass --db with a path in an existing directory`,
    });
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new DatabaseError('db_read_only', `cannot write the lakehouse ${dbPath}: its directory ${dir} is read-only`, { hint: READ_ONLY_HINT });
  }
  if (existsSync(file)) {
    try {
      accessSync(file, constants.W_OK);
    } catch {
      throw new DatabaseError('db_read_only', `cannot write the lakehouse ${dbPath}: the file is read-only`, { hint: READ_ONLY_HINT });
    }
  }
}

/** DuckDB's words for a write it could not make (a read-only mount the access check cannot see). */
const WRITE_REFUSED_RE = /TransactionContext Error|read-only|Permission denied|Read-only file system|Cannot open file/i;

/**
 * Opens (creating and migrating) the lakehouse for writing. The caller closes it. Throws UsageError for a missing
 * directory, DatabaseError 'db_read_only' / 'db_too_new' / 'db_locked' / 'db_open' before anything is written.
 */
export async function openLakehouse(
  dbPath: string,
  lockTimeoutMs?: number,
  opts: { forLoad?: boolean; limits?: LakeLimits | undefined; readSnapshot?: boolean | undefined } = {},
): Promise<Db> {
  assertWritableLakehousePath(dbPath);
  if (opts.readSnapshot === true && dbPath !== ':memory:') return openLongWriter(dbPath, lockTimeoutMs, opts);
  return openWriter(dbPath, lockTimeoutMs, opts);
}

/**
 * A writer that holds the lakehouse for a long time (transform, import): its note is up while it waits for and holds
 * the lock, and readers read the snapshot of the lakehouse as it was before it (src/db/merge-gate.ts) until close().
 */
async function openLongWriter(dbPath: string, lockTimeoutMs: number | undefined, opts: { forLoad?: boolean; limits?: LakeLimits | undefined }): Promise<Db> {
  const before = await copySnapshotShared(dbPath);
  const release = raiseWriterNote(dbPath);
  const done = (): void => {
    release?.();
    removeSnapshot(dbPath);
  };
  let db: Db;
  try {
    db = await openWriter(dbPath, lockTimeoutMs, opts, (d) => publishSnapshot(dbPath, before, () => d.run('CHECKPOINT')).then(() => undefined));
  } catch (e) {
    done();
    throw e;
  }
  return {
    ...db,
    close: () => {
      db.close();
      done();
    },
  };
}

async function openWriter(
  dbPath: string,
  lockTimeoutMs: number | undefined,
  opts: { forLoad?: boolean; limits?: LakeLimits | undefined },
  beforeWrite?: (db: Db) => Promise<void>,
): Promise<Db> {
  // Loads: 512MB keeps a 5M-row load under 1 GiB of RSS (measured: 934 MiB, against 2.3 GiB at 2GB) for ~15% more
  // time; DuckDB spills the rest to its temp directory. Other writers keep openDb's default. limits.memoryLimit
  // (the CLI's SURGCTL_MEMORY_LIMIT) overrides both.
  const memoryLimit = opts.limits?.memoryLimit ?? (opts.forLoad === false ? undefined : LOAD_MEMORY_LIMIT);
  const db = await openDb(dbPath, {
    threads: opts.limits?.threads,
    ...(lockTimeoutMs === undefined ? {} : { lockTimeoutMs }),
    ...(memoryLimit === undefined ? {} : { memoryLimit }),
  });
  try {
    await beforeWrite?.(db);
    await refuseNewer(db);
    await migrate(db);
    await markInterruptedRuns(db);
    return db;
  } catch (e) {
    db.close();
    if (isSurgctlError(e) && e.code !== 'query') throw e;
    const msg = e instanceof Error ? e.message : String(e);
    if (WRITE_REFUSED_RE.test(msg)) {
      throw new DatabaseError('db_read_only', `cannot write the lakehouse ${dbPath}: ${msg.split('\n')[0] ?? msg}`, { hint: READ_ONLY_HINT, cause: e });
    }
    throw e;
  }
}
