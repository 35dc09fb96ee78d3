// Safe output: everything is written into a temporary directory beside the target and renamed into place at the
// end, so a failed or interrupted run never leaves a half-written dataset where the user asked for one. The
// finished directory carries surgctl's marker; --force replaces only a directory generate wrote (see
// src/core/safe-output.ts), never a user's folder.
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UsageError, toIoError } from '../../errors.js';
import { checkOutput, commitOutput as commitSafe, discardOutput as discardSafe, writeMarker, type OutputGuard } from '../safe-output.js';

function guardFor(force: boolean, cwd: string | undefined): OutputGuard {
  return { kind: 'generate', shape: 'directory', force, cwd };
}

/**
 * Checks the target and creates the temporary directory beside it. Throws OutputExistsError / OutputRefusedError /
 * UsageError (exit 2).
 */
export function prepareOutput(out: string, force: boolean, cwd?: string): { target: string; tmp: string } {
  if (out === '-') {
    throw new UsageError('generate writes a folder of files; --out - (standard output) cannot hold it', {
      field: '--out',
      hint: 'give --out a directory, e.g. --out surgctl-data',
    });
  }
  const target = checkOutput(out, guardFor(force, cwd));
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

/**
 * Marks the finished temporary directory as surgctl's and moves it into place; an existing directory is replaced
 * only with force and only when generate wrote it (the old one comes back if the swap fails).
 */
export function commitOutput(tmp: string, target: string, force: boolean, cwd?: string, command = 'generate'): void {
  try {
    writeMarker(tmp, 'generate', command);
  } catch (e) {
    discardSafe(tmp);
    throw toIoError(target, e, 'write');
  }
  commitSafe(tmp, target, guardFor(force, cwd));
}

export function discardOutput(tmp: string): void {
  discardSafe(tmp);
}
