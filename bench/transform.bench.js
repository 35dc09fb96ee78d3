// transform: a full `surgctl transform` over BENCH_ROWS (default 5M) telemetry rows and BENCH_ROWS / 5 vitals rows,
// made with DuckDB SQL straight into the raw tables, beside the same aggregations written as plain DuckDB queries
// (hard-coded thresholds, no runner, no model tests) in the same lakehouse; then an incremental transform after a
// 1% load, against the full one. Each phase runs in its own process so its peak RSS is its own.
import { rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alternate, childMain, duckdbApi, fmt, freshOut, loadNote, pairHeader, pairRow, rawVitalsSql, repeats, rows, runChild, time, writeSection } from './lib.js';

const self = fileURLToPath(import.meta.url);
const phase = process.argv[2];

const TEL = rows;
const PROCS = Math.max(8, Math.round(TEL / 2500));
const EVENTS = Math.floor(TEL / PROCS);
const PATIENTS = Math.max(4, Math.floor(PROCS / 2));
const VITALS_TICKS = Math.max(4, Math.round(TEL / 5 / PATIENTS / 10));
const NEW_PROCS = Math.max(1, Math.round(PROCS / 100));

/** Raw rows for procedures [p0, p1) and their patients, deterministic (hash-based), as the generator's ranges. */
async function fill(db, load, p0, p1) {
  const pt0 = Math.floor(p0 / 2);
  const pt1 = Math.ceil(p1 / 2);
  const all = { load, p0, p1, pt0, pt1, events: EVENTS, ticks: VITALS_TICKS };
  // DuckDB refuses parameters a statement does not use: bind exactly the ones named in it.
  const run = (sql) => db.run(sql, Object.fromEntries(Object.entries(all).filter(([k]) => new RegExp(`\\$${k}\\b`).test(sql))));
  await run(`INSERT INTO raw_robots SELECT 'RB-' || i, 'SN-' || (1000 + i), 'da Vinci Xi', 'Intuitive Surgical', 'FAC-' || (i % 4),
      DATE '2023-01-01', 'active', $load, 'robots.csv', i + 2 FROM range(20) r(i)
    WHERE NOT EXISTS (SELECT 1 FROM raw_robots x WHERE x.robot_id = 'RB-' || i)`);
  await run(`INSERT INTO raw_patients SELECT 'PT-' || i, CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END, DATE '1950-01-01' + (i % 20000)::INTEGER,
      'FAC-' || (i % 4), $load, 'patients.csv', i + 2 FROM range($pt0, $pt1) r(i)
    WHERE NOT EXISTS (SELECT 1 FROM raw_patients x WHERE x.patient_id = 'PT-' || i)`);
  await run(`INSERT INTO raw_procedures SELECT 'PR-' || i, 'PT-' || (i // 2), 'RB-' || (i % 20), 'SG-' || (i % 50),
      ['prostatectomy','hysterectomy','cholecystectomy','hernia_repair','colectomy','nephrectomy','lobectomy','gastric_bypass'][i % 8 + 1],
      TIMESTAMPTZ '2026-01-05 06:00:00+00' + to_hours(i::BIGINT),
      TIMESTAMPTZ '2026-01-05 06:00:00+00' + to_hours(i::BIGINT) + to_seconds(($events // 4)::BIGINT),
      'completed', $load, 'procedures.csv', i + 2 FROM range($p0, $p1) r(i)`);
  await run(`INSERT INTO raw_outcomes SELECT 'PR-' || i, ['success','success','success','minor_complication','major_complication'][i % 5 + 1],
      ['none','none','I','II','IIIa','IIIb','IVa','IVb','V'][i % 9 + 1], 1 + i % 7, i % 9 = 0, $load, 'outcomes.csv', i + 2
    FROM range($p0, $p1) r(i)`);
  await run(`INSERT INTO raw_maintenance SELECT 'MT-' || $load || '-' || i, 'RB-' || (i % 20), 'preventive', TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_days(i::BIGINT),
      4 + i % 5, 500 + 10 * i, $load, 'maintenance.csv', i + 2 FROM range(40) r(i)`);
  await run(`INSERT INTO raw_telemetry (event_id, procedure_id, patient_id, robot_id, robot_arm, instrument, step, force_n, velocity_mm_s, latency_ms, error_code, recorded_at, _load_id, _source_file, _source_line)
    SELECT 'EV-' || i || '-' || j, 'PR-' || i, 'PT-' || (i // 2), 'RB-' || (i % 20), 'arm_' || (j % 4 + 1),
      ['needle_driver','endoscope','bipolar_forceps','prograsp_forceps'][j % 4 + 1], 'dissection',
      round([12.0, 5.0, 8.0, 10.0][j % 4 + 1] * CASE WHEN h % 10007 = 0 THEN 1.6 + (h % 50) / 100.0 ELSE 0.2 + 0.3 * (h % 1000) / 1000.0 END, 2),
      round(10 + (h // 7) % 700 / 10.0, 1),
      CASE WHEN h % 5003 = 0 THEN 520 + h % 900 ELSE 30 + (h // 11) % 120 END,
      CASE WHEN h % 9973 = 0 THEN 'E-ARC' WHEN h % 661 = 0 THEN 'W-COMM' ELSE NULL END,
      TIMESTAMPTZ '2026-01-05 06:00:00+00' + to_hours(i::BIGINT) + to_milliseconds((j // 4) * 1000),
      $load, 'telemetry.csv', j + 2
    FROM (SELECT i, j, hash(i, j) AS h FROM range($p0, $p1) a(i), range($events) b(j))`);
  await run(rawVitalsSql('range($pt0, $pt1)', '$ticks', '$load'));
}

