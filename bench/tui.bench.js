// surgctl tui at scale: time from spawning `surgctl tui` in a real terminal (tmux, 120x30) until the first frame
// shows the list, and until it answers a key; the data layer's page, search and detail times deep in the list; the
// browser's peak RSS after walking the list. The plain DuckDB equivalent (a node process that opens the file and
// runs the same counts + first page) runs in the same run for the ratio.
// Marts: alerts, alert_episodes (and a little telemetry_risk, vitals_hourly, news2_hourly) made by SQL from
// range() to the cross-stage contract, as test/core/tui-data/fixture.ts does: the real pipeline yields about one
// alert per 5,000 telemetry rows, so 100,000 alerts would need ~500M rows.
// BENCH_TUI_ALERTS=100000,1000000 (default) sets the sizes; BENCH_REPEATS the runs per median (default 5 here).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { benchDir, BUSY_PER_CORE, fmt, freshOut, peakRssMiB, writeSection } from './lib.js';
import { openDb } from '../dist/db/db.js';
import { DEFAULT_VIEW, openAlertStore } from '../dist/core/tui-data/index.js';
import { Lakehouse } from '../dist/db/lakehouse.js';

const sizes = (process.env.BENCH_TUI_ALERTS ?? '100000,1000000').split(',').map(Number).filter((n) => n > 0);
const repeats = Number(process.env.BENCH_REPEATS ?? 5);
const BIN = resolve(benchDir, '..', 'bin', 'surgctl.js');
const TMUX = ['/usr/bin/tmux', '/usr/local/bin/tmux'].find((p) => existsSync(p));
if (!TMUX) {
  console.error('tui bench needs tmux (/usr/bin/tmux): not found');
  process.exit(2);
}
const SOCKET = `surgctl-bench-${process.pid}`;
const tmux = (...args) => spawnSync(TMUX, ['-L', SOCKET, ...args], { encoding: 'utf8' });
const ms = (s) => `${Math.round(s * 1000)} ms`;
const pause = new Int32Array(new SharedArrayBuffer(4));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function buildLake(path, n) {
  rmSync(path, { force: true });
  const db = await openDb(path);
  try {
    await db.run(`CREATE TABLE alerts AS
      WITH a AS (
        SELECT i, i // 60 AS p, (i % 60) // 15 AS arm, (i % 15) * 8 + 3 AS sec FROM range($n) t(i)
      ), b AS (SELECT *, (p * 31 + arm * 7 + sec) % 10 AS h FROM a)
      SELECT 'AL-EV-' || lpad(i::VARCHAR, 10, '0') AS alert_id, 'EV-' || lpad(i::VARCHAR, 10, '0') AS event_id,
             'PR-' || lpad(p::VARCHAR, 6, '0') AS procedure_id, 'PT-' || lpad((p // 2)::VARCHAR, 6, '0') AS patient_id,
             'RB-' || lpad((p % 9)::VARCHAR, 3, '0') AS robot_id, 'arm_' || (arm + 1) AS robot_arm,
             ['needle_driver', 'monopolar_scissors', 'bipolar_forceps', 'endoscope'][arm + 1] AS instrument,
             ['docking', 'dissection', 'retraction', 'suturing', 'stapling', 'closure'][(sec // 20) + 1] AS step,
             TIMESTAMPTZ '2026-01-05 00:00:00+00' + to_minutes(p * 37) + to_seconds(sec) AS "at",
             CASE WHEN h < 2 THEN 'critical' WHEN h < 5 THEN 'high' ELSE 'medium' END AS level,
             CASE WHEN h < 2 THEN 4 WHEN h < 5 THEN 3 ELSE 2 END::INTEGER AS level_rank,
             (CASE WHEN h < 2 THEN 7 WHEN h < 5 THEN 5 ELSE 3 END + (h + sec) % 2)::INTEGER AS risk_score,
             CASE WHEN h % 2 = 0 THEN ['force'] ELSE ['latency'] END AS triggers,
             CASE WHEN h % 2 = 0 THEN printf('force %.1f N = %.2fx limit', 10.0 + h, (10 + h) / 12.0)
                  ELSE printf('latency %d ms (>500)', 500 + h * 17) END AS reason,
             CASE WHEN h = 0 THEN 'E-MOTION' END AS error_code
      FROM b`, { n });
    await db.run(`CREATE TABLE alert_episodes AS
      SELECT 'EP-' || min(event_id) AS episode_id, procedure_id, min(patient_id) AS patient_id, min(robot_id) AS robot_id,
             robot_arm, min("at") AS started_at, max("at") AS ended_at, count(*)::INTEGER AS alerts,
             arg_max(level, level_rank) AS level, max(level_rank)::INTEGER AS level_rank,
             max(risk_score)::INTEGER AS risk_score, arg_max(reason, risk_score) AS reason
      FROM alerts GROUP BY procedure_id, robot_arm, (epoch(("at")) // 40)`);
    // Telemetry for the first 200 procedures only (the detail pane's sparkline), 1 Hz per arm.
    await db.run(`CREATE TABLE telemetry_risk AS
      SELECT 'EV-T' || i AS event_id, 'PR-' || lpad((i // 480)::VARCHAR, 6, '0') AS procedure_id,
             'PT-' || lpad((i // 960)::VARCHAR, 6, '0') AS patient_id, 'RB-' || lpad(((i // 480) % 9)::VARCHAR, 3, '0') AS robot_id,
             'arm_' || ((i % 480) // 120 + 1) AS robot_arm, 'needle_driver' AS instrument, 'suturing' AS step,
             TIMESTAMPTZ '2026-01-05 00:00:00+00' + to_minutes((i // 480) * 37) + to_seconds(i % 120) AS recorded_at,
             5 + sin(i / 7.0) * 3 AS force_n, 20.0 AS velocity_mm_s, 150 + cos(i / 11.0) * 60 AS latency_ms,
             NULL::VARCHAR AS error_code, 0 AS latency_score, 0 AS force_score, 0 AS error_score, false AS force_spike,
             0 AS risk_score, 'none' AS risk_level
      FROM range(200 * 480) t(i)`);
    await db.run(`CREATE TABLE vitals_hourly AS
      SELECT patient_id, m.metric, hour_start, 4::BIGINT AS n, 70.0 AS min, 90.0 AS max, 80.0 AS avg, 88.0 AS p95
      FROM (SELECT DISTINCT patient_id, date_trunc('hour', "at") AS hour_start FROM alerts)
      CROSS JOIN (VALUES ('heart_rate'), ('resp_rate'), ('spo2')) m(metric)`);
    await db.run(`CREATE TABLE news2_hourly AS
      SELECT patient_id, hour_start, 3 AS news2_total, 'low-medium' AS news2_band, []::VARCHAR[] AS missing,
             0 AS resp_rate_score, 0 AS spo2_score, 0 AS o2_supplemental_score, 0 AS systolic_bp_score,
             3 AS heart_rate_score, 0 AS consciousness_score, 0 AS temperature_score
      FROM (SELECT DISTINCT patient_id, date_trunc('hour', "at") AS hour_start FROM alerts)`);
    await db.run('CHECKPOINT');
  } finally {
    db.close();
  }
}

