// openDb and the one Db wrapper around @duckdb/node-api: UTC, bounded threads and memory, bound parameters,
// DuckDB failures wrapped as QueryError, lock waits turned into a clear DatabaseError. A read-only open is also
// sealed inside DuckDB itself (no file system, extensions, attach or settings; see sealReadOnly).
import type { DuckDBAppender, DuckDBConnection, DuckDBInstance, DuckDBPreparedStatement, DuckDBResult, DuckDBResultReader, DuckDBValue } from '@duckdb/node-api';
import { mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname, tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { DatabaseError, QueryError, toIoError, UsageError } from '../errors.js';
import { DEFAULT_LOCK_TIMEOUT_S } from './defaults.js';
import { duckdb } from './duckdb-api.js';
import { ident, literal } from './sql.js';
import { waitForWriter } from './merge-gate.js';
import { cpuMs, isProcessAlive } from './process.js';

// @duckdb/node-api decodes every VARCHAR through one shared `new TextDecoder()`, which takes a U+FEFF at the start of
// a value for a byte order mark and drops it; there it is data (a CSV cell, a FHIR string, a query's text). The
// package reads that decoder from its module's exports at each decode, so it is swapped for one that keeps the
// character. Should a later node-api move it, nothing breaks but the swap (test/cli/query.test.ts then fails).
try {
  const accessors = createRequire(import.meta.url)('@duckdb/node-api/lib/vectors/dataAccessors.js') as { textDecoder?: unknown };
  if (accessors.textDecoder instanceof TextDecoder) accessors.textDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
} catch {
  // another layout of the package: values keep node-api's own decoding
}

export type Params = Record<string, DuckDBValue> | DuckDBValue[];
export type JsonRow = Record<string, unknown>;

/** Threads and memory for DuckDB, resolved once by the CLI (SURGCTL_THREADS, SURGCTL_MEMORY_LIMIT) and passed in. */
export interface LakeLimits {
  /** DuckDB threads, 1 to 4 (default 2). */
  threads?: number | undefined;
  /** DuckDB memory_limit for every handle, e.g. '1GB'; overrides each opener's own default. */
  memoryLimit?: string | undefined;
}

export interface OpenOptions {
  readOnly?: boolean;
  threads?: number | undefined;
  memoryLimit?: string | undefined;
  /** How long to wait for another process's lock on the file, in ms (default 5000). */
  lockTimeoutMs?: number | undefined;
  /** Read-only opens: directories whose files DuckDB may read (query --allow-read). Default: none. */
  allowRead?: readonly string[] | undefined;
  /**
   * Read-only opens: the exact paths surgctl's own COPY ... TO writes (a fresh temporary output file or
   * directory beside --out). Nothing else on the host can be written.
   */
  writePaths?: readonly string[] | undefined;
  /** Called after each statement run through the handle, failed ones too, with its SQL, wall time in ms (a
   *  stream: until it starts) and the process's CPU time meanwhile in ms (all threads: DuckDB's and Node's): `--debug`
   *  timings. CPU says more than wall time on a busy machine. */
  onStatement?: ((sql: string, ms: number, cpuMs: number) => void) | undefined;
}

/** What interruptOn returns: remove() detaches the abort handler. */
export interface InterruptHandle {
  remove(): void;
}

export interface Db {
  readonly path: string;
  /** The memory_limit the database was opened with (e.g. '512MB'). */
  readonly memoryLimit: string;
  /** Runs one or more statements; values are bound, never spliced. */
  run(sql: string, params?: Params): Promise<void>;
  /** Runs a query and returns JSON-safe rows (BIGINT as string is avoided by casting in SQL). */
  all<T extends JsonRow = JsonRow>(sql: string, params?: Params): Promise<T[]>;
  /** The first column of the first row, or undefined. */
  scalar<T = unknown>(sql: string, params?: Params): Promise<T | undefined>;
  /** Runs a query and returns DuckDB's reader (typed values, getColumns, convertRowObjects, rowsChanged). */
  read(sql: string, params?: Params): Promise<DuckDBResultReader>;
  /** Streams a query's result chunk by chunk. Nothing else may run on this handle while the stream is open
   *  (it would end the stream silently): use connect() for a second connection. */
  stream(sql: string, params?: Params): Promise<DuckDBResult>;
  /** Prepares (does not run) one statement: its result columns and statement type. The caller destroys it. */
  prepare(sql: string): Promise<DuckDBPreparedStatement>;
  /** How many statements `sql` holds (DuckDB's parser; throws QueryError when it does not parse). */
  countStatements(sql: string): Promise<number>;
  /** An appender into `table` (in `schema`, 'main' by default; 'temp' tables live in catalog 'temp'). */
  appender(table: string, schema?: string, catalog?: string): Promise<DuckDBAppender>;
  /** Interrupts the statement running on this handle (it fails with an INTERRUPT error and rolls back). */
  interrupt(): void;
  /**
   * Ctrl-C wiring: interrupts the running statement when `signal` aborts (and every `repeatMs` after, for work that
   * starts new statements). Remove the handle before writing anything after an abort (a ledger row, a run record),
   * or that write is interrupted too.
   */
  interruptOn(signal: AbortSignal | undefined, repeatMs?: number): InterruptHandle;
  /** A second connection on the same instance, for a concurrent stream or writer. */
  connect(): Promise<DuckDBConnection>;
  /**
   * Writes the rows of `query` to `path` with COPY ... TO through a temporary name beside it and a rename, so the
   * file is whole or absent (a failed write leaves neither). `options` are COPY's options, built from constants and
   * literal() (e.g. "FORMAT json"). `afterTemp` runs between the write and the rename (fault-injection tests).
   * Throws QueryError when DuckDB fails, IoError when the rename does.
   */
  copyToFile(query: string, params: Params | undefined, path: string, options: string, afterTemp?: () => void): Promise<void>;
  /** ATTACHes the DuckDB file at `path` under `alias` (a plain identifier), e.g. the lakehouse into a scratch
   *  database for a short merge. QueryError when DuckDB refuses (a lock held elsewhere reads "Could not set lock"). */
  attach(path: string, alias: string, options?: { readOnly?: boolean }): Promise<void>;
  /** DETACHes `alias` (no error when it is not attached). */
  detach(alias: string): Promise<void>;
  /** Runs fn inside BEGIN/COMMIT; rolls back on any error. */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  close(): void;
}

const LOCK_RE = /Could not set lock|Conflicting lock/i;

const REFUSED_RE = /(Permission Error: .*disabled (by|through) configuration|the configuration has been locked)/i;

const READ_ONLY_HINT =
  'read-only commands cannot write, install, load, attach or change settings, and read no file outside the lakehouse; ' +
  'to read files in a directory, name it with --allow-read DIR';

/**
 * The UsageError for DuckDB refusing something on a sealed read-only handle ("Permission Error ... disabled by
 * configuration", "the configuration has been locked"); undefined for any other error.
 */
export function readOnlyRefusal(e: unknown): UsageError | undefined {
  const msg = e instanceof Error ? e.message : String(e);
  if (!REFUSED_RE.test(msg)) return undefined;
  return new UsageError(`read-only: ${firstLine(msg).replace(/^(Permission|Invalid Input) Error: /, '')}`, { hint: READ_ONLY_HINT, cause: e });
}

/** DuckDB threads when none are given (SURGCTL_THREADS reaches here through the CLI as LakeLimits.threads). */
const DEFAULT_THREADS = 2;

/** Clamps a thread count to 1..4 (2 when absent or not a number). */
function clampThreads(n: number | undefined): number {
  return n === undefined || !Number.isFinite(n) ? DEFAULT_THREADS : Math.max(1, Math.min(4, Math.trunc(n)));
}

const SPILL_PREFIX = 'surgctl-spill-';
/** This host's name as it goes into a spill folder's name (anything but letters, digits, '.' and '-' as '_'). */
export function spillHost(): string {
  return hostname().replace(/[^A-Za-z0-9.-]/g, '_') || 'host';
}
let spillSwept = false;

/**
 * Removes the spill folders of surgctl processes that are gone (killed, or ended by their own second Ctrl-C before
 * they could close DuckDB): each folder is named surgctl-spill-<host>-<pid>-XXXXXX, and a dead pid's folder can hold gigabytes
 * of spilled pages. openDb calls it once per process; a folder another user owns or a live pid's is left alone.
 */
export function sweepDeadSpill(dir = tmpdir(), alive: (pid: number) => boolean = isProcessAlive): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  const host = spillHost();
  for (const name of names) {
    const m = /^surgctl-spill-(.+)-(\d+)-[A-Za-z0-9]{6}$/.exec(name);
    // Another host's (a temp directory shared between containers) pid cannot be checked from here.
    if (!m || m[1] !== host || Number(m[2]) === process.pid || alive(Number(m[2]))) continue;
    try {
      rmSync(join(dir, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Not ours to remove (another user's folder): leave it.
    }
  }
  return removed;
}

/**
 * A new folder in the temp directory named as a spill folder of this process (surgctl-spill-<host>-<pid>-XXXXXX), so
 * that sweepDeadSpill removes it if the process dies before its owner does (a scratch database the fast path attaches,
 * say). The caller removes it when done.
 */
export function processTempDir(): string {
  return mkdtempSync(join(tmpdir(), `${SPILL_PREFIX}${spillHost()}-${process.pid}-`));
}

/**
 * Opens (creating when absent, unless readOnly) a DuckDB database at `path` (':memory:' for none).
 * Throws DatabaseError('db_locked') when another process holds the file past lockTimeoutMs,
 * DatabaseError('db_open') when the file is not a DuckDB database or cannot be opened.
 */
export async function openDb(path: string, options: OpenOptions = {}): Promise<Db> {
  if (!spillSwept) {
    spillSwept = true;
    sweepDeadSpill();
  }
  const spill = processTempDir();
  const config: Record<string, string> = {
    threads: String(clampThreads(options.threads)),
    memory_limit: options.memoryLimit ?? '2GB',
    temp_directory: spill,
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'true',
  };
  if (options.readOnly) config.access_mode = 'READ_ONLY';
  const deadline = Date.now() + (options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_S * 1000);
  let instance: DuckDBInstance | undefined;
  // A writer retries more often: while it waits, readers that arrive hold back for it (merge-gate.ts).
  for (let delay = 50; ; delay = Math.min(delay * 2, options.readOnly ? 500 : 100)) {
    // A writer about to write goes first: readers hold back while its note is up (merge-gate.ts), so they cannot
    // starve it; once a long writer's note names its read snapshot, a reader that finds the file locked reads that.
    const snapshot = options.readOnly ? await waitForWriter(path, deadline) : undefined;
    try {
      instance = await duckdb.DuckDBInstance.create(path, config);
      break;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (snapshot !== undefined && LOCK_RE.test(msg)) {
        instance = await openSnapshot(snapshot, config);
        if (instance !== undefined) break;
      }
      if (LOCK_RE.test(msg) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, snapshot === undefined ? delay : 25));
        continue;
      }
      rmSync(spill, { recursive: true, force: true });
      if (LOCK_RE.test(msg)) {
        throw new DatabaseError('db_locked', `database ${path} is locked by another process`, {
          file: path,
          hint: 'wait for the other surgctl process to finish, or raise --lock-timeout',
          cause: e,
        });
      }
      throw new DatabaseError('db_open', `cannot open database ${path}: ${firstLine(msg)}`, {
        file: path,
        hint: 'check that the path is a DuckDB database file (or a new path in an existing directory)',
        cause: e,
      });
    }
  }
  const connection = await instance.connect();
  // TimeZone needs icu, which loads only after the instance exists; set it on every connection.
  await connection.run("SET TimeZone = 'UTC'");
  const sealed = options.readOnly === true;
  if (sealed) {
    try {
      await sealReadOnly(connection, options);
    } catch (e) {
      connection.closeSync();
      instance.closeSync();
      rmSync(spill, { recursive: true, force: true });
      throw new DatabaseError('db_open', `cannot seal read-only database ${path}: ${firstLine(e instanceof Error ? e.message : String(e))}`, { file: path, cause: e });
    }
  }
  return wrap(path, config.memory_limit ?? '2GB', instance, connection, spill, sealed, options.onStatement);
}

/**
 * Opens a long writer's read snapshot (the lakehouse as it was before the writer took the lock) read-only; undefined
 * when it cannot (the writer finished and removed it meanwhile: the caller opens the lakehouse again).
 */
async function openSnapshot(snapshot: string, config: Record<string, string>): Promise<DuckDBInstance | undefined> {
  try {
    return await duckdb.DuckDBInstance.create(snapshot, config);
  } catch {
    return undefined;
  }
}

/**
 * Seals a read-only instance inside DuckDB, after the lakehouse is open: no file outside `allowRead` (and the
 * exact `writePaths`) can be opened, no extension installed or loaded from outside, no database attached, and
 * the configuration is locked so no statement can undo any of it. Spilling to temp_directory keeps working.
 */
async function sealReadOnly(connection: DuckDBConnection, options: OpenOptions): Promise<void> {
  const dirs = [...(options.allowRead ?? []), ...(options.writePaths ?? [])].map((d) => {
    const abs = resolve(d);
    return abs.endsWith(sep) ? abs : `${abs}${sep}`;
  });
  const paths = (options.writePaths ?? []).map((p) => resolve(p));
  // Global, so a second connection on this instance is in UTC too (it can no longer SET anything).
  await connection.run("SET GLOBAL TimeZone = 'UTC'");
  if (dirs.length > 0) await connection.run(`SET allowed_directories = [${dirs.map(literal).join(', ')}]`);
  if (paths.length > 0) await connection.run(`SET allowed_paths = [${paths.map(literal).join(', ')}]`);
  await connection.run('SET enable_external_access = false');
  await connection.run('SET allow_community_extensions = false');
  await connection.run('SET lock_configuration = true');
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

function wrap(path: string, memoryLimit: string, instance: DuckDBInstance, connection: DuckDBConnection, spill: string, sealed: boolean,
  onStatement: ((sql: string, ms: number, cpuMs: number) => void) | undefined): Db {
  const extra: DuckDBConnection[] = [];
  let closed = false;
  const guard = async <T>(sql: string, params: Params | undefined, fn: () => Promise<T>): Promise<T> => {
    const started = onStatement ? performance.now() : 0;
    const cpu = onStatement ? process.cpuUsage() : undefined;
    try {
      return await fn();
    } catch (e) {
      if (e instanceof QueryError) throw e;
      const refused = sealed ? readOnlyRefusal(e) : undefined;
      if (refused) throw refused;
      const msg = e instanceof Error ? e.message : String(e);
      throw new QueryError(firstLine(msg), sql, params, { cause: e });
    } finally {
      if (onStatement) onStatement(sql, performance.now() - started, cpuMs(cpu));
    }
  };
  const db: Db = {
    path,
    memoryLimit,
    run: (sql, params) =>
      guard(sql, params, async () => {
        await connection.run(sql, params as Record<string, DuckDBValue>);
      }),
    all: <T extends JsonRow>(sql: string, params?: Params) =>
      guard(sql, params, async () => {
        const reader = await connection.runAndReadAll(sql, params as Record<string, DuckDBValue>);
        return reader.getRowObjectsJson() as unknown as T[];
      }),
    scalar: async <T>(sql: string, params?: Params) => {
      const rows = await db.all(sql, params);
      const first = rows[0];
      return first === undefined ? undefined : (Object.values(first)[0] as T);
    },
    read: (sql, params) => guard(sql, params, () => connection.runAndReadAll(sql, params as Record<string, DuckDBValue>)),
    stream: (sql, params) => guard(sql, params, () => connection.stream(sql, params as Record<string, DuckDBValue>)),
    prepare: (sql) => guard(sql, undefined, () => connection.prepare(sql)),
    countStatements: (sql) => guard(sql, undefined, async () => (await connection.extractStatements(sql)).count),
    appender: (table, schema, catalog) => guard(`APPEND ${table}`, undefined, () => connection.createAppender(table, schema ?? null, catalog ?? null)),
    copyToFile: async (query, params, target, options, afterTemp) => {
      const tmp = `${target}.tmp-${process.pid}`;
      try {
        await db.run(`COPY (${query}\n) TO ${literal(tmp)} (${options})`, params);
        afterTemp?.();
        try {
          renameSync(tmp, target);
        } catch (e) {
          throw toIoError(target, e, 'write');
        }
      } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
      }
    },
    attach: async (file, alias, options) => db.run(`ATTACH ${literal(resolve(file))} AS ${ident(alias)}${options?.readOnly ? ' (READ_ONLY)' : ''}`),
    detach: async (alias) => db.run(`DETACH DATABASE IF EXISTS ${ident(alias)}`),
    interrupt: () => connection.interrupt(),
    interruptOn: (signal, repeatMs) => {
      let timer: ReturnType<typeof setInterval> | undefined;
      const onAbort = (): void => {
        connection.interrupt();
        if (repeatMs !== undefined && timer === undefined) timer = setInterval(() => connection.interrupt(), repeatMs);
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
      const remove = (): void => {
        signal?.removeEventListener('abort', onAbort);
        if (timer !== undefined) clearInterval(timer);
        timer = undefined;
      };
      return { remove };
    },
    connect: async () => {
      const c = await instance.connect();
      // A sealed instance's configuration is locked; its TimeZone was set globally before that.
      if (!sealed) await c.run("SET TimeZone = 'UTC'");
      extra.push(c);
      return c;
    },
    transaction: async <T>(fn: () => Promise<T>) => {
      await db.run('BEGIN TRANSACTION');
      try {
        const out = await fn();
        await db.run('COMMIT');
        return out;
      } catch (e) {
        await connection.run('ROLLBACK').catch(() => undefined);
        throw e;
      }
    },
    close: () => {
      if (closed) return;
      closed = true;
      for (const c of extra) c.closeSync();
      connection.closeSync();
      instance.closeSync();
      rmSync(spill, { recursive: true, force: true });
    },
  };
  return db;
}