/** CPU seconds (user + system, every thread of the process) since `from` (a process.cpuUsage() reading). */
const cpuOf = (from) => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
};

/** The model each baseline statement stands for (models without one: telemetry_search, outcomes_by_type, data_quality). */
const BASELINE_OF = {
  telemetry_risk: 'b_risk', alerts: 'b_alerts', alert_episodes: 'b_episodes', vitals_hourly: 'b_vitals_hourly',
  vitals_5min: 'b_vitals_5min', news2_hourly: 'b_news2', vitals_flags: 'b_flags', trends: 'b_trends',
  patient_risk: 'b_patient', procedure_risk: 'b_procedure', robot_kpis: 'b_robots', motion_kpis: 'b_motion',
  telemetry_summary: 'b_summary',
};

// The plain-DuckDB equivalent of the models: the same scores, windows and aggregates with the thresholds written in.
const BASELINE = [
  `CREATE OR REPLACE TABLE b_risk AS
   WITH w AS (
     SELECT t.*, avg(force_n) OVER win AS m, stddev_samp(force_n) OVER win AS sd, count(force_n) OVER win AS c
     FROM raw_telemetry t
     WINDOW win AS (PARTITION BY procedure_id, robot_arm ORDER BY recorded_at, event_id ROWS BETWEEN 20 PRECEDING AND 1 PRECEDING)
   ), s AS (
     SELECT w.event_id, w.procedure_id, w.patient_id, w.robot_id, w.robot_arm, w.instrument, w.step, w.recorded_at, w.force_n,
       w.velocity_mm_s, w.latency_ms, w.error_code,
       CASE WHEN latency_ms <= 200 THEN 0 WHEN latency_ms <= 300 THEN 1 WHEN latency_ms <= 500 THEN 2 ELSE 3 END AS ls,
       CASE WHEN l.lim IS NULL OR force_n / l.lim <= 1.0 THEN 0 WHEN force_n / l.lim <= 1.25 THEN 1 WHEN force_n / l.lim <= 1.5 THEN 2 ELSE 3 END AS fs,
       CASE WHEN error_code IN ('E-FRAG','E-ARC','E-MOTION','E-SYSRESTART','E-VIDEO') THEN 3 WHEN error_code LIKE 'W-%' THEN 1 ELSE 0 END AS es,
       coalesce(c >= 10 AND force_n > m + 3 * sd, false) AS spike
     FROM w LEFT JOIN (VALUES ('needle_driver', 12.0), ('monopolar_scissors', 8.0), ('bipolar_forceps', 8.0), ('prograsp_forceps', 10.0),
       ('vessel_sealer', 15.0), ('stapler', 40.0), ('clip_applier', 12.0), ('suction_irrigator', 6.0), ('endoscope', 5.0)) l(instrument, lim)
       ON l.instrument = w.instrument
   )
   SELECT s.*, ls + fs + es AS risk_score,
     CASE WHEN ls + fs + es >= 7 THEN 'critical' WHEN ls + fs + es >= 5 OR greatest(ls, fs, es) >= 3 THEN 'high'
          WHEN ls + fs + es >= 3 THEN 'medium' WHEN ls + fs + es >= 1 THEN 'low' ELSE 'none' END AS risk_level
   FROM s`,
  `CREATE OR REPLACE TABLE b_alerts AS
   SELECT 'AL-' || event_id AS alert_id, *, list_filter([CASE WHEN ls > 0 THEN 'latency' END, CASE WHEN fs > 0 THEN 'force' END,
     CASE WHEN es > 0 THEN 'error' END, CASE WHEN spike THEN 'force_spike' END], x -> x IS NOT NULL) AS triggers,
     concat_ws('; ', CASE WHEN ls > 0 THEN 'latency ' || latency_ms || ' ms' END, CASE WHEN fs > 0 THEN 'force ' || force_n || ' N' END,
       CASE WHEN es > 0 THEN 'error ' || error_code END) AS reason
   FROM b_risk WHERE risk_level IN ('medium', 'high', 'critical')`,
  `CREATE OR REPLACE TABLE b_episodes AS
   WITH g AS (SELECT *, CASE WHEN epoch_us(recorded_at) - epoch_us(lag(recorded_at) OVER w) <= 10e6 THEN 0 ELSE 1 END AS st
              FROM b_alerts WINDOW w AS (PARTITION BY procedure_id, robot_arm ORDER BY recorded_at, alert_id)),
        n AS (SELECT *, sum(st) OVER (PARTITION BY procedure_id, robot_arm ORDER BY recorded_at, alert_id ROWS UNBOUNDED PRECEDING) AS ep FROM g)
   SELECT procedure_id, robot_arm, ep, min(recorded_at), max(recorded_at), count(*), max(risk_score),
          first(reason ORDER BY risk_score DESC, recorded_at, alert_id) FROM n GROUP BY ALL`,
  `CREATE OR REPLACE TABLE b_vitals_hourly AS
   SELECT patient_id, metric, date_trunc('hour', measured_at) AS hour_start, count(*) AS n, min(value), max(value), avg(value),
          quantile_cont(value, 0.95) AS p95 FROM raw_vitals GROUP BY ALL`,
  `CREATE OR REPLACE TABLE b_vitals_5min AS
   SELECT patient_id, metric, time_bucket(INTERVAL '5 minutes', measured_at) AS w, count(*), min(value), max(value), avg(value)
   FROM raw_vitals GROUP BY ALL`,
  `CREATE OR REPLACE TABLE b_news2 AS
   WITH l AS (SELECT patient_id, date_trunc('hour', measured_at) AS h, metric, arg_max(value, (measured_at, reading_id)) AS v
              FROM raw_vitals WHERE metric IN ('resp_rate','spo2','o2_supplemental','systolic_bp','heart_rate','consciousness','temperature_c')
              GROUP BY ALL),
        s AS (SELECT patient_id, h, metric, CASE metric
          WHEN 'resp_rate' THEN CASE WHEN v <= 8 THEN 3 WHEN v <= 11 THEN 1 WHEN v <= 20 THEN 0 WHEN v <= 24 THEN 2 ELSE 3 END
          WHEN 'spo2' THEN CASE WHEN v <= 91 THEN 3 WHEN v <= 93 THEN 2 WHEN v <= 95 THEN 1 ELSE 0 END
          WHEN 'o2_supplemental' THEN CASE WHEN v <= 0 THEN 0 ELSE 2 END
          WHEN 'systolic_bp' THEN CASE WHEN v <= 90 THEN 3 WHEN v <= 100 THEN 2 WHEN v <= 110 THEN 1 WHEN v <= 219 THEN 0 ELSE 3 END
          WHEN 'heart_rate' THEN CASE WHEN v <= 40 THEN 3 WHEN v <= 50 THEN 1 WHEN v <= 90 THEN 0 WHEN v <= 110 THEN 1 WHEN v <= 130 THEN 2 ELSE 3 END
          WHEN 'consciousness' THEN CASE WHEN v <= 0 THEN 0 ELSE 3 END
          ELSE CASE WHEN v <= 35 THEN 3 WHEN v <= 36 THEN 1 WHEN v <= 38 THEN 0 WHEN v <= 39 THEN 1 ELSE 2 END END AS sc FROM l)
   SELECT patient_id, h, sum(sc) AS total, max(sc) AS top, list(metric) AS present,
          CASE WHEN sum(sc) >= 7 THEN 'high' WHEN sum(sc) >= 5 THEN 'medium' WHEN max(sc) >= 3 THEN 'low-medium' ELSE 'low' END AS band
   FROM s GROUP BY ALL`,
  `CREATE OR REPLACE TABLE b_flags AS
   SELECT patient_id, date_trunc('hour', measured_at) AS h, arg_max(value, measured_at) FILTER (WHERE metric = 'systolic_bp') AS sbp,
          arg_max(value, measured_at) FILTER (WHERE metric = 'diastolic_bp') AS dbp, min(value) FILTER (WHERE metric = 'glucose_mg_dl') AS gmin,
          max(value) FILTER (WHERE metric = 'weight_kg') AS w
   FROM raw_vitals WHERE metric IN ('systolic_bp','diastolic_bp','glucose_mg_dl','weight_kg') GROUP BY ALL`,
  `CREATE OR REPLACE TABLE b_trends AS
   WITH v AS (SELECT *, max(measured_at) OVER (PARTITION BY patient_id, metric) AS last FROM raw_vitals
              WHERE metric NOT IN ('consciousness', 'o2_supplemental'))
   SELECT patient_id, metric, count(*), avg(value), stddev_samp(value) / avg(value) AS cv,
          regr_slope(value, (epoch_us(measured_at) - epoch_us(last)) / 3600e6) AS slope
   FROM v WHERE measured_at >= last - INTERVAL 24 HOURS GROUP BY ALL`,
  `CREATE OR REPLACE TABLE b_patient AS
   SELECT r.patient_id, count(*), avg(risk_score), quantile_cont(latency_ms, 0.95),
          (SELECT count(*) FROM b_alerts a WHERE a.patient_id = r.patient_id AND a.risk_level = 'critical'),
          (SELECT max(total) FROM b_news2 n WHERE n.patient_id = r.patient_id)
   FROM b_risk r GROUP BY r.patient_id`,
  `CREATE OR REPLACE TABLE b_procedure AS
   WITH tr AS (SELECT procedure_id, count(*) AS events, avg(risk_score) AS avg_risk, quantile_cont(latency_ms, 0.95) AS p95 FROM b_risk GROUP BY 1),
        al AS (SELECT procedure_id, count(*) FILTER (WHERE risk_level = 'critical') AS crit FROM b_alerts GROUP BY 1)
   SELECT p.procedure_id, p.procedure_type, tr.events, tr.avg_risk, tr.p95, al.crit,
          (epoch_us(p.ended_at) - epoch_us(p.started_at)) / 60e6 AS duration_min, o.outcome
   FROM raw_procedures p LEFT JOIN tr USING (procedure_id) LEFT JOIN al USING (procedure_id) LEFT JOIN raw_outcomes o USING (procedure_id)`,
  `CREATE OR REPLACE TABLE b_robots AS
   SELECT robot_id, count(*), count(error_code) / count(*) FROM b_risk GROUP BY 1`,
  // motion_kpis: backward differences of position (else the reported speed) per procedure, arm and step in one
  // window pass (lags 1-3), then velocity, acceleration and jerk magnitudes and their aggregates; 0.5 s max gap,
  // 5 mm/s idle, 500 mm/s^3 jerk threshold.
  `CREATE OR REPLACE TABLE b_motion AS
   WITH l AS (
     SELECT procedure_id, robot_arm, step, patient_id, robot_id, recorded_at, event_id, velocity_mm_s AS s, gripper_angle_rad AS g,
       tool_x_mm AS x, tool_y_mm AS y, tool_z_mm AS z,
       lag(recorded_at) OVER w AS t1, lag(recorded_at, 2) OVER w AS t2, lag(recorded_at, 3) OVER w AS t3,
       lag(tool_x_mm) OVER w AS x1, lag(tool_x_mm, 2) OVER w AS x2, lag(tool_x_mm, 3) OVER w AS x3,
       lag(tool_y_mm) OVER w AS y1, lag(tool_y_mm, 2) OVER w AS y2, lag(tool_y_mm, 3) OVER w AS y3,
       lag(tool_z_mm) OVER w AS z1, lag(tool_z_mm, 2) OVER w AS z2, lag(tool_z_mm, 3) OVER w AS z3,
       lag(velocity_mm_s) OVER w AS s1, lag(velocity_mm_s, 2) OVER w AS s2
     FROM raw_telemetry WINDOW w AS (PARTITION BY procedure_id, robot_arm, step ORDER BY recorded_at, event_id)
   ), d AS (
     SELECT *, CASE WHEN (epoch_us(recorded_at) - epoch_us(t1)) / 1e6 BETWEEN 1e-9 AND 0.5 THEN (epoch_us(recorded_at) - epoch_us(t1)) / 1e6 END AS dt,
       CASE WHEN (epoch_us(t1) - epoch_us(t2)) / 1e6 BETWEEN 1e-9 AND 0.5 THEN (epoch_us(t1) - epoch_us(t2)) / 1e6 END AS dt1,
       CASE WHEN (epoch_us(t2) - epoch_us(t3)) / 1e6 BETWEEN 1e-9 AND 0.5 THEN (epoch_us(t2) - epoch_us(t3)) / 1e6 END AS dt2
     FROM l
   ), v AS (
     SELECT *, CASE WHEN x IS NULL THEN s ELSE (x - x1) / dt END AS vx, CASE WHEN x IS NULL THEN 0.0 ELSE (y - y1) / dt END AS vy,
       CASE WHEN x IS NULL THEN 0.0 ELSE (z - z1) / dt END AS vz,
       CASE WHEN x1 IS NULL THEN s1 ELSE (x1 - x2) / dt1 END AS vx1, CASE WHEN x1 IS NULL THEN 0.0 ELSE (y1 - y2) / dt1 END AS vy1,
       CASE WHEN x1 IS NULL THEN 0.0 ELSE (z1 - z2) / dt1 END AS vz1,
       CASE WHEN x2 IS NULL THEN s2 ELSE (x2 - x3) / dt2 END AS vx2, CASE WHEN x2 IS NULL THEN 0.0 ELSE (y2 - y3) / dt2 END AS vy2,
       CASE WHEN x2 IS NULL THEN 0.0 ELSE (z2 - z3) / dt2 END AS vz2,
       sqrt((x - x1) ^ 2 + (y - y1) ^ 2 + (z - z1) ^ 2) AS step_mm
     FROM d
   ), a AS (
     SELECT *, (vx - vx1) / dt AS ax, (vy - vy1) / dt AS ay, (vz - vz1) / dt AS az,
       (vx1 - vx2) / dt1 AS ax1, (vy1 - vy2) / dt1 AS ay1, (vz1 - vz2) / dt1 AS az1,
       sqrt(vx * vx + vy * vy + vz * vz) AS speed
     FROM v
   ), j AS (
     SELECT *, sqrt(ax * ax + ay * ay + az * az) AS accel, sqrt(((ax - ax1) / dt) ^ 2 + ((ay - ay1) / dt) ^ 2 + ((az - az1) / dt) ^ 2) AS jerk FROM a
   )
   SELECT procedure_id, robot_arm, step, min(patient_id), min(robot_id), min(recorded_at), max(recorded_at), count(*), coalesce(sum(dt), 0),
     sum(step_mm) FILTER (WHERE dt IS NOT NULL) AS path_mm,
     sqrt((last(x ORDER BY recorded_at, event_id) - first(x ORDER BY recorded_at, event_id)) ^ 2
       + (last(y ORDER BY recorded_at, event_id) - first(y ORDER BY recorded_at, event_id)) ^ 2
       + (last(z ORDER BY recorded_at, event_id) - first(z ORDER BY recorded_at, event_id)) ^ 2) AS straight_mm,
     avg(speed), max(speed), avg(accel), max(accel), avg(jerk), max(jerk), count(*) FILTER (WHERE jerk > 500),
     coalesce(sum(dt) FILTER (WHERE speed < 5), 0), min(g), max(g), avg(g)
   FROM j GROUP BY procedure_id, robot_arm, step`,
  // telemetry_summary: per procedure and latency value, the events, risk sum and count, errors and events per level.
  `CREATE OR REPLACE TABLE b_summary AS
   SELECT procedure_id, coalesce(latency_ms, -1) AS latency_key, count(*), sum(risk_score), count(risk_score), count(error_code),
     count(*) FILTER (WHERE risk_level = 'none'), count(*) FILTER (WHERE risk_level = 'low'), count(*) FILTER (WHERE risk_level = 'medium'),
     count(*) FILTER (WHERE risk_level = 'high'), count(*) FILTER (WHERE risk_level = 'critical')
   FROM b_risk GROUP BY procedure_id, latency_ms`,
];

