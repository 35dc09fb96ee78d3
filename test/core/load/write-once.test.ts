// Load writes each row once: a CSV file the line fast path can decide is staged by one ordered pass that also types
// the plainly valid lines, and the valid rows go from that staged read into the raw table (no typed copy between).
// The result must be the exact staging's, row for row: counts, lineage columns (_source_file, _source_line) and the
// quarantine, checked against the generator's ground truth on a file big enough for DuckDB's 2 threads to split it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateDataset, type Manifest } from '../../../src/core/generate/index.js';
import { loadFiles, type LoadEvent, type LoadResult } from '../../../src/core/load/load.js';
import { openDb } from '../../../src/db/db.js';
import { tempDir } from '../../helpers/run-cli.js';
import { lakeAt } from '../../helpers/lake.js';

let cleanup = (): void => {};
let dir = '';
interface Dataset {
  data: string;
  manifest: Manifest;
  base: string;
}
let big: Dataset;
let small: Dataset;

async function dataset(name: string, telemetryRows: number, badRows: number): Promise<Dataset> {
  const data = join(dir, name);
  const gen = await generateDataset({
    out: data, seed: 11, robots: 4, patients: 60, procedures: 120, telemetryRows, badRows,
    datasets: ['robots', 'patients', 'procedures', 'telemetry'],
  });
  const base = join(dir, `${name}-base.duckdb`);
  await loadFiles({ inputs: [join(data, 'robots.csv'), join(data, 'patients.csv'), join(data, 'procedures.csv')], cwd: dir, quarantineDir: join(dir, 'q') }, { lake: lakeAt(base) });
  return { data, manifest: gen.manifest, base };
}

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('surgctl-write-once-'));
  // ~46 MB of telemetry: more than one of DuckDB's CSV buffers, so the 2-thread read runs in parallel.
  big = await dataset('big', 400_000, 0.002);
  small = await dataset('small', 40_000, 0.01);
}, 120_000);
afterAll(() => cleanup());

async function loadTelemetry(d: Dataset, name: string, extra: { fastPath?: boolean; file?: string } = {}): Promise<{ db: string; result: LoadResult; phases: string[] }> {
  const db = join(dir, `${name}.duckdb`);
  copyFileSync(d.base, db);
  const phases: string[] = [];
  const onEvent = (e: LoadEvent): void => {
    if (e.type === 'file-progress') phases.push(e.phase);
  };
  const result = await loadFiles({ inputs: [extra.file ?? join(d.data, 'telemetry.csv')], dataset: 'telemetry', cwd: dir, quarantineDir: join(dir, `q-${name}`) }, { lake: lakeAt(db, { validateFast: extra.fastPath }), onEvent });
  return { db, result, phases };
}

