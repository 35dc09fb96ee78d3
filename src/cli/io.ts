// The streams and environment a command writes to. Injected so tests run main() in-process.
import { DEFAULT_LOCK_TIMEOUT_S } from '../db/defaults.js';
import { megabytes } from '../db/memory-size.js';
import type { LakeLimits } from '../db/db.js';
import { Lakehouse } from '../db/lakehouse.js';
import { resolveDbPath, type DbPathSource } from '../core/db-path.js';
import type { ResultFormat } from '../core/domain.js';
import type { StageContext, WorkContext } from '../core/stage.js';
import { surgctlVersion } from '../core/version.js';
import { UsageError } from '../errors.js';

export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean | undefined;
  columns?: number | undefined;
}

export interface Io {
  stdout: OutStream;
  stderr: OutStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Standard input, for `-` arguments. */
  stdin: NodeJS.ReadableStream;
}

export function processIo(): Io {
  exitQuietlyOnClosedPipe();
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), stdin: process.stdin };
}

let pipeGuarded = false;

/**
 * When the reader of stdout goes away (`surgctl query ... | head -1`), the next write fails with EPIPE as an
 * 'error' event that would otherwise crash with a stack trace. The reader chose to stop reading the data, so exit
 * at once with 0 (the documented exit codes stay as they are). A closed stderr only loses messages: the command
 * carries on and exits with its real code (a load is never cut short because `2>&1 | head` stopped reading).
 */
export function exitQuietlyOnClosedPipe(): void {
  if (pipeGuarded) return;
  pipeGuarded = true;
  const closed = (e: NodeJS.ErrnoException): boolean => e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED';
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (closed(e)) process.exit(0);
    throw e;
  });
  process.stderr.on('error', (e: NodeJS.ErrnoException) => {
    if (!closed(e)) throw e;
  });
}

/** Global flags every command understands. */
export interface GlobalOptions {
  debug?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
  logFormat?: 'text' | 'json';
  /** --lock-timeout in seconds (validated once by the root program); undefined when not given. */
  lockTimeout?: number;
  /** --db: the lakehouse file (a command's own --db, an alias, wins). */
  db?: string;
  /** --config: the config file (default ./surgctl.config.json). */
  config?: string;
}

/**
 * What the lakehouse layer is given, resolved once per run by main() from the global flags and the environment
 * (core never reads process.env): DuckDB limits, the lock wait, the validate fast-path switch.
 */
export interface LakeSettings {
  /** SURGCTL_THREADS (1 to 4) and SURGCTL_MEMORY_LIMIT (e.g. 1GB); absent when not set. */
  limits: LakeLimits;
  /** --lock-timeout in ms (default 5 s). */
  lockTimeoutMs: number;
  /** false when SURGCTL_VALIDATE_FAST=0 (validate never takes the CSV fast path). */
  validateFast: boolean;
  /** SURGCTL_READ_SNAPSHOT_ROWS: a load's merges of at least this many rows give readers a snapshot (absent: load's default). */
  readSnapshotRows?: number;
}

/** Resolves the LakeSettings from the global flags and the environment. Throws UsageError for a bad value. */
export function resolveLakeSettings(globals: GlobalOptions, env: NodeJS.ProcessEnv): LakeSettings {
  const limits: LakeLimits = {};
  const threads = env.SURGCTL_THREADS;
  if (threads !== undefined && threads !== '') {
    const n = Number(threads);
    if (!Number.isInteger(n) || n < 1) {
      throw new UsageError(`SURGCTL_THREADS must be a whole number of threads (1 to 4), not ${JSON.stringify(threads)}`, { hint: 'e.g. SURGCTL_THREADS=2, or unset it' });
    }
    limits.threads = n;
  }
  const memory = env.SURGCTL_MEMORY_LIMIT;
  if (memory !== undefined && memory !== '') {
    if (megabytes(memory) === undefined) {
      throw new UsageError(`SURGCTL_MEMORY_LIMIT must be a size such as 512MB or 2GB, not ${JSON.stringify(memory)}`, { hint: 'e.g. SURGCTL_MEMORY_LIMIT=1GB, or unset it' });
    }
    limits.memoryLimit = memory.trim();
  }
  const settings: LakeSettings = { limits, lockTimeoutMs: lockTimeoutMs(globals), validateFast: env.SURGCTL_VALIDATE_FAST !== '0' };
  const snapshotRows = env.SURGCTL_READ_SNAPSHOT_ROWS;
  if (snapshotRows !== undefined && snapshotRows !== '') {
    const n = Number(snapshotRows);
    if (!Number.isInteger(n) || n < 0) {
      throw new UsageError(`SURGCTL_READ_SNAPSHOT_ROWS must be a whole number of rows, not ${JSON.stringify(snapshotRows)}`, { hint: 'e.g. SURGCTL_READ_SNAPSHOT_ROWS=0 (every merge), or unset it' });
    }
    settings.readSnapshotRows = n;
  }
  return settings;
}

