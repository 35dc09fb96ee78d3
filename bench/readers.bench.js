// readers: what a reader sees while a big telemetry load runs, and what the load costs.
// a) With a BENCH_ROWS-row telemetry load running (default 5M; BENCH_ROWS=2000000 on a busy machine), a
//    `surgctl report top-alerts` and a `surgctl query "SELECT count(*) ... raw_telemetry"` start every second
//    (--lock-timeout 300, so a reader waits instead of failing). Recorded: the worst wall time of each beside its
//    median on an idle lakehouse (the wait is the difference), and whether every count was the state before the load
//    or after it (never a part). Run for this build's load and, when BASELINE_BIN names the bin/surgctl.js of the
//    previous build (e.g. main's), for that one too.
// b) Load time: this build's load, the previous build's (BASELINE_BIN), and a plain typed
//    `CREATE TABLE t AS SELECT * FROM read_csv(..., columns = typed, auto_detect = false, ignore_errors = true)` into a
//    file database, alternating A B C A B C (BENCH_REPEATS rounds, default 2), wall and CPU seconds (child rusage
//    through /usr/bin/time) and the 1-minute load average before and after each run; "busy" above 1.5 per core.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fmt, freshOut, rows, writeSection } from './lib.js';

const BIN = resolve(join(import.meta.dirname, '..', 'bin', 'surgctl.js'));
const BASELINE_BIN = process.env.BASELINE_BIN ? resolve(process.env.BASELINE_BIN) : undefined;
const ROUNDS = Number(process.env.BENCH_REPEATS ?? 2);
const CORES = cpus().length;
const out = freshOut('readers');
const data = join(out, 'data');
const la = () => loadavg()[0];
const busy = (a, b) => Math.max(a, b) > 1.5 * CORES;

function run(bin, args, cwd = out) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Runs argv under /usr/bin/time: wall and CPU seconds, peak RSS MiB, the load average around it. */
function timed(argv) {
  const before = la();
  const r = spawnSync('/usr/bin/time', ['-f', '@@ %e %U %S %M', ...argv], { cwd: out, encoding: 'utf8', maxBuffer: 1 << 26 });
  const after = la();
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const m = /@@ ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  return { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), rssMiB: Math.round(Number(m[4]) / 1024), before, after, stdout: r.stdout };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

process.stderr.write(`readers bench: generating ${rows.toLocaleString('en-US')} telemetry rows...\n`);
rmSync(data, { recursive: true, force: true });
run(BIN, ['generate', '--out', data, '--telemetry-rows', String(rows), '--procedures', String(Math.max(300, Math.round(rows / 700))), '--bad-rows', '0.01', '-q']);
const telemetry = join(data, 'telemetry.csv');
const mb = statSync(telemetry).size / 2 ** 20;
const base = join(out, 'base.duckdb');
rmSync(base, { force: true });
const refs = readdirSync(data).filter((f) => f.endsWith('.csv') && f !== 'telemetry.csv').map((f) => join(data, f));
run(BIN, ['load', ...refs, '--db', base, '-q', '--max-invalid', '100%']);
run(BIN, ['transform', '--db', base, '-q']);
// The previous build may not open a lakehouse this build migrated further: it gets one made by itself.
const basePrev = join(out, 'base-prev.duckdb');
if (BASELINE_BIN) {
  rmSync(basePrev, { force: true });
  run(BASELINE_BIN, ['load', ...refs, '--db', basePrev, '-q', '--max-invalid', '100%']);
  run(BASELINE_BIN, ['transform', '--db', basePrev, '-q']);
}

function fresh(name, bin = BIN) {
  const p = join(out, `${name}.duckdb`);
  rmSync(p, { force: true });
  rmSync(`${p}.wal`, { force: true });
  copyFileSync(bin === BIN ? base : basePrev, p);
  return p;
}

