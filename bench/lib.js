// Shared bench helpers: timing, medians, peak memory, and one results section per benchmark
// (bench/results/<name>.md) that run.js stitches into bench/RESULTS.md with the machine's facts.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = dirname(fileURLToPath(import.meta.url));

/**
 * @duckdb/node-api for a plain-DuckDB baseline, loaded the way surgctl loads it (src/db/duckdb-api.ts: `require`; an ESM
 * import runs Node's export scanner over every file of the package), so neither side pays a start-up the other does not.
 */
export const duckdbApi = () => createRequire(import.meta.url)('@duckdb/node-api');
export const outDir = join(benchDir, 'out');

/** Rows for the big benchmarks; BENCH_ROWS overrides (the issues ask for 5,000,000). */
export const rows = Number(process.env.BENCH_ROWS ?? 5_000_000);
export const repeats = Number(process.env.BENCH_REPEATS ?? 3);

export async function time(fn) {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, value };
}

/** Runs fn `n` times and returns the median seconds (and the last value). */
export async function median(fn, n = repeats) {
  const times = [];
  let value;
  for (let i = 0; i < n; i++) {
    const r = await time(fn);
    times.push(r.seconds);
    value = r.value;
  }
  times.sort((a, b) => a - b);
  return { seconds: times[Math.floor(times.length / 2)], times, value };
}

