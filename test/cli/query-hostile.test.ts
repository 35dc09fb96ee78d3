// `surgctl query` against hostile SQL: every statement that could write, install, load, attach, change a setting or
// read a file outside the lakehouse is refused with exit 2, and afterwards the lakehouse file, a sentinel file and
// the directory around them are byte-for-byte what they were. One lakehouse, made once; one process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { explainedStatement } from '../../src/core/query/index.js';
import { openDb } from '../../src/db/db.js';
import { runCli, tempDir } from '../helpers/run-cli.js';

let tmp: { dir: string; cleanup: () => void };
let lake: string;
let sentinel: string;
let allowed: string;

beforeAll(async () => {
  tmp = tempDir('surgctl-hostile-');
  lake = join(tmp.dir, 'lake.duckdb');
  sentinel = join(tmp.dir, 'sentinel.csv');
  allowed = join(tmp.dir, 'allowed');
  mkdirSync(allowed);
  writeFileSync(sentinel, 'secret\nsentinel-do-not-touch\n');
  writeFileSync(join(allowed, 'beside.csv'), 'patient_id,note\nPAT-1,ok\n');
  const db = await openDb(lake);
  try {
    await db.run(`CREATE TABLE alerts AS SELECT 'AL-' || i AS alert_id, CASE WHEN i % 2 = 0 THEN 'high' ELSE 'medium' END AS level,
                    i::INTEGER AS risk_score FROM range(1, 6) t(i)`);
    await db.run("CREATE TABLE loads AS SELECT 'L-1' AS load_id, 'telemetry.csv' AS path, 'succeeded' AS status, TIMESTAMPTZ '2026-01-05 00:00:00+00' AS started_at");
    await db.run("CREATE TABLE quarantine AS SELECT 'L-1' AS load_id, 7::BIGINT AS line, '{}' AS raw");
    await db.run("CREATE VIEW high_alerts AS SELECT * FROM alerts WHERE level = 'high'");
    await db.run('CHECKPOINT');
  } finally {
    db.close();
  }
});

afterAll(() => tmp.cleanup());

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The lakehouse's and the sentinel's hashes and every path under the temp dir. */
function snapshot(): { lake: string; sentinel: string; files: string[] } {
  return { lake: sha256(lake), sentinel: sha256(sentinel), files: (readdirSync(tmp.dir, { recursive: true }) as string[]).sort() };
}

const fill = (sql: string): string =>
  sql.replaceAll('LAKE', lake).replaceAll('SENTINEL', sentinel).replaceAll('ALLOWED', allowed).replaceAll('TMPDIR', tmp.dir);

