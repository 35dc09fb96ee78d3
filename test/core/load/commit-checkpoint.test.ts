// The merge's COMMIT checkpoints the lakehouse instead of writing its rows to the WAL (load.ts MERGE_SETTINGS), so
// the quarantine rows are written once. What that relies on: the commit leaves no WAL behind (DETACH has nothing
// left to write), the settings are back afterwards, and a checkpoint that fails before its header is written leaves
// the lakehouse as it was before the merge (nothing of the file's rows, quarantine or ledger result).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFiles, loadOneFile, planFiles, type FileLoadResult, type LoadEvent } from '../../../src/core/load/load.js';
import { openDb, type Db } from '../../../src/db/db.js';
import { tempDir } from '../../helpers/run-cli.js';
import { lakeAt } from '../../helpers/lake.js';
import { TELEMETRY_HEADER, telemetryRow, writeSmallDataset } from '../../helpers/small-dataset.js';

let cleanup = (): void => {};
let dir = '';
let telemetry = '';
const ROWS = 3000;
// Every 10th row's force is out of range: 300 quarantine rows beside 2,700 valid ones.
const BAD = ROWS / 10;

beforeAll(() => {
  ({ dir, cleanup } = tempDir('surgctl-commit-checkpoint-'));
  writeSmallDataset(dir);
  telemetry = join(dir, 'telemetry-merge.csv');
  const lines = [TELEMETRY_HEADER];
  for (let i = 1; i <= ROWS; i++) lines.push(telemetryRow(i, i % 10 === 0 ? { force_n: '9999' } : {}));
  writeFileSync(telemetry, `${lines.join('\n')}\n`);
});
afterAll(() => cleanup());

async function loadReference(db: string): Promise<void> {
  const r = await loadFiles({ inputs: ['robots.csv', 'patients.csv', 'procedures.csv'], cwd: dir, quarantineDir: join(dir, 'q') }, { lake: lakeAt(db) });
  expect(r.files.map((f) => f.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
}

/**
 * A lakehouse `<name>.duckdb` holding the reference data, opened for writing and kept open (no scratch: the handle
 * the merge commits on is the test's); fn gets it and a call that loads the telemetry file through it. Returns the
 * lakehouse's path.
 */
async function pinnedLoad(name: string, fn: (db: Db, load: (onEvent?: (e: LoadEvent) => void) => Promise<FileLoadResult>) => Promise<void>): Promise<string> {
  const path = join(dir, `${name}.duckdb`);
  await loadReference(path);
  const lake = lakeAt(path);
  const [planned] = planFiles([telemetry], { dataset: 'telemetry', cwd: dir });
  if (!planned) throw new Error('no file planned');
  const db = await lake.openWriter();
  try {
    await fn(db, (onEvent) => loadOneFile(db, planned, { lake, cwd: dir, quarantineDir: join(dir, `q-${name}`), ...(onEvent ? { onEvent } : {}) }));
  } finally {
    db.close();
  }
  return path;
}

function walBytes(db: string): number {
  return existsSync(`${db}.wal`) ? statSync(`${db}.wal`).size : 0;
}

describe("the merge's COMMIT checkpoints the lakehouse", () => {
  it('leaves no WAL at the commit (rows and quarantine written once) and the rows stand after reopening', async () => {
    const db = join(dir, 'once.duckdb');
    await loadReference(db);
    // The statement hook runs as each scratch statement ends, with the lakehouse still attached: the WAL's size
    // right after the merge's COMMIT (the first COMMIT after the quarantine's INSERT) is what the commit wrote.
    let afterQuarantine = false;
    const walAtMergeCommit: number[] = [];
    const onEvent = (e: LoadEvent): void => {
      if (e.type !== 'statement') return;
      if (/^\s*INSERT INTO quarantine/.test(e.sql)) afterQuarantine = true;
      else if (afterQuarantine && e.sql.trim() === 'COMMIT') {
        walAtMergeCommit.push(walBytes(db));
        afterQuarantine = false;
      }
    };
    const r = await loadFiles({ inputs: [telemetry], dataset: 'telemetry', cwd: dir, quarantineDir: join(dir, 'q-once') }, { lake: lakeAt(db), onEvent });
    const f = r.files[0];
    expect(f?.status, f?.message ?? '').toBe('succeeded');
    expect([f?.rows_read, f?.rows_inserted, f?.rows_duplicate, f?.rows_quarantined]).toEqual([ROWS, ROWS - BAD, 0, BAD]);
    expect(walAtMergeCommit).toEqual([0]);
    const check = await openDb(db, { readOnly: true });
    try {
      expect(await check.scalar('SELECT count(*)::INTEGER FROM raw_telemetry')).toBe(ROWS - BAD);
      expect(await check.scalar('SELECT count(*)::INTEGER FROM quarantine WHERE dataset = $ds', { ds: 'telemetry' })).toBe(BAD);
      expect(await check.scalar('SELECT status FROM loads WHERE load_id = $id', { id: f?.load_id ?? '' })).toBe('succeeded');
    } finally {
      check.close();
    }
  }, 60_000);

  it('restores the settings it changed for the merge', async () => {
    await pinnedLoad('settings', async (db, load) => {
      const settings = "SELECT current_setting('checkpoint_threshold')::VARCHAR AS t, current_setting('preserve_insertion_order') AS p";
      const before = await db.all(settings);
      expect((await load()).status).toBe('succeeded');
      expect(await db.all(settings)).toEqual(before);
      expect(before).toEqual([{ t: '16.0 MiB', p: true }]);
    });
  }, 60_000);

  it('a checkpoint that fails at the COMMIT leaves nothing of the merge: no rows, no quarantine, the ledger row still running', async () => {
    let loadId = '';
    const path = await pinnedLoad('abort', async (db, load) => {
      // DuckDB's own fault hook: the checkpoint stops just before it writes the header that would make it the file's
      // state, as a kill or a full disk there would. The WAL was skipped for this commit, so nothing of it may stay.
      await db.run("SET debug_checkpoint_abort = 'before_header'");
      await expect(load((e) => {
        if (e.type === 'file-start') loadId = e.loadId;
      })).rejects.toThrow(/checkpoint/i);
    });
    expect(loadId).not.toBe('');
    const check = await openDb(path, { readOnly: true });
    try {
      expect(await check.scalar('SELECT count(*)::INTEGER FROM raw_telemetry')).toBe(0);
      expect(await check.scalar('SELECT count(*)::INTEGER FROM quarantine')).toBe(0);
      // The 'running' row was committed before the merge; the next load marks it (its process is gone by then).
      expect(await check.all('SELECT status, rows_inserted::INTEGER AS n FROM loads WHERE load_id = $id', { id: loadId })).toEqual([{ status: 'running', n: 0 }]);
      expect(await check.scalar('SELECT count(*)::INTEGER FROM raw_robots')).toBe(2);
    } finally {
      check.close();
    }
  }, 60_000);
});
