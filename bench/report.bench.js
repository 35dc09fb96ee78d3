// report / export: on a lakehouse of BENCH_ROWS (default 5M) telemetry rows — raw tables filled with DuckDB SQL,
// marts built by the real `surgctl transform` — (1) `surgctl export telemetry_risk` to Parquet beside a plain
// DuckDB `COPY telemetry_risk TO ... (FORMAT parquet, COMPRESSION zstd)`, alternating runs, each in its own
// process (goal <= 1.3x); the same export as Arrow IPC once; (2) each report's median wall and CPU seconds
// in-process (open read-only, query, render JSON to a discarding sink, close; goal < 1 s), and one full CLI run.
// Busy or quiet comes from bench/lib.js (loadSpan, headline): on a busy machine each headline leads with CPU.
// REPORT_BENCH_DB=path reuses a lakehouse an earlier run made (it is kept in bench/out/report/ until run.js ends).
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alternate, BUSY_PER_CORE, duckdbApi, fmt, freshOut, headline, loadNote, loadSpan, median, pairHeader, pairRow, peakRssMiB, rate, rawVitalsSql, repeats, rows, time, writeSection } from './lib.js';

const self = fileURLToPath(import.meta.url);
const TEL = rows;
const PROCS = Math.max(8, Math.round(TEL / 2500));
const EVENTS = Math.floor(TEL / PROCS);
const PATIENTS = Math.max(4, Math.floor(PROCS / 2));
const VITALS_TICKS = Math.max(4, Math.round(TEL / 5 / PATIENTS / 10));

