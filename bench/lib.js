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
