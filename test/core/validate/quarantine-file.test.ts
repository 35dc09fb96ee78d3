// The quarantine file of many wide rows under a small memory limit: DuckDB sorts wide rows only in memory of about
// their size, so writeQuarantineNdjson sorts them in runs of lines and appends the runs. At 64MB one sort of these
// ~130 MB of rows fails with "Out of Memory" (measured; as validate did with the 500,000 quarantined rows of the
// 25M-row bench file at 192MB); the runs give the file one sort at 2GB gives, byte for byte. (validate itself needs
// a 64 MiB read buffer for a CSV file, so the mechanism is shown on the writer alone.)
import { describe, expect, it } from 'vitest';
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { openDb } from '../../../src/db/db.js';
import { literal } from '../../../src/db/sql.js';
import { writeQuarantineNdjson } from '../../../src/core/validate/index.js';
import { scratchDirs } from '../../helpers/run-cli.js';

const tmp = scratchDirs();

/** Rows of a quarantine table, wide (~450 bytes), in no order: lines shuffled, two rows on some lines, one without. */
const ROWS = 300_000;
const QUARANTINE = `CREATE TEMP TABLE q AS
  SELECT 'data/telemetry.csv' AS file, CASE WHEN i = 7 THEN NULL ELSE (i * 7919) % ${ROWS} // 2 + 2 END AS line, i AS "row",
    json_object('event_id', 'EV-' || i, 'note', repeat('x', 200) || i)::VARCHAR AS raw,
    to_json([{'field': 'force_n', 'keyword': 'maximum', 'message': 'must be <= 100 ' || repeat('m', 100), 'value': '250.0'}])::VARCHAR AS errors
  FROM range(${ROWS}) r(i)`;

/** The lines of an NDJSON file, streamed: how many, whether (line, row) ascend, and whether a missing line is last. */
async function scan(path: string): Promise<{ n: number; ordered: boolean; nullLast: boolean }> {
  let n = 0;
  let ordered = true;
  let prev: [number, number] | undefined;
  let sawNull = false;
  let nullLast = true;
  for await (const text of createInterface({ input: createReadStream(path) })) {
    const r = JSON.parse(text) as { line: number | null; row: number };
    n += 1;
    if (r.line === null) {
      sawNull = true;
      continue;
    }
    if (sawNull) nullLast = false;
    if (prev && (r.line < prev[0] || (r.line === prev[0] && r.row <= prev[1]))) ordered = false;
    prev = [r.line, r.row];
  }
  return { n, ordered, nullLast };
}

describe('writeQuarantineNdjson', () => {
  it('writes more rows than one sort can hold under the memory limit, in line order, as one sort would', async () => {
    const dir = tmp();
    const small = await openDb(':memory:', { memoryLimit: '64MB', threads: 2 });
    try {
      await small.run(QUARANTINE);
      await writeQuarantineNdjson(small, 'q', undefined, join(dir, 'runs.ndjson'));
      expect(small.memoryLimit).toBe('64MB');
    } finally {
      small.close();
    }
    const big = await openDb(':memory:', { memoryLimit: '2GB' });
    try {
      await big.run(QUARANTINE);
      await big.run(`COPY (SELECT file, line, "row", json(raw) AS raw, json(errors) AS errors FROM q ORDER BY line, "row")
        TO ${literal(join(dir, 'one.ndjson'))} (FORMAT json)`);
    } finally {
      big.close();
    }
    expect(await scan(join(dir, 'runs.ndjson'))).toEqual({ n: ROWS, ordered: true, nullLast: true });
    expect(readFileSync(join(dir, 'runs.ndjson')).equals(readFileSync(join(dir, 'one.ndjson')))).toBe(true);
  }, 120_000);
});