/** One reader: wall seconds and what it saw. */
function reader(kind, db, bin = BIN) {
  const args = kind === 'report'
    ? ['--lock-timeout', '300', 'report', 'top-alerts', '--db', db, '--format', 'json']
    : ['--lock-timeout', '300', 'query', 'SELECT count(*)::BIGINT AS n FROM raw_telemetry', '--db', db, '--format', 'json'];
  return new Promise((done) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [bin, ...args], { cwd: out });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      let n;
      if (kind === 'query' && code === 0) n = Number(JSON.parse(stdout)[0]?.n);
      done({ kind, code, seconds, n, error: code === 0 ? undefined : stderr.split('\n')[0] });
    });
  });
}

async function readersDuring(bin, label) {
  const db = fresh(`readers-${label.replaceAll(' ', '-')}`, bin);
  const idle = { report: [], query: [] };
  for (let i = 0; i < 3; i++) for (const k of ['report', 'query']) idle[k].push((await reader(k, db, bin)).seconds);
  const before = Number(JSON.parse(run(bin, ['query', 'SELECT count(*)::BIGINT AS n FROM raw_telemetry', '--db', db, '--format', 'json']))[0].n);
  const la0 = la();
  const t0 = performance.now();
  const load = spawn(process.execPath, [bin, 'load', telemetry, '--db', db, '-q', '--max-invalid', '100%', '--lock-timeout', '300'], { cwd: out });
  let loadErr = '';
  load.stderr.on('data', (d) => (loadErr += d));
  const loadDone = new Promise((res) => load.on('close', (code) => res(code)));
  let running = true;
  void loadDone.then(() => (running = false));
  // The writer's note, sampled every 20 ms: 'waiting' (new readers hold back: the writer wants or holds the lock with
  // no snapshot), 'ready' (readers read the snapshot), 'none'. The longest 'waiting' window is the longest a reader
  // can wait on the writer itself; the rest of a reader's wall time is its own work on a shared machine.
  const note = `${db}.surgctl-writer`;
  const windows = [];
  let state = 'none';
  let since = 0;
  const sampler = setInterval(() => {
    let s = 'none';
    try {
      s = JSON.parse(readFileSync(note, 'utf8')).snapshot ? 'ready' : 'waiting';
    } catch {
      // no note (or one being replaced): none
    }
    if (s === state) return;
    const t = (performance.now() - t0) / 1000;
    if (state === 'waiting') windows.push({ from: since, seconds: t - since });
    state = s;
    since = t;
  }, 20);
  const pending = [];
  const inFlight = { report: 0, query: 0 };
  let skipped = 0;
  const start = (kind) => {
    // On a saturated machine readers that start every second pile up and starve everything (the load included):
    // a tick is skipped while two readers of its kind are still running, and counted.
    if (inFlight[kind] >= 2) {
      skipped += 1;
      return;
    }
    inFlight[kind] += 1;
    pending.push(reader(kind, db, bin).finally(() => (inFlight[kind] -= 1)));
  };
  while (running) {
    start('report');
    start('query');
    await new Promise((r) => setTimeout(r, 1000));
  }
  const code = await loadDone;
  const loadSeconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  if (state === 'waiting') windows.push({ from: since, seconds: loadSeconds - since });
  const heldBack = windows.reduce((m, w) => Math.max(m, w.seconds), 0);
  if (code !== 0) throw new Error(`load (${label}) failed: ${loadErr}`);
  const results = await Promise.all(pending);
  const after = Number(JSON.parse(run(bin, ['query', 'SELECT count(*)::BIGINT AS n FROM raw_telemetry', '--db', db, '--format', 'json']))[0].n);
  const la1 = la();
  const by = (k) => results.filter((r) => r.kind === k);
  const worst = (k) => Math.max(...by(k).map((r) => r.seconds));
  const counts = by('query').filter((r) => r.code === 0).map((r) => r.n);
  return {
    db, label, loadSeconds, heldBack, windows, readers: results.length, skipped, failed: results.filter((r) => r.code !== 0).length,
    firstError: results.find((r) => r.code !== 0)?.error,
    idleReport: median(idle.report), idleQuery: median(idle.query), worstReport: worst('report'), worstQuery: worst('query'),
    before, after, partial: counts.filter((n) => n !== before && n !== after).length,
    sawBefore: counts.filter((n) => n === before).length, sawAfter: counts.filter((n) => n === after).length,
    la0, la1,
  };
}

