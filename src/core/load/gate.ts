// The --max-invalid gate of `load`, checked after the load committed: the valid rows stay loaded and the rest
// stay quarantined whatever the verdict; the gate only decides the exit code. Per file, as in `validate`; the
// batches of a stdin stream count together as one input.
import { parseMaxInvalid } from '../validate/index.js';
import type { FileLoadResult } from './load.js';

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
