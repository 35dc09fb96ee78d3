// The Lakehouse: the one owner of the lakehouse file. Built once (by main() from the resolved settings, or by a test)
// with the path, the DuckDB limits and the lock wait; it alone opens the database: readers (READ_ONLY and sealed),
// writers (writable check, newer-schema refusal, migrations, interrupted runs, optionally a read snapshot), load's
// scratch and its ATTACH of the lakehouse. Each opener hands back the `Db` connection handle (src/db/db.ts).
// This module loads DuckDB only when something is opened, so the CLI can build a Lakehouse at every start.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseError, isSurgctlError, UsageError } from '../errors.js';
import type { Db, LakeLimits, OpenOptions } from './db.js';
import { DEFAULT_LOCK_TIMEOUT_S } from './defaults.js';

export type { Db, LakeLimits } from './db.js';

/** What a Lakehouse is built from: resolved once (src/cli/io.ts resolveLakeSettings), never from the environment here. */
export interface LakehouseSettings {
  /** The lakehouse file (absolute), or ':memory:'. */
  path: string;
  /** DuckDB threads and memory; limits.memoryLimit overrides every opener's own default. */
  limits?: LakeLimits | undefined;
  /** How long to wait for another process's lock, in ms (default 5000). */
  lockTimeoutMs?: number | undefined;
  /** A load's merges of at least this many rows give readers a read snapshot (undefined: load's default). */
  readSnapshotRows?: number | undefined;
  /** false: validate never takes the CSV fast path (SURGCTL_VALIDATE_FAST=0). */
  validateFast?: boolean | undefined;
}

export interface ReaderOptions {
  /** Directories whose files DuckDB may read (query --allow-read). */
  allowRead?: readonly string[] | undefined;
  /** The exact temporary output paths surgctl's own COPY ... TO writes. */
  writePaths?: readonly string[] | undefined;
  /** DuckDB threads when the limits name none (publish reads on one). */
  threads?: number | undefined;
}

export interface WriterOptions {
  /** The opener's own memory default (load 512MB, transform 512MB; none: openDb's 2GB); limits.memoryLimit wins. */
  memoryLimit?: string | undefined;
  /**
   * A writer that holds the lakehouse for a long time (transform, import): its note is up while it waits for and
   * holds the lock, and readers read the snapshot of the lakehouse as it was before it (merge-gate.ts) until close().
   */
  readSnapshot?: boolean | undefined;
}

/** openSnapshotOnDemandWriter's writer: the handle, and what gives readers a read snapshot (false: none made). */
export interface SnapshotOnDemandWriter {
  db: Db;
  publishReadSnapshot: () => Promise<boolean>;
}

/** The settings every stage asks its Lakehouse for; a stage never takes a path, limits or a lock wait itself. */
export class Lakehouse {
  readonly path: string;
  readonly limits: LakeLimits;
  readonly lockTimeoutMs: number;
  readonly readSnapshotRows: number | undefined;
  readonly validateFast: boolean;

  constructor(settings: LakehouseSettings) {
    this.path = settings.path;
    this.limits = { ...(settings.limits ?? {}) };
    this.lockTimeoutMs = settings.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_S * 1000;
    this.readSnapshotRows = settings.readSnapshotRows;
    this.validateFast = settings.validateFast !== false;
  }

  /** True when the lakehouse file exists (':memory:' never does). */
  exists(): boolean {
    return this.path !== ':memory:' && existsSync(this.path);
  }

  /** Throws UsageError (exit 2) naming the path when there is no lakehouse there yet. */
  requireExisting(): void {
    assertLakehouseExists(this.path);
  }

  /** Opens the existing lakehouse READ_ONLY and sealed. The caller closes it. UsageError when it does not exist. */
  async openReader(options: ReaderOptions = {}): Promise<Db> {
    this.requireExisting();
    const { openDb } = await import('./db.js');
    return openDb(this.path, {
      readOnly: true,
      lockTimeoutMs: this.lockTimeoutMs,
      threads: this.limits.threads ?? options.threads,
      memoryLimit: this.limits.memoryLimit,
      allowRead: options.allowRead,
      writePaths: options.writePaths,
    });
  }

