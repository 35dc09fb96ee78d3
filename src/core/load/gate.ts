// The failed-file gate of a load (surgctl load and the pipeline's load stage): a file that could not be loaded at
// all (not the dataset its name says, unreadable, a lock) fails the run with exit 1, naming every such file.
import { GateFailedError } from '../../errors.js';

/** Throws GateFailedError naming each file whose status is failed (with its reason); returns when none failed. */
export function checkFilesLoaded(files: readonly { path: string; status: string; message: string | null }[]): void {
  const failed = files.filter((f) => f.status === 'failed');
  if (failed.length === 0) return;
  throw new GateFailedError(`${failed.length} file(s) were not loaded: ${failed.map((f) => `${f.path}: ${f.message ?? 'failed'}`).join('; ')}`, {
    file: failed[0]?.path,
    hint: 'check that each file holds the dataset its name or --dataset says',
  });
}
