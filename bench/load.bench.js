// load: BENCH_ROWS (default 5M) generated telemetry rows (with 2% labelled bad rows) loaded from CSV into a file
// lakehouse, with validation, foreign-key checks against the loaded reference data, and key dedupe; beside a plain
// DuckDB `CREATE TABLE t AS SELECT * FROM read_csv(...)` of the same file into a file database. Then the same file
// again: skipped by content hash, and with --force (every row a duplicate). Each phase runs in its own process so
// its peak RSS is its own.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, freshOut, peakRssMiB, rate, rows, time, writeSection } from './lib.js';

const self = fileURLToPath(import.meta.url);
const phase = process.argv[2];

async function runPhase(name, dataDir, dbPath) {
  const telemetry = join(dataDir, 'telemetry.csv');
  if (name === 'baseline') {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const inst = await DuckDBInstance.create(dbPath, { threads: '2', memory_limit: '2GB' });
    const con = await inst.connect();
    try {
      const r = await time(() => con.run(`CREATE TABLE t AS SELECT * FROM read_csv('${telemetry}', header = true, ignore_errors = true)`));
      const n = (await con.runAndReadAll('SELECT count(*)::INTEGER AS n FROM t')).getRowObjectsJson()[0].n;
      return { seconds: r.seconds, rows: n };
    } finally {
      con.closeSync();
      inst.closeSync();
    }
  }
  const { loadFiles } = await import('../dist/core/load/load.js');
  const files = name === 'reference'
    ? readdirSync(dataDir).filter((f) => f.endsWith('.csv') && f !== 'telemetry.csv').map((f) => join(dataDir, f))
    : [telemetry];
  const r = await time(() => loadFiles(files, { dbPath, cwd: dataDir, quarantineDir: join(dataDir, 'q'), force: name === 'force' }));
  const f = r.value.files.find((x) => x.dataset === 'telemetry') ?? r.value.files[0];
  return { seconds: r.seconds, rows: f.rows_read, inserted: f.rows_inserted, duplicate: f.rows_duplicate, quarantined: f.rows_quarantined, status: f.status };
}

function child(name, dataDir, dbPath) {
  const r = spawnSync(process.execPath, [self, name, dataDir, dbPath], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`phase ${name} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

if (phase) {
  const [, , name, dataDir, dbPath] = process.argv;
  const result = await runPhase(name, dataDir, dbPath);
  process.stdout.write(JSON.stringify({ ...result, rssMiB: peakRssMiB() }));
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
  rmSync(base, { force: true });
  child('reference', dataDir, lake);
  const baseline = child('baseline', dataDir, base);
  const first = child('first', dataDir, lake);
  const skip = child('skip', dataDir, lake);
  const force = child('force', dataDir, lake);
  const ratio = baseline.seconds / first.seconds;
  const md = `## load

${rows.toLocaleString('en-US')} generated telemetry rows (${fmt(mb, 0)} MiB CSV, 2% labelled bad rows) loaded into a file
lakehouse: staged and validated in DuckDB, foreign keys checked against the loaded procedures, patients and robots,
deduplicated by event_id, quarantine written, one transaction. Baseline: plain DuckDB
\`CREATE TABLE t AS SELECT * FROM read_csv(...)\` of the same file into a file database (no validation).

| run | seconds | rows/s | rows inserted | duplicate | quarantined | peak RSS MiB |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
| plain DuckDB CTAS from read_csv (baseline) | ${fmt(baseline.seconds)} | ${rate(baseline.rows, baseline.seconds)} | ${baseline.rows.toLocaleString('en-US')} | | | ${baseline.rssMiB} |
| surgctl load, first time | ${fmt(first.seconds)} | ${rate(first.rows, first.seconds)} | ${first.inserted.toLocaleString('en-US')} | ${first.duplicate} | ${first.quarantined.toLocaleString('en-US')} | ${first.rssMiB} |
| same file again (skipped by sha256) | ${fmt(skip.seconds)} | | ${skip.inserted} | | | ${skip.rssMiB} |
| same file with --force (all duplicates) | ${fmt(force.seconds)} | ${rate(force.rows, force.seconds)} | ${force.inserted} | ${force.duplicate.toLocaleString('en-US')} | ${force.quarantined.toLocaleString('en-US')} | ${force.rssMiB} |

Ratio (baseline time / surgctl load time): **${fmt(ratio)}** (goal >= 0.4). Reload with --force vs first load:
${fmt(force.seconds / first.seconds)}x the time (goal <= 1). Peak RSS of the load process: ${Math.max(first.rssMiB, force.rssMiB)} MiB (goal < 1024).
`;
  writeSection('load', md);
}
