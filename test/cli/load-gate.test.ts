// `load --max-invalid`: the gate is checked after the load committed (the data stays loaded and quarantined), per
// file, default 2% as in pipeline; and load shows progress on a terminal, nothing on a pipe, and a summary line.
import { describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../src/db/db.js';
import { runCliWith, scratchDirs } from '../helpers/run-cli.js';

const dir = scratchDirs();

const TEL_HEADER = 'event_id,procedure_id,patient_id,robot_id,robot_arm,instrument,step,force_n,velocity_mm_s,latency_ms,error_code,recorded_at';
const tel = (n: number, bad = false): string =>
  [`EV-${n}`, 'PR-1', 'PA-1', 'RB-1', bad ? 'arm_9' : 'arm_1', 'needle_driver', 'suturing', '3.5', '20', '120', '', '2025-03-01T10:00:00Z'].join(',');
/** A telemetry CSV of `rows` rows, the first `bad` of them with a bad enum. */
const telemetry = (rows: number, bad: number, from = 0): string =>
  [TEL_HEADER, ...Array.from({ length: rows }, (_, i) => tel(from + i, i < bad)), ''].join('\n');

async function ledger(db: string): Promise<{ status: string; rows_read: number; rows_inserted: number; rows_quarantined: number }[]> {
  const h = await openDb(db, { readOnly: true });
  try {
    return await h.all('SELECT status, rows_read::INTEGER AS rows_read, rows_inserted::INTEGER AS rows_inserted, rows_quarantined::INTEGER AS rows_quarantined FROM loads ORDER BY path');
  } finally {
    h.close();
  }
}

describe('surgctl load --max-invalid', () => {
  it('exits 1 when every row is quarantined (default 2%), after committing: the ledger and the quarantine keep them', async () => {
    const d = dir();
    writeFileSync(join(d, 'telemetry.csv'), telemetry(3, 3));
    const r = await runCliWith({ cwd: d }, 'load', 'telemetry.csv', '--db', 'lake.duckdb', '--allow-orphans');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('surgctl: load gate failed, more than --max-invalid 2%: telemetry.csv: 3 of 3 rows quarantined (100.00%)');
    expect(r.stderr).toContain('The load is committed');
    expect(r.stderr).toMatch(/^hint: .*quarantine/m);
    expect(JSON.parse(r.stdout)).toMatchObject({ files: [{ status: 'succeeded', rows_read: 3, rows_quarantined: 3 }] });
    expect(await ledger(join(d, 'lake.duckdb'))).toEqual([{ status: 'succeeded', rows_read: 3, rows_inserted: 0, rows_quarantined: 3 }]);
  });

  it('checks each file against the limit: 1 bad row of 60 passes the default 2%, fails --max-invalid 0 and --max-invalid 1%', async () => {
    const d = dir();
    writeFileSync(join(d, 'telemetry.csv'), telemetry(60, 1));
    const ok = await runCliWith({ cwd: d }, 'load', 'telemetry.csv', '--db', 'a.duckdb', '--allow-orphans');
    expect(ok.exitCode, ok.stderr).toBe(0);
    for (const limit of ['0', '1%']) {
      const r = await runCliWith({ cwd: d }, 'load', 'telemetry.csv', '--db', `b${limit.replace('%', 'p')}.duckdb`, '--allow-orphans', '--max-invalid', limit);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(`more than --max-invalid ${limit}: telemetry.csv: 1 of 60 rows quarantined (1.67%)`);
    }
    const rows = await runCliWith({ cwd: d }, 'load', 'telemetry.csv', '--db', 'c.duckdb', '--allow-orphans', '--max-invalid', '1');
    expect(rows.exitCode).toBe(0);
  });

  it('is per file: a clean file does not dilute a bad one', async () => {
    const d = dir();
    writeFileSync(join(d, 'telemetry-a.csv'), telemetry(100, 0));
    writeFileSync(join(d, 'telemetry-b.csv'), telemetry(10, 1, 1000));
    const r = await runCliWith({ cwd: d }, 'load', 'telemetry-a.csv', 'telemetry-b.csv', '--dataset', 'telemetry', '--db', 'lake.duckdb', '--allow-orphans');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('telemetry-b.csv: 1 of 10 rows quarantined (10.00%)');
    expect(r.stderr).not.toContain('telemetry-a.csv: 0 of');
  });

  it('counts the batches of a stdin stream together, as one input named -', async () => {
    const d = dir();
    // Batches of 10 rows: the first batch is 2 of 10 bad (20%), the stream as a whole 2 of 20 (10%).
    const r = await runCliWith({ cwd: d, stdin: telemetry(20, 2) }, 'load', '-', '--dataset', 'telemetry', '--format', 'csv', '--batch-rows', '10', '--db', 'lake.duckdb', '--allow-orphans', '--max-invalid', '12%');
    expect(r.exitCode, r.stderr).toBe(0);
    const over = await runCliWith({ cwd: d, stdin: telemetry(20, 2, 100) }, 'load', '-', '--dataset', 'telemetry', '--format', 'csv', '--batch-rows', '10', '--db', 'lake.duckdb', '--allow-orphans', '--max-invalid', '8%');
    expect(over.exitCode).toBe(1);
    expect(over.stderr).toContain('more than --max-invalid 8%: -: 2 of 20 rows quarantined (10.00%)');
  });

  it('refuses a malformed --max-invalid with exit 2 before opening the lakehouse', async () => {
    const d = dir();
    writeFileSync(join(d, 'telemetry.csv'), telemetry(2, 0));
    const r = await runCliWith({ cwd: d }, 'load', 'telemetry.csv', '--db', 'lake.duckdb', '--max-invalid', 'lots');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--max-invalid must be a row count or a percentage');
    expect(existsSync(join(d, 'lake.duckdb'))).toBe(false);
  });
});

describe('surgctl load progress', () => {
  it('draws progress on a terminal (stderr a TTY), with the per-file lines and a final summary line', async () => {
    const d = dir();
    writeFileSync(join(d, 'telemetry.csv'), telemetry(50, 0));
    const r = await runCliWith({ cwd: d, tty: true, stderrTty: true }, 'load', 'telemetry.csv', '--db', 'lake.duckdb', '--allow-orphans');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\d+% \| /);
    expect(r.stderr).toContain('telemetry.csv: ');
    expect(r.stderr).toContain('loaded telemetry.csv: 50 read, 50 inserted, 0 duplicate');
    expect(r.stderr).toMatch(/load: 1 file\(s\), 50 read, 50 inserted, 0 duplicate, 0 quarantined in \d+\.\d s/);
  });

  it('draws nothing when stderr is not a TTY, and still prints the lines and the summary', async () => {
    const d = dir();
    writeFileSync(join(d, 'telemetry.csv'), telemetry(50, 0));
    const r = await runCliWith({ cwd: d, tty: true, stderrTty: false }, 'load', 'telemetry.csv', '--db', 'lake.duckdb', '--allow-orphans');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/%|\x1b/);
    expect(r.stderr.trim().split('\n')).toEqual([
      'loaded telemetry.csv: 50 read, 50 inserted, 0 duplicate',
      expect.stringMatching(/^load: 1 file\(s\), 50 read, 50 inserted, 0 duplicate, 0 quarantined in \d+\.\d s$/),
    ]);
  });

  it('draws nothing with --quiet on a terminal', async () => {
    const d = dir();
    writeFileSync(join(d, 'telemetry.csv'), telemetry(5, 0));
    const r = await runCliWith({ cwd: d, tty: true, stderrTty: true }, 'load', 'telemetry.csv', '--db', 'lake.duckdb', '--allow-orphans', '--quiet');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });
});