// [name, sql, --allow-read the ALLOWED dir?]. LAKE, SENTINEL, ALLOWED and TMPDIR are replaced by real paths.
const HOSTILE: [string, string, boolean?][] = [
  // Writes to the lakehouse's own tables
  ['INSERT', "INSERT INTO alerts VALUES ('AL-9', 'critical', 9)"],
  ['INSERT from a file', "INSERT INTO loads SELECT * FROM read_csv('SENTINEL')"],
  ['UPDATE', "UPDATE alerts SET level = 'none'"],
  ['DELETE', 'DELETE FROM loads'],
  ['DROP TABLE', 'DROP TABLE quarantine'],
  ['DROP VIEW', 'DROP VIEW high_alerts'],
  ['CREATE TABLE AS', 'CREATE TABLE stolen AS SELECT * FROM alerts'],
  ['CREATE OR REPLACE', 'CREATE OR REPLACE TABLE alerts AS SELECT 1 AS x'],
  ['CREATE TEMP TABLE', 'CREATE TEMP TABLE t AS SELECT 1'],
  ['CREATE MACRO', 'CREATE MACRO m() AS 1'],
  ['CREATE SECRET', "CREATE SECRET s (TYPE s3, KEY_ID 'k', SECRET 'v')"],
  ['ALTER TABLE', 'ALTER TABLE alerts ADD COLUMN z INTEGER'],
  ['CTE then INSERT', "WITH x AS (SELECT 'L-2') INSERT INTO loads (load_id) SELECT * FROM x"],
  // COPY and EXPLAIN wrappers around it
  ['COPY TO the sentinel', "COPY alerts TO 'SENTINEL'"],
  ['COPY TO the lakehouse', "COPY (SELECT 1) TO 'LAKE'"],
  ['COPY FROM', "COPY loads FROM 'SENTINEL'"],
  ['COPY FROM DATABASE', 'COPY FROM DATABASE lake TO memory'],
  ['EXPLAIN ANALYZE COPY TO the lakehouse', "EXPLAIN ANALYZE COPY (SELECT 1) TO 'LAKE'"],
  ['EXPLAIN ANALYZE COPY TO the sentinel', "EXPLAIN ANALYZE COPY (SELECT 'x') TO 'SENTINEL' (FORMAT csv)"],
  ['EXPLAIN COPY', "EXPLAIN COPY (SELECT 1) TO 'SENTINEL'"],
  ['EXPLAIN (FORMAT json) ANALYZE-free COPY', "EXPLAIN (FORMAT json) COPY (SELECT 1) TO 'TMPDIR/x.json'"],
  ['explain /* */ analyze, lower case, comments', "explain /* a */ analyze -- b\n copy (select 1) to 'TMPDIR/y.csv'"],
  ['EXPLAIN with a ) inside a quoted option', "EXPLAIN (FORMAT ')SELECT 1 --') COPY (SELECT 1) TO 'ALLOWED/z.csv'", true],
  ['EXPLAIN (ANALYZE) COPY', "EXPLAIN (ANALYZE) COPY (SELECT 1) TO 'ALLOWED/z.csv'", true],
  ['EXPLAIN ANALYZE SET', 'EXPLAIN ANALYZE SET threads = 1'],
  ['EXPLAIN ANALYZE INSTALL', 'EXPLAIN ANALYZE INSTALL httpfs'],
  ['EXPLAIN ANALYZE ATTACH', "EXPLAIN ANALYZE ATTACH 'TMPDIR/other.duckdb' AS o"],
  ['EXPLAIN ANALYZE INSERT', "EXPLAIN ANALYZE INSERT INTO alerts VALUES ('AL-9', 'x', 1)"],
  ['COPY into an --allow-read dir', "COPY (SELECT 1) TO 'ALLOWED/w.csv'", true],
  ['EXPLAIN ANALYZE COPY into an --allow-read dir', "EXPLAIN ANALYZE COPY (SELECT 1) TO 'ALLOWED/w.csv'", true],
  // EXPORT / IMPORT / ATTACH
  ['EXPORT DATABASE', "EXPORT DATABASE 'TMPDIR/dump'"],
  ['EXPORT DATABASE into an --allow-read dir', "EXPORT DATABASE 'ALLOWED/dump'", true],
  ['IMPORT DATABASE', "IMPORT DATABASE 'TMPDIR'"],
  ['ATTACH a new file', "ATTACH 'TMPDIR/other.duckdb' AS o"],
  ['ATTACH the lakehouse again', "ATTACH 'LAKE' AS again"],
  ['DETACH', 'DETACH lake'],
  ['USE', 'USE memory'],
  // Settings and extensions
  ['SET', 'SET threads = 1'],
  ['SET external access back on', 'SET GLOBAL enable_external_access = true'],
  ['unlock the configuration', 'SET lock_configuration = false'],
  ['widen allowed_directories', "SET allowed_directories = ['/']"],
  ['RESET', 'RESET memory_limit'],
  ['PRAGMA setting', 'PRAGMA enable_profiling'],
  ['CALL', 'CALL pragma_version()'],
  ['INSTALL', 'INSTALL httpfs'],
  ['FORCE INSTALL from a URL', "FORCE INSTALL httpfs FROM 'http://127.0.0.1:9/'"],
  ['LOAD', 'LOAD httpfs'],
  ['LOAD a file', "LOAD 'SENTINEL'"],
  ['UPDATE EXTENSIONS', 'UPDATE EXTENSIONS'],
  // Maintenance and transactions
  ['CHECKPOINT', 'CHECKPOINT'],
  ['VACUUM', 'VACUUM'],
  ['ANALYZE', 'ANALYZE'],
  ['BEGIN', 'BEGIN TRANSACTION'],
  // Several statements
  ['stacked DROP', 'SELECT 1; DROP TABLE alerts'],
  ['stacked COPY after a string with ;', "SELECT ';' AS s; COPY alerts TO 'SENTINEL'"],
  // Reading the host's files from a SELECT
  ['read_csv', "SELECT * FROM read_csv('/etc/passwd')"],
  ['read_text', "SELECT * FROM read_text('/etc/passwd')"],
  ['read_text of the sentinel', "SELECT content FROM read_text('SENTINEL')"],
  ['read_blob', "SELECT * FROM read_blob('SENTINEL')"],
  ['glob', "SELECT * FROM glob('/root/**')"],
  ['glob relative to the cwd', "SELECT * FROM glob('*')"],
  ['replacement scan of a path', "SELECT * FROM 'SENTINEL'"],
  ['read_json_auto', "SELECT * FROM read_json_auto('/etc/hostname')"],
  ['read_parquet', "SELECT * FROM read_parquet('TMPDIR/*.parquet')"],
  ['parquet_metadata', "SELECT * FROM parquet_metadata('TMPDIR/q.parquet')"],
  ['sniff_csv', "SELECT * FROM sniff_csv('SENTINEL')"],
  ['in a CTE', "WITH x AS (SELECT * FROM read_csv('/etc/passwd')) SELECT count(*) FROM x"],
  ['in a subquery', "SELECT * FROM alerts WHERE alert_id IN (SELECT content FROM read_text('SENTINEL'))"],
  ['inside EXPLAIN ANALYZE', "EXPLAIN ANALYZE SELECT * FROM read_text('SENTINEL')"],
  ['inside SUMMARIZE', "SUMMARIZE SELECT * FROM read_csv('/etc/passwd')"],
  ['inside DESCRIBE', "DESCRIBE SELECT * FROM read_text('/etc/passwd')"],
  ['query() of a COPY', "SELECT * FROM query('COPY alerts TO ''SENTINEL''')"],
  ['outside an --allow-read dir', "SELECT content FROM read_text('SENTINEL')", true],
  ['.. out of an --allow-read dir', "SELECT content FROM read_text('ALLOWED/../sentinel.csv')", true],
];