/** Raw rows as the generator's ranges (deterministic, hash-based), a ledger of 7 loads and some quarantine. */
const FILL = [
  `INSERT INTO raw_robots SELECT 'RB-' || i, 'SN-' || (1000 + i), ['da Vinci Xi', 'da Vinci X', 'Hugo RAS', 'Versius'][i % 4 + 1],
     ['Intuitive Surgical', 'Intuitive Surgical', 'Medtronic', 'CMR Surgical'][i % 4 + 1], 'FAC-' || (i % 4), DATE '2023-01-01', 'active',
     'L-robots', 'robots.csv', i + 2 FROM range(20) r(i)`,
  `INSERT INTO raw_patients SELECT 'PT-' || i, CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END, DATE '1950-01-01' + (i % 20000)::INTEGER,
     'FAC-' || (i % 4), 'L-patients', 'patients.csv', i + 2 FROM range(${PATIENTS}) r(i)`,
  `INSERT INTO raw_procedures SELECT 'PR-' || i, 'PT-' || (i // 2), 'RB-' || (i % 20), 'SG-' || (i % 50),
     ['prostatectomy','hysterectomy','cholecystectomy','hernia_repair','colectomy','nephrectomy','lobectomy','gastric_bypass'][i % 8 + 1],
     TIMESTAMPTZ '2026-01-05 06:00:00+00' + to_hours(i::BIGINT),
     TIMESTAMPTZ '2026-01-05 06:00:00+00' + to_hours(i::BIGINT) + to_seconds((${EVENTS} // 4)::BIGINT),
     'completed', 'L-procedures', 'procedures.csv', i + 2 FROM range(${PROCS}) r(i)`,
  `INSERT INTO raw_outcomes SELECT 'PR-' || i, ['success','success','success','minor_complication','major_complication'][i % 5 + 1],
     ['none','none','I','II','IIIa','IIIb','IVa','IVb','V'][i % 9 + 1], 1 + i % 7, i % 9 = 0, 'L-outcomes', 'outcomes.csv', i + 2
   FROM range(${PROCS}) r(i)`,
  `INSERT INTO raw_maintenance SELECT 'MT-' || i, 'RB-' || (i % 20), 'preventive', TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_days(i::BIGINT),
     4 + i % 5, 500 + 10 * i, 'L-maintenance', 'maintenance.csv', i + 2 FROM range(40) r(i)`,
  `INSERT INTO raw_telemetry (event_id, procedure_id, patient_id, robot_id, robot_arm, instrument, step, force_n, velocity_mm_s, latency_ms, error_code, recorded_at, _load_id, _source_file, _source_line)
   SELECT 'EV-' || i || '-' || j, 'PR-' || i, 'PT-' || (i // 2), 'RB-' || (i % 20), 'arm_' || (j % 4 + 1),
     ['needle_driver','endoscope','bipolar_forceps','prograsp_forceps'][j % 4 + 1],
     ['docking','port_placement','dissection','retraction','cauterization','suturing','stapling','irrigation','specimen_removal','closure','undocking'][(j * 11 // ${EVENTS}) + 1],
     round([12.0, 5.0, 8.0, 10.0][j % 4 + 1] * CASE WHEN h % 10007 = 0 THEN 1.6 + (h % 50) / 100.0 ELSE 0.2 + 0.3 * (h % 1000) / 1000.0 END, 2),
     round(10 + (h // 7) % 700 / 10.0, 1),
     CASE WHEN h % 5003 = 0 THEN 520 + h % 900 ELSE 30 + (h // 11) % 120 END,
     CASE WHEN h % 9973 = 0 THEN 'E-ARC' WHEN h % 661 = 0 THEN 'W-COMM' ELSE NULL END,
     TIMESTAMPTZ '2026-01-05 06:00:00+00' + to_hours(i::BIGINT) + to_milliseconds((j // 4) * 1000 + h % 997),
     'L-telemetry', 'telemetry.csv', i * ${EVENTS} + j + 2
   FROM (SELECT i, j, hash(i, j) AS h FROM range(${PROCS}) a(i), range(${EVENTS}) b(j))`,
  rawVitalsSql(`range(${PATIENTS})`, VITALS_TICKS, "'L-vitals'"),
  `INSERT INTO quarantine (load_id, file, line, "row", dataset, raw, errors, rule, quarantined_at)
   SELECT 'L-telemetry', 'telemetry.csv', 10 + i * 1000, 9 + i * 1000, 'telemetry', '{}', '[]', ['type', 'enum', 'minimum', 'required'][i % 4 + 1],
     TIMESTAMPTZ '2026-01-05 00:00:00+00' FROM range(${Math.max(4, Math.round(TEL / 1000))}) r(i)`,
  `INSERT INTO loads (load_id, path, sha256, bytes, dataset, started_at, finished_at, status, rows_read, rows_inserted, rows_duplicate, rows_quarantined)
   SELECT 'L-' || d, d || '.csv', md5(d), 0, d, TIMESTAMPTZ '2026-01-05 00:00:00+00' + to_minutes(k), TIMESTAMPTZ '2026-01-05 00:00:00+00' + to_minutes(k + 1),
     'succeeded', n + q, n, 0, q
   FROM (VALUES (0, 'robots', 20, 0), (1, 'patients', ${PATIENTS}, 0), (2, 'procedures', ${PROCS}, 0), (3, 'outcomes', ${PROCS}, 0),
     (4, 'maintenance', 40, 0), (5, 'telemetry', ${PROCS * EVENTS}, ${Math.max(4, Math.round(TEL / 1000))}), (6, 'vitals', ${PATIENTS * VITALS_TICKS * 10}, 0)) v(k, d, n, q)`,
];

// [label, filters]: 'procedure' and 'patient' become the riskiest procedure and patient. The search rows show its two
// paths: the text alone (and id filters) reads telemetry_search, a time window or --min-level the events themselves.
const REPORTS = [
  ['summary', {}], ['patient-risk', {}], ['procedure-risk', {}], ['top-alerts', {}], ['vitals-hourly', {}], ['news2', {}],
  ['trends', {}], ['robot-kpis', {}], ['outcomes', {}], ['data-quality', {}], ['timeline', { procedure: 'procedure' }],
  ['timeline --patient', { patient: 'patient' }], ['search', { text: 'sutur' }], ['search --min-level high', { text: 'sutur', minLevel: 'high' }],
  ['search --since', { text: 'sutur', since: '2026-01-06' }],
  ['vitals-hourly --patient', { patient: 'patient' }], ['news2 --patient', { patient: 'patient' }], ['vitals-hourly --all', { all: true }],
];