/** The global --lock-timeout in ms, or the default (5 s) when it was not given. */
function lockTimeoutMs(globals: GlobalOptions): number {
  return (globals.lockTimeout ?? DEFAULT_LOCK_TIMEOUT_S) * 1000;
}

/** Parses --lock-timeout: a finite number of seconds, 0 or more. Throws UsageError otherwise. */
export function parseLockTimeout(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`--lock-timeout must be a number of seconds (0 or more), not ${JSON.stringify(value)}`, {
      field: '--lock-timeout',
      hint: `e.g. --lock-timeout 30 (default ${DEFAULT_LOCK_TIMEOUT_S})`,
    });
  }
  return n;
}

/** True when colour is allowed: a TTY, no NO_COLOR, no --no-color. */
export function useColor(io: Io, globals: GlobalOptions): boolean {
  if (globals.color === false) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  return io.stdout.isTTY === true;
}

/** Writes a human message line to stderr unless --quiet (or machine log format). */
export function say(io: Io, globals: GlobalOptions, message: string, level: 'info' | 'warn' | 'verbose' = 'info'): void {
  if (level === 'verbose' && !globals.verbose) return;
  if (globals.quiet && level !== 'warn') return;
  if (globals.logFormat === 'json') {
    io.stderr.write(`${JSON.stringify({ level, message, at: new Date().toISOString() })}\n`);
    return;
  }
  io.stderr.write(`${message}\n`);
}

/** What every command factory is given: the streams, and the global flags (call globals() inside an action). */
export interface CliContext {
  io: Io;
  /** The global flags as parsed (call inside an action). */
  globals(): GlobalOptions;
  /** Aborted by Ctrl-C (SIGINT): long stages stop, roll back, mark their run interrupted and exit 130. A command
   *  that reads this takes charge of Ctrl-C; for any other command the first Ctrl-C exits 130 at once. */
  readonly signal: AbortSignal;
  /** The lakehouse settings, resolved once (call inside an action). */
  settings(): LakeSettings;
  /**
   * Where the lakehouse lives: the command's own --db (an alias of the global one), else the global --db, else
   * SURGCTL_DB, else the config file's "db" (--config or ./surgctl.config.json), else ./surgctl.duckdb. Absolute.
   */
  dbPath(commandFlag?: string): DbPathSource;
  /** The Lakehouse at dbPath(commandFlag), built once per path from settings() (call inside an action). */
  lake(commandFlag?: string): Lakehouse;
  /**
   * The second argument of a core stage: { lake: lake(commandFlag), signal, onEvent }. Pass `signal: ctx.signal`
   * only when the command takes charge of Ctrl-C.
   */
  stage<E = never>(extra?: StageExtra<E>, commandFlag?: string): StageContext<E>;
  /**
   * The context of a stage that opens no lakehouse file (validate, generate): its lake is an in-memory Lakehouse that
   * carries only the settings (limits, validateFast), so the lakehouse path is not resolved at all.
   */
  work<E = never>(extra?: StageExtra<E>): WorkContext<E>;
}

/** What a command adds to its stage's context: Ctrl-C (when it takes charge of it) and its event handler. */
export interface StageExtra<E> {
  signal?: AbortSignal | undefined;
  onEvent?: ((e: E) => void) | undefined;
}

/** The Lakehouse for `path` from the resolved settings (the one place a CLI run builds one). */
export function lakehouseFor(path: string, settings: LakeSettings): Lakehouse {
  return new Lakehouse({
    path,
    limits: settings.limits,
    lockTimeoutMs: settings.lockTimeoutMs,
    readSnapshotRows: settings.readSnapshotRows,
    validateFast: settings.validateFast,
  });
}

/** ctx.dbPath for a CliContext's io and globals. */
export function dbPathFor(io: Io, globals: GlobalOptions, commandFlag?: string): DbPathSource {
  return resolveDbPath(commandFlag ?? globals.db, io.env, io.cwd, globals.config);
}

/** The surgctl version (package.json), for generator lines in rendered output. */
export const packageVersion = surgctlVersion;

/**
 * The format a command prints its result in: --format when given, else `table` on a terminal and `json` when
 * standard output is piped or redirected. (report, query and export choose with resolveFormat, which also reads
 * the --out extension.)
 */
export function resultFormat<F extends string>(io: Io, flag: F | undefined): F | ResultFormat {
  return flag ?? (io.stdout.isTTY ? 'table' : 'json');
}

/** True when the command should print JSON (see resultFormat). */
export function wantsJson(io: Io, flag: string | undefined): boolean {
  return resultFormat(io, flag) === 'json';
}

/** The `--debug` line for one timed SQL statement (load, validate): wall and CPU ms, then the statement on one line. */
export function debugStatementLine(e: { ms: number; cpuMs: number; sql: string }): string {
  return `debug: ${e.ms.toFixed(0).padStart(7)} ms ${e.cpuMs.toFixed(0).padStart(7)} cpu ms  ${e.sql.replace(/\s+/g, ' ').trim().slice(0, 160)}`;
}
