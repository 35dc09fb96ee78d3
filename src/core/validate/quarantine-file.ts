// The quarantine NDJSON file (validate's, load's): the quarantined rows in line order, sorted by DuckDB in runs of
// lines small enough for its memory limit, each run written to its own file and appended in order.
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { processTempDir, type Db, type Params } from '../../db/db.js';
import { megabytes } from '../../db/memory-size.js';
import { literal } from '../../db/sql.js';
import { toIoError } from '../../errors.js';

/** Lines per bucket of the size histogram: the runs are cut at multiples of it (25M lines: 6,104 buckets). */
const BUCKET_LINES = 4096;

/**
 * DuckDB 1.5's sort needs memory of the order of the rows it sorts when they are wide (the raw row and its errors,
 * a few hundred bytes each), spilled or not: 500,000 such rows (~200 MB) fail to sort at a 64MB limit, 200,000
 * (~60 MB) sort, and the 500,000 quarantined rows of a 25M-row file failed at 192MB. A run of rows sorted at once
 * holds at most this share of the limit.
 */
const RUN_SHARE_OF_LIMIT = 1 / 4;

/**
 * DuckDB's memory_limit while the file is written (when the handle's own is higher), in MB: what the write holds
 * (the quarantine table, each run's sort) spills or is bounded by the runs, and the 500,000 rows of the 25M-row
 * validate bench took the process to 766 MiB at 512MB (one sort: 738 MiB), past the 512 MiB goal.
 */
const WRITE_MEMORY_LIMIT_MB = 192;

const SELECT = 'SELECT file, line, "row", json(raw) AS raw, json(errors) AS errors';

/**
 * Writes the rows of `relation` (a table, or a parenthesised query with `params`; columns file, line, "row", raw and
 * errors as JSON text) to `final` as NDJSON ordered by line, "row": through a temporary name and a rename, so the
 * file is whole or absent. `afterTemp` runs between the write and the rename (fault-injection tests). Rows without a
 * line come last, as ORDER BY puts them. Throws QueryError when DuckDB fails, IoError when the file system does.
 */
export async function writeQuarantineNdjson(db: Db, relation: string, params: Params | undefined, final: string, afterTemp?: () => void): Promise<void> {
  const lower = (megabytes(db.memoryLimit) ?? 0) > WRITE_MEMORY_LIMIT_MB;
  if (lower) await db.run(`SET memory_limit = '${WRITE_MEMORY_LIMIT_MB}MB'`);
  try {
    await writeRuns(db, relation, params, final, lower ? WRITE_MEMORY_LIMIT_MB : megabytes(db.memoryLimit) ?? WRITE_MEMORY_LIMIT_MB, afterTemp);
  } finally {
    if (lower) await db.run(`SET memory_limit = ${literal(db.memoryLimit)}`);
  }
}

async function writeRuns(db: Db, relation: string, params: Params | undefined, final: string, limitMb: number, afterTemp?: () => void): Promise<void> {
  const cuts = await runCuts(db, relation, params, limitMb * 1e6 * RUN_SHARE_OF_LIMIT);
  if (cuts.length === 0) {
    await db.copyToFile(`${SELECT} FROM ${relation} ORDER BY line, "row"`, params, final, 'FORMAT json', afterTemp);
    return;
  }
  const dir = processTempDir();
  const tmp = `${final}.tmp-${process.pid}`;
  try {
    const parts: string[] = [];
    for (let i = 0; i <= cuts.length; i++) {
      const part = join(dir, `run-${i}.ndjson`);
      const where = [i > 0 ? `line >= ${cuts[i - 1]}` : '', i < cuts.length ? `line < ${cuts[i]}` : ''].filter(Boolean).join(' AND ');
      // The last run also takes the rows without a line (ORDER BY puts NULL last).
      await db.run(`COPY (${SELECT} FROM ${relation} q WHERE ${i === cuts.length ? `${where} OR line IS NULL` : where}
        ORDER BY line, "row") TO ${literal(part)} (FORMAT json)`, params);
      parts.push(part);
    }
    try {
      for (const [i, part] of parts.entries()) await pipeline(createReadStream(part), createWriteStream(tmp, { flags: i === 0 ? 'w' : 'a' }));
    } catch (e) {
      throw toIoError(final, e, 'write');
    }
    afterTemp?.();
    try {
      renameSync(tmp, final);
    } catch (e) {
      throw toIoError(final, e, 'write');
    }
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The lines at which to cut the rows into runs, ascending, each run's rows under `budget` bytes; none when everything
 * fits in one. A bucket of BUCKET_LINES lines bigger than the run size is a run of its own.
 */
async function runCuts(db: Db, relation: string, params: Params | undefined, budget: number): Promise<number[]> {
  // Bytes as DuckDB holds a row to sort it, roughly: the text of each value and a fixed part for the numbers.
  const buckets = await db.all<{ b: number | null; bytes: number }>(`SELECT (line // ${BUCKET_LINES})::DOUBLE AS b,
      sum(coalesce(strlen(file), 0) + coalesce(strlen(raw), 0) + coalesce(strlen(errors), 0) + 64)::DOUBLE AS bytes
    FROM ${relation} q GROUP BY b ORDER BY b NULLS LAST`, params);
  if (buckets.reduce((s, b) => s + b.bytes, 0) <= budget) return [];
  const cuts: number[] = [];
  let size = 0;
  for (const { b, bytes } of buckets) {
    if (b === null) break;
    if (size > 0 && size + bytes > budget) {
      cuts.push(b * BUCKET_LINES);
      size = 0;
    }
    size += bytes;
  }
  return cuts;
}