/** Polls the pane until `re` shows; returns seconds since t0 (hrtime ns). */
function waitScreen(session, re, t0, limitS = 60) {
  for (;;) {
    const out = tmux('capture-pane', '-p', '-t', session).stdout ?? '';
    if (re.test(out)) return Number(process.hrtime.bigint() - t0) / 1e9;
    if (Number(process.hrtime.bigint() - t0) / 1e9 > limitS) throw new Error(`timed out waiting for ${re}:\n${out}`);
    // A short pause between polls keeps the poller off the 2 cores the browser needs (10 ms resolution).
    Atomics.wait(pause, 0, 0, 10);
  }
}

/** Waits until the pane's output stream (pipe-pane into `file`) contains `re`; returns seconds since t0. */
function waitStream(file, re, t0, limitS = 60) {
  for (;;) {
    const out = existsSync(file) ? readFileSync(file, 'latin1') : '';
    if (re.test(out)) return Number(process.hrtime.bigint() - t0) / 1e9;
    if (Number(process.hrtime.bigint() - t0) / 1e9 > limitS) throw new Error(`timed out waiting for ${re} in ${file}`);
    Atomics.wait(pause, 0, 0, 2);
  }
}

/**
 * One timed start: a fresh tmux session runs the command and, in the same tmux call, pipe-pane streams the pane's
 * output into a file, which this process reads (no tmux client per poll: polling capture-pane costs ~40 ms of CPU
 * a time and slowed the browser it measured). Returns seconds to the first frame and to the answer to `j`.
 */