async function runPhase(name, dbPath) {
  const { openDb } = await import('../dist/db/db.js');
  if (name === 'make' || name === 'load') {
    const { migrate } = await import('../dist/core/load/migrations.js');
    const db = await openDb(dbPath);
    try {
      if (name === 'make') {
        await migrate(db);
        const r = await time(() => fill(db, 'L-bench-1', 0, PROCS));
        return { seconds: r.seconds };
      }
      const r = await time(() => fill(db, 'L-bench-2', PROCS, PROCS + NEW_PROCS));
      return { seconds: r.seconds };
    } finally {
      db.close();
    }
  }
  if (name === 'baseline') {
    // DuckDB's defaults (all cores, default memory limit); UTC so the hourly buckets match the models'. Its tables go
    // to a file of their own beside the lakehouse, which it reads attached: in the lakehouse they made the file (and
    // so the read snapshot surgctl copies before it writes) about twice as large.
    const { DuckDBInstance } = duckdbApi();
    const inst = await DuckDBInstance.create(join(dirname(dbPath), 'baseline.duckdb'));
    const con = await inst.connect();
    await con.run("SET TimeZone = 'UTC'");
    await con.run(`ATTACH '${dbPath}' AS lake (READ_ONLY)`);
    await con.run("SET search_path = 'main,lake.main'");
    try {
      // Each statement timed as the transform times a model (wall, and the process's CPU seconds over its threads).
      const statements = {};
      const r = await time(async () => {
        for (const sql of BASELINE) {
          const cpu = process.cpuUsage();
          const t0 = performance.now();
          await con.run(sql);
          statements[/TABLE (b_\w+)/.exec(sql)[1]] = { seconds: (performance.now() - t0) / 1000, cpuSeconds: cpuOf(cpu) };
        }
      });
      return { seconds: r.seconds, statements };
    } finally {
      con.closeSync();
      inst.closeSync();
    }
  }
  const { runTransform } = await import('../dist/core/transform/transform.js');
  const { Lakehouse } = await import('../dist/db/lakehouse.js');
  // The process's peak RSS after each model: the models that raised it are the ones that set the peak.
  const peaks = [];
  const maxRss = () => Math.round(process.resourceUsage().maxRSS / 1024);
  // Per model: wall and CPU seconds from its start to its end; per model's tests: from the previous event to them.
  const models = {};
  const tests = {};
  let cpu = process.cpuUsage();
  let at = performance.now();
  const mark = () => {
    const out = { seconds: (performance.now() - at) / 1000, cpuSeconds: cpuOf(cpu) };
    [cpu, at] = [process.cpuUsage(), performance.now()];
    return out;
  };
  const onEvent = (e) => {
    if (e.type === 'model-start') mark();
    if (e.type === 'model-done') {
      models[e.result.model] = mark();
      peaks.push({ model: e.result.model, rssMiB: maxRss() });
    }
    if (e.type === 'tests-done') tests[e.model] = mark();
  };
  const r = await time(() => runTransform({ cwd: process.cwd(), env: {}, fullRefresh: name === 'full' }, { lake: new Lakehouse({ path: dbPath }), onEvent }));
  const tr = r.value.models.find((m) => m.model === 'telemetry_risk');
  const raised = peaks.map((p, i) => ({ ...p, by: p.rssMiB - (i === 0 ? 0 : peaks[i - 1].rssMiB) })).filter((p) => p.by > 0);
  return {
    seconds: r.seconds,
    mode: r.value.mode,
    scope: r.value.scope,
    tests_failed: r.value.tests_failed,
    telemetry_rows: tr?.rows ?? null,
    slowest: [...r.value.models].sort((a, b) => b.duration_ms - a.duration_ms).slice(0, 4).map((m) => `${m.model} ${fmt(m.duration_ms / 1000, 1)} s`),
    peakBy: raised.map((p) => `${p.model} ${p.rssMiB} MiB`),
    models,
    tests: r.value.tests.length,
    testTimes: tests,
  };
}

