// surgctl startup (issue 13): wall time of `surgctl --version`, `--help` and `schemas` (light commands: no DuckDB,
// ajv, chalk or cli-progress may load, see test/e2e/startup.test.ts) beside the floor, `node -e 0`, measured in the
// same run and alternated one after the other so a busy machine slows both alike. `version --verbose` (loads
// DuckDB's bindings) shows what a heavy import costs. BENCH_REPEATS sets the runs per median (default 10 here).
// BENCH_STARTUP_BEFORE=/path/to/an/older/bin/surgctl.js adds that build's --version and --help to the same run (a
// checkout of an earlier commit with its dist/ built; BENCH_STARTUP_BEFORE_LABEL names it in the results), for a
// before/after comparison under the same machine load.
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { benchDir, BUSY_PER_CORE, fmt, writeSection } from './lib.js';

const repeats = Number(process.env.BENCH_REPEATS ?? 10);
const BIN = resolve(benchDir, '..', 'bin', 'surgctl.js');
const BEFORE = process.env.BENCH_STARTUP_BEFORE ? resolve(process.env.BENCH_STARTUP_BEFORE) : undefined;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (s) => `${Math.round(s * 1000)} ms`;

const cases = [
  { label: '`node -e 0`', args: ['-e', '0'] },
  { label: '`surgctl --version`', args: [BIN, '--version'], goal: 0.15 },
  { label: '`surgctl --help`', args: [BIN, '--help'], goal: 0.15 },
  { label: '`surgctl schemas`', args: [BIN, 'schemas'], goal: 0.3 },
  { label: '`surgctl version --verbose` (loads DuckDB)', args: [BIN, 'version', '--verbose'] },
  ...(BEFORE === undefined
    ? []
    : [
        { label: '`surgctl --version`, before (BENCH_STARTUP_BEFORE)', args: [BEFORE, '--version'] },
        { label: '`surgctl --help`, before (BENCH_STARTUP_BEFORE)', args: [BEFORE, '--help'] },
      ]),
];

/** Wall time of one process, from spawn to exit, in seconds. */
function timeProcess(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  return s;
}

const load0 = loadavg()[0];
// One untimed round first: the files are in the page cache for every timed run.
for (const c of cases) timeProcess(c.args);
const times = cases.map(() => []);
for (let i = 0; i < repeats; i++) {
  cases.forEach((c, j) => times[j].push(timeProcess(c.args)));
}
const load1 = loadavg()[0];
const floor = median(times[0]);
const busyAt = BUSY_PER_CORE * cpus().length;
const busy = Math.max(load0, load1) > busyAt;
const rows = cases.map((c, j) => {
  const m = median(times[j]);
  const verdict = c.goal === undefined ? '' : m < c.goal ? 'met' : `missed${busy ? ' (busy)' : ''}`;
  return `| ${c.label} | ${ms(m)} | ${j === 0 ? '' : `+${ms(m - floor)}`} | ${fmt(m / floor, 1)}x | ${c.goal === undefined ? '' : `< ${ms(c.goal)}`} | ${verdict} | ${times[j].map((t) => Math.round(t * 1000)).join(', ')} |`;
});
writeSection('startup', [
  '## startup (issue 13): `surgctl --version`, `--help`, `schemas` beside `node -e 0`',
  '',
  'Wall time from spawn to exit of `node bin/surgctl.js ARGS` (compiled dist/), alternated with `node -e 0` in the same',
  'run, after one untimed round. Light commands import commander and a few small modules only; DuckDB, ajv, chalk,',
  'cli-progress and the stages load inside the action that needs them (test/e2e/startup.test.ts proves which load).',
  `Medians of ${repeats}; "over node" is the median minus the \`node -e 0\` median, "x node" the median over it.`,
  ...(BEFORE === undefined ? [] : [`"before" rows: ${process.env.BENCH_STARTUP_BEFORE_LABEL ?? 'an older build'} (BENCH_STARTUP_BEFORE), in the same run.`]),
  '',
  '| command | median | over node | x node | goal | | runs (ms) |',
  '|---|---:|---:|---:|---:|---|---|',
  ...rows,
  '',
  `Load average (1 min) at the start / end of the run: ${fmt(load0, 1)} / ${fmt(load1, 1)} (${cpus().length} shared cores)${busy ? `: **busy** (above ${fmt(busyAt, 1)})` + ', so every time above, the floor included, is inflated; compare the "over node" column' : ''}.`,
].join('\n'));
