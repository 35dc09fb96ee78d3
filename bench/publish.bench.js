// publish: `surgctl publish` of the BENCH_ROWS-row (default 5M) telemetry_risk (with telemetry_search, the mart its
// full-text index lives on) into PostgreSQL, beside `psql \copy` of the same rows from a CSV (written by DuckDB
// beforehand, not timed) into a bare table of the same columns, alternated A B A B A B in the same server; then an
// incremental publish of every mart after a 1% load and an incremental transform. The lakehouse is made by
// bench/transform.bench.js's phases (make, full, load, incremental). The server is a throwaway cluster (initdb into a
// temp directory, as the tests do; autovacuum off so one run's vacuum does not land in the next run's time), or
// BENCH_PG_URL. Every run is its own process (lib.js runChild), so its peak RSS and CPU seconds are its own; the
// server's CPU seconds (the postmaster's reaped children: backends and parallel workers) are read around each run, and
// the server logs each statement's duration, which gives where the publish's time goes (COPY, key, each index,
// ANALYZE, swap).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alternate, benchDir, childMain, fmt, freshOut, loadNote, pairHeader, pairRow, repeats, rows, runChild, writeSection } from './lib.js';

const self = fileURLToPath(import.meta.url);
const phase = process.argv[2];
const PUBLISHED = ['telemetry_risk', 'telemetry_search'];

function pgBin() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const major = readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a)).find((m) => existsSync(join(root, m, 'bin', 'initdb')));
  return major === undefined ? undefined : join(root, major, 'bin');
}

