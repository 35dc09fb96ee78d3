// `surgctl query`: read-only ad hoc SQL. Every write path is refused with exit 2 before anything runs, and the
// lakehouse is unchanged afterwards.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { openDb } from '../../src/db/db.js';
import { literal } from '../../src/db/sql.js';
import { runCli, runCliWith } from '../helpers/run-cli.js';
import { useFixtureLakehouse } from '../core/report/fixture.js';

const lake = useFixtureLakehouse();

async function tableCounts(): Promise<Record<string, number>> {
  const h = await openDb(lake.db, { readOnly: true });
  try {
    const rows = await h.all<{ t: string; n: number }>(
      "SELECT 'loads' AS t, count(*)::INTEGER AS n FROM loads UNION ALL SELECT 'alerts', count(*)::INTEGER FROM alerts ORDER BY 1",
    );
    const tables = await h.scalar<number>("SELECT count(*)::INTEGER FROM information_schema.tables WHERE table_schema = 'main'");
    return { ...Object.fromEntries(rows.map((r) => [r.t, r.n])), tables: tables ?? -1 };
  } finally {
    h.close();
  }
}

describe('surgctl query', () => {
  it('runs a SELECT and prints JSON-safe rows (ISO instants, numbers, lists)', async () => {
    const r = await runCli('query', "SELECT alert_id, \"at\", risk_score, triggers, count(*) OVER () AS n FROM alerts WHERE alert_id = 'AL-1'", '--db', lake.db);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ alert_id: 'AL-1', at: '2026-01-05T01:00:01Z', risk_score: 8, triggers: ['latency', 'force', 'force_spike'], n: 1 }]);
  });

  it('returns a value that begins with U+FEFF whole, in JSON, NDJSON and CSV (node-api would drop it as a BOM)', async () => {
    const sql = "SELECT chr(65279) || 'x' AS v, '\uFEFF' AS bare, 'a' || chr(65279) AS w, [chr(65279) || 'l'] AS list, {'k': chr(65279) || 's'} AS st";
    const want = { v: '\uFEFFx', bare: '\uFEFF', w: 'a\uFEFF', list: ['\uFEFFl'], st: { k: '\uFEFFs' } };
    const json = await runCli('query', sql, '--db', lake.db, '--format', 'json');
    expect(json.exitCode, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([want]);
    const ndjson = await runCli('query', sql, '--db', lake.db, '--format', 'ndjson');
    expect(ndjson.exitCode, ndjson.stderr).toBe(0);
    expect(JSON.parse(ndjson.stdout)).toEqual(want);
    const csv = await runCli('query', 'SELECT chr(65279) || \'x\' AS v, 1 AS n', '--db', lake.db, '--format', 'csv');
    expect(csv.exitCode, csv.stderr).toBe(0);
    // Quoted, as a cell that begins with white space is (a U+FEFF is white space to JavaScript's \s).
    expect(csv.stdout).toBe('v,n\n"\uFEFFx",1\n');
  });

  it('renders a table of 200,000 rows to a pipe (no call-stack overflow while fitting widths)', async () => {
    const r = await runCli('query', 'SELECT range AS n FROM range(200000)', '--db', lake.db, '--format', 'table');
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    // Title, header, rule, the rows, and a count line.
    expect(lines).toHaveLength(200_004);
    expect(lines.at(-2)?.trim()).toBe('199,999');
  });

  it('accepts a trailing semicolon and comment, and SQL on stdin', async () => {
    const a = await runCli('query', 'SELECT 1 AS a; -- done', '--db', lake.db);
    expect(a.exitCode).toBe(0);
    expect(JSON.parse(a.stdout)).toEqual([{ a: 1 }]);
    const b = await runCliWith({ stdin: 'SELECT level, count(*) AS n FROM alerts GROUP BY ALL ORDER BY n DESC, level;\n' }, 'query', '-', '--db', lake.db);
    expect(b.exitCode).toBe(0);
    expect(JSON.parse(b.stdout)[0]).toEqual({ level: 'medium', n: 3 });
  });

  it('writes the same formats as report, parquet and arrow to --out', async () => {
    const csv = await runCli('query', 'SELECT patient_id, max_news2 FROM patient_risk ORDER BY 1', '--db', lake.db, '--format', 'csv');
    expect(csv.stdout).toBe('patient_id,max_news2\nPAT-1,8\nPAT-2,4\n');
    const table = await runCliWith({ tty: true, columns: 80 }, 'query', 'SELECT patient_id, max_news2 FROM patient_risk ORDER BY 1', '--db', lake.db);
    expect(table.stdout).toMatch(/patient_id\s+max_news2/);
    const pq = join(lake.dir, 'q.parquet');
    const p = await runCli('query', 'SELECT * FROM telemetry_risk;', '--db', lake.db, '--out', pq);
    expect(p.exitCode).toBe(0);
    const mem = await openDb(':memory:');
    try {
      expect(await mem.scalar<number>(`SELECT count(*)::INTEGER FROM read_parquet(${literal(pq)})`)).toBe(7);
    } finally {
      mem.close();
    }
    const arrow = join(lake.dir, 'q.arrow');
    expect((await runCli('query', 'SELECT * FROM alerts', '--db', lake.db, '--out', arrow)).exitCode).toBe(0);
    expect(tableFromIPC(readFileSync(arrow)).numRows).toBe(5);
  });

  it.each([
    ['INSERT', "INSERT INTO loads (load_id) VALUES ('L-999')", /read-only: INSERT statements are refused/],
    ['DELETE', 'DELETE FROM alerts', /read-only: DELETE statements are refused/],
    ['DROP', 'DROP TABLE loads', /read-only: DROP statements are refused/],
    ['CREATE', 'CREATE TABLE x AS SELECT 1', /read-only: CREATE statements are refused/],
    ['COPY TO', `COPY alerts TO '${join('OUTDIR', 'stolen.csv')}'`, /read-only: COPY statements are refused/],
    ['ATTACH', `ATTACH '${join('OUTDIR', 'other.duckdb')}' AS other`, /read-only: ATTACH statements are refused/],
    ['stacked', 'SELECT 1; DROP TABLE loads', /exactly one statement; found 2/],
    ['stacked after comment', "SELECT 'a;b' AS s; /* x */ DELETE FROM alerts", /exactly one statement; found 2/],
    ['SET', "SET threads = 1", /read-only: SET statements are refused/],
    ['CHECKPOINT', 'CHECKPOINT', /read-only: CHECKPOINT statements are refused/],
    ['EXPORT', "EXPORT DATABASE 'OUTDIR/dump'", /read-only: EXPORT statements are refused/],
  ])('refuses %s with exit 2 and changes nothing', async (_name, sql, message) => {
    const before = await tableCounts();
    const r = await runCli('query', sql.replaceAll('OUTDIR', lake.dir), '--db', lake.db);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('hint:');
    expect(r.stdout).toBe('');
    expect(await tableCounts()).toEqual(before);
    expect(existsSync(join(lake.dir, 'stolen.csv'))).toBe(false);
    expect(existsSync(join(lake.dir, 'other.duckdb'))).toBe(false);
  });

  it('reports SQL that does not parse as a usage error', async () => {
    const r = await runCli('query', 'SELEC 1', '--db', lake.db);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/query does not parse: Parser Error: syntax error at or near "SELEC"/);
  });

  it('a failing SELECT is a runtime error with the SQL under --debug', async () => {
    const r = await runCli('query', 'SELECT 1 / 0 AS x, CAST(\'abc\' AS INTEGER) AS y', '--db', lake.db, '--debug');
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/Conversion Error/);
    expect(r.stderr).toContain("sql: SELECT 1 / 0 AS x, CAST('abc' AS INTEGER) AS y");
  });
});

describe('surgctl query on a terminal', () => {
  it('shows the first 200 rows of a large result and says more were left out', async () => {
    const r = await runCliWith({ tty: true, columns: 100 }, 'query', 'SELECT range AS i FROM range(100000)', '--db', lake.db);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1 + 2 + 200 + 1);
    expect(r.stdout).toContain('first 200 rows shown; more not shown');
  });
});