async function phaseRun(name, dbPath, outPath) {
  const { openDb } = await import('../dist/db/db.js');
  if (name === 'make') {
    const { migrate } = await import('../dist/core/load/migrations.js');
    const { runTransform } = await import('../dist/core/transform/transform.js');
    const { Lakehouse } = await import('../dist/db/lakehouse.js');
    const db = await openDb(dbPath);
    const fill = await time(async () => {
      try {
        await migrate(db);
        for (const sql of FILL) await db.run(sql);
      } finally {
        db.close();
      }
    });
    const tr = await time(() => runTransform({ cwd: process.cwd(), env: {}, fullRefresh: true }, { lake: new Lakehouse({ path: dbPath }) }));
    if (tr.value.tests_failed > 0) process.stderr.write(`note: ${tr.value.tests_failed} model tests failed on the bench data\n`);
    return { fill: fill.seconds, transform: tr.seconds };
  }
  if (name === 'copy') {
    // The plain statement with DuckDB's defaults, on the lakehouse opened read-only.
    const { DuckDBInstance } = duckdbApi();
    const r = await time(async () => {
      const inst = await DuckDBInstance.create(dbPath, { access_mode: 'READ_ONLY' });
      const con = await inst.connect();
      try {
        await con.run(`COPY telemetry_risk TO '${outPath.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION zstd)`);
      } finally {
        con.closeSync();
        inst.closeSync();
      }
    });
    return { seconds: r.seconds, bytes: statSync(outPath).size };
  }
  if (name === 'export' || name === 'arrow') {
    const { exportTable } = await import('../dist/core/export/index.js');
    const { Lakehouse } = await import('../dist/db/lakehouse.js');
    const r = await time(() => exportTable({ table: 'telemetry_risk', out: outPath, format: name === 'arrow' ? 'arrow' : 'parquet', force: true }, { lake: new Lakehouse({ path: dbPath }) }));
    return { seconds: r.seconds, rows: r.value.rows, bytes: statSync(outPath).size };
  }
  if (name === 'reports') {
    const { runReport } = await import('../dist/core/report/index.js');
    const { renderJson } = await import('../dist/render/json.js');
    const { Lakehouse } = await import('../dist/db/lakehouse.js');
    const [procedure, patient] = await new Lakehouse({ path: dbPath }).withReader(async (db) => [
      await db.scalar('SELECT procedure_id FROM procedure_risk ORDER BY critical_alerts DESC, avg_risk DESC, procedure_id LIMIT 1'),
      await db.scalar('SELECT patient_id FROM patient_risk ORDER BY critical_alerts DESC, avg_risk DESC, patient_id LIMIT 1'),
    ]);
    const out = {};
    for (const [label, given] of REPORTS) {
      const report = label.split(' ')[0];
      const filters = Object.fromEntries(Object.entries(given).map(([k, v]) => [k, v === 'procedure' ? procedure : v === 'patient' ? patient : v]));
      let bytes = 0;
      let n = 0;
      const cpu = [];
      const sink = { write: (s) => (bytes += s.length) };
      const r = await median(async () => {
        bytes = 0;
        const c0 = process.cpuUsage();
        const res = await runReport({ name: report, filters, target: { format: 'json', stdout: sink, render: renderJson } }, { lake: new Lakehouse({ path: dbPath }) });
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1e6);
        n = res.rows;
      }, Math.max(3, repeats + 2));
      const cpuSeconds = cpu.sort((a, b) => a - b)[Math.floor(cpu.length / 2)];
      out[label] = { seconds: r.seconds, cpuSeconds, rows: n, bytes };
      process.stderr.write(`  ${label}: ${fmt(r.seconds, 3)} s, ${fmt(cpuSeconds, 3)} CPU s, ${n} rows\n`);
    }
    return out;
  }
  throw new Error(`unknown phase ${name}`);
}

