// A big file's sha256 is computed while the file stages (load.ts HASH_WHILE_STAGING_BYTES; lowered to 0 here so a small
// file takes that way): the load must be the same as with the hash first (rows, ledger sha256), and a reload of
// content already loaded must still be skipped before anything is staged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateDataset } from '../../../src/core/generate/index.js';
import { hashFile, loadFiles, type LoadEvent, type LoadResult } from '../../../src/core/load/load.js';
import { openDb } from '../../../src/db/db.js';
import { tempDir } from '../../helpers/run-cli.js';
import { lakeAt } from '../../helpers/lake.js';

let cleanup = (): void => {};
let dir = '';
let data = '';
let base = '';

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('surgctl-hash-staging-'));
  data = join(dir, 'data');
  await generateDataset({
    out: data, seed: 5, robots: 3, patients: 30, procedures: 40, telemetryRows: 20_000, badRows: 0.01,
    datasets: ['robots', 'patients', 'procedures', 'telemetry'],
  });
  base = join(dir, 'base.duckdb');
  await loadFiles({ inputs: ['robots.csv', 'patients.csv', 'procedures.csv'].map((f) => join(data, f)), cwd: dir, quarantineDir: join(dir, 'q') }, { lake: lakeAt(base) });
}, 120_000);
afterAll(() => cleanup());

async function load(db: string, file: string, hashWhileStagingBytes: number | undefined, force = false): Promise<{ result: LoadResult; events: LoadEvent[] }> {
  const events: LoadEvent[] = [];
  const result = await loadFiles(
    { inputs: [file], dataset: 'telemetry', cwd: dir, quarantineDir: join(dir, 'q'), force, ...(hashWhileStagingBytes === undefined ? {} : { hashWhileStagingBytes }) },
    { lake: lakeAt(db), onEvent: (e) => events.push(e) },
  );
  return { result, events };
}

async function ledger(path: string): Promise<{ status: string; sha256: string | null; rows_inserted: number }[]> {
  const db = await openDb(path, { readOnly: true });
  try {
    return await db.all(`SELECT status, sha256, rows_inserted::INTEGER AS rows_inserted FROM loads WHERE dataset = 'telemetry' ORDER BY started_at, load_id`);
  } finally {
    db.close();
  }
}

async function rawRows(path: string): Promise<string> {
  const db = await openDb(path, { readOnly: true });
  try {
    const rows = await db.all(`SELECT * EXCLUDE (_load_id) FROM raw_telemetry ORDER BY _source_line`);
    return JSON.stringify(rows);
  } finally {
    db.close();
  }
}

describe('a big file is hashed while it stages', () => {
  it('loads the same rows and records the same sha256 as with the hash first', async () => {
    const file = join(data, 'telemetry.csv');
    const { sha256 } = await hashFile(file);
    const first = join(dir, 'first.duckdb');
    const overlapped = join(dir, 'overlapped.duckdb');
    copyFileSync(base, first);
    copyFileSync(base, overlapped);
    const a = await load(first, file, undefined);
    const b = await load(overlapped, file, 0);
    expect(b.events.some((e) => e.type === 'statement' && e.sql.includes('while staging'))).toBe(true);
    expect(a.events.some((e) => e.type === 'statement' && e.sql.includes('while staging'))).toBe(false);
    const fa = a.result.files[0];
    const fb = b.result.files[0];
    expect(fb?.status).toBe('succeeded');
    expect(fb?.sha256).toBe(sha256);
    expect(fb?.rows_inserted).toBeGreaterThan(19_000);
    expect({ ...fb, load_id: '', quarantine_path: '' }).toEqual({ ...fa, load_id: '', quarantine_path: '' });
    expect(await ledger(overlapped)).toEqual([{ status: 'succeeded', sha256, rows_inserted: fb?.rows_inserted }]);
    expect(await rawRows(overlapped)).toBe(await rawRows(first));
    expect(readFileSync(fb?.quarantine_path ?? '', 'utf8')).toBe(readFileSync(fa?.quarantine_path ?? '', 'utf8'));
  }, 120_000);

  it('still skips a reload of the same content before staging it, and loads other content of another size', async () => {
    const file = join(data, 'telemetry.csv');
    const db = join(dir, 'reload.duckdb');
    copyFileSync(base, db);
    const first = await load(db, file, 0);
    const again = await load(db, file, 0);
    const f = again.result.files[0];
    expect(f?.status).toBe('skipped');
    expect(f?.load_id).toBe(first.result.files[0]?.load_id);
    expect(f?.sha256).toBe(first.result.files[0]?.sha256);
    // Nothing of the skipped load was staged, and the ledger holds the first load only.
    expect(again.events.filter((e) => e.type === 'file-start' || e.type === 'file-progress')).toEqual([]);
    expect((await ledger(db)).map((r) => r.status)).toEqual(['succeeded']);
    // Another file of another size (the same rows and a blank line more): hashed while staging, all duplicates.
    const other = join(dir, 'telemetry-more.csv');
    writeFileSync(other, readFileSync(file));
    appendFileSync(other, '\n');
    const more = await load(db, other, 0);
    expect(more.events.some((e) => e.type === 'statement' && e.sql.includes('while staging'))).toBe(true);
    expect(more.result.files[0]?.status).toBe('succeeded');
    expect(more.result.files[0]?.rows_inserted).toBe(0);
    const rows = await ledger(db);
    expect(rows.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(rows[1]?.sha256).toBe((await hashFile(other)).sha256);
    // --force: the same content again (no skip check: hashed while it stages), recorded with its hash.
    const forced = await load(db, file, 0, true);
    expect(forced.result.files[0]?.status).toBe('succeeded');
    expect((await ledger(db))[2]?.sha256).toBe(first.result.files[0]?.sha256);
  }, 120_000);
});