  /**
   * Runs fn on the lakehouse opened read-only, closing it afterwards whatever happens. Anything the sealed handle
   * refuses (a file outside --allow-read, a setting) surfaces as a UsageError, streams included.
   */
  async withReader<T>(fn: (db: Db) => Promise<T>, options: ReaderOptions = {}): Promise<T> {
    const db = await this.openReader(options);
    const { readOnlyRefusal } = await import('./db.js');
    try {
      return await fn(db);
    } catch (e) {
      throw readOnlyRefusal(e) ?? e;
    } finally {
      db.close();
    }
  }

  /**
   * Opens the lakehouse writable and nothing more (no path check, no migration): for a caller that checks or
   * migrates itself (transform --dry-run refuses a newer schema; the tui migrates before an acknowledgement).
   */
  async openWritable(memoryLimit?: string): Promise<Db> {
    const { openDb } = await import('./db.js');
    const limit = this.limits.memoryLimit ?? memoryLimit;
    return openDb(this.path, { threads: this.limits.threads, lockTimeoutMs: this.lockTimeoutMs, ...(limit === undefined ? {} : { memoryLimit: limit }) });
  }

  /**
   * Opens (creating and migrating) the lakehouse for writing. The caller closes it. Throws UsageError for a missing
   * directory, DatabaseError 'db_read_only' / 'db_too_new' / 'db_locked' / 'db_open' before anything is written.
   */
  async openWriter(options: WriterOptions = {}): Promise<Db> {
    assertWritableLakehousePath(this.path);
    if (options.readSnapshot === true && this.path !== ':memory:') return this.openLongWriter(options);
    return this.prepareWriter(options);
  }

  /**
   * Opens (creating and migrating) the lakehouse for a writer that knows only once it holds the lock whether it will
   * hold it long (transform: a full build or a large incremental scope). Its note is up from before it asks for the
   * lock until close(), so readers wait for it as for any short writer; `publishReadSnapshot()` (once; called before
   * the writer writes anything readers must not see yet: the migrations are in the copy) checkpoints, copies the file
   * under the lock and names the copy in the note: readers read that snapshot from then on, and close() removes it.
   * No copy is made unless it is asked for. Errors as openWriter.
   */
  async openSnapshotOnDemandWriter(options: Omit<WriterOptions, 'readSnapshot'> = {}): Promise<SnapshotOnDemandWriter> {
    assertWritableLakehousePath(this.path);
    if (this.path === ':memory:') return { db: await this.prepareWriter(options), publishReadSnapshot: () => Promise.resolve(false) };
    const { publishSnapshot } = await import('./merge-gate.js');
    const db = await this.openNotedWriter(options);
    let published: Promise<boolean> | undefined;
    return { db, publishReadSnapshot: () => (published ??= publishSnapshot(this.path, undefined, () => db.run('CHECKPOINT'))) };
  }

  private async openLongWriter(options: WriterOptions): Promise<Db> {
    const { copySnapshotShared, publishSnapshot } = await import('./merge-gate.js');
    const before = await copySnapshotShared(this.path);
    return this.openNotedWriter(options, (d) => publishSnapshot(this.path, before, () => d.run('CHECKPOINT')).then(() => undefined));
  }

