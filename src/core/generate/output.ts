// Safe output: everything is written into a temporary directory beside the target and renamed into place at the
// end, so a failed or interrupted run never leaves a half-written dataset where the user asked for one.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputExistsError, UsageError, toIoError } from '../../errors.js';

/** Checks the target and creates the temporary directory beside it. Throws OutputExistsError / UsageError (exit 2). */
export function prepareOutput(out: string, force: boolean): { target: string; tmp: string } {
  const target = resolve(out);
  if (existsSync(target)) {
    if (!force) throw new OutputExistsError(out);
    if (!statSync(target).isDirectory()) {
      throw new UsageError(`${out} exists and is not a directory`, { file: out, hint: 'choose a directory path for --out' });
    }
  }
  const parent = dirname(target);
  try {
    makeDirs(parent);
    return { target, tmp: mkdtempSync(join(parent, `.${basename(target)}.tmp-`)) };
  } catch (e) {
    const io = toIoError(parent, e, 'write to');
    throw new UsageError(`cannot write the output ${out}: ${io.message.replace(/^cannot write to /, '')}`, {
      file: out,
      hint: io.hint ?? 'choose a writable --out path',
      cause: e,
    });
  }
}

/** mkdir -p one level at a time (a recursive mkdirSync can spin on pseudo file systems such as /proc). */
function makeDirs(dir: string): void {
  if (existsSync(dir)) return;
  const up = dirname(dir);
  if (up !== dir) makeDirs(up);
  mkdirSync(dir);
}

/** Moves the finished temporary directory into place, replacing the old one only when force is set. */
export function commitOutput(tmp: string, target: string, force: boolean): void {
  try {
    if (existsSync(target)) {
      if (!force) throw new OutputExistsError(target);
      const old = `${tmp}-old`;
      renameSync(target, old);
      renameSync(tmp, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, target);
    }
  } catch (e) {
    if (e instanceof OutputExistsError) throw e;
    throw toIoError(target, e, 'move the output into');
  }
}

export function discardOutput(tmp: string): void {
  rmSync(tmp, { recursive: true, force: true });
}
