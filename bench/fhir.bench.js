// FHIR import: BENCH_FHIR_PROCEDURES stays of vitals (default 1000 x 36 h at 15 min: about 1.1M Observations) written
// by `generate --data-format fhir`, then read three ways over the same Observation.ndjson, alternating, each in its
// own process (peak RSS its own), with the load average beside each run (the machine is shared):
//   duckdb     DuckDB's own read_json of the file into a table (the yardstick the issue names);
//   compiled   stageFhir + the observation-readings ViewDefinition on the compiled engine (one SQL statement);
//   reference  the same on the reference engine (FHIRPath.js per resource), on the first BENCH_FHIR_REF_LINES lines
//              (default 50,000: the whole file would take tens of minutes), compared by resources per second;
//   before     with BENCH_FHIR_BEFORE=<a dist/ folder of an earlier build>: the compiled engine of that build, in the same
//              run (a before/after measured under the same load).
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { fmt, freshOut, rate, writeSection } from './lib.js';

const out = freshOut('fhir');
const procedures = Number(process.env.BENCH_FHIR_PROCEDURES ?? 1000);
const refLines = Number(process.env.BENCH_FHIR_REF_LINES ?? 50_000);
const repeats = Number(process.env.BENCH_REPEATS ?? 2);
const dist = (p) => JSON.stringify(new URL(`../dist/${p}`, import.meta.url).href);
const before = process.env.BENCH_FHIR_BEFORE;

