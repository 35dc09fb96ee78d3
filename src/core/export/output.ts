// Safe outputs: every file or directory is written under a temporary name beside its target and renamed into
// place when complete; an existing target is replaced only with --force (OutputExistsError otherwise), and a
// directory only when it looks like an earlier export (Hive key=value folders and data files).
import { closeSync, existsSync, lstatSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { IoError, OutputExistsError, toIoError } from '../../errors.js';

/** Where text outputs go: process stdout, or an AtomicTextFile. */
export interface TextSink {
  write(chunk: string): unknown;
}

/** Throws OutputExistsError when `path` exists and force is not set. Call before doing any work. */
export function checkOutput(path: string, force: boolean | undefined): void {
  if (existsSync(path) && !force) throw new OutputExistsError(path);
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) {
    throw new IoError(path, `cannot write ${path}: directory ${dir} does not exist`, { hint: 'create the directory first' });
  }
}

/** A fresh temporary path in the same directory as `target` (so the final rename stays on one file system). */
export function tempPathFor(target: string): string {
  const abs = resolve(target);
  return join(dirname(abs), `.${basename(abs)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

const DATA_FILE = /\.(parquet|csv|ndjson|json|arrow|tmp)$/i;

function looksLikeExport(dir: string): boolean {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!entry.name.includes('=') || !looksLikeExport(join(dir, entry.name))) return false;
    } else if (!DATA_FILE.test(entry.name)) return false;
  }
  return true;
}

/**
 * Moves a finished temporary file or directory onto `target`. With force, an existing file is replaced
 * atomically; an existing directory is replaced only if it holds nothing but export data.
 */
export function commitOutput(temp: string, target: string, force: boolean | undefined): void {
  const abs = resolve(target);
  let existing: ReturnType<typeof lstatSync> | undefined;
  try {
    existing = lstatSync(abs);
  } catch {
    existing = undefined;
  }
  if (existing && !force) {
    rmSync(temp, { recursive: true, force: true });
    throw new OutputExistsError(target);
  }
  try {
    if (existing?.isDirectory()) {
      if (!looksLikeExport(abs)) {
        rmSync(temp, { recursive: true, force: true });
        throw new IoError(target, `refusing to replace directory ${target}: it holds files that are not export data`, {
          hint: 'choose another --out path, or remove the directory yourself',
        });
      }
      const old = tempPathFor(abs);
      renameSync(abs, old);
      renameSync(temp, abs);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(temp, abs);
    }
  } catch (e) {
    if (e instanceof IoError) throw e;
    rmSync(temp, { recursive: true, force: true });
    throw toIoError(target, e, 'write');
  }
}

/** Removes a temporary output after a failure (never throws). */
export function discardOutput(temp: string): void {
  rmSync(temp, { recursive: true, force: true });
}

/** A text file written through a temporary name: write() buffers, commit() renames, abort() removes. */
export class AtomicTextFile implements TextSink {
  readonly target: string;
  readonly temp: string;
  private readonly fd: number;
  private readonly force: boolean | undefined;
  private buffer: string[] = [];
  private buffered = 0;
  private done = false;

  constructor(target: string, force: boolean | undefined) {
    checkOutput(target, force);
    this.target = target;
    this.force = force;
    this.temp = tempPathFor(target);
    try {
      this.fd = openSync(this.temp, 'wx');
    } catch (e) {
      throw toIoError(target, e, 'write');
    }
  }

  write(chunk: string): boolean {
    this.buffer.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered >= 1 << 20) this.flush();
    return true;
  }

  private flush(): void {
    if (this.buffer.length === 0) return;
    try {
      writeSync(this.fd, this.buffer.join(''));
    } catch (e) {
      throw toIoError(this.target, e, 'write');
    }
    this.buffer = [];
    this.buffered = 0;
  }

  commit(): void {
    if (this.done) return;
    this.flush();
    closeSync(this.fd);
    this.done = true;
    commitOutput(this.temp, this.target, this.force);
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    discardOutput(this.temp);
  }
}