function phase(name, dbPath, outPath = '') {
  const r = spawnSync(process.execPath, [self, name, dbPath, outPath], {
    encoding: 'utf8',
    env: { ...process.env, SURGCTL_THREADS: process.env.SURGCTL_THREADS ?? '2' },
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    process.exit(1);
  }
  process.stderr.write(r.stderr);
  return JSON.parse(r.stdout);
}

if (process.argv[2]) {
  const [, , name, dbPath, outPath] = process.argv;
  const result = await phaseRun(name, dbPath, outPath);
  const ru = process.resourceUsage();
  process.stdout.write(JSON.stringify({ ...result, cpuSeconds: (ru.userCPUTime + ru.systemCPUTime) / 1e6, rssMiB: peakRssMiB() }));
} else {
  const out = freshOut('report');
  const loadBefore = loadavg()[0];
  let dbPath = process.env.REPORT_BENCH_DB;
  let made = null;
  if (!dbPath || !existsSync(dbPath)) {
    dbPath = join(out, 'lake.duckdb');
    rmSync(dbPath, { force: true });
    process.stderr.write(`report bench: making a ${TEL.toLocaleString('en-US')}-row lakehouse (SQL fill + surgctl transform)...\n`);
    made = phase('make', dbPath);
    process.stderr.write(`  ${JSON.stringify(made)}\n`);
  }
  const pair = alternate('export', () => phase('export', dbPath, join(out, 'export.parquet')), () => phase('copy', dbPath, join(out, 'copy.parquet')));
  const copy = pair.b;
  const exp = { ...pair.a, rows: pair.a.last.rows, bytes: pair.a.last.bytes };
  copy.bytes = pair.b.last.bytes;
  const arrow = phase('arrow', dbPath, join(out, 'export.arrow'));
  process.stderr.write(`  arrow ${fmt(arrow.seconds)} s\n`);
  const reportsLoads = [loadavg()[0]];
  const reports = phase('reports', dbPath);
  reportsLoads.push(loadavg()[0]);
  const reportsSpan = loadSpan(reportsLoads);
  const cli = await time(() =>
    spawnSync(process.execPath, [join(self, '..', '..', 'bin', 'surgctl.js'), 'report', 'top-alerts', '--db', dbPath], { encoding: 'utf8' }),
  );
  const telRows = exp.rows;
  const loadAfter = loadavg()[0];
  // Judged by wall time on a quiet machine; by CPU seconds on a busy one, where a report waits for a core most of its wall time.
  const by = reportsSpan.busy ? 'cpuSeconds' : 'seconds';
  const limited = Object.entries(reports).filter(([k, v]) => typeof v === 'object' && !k.endsWith('--all'));
  const worst = limited.sort((a, b) => b[1][by] - a[1][by])[0];
  const over = limited.filter(([, v]) => v[by] >= 1).map(([k]) => k);
  const md = `## report and export

A lakehouse of ${telRows.toLocaleString('en-US')} telemetry rows (${PROCS.toLocaleString('en-US')} procedures, ${PATIENTS.toLocaleString('en-US')} patients,
${(PATIENTS * VITALS_TICKS * 10).toLocaleString('en-US')} vitals rows): raw tables filled with DuckDB SQL${made ? ` (${fmt(made.fill, 1)} s)` : ''}, marts built by the real
\`surgctl transform\`${made ? ` (${fmt(made.transform, 1)} s)` : ''}; 2 threads; lakehouse file ${fmt(statSync(dbPath).size / 2 ** 20, 0)} MiB. Each export run is its own
process (open read-only, write, close), alternating with the baseline (A B A B ...); medians of ${repeats} pairs; CPU s =
the child's user + system. Load during the pairs: ${loadNote(pair)}; for the whole bench ${fmt(loadBefore, 1)} at the
start and ${fmt(loadAfter, 1)} at the end, on ${cpus().length} cores.

${pairHeader('time')}
${pairRow('`surgctl export telemetry_risk --out x.parquet` (metadata, temp + rename) vs `COPY ... TO (FORMAT parquet, COMPRESSION zstd)`', pair, 'time')}

| export of telemetry_risk | seconds | CPU s | rows/s | file | peak RSS | vs COPY |
|---|---:|---:|---:|---:|---:|---:|
| plain DuckDB \`COPY ... TO (FORMAT parquet, COMPRESSION zstd)\` | ${fmt(copy.seconds)} | ${fmt(copy.cpuSeconds)} | ${rate(telRows, copy.seconds)} | ${fmt(copy.bytes / 2 ** 20, 0)} MiB | ${copy.rssMiB} MiB | 1.00x |
| \`surgctl export telemetry_risk --out x.parquet\` (metadata, temp + rename) | ${fmt(exp.seconds)} | ${fmt(exp.cpuSeconds)} | ${rate(telRows, exp.seconds)} | ${fmt(exp.bytes / 2 ** 20, 0)} MiB | ${exp.rssMiB} MiB | ${fmt(exp.seconds / copy.seconds)}x |
| \`surgctl export telemetry_risk --format arrow\` (JS-built Arrow IPC, one run) | ${fmt(arrow.seconds)} | ${fmt(arrow.cpuSeconds)} | ${rate(telRows, arrow.seconds)} | ${fmt(arrow.bytes / 2 ** 20, 0)} MiB | ${arrow.rssMiB} MiB | ${fmt(arrow.seconds / copy.seconds)}x |

Goal: Parquet export <= 1.3x the plain COPY: ${headline(pair, `${fmt(exp.seconds / copy.seconds)}x wall`, `${fmt(exp.cpuSeconds / copy.cpuSeconds)}x CPU`)}.

Report latency, in-process \`runReport\` to JSON (open the lakehouse read-only, query, render to a discarding sink,
close), median of ${Math.max(3, repeats + 2)} runs, wall and CPU seconds (the process's user + system, all threads), default limits (top-alerts 20,
search 100, vitals-hourly, news2 and timeline 1000; timeline of the riskiest procedure, and of the riskiest patient; the
\`--patient\` rows are the riskiest patient, the way a clinician reads them; \`search --since 2026-01-06\`; \`--all\` is
every row, what a JSON consumer of the whole mart asks for). Load: ${reportsSpan.busy ? '**busy**' : 'quiet'} (1-minute load average
${fmt(reportsLoads[0], 1)} before, ${fmt(reportsLoads[1], 1)} after; busy above ${fmt(BUSY_PER_CORE * reportsSpan.cores, 1)}).

| report | median wall s | median CPU s | rows | JSON bytes |
|---|---:|---:|---:|---:|
${REPORTS.map(([r]) => `| ${r} | ${fmt(reports[r].seconds, 3)} | ${fmt(reports[r].cpuSeconds, 3)} | ${reports[r].rows.toLocaleString('en-US')} | ${reports[r].bytes.toLocaleString('en-US')} |`).join('\n')}

Goal: each < 1 s with its default limit: slowest ${headline(reportsSpan, `${worst[0]} ${fmt(worst[1].seconds, 3)} s wall`, `${worst[0]} ${fmt(worst[1].cpuSeconds, 3)} CPU s`)}${over.length ? `; at or over 1 ${reportsSpan.busy ? 'CPU ' : ''}s: ${over.join(', ')}` : `; every report under 1 ${reportsSpan.busy ? 'CPU ' : ''}s`}. Peak RSS of the report
process ${reports.rssMiB} MiB. One full CLI run
(\`node bin/surgctl.js report top-alerts\`, Node start-up included): ${fmt(cli.seconds, 2)} s.
`;
  writeSection('report', md);
}
