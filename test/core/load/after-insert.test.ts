// loadOneFile's afterInsert hook (what `surgctl import` uses for its lineage and its mapping's quarantine rows) runs
// inside the load's merge transaction: it sees the rows just inserted under the load's id, what it writes commits with
// them, and when it fails the rows, the quarantine and its own writes all roll back (the ledger row says failed).
// Both write paths: a lakehouse held open (import, replay) and the scratch beside the lakehouse (load).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateDataset } from '../../../src/core/generate/index.js';
import { loadOneFile, runLoad, sumTotals } from '../../../src/core/load/load.js';
import { loadDatasetSchema } from '../../../src/core/schemas.js';
import { openDb, type Db } from '../../../src/db/db.js';
import { lakeAt } from '../../helpers/lake.js';
import { tempDir } from '../../helpers/run-cli.js';

let dir = '';
let base = '';
let data = '';
let rows = 0;
let cleanup = (): void => {};

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('surgctl-after-insert-'));
  data = join(dir, 'data');
  const gen = await generateDataset({ out: data, seed: 5, robots: 6, patients: 2, procedures: 2, telemetryRows: 10, badRows: 0, datasets: ['robots'] });
  rows = gen.manifest.files.find((f) => f.path === 'robots.csv')!.rows;
  base = join(dir, 'base.duckdb');
  const db = await lakeAt(base).openWriter();
  await db.run('CREATE TABLE hook_marks (load_id VARCHAR, n INTEGER)');
  db.close();
}, 60_000);
afterAll(() => cleanup());

const ds = () => loadDatasetSchema('robots');
const mark = (fail: boolean) => async (lake: Db, loadId: string): Promise<void> => {
  await lake.run('INSERT INTO hook_marks SELECT $load, count(*)::INTEGER FROM raw_robots WHERE _load_id = $load', { load: loadId });
  if (fail) throw new Error('hook failed');
};

async function state(path: string): Promise<{ raw: number; marks: { load_id: string; n: number }[]; loads: { load_id: string; status: string }[] }> {
  const db = await openDb(path, { readOnly: true });
  try {
    return {
      raw: (await db.scalar<number>('SELECT count(*)::INTEGER FROM raw_robots')) ?? -1,
      marks: await db.all('SELECT load_id, n FROM hook_marks'),
      loads: await db.all("SELECT load_id, status FROM loads WHERE dataset = 'robots'"),
    };
  } finally {
    db.close();
  }
}

describe.each(['pinned', 'scratch'] as const)('afterInsert on the %s write path', (how) => {
  async function load(name: string, fail: boolean): Promise<{ path: string; error: unknown }> {
    const path = join(dir, `${how}-${name}.duckdb`);
    copyFileSync(base, path);
    const p = { path: join(data, 'robots.csv'), display: 'robots.csv', ds: ds() };
    const opts = { lake: lakeAt(path), cwd: dir, quarantineDir: join(dir, 'q') };
    const extra = { afterInsert: mark(fail) };
    try {
      if (how === 'pinned') {
        const db = await opts.lake.openWriter();
        try {
          await loadOneFile(db, p, opts, extra);
        } finally {
          db.close();
        }
      } else {
        await runLoad(opts, ['test'], async (open) => {
          const files = [await loadOneFile(open, p, opts, extra)];
          return { db: path, files, totals: sumTotals(files) };
        });
      }
      return { path, error: null };
    } catch (e) {
      return { path, error: e };
    }
  }

  it('sees the inserted rows and commits with them', async () => {
    const { path, error } = await load('ok', false);
    expect(error).toBeNull();
    const s = await state(path);
    expect(s.raw).toBe(rows);
    expect(s.loads).toHaveLength(1);
    expect(s.loads[0]!.status).toBe('succeeded');
    expect(s.marks).toEqual([{ load_id: s.loads[0]!.load_id, n: rows }]);
  });

  it('rolls the whole merge back when it fails', async () => {
    const { path, error } = await load('fail', true);
    expect((error as Error).message).toBe('hook failed');
    const s = await state(path);
    expect(s.raw).toBe(0);
    expect(s.marks).toEqual([]);
    expect(s.loads.map((l) => l.status)).toEqual(['failed']);
  });
});