function child(script, args) {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`bench child failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
// CPU seconds (all threads of the child, from its start) beside wall time: on a busy machine the wall-time ratio
// mostly measures the other tenants; the CPU ratio is steadier.
const footer = `const ru = process.resourceUsage();
  process.stdout.write(JSON.stringify({ ...res, seconds: (performance.now() - t0) / 1000, cpu: (ru.userCPUTime + ru.systemCPUTime) / 1e6 - cpu0, rssMiB: Math.round(ru.maxRSS / 1024) }));`;
const cpuStart = `const cpu0 = (() => { const u = process.resourceUsage(); return (u.userCPUTime + u.systemCPUTime) / 1e6; })();`;

// 1. The data.
const data = join(out, 'data');
const obs = join(data, 'Observation.ndjson');
const gen = child(`
  import { generateDataset } from ${dist('core/generate/index.js')};
  ${cpuStart}
  const t0 = performance.now();
  const r = await generateDataset({ out: ${JSON.stringify(data)}, format: 'fhir', force: true, procedures: ${procedures}, patients: ${Math.min(procedures, 200_000)},
    vitalsHours: 36, vitalsIntervalMin: 15, telemetryRows: 1000 });
  const res = { files: r.manifest.files.map((f) => ({ path: f.path, rows: f.rows, bytes: f.bytes })) };
  ${footer}`, []);
const obsFile = gen.files.find((f) => f.path === 'Observation.ndjson');

// The reference engine's sample: the first refLines lines.
const sample = join(out, 'sample.ndjson');
{
  const w = createWriteStream(sample);
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(obs) })) {
    if (n++ >= refLines) break;
    w.write(`${line}\n`);
  }
  await new Promise((r) => w.end(r));
}

const runs = {
  duckdb: (file) => child(`
    import { openDb } from ${dist('db/db.js')};
    import { literal } from ${dist('db/sql.js')};
    const db = await openDb(':memory:', { memoryLimit: '1GB' });
    ${cpuStart}
    const t0 = performance.now();
    await db.run('CREATE TABLE t AS SELECT * FROM read_json(' + literal(process.argv[1]) + ", format = 'newline_delimited')");
    const res = { resources: Number(await db.scalar('SELECT count(*)::DOUBLE FROM t')) };
    ${footer}`, [file]),
  compiled: (file) => engineRun('compiled', file),
  reference: (file) => engineRun('reference', file),
  before: (file) => engineRun('compiled', file, (p) => JSON.stringify(pathToFileURL(join(before, p)).href)),
};
function engineRun(engine, file, from = dist) {
  return child(`
    import { openDb } from ${from('db/db.js')};
    import { runView, shippedView, stageFhir } from ${from('core/fhir/index.js')};
    // 512MB: DuckDB spills the staged table to its temp directory past it (RSS stays under 1 GiB).
    const db = await openDb(':memory:', { memoryLimit: '512MB' });
    ${cpuStart}
    const t0 = performance.now();
    const st = await stageFhir(db, [process.argv[1]]);
    const staged = (performance.now() - t0) / 1000;
    const v = await runView(db, shippedView('observation-readings'), { source: 'fhir_resources', target: 'readings', engine: ${JSON.stringify(engine)} });
    const res = { resources: st.resources, rows: v.rows, errors: st.errors.length, staged };
    ${footer}`, [file]);
}

const results = { duckdb: [], compiled: [], reference: [], before: [] };
for (let i = 0; i < repeats; i++) {
  for (const name of ['duckdb', 'compiled', ...(before ? ['before'] : []), 'reference']) {
    const load = loadavg()[0];
    const r = runs[name](name === 'reference' ? sample : obs);
    results[name].push({ ...r, load, perSecond: r.resources / r.seconds, perCpu: r.resources / r.cpu });
    console.error(`${name}: ${r.resources} resources in ${fmt(r.seconds)} s, ${fmt(r.cpu)} CPU s (load ${fmt(load, 1)}, RSS ${r.rssMiB} MiB)`);
  }
}
// The median run; of two, the slower (the conservative side).
const med = (xs) => [...xs].sort((a, b) => a.perSecond - b.perSecond)[Math.floor((xs.length - 1) / 2)];
const medCpu = (xs) => [...xs].sort((a, b) => a.perCpu - b.perCpu)[Math.floor((xs.length - 1) / 2)].perCpu;
const d = med(results.duckdb);
const c = med(results.compiled);
const ref = med(results.reference);
const line = (name, rs) => rs.map((r) => `| ${name} | ${r.resources.toLocaleString('en-US')} | ${fmt(r.seconds)}${r.staged === undefined ? '' : ` (staging ${fmt(r.staged)})`} | ${fmt(r.cpu)} | ${rate(r.resources, r.seconds)} | ${r.rssMiB} | ${fmt(r.load, 1)} |`).join('\n');
writeSection('fhir', `## FHIR import (SQL-on-FHIR, observation-readings)

\`generate --data-format fhir\` wrote ${obsFile.rows.toLocaleString('en-US')} Observations (${fmt(obsFile.bytes / 2 ** 20, 0)} MiB NDJSON) in
${fmt(gen.seconds, 1)} s. Each run is its own process; runs alternate; load average (1 min) of the shared 2-core machine
beside each. duckdb: \`CREATE TABLE AS SELECT * FROM read_json(...)\` of the same file. compiled / reference:
\`stageFhir\` + \`runView(observation-readings)\` (${c.rows.toLocaleString('en-US')} reading rows from the full file). The reference
engine runs on the first ${refLines.toLocaleString('en-US')} lines; engines are compared in resources per second.

| run | resources | seconds | CPU s | resources/s | peak RSS MiB | load avg |
|---|---|---|---|---|---|---|
${line('duckdb read_json', results.duckdb)}
${line('compiled engine', results.compiled)}
${before ? `${line('compiled engine, before', results.before)}\n` : ''}${line('reference engine', results.reference)}

Medians: compiled / duckdb read_json throughput **${fmt(c.perSecond / d.perSecond)}x** (goal >= 0.3x); compiled / reference
**${fmt(c.perSecond / ref.perSecond, 1)}x** (goal >= 10x). By CPU seconds (resources per CPU second, medians):
compiled / duckdb read_json **${fmt(medCpu(results.compiled) / medCpu(results.duckdb))}x**, compiled / reference
**${fmt(medCpu(results.compiled) / medCpu(results.reference), 1)}x**. Load average over the runs: ${fmt(Math.min(...Object.values(results).flat().map((r) => r.load)), 1)}-${fmt(Math.max(...Object.values(results).flat().map((r) => r.load)), 1)}; compiled peak RSS ${Math.max(...results.compiled.map((r) => r.rssMiB))} MiB (goal < 1024).${
  before ? `\nBefore (BENCH_FHIR_BEFORE, same run): compiled / duckdb read_json **${fmt(med(results.before).perSecond / d.perSecond)}x**, by CPU **${fmt(medCpu(results.before) / medCpu(results.duckdb))}x**.` : ''}
`);
