// Load guarantees on real DuckDB files: idempotency, the ledger's accounting, orphans, replay, bad input.
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../../src/db/db.js';
import { loadFiles } from '../../../src/core/load/load.js';
import { replayQuarantine } from '../../../src/core/load/quarantine.js';
import { runCliWith, scratchDirs } from '../../helpers/run-cli.js';
import { assertExposition } from '../../helpers/prometheus.js';
import { telemetryCsv, telemetryRow, TELEMETRY_HEADER, writeSmallDataset } from '../../helpers/small-dataset.js';
import { lakeAt } from '../../helpers/lake.js';

const tmp = scratchDirs();

async function query<T = Record<string, unknown>>(dbPath: string, sql: string): Promise<T[]> {
  const db = await openDb(dbPath, { readOnly: true });
  try {
    return await db.all<T & Record<string, unknown>>(sql);
  } finally {
    db.close();
  }
}

function balanced(f: { rows_read: number; rows_inserted: number; rows_duplicate: number; rows_quarantined: number }): void {
  expect(f.rows_read).toBe(f.rows_inserted + f.rows_duplicate + f.rows_quarantined);
}

describe('load', () => {
  it('loads a dataset in dependency order, then skips identical content, then counts duplicates with --force', async () => {
    const dir = tmp();
    const files = writeSmallDataset(dir, 30);
    const dbPath = join(dir, 'lake.duckdb');
    // telemetry listed first: the loader must still load robots, patients and procedures before it.
    const first = await loadFiles({ inputs: [files.telemetry, files.procedures, files.patients, files.robots], cwd: dir }, { lake: lakeAt(dbPath) });
    expect(first.files.map((f) => f.dataset)).toEqual(['patients', 'robots', 'procedures', 'telemetry']);
    const tel = first.files[3]!;
    expect(tel).toMatchObject({ status: 'succeeded', rows_read: 30, rows_inserted: 30, rows_duplicate: 0, rows_quarantined: 0 });

    const again = await loadFiles({ inputs: [files.telemetry], cwd: dir }, { lake: lakeAt(dbPath) });
    expect(again.files[0]).toMatchObject({ status: 'skipped', rows_inserted: 0 });

    const forced = await loadFiles({ inputs: [files.telemetry], cwd: dir, force: true }, { lake: lakeAt(dbPath) });
    expect(forced.files[0]).toMatchObject({ status: 'succeeded', rows_read: 30, rows_inserted: 0, rows_duplicate: 30 });

    const overlap = join(dir, 'telemetry-2.csv');
    writeFileSync(overlap, telemetryCsv(20, 45));
    const o = await loadFiles({ inputs: [overlap], cwd: dir }, { lake: lakeAt(dbPath) });
    expect(o.files[0]).toMatchObject({ rows_read: 25, rows_inserted: 15, rows_duplicate: 10 });

    const [count] = await query<{ n: number }>(dbPath, 'SELECT count(*)::INTEGER AS n FROM raw_telemetry');
    expect(count!.n).toBe(45);
    const ledger = await query<{ status: string; rows_read: number; rows_inserted: number; rows_duplicate: number; rows_quarantined: number }>(
      dbPath,
      "SELECT status, rows_read::INTEGER AS rows_read, rows_inserted::INTEGER AS rows_inserted, rows_duplicate::INTEGER AS rows_duplicate, rows_quarantined::INTEGER AS rows_quarantined FROM loads WHERE status = 'succeeded'",
    );
    expect(ledger.length).toBe(6);
    ledger.forEach(balanced);
    const lineage = await query<{ f: string; l: number }>(dbPath, "SELECT _source_file AS f, _source_line::INTEGER AS l FROM raw_telemetry WHERE event_id = 'EV-000000'");
    expect(lineage[0]).toEqual({ f: files.telemetry, l: 2 });
  });

  it('quarantines bad rows and orphans with reasons, in the file and the table, and the counts balance', async () => {
    const dir = tmp();
    const files = writeSmallDataset(dir, 10);
    writeFileSync(
      files.telemetry,
      telemetryCsv(0, 10, [
        telemetryRow(100, { force_n: 'heavy' }),
        telemetryRow(101, { procedure_id: 'PR-404' }),
        telemetryRow(102, { latency_ms: '-5' }),
      ]),
    );
    const dbPath = join(dir, 'lake.duckdb');
    const r = await loadFiles({ inputs: [dir], cwd: dir, quarantineDir: join(dir, 'q') }, { lake: lakeAt(dbPath) });
    const tel = r.files.find((f) => f.dataset === 'telemetry')!;
    expect(tel).toMatchObject({ rows_read: 13, rows_inserted: 10, rows_quarantined: 3 });
    balanced(tel);
    const lines = readFileSync(tel.quarantine_path!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; errors: { keyword: string; field: string }[] });
    expect(lines.map((l) => l.line)).toEqual([12, 13, 14]);
    expect(lines[0]!.errors[0]).toMatchObject({ field: 'force_n', keyword: 'type' });
    expect(lines[1]!.errors[0]).toMatchObject({ field: 'procedure_id', keyword: 'orphan_foreign_key' });
    expect(lines[2]!.errors[0]).toMatchObject({ field: 'latency_ms', keyword: 'minimum' });
    const q = await query<{ rule: string; line: number }>(dbPath, 'SELECT rule, line::INTEGER AS line FROM quarantine ORDER BY line');
    expect(q).toEqual([
      { rule: 'type', line: 12 },
      { rule: 'orphan_foreign_key', line: 13 },
      { rule: 'minimum', line: 14 },
    ]);
  });

  it('--allow-orphans keeps rows whose foreign keys do not resolve', async () => {
    const dir = tmp();
    const path = join(dir, 'telemetry.csv');
    writeFileSync(path, telemetryCsv(0, 5));
    const dbPath = join(dir, 'lake.duckdb');
    const strict = await loadFiles({ inputs: [path], cwd: dir }, { lake: lakeAt(dbPath) });
    expect(strict.files[0]).toMatchObject({ rows_inserted: 0, rows_quarantined: 5 });
    const lax = await loadFiles({ inputs: [path], cwd: dir, allowOrphans: true, force: true }, { lake: lakeAt(dbPath) });
    expect(lax.files[0]).toMatchObject({ rows_inserted: 5, rows_quarantined: 0 });
  });

  it('replays quarantined orphans once their reference data has arrived', async () => {
    const dir = tmp();
    const files = writeSmallDataset(dir, 8);
    const dbPath = join(dir, 'lake.duckdb');
    await loadFiles({ inputs: [files.robots, files.patients], cwd: dir }, { lake: lakeAt(dbPath) });
    const early = await loadFiles({ inputs: [files.telemetry], cwd: dir }, { lake: lakeAt(dbPath) });
    expect(early.files[0]!.rows_quarantined).toBe(8); // procedures not loaded yet
    await loadFiles({ inputs: [files.procedures], cwd: dir }, { lake: lakeAt(dbPath) });
    const replay = await replayQuarantine({ loadId: early.files[0]!.load_id, cwd: dir }, { lake: lakeAt(dbPath) });
    expect(replay.candidates).toBe(8);
    expect(replay.result).toMatchObject({ rows_inserted: 8, rows_quarantined: 0 });
    const rows = await query<{ f: string; l: number }>(dbPath, "SELECT _source_file AS f, _source_line::INTEGER AS l FROM raw_telemetry ORDER BY l LIMIT 1");
    expect(rows[0]).toEqual({ f: files.telemetry, l: 2 });
    const open = await query<{ n: number }>(dbPath, 'SELECT count(*)::INTEGER AS n FROM quarantine WHERE replayed_by IS NULL');
    expect(open[0]!.n).toBe(0);
    const again = await replayQuarantine({ loadId: early.files[0]!.load_id, cwd: dir }, { lake: lakeAt(dbPath) });
    expect(again.candidates).toBe(0);
  });
});

