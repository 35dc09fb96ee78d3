// Safe file outputs for export, report and query: every file or directory is written under a temporary name beside
// its target and renamed into place when complete (src/core/safe-output.ts decides what may be replaced); `-`
// is standard output.
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { IoError, toIoError } from '../../errors.js';
import { checkOutput as checkSafe, commitOutput as commitSafe, discardOutput, tempPathFor, type OutputGuard } from '../safe-output.js';
import type { TextSink } from '../read/result.js';

export { discardOutput, tempPathFor, STDOUT, pipeFile, type ByteSink, type OutputGuard } from '../safe-output.js';

export type { TextSink };

/**
 * Checks `out` before any work (see safe-output's checkOutput) and that its directory exists. Returns the
 * absolute target. Throws OutputRefusedError / OutputExistsError (exit 2) or IoError.
 */
export function checkOutput(out: string, guard: OutputGuard): string {
  const target = checkSafe(out, guard);
  const dir = dirname(target);
  if (!existsSync(dir)) {
    throw new IoError(out, `cannot write ${out}: directory ${dir} does not exist`, { hint: 'create the directory first' });
  }
  return target;
}

/** Moves a finished temporary file or directory onto `out` (see safe-output's commitOutput). */
export function commitOutput(temp: string, out: string, guard: OutputGuard): void {
  commitSafe(temp, out, guard);
}

/** A text file written through a temporary name: write() buffers, commit() renames, abort() removes. */
export class AtomicTextFile implements TextSink {
  readonly target: string;
  readonly temp: string;
  private readonly fd: number;
  private readonly guard: OutputGuard;
  private buffer: string[] = [];
  private buffered = 0;
  private done = false;

  constructor(out: string, guard: OutputGuard) {
    this.target = checkOutput(out, guard);
    this.guard = guard;
    this.temp = tempPathFor(this.target);
    try {
      this.fd = openSync(this.temp, 'wx');
    } catch (e) {
      throw toIoError(out, e, 'write');
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
    commitSafe(this.temp, this.target, this.guard);
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
