// Shared bench helpers: timing, medians, peak memory, and one results section per benchmark
// (bench/results/<name>.md) that run.js stitches into bench/RESULTS.md with the machine's facts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = dirname(fileURLToPath(import.meta.url));
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
  return `INSERT INTO raw_vitals
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
