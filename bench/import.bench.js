// surgctl import over many small files, where the cost per file shows (each run its own process, under /usr/bin/time:
// wall and CPU seconds of the whole child, Node start-up included, and its peak RSS; runs alternate, medians, the
// 1-minute load average before and after each run; busy above 1.5 per core as lib.js marks it):
//   fhir    `generate --data-format fhir` with BENCH_IMPORT_PATIENTS patients (default 150; procedures 1.5 per patient,
//           generate's ratio), split here into one transaction Bundle per patient (the Patient, its Procedures and its
//           Observations by subject reference; the Devices in the first Bundle). Runs: `surgctl import fhir BUNDLES`,
//           `surgctl import fhir NDJSON` (the generator's own files: the same rows in 4 files) and the plain DuckDB
//           baseline, `CREATE TABLE AS SELECT` of every Bundle entry's resource from read_json into a file database.
//   csv     BENCH_IMPORT_RECORDS PhysioNet-2012 records (default 200; the shape of physionetRecord() in
//           test/core/import/physionet.test.ts), `surgctl import csv --profile physionet-2012 DIR --allow-orphans`
//           against `CREATE TABLE AS SELECT * FROM read_csv('DIR/*.txt')` into a file database.
// Each import starts from a fresh lakehouse. BENCH_IMPORT_BEFORE=<a dist/ folder of an earlier build> adds that
// build's imports to the same rounds (a before/after measured under the same load). BENCH_REPEATS rounds (default 2).
import { spawnSync } from 'node:child_process';
import { appendFileSync, createReadStream, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { benchDir, duckdbApi, fmt, freshOut, headline, loadSpan, writeSection } from './lib.js';

const self = fileURLToPath(import.meta.url);
const mode = process.argv[2];

if (mode === 'cli') {
  // An earlier build's CLI: its dist/cli/main.js run as bin/surgctl.js runs it (that build's bin may be gone).
  const { main } = await import(pathToFileURL(join(process.argv[3], 'cli', 'main.js')).href);
  process.exitCode = await main(process.argv.slice(4));
} else if (mode === 'baseline') {
  // The plain DuckDB statement, default settings, into a file database.
  const { DuckDBInstance } = duckdbApi();
  const inst = await DuckDBInstance.create(process.argv[3]);
  const con = await inst.connect();
  try {
    await con.run(process.argv[4]);
    const n = await con.runAndReadAll('SELECT count(*)::DOUBLE AS n FROM t');
    process.stdout.write(JSON.stringify({ rows: n.getRowObjectsJson()[0].n }));
  } finally {
    con.closeSync();
    inst.closeSync();
  }
} else {
  await bench();
}

async function bench() {
  const { literal } = await import('../dist/db/sql.js');
  const out = freshOut('import');
  const BIN = join(benchDir, '..', 'bin', 'surgctl.js');
  const before = process.env.BENCH_IMPORT_BEFORE ? resolve(process.env.BENCH_IMPORT_BEFORE) : undefined;
  const patients = Number(process.env.BENCH_IMPORT_PATIENTS ?? 150);
  const records = Number(process.env.BENCH_IMPORT_RECORDS ?? 200);
  const rounds = Number(process.env.BENCH_REPEATS ?? 2);

  // 1. The data: the generator's NDJSON, its Bundles, the PhysioNet records.
  const ndjson = join(out, 'ndjson');
  const bundles = join(out, 'bundles');
  const pn = join(out, 'physionet');
  process.stderr.write(`import bench: generating ${patients} patients as FHIR...\n`);
  const gen = spawnSync(process.execPath, [BIN, 'generate', '--data-format', 'fhir', '--out', ndjson, '--force', '--patients', String(patients),
    '--procedures', String(Math.round(patients * 1.5)), '--format', 'json', '-q'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (gen.status !== 0) throw new Error(`generate failed (${gen.status}): ${gen.stderr}`);
  const manifest = JSON.parse(gen.stdout);
  const split = await splitBundles(ndjson, bundles);
  rmSync(pn, { recursive: true, force: true });
  mkdirSync(pn, { recursive: true });
  for (let i = 0; i < records; i++) writeFileSync(join(pn, `${132539 + i}.txt`), physionetRecord(132539 + i, 7 + i));
  const bytes = (dir) => readdirSync(dir).filter((n) => /\.(json|ndjson|txt)$/.test(n) && n !== 'manifest.json').reduce((s, n) => s + statSync(join(dir, n)).size, 0);

  // 2. The runs. A run's cwd is a fresh folder (its lakehouse and quarantine files), removed after it.
  const cwd = join(out, 'run');
  const db = join(cwd, 'fresh.duckdb');
  const cli = (dist, args) => (dist ? [self, 'cli', dist, ...args] : [BIN, ...args]);
  const fhirArgs = (dir) => ['import', 'fhir', dir, '--db', db, '--format', 'json'];
  const csvArgs = ['import', 'csv', '--profile', 'physionet-2012', pn, '--allow-orphans', '--db', db, '--format', 'json'];
  const bundleGlob = join(bundles, '*.json');
  // Each entry's resource as JSON (the staged table's shape), no schema sniffed over the mixed resource types.
  const fhirBase = `CREATE TABLE t AS SELECT unnest(entry).resource AS resource FROM read_json(${literal(bundleGlob)}, columns = {entry: 'STRUCT(resource JSON)[]'})`;
  const csvBase = `CREATE TABLE t AS SELECT * FROM read_csv(${literal(join(pn, '*.txt'))})`;
  const imp = (argv) => () => summed(timed(cwd, argv));
  const base = (sql) => () => {
    const r = timed(cwd, [self, 'baseline', db, sql]);
    return { ...r, rows: JSON.parse(r.stdout).rows };
  };
  const sections = [
    { name: 'fhir', runs: [
      ['bundles', imp(cli(undefined, fhirArgs(bundles)))],
      ...(before ? [['bundles, before', imp(cli(before, fhirArgs(bundles)))]] : []),
      ['ndjson', imp(cli(undefined, fhirArgs(ndjson)))],
      ...(before ? [['ndjson, before', imp(cli(before, fhirArgs(ndjson)))]] : []),
      ['baseline', base(fhirBase)],
    ] },
    { name: 'csv', runs: [
      ['physionet', imp(cli(undefined, csvArgs))],
      ...(before ? [['physionet, before', imp(cli(before, csvArgs))]] : []),
      ['baseline', base(csvBase)],
    ] },
  ];
  const results = {};
  for (const s of sections) {
    results[s.name] = Object.fromEntries(s.runs.map(([label]) => [label, []]));
    for (let i = 0; i < rounds; i++) {
      for (const [label, run] of s.runs) {
        rmSync(cwd, { recursive: true, force: true });
        mkdirSync(cwd);
        const r = run();
        results[s.name][label].push(r);
        process.stderr.write(`  ${s.name} ${label} ${i + 1}/${rounds}: ${fmt(r.wall)} s, ${fmt(r.cpu)} CPU s, ${r.rows} rows, RSS ${r.rssMiB} MiB, load ${fmt(r.before, 1)} -> ${fmt(r.after, 1)}\n`);
      }
    }
  }
  rmSync(cwd, { recursive: true, force: true });

  // 3. The section.
  const med = (rs, k) => {
    const s = rs.map((r) => r[k]).sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const all = Object.values(results).flatMap((s) => Object.values(s).flat());
  const span = loadSpan(all.flatMap((r) => [r.before, r.after]));
  const row = (label, rs, files) => {
    const w = med(rs, 'wall');
    const c = med(rs, 'cpu');
    const rows = rs.at(-1).rows;
    return `| ${label} | ${files} | ${rows.toLocaleString('en-US')} | ${fmt(w)} | ${fmt(c)} | ${fmt((1000 * w) / files, 1)} | ${fmt((1000 * c) / files, 1)} | ${Math.max(...rs.map((r) => r.rssMiB))} | ${rs.map((r) => `${fmt(r.before, 1)}->${fmt(r.after, 1)}`).join(', ')} |`;
  };
  const ratio = (a, b) => headline(loadSpan(a.concat(b).flatMap((r) => [r.before, r.after])), `${fmt(med(a, 'wall') / med(b, 'wall'))}x wall`, `${fmt(med(a, 'cpu') / med(b, 'cpu'))}x CPU`);
  const f = results.fhir;
  const c = results.csv;
  const nd = manifest.files.filter((x) => x.path.endsWith('.ndjson'));
  const pnFiles = records;
  const header = `| run | files | rows | wall s | CPU s | wall ms / file | CPU ms / file | peak RSS MiB | load before->after each run |
|---|---:|---:|---:|---:|---:|---:|---:|---|`;
  writeSection('import', `## Import of many small files (FHIR Bundles, PhysioNet records)

Each run is its own process under \`/usr/bin/time\` (wall and CPU seconds of the whole child, Node start-up included;
peak RSS), from a fresh lakehouse; runs alternate over ${rounds} rounds; medians. ${span.busy ? '**Busy**' : 'Quiet'}: 1-minute load
average ${fmt(span.loadMin, 1)}-${fmt(span.loadMax, 1)} on ${span.cores} cores (busy above ${fmt(1.5 * span.cores, 1)}). Rows: rows inserted by surgctl (all files), rows of the
baseline's table.

FHIR: \`generate --data-format fhir --patients ${patients} --procedures ${Math.round(patients * 1.5)}\` wrote ${nd.reduce((s, x) => s + x.rows, 0).toLocaleString('en-US')} resources in ${nd.length} NDJSON
files (${fmt(bytes(ndjson) / 2 ** 20, 1)} MiB), split into ${split.files} transaction Bundles, one per patient (${fmt(bytes(bundles) / 2 ** 20, 1)} MiB; the ${split.devices} Devices
in the first). bundles / ndjson: \`surgctl import fhir DIR --db fresh.duckdb --format json\`; baseline:
\`CREATE TABLE t AS SELECT unnest(entry).resource AS resource FROM read_json('bundles/*.json', columns = {entry:
'STRUCT(resource JSON)[]'})\` into a file database (each resource as JSON, as surgctl stages it).

${header}
${row('surgctl import fhir, Bundles', f.bundles, split.files)}
${before ? `${row('the same, before', f['bundles, before'], split.files)}\n` : ''}${row('surgctl import fhir, NDJSON', f.ndjson, nd.length)}
${before ? `${row('the same, before', f['ndjson, before'], nd.length)}\n` : ''}${row('DuckDB read_json of the Bundles', f.baseline, split.files)}

Bundles / NDJSON: ${ratio(f.bundles, f.ndjson)}. Bundles / baseline: ${ratio(f.bundles, f.baseline)}.
NDJSON / baseline: ${ratio(f.ndjson, f.baseline)}.${before ? `\nBefore (BENCH_IMPORT_BEFORE, same rounds), Bundles after / before: ${ratio(f.bundles, f['bundles, before'])}.` : ''}

PhysioNet 2012: ${pnFiles} records (${fmt(bytes(pn) / 2 ** 20, 1)} MiB; the shape of \`physionetRecord()\` in the profile's test, each with
one bad value). \`surgctl import csv --profile physionet-2012 DIR --allow-orphans --db fresh.duckdb --format json\`
against \`CREATE TABLE t AS SELECT * FROM read_csv('DIR/*.txt')\` into a file database.

${header}
${row('surgctl import csv', c.physionet, pnFiles)}
${before ? `${row('the same, before', c['physionet, before'], pnFiles)}\n` : ''}${row('DuckDB read_csv', c.baseline, pnFiles)}

surgctl / baseline: ${ratio(c.physionet, c.baseline)}.${before ? ` After / before: ${ratio(c.physionet, c['physionet, before'])}.` : ''}
Ratios are surgctl's time over the other's (above 1: surgctl slower).
`);
}

/** Runs `node ...argv` under /usr/bin/time in `cwd`: wall and CPU seconds, peak RSS, the load average around it. */
function timed(cwd, argv) {
  const before = loadavg()[0];
  const r = spawnSync('/usr/bin/time', ['-f', '@@ %e %U %S %M', process.execPath, ...argv], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  const after = loadavg()[0];
  const m = /@@ ([\d.]+) ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(-3000)}`);
  return { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), rssMiB: Math.round(Number(m[4]) / 1024), before, after, stdout: r.stdout };
}

/** An import's timing with its rows inserted, checked: every mapped row inserted, duplicate or quarantined. */
function summed(r) {
  const res = JSON.parse(r.stdout);
  let rows = 0;
  for (const f of res.files) {
    if (!f.load) continue;
    const l = f.load;
    if (l.rows_inserted + l.rows_duplicate + l.rows_quarantined !== l.rows_read) throw new Error(`rows do not add up in ${f.path}: ${JSON.stringify(l)}`);
    rows += l.rows_inserted;
  }
  return { ...r, rows };
}

/**
 * Splits the generator's NDJSON in `src` into one transaction Bundle per patient in `dest` (named by patient id, in
 * Patient.ndjson's order): the Patient, then its Procedures and Observations (by subject reference) in file order;
 * the Devices in the first Bundle. Streams: files are read line by line, and each Bundle's entries are appended to its
 * file whenever its buffer passes 64 KiB. Each Bundle is one line (a document: import tells it from NDJSON by content).
 */
async function splitBundles(src, dest) {
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  const lines = (name) => createInterface({ input: createReadStream(join(src, name)), crlfDelay: Infinity });
  const entry = (line) => {
    const res = JSON.parse(line);
    const url = `${res.resourceType}/${res.id}`;
    return { res, text: `{"fullUrl":${JSON.stringify(`urn:surgctl:${url}`)},"resource":${line},"request":{"method":"PUT","url":${JSON.stringify(url)}}}` };
  };
  const devices = [];
  for await (const line of lines('Device.ndjson')) if (line.trim()) devices.push(entry(line).text);
  // Per patient: its file and the entries not yet written (joined by commas on write).
  const open = new Map();
  for await (const line of lines('Patient.ndjson')) {
    if (!line.trim()) continue;
    const e = entry(line);
    const b = { path: join(dest, `${e.res.id}.json`), buf: open.size === 0 ? [...devices, e.text] : [e.text], size: 0, written: false };
    open.set(`Patient/${e.res.id}`, b);
  }
  const flush = (b) => {
    if (b.buf.length === 0) return;
    const text = b.buf.join(',');
    if (b.written) appendFileSync(b.path, `,${text}`);
    else writeFileSync(b.path, `{"resourceType":"Bundle","type":"transaction","entry":[${text}`);
    b.written = true;
    b.buf = [];
    b.size = 0;
  };
  for (const name of ['Procedure.ndjson', 'Observation.ndjson']) {
    for await (const line of lines(name)) {
      if (!line.trim()) continue;
      const e = entry(line);
      const b = open.get(e.res.subject?.reference);
      if (!b) throw new Error(`${name}: ${e.res.id} has no patient in Patient.ndjson (${e.res.subject?.reference})`);
      b.buf.push(e.text);
      b.size += e.text.length;
      if (b.size > 65536) flush(b);
    }
  }
  for (const b of open.values()) {
    flush(b);
    appendFileSync(b.path, ']}\n');
  }
  return { files: open.size, devices: devices.length };
}

/** A 48-hour PhysioNet 2012 record: a copy of test/helpers/physionet.ts (plain node cannot import the TypeScript helper). */
function physionetRecord(recordId, seed = 7) {
  let x = seed;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = ['Time,Parameter,Value', `00:00,RecordID,${recordId}`, '00:00,Age,54', '00:00,Gender,0', '00:00,Height,-1', '00:00,ICUType,4', '00:00,Weight,-1'];
  const hhmm = (m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  for (let m = 7; m < 48 * 60; m += 37 + Math.floor(rnd() * 30)) {
    const t = hhmm(m);
    lines.push(`${t},HR,${Math.round(60 + rnd() * 50)}`);
    lines.push(`${t},RespRate,${rnd() < 0.1 ? -1 : Math.round(12 + rnd() * 14)}`);
    if (rnd() < 0.5) lines.push(`${t},NISysABP,${Math.round(95 + rnd() * 60)}`, `${t},NIDiasABP,${Math.round(45 + rnd() * 40)}`);
    else lines.push(`${t},SysABP,${Math.round(90 + rnd() * 70)}`, `${t},DiasABP,${Math.round(40 + rnd() * 40)}`, `${t},MAP,${Math.round(70 + rnd() * 30)}`);
    if (rnd() < 0.3) lines.push(`${t},Temp,${(35.5 + rnd() * 3).toFixed(1)}`);
    if (rnd() < 0.25) lines.push(`${t},SaO2,${Math.round(90 + rnd() * 10)}`);
    if (rnd() < 0.1) lines.push(`${t},Glucose,${Math.round(80 + rnd() * 150)}`);
    if (rnd() < 0.08) lines.push(`${t},Weight,${(70 + rnd() * 3).toFixed(1)}`);
    if (rnd() < 0.2) lines.push(`${t},GCS,${Math.round(9 + rnd() * 6)}`);
    if (rnd() < 0.15) lines.push(`${t},MechVent,1`);
    if (rnd() < 0.2) lines.push(`${t},Lactate,${(1 + rnd() * 2).toFixed(1)}`, `${t},pH,${(7.3 + rnd() * 0.15).toFixed(2)}`);
  }
  lines.push('47:59,Temp,x');
  return `${lines.join('\n')}\n`;
}
