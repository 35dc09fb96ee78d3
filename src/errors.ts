// The error family and the exit codes. Only the CLI's main turns an error into words; everything below throws these.

export const ExitCode = {
  ok: 0,
  /** The data failed a gate: validation threshold, model tests. */
  gateFailed: 1,
  /** Usage or configuration error: bad flag, missing file, unknown dataset, invalid schema. */
  usage: 2,
  /** Runtime failure: I/O, database, internal bug. */
  runtime: 3,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
  /** Where in the input the problem is, when it is about one place. */
  file?: string | undefined;
  line?: number | undefined;
  field?: string | undefined;
}

/** Base of every error a user can see. `code` is stable (documented in the README). */
export class SurgctlError extends Error {
  readonly code: string;
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly field: string | undefined;

  constructor(code: string, exitCode: ExitCodeValue, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.file = options.file;
    this.line = options.line;
    this.field = options.field;
  }

  /** A JSON-safe view for `--format json` error lines and logs. */
  toJSON(): Record<string, unknown> {
    return {
      error: this.code,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...(this.file === undefined ? {} : { file: this.file }),
      ...(this.line === undefined ? {} : { line: this.line }),
      ...(this.field === undefined ? {} : { field: this.field }),
    };
  }
}

/** A flag, argument or configuration value is wrong. Exit 2. */
export class UsageError extends SurgctlError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('usage', ExitCode.usage, message, options);
  }
}

/** A schema, rules or config file is itself invalid. Exit 2. */
export class ConfigError extends SurgctlError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('config', ExitCode.usage, message, options);
  }
}

/** The data failed a gate (validation threshold, model tests). Exit 1. */
export class GateFailedError extends SurgctlError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('gate_failed', ExitCode.gateFailed, message, options);
  }
}

/** Reading or writing a file failed. Exit 3. */
export class IoError extends SurgctlError {
  readonly path: string;
  constructor(path: string, message: string, options: ErrorOptions = {}) {
    super('io', ExitCode.runtime, message, { file: path, ...options });
    this.path = path;
  }
}

/** A refused overwrite of an existing output. Exit 2 (the user asked for something we will not do unasked). */
export class OutputExistsError extends SurgctlError {
  constructor(path: string) {
    super('output_exists', ExitCode.usage, `${path} already exists`, {
      file: path,
      hint: 'pass --force to replace it, or choose another path',
    });
  }
}

/**
 * An output surgctl will not write even with --force: a directory it did not write (or that holds files it did
 * not write), a symlink, the current directory, a parent of the lakehouse. Exit 2.
 */
export class OutputRefusedError extends SurgctlError {
  constructor(path: string, message: string, hint: string) {
    super('output_refused', ExitCode.usage, message, { file: path, hint });
  }
}

/** A DuckDB statement failed. Carries the SQL, its parameters and the model that ran it. Exit 3. */
export class QueryError extends SurgctlError {
  readonly sql: string;
  readonly params: unknown;
  readonly model: string | undefined;
  constructor(message: string, sql: string, params: unknown, options: ErrorOptions & { model?: string } = {}) {
    super('query', ExitCode.runtime, message, options);
    this.sql = sql;
    this.params = params;
    this.model = options.model;
  }
}

/** The database is locked, newer than this CLI, or not a DuckDB file. Exit 3. */
export class DatabaseError extends SurgctlError {
  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(code, ExitCode.runtime, message, options);
  }
}

/** The user pressed Ctrl-C (SIGINT). Exit 130. `detail` says what was interrupted and what was kept. */
export class InterruptedError extends SurgctlError {
  constructor(detail?: string) {
    super('interrupted', ExitCode.interrupted, detail === undefined ? 'interrupted' : `interrupted: ${detail}`);
  }
}

export function isSurgctlError(e: unknown): e is SurgctlError {
  return e instanceof SurgctlError;
}

/** What a Node fs error code means, in words, for messages ("permission denied"); undefined for other codes. */
export const FS_ERROR_WORDS: Record<string, string> = {
  ENOENT: 'does not exist',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a part of the path is a file, not a directory',
  ENOSPC: 'the disk is full',
};

/** Turns a Node fs error into an IoError that names the path, says what went wrong in words, and what to do. */
export function toIoError(path: string, e: unknown, doing: string): IoError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const hints: Record<string, string> = {
    ENOENT: 'check the path exists',
    EACCES: 'check the permissions on the file and the directories above it',
    EPERM: 'check the permissions on the file and the directories above it',
    EISDIR: 'a directory was given where a file was expected',
    ENOTDIR: 'a part of the path is a file, not a directory',
    ENOSPC: 'the disk is full',
  };
  const words = code === undefined ? undefined : FS_ERROR_WORDS[code];
  const reason = code !== undefined && words !== undefined ? `${words} (${code})` : e instanceof Error ? e.message : String(e);
  return new IoError(path, `cannot ${doing} ${path}: ${reason}`, { hint: code ? hints[code] : undefined, cause: e });
}
