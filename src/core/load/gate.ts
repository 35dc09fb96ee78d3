// The gates of a load, checked after it committed (the valid rows stay loaded and the rest stay quarantined
// whatever the verdict; a gate only decides the exit code):
// - the failed-file gate (surgctl load and the pipeline's load stage): a file that could not be loaded at all (not
//   the dataset its name says, unreadable, a lock) fails the run with exit 1, naming every such file;
// - the --max-invalid gate of `load`: per file, as in `validate`; the batches of a stdin stream count together as
//   one input.
import { GateFailedError } from '../../errors.js';
import { parseMaxInvalid } from '../validate/index.js';
import type { FileLoadResult } from './load.js';

/** Throws GateFailedError naming each file whose status is failed (with its reason); returns when none failed. */
export function checkFilesLoaded(files: readonly { path: string; status: string; message: string | null }[]): void {
  const failed = files.filter((f) => f.status === 'failed');
  if (failed.length === 0) return;
  throw new GateFailedError(`${failed.length} file(s) were not loaded: ${failed.map((f) => `${f.path}: ${f.message ?? 'failed'}`).join('; ')}`, {
    file: failed[0]?.path,
    hint: 'check that each file holds the dataset its name or --dataset says',
  });
}

export interface GateBreach {
  /** The file (or `-` for a stdin stream). */
  path: string;
  rows_read: number;
  rows_quarantined: number;
  /** rows_quarantined / rows_read, 0..1. */
  share: number;
}

type Counted = Pick<FileLoadResult, 'path' | 'status' | 'rows_read' | 'rows_quarantined'>;

/**
 * The inputs whose quarantined rows exceed maxInvalid ("N" rows or "P%" of rows read), in the order given.
 * Skipped and failed files are not counted here (a failed file fails the load by itself). With `asOne`, every
 * result counts as one input named asOne (a stdin stream's batches). Throws UsageError for a bad maxInvalid.
 */
export function overMaxInvalid(files: Counted[], maxInvalid: string, asOne?: string): GateBreach[] {
  const gate = parseMaxInvalid(maxInvalid);
  const counted = files.filter((f) => f.status === 'succeeded');
  const inputs = asOne === undefined
    ? counted.map((f) => ({ path: f.path, rows_read: f.rows_read, rows_quarantined: f.rows_quarantined }))
    : [{ path: asOne, rows_read: counted.reduce((s, f) => s + f.rows_read, 0), rows_quarantined: counted.reduce((s, f) => s + f.rows_quarantined, 0) }];
  return inputs
    .map((f) => ({ ...f, share: f.rows_read === 0 ? 0 : f.rows_quarantined / f.rows_read }))
    .filter((f) => (gate.rows !== undefined && f.rows_quarantined > gate.rows) || (gate.percent !== undefined && f.share * 100 > gate.percent));
}

/**
 * One line naming the breaching inputs: the first three in full, then how many more (an import of a folder can
 * breach on every file, and a message is read on one screen).
 */
export function describeBreaches(over: readonly GateBreach[], shown = 3): string {
  const one = (b: GateBreach): string => `${b.path}: ${b.rows_quarantined} of ${b.rows_read} rows quarantined (${(b.share * 100).toFixed(2)}%)`;
  const rest = over.length - shown;
  return over.slice(0, shown).map(one).join('; ') + (rest > 0 ? `; and ${rest} more file(s)` : '');
}