async function freePort() {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** A throwaway cluster in the existing directory `dir` (as test/helpers/pg.ts starts one): URL, log, postmaster pid, stop. */
async function startCluster(dir) {
  const bin = pgBin();
  if (!bin) throw new Error('no PostgreSQL binaries: apt-get install -y postgresql, or set BENCH_PG_URL');
  const root = process.getuid() === 0;
  const data = join(dir, 'pgdata');
  mkdirSync(data, { mode: 0o700 });
  writeFileSync(join(dir, 'pw'), 'bench-secret\n');
  if (root) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    for (const p of [dir, data, join(dir, 'pw')]) chownSync(p, uid, gid);
    chmodSync(dir, 0o755);
  }
  const run = (cmd, args) => (root ? execFileSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { stdio: 'pipe' }) : execFileSync(join(bin, cmd), args, { stdio: 'pipe' }));
  run('initdb', ['-D', data, '-U', 'bench', `--pwfile=${join(dir, 'pw')}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const log = join(dir, 'pg.log');
  // Durable settings as a server would have them, except fsync (the machine's disk is shared by everyone) and
  // autovacuum (see the top). Every statement's duration goes to the log.
  const opts = `-p ${port} -k ${dir} -c listen_addresses='127.0.0.1' -c fsync=off -c shared_buffers=256MB -c max_wal_size=4GB -c timezone='UTC' -c autovacuum=off -c log_min_duration_statement=0`;
  run('pg_ctl', ['-D', data, '-o', opts, '-l', log, '-w', 'start']);
  const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return { url: `postgresql://bench:bench-secret@127.0.0.1:${port}/postgres`, log, pid, stop: () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']) };
}

/** The postmaster's own CPU seconds plus its reaped children's (backends and parallel workers that have exited). */
function serverCpu(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // Fields 14-17 of /proc/PID/stat (utime, stime, cutime, cstime), here at 11-14 after the name; clock ticks of 1/100 s.
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}

function sleepMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs `fn` (a runChild call) and adds the server's CPU seconds it caused and the log lines it wrote. */
function withServer(server, fn) {
  if (!server) return fn();
  const logFrom = statSync(server.log).size;
  const cpu0 = serverCpu(server.pid);
  const r = fn();
  // The backend exits when the client's connection closes; give the postmaster a moment to reap it.
  sleepMs(300);
  const log = readFileSync(server.log, 'utf8').slice(logFrom);
  return { ...r, serverCpuSeconds: serverCpu(server.pid) - cpu0, log };
}

/** Where a publish's server time went, from the statement durations in its log lines (milliseconds by step). */
function steps(log) {
  const out = { copy: 0, key: 0, indexes: {}, analyze: 0, swap: 0, check: 0, other: 0 };
  for (const m of log.matchAll(/duration: ([\d.]+) ms {2}statement: (.*)/g)) {
    const ms = Number(m[1]);
    const sql = m[2];
    if (/^COPY /.test(sql)) out.copy += ms;
    else if (/ADD CONSTRAINT .* PRIMARY KEY/.test(sql)) out.key += ms;
    else if (/^CREATE INDEX "_stage_(\w+?)_(\w+)"/.test(sql)) {
      const [, table, suffix] = /^CREATE INDEX "_stage_(\w+?)_(\w+)"/.exec(sql);
      out.indexes[`${table}_${suffix}`] = (out.indexes[`${table}_${suffix}`] ?? 0) + ms;
    } else if (/^ANALYZE /.test(sql)) out.analyze += ms;
    else if (/^(DROP TABLE IF EXISTS "\w+"\."(?!_stage_)|ALTER (TABLE|INDEX) .* RENAME)/.test(sql)) out.swap += ms;
    else if (/^SELECT count\(\*\)/.test(sql)) out.check += ms;
    else out.other += ms;
  }
  return out;
}

/** Milliseconds in all of a run's statements. */
function statementsMs(s) {
  return s.copy + s.key + Object.values(s.indexes).reduce((a, b) => a + b, 0) + s.analyze + s.swap + s.check + s.other;
}

function transformPhase(name, dbPath) {
  return runChild(join(benchDir, 'transform.bench.js'), [name, dbPath], { BENCH_ROWS: String(rows), SURGCTL_THREADS: process.env.SURGCTL_THREADS ?? '2' });
}

async function runPhase(name, dbPath, url, csvPath) {
  if (name === 'csv') {
    // The baseline's input, written by DuckDB (not part of either timing): the same rows as the same CSV text the
    // publish sends (columns.ts pgReadySelectSql: lists as PostgreSQL array literals), and the published table's DDL.
    const { openDb } = await import('../dist/db/db.js');
    const { ident } = await import('../dist/db/sql.js');
    const { pgColumnsDdl, pgReadySelectSql, pgTypeOf } = await import('../dist/core/publish/columns.js');
    const db = await openDb(dbPath, { readOnly: false });
    try {
      const cols = await db.all("SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_name = 'telemetry_risk' ORDER BY ordinal_position");
      const columns = cols.map((c) => ({ name: c.name, duckType: c.type, pgType: pgTypeOf(c.type) }));
      await db.run(`COPY (${pgReadySelectSql(columns, 'telemetry_risk')}) TO '${csvPath}' (FORMAT csv, HEADER)`);
      return { ddl: pgColumnsDdl(columns, ident), bytes: statSync(csvPath).size };
    } finally {
      db.close();
    }
  }
  const { runPublish, resolvePublishTarget } = await import('../dist/core/publish/index.js');
  const { Lakehouse } = await import('../dist/db/lakehouse.js');
  const target = resolvePublishTarget({ to: url, schema: 'surgctl', env: {} });
  // The measured publish rewrites its tables in full every time (the same transform run would otherwise be unchanged).
  const r = await runPublish(name === 'publish' ? { target, tables: PUBLISHED, full: true } : { target }, { lake: new Lakehouse({ path: dbPath }) });
  return { tables: r.tables.map((t) => ({ table: t.table, mode: t.mode, rows_written: t.rows_written, copy_ms: t.copy_ms, duration_ms: t.duration_ms })) };
}

/** The baseline in its own process: psql \copy of the CSV into a fresh bare table; wall and CPU are psql's. */
function baselineRun(url, csvPath, ddl) {
  const psql = (cmd) => execFileSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', cmd], { stdio: 'pipe' });
  psql(`DROP TABLE IF EXISTS public.baseline_telemetry_risk; CREATE TABLE public.baseline_telemetry_risk (${ddl})`);
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', 'psql', url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', `\\copy public.baseline_telemetry_risk FROM '${csvPath}' WITH (FORMAT csv, HEADER true)`], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`psql \\copy failed: ${r.stderr}`);
  const [user, sys, maxKiB] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  psql('DROP TABLE public.baseline_telemetry_risk');
  return { seconds, cpuSeconds: user + sys, rssMiB: Math.round(maxKiB / 1024) };
}

const mid = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

if (phase) {
  await childMain(runPhase);
} else {
  const out = freshOut('publish');
  const dbPath = join(out, 'lake.duckdb');
  const csvPath = join(out, 'telemetry_risk.csv');
  for (const f of [dbPath, `${dbPath}.wal`, csvPath]) rmSync(f, { force: true });
  // The cluster lives in the system temp directory: the postgres user must be able to reach it.
  const pgDir = mkdtempSync(join(tmpdir(), 'surgctl-bench-pg-'));
  const own = process.env.BENCH_PG_URL ? undefined : await startCluster(pgDir);
  const url = process.env.BENCH_PG_URL ?? own.url;
  const child = (name) => withServer(own, () => runChild(self, [name, dbPath, url, csvPath]));
  try {
    process.stderr.write('publish bench: make the lakehouse and transform it...\n');
    const make = transformPhase('make', dbPath);
    const full = transformPhase('full', dbPath);
    const csv = runChild(self, ['csv', dbPath, url, csvPath]);
    // psql \copy of the same rows into a bare table typed exactly as the published one (columns.ts: text[] for
    // `missing`, timestamptz, double precision, ...), with no key and no index.
    const ddlSql = csv.ddl;
    process.stderr.write('publish bench: publish vs psql \\copy, alternated...\n');
    const pair = alternate('publish', () => child('publish'), () => withServer(own, () => baselineRun(url, csvPath, ddlSql)));
    rmSync(csvPath, { force: true });
    process.stderr.write('publish bench: the other marts, a 1% load, incremental publish...\n');
    const rest = child('publish-all');
    const load = transformPhase('load', dbPath);
    const inc = transformPhase('incremental', dbPath);
    const incPub = child('publish-all');
    const again = child('publish-all');
    const serverVersion = execFileSync('psql', [url, '-tAc', 'SHOW server_version']).toString().trim().split(' ')[0];

    // Where the time went, per run and as medians, from the server's statement log.
    const runs = pair.pairs.map((p) => ({ load: [p.loadBefore, p.loadAfter], wall: p.a.seconds, steps: own ? steps(p.a.log) : undefined, tables: p.a.tables }));
    const stepRows = [];
    if (own) {
      const med = (f) => fmt(mid(runs.map((r) => f(r.steps))) / 1000);
      const names = Object.keys(runs[0].steps.indexes);
      stepRows.push(['COPY (both tables; DuckDB CSV writer -> FIFO -> COPY FROM STDIN, FREEZE)', med((s) => s.copy)]);
      stepRows.push(['primary keys (telemetry_risk event_id; telemetry_search grain)', med((s) => s.key)]);
      for (const n of names) stepRows.push([`index ${n}`, med((s) => s.indexes[n] ?? 0)]);
      stepRows.push(['ANALYZE (telemetry_risk: key and serving columns only)', med((s) => s.analyze)]);
      stepRows.push(['swap (DROP old, RENAME staged, its key and indexes)', med((s) => s.swap)]);
      stepRows.push(['row-count check against the lakehouse', med((s) => s.check)]);
      stepRows.push(['other statements (plan, ledger, lock, DDL)', med((s) => s.other)]);
      stepRows.push(['outside any statement (process start, lakehouse opens and writes, planning)', fmt(mid(runs.map((r) => r.wall - statementsMs(r.steps) / 1000)))]);
    }
    const perRun = runs
      .map((r, i) => `run ${i + 1}: ${fmt(r.wall)} s (load ${fmt(r.load[0], 1)}->${fmt(r.load[1], 1)})${r.steps ? `: COPY ${fmt(r.steps.copy / 1000)}, key ${fmt(r.steps.key / 1000)}, indexes ${fmt(Object.values(r.steps.indexes).reduce((a, b) => a + b, 0) / 1000)}, ANALYZE ${fmt(r.steps.analyze / 1000)}, swap ${fmt(r.steps.swap / 1000)}` : ''}`)
      .join('; ');
    const whole = (k) => mid(pair.pairs.map((p) => p[k].cpuSeconds + p[k].serverCpuSeconds));
    const srv = own
      ? `Server CPU seconds (the postmaster's reaped backends and parallel workers), medians: publish ${fmt(mid(pair.pairs.map((p) => p.a.serverCpuSeconds)))}, baseline ${fmt(mid(pair.pairs.map((p) => p.b.serverCpuSeconds)))}; client and server together: publish ${fmt(whole('a'))}, baseline ${fmt(whole('b'))} (ratio ${fmt(whole('b') / whole('a'))}x).`
      : '';
    const searchRows = pair.a.last.tables.find((t) => t.table === 'telemetry_search')?.rows_written ?? 0;
    const incTr = incPub.tables.find((t) => t.table === 'telemetry_risk');
    const ratio = pair.b.seconds / pair.a.seconds;
    const md = `## publish

${rows.toLocaleString('en-US')} telemetry_risk rows (the lakehouse made by transform.bench.js's phases: ${fmt(make.seconds, 1)} s to make, ${fmt(full.seconds, 1)} s to
transform), published with telemetry_search (${searchRows.toLocaleString('en-US')} rows: its steps and error codes per procedure, which carry the
full-text index) into a throwaway PostgreSQL ${serverVersion} cluster (fsync and autovacuum off) on the same machine. The
baseline is \`psql \\copy\` of the same rows, as the CSV text the publish sends (${fmt(csv.bytes / 2 ** 20, 0)} MiB, written beforehand by DuckDB with
columns.ts pgReadySelectSql, not timed), into a bare table typed exactly as the published one (text[], timestamptz,
double precision, ...: the server parses the same values into the same types) with no key and no index. The publish pipes DuckDB's CSV writer (through a FIFO) into \`COPY ... FROM STDIN (FORMAT csv, FREEZE)\` of
staging tables, builds their primary keys, serving indexes and ANALYZE, and swaps them in, all in one transaction.
surgctl and the baseline alternate (A B A B ...), each run its own process; medians of ${repeats} pairs; CPU s = the
child's user + system (the publish: DuckDB and Node; the baseline: psql), server CPU below.

${pairHeader('speed')}
${pairRow('publish telemetry_risk + telemetry_search (whole: COPY, keys, indexes, ANALYZE, swap) vs `psql \\copy`', pair, 'speed')}

Where the publish's time goes (medians of the server's statement durations, seconds):

| step | seconds |
|---|---:|
${stepRows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}

Each run: ${perRun}.
${srv}

| after the alternation | seconds | peak RSS MiB |
|---|---:|---:|
| the other ${rest.tables.length - PUBLISHED.length} marts (first publish) | ${fmt(rest.seconds)} | ${rest.rssMiB} |
| incremental publish of every mart after a 1% load (${incTr ? `${incTr.mode}, ${incTr.rows_written.toLocaleString('en-US')} telemetry_risk rows` : ''}) | ${fmt(incPub.seconds)} | ${incPub.rssMiB} |
| publish again with nothing new | ${fmt(again.seconds)} | ${again.rssMiB} |

Goals: \`psql \\copy\` / publish >= 0.5: **${fmt(ratio)}x** (wall, medians; CPU ratio ${fmt(pair.b.cpuSeconds / pair.a.cpuSeconds)}x counts only the clients); peak RSS < 1 GiB: **${pair.a.rssMiB} MiB**.
The incremental transform before the incremental publish took ${fmt(inc.seconds, 1)} s (load ${fmt(load.seconds, 1)} s).
${rows === 5_000_000 ? '' : `Run with BENCH_ROWS=${rows}, not the 5,000,000 the issue names.\n`}Load: ${loadNote(pair)}.
`;
    writeSection('publish', md);
  } finally {
    own?.stop();
    rmSync(pgDir, { recursive: true, force: true });
  }
}