if (phase) {
  await childMain(runPhase);
} else {
  const out = freshOut('transform');
  const dbPath = join(out, 'lake.duckdb');
  for (const f of [dbPath, join(out, 'baseline.duckdb')]) {
    rmSync(f, { force: true });
    rmSync(`${f}.wal`, { force: true });
  }
  const env = { SURGCTL_THREADS: process.env.SURGCTL_THREADS ?? '2' };
  const run = (name) => () => runChild(self, [name, dbPath], env);
  const results = {};
  process.stderr.write('transform bench: make...\n');
  results.make = run('make')();
  process.stderr.write('transform bench: full refresh vs baseline...\n');
  const pair = alternate('full', run('full'), run('baseline'));
  for (const name of ['load', 'incremental', 'rerun']) {
    process.stderr.write(`transform bench: ${name}...\n`);
    results[name] = run(name === 'rerun' ? 'incremental' : name)();
    process.stderr.write(`  ${JSON.stringify(results[name])}\n`);
  }
  const vitals = PATIENTS * VITALS_TICKS * 10;
  const full = pair.a.last;
  const inc = results.incremental;
  // Model by model (medians over the pairs): surgctl's model against the baseline statement that stands for it.
  const med = (xs) => {
    const v = xs.filter((x) => x !== undefined).sort((x, y) => x - y);
    return v.length === 0 ? undefined : v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const cell = (x) => (x === undefined ? '' : fmt(x));
  const sum = (o) => Object.values(o).reduce((n, x) => n + x.cpuSeconds, 0);
  const byModel = Object.keys(full.models).map((m) => {
    const a = (k) => med(pair.pairs.map((p) => p.a.models[m]?.[k]));
    const b = (k) => (BASELINE_OF[m] ? med(pair.pairs.map((p) => p.b.statements[BASELINE_OF[m]]?.[k])) : undefined);
    return { m, aw: a('seconds'), ac: a('cpuSeconds'), bw: b('seconds'), bc: b('cpuSeconds') };
  }).sort((x, y) => y.ac - x.ac);
  const modelsCpu = med(pair.pairs.map((p) => sum(p.a.models)));
  const testsCpu = med(pair.pairs.map((p) => sum(p.a.testTimes)));
  const baseCpu = med(pair.pairs.map((p) => sum(p.b.statements)));
  const costliestTests = Object.entries(full.testTimes).sort((x, y) => y[1].cpuSeconds - x[1].cpuSeconds).slice(0, 3)
    .map(([m, t]) => `${m} ${fmt(t.cpuSeconds)}`).join(', ');
  const section = TEL === 5_000_000 ? 'transform' : `transform-${TEL >= 1e6 ? `${TEL / 1e6}m` : TEL}`;
  const md = `## transform${section === 'transform' ? '' : ` at ${TEL.toLocaleString('en-US')} rows`}

${TEL.toLocaleString('en-US')} telemetry rows (${PROCS.toLocaleString('en-US')} procedures) and ${vitals.toLocaleString('en-US')} vitals rows
(${PATIENTS.toLocaleString('en-US')} patients), made with DuckDB SQL straight into the raw tables of a lakehouse file
(${fmt(results.make.seconds, 1)} s); surgctl with its defaults (2 threads, memory_limit 512MB, the procedure- and
patient-partitioned models that need it built in batches of about 1M and 4M raw rows), the baseline with DuckDB's
defaults. The baseline
is the same aggregations written as plain DuckDB queries with the thresholds typed in (risk scores with the force-spike
window, alerts, episodes, hourly and 5-minute vitals, NEWS2, flags, trends, patient / procedure / robot summaries, motion
measures per procedure, arm and step in one window pass, and the per-procedure latency summary) reading the
lakehouse attached and writing its tables to a file of its own (in the lakehouse they doubled the read snapshot
surgctl copies). The transform also runs ${full.tests} model tests, records every model run and reads its
thresholds from the rules tables. Full refresh and baseline alternate (A B A B ...), each its own process, medians of
${repeats} pairs; CPU s = the child's user + system.

${pairHeader('time')}
${pairRow('`surgctl transform --full-refresh`', pair, 'time')}

| then | wall s | CPU s | peak RSS MiB |
|---|---:|---:|---:|
| incremental after a 1% load (${NEW_PROCS} procedures, ${(NEW_PROCS * EVENTS).toLocaleString('en-US')} telemetry rows) | ${fmt(inc.seconds)} | ${fmt(inc.cpuSeconds)} | ${inc.rssMiB} |
| rerun with nothing new | ${fmt(results.rerun.seconds)} | ${fmt(results.rerun.cpuSeconds)} | ${results.rerun.rssMiB} |

Goals: full <= 1.2x the baseline: **${fmt(pair.a.seconds / pair.b.seconds)}x** wall, ${fmt(pair.a.cpuSeconds / pair.b.cpuSeconds)}x CPU; peak RSS < 1 GiB
at 25M rows (${pair.a.rssMiB} MiB here); incremental after a 1% load <= 10% of the full: **${fmt((100 * inc.seconds) / pair.a.seconds, 1)}%**
(scope: ${inc.scope ? `${inc.scope.procedures} procedures, ${inc.scope.patients} patients, ${inc.scope.patient_hours} patient-hours` : 'none'}).
Slowest models in the last full run: ${full.slowest.join(', ')}. Peak RSS after each model that raised it (the
model that set the peak is the last): ${full.peakBy.join(', ')}; model tests after. Lakehouse file: ${fmt(statSync(dbPath).size / 2 ** 20, 0)} MiB.
Load: ${loadNote(pair)}.

Model by model (medians of the ${repeats} full runs; the baseline statement that computes the same mart, timed the same
way: wall, and the process's CPU seconds over its threads, from the statement's start to its end). The models' CPU
seconds sum to ${fmt(modelsCpu)}, the baseline statements' to ${fmt(baseCpu)}; the model tests take ${fmt(testsCpu)} CPU s
(costliest: ${costliestTests}); the rest of the process (start-up, opening, the read snapshot, rules, bookkeeping) is
the difference to the CPU s above.

| model | surgctl wall s | CPU s | baseline wall s | CPU s |
|---|---:|---:|---:|---:|
${byModel.map((r) => `| ${r.m} | ${cell(r.aw)} | ${cell(r.ac)} | ${cell(r.bw)} | ${cell(r.bc)} |`).join('\n')}
`;
  writeSection(section, md);
}