  /** A writer whose note is up from before it asks for the lock until close(), which also removes its snapshot. */
  private async openNotedWriter(options: WriterOptions, beforeWrite?: (db: Db) => Promise<void>): Promise<Db> {
    const { raiseWriterNote, removeSnapshot } = await import('./merge-gate.js');
    const release = raiseWriterNote(this.path);
    const done = (): void => {
      release?.();
      removeSnapshot(this.path);
    };
    let db: Db;
    try {
      db = await this.prepareWriter(options, beforeWrite);
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

  private async prepareWriter(options: WriterOptions, beforeWrite?: (db: Db) => Promise<void>): Promise<Db> {
    const db = await this.openWritable(options.memoryLimit);
    try {
      const [{ migrate, refuseNewer }, { markInterruptedRuns }] = await Promise.all([import('./migrate.js'), import('./interrupted-runs.js')]);
      // A lakehouse newer than this surgctl is refused before anything is written (the snapshot's CHECKPOINT included).
      await refuseNewer(db);
      await beforeWrite?.(db);
      await migrate(db);
      await markInterruptedRuns(db);
      return db;
    } catch (e) {
      db.close();
      if (isSurgctlError(e) && e.code !== 'query') throw e;
      const msg = e instanceof Error ? e.message : String(e);
      if (WRITE_REFUSED_RE.test(msg)) {
        throw new DatabaseError('db_read_only', `cannot write the lakehouse ${this.path}: ${msg.split('\n')[0] ?? msg}`, { hint: WRITABLE_HINT, cause: e });
      }
      throw e;
    }
  }

  /** Opens a load's scratch DuckDB file (not the lakehouse) with this lakehouse's limits; memoryLimit: the default. */
  async openScratch(file: string, memoryLimit: string, onStatement?: OpenOptions['onStatement']): Promise<Db> {
    const { openDb } = await import('./db.js');
    return openDb(file, { threads: this.limits.threads, memoryLimit: this.limits.memoryLimit ?? memoryLimit, onStatement });
  }

  /**
   * ATTACHes the lakehouse for writing to `work` (a scratch) under `alias`, retrying while another process holds it,
   * up to the lock timeout. DatabaseError('db_locked') past it, DatabaseError('db_open') for any other refusal.
   */
  async attachTo(work: Db, alias: string): Promise<void> {
    const deadline = Date.now() + this.lockTimeoutMs;
    // Retried often: readers that arrive meanwhile hold back for it (merge-gate.ts).
    for (let delay = 25; ; delay = Math.min(delay * 2, 100)) {
      try {
        await work.attach(this.path, alias);
        return;
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        if (LOCK_RE.test(msg) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, delay));
          continue;
        }
        if (LOCK_RE.test(msg)) {
          throw new DatabaseError('db_locked', `database ${this.path} is locked by another process`, {
            file: this.path,
            hint: 'wait for the other surgctl process to finish, or raise --lock-timeout',
            cause: e,
          });
        }
        throw new DatabaseError('db_open', `cannot open database ${this.path}: ${msg.split('\n')[0] ?? msg}`, { file: this.path, cause: e });
      }
    }
  }
}

/**
 * Opens a DuckDB that is not the lakehouse: ':memory:' work space (generate, validate, import --dry-run) or a file of
 * the caller's. UTC, bounded threads and memory as openDb.
 */
export async function openWorkDb(path: string, options: Pick<OpenOptions, 'threads' | 'memoryLimit' | 'onStatement'> = {}): Promise<Db> {
  const { openDb } = await import('./db.js');
  return openDb(path, options);
}

const LOCK_RE = /Could not set lock|Conflicting lock/i;
/** DuckDB's words for a write it could not make (a read-only mount the access check cannot see). */
const WRITE_REFUSED_RE = /TransactionContext Error|read-only|Permission denied|Read-only file system|Cannot open file/i;
const WRITABLE_HINT =
  'make it writable (DuckDB also writes a .wal file next to the database), or pass --db with a writable path; report, query and export only read';

/** Throws a UsageError (exit 2) when there is no lakehouse at `path`. */
function assertLakehouseExists(path: string): void {
  if (!existsSync(path)) {
    throw new UsageError(`no lakehouse at ${path}`, {
      file: path,
      hint: 'run `surgctl pipeline`, or `surgctl load` then `surgctl transform`, or pass --db PATH',
    });
  }
}

/**
 * Throws UsageError (exit 2) when the lakehouse's directory does not exist, DatabaseError('db_read_only', exit 3)
 * when the directory or the database file cannot be written. Touches nothing.
 */
function assertWritableLakehousePath(dbPath: string): void {
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
    throw new DatabaseError('db_read_only', `cannot write the lakehouse ${dbPath}: its directory ${dir} is read-only`, { hint: WRITABLE_HINT });
  }
  if (existsSync(file)) {
    try {
      accessSync(file, constants.W_OK);
    } catch {
      throw new DatabaseError('db_read_only', `cannot write the lakehouse ${dbPath}: the file is read-only`, { hint: WRITABLE_HINT });
    }
  }
}
