// scale (issue 18, item 6): the whole pipeline at two sizes, 5M and 25M telemetry rows by default
// (BENCH_SCALE_ROWS=5000000,25000000 overrides): generate, validate (telemetry.csv), load (every file, into a fresh
// lakehouse), transform (full), and the reports (summary and the other whole-lakehouse reports, in-process, each
// opened read-only). Each stage is its own child process: wall and CPU seconds (the child's rusage, all threads)
// and peak RSS, with the 1-minute load average before and after it. The per-row cost ratio is
// (seconds per row at the larger size) / (seconds per row at the smaller): 1.0 is linear. Needs disk: 25M rows are
// about 3 GB of CSV plus the lakehouse (check `df -h`); BENCH_KEEP keeps bench/out/scale. The section is rewritten
// after every stage, so a run stopped part-way (25M takes most of an hour on a busy machine) leaves what finished.
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUSY_PER_CORE, childMain, fmt, freshOut, runChild, time, writeSection } from './lib.js';

const self = fileURLToPath(import.meta.url);
const SIZES = (process.env.BENCH_SCALE_ROWS ?? '5000000,25000000').split(',').map(Number);
const STAGES = ['generate', 'validate', 'load', 'transform', 'reports'];
const REPORTS = ['summary', 'patient-risk', 'procedure-risk', 'top-alerts', 'robot-kpis', 'outcomes', 'data-quality', 'trends', 'vitals-hourly', 'news2', 'timeline', 'search'];

async function stage(name, rowsArg, dir) {
  const n = Number(rowsArg);
  const data = join(dir, 'data');
  const lake = join(dir, 'lake.duckdb');
  if (name === 'generate') {
    const { generateDataset } = await import('../dist/core/generate/index.js');
    rmSync(data, { recursive: true, force: true });
    const r = await time(() => generateDataset({ out: data, seed: 7, telemetryRows: n, procedures: Math.max(300, Math.round(n / 2500)) }));
    return { seconds: r.seconds, rows: r.value.manifest.files.reduce((s, f) => s + f.rows, 0), bytes: r.value.manifest.files.reduce((s, f) => s + f.bytes, 0) };
  }
  if (name === 'validate') {
    const { validateFiles } = await import('../dist/core/validate/index.js');
    const r = await time(() => validateFiles({ inputs: [join(data, 'telemetry.csv')], schema: 'telemetry', quarantineDir: join(dir, 'vq'), maxInvalid: '100%', limitErrors: 5 }));
    return { seconds: r.seconds, rows: r.value.files[0].rows_read };
  }
  if (name === 'load') {
    const { loadFiles } = await import('../dist/core/load/load.js');
    const { Lakehouse } = await import('../dist/db/lakehouse.js');
    rmSync(lake, { force: true });
    rmSync(`${lake}.wal`, { force: true });
    const files = readdirSync(data).filter((f) => f.endsWith('.csv')).map((f) => join(data, f));
    const r = await time(() => loadFiles({ inputs: files, cwd: data, quarantineDir: join(dir, 'q') }, { lake: new Lakehouse({ path: lake }) }));
    return { seconds: r.seconds, rows: r.value.files.reduce((s, f) => s + f.rows_read, 0) };
  }
  if (name === 'transform') {
    const { runTransform } = await import('../dist/core/transform/transform.js');
    const { Lakehouse } = await import('../dist/db/lakehouse.js');
    const r = await time(() => runTransform({ cwd: process.cwd(), env: {}, fullRefresh: true }, { lake: new Lakehouse({ path: lake }) }));
    const slowest = [...r.value.models].sort((a, b) => b.duration_ms - a.duration_ms)[0];
    return { seconds: r.seconds, tests_failed: r.value.tests_failed, slowest: slowest ? `${slowest.model} ${fmt(slowest.duration_ms / 1000, 1)} s` : '' };
  }
  const { runReport } = await import('../dist/core/report/index.js');
  const { Lakehouse } = await import('../dist/db/lakehouse.js');
  const { renderJson } = await import('../dist/render/json.js');
  // The timeline of the riskiest procedure and search, as the report bench reads them (default limits everywhere).
  const procedure = await new Lakehouse({ path: lake }).withReader((db) => db.scalar('SELECT procedure_id FROM procedure_risk ORDER BY critical_alerts DESC, avg_risk DESC, procedure_id LIMIT 1'));
  const each = {};
  const t0 = performance.now();
  for (const report of REPORTS) {
    // search: the report bench's text (a step name's prefix, in every procedure's telemetry).
    const filters = report === 'timeline' ? { procedure } : report === 'search' ? { text: 'sutur' } : {};
    const r = await time(() => runReport({ name: report, filters, target: { format: 'json', stdout: { write: () => true }, render: renderJson } }, { lake: new Lakehouse({ path: lake }) }));
    each[report] = r.seconds;
  }
  return { seconds: (performance.now() - t0) / 1000, each };
}

