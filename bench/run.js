#!/usr/bin/env node
// npm run bench [-- NAME...]: runs bench/NAME.bench.js (all when none named), each in its own process so its
// peak memory is its own, then writes bench/RESULTS.md from the machine's facts and every results section.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchDir, outDir } from './lib.js';

const all = readdirSync(benchDir).filter((f) => f.endsWith('.bench.js')).map((f) => f.replace(/\.bench\.js$/, '')).sort();
// `--results-only` rebuilds RESULTS.md from the recorded sections without running anything.
const resultsOnly = process.argv.includes('--results-only');
const wanted = process.argv.slice(2).filter((a) => a !== '--results-only');
for (const w of wanted) if (!all.includes(w)) { console.error(`unknown bench ${w}; choose from ${all.join(', ')}`); process.exit(2); }
let failed = false;
// scale takes long (25M rows): it runs only when named.
for (const name of resultsOnly ? [] : wanted.length ? wanted : all.filter((n) => n !== 'scale')) {
  console.error(`bench: ${name}`);
  const r = spawnSync(process.execPath, [join(benchDir, `${name}.bench.js`)], { stdio: 'inherit' });
  if (r.status !== 0) { failed = true; console.error(`bench ${name} failed (exit ${r.status})`); }
  // Only this bench's scratch files: another bench may be running beside it.
  rmSync(join(outDir, name), { recursive: true, force: true });
}

const duck = JSON.parse(readFileSync(join(benchDir, '..', 'node_modules', '@duckdb', 'node-api', 'package.json'), 'utf8')).version;
const resultsDir = join(benchDir, 'results');
const sections = existsSync(resultsDir) ? readdirSync(resultsDir).filter((f) => f.endsWith('.md')).sort() : [];
const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, @duckdb/node-api ${duck}`;
const generated = sections.map((f) => readFileSync(join(resultsDir, f), 'utf8'));
// Sections written into RESULTS.md by hand (no bench/results file: package, Fuzz) are kept after the generated ones,
// in their order; rebuilding used to drop them.
const resultsPath = join(benchDir, 'RESULTS.md');
const headings = new Set(generated.map((s) => s.split('\n', 1)[0]));
const kept = (existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : '')
  .split(/^(?=## )/m)
  .slice(1)
  .filter((s) => !headings.has(s.split('\n', 1)[0]))
  .map((s) => `${s.trimEnd()}\n`);
const body = [
  '# Benchmark results',
  '',
  'Made by `npm run bench` (`npm run bench -- NAME` runs one; `scale` runs only when named). Each benchmark alternates',
  'surgctl and the plain DuckDB equivalent of the same raw work (default settings) in the same run, each run its own',
  'process, with the 1-minute load average before and after each pair, CPU seconds beside wall time and medians; a',
  'result taken above a load of 1.5 per core is marked busy. Numbers vary by about 20% between runs on shared machines.',
  '',
  `Last run on: ${machine}.`,
  '',
  ...generated,
  ...kept,
].join('\n');
writeFileSync(resultsPath, body);
process.exit(failed ? 1 : 0);