describe('load writes each row once', () => {
  it('takes the fast path at 2 threads and lands every valid row once, at its line, with the quarantine at the planted lines', async () => {
    expect(statSync(join(big.data, 'telemetry.csv')).size).toBeGreaterThan(40 * 2 ** 20);
    const { db: path, result, phases } = await loadTelemetry(big, 'fast');
    const manifest = big.manifest;
    // The fast path checks keys before rows (the exact staging: rows, then keys).
    expect(phases.indexOf('keys')).toBeLessThan(phases.indexOf('checking rows'));
    const f = result.files[0]!;
    const rows = manifest.files.find((x) => x.path === 'telemetry.csv')!.rows;
    const bad = manifest.bad_rows.filter((b) => b.file === 'telemetry.csv');
    expect(bad.length).toBeGreaterThan(100);
    expect([f.rows_read, f.rows_inserted, f.rows_duplicate, f.rows_quarantined]).toEqual([rows, rows - bad.length, 0, bad.length]);
    const db = await openDb(path, { readOnly: true });
    try {
      // Each generated event k sits on line k + 2 (header, 0-based k): a row numbered by anything but its place in
      // the file (a join in the numbering pass, a thread's order) lands on another line.
      const lineage = (await db.all<{ n: number; lines: number; misplaced: number; files: number; loads: number }>(`
        SELECT count(*)::INTEGER AS n, count(DISTINCT _source_line)::INTEGER AS lines,
          count(*) FILTER (WHERE _source_line <> CAST(substr(event_id, 4) AS BIGINT) + 2)::INTEGER AS misplaced,
          count(DISTINCT _source_file)::INTEGER AS files, count(DISTINCT _load_id)::INTEGER AS loads
        FROM raw_telemetry`))[0];
      expect(lineage).toEqual({ n: rows - bad.length, lines: rows - bad.length, misplaced: 0, files: 1, loads: 1 });
      const planted = bad.map((b) => b.line).sort((a, b) => a - b);
      const quarantined = (await db.all<{ line: number }>("SELECT line::INTEGER AS line FROM quarantine WHERE dataset = 'telemetry' ORDER BY line")).map((r) => r.line);
      expect(quarantined).toEqual(planted);
      // No valid line is missing: the raw lines and the quarantined lines are every data line, once.
      const covered = await db.scalar<number>(`SELECT count(*)::INTEGER FROM (
        SELECT _source_line AS l FROM raw_telemetry UNION ALL SELECT line FROM quarantine WHERE dataset = 'telemetry')`);
      expect(covered).toBe(rows);
    } finally {
      db.close();
    }
  }, 120_000);

  it('gives exactly what the exact staging gives: the same raw rows, typed values and lineage, and the same quarantine', async () => {
    const fast = await loadTelemetry(small, 'fast-small');
    const exact = await loadTelemetry(small, 'exact-small', { fastPath: false });
    expect(fast.phases.indexOf('keys')).toBeLessThan(fast.phases.indexOf('checking rows'));
    expect(exact.phases.indexOf('checking rows')).toBeLessThan(exact.phases.indexOf('keys'));
    expect(fast.result.files[0]!.rows_quarantined).toBe(small.manifest.bad_rows.filter((b) => b.file === 'telemetry.csv').length);
    await expectSameLoads(fast, exact);
  }, 180_000);

  it('types the date-time cells of the plainly valid lines as the exact staging does (lower-case t and z, a space, offsets, long fractions)', async () => {
    // The first data line of the small file, with other instants: all valid, so all on the fast path's plain lines.
    const [head, first] = readFileSync(join(small.data, 'telemetry.csv'), 'utf8').split('\n') as [string, string];
    const at = head.split(',').indexOf('recorded_at');
    const instants = ['2026-01-05t08:00:00.5z', '2026-01-05 08:00:00+05:30', '2026-01-05T08:00:00-00:00', '2026-01-05T23:59:59.1234567-23:59',
      '2026-01-05T08:00:00.9999995Z', '2026-02-28T00:00:00z', '2026-01-05t08:00:00+01:00', '2026-01-05T08:00:00Z'];
    const lines = instants.map((v, i) => {
      const cells = first.split(',');
      cells[0] = `EV-T${i}`;
      cells[at] = v;
      return cells.join(',');
    });
    const file = join(dir, 'instants.csv');
    writeFileSync(file, `${head}\n${lines.join('\n')}\n`);
    const fast = await loadTelemetry(small, 'instants-fast', { file });
    const exact = await loadTelemetry(small, 'instants-exact', { file, fastPath: false });
    expect(fast.phases.indexOf('keys')).toBeLessThan(fast.phases.indexOf('checking rows'));
    expect(fast.result.files[0]!.rows_inserted).toBe(instants.length);
    await expectSameLoads(fast, exact);
    const db = await openDb(fast.db, { readOnly: true });
    try {
      const got = await db.all<{ at: string }>(`SELECT strftime(recorded_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS at FROM raw_telemetry ORDER BY _source_line`);
      expect(got.map((r) => r.at)).toEqual(['2026-01-05T08:00:00.500000Z', '2026-01-05T02:30:00.000000Z', '2026-01-05T08:00:00.000000Z',
        '2026-01-06T23:58:59.123456Z', '2026-01-05T08:00:00.999999Z', '2026-02-28T00:00:00.000000Z', '2026-01-05T07:00:00.000000Z', '2026-01-05T08:00:00.000000Z']);
    } finally {
      db.close();
    }
  }, 120_000);
});

/** Two loads of the same file (fast and exact) landed the same raw rows, typed values, lineage and quarantine. */
async function expectSameLoads(fast: { db: string; result: LoadResult }, exact: { db: string; result: LoadResult }): Promise<void> {
  const db = await openDb(':memory:');
  try {
    await db.run(`ATTACH '${fast.db}' AS a (READ_ONLY); ATTACH '${exact.db}' AS b (READ_ONLY)`);
    const raw = (x: string): string => `SELECT * EXCLUDE (_load_id) FROM ${x}.raw_telemetry`;
    const q = (x: string): string => `SELECT file, line, "row", dataset, raw, errors, rule FROM ${x}.quarantine`;
    const diff = await db.all<{ raw_ab: number; raw_ba: number; q_ab: number; q_ba: number; n: number }>(`SELECT
      (SELECT count(*) FROM (${raw('a')} EXCEPT ALL ${raw('b')}))::INTEGER AS raw_ab,
      (SELECT count(*) FROM (${raw('b')} EXCEPT ALL ${raw('a')}))::INTEGER AS raw_ba,
      (SELECT count(*) FROM (${q('a')} EXCEPT ALL ${q('b')}))::INTEGER AS q_ab,
      (SELECT count(*) FROM (${q('b')} EXCEPT ALL ${q('a')}))::INTEGER AS q_ba,
      (SELECT count(*) FROM a.raw_telemetry)::INTEGER AS n`);
    expect(diff[0]).toEqual({ raw_ab: 0, raw_ba: 0, q_ab: 0, q_ba: 0, n: fast.result.files[0]!.rows_inserted });
    const counts = (r: LoadResult): number[] => {
      const f = r.files[0]!;
      return [f.rows_read, f.rows_inserted, f.rows_duplicate, f.rows_quarantined];
    };
    expect(counts(fast.result)).toEqual(counts(exact.result));
    expect(fast.result.files[0]!.failures_by_rule).toEqual(exact.result.files[0]!.failures_by_rule);
  } finally {
    db.close();
  }
}
