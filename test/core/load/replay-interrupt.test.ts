// Ctrl-C during a quarantine replay: nothing of the replay is kept, the rows stay quarantined and open, and a
// later replay still finds them.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDb } from '../../../src/db/db.js';
import { loadFiles } from '../../../src/core/load/load.js';
import { replayQuarantine } from '../../../src/core/load/quarantine.js';
import { InterruptedError } from '../../../src/errors.js';
import { scratchDirs } from '../../helpers/run-cli.js';
import { writeSmallDataset } from '../../helpers/small-dataset.js';
import { lakeAt } from '../../helpers/lake.js';

const tmp = scratchDirs();

describe('quarantine replay under Ctrl-C', () => {
  it('rolls back, says the rows stay quarantined, and a later replay loads them', async () => {
    const dir = tmp();
    const files = writeSmallDataset(dir, 4);
    const dbPath = join(dir, 'lake.duckdb');
    await loadFiles({ inputs: [files.robots, files.patients], cwd: dir }, { lake: lakeAt(dbPath) });
    const early = await loadFiles({ inputs: [files.telemetry], cwd: dir }, { lake: lakeAt(dbPath) });
    await loadFiles({ inputs: [files.procedures], cwd: dir }, { lake: lakeAt(dbPath) });
    const id = early.files[0]!.load_id;
    const abort = new AbortController();
    abort.abort();
    const err = await replayQuarantine({ loadId: id, cwd: dir }, { lake: lakeAt(dbPath), signal: abort.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as Error).message).toBe(`interrupted: replay of ${id} rolled back; its 4 row(s) stay quarantined`);
    const db = await openDb(dbPath, { readOnly: true });
    try {
      expect(await db.scalar('SELECT count(*)::INTEGER FROM quarantine WHERE replayed_by IS NULL')).toBe(4);
      expect(await db.scalar('SELECT count(*)::INTEGER FROM raw_telemetry')).toBe(0);
    } finally {
      db.close();
    }
    const replay = await replayQuarantine({ loadId: id, cwd: dir }, { lake: lakeAt(dbPath) });
    expect(replay.result).toMatchObject({ rows_inserted: 4, rows_quarantined: 0 });
  }, 30_000);
});