export function peakRssMiB() {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

export function fmt(n, digits = 2) {
  return Number(n).toFixed(digits);
}

export function rate(count, seconds) {
  return Math.round(count / seconds).toLocaleString('en-US');
}

/** Writes this benchmark's section of RESULTS.md. */
export function writeSection(name, markdown) {
  const dir = join(benchDir, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.md`), markdown.trimEnd() + '\n');
  process.stdout.write(markdown.trimEnd() + '\n');
}

export function freshOut(name) {
  const dir = join(outDir, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * SQL inserting synthetic vitals into raw_vitals: each patient in `patients` (a SQL range), `ticks` quarter-hours,
 * every metric with its unit and a plausible value. `loadId` is SQL too (a literal or a parameter).
 */
export function rawVitalsSql(patients, ticks, loadId) {
  // Columns named: migration 004 added lineage columns after _source_line (NULL for contract rows).
  return `INSERT INTO raw_vitals (reading_id, patient_id, metric, value, unit, measured_at, _load_id, _source_file, _source_line)
    SELECT 'VR-' || pt || '-' || k || '-' || m.metric, 'PT-' || pt, m.metric,
      CASE m.metric
        WHEN 'heart_rate' THEN 60 + h % 45 WHEN 'resp_rate' THEN 12 + h % 10 WHEN 'spo2' THEN 93 + h % 7
        WHEN 'systolic_bp' THEN 105 + h % 60 WHEN 'diastolic_bp' THEN 65 + h % 30 WHEN 'temperature_c' THEN 36.0 + (h % 25) / 10.0
        WHEN 'glucose_mg_dl' THEN 70 + h % 150 WHEN 'weight_kg' THEN 60 + (pt % 50) + (h % 30) / 10.0
        WHEN 'consciousness' THEN CASE WHEN h % 97 = 0 THEN 1 ELSE 0 END ELSE CASE WHEN h % 13 = 0 THEN 1 ELSE 0 END END,
      m.unit, TIMESTAMPTZ '2026-01-05 06:00:00+00' + to_hours((2 * pt + 1)::BIGINT) + to_minutes(k * 15),
      ${loadId}, 'vitals.csv', k + 2
    FROM (SELECT pt, k, m, hash(pt, k, m.metric) AS h FROM ${patients} a(pt), range(${ticks}) b(k),
      (VALUES ('heart_rate', '/min'), ('resp_rate', '/min'), ('spo2', '%'), ('systolic_bp', 'mmHg'), ('diastolic_bp', 'mmHg'),
              ('temperature_c', 'Cel'), ('glucose_mg_dl', 'mg/dL'), ('weight_kg', 'kg'), ('consciousness', '{score}'), ('o2_supplemental', '{flag}')) m(metric, unit))`;
}

/**
 * The plain typed DuckDB reader of a telemetry CSV, the baselines' one reader (issue 18: "the plain typed DuckDB
 * statement with default settings"): the file's own header columns, each with the schema's type (duckType), the CSV
 * dialect given (no sniffing of the bad rows), and bad rows sent to DuckDB's reject tables (store_rejects) instead of
 * failing the statement. Needs the build (dist/).
 */
export async function typedReadCsvSql(path, dataset = 'telemetry') {
  const { loadDatasetSchema, duckType } = await import('../dist/core/schemas.js');
  const ds = loadDatasetSchema(dataset);
  const head = Buffer.alloc(4096);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const header = head.toString('utf8').split('\n', 1)[0].split(',');
  const cols = header.map((c) => `'${c}': '${duckType(ds.columnTypes[c])}'`).join(', ');
  return `read_csv('${path}', header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = {${cols}}, store_rejects = true)`;
}

// ---- Alternating runs that survive a busy machine (issue 18, item 5) ----
// Every measured run is its own child process: its peak RSS and CPU seconds are its own (the child reports its whole
// rusage, user + system over all threads, Node start-up included, as wait4 would). surgctl and its baseline alternate
// A B A B A B, the 1-minute load average is read before and after each pair, and a result taken above 1.5 per core
// is marked "busy": its wall-time ratio says little, its CPU ratio somewhat more.

/** The load average per core above which a pair is "busy". */
export const BUSY_PER_CORE = 1.5;

/**
 * In a child started by runChild: runs `fn(...args)` (the argv after the script), prints its result with `seconds`
 * (wall time of fn only, unless fn returns its own), `cpuSeconds` and `rssMiB` (the process's rusage) as JSON.
 */
export async function childMain(fn) {
  const t0 = process.hrtime.bigint();
  const value = (await fn(...process.argv.slice(2))) ?? {};
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const ru = process.resourceUsage();
  process.stdout.write(JSON.stringify({ seconds, ...value, cpuSeconds: (ru.userCPUTime + ru.systemCPUTime) / 1e6, rssMiB: Math.round(ru.maxRSS / 1024) }));
}

/** Runs `node script ...args` (a script that calls childMain) and returns its JSON result; throws with its stderr. */
export function runChild(script, args, env = {}) {
  const r = spawnSync(process.execPath, [script, ...args.map(String)], { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${script} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  if (r.stderr) process.stderr.write(r.stderr);
  return JSON.parse(r.stdout);
}

const mid = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Alternates `a()` (surgctl) and `b()` (the baseline) `n` times (A B A B ...), each returning a childMain result.
 * Returns medians of wall and CPU seconds, the peak RSS over all runs, the per-pair load averages and whether the
 * run was busy (any pair started or ended above BUSY_PER_CORE x cores). `label` goes to stderr as it runs.
 */
export function alternate(label, a, b, n = repeats) {
  const cores = cpus().length;
  const pairs = [];
  for (let i = 0; i < n; i++) {
    const loadBefore = loadavg()[0];
    const ra = a(i);
    const rb = b(i);
    const loadAfter = loadavg()[0];
    pairs.push({ loadBefore, loadAfter, a: ra, b: rb });
    process.stderr.write(`  ${label} ${i + 1}/${n}: ${fmt(ra.seconds)} s (${fmt(ra.cpuSeconds)} CPU s) vs baseline ${fmt(rb.seconds)} s (${fmt(rb.cpuSeconds)} CPU s), load ${fmt(loadBefore, 1)} -> ${fmt(loadAfter, 1)}\n`);
  }
  const side = (k) => ({
    seconds: mid(pairs.map((p) => p[k].seconds)),
    cpuSeconds: mid(pairs.map((p) => p[k].cpuSeconds)),
    rssMiB: Math.max(...pairs.map((p) => p[k].rssMiB)),
    last: pairs.at(-1)[k],
  });
  const loads = pairs.flatMap((p) => [p.loadBefore, p.loadAfter]);
  return { a: side('a'), b: side('b'), pairs, ...loadSpan(loads) };
}

/**
 * The 1-minute load averages read around a measurement, summed up: `busy` when any is above BUSY_PER_CORE x cores,
 * with their range. Every bench marks busy through this (alternate uses it for its pairs).
 */
export function loadSpan(loads, cores = cpus().length) {
  return { busy: Math.max(...loads) > BUSY_PER_CORE * cores, cores, loadMin: Math.min(...loads), loadMax: Math.max(...loads) };
}

/**
 * A result's headline figure (`span` from loadSpan or alternate). Quiet: wall time leads, CPU beside it. Busy: CPU
 * leads, since wall time there is mostly waiting for a core, marked busy with the load range and wall beside it.
 * `wall` and `cpu` are formatted with their unit, e.g. '1.02x wall' and '1.04x CPU', or '3.82 s wall' and '0.10 CPU s'.
 */
export function headline(span, wall, cpu) {
  return span.busy ? `**${cpu}** (**busy**: load ${fmt(span.loadMin, 1)}-${fmt(span.loadMax, 1)} on ${span.cores} cores; ${wall})` : `**${wall}** (${cpu}; quiet: load ${fmt(span.loadMin, 1)}-${fmt(span.loadMax, 1)})`;
}

/** One line for a results section: the loads of each pair and the busy mark. */
export function loadNote(r) {
  const each = r.pairs.map((p) => `${fmt(p.loadBefore, 1)}->${fmt(p.loadAfter, 1)}`).join(', ');
  return `${r.busy ? '**busy**' : 'quiet'} (1-minute load average before->after each pair: ${each}; ${r.cores} cores, busy above ${fmt(BUSY_PER_CORE * r.cores, 1)})`;
}

/** A markdown table row: label, surgctl wall / CPU / RSS, baseline wall / CPU / RSS, ratios, busy mark. */
export function pairRow(label, r, ratio = 'speed') {
  const wall = ratio === 'speed' ? r.b.seconds / r.a.seconds : r.a.seconds / r.b.seconds;
  const cpu = ratio === 'speed' ? r.b.cpuSeconds / r.a.cpuSeconds : r.a.cpuSeconds / r.b.cpuSeconds;
  return `| ${label} | ${fmt(r.a.seconds)} | ${fmt(r.a.cpuSeconds)} | ${r.a.rssMiB} | ${fmt(r.b.seconds)} | ${fmt(r.b.cpuSeconds)} | ${r.b.rssMiB} | ${fmt(wall)} | ${fmt(cpu)} | ${r.busy ? 'busy' : 'quiet'} (${fmt(r.loadMin, 1)}-${fmt(r.loadMax, 1)}) |`;
}

/** The header for pairRow tables; `ratio` says what the ratio columns mean. */
export function pairHeader(ratio = 'speed') {
  const what = ratio === 'speed' ? 'baseline / surgctl' : 'surgctl / baseline';
  return [
    `| step | surgctl wall s | CPU s | peak RSS MiB | baseline wall s | CPU s | peak RSS MiB | ratio wall (${what}) | ratio CPU | load |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ].join('\n');
}