function openOnce(db, i, rssFile) {
  const session = `s${i}`;
  const stream = join(out, `stream-${i}.txt`);
  rmSync(stream, { force: true });
  const cmd = rssFile
    ? `/usr/bin/time -o ${rssFile} -f %M ${process.execPath} ${BIN} tui --db ${db}; sleep 60`
    : `${process.execPath} ${BIN} tui --db ${db}; sleep 60`;
  const t0 = process.hrtime.bigint();
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '30', '-e', 'NO_COLOR=1', '-e', 'SURGCTL_USER=bench', cmd,
    ';', 'pipe-pane', '-o', '-t', session, `cat >> ${stream}`);
  const frame = waitStream(stream, /row 1 of [\d,]+/, t0);
  tmux('send-keys', '-t', session, 'j');
  const key = waitStream(stream, /row 2 of [\d,]+/, t0);
  return { frame, key, session };
}

function quit(session) {
  tmux('send-keys', '-t', session, 'q');
  for (let i = 0; i < 500; i++) {
    if (!/row \d/.test(tmux('capture-pane', '-p', '-t', session).stdout ?? '')) break;
  }
  tmux('kill-session', '-t', session);
}

function timeProcess(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const plainDuckDb = (db) => [
  '--input-type=module', '-e',
  `import { createRequire } from 'node:module';
   const { DuckDBInstance } = createRequire(${JSON.stringify(import.meta.filename)})('@duckdb/node-api');
   const i = await DuckDBInstance.create(${JSON.stringify(db)}, { access_mode: 'READ_ONLY', threads: '2' });
   const c = await i.connect();
   await c.runAndReadAll('SELECT level, count(*) FROM alerts GROUP BY level');
   const r = await c.runAndReadAll('SELECT * FROM alerts WHERE level_rank >= 2 ORDER BY risk_score DESC, "at" DESC, alert_id DESC LIMIT 48');
   if (r.currentRowCount !== 48) process.exit(1);
   c.closeSync(); i.closeSync();`,
];

async function dataLayer(db, n) {
  const timed = async (fn) => {
    const xs = [];
    let v;
    for (let i = 0; i < repeats; i++) {
      const t0 = process.hrtime.bigint();
      v = await fn();
      xs.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    return { s: median(xs), v };
  };
  const open = await timed(async () => {
    const s = await openAlertStore({ user: 'bench' }, { lake: new Lakehouse({ path: db }) });
    await s.counts(DEFAULT_VIEW);
    await s.page(DEFAULT_VIEW, { limit: 48 });
    s.close();
  });
  const store = await openAlertStore({ user: 'bench' }, { lake: new Lakehouse({ path: db }) });
  try {
    const all = await store.page(DEFAULT_VIEW, { fromEnd: true, limit: 48 });
    const deep = all[0].key;
    const page = await timed(() => store.page(DEFAULT_VIEW, { after: deep, limit: 48 }));
    const back = await timed(() => store.page(DEFAULT_VIEW, { before: deep, limit: 48 }));
    const last = await timed(() => store.page(DEFAULT_VIEW, { fromEnd: true, limit: 48 }));
    // `/` filters the list (the text in reason, step, patient or procedure): counts and the first page.
    const find = await timed(async () => {
      const spec = { ...DEFAULT_VIEW, filter: 'suturing' };
      await store.counts(spec);
      return store.page(spec, { limit: 48 });
    });
    const [top] = await store.page(DEFAULT_VIEW, { limit: 1 });
    const detail = await timed(() => store.detail(top, { buckets: 60 }));
    const episodes = await timed(() => store.page({ ...DEFAULT_VIEW, mode: 'episodes' }, { limit: 48 }));
    const patient = await timed(async () => {
      const spec = { ...DEFAULT_VIEW, patientId: top.patientId };
      await store.counts(spec);
      return store.page(spec, { limit: 48 });
    });
    return { n, open: open.s, page: page.s, back: back.s, last: last.s, find: find.s, detail: detail.s, episodes: episodes.s, patient: patient.s };
  } finally {
    store.close();
  }
}

const startLoad = loadavg()[0].toFixed(1);
const busyAt = BUSY_PER_CORE * cpus().length;
const out = freshOut('tui');
mkdirSync(out, { recursive: true });
const rows = [];
try {
  // Each pair alternates, so a machine that gets busier slows both alike.
  const help = [];
  const bare = [];
  for (let i = 0; i < repeats; i++) {
    help.push(timeProcess([BIN, '--help']));
    bare.push(timeProcess(['-e', '0']));
  }
  for (const n of sizes) {
    const db = join(out, `lake-${n}.duckdb`);
    const t0 = process.hrtime.bigint();
    await buildLake(db, n);
    const built = Number(process.hrtime.bigint() - t0) / 1e9;
    console.error(`tui bench: ${n.toLocaleString('en-US')} alerts built in ${fmt(built)} s`);
    // surgctl tui and the plain DuckDB process alternate (A B A B ...), with the 1-minute load average around each pair.
    const plain = [];
    const frames = [];
    const keys = [];
    const loads = [];
    for (let i = 0; i < repeats; i++) {
      const before = loadavg()[0];
      const r = openOnce(db, `${n}-${i}`);
      frames.push(r.frame);
      keys.push(r.key);
      quit(r.session);
      plain.push(timeProcess(plainDuckDb(db)));
      loads.push([before, loadavg()[0]]);
    }
    // Peak RSS of the browser after walking the list: 40 pages down, to the end, back to the top.
    const rssFile = join(out, `rss-${n}.txt`);
    const r = openOnce(db, `${n}-rss`, rssFile);
    const t1 = process.hrtime.bigint();
    for (let i = 0; i < 40; i++) tmux('send-keys', '-t', r.session, 'NPage');
    waitScreen(r.session, new RegExp(`row ${(1 + 1 + 40 * 24).toLocaleString('en-US')} of`), t1);
    tmux('send-keys', '-t', r.session, 'G');
    waitScreen(r.session, new RegExp(`row ${n.toLocaleString('en-US')} of`), t1);
    const walkEnd = Number(process.hrtime.bigint() - t1) / 1e9;
    tmux('send-keys', '-t', r.session, 'g');
    waitScreen(r.session, /row 1 of/, t1);
    tmux('send-keys', '-t', r.session, 'q');
    const kib = () => (existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) : 0);
    for (let i = 0; i < 200 && !(kib() > 0); i++) await new Promise((res) => setTimeout(res, 50));
    tmux('kill-session', '-t', r.session);
    const rss = Math.round(kib() / 1024);
    const layer = await dataLayer(db, n);
    rows.push({ n, built, frame: median(frames), frames, key: median(keys), plain: median(plain), rss, walkEnd, layer, loads });
  }
  const section = [
    '## tui: opening `surgctl tui` on a large lakehouse',
    '',
    'Spawned in tmux (120x30) with `node bin/surgctl.js tui --db FILE`, the pane\'s output streamed to a file',
    '(pipe-pane). "first frame": wall time from the spawn until the list shows (counts, filters, the first page of',
    'rows; painted from the data before ink loads). "answers a key": until `j` has moved the selection (ink mounted).',
    'The plain DuckDB equivalent is a node process that opens the same file read-only and runs the same counts and',
    'first page with @duckdb/node-api; `surgctl --help` and `node -e 0` are the process-start floors.',
    `Medians of ${repeats}. Marts made by SQL to the contract (the real pipeline yields ~1 alert per 5,000 telemetry rows).`,
    '',
    '| alerts | first frame | answers a key | plain DuckDB process | ratio | `surgctl --help` | `node -e 0` | runs (first frame) | peak RSS after 40 PgDn, G, g | load before->after each pair |',
    '|---:|---:|---:|---:|---:|---:|---:|---|---:|---|',
    ...rows.map((r) => `| ${r.n.toLocaleString('en-US')} | ${ms(r.frame)} | ${ms(r.key)} | ${ms(r.plain)} | ${fmt(r.frame / r.plain, 1)}x | ${ms(median(help))} | ${ms(median(bare))} | ${r.frames.map((f) => Math.round(f * 1000)).join(', ')} | ${r.rss} MiB | ${r.loads.map(([a, b]) => `${fmt(a, 1)}->${fmt(b, 1)}`).join(', ')}${r.loads.some(([a, b]) => Math.max(a, b) > busyAt) ? ' **busy**' : ' quiet'} |`),
    '',
    'Data layer in one process (the same calls the browser makes), medians, 48-row pages:',
    '',
    '| alerts | open + counts + first page | page deep in the list | page back | last page (G) | `/` filter: counts + first page | detail | episodes page | patient filter |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(({ layer: l }) => `| ${l.n.toLocaleString('en-US')} | ${ms(l.open)} | ${ms(l.page)} | ${ms(l.back)} | ${ms(l.last)} | ${ms(l.find)} | ${ms(l.detail)} | ${ms(l.episodes)} | ${ms(l.patient)} |`),
    '',
    `Goal: first frame under 1 s. Load average at the start / end of the run: ${startLoad} / ${loadavg()[0].toFixed(1)} (${cpus().length} shared cores; busy above ${fmt(busyAt, 1)}).`,
    `Bench process peak RSS ${peakRssMiB()} MiB.`,
  ].join('\n');
  writeSection('tui', section);
} finally {
  tmux('kill-server');
  rmSync(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, SOCKET), { force: true });
}
