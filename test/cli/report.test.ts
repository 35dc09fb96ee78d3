// `surgctl report` in-process: format choice (table on a TTY, json piped), colour rules, every text format,
// file formats needing --out, safe overwrites, exit codes and messages.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { openDb } from '../../src/db/db.js';
import { literal } from '../../src/db/sql.js';
import { runCli, runCliWith } from '../helpers/run-cli.js';
import { useFixtureLakehouse } from '../core/report/fixture.js';

const lake = useFixtureLakehouse();

const ESC = '\u001b[';

describe('surgctl report', () => {
  it('prints one JSON array when piped', async () => {
    const r = await runCli('report', 'top-alerts', '--db', lake.db, '--limit', '2');
    expect(r.exitCode).toBe(0);
    const rows = JSON.parse(r.stdout) as { alert_id: string; at: string }[];
    expect(rows.map((x) => x.alert_id)).toEqual(['AL-1', 'AL-3']);
    expect(r.stderr).toBe('');
  });

  it('prints a table fitted to the terminal, coloured by level, on a TTY', async () => {
    const r = await runCliWith({ tty: true, columns: 70, env: {} }, 'report', 'top-alerts', '--db', lake.db);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(ESC);
    expect(r.stdout).toContain(`${ESC}31m`);
    const plain = r.stdout.replace(/\u001b\[[0-9;]*m/g, '');
    expect(plain).toContain('Top alerts');
    expect(plain).toMatch(/alert_id\s+level/);
    for (const line of plain.split('\n')) expect([...line].length).toBeLessThanOrEqual(70);
    expect(plain).toContain('…');
    expect(plain).toMatch(/5 rows/);
  });

  it('honours NO_COLOR and --no-color', async () => {
    const a = await runCliWith({ tty: true, columns: 200, env: { NO_COLOR: '1' } }, 'report', 'top-alerts', '--db', lake.db);
    expect(a.exitCode).toBe(0);
    expect(a.stdout).not.toContain(ESC);
    expect(a.stdout).toContain('latency 612 ms (>500); force 14.2 N = 1.18x needle_driver limit');
    const b = await runCliWith({ tty: true, columns: 200, env: {} }, '--no-color', 'report', 'top-alerts', '--db', lake.db);
    expect(b.exitCode).toBe(0);
    expect(b.stdout).not.toContain(ESC);
  });

  it('writes ndjson, csv, markdown and html', async () => {
    const nd = await runCli('report', 'news2', '--db', lake.db, '--format', 'ndjson');
    expect(nd.exitCode).toBe(0);
    const lines = nd.stdout.trim().split('\n');
    expect(lines).toHaveLength(6);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ patient_id: 'PAT-1', hour_start: '2026-01-05T00:00:00Z', news2_total: 1 });
    const csv = await runCli('report', 'patient-risk', '--db', lake.db, '--format', 'csv');
    expect(csv.stdout.split('\n').slice(0, 2)).toEqual(['patient_id,events,avg_risk,p95_latency_ms,critical_alerts,max_news2', 'PAT-1,5,2.4,596.4,1,8']);
    const md = await runCli('report', 'robot-kpis', '--db', lake.db, '--format', 'markdown');
    expect(md.stdout.split('\n')[1]).toMatch(/^\| --- \| --- \| --- \| ---: \|/);
    expect(md.stdout).toContain('| ROB-1 | da Vinci Xi | FAC-1 | 2 |');
    const html = await runCli('report', 'summary', '--db', lake.db, '--format', 'html');
    expect(html.exitCode).toBe(0);
    expect(html.stdout).toMatch(/^<!doctype html>/);
    expect((html.stdout.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(5);
    expect(html.stdout).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it('search takes its text as arguments', async () => {
    const r = await runCli('report', 'search', 'sutur', '--db', lake.db);
    expect(r.exitCode).toBe(0);
    expect((JSON.parse(r.stdout) as { match: string }[]).map((x) => x.match)).toContain('suturing');
  });

  it('needs --out for parquet and arrow, and writes them with it', async () => {
    const no = await runCli('report', 'top-alerts', '--db', lake.db, '--format', 'parquet');
    expect(no.exitCode).toBe(2);
    expect(no.stderr).toContain('--format parquet writes a binary file and needs --out PATH');
    expect(no.stdout).toBe('');
    const pq = join(lake.dir, 'top.parquet');
    const w = await runCli('report', 'top-alerts', '--db', lake.db, '--out', pq);
    expect(w.exitCode).toBe(0);
    expect(w.stderr).toContain(`5 rows to ${pq} (parquet)`);
    const mem = await openDb(':memory:');
    try {
      expect(await mem.scalar<number>(`SELECT count(*)::INTEGER FROM read_parquet(${literal(pq)})`)).toBe(5);
      expect(await mem.scalar<string>(`SELECT decode(value) FROM parquet_kv_metadata(${literal(pq)}) WHERE decode(key) = 'surgctl_report'`)).toBe('top-alerts');
    } finally {
      mem.close();
    }
    const arrow = join(lake.dir, 'top.arrow');
    const a = await runCli('report', 'top-alerts', '--db', lake.db, '--format', 'arrow', '--out', arrow);
    expect(a.exitCode).toBe(0);
    expect(tableFromIPC(readFileSync(arrow)).numRows).toBe(5);
  });

  it('refuses to overwrite --out without --force (exit 2), replaces it with --force', async () => {
    const out = join(lake.dir, 'mine.json');
    writeFileSync(out, 'keep');
    const r = await runCli('report', 'outcomes', '--db', lake.db, '--out', out);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`${out} already exists`);
    expect(r.stderr).toContain('--force');
    expect(readFileSync(out, 'utf8')).toBe('keep');
    const f = await runCli('report', 'outcomes', '--db', lake.db, '--out', out, '--force');
    expect(f.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toHaveLength(2);
  });

  it('treats a hostile filter as a value and leaves every table intact', async () => {
    const r = await runCli('report', 'top-alerts', '--db', lake.db, '--patient', "x'; DROP TABLE loads; --");
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
    const check = await runCli('query', 'SELECT count(*) AS n FROM loads', '--db', lake.db);
    expect(JSON.parse(check.stdout)).toEqual([{ n: 3 }]);
  });

  it('a missing lakehouse is exit 2 naming the path and what to run', async () => {
    const missing = join(lake.dir, 'nowhere.duckdb');
    const r = await runCli('report', 'summary', '--db', missing);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`no lakehouse at ${missing}`);
    expect(r.stderr).toMatch(/hint: .*pipeline.*transform/);
    expect(existsSync(missing)).toBe(false);
  });

  it('usage errors exit 2; with --format json the error is one JSON line on stderr', async () => {
    const bad = await runCli('report', 'top-alerts', '--db', lake.db, '--min-level', 'severe');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--min-level "severe" is not a risk level');
    const unknown = await runCli('report', 'nope', '--db', lake.db, '--format', 'json');
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(JSON.parse(unknown.stderr)).toMatchObject({ error: 'usage', message: 'unknown report "nope"' });
    const timeline = await runCli('report', 'timeline', '--db', lake.db);
    expect(timeline.exitCode).toBe(2);
    expect(timeline.stderr).toContain('--patient ID or --procedure ID');
  });

  it('gives the row-heavy reports 1000 rows unless told, says so on stderr, and --all gives every row', async () => {
    // A lakehouse whose vitals_hourly has 1,200 rows: more than the default limit of vitals-hourly.
    const db = join(lake.dir, 'many-hours.duckdb');
    const w = await openDb(db);
    try {
      await w.run(`CREATE TABLE vitals_hourly AS SELECT 'PT-' || (i // 100) AS patient_id, 'heart_rate' AS metric,
        TIMESTAMPTZ '2026-01-05 00:00:00+00' + to_hours(i % 100) AS hour_start, 4::BIGINT AS n, 60.0::DOUBLE AS min, 80.0::DOUBLE AS max,
        70.0::DOUBLE AS avg, 79.0::DOUBLE AS p95, 0::BIGINT AS alarming_n FROM range(1200) r(i)`);
    } finally {
      w.close();
    }
    const dflt = await runCli('report', 'vitals-hourly', '--db', db);
    expect(dflt.exitCode).toBe(0);
    const rows = JSON.parse(dflt.stdout) as { patient_id: string; hour_start: string }[];
    expect(rows).toHaveLength(1000);
    expect(rows[0]).toMatchObject({ patient_id: 'PT-0', hour_start: '2026-01-05T00:00:00Z' });
    expect(dflt.stderr).toContain('report vitals-hourly: the first 1000 rows (its default limit); --limit N or --all for more');
    const all = await runCli('report', 'vitals-hourly', '--db', db, '--all');
    expect(all.exitCode).toBe(0);
    expect(JSON.parse(all.stdout)).toHaveLength(1200);
    expect(all.stderr).toBe('');
    const some = await runCli('report', 'vitals-hourly', '--db', db, '--limit', '1100');
    expect(JSON.parse(some.stdout)).toHaveLength(1100);
    expect(some.stderr).toBe('');
    const both = await runCli('report', 'vitals-hourly', '--db', db, '--limit', '5', '--all');
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain('--limit and --all cannot be given together');
  });
});
