// load: BENCH_ROWS (default 5M) generated telemetry rows (with 2% labelled bad rows) loaded from CSV into a file
// lakehouse, with validation, foreign-key checks against the loaded reference data, and key dedupe; beside a plain
// DuckDB `CREATE TABLE t AS SELECT * FROM read_csv(...)` of the same file into a file database. Then the same file
// again: skipped by content hash, and with --force (every row a duplicate). Each phase runs in its own process so
// its peak RSS is its own.
import { copyFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alternate, childMain, duckdbApi, fmt, freshOut, loadNote, pairHeader, pairRow, repeats, rows, runChild, time, typedReadCsvSql, writeSection } from './lib.js';

const self = fileURLToPath(import.meta.url);
const phase = process.argv[2];

async function runPhase(name, dataDir, dbPath) {
  const telemetry = join(dataDir, 'telemetry.csv');
  if (name === 'baseline') {
    // The plain typed statement with DuckDB's defaults (all cores, default memory limit) into a fresh file database:
    // the schema's column types; bad rows go to DuckDB's reject tables instead of failing the statement.
    rmSync(dbPath, { force: true });
    rmSync(`${dbPath}.wal`, { force: true });
    const { DuckDBInstance } = duckdbApi();
    const reader = await typedReadCsvSql(telemetry);
    const inst = await DuckDBInstance.create(dbPath);
    const con = await inst.connect();
    try {
      const r = await time(() => con.run(`CREATE TABLE t AS SELECT * FROM ${reader}`));
      const n = (await con.runAndReadAll('SELECT count(*)::INTEGER AS n FROM t')).getRowObjectsJson()[0].n;
      return { seconds: r.seconds, rows: n };
    } finally {
      con.closeSync();
      inst.closeSync();
    }
  }
  if (name === 'first') {
    // A fresh copy of the lakehouse that holds only the reference data, outside the timed part.
    copyFileSync(`${dbPath}.ref`, dbPath);
    rmSync(`${dbPath}.wal`, { force: true });
  }
  const { loadFiles } = await import('../dist/core/load/load.js');
  const { Lakehouse } = await import('../dist/db/lakehouse.js');
  const files = name === 'reference'
    ? readdirSync(dataDir).filter((f) => f.endsWith('.csv') && f !== 'telemetry.csv').map((f) => join(dataDir, f))
    : [telemetry];
  const r = await time(() => loadFiles({ inputs: files, cwd: dataDir, quarantineDir: join(dataDir, 'q'), force: name === 'force' }, { lake: new Lakehouse({ path: dbPath }) }));
  const f = r.value.files.find((x) => x.dataset === 'telemetry') ?? r.value.files[0];
  return { seconds: r.seconds, rows: f.rows_read, inserted: f.rows_inserted, duplicate: f.rows_duplicate, quarantined: f.rows_quarantined, status: f.status };
}

if (phase) {
  await childMain(runPhase);
} else {
  const out = freshOut('load');
  const dataDir = join(out, 'data');
  rmSync(dataDir, { recursive: true, force: true });
  process.stderr.write(`load bench: generating ${rows.toLocaleString('en-US')} telemetry rows...\n`);
  const { generateDataset } = await import('../dist/core/generate/index.js');
  await generateDataset({ out: dataDir, seed: 7, telemetryRows: rows, badRows: 0.02, incidents: 0.05, procedures: Math.max(300, Math.round(rows / 700)) });
  const mb = statSync(join(dataDir, 'telemetry.csv')).size / 2 ** 20;
  const lake = join(out, 'lake.duckdb');
  const base = join(out, 'baseline.duckdb');
  rmSync(lake, { force: true });
  rmSync(`${lake}.ref`, { force: true });
  runChild(self, ['reference', dataDir, `${lake}.ref`]);
  const first = alternate('first load', () => runChild(self, ['first', dataDir, lake]), () => runChild(self, ['baseline', dataDir, base]));
  // The lakehouse of the last first load now holds the file: the same file again is skipped, then forced.
  const skip = runChild(self, ['skip', dataDir, lake]);
  const force = alternate('--force reload', () => runChild(self, ['force', dataDir, lake]), () => runChild(self, ['baseline', dataDir, base]), 1);
  const f = first.a.last;
  const md = `## load

${rows.toLocaleString('en-US')} generated telemetry rows (${fmt(mb, 0)} MiB CSV, 2% labelled bad rows) loaded into a file
lakehouse that holds the reference data: staged and validated in DuckDB, foreign keys checked against the loaded
procedures, patients and robots, deduplicated by event_id, quarantine written, one transaction. Baseline: the plain typed
DuckDB statement with default settings, \`CREATE TABLE t AS SELECT * FROM read_csv(..., columns = {schema types},
store_rejects = true)\` of the same file into a fresh file database (no validation beyond the types). surgctl and the
baseline alternate (A B A B ...), each run its own process; medians of ${repeats} pairs; CPU s = the child's user + system.

${pairHeader('speed')}
${pairRow('surgctl load, first time', first, 'speed')}
${pairRow('same file with --force (all duplicates; one pair)', force, 'speed')}

First load: ${f.inserted.toLocaleString('en-US')} rows inserted, ${f.duplicate} duplicate, ${f.quarantined.toLocaleString('en-US')} quarantined of
${f.rows.toLocaleString('en-US')} read. The same file again is skipped by its sha256 in ${fmt(skip.seconds)} s.
Goal: load >= 0.5x the typed CTAS (ratio wall above), peak RSS < 1 GiB at 25M rows.
Load: ${loadNote(first)}.
`;
  writeSection('load', md);
}