const waits = [await readersDuring(BIN, 'this build')];
if (BASELINE_BIN) waits.push(await readersDuring(BASELINE_BIN, 'previous build'));

// The read snapshot's copy: what a reader would wait for if the copy were made under the write lock (this build makes
// it before asking for the lock). The lakehouse after the load, copied as the writer does (a child process), 3 times.
const copyRuns = [];
const lakeBytes = statSync(waits[0].db).size;
for (let i = 0; i < 3; i++) {
  const target = join(out, 'copy.surgctl-snapshot');
  const before = la();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['-e', 'const fs = require("node:fs"); fs.copyFileSync(process.argv[1], process.argv[2], fs.constants.COPYFILE_FICLONE);', waits[0].db, target]);
  if (r.status !== 0) throw new Error(`copy failed: ${r.stderr}`);
  copyRuns.push({ seconds: (performance.now() - t0) / 1000, before, after: la() });
  rmSync(target, { force: true });
}

// b) load time, alternating.
const typedColumns = "{'event_id': 'VARCHAR', 'procedure_id': 'VARCHAR', 'patient_id': 'VARCHAR', 'robot_id': 'VARCHAR', 'robot_arm': 'VARCHAR', 'instrument': 'VARCHAR', 'step': 'VARCHAR', 'force_n': 'DOUBLE', 'velocity_mm_s': 'DOUBLE', 'latency_ms': 'DOUBLE', 'error_code': 'VARCHAR', 'recorded_at': 'TIMESTAMPTZ'}";
const ctasScript = `const { DuckDBInstance } = (await import('node:module')).createRequire(${JSON.stringify(import.meta.filename)})('@duckdb/node-api');
  const inst = await DuckDBInstance.create(process.argv[1], { threads: '2' });
  const con = await inst.connect();
  await con.run(\`CREATE TABLE t AS SELECT * FROM read_csv(${JSON.stringify(telemetry).replaceAll('"', "'")}, columns = ${typedColumns}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', ignore_errors = true)\`);
  con.closeSync(); inst.closeSync();`;
