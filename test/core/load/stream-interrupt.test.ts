// Ctrl-C while streaming from stdin: the committed batches stay, the open batch is not loaded, the run is
// recorded 'interrupted', and the reader stops even while the pipe is quiet.
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { openDb } from '../../../src/db/db.js';
import { loadStream } from '../../../src/core/load/stream.js';
import { InterruptedError } from '../../../src/errors.js';
import { scratchDirs } from '../../helpers/run-cli.js';
import { ROBOTS } from '../../helpers/small-dataset.js';
import { lakeAt } from '../../helpers/lake.js';

const tmp = scratchDirs();

describe('stdin load under Ctrl-C', () => {
  it('keeps committed batches, drops the open one, marks the run interrupted', async () => {
    const dir = tmp();
    const dbPath = join(dir, 'lake.duckdb');
    const input = new PassThrough();
    const abort = new AbortController();
    const done = loadStream({
      stream: input,
      dataset: 'robots',
      format: 'csv',
      cwd: dir,
      batchRows: 2,
      batchSeconds: 600,
    }, {
      lake: lakeAt(dbPath),
      signal: abort.signal,
      onEvent: (e) => {
        // The first batch committed: write one more line (an open batch) and press Ctrl-C while the pipe is quiet.
        if (e.type === 'file-done') {
          input.write('RB-03,SN-0003,da Vinci Xi,Intuitive Surgical,FAC-1,2023-02-01,active\n');
          setTimeout(() => abort.abort(), 200);
        }
      },
    }).catch((e: unknown) => e);
    input.write(`${ROBOTS.join('\n')}\n`);
    const err = await done;
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as Error).message).toBe('interrupted: load from stdin stopped; 1 earlier batch(es) kept; the 1 line(s) of the open batch were not loaded');
    const db = await openDb(dbPath, { readOnly: true });
    try {
      expect(await db.scalar('SELECT count(*)::INTEGER FROM raw_robots')).toBe(2);
      expect(await db.all('SELECT path, status FROM loads')).toEqual([{ path: 'stdin#1', status: 'succeeded' }]);
      expect(await db.all('SELECT command, status FROM runs')).toEqual([{ command: 'load', status: 'interrupted' }]);
    } finally {
      db.close();
    }
  }, 30_000);
});