if (process.argv[2]) {
  await childMain(stage);
} else {
  const root = freshOut('scale');
  const results = {};
  const busyAt = BUSY_PER_CORE * cpus().length;
  const cell = (r) => (r ? `${fmt(r.seconds)} / ${fmt(r.cpuSeconds)} / ${r.rssMiB}` : 'not run');
  const load = (r) => (r ? `${fmt(r.before, 1)}->${fmt(r.after, 1)}${Math.max(r.before, r.after) > busyAt ? ' busy' : ''}` : '');
  const label = (n) => `${(n / 1e6).toLocaleString('en-US')}M`;
  const write = () => {
    const [a, b] = SIZES;
    const k = b / a;
    const done = SIZES.filter((n) => results[n]);
    const missing = SIZES.flatMap((n) => STAGES.filter((s) => !results[n]?.[s]).map((s) => `${label(n)} ${s}`));
    const md = [
      '## scale',
      '',
      `The pipeline at ${SIZES.map((n) => n.toLocaleString('en-US')).join(' and ')} telemetry rows (generated, seed 7, default bad rows; telemetry.csv`,
      `${done.map((n) => (results[n].csvMiB ? `${fmt(results[n].csvMiB, 0)} MiB` : '?')).join(' and ')}): each stage its own process with the project's defaults. Cells: wall s / CPU s`,
      '(user + system, all threads) / peak RSS MiB. Per-row cost ratio = (s per row at the larger size) / (s per row at the',
      `smaller), by wall and by CPU; 1.0 is linear. Load = 1-minute load average before->after the stage (busy above ${fmt(busyAt, 1)}).`,
      ...(missing.length ? ['', `**Not finished when this was written:** ${missing.join(', ')}.`] : []),
      '',
      `| stage | ${SIZES.map((n) => `${label(n)} rows`).join(' | ')} | ratio wall | ratio CPU | load ${SIZES.map(label).join(' / ')} |`,
      `|---|${SIZES.map(() => '---:|').join('')}---:|---:|---|`,
      ...STAGES.map((s) => {
        const ra = results[a]?.[s];
        const rb = results[b]?.[s];
        const both = ra && rb;
        return `| ${s} | ${SIZES.map((n) => cell(results[n]?.[s])).join(' | ')} | ${both ? fmt(rb.seconds / ra.seconds / k) : ''} | ${both ? fmt(rb.cpuSeconds / ra.cpuSeconds / k) : ''} | ${SIZES.map((n) => load(results[n]?.[s])).join(' / ')} |`;
      }),
      '',
      `Reports (seconds each, in-process, default limits; timeline of the riskiest procedure, search for 'sutur'): ${done.filter((n) => results[n].reports).map((n) => `${label(n)}: ${Object.entries(results[n].reports.each).map(([r, v]) => `${r} ${fmt(v, 2)}`).join(', ')}`).join('; ') || 'none yet'}.`,
      `Slowest model: ${done.filter((n) => results[n].transform).map((n) => `${label(n)} ${results[n].transform.slowest}`).join('; ') || 'none yet'}.`,
      '',
    ].join('\n');
    writeSection('scale', md);
  };
  for (const n of SIZES) {
    const dir = join(root, String(n));
    mkdirSync(dir, { recursive: true });
    results[n] = {};
    for (const s of STAGES) {
      const before = loadavg()[0];
      process.stderr.write(`scale bench: ${n.toLocaleString('en-US')} rows, ${s}...\n`);
      const r = runChild(self, [s, n, dir]);
      results[n][s] = { ...r, before, after: loadavg()[0] };
      process.stderr.write(`  ${JSON.stringify(results[n][s])}\n`);
      if (s === 'generate') results[n].csvMiB = statSync(join(dir, 'data', 'telemetry.csv')).size / 2 ** 20;
      write();
    }
    if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}