describe('surgctl query refuses hostile SQL (exit 2, nothing changes)', () => {
  it('has at least 40 hostile statements', () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(40);
  });

  it.each(HOSTILE)('%s', async (_name, sql, allowRead) => {
    const before = snapshot();
    const args = ['query', fill(sql), '--db', lake, '--format', 'csv', ...(allowRead ? ['--allow-read', allowed] : [])];
    const r = await runCli(...args);
    expect(r.stderr).toMatch(/^surgctl: .+\nhint: .+\n$/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(snapshot()).toEqual(before);
  });

  it('names --allow-read in the hint when a file outside the lakehouse is refused', async () => {
    const r = await runCli('query', `SELECT * FROM read_csv('${join(allowed, 'beside.csv')}')`, '--db', lake);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^surgctl: read-only: Cannot access file .*beside\.csv.* disabled by configuration/);
    expect(r.stderr).toMatch(/hint: .*--allow-read DIR/);
  });
});

describe('surgctl query still answers read-only SQL', () => {
  it.each([
    ['SELECT', 'SELECT alert_id, risk_score FROM alerts ORDER BY risk_score DESC LIMIT 1', 'alert_id,risk_score\nAL-5,5\n'],
    ['a CTE', "WITH h AS (SELECT * FROM alerts WHERE level = 'high') SELECT count(*) AS n FROM h", 'n\n2\n'],
    ['a view, loads and quarantine', 'SELECT (SELECT count(*) FROM high_alerts) AS h, (SELECT count(*) FROM loads) AS l, (SELECT max(line) FROM quarantine) AS q', 'h,l,q\n2,1,7\n'],
    ['SHOW TABLES', 'SHOW TABLES', 'name\nalerts\nhigh_alerts\nloads\nquarantine\n'],
  ])('%s', async (_name, sql, csv) => {
    const r = await runCli('query', sql, '--db', lake, '--format', 'csv');
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(csv);
  });

  it('EXPLAIN and EXPLAIN ANALYZE of a SELECT', async () => {
    const plan = await runCli('query', 'EXPLAIN SELECT * FROM alerts', '--db', lake, '--format', 'json');
    expect(plan.exitCode).toBe(0);
    expect(JSON.stringify(JSON.parse(plan.stdout))).toMatch(/SEQ_SCAN|TABLE_SCAN/);
    const analyzed = await runCli('query', 'explain /* x */ analyze SELECT count(*) FROM alerts', '--db', lake, '--format', 'json');
    expect(analyzed.exitCode).toBe(0);
    expect(JSON.parse(analyzed.stdout)[0].explain_key).toBe('analyzed_plan');
  });

  it('reads a file inside --allow-read DIR, and refuses the same file without it', async () => {
    const before = snapshot();
    const sql = `SELECT * FROM read_csv('${join(allowed, 'beside.csv')}')`;
    const ok = await runCli('query', sql, '--db', lake, '--format', 'csv', '--allow-read', allowed);
    expect(ok.stderr).toBe('');
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toBe('patient_id,note\nPAT-1,ok\n');
    const no = await runCli('query', sql, '--db', lake, '--format', 'csv');
    expect(no.exitCode).toBe(2);
    expect(no.stdout).toBe('');
    expect(snapshot()).toEqual(before);
  });

  it('refuses an --allow-read that is not a directory', async () => {
    const r = await runCli('query', 'SELECT 1', '--db', lake, '--allow-read', sentinel);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^surgctl: --allow-read .*sentinel\.csv: not a directory.*\nhint: /);
  });

  it('still writes its own Parquet --out from the sealed handle, and nothing else', async () => {
    const out = join(tmp.dir, 'q.parquet');
    const r = await runCli('query', 'SELECT * FROM alerts', '--db', lake, '--out', out);
    expect(r.stderr).toMatch(/wrote 5 rows/);
    expect(r.exitCode).toBe(0);
    const check = await runCli('query', `SELECT count(*) AS n FROM read_parquet('${out}')`, '--db', lake, '--format', 'csv', '--allow-read', tmp.dir);
    expect(check.stdout).toBe('n\n5\n');
  });
});

describe('explainedStatement', () => {
  it.each([
    ['SELECT 1', 'SELECT 1'],
    ['EXPLAIN SELECT 1', 'SELECT 1'],
    ['  explain  analyse SELECT 1', 'SELECT 1'],
    ['EXPLAIN /* c */ ANALYZE -- d\nCOPY t TO \'x\'', "COPY t TO 'x'"],
    ["EXPLAIN (FORMAT json, ANALYZE) COPY t TO 'x'", "COPY t TO 'x'"],
    ["EXPLAIN (FORMAT ')SELECT 1 --') COPY t TO 'x'", "COPY t TO 'x'"],
    ['EXPLAIN EXPLAIN ANALYZE INSERT INTO t VALUES (1)', 'INSERT INTO t VALUES (1)'],
    ['EXPLAINED_VIEW', 'EXPLAINED_VIEW'],
  ])('%j -> %j', (sql, inner) => {
    expect(explainedStatement(sql)).toBe(inner);
  });
});