describe('load command', () => {
  it('prints per-file JSON results and the ledger', async () => {
    const dir = tmp();
    writeSmallDataset(dir, 5);
    const r = await runCliWith({ cwd: dir, env: {} }, 'load', '.', '--db', 'lake.duckdb', '--format', 'json', '--metrics-file', 'load.prom');
    expect(r.exitCode, r.stderr).toBe(0);
    const prom = readFileSync(join(dir, 'load.prom'), 'utf8');
    assertExposition(prom);
    expect(prom).toContain('surgctl_rows_inserted_total{dataset="telemetry"} 5');
    const out = JSON.parse(r.stdout) as { files: { dataset: string; rows_inserted: number }[]; totals: { rows_read: number } };
    expect(out.files).toHaveLength(4);
    expect(out.totals.rows_read).toBe(2 + 2 + 2 + 5);
    const ledger = await runCliWith({ cwd: dir, env: {} }, 'loads', '--db', 'lake.duckdb', '--format', 'json');
    expect(ledger.exitCode).toBe(0);
    expect((JSON.parse(ledger.stdout) as unknown[]).length).toBe(4);
    const list = await runCliWith({ cwd: dir, env: {} }, 'load', '--list', '--db', 'lake.duckdb', '--format', 'table');
    expect(list.stdout).toContain('telemetry');
  });

  it('streams NDJSON from stdin in idempotent batches', async () => {
    const dir = tmp();
    const files = writeSmallDataset(dir, 0);
    await loadFiles({ inputs: [files.robots, files.patients, files.procedures], cwd: dir }, { lake: lakeAt(join(dir, 'lake.duckdb')) });
    const header = TELEMETRY_HEADER.split(',');
    const lines = Array.from({ length: 25 }, (_, i) => {
      const vals = telemetryRow(i).split(',');
      const o: Record<string, unknown> = {};
      header.forEach((h, j) => {
        const v = vals[j] ?? '';
        o[h] = ['force_n', 'velocity_mm_s', 'latency_ms'].includes(h) ? Number(v) : v;
      });
      return JSON.stringify(o);
    });
    const stdin = [...lines, ...lines.slice(0, 5)].join('\n') + '\n';
    const r = await runCliWith({ cwd: dir, env: {}, stdin }, 'load', '--dataset', 'telemetry', '--format', 'ndjson', '--batch-rows', '10', '--db', 'lake.duckdb', '-');
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { files: { path: string }[]; totals: Record<string, number> };
    expect(out.files.map((f) => f.path)).toEqual(['stdin#1', 'stdin#2', 'stdin#3']);
    expect(out.totals).toEqual({ rows_read: 30, rows_inserted: 25, rows_duplicate: 5, rows_quarantined: 0 });
  });

  it('names the dataset choices when a file name says nothing', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'data.csv'), 'a,b\n1,2\n');
    const r = await runCliWith({ cwd: dir, env: {} }, 'load', 'data.csv', '--db', 'lake.duckdb');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('data.csv');
    expect(r.stderr).toContain('--dataset');
  });

  it('bad inputs: missing file, database in a missing directory, a non-DuckDB database', async () => {
    const dir = tmp();
    writeSmallDataset(dir, 2);
    const missing = await runCliWith({ cwd: dir, env: {} }, 'load', 'nope.csv', '--db', 'lake.duckdb');
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('nope.csv');
    const noDir = await runCliWith({ cwd: dir, env: {} }, 'load', 'robots.csv', '--db', 'no/such/dir/lake.duckdb');
    // A path the user gave that does not exist is a usage error (exit 2), as for a missing input file.
    expect(noDir.exitCode).toBe(2);
    expect(noDir.stderr).toContain('no/such/dir/lake.duckdb');
    expect(noDir.stderr).toContain('hint: create it first');
    writeFileSync(join(dir, 'fake.duckdb'), 'not a database at all\n'.repeat(200));
    const fake = await runCliWith({ cwd: dir, env: {} }, 'load', 'robots.csv', '--db', 'fake.duckdb');
    expect(fake.exitCode).toBe(3);
    expect(fake.stderr).toContain('fake.duckdb');
    expect(fake.stderr).not.toMatch(/^\s+at /m);
  });

  it('a file of the wrong dataset is refused with the missing columns named and nothing inserted', async () => {
    const dir = tmp();
    const files = writeSmallDataset(dir, 3);
    mkdirSync(join(dir, 'x'));
    const r = await runCliWith({ cwd: dir, env: {} }, 'load', files.patients, '--dataset', 'robots', '--db', 'lake.duckdb', '--format', 'json');
    expect(r.stderr + r.stdout).toContain('serial');
    const rows = await query<{ n: number }>(join(dir, 'lake.duckdb'), 'SELECT count(*)::INTEGER AS n FROM raw_robots');
    expect(rows[0]!.n).toBe(0);
  });
});