const contenders = [
  { name: 'surgctl load (this build)', bin: BIN, argv: (db) => [process.execPath, BIN, 'load', telemetry, '--db', db, '-q', '--max-invalid', '100%'] },
  ...(BASELINE_BIN ? [{ name: 'surgctl load (previous build)', bin: BASELINE_BIN, argv: (db) => [process.execPath, BASELINE_BIN, 'load', telemetry, '--db', db, '-q', '--max-invalid', '100%'] }] : []),
  { name: 'plain typed CTAS from read_csv', argv: (db) => [process.execPath, '--input-type=module', '-e', ctasScript, db], plain: true },
];
const runs = Object.fromEntries(contenders.map((c) => [c.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const c of contenders) {
    const db = c.plain ? join(out, 'ctas.duckdb') : fresh('timed', c.bin);
    if (c.plain) rmSync(db, { force: true });
    process.stderr.write(`readers bench: ${c.name}, round ${round + 1}\n`);
    runs[c.name].push(timed(c.argv(db)));
  }
}
const row = (name) => {
  const r = runs[name];
  const wall = median(r.map((x) => x.wall));
  return { name, wall, cpu: median(r.map((x) => x.cpu)), rss: Math.max(...r.map((x) => x.rssMiB)), las: r.map((x) => `${fmt(x.before, 1)}/${fmt(x.after, 1)}`).join(', '), busy: r.some((x) => busy(x.before, x.after)) };
};
const table = contenders.map((c) => row(c.name));
const ctas = table.find((t) => t.name.startsWith('plain'));
const ours = table[0];
const prev = table.find((t) => t.name.includes('previous'));

const md = `## readers during a load

${rows.toLocaleString('en-US')} generated telemetry rows (${fmt(mb, 0)} MiB CSV, 1% labelled bad rows) loaded into a lakehouse that holds the
reference data and its marts. ${rows < 5_000_000 ? `**${rows.toLocaleString('en-US')} rows, not 5M: the shared machine was too busy for 5M runs.** ` : ''}While the load runs, a
\`report top-alerts\` and a \`query\` counting raw_telemetry start every second (\`--lock-timeout 300\`). Wait = worst
wall time minus the reader's median on the idle lakehouse (a tick is skipped while two readers of its kind still run). Goal: worst wait < 2 s; every count the state before the
load or after it.

| load | load s | readers (ticks skipped) | failed | report idle / worst s | query idle / worst s | readers held back: longest s (windows) | counts before / after / partial | load avg before/after |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${waits.map((w) => `| ${w.label} | ${fmt(w.loadSeconds, 1)} | ${w.readers} (${w.skipped}) | ${w.failed} | ${fmt(w.idleReport)} / ${fmt(w.worstReport)} | ${fmt(w.idleQuery)} / ${fmt(w.worstQuery)} | ${fmt(w.heldBack)} (${w.windows.length}) | ${w.sawBefore} / ${w.sawAfter} / ${w.partial} | ${fmt(w.la0, 1)} / ${fmt(w.la1, 1)}${busy(w.la0, w.la1) ? ' (busy)' : ''} |`).join('\n')}

"Readers held back" is measured from the writer's note (sampled every 20 ms): the longest time new readers were told to
wait for the writer, which bounds what a reader waits on the load itself (plus one 25 ms poll). This build's windows:
${waits[0].windows.map((w) => `${fmt(w.seconds)} s at ${fmt(w.from, 1)} s`).join(', ') || 'none'}. The worst-minus-idle wait also holds the readers' own slowdown
on a saturated machine (the idle medians are taken before the load, whose two threads then compete for the same two cores).

Worst reader wait with this build's load: **${fmt(Math.max(waits[0].worstReport - waits[0].idleReport, waits[0].worstQuery - waits[0].idleQuery))} s** (worst minus idle)${waits[1] ? `; with the previous build's: ${fmt(Math.max(waits[1].worstReport - waits[1].idleReport, waits[1].worstQuery - waits[1].idleQuery))} s` : ''}.
Longest time readers were held back by the writer: **${fmt(waits[0].heldBack)} s**${waits[1] ? ` (previous build: ${fmt(waits[1].heldBack)} s)` : ''}.
During a big merge readers read the read snapshot (the lakehouse before the load); what a reader can still wait for is
the writer getting the lock (the readers already in the lakehouse finishing) and the short writes (the 'running'
ledger row, the run's start and end).

The snapshot's copy: the lakehouse after the load (${fmt(lakeBytes / 2 ** 20, 0)} MiB) copied as the writer copies it (a child process,
\`copyFileSync\` with COPYFILE_FICLONE: a reflink where the file system has them, else a full copy), 3 times: median **${fmt(median(copyRuns.map((c) => c.seconds)))} s**
(${copyRuns.map((c) => `${fmt(c.seconds)} s at load avg ${fmt(c.before, 1)}/${fmt(c.after, 1)}`).join(', ')}). A writer that copied under its
write lock would add this to every reader's wait; this build copies before it asks for the lock (under a read lock,
beside the readers) and only checks, under the lock, that the file has not changed since.

Load time, ${ROUNDS} rounds alternating (medians; CPU = user + system of the process; "busy" = a 1-minute load average
above ${1.5 * CORES} on these ${CORES} cores):

| run | wall s | CPU s | peak RSS MiB | load avg before/after each run | ratio (CTAS wall / wall) |
| --- | ---: | ---: | ---: | --- | ---: |
${table.map((t) => `| ${t.name} | ${fmt(t.wall)} | ${fmt(t.cpu)} | ${t.rss} | ${t.las}${t.busy ? ' (busy)' : ''} | ${fmt(ctas.wall / t.wall)} |`).join('\n')}

This build's load is ${fmt(ctas.wall / ours.wall)}x the plain typed CTAS (goal >= 0.5)${prev ? ` and takes ${fmt(ours.wall / prev.wall)}x the previous build's time (goal <= 1.10)` : ''}.
`;
writeSection('readers', md);
if (!existsSync(out)) process.exit(0);
