// validate: BENCH_ROWS (default 5M) telemetry rows with 2% bad rows as CSV, validated by the compiled engine and
// by ajv, beside a plain DuckDB `SELECT count(*) FROM read_csv(...)` of the same file (the physical limit). Each
// phase runs in its own process so its peak RSS is its own.
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alternate, childMain, duckdbApi, fmt, freshOut, loadNote, pairHeader, pairRow, repeats, rows, runChild, time, typedReadCsvSql, writeSection } from './lib.js';

const self = fileURLToPath(import.meta.url);
const phase = process.argv[2];

/** One SQL COPY writes the file: every 50th row is bad, cycling through the kinds the generator plants. */
async function makeCsv(path, n) {
  const { DuckDBInstance } = duckdbApi();
  const inst = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '1GB' });
  const con = await inst.connect();
  try {
    const header = 'event_id,procedure_id,patient_id,robot_id,robot_arm,instrument,step,force_n,velocity_mm_s,latency_ms,error_code,recorded_at';
    await con.run(`COPY (
      SELECT '${header}' AS line
      UNION ALL
      SELECT CASE WHEN i % 50 = 7 THEN
          CASE (i // 50) % 8
            WHEN 0 THEN concat_ws(',', 'EV-' || i, 'PR-' || (i // 500), 'PA-' || (i // 5000), 'RB-' || (i % 40), 'arm_1', 'stapler', 'stapling', '250.0', '40.0', '80.0', '', '2025-03-01T10:00:00Z')
            WHEN 1 THEN concat_ws(',', 'EV-' || i, 'PR-' || (i // 500), 'PA-' || (i // 5000), 'RB-' || (i % 40), 'arm_7', 'stapler', 'stapling', '20.0', '40.0', '80.0', '', '2025-03-01T10:00:00Z')
            WHEN 2 THEN concat_ws(',', 'EV-' || i, 'PR-' || (i // 500), 'PA-' || (i // 5000), 'RB-' || (i % 40), 'arm_1', 'stapler', 'stapling', 'heavy', '40.0', '80.0', '', '2025-03-01T10:00:00Z')
            WHEN 3 THEN concat_ws(',', 'EV-' || i, 'PR-' || (i // 500), '', 'RB-' || (i % 40), 'arm_1', 'stapler', 'stapling', '20.0', '40.0', '80.0', '', '2025-03-01T10:00:00Z')
            WHEN 4 THEN concat_ws(',', 'EV-' || i, 'PR-' || (i // 500), 'PA-' || (i // 5000), 'RB-' || (i % 40), 'arm_1', 'stapler', 'stapling', '20.0', '40.0', '80.0', '', '2025-02-30 10:00')
            WHEN 5 THEN concat_ws(',', 'EV-' || (i - 1), 'PR-' || (i // 500), 'PA-' || (i // 5000), 'RB-' || (i % 40), 'arm_1', 'stapler', 'stapling', '20.0', '40.0', '80.0', '', '2025-03-01T10:00:00Z')
            WHEN 6 THEN concat_ws(',', 'EV-' || i, 'PR-' || (i // 500), 'PA-' || (i // 5000), 'RB-' || (i % 40), 'arm_1', 'stapler', 'stapling', '20.0')
            ELSE concat_ws(',', 'EV-' || i, 'PR-' || (i // 500), 'PA-' || (i // 5000), 'RB-' || (i % 40), 'arm_1', 'stapler', 'stapling', '20.0', '-3', '80.0', '', '2025-03-01T10:00:00Z')
          END
        ELSE concat_ws(',', 'EV-' || i, 'PR-' || (i // 500), 'PA-' || (i // 5000), 'RB-' || (i % 40), 'arm_' || (1 + i % 4),
          ['needle_driver','stapler','bipolar_forceps','endoscope'][1 + i % 4], ['dissection','suturing','stapling'][1 + i % 3],
          round(1 + (i % 997) / 100.0, 2)::VARCHAR, round((i % 4001) / 10.0, 1)::VARCHAR, (20 + i % 300)::VARCHAR,
          CASE WHEN i % 211 = 0 THEN 'W-COMM' ELSE '' END,
          strftime(TIMESTAMPTZ '2025-03-01 08:00:00+00' + to_milliseconds(i * 20), '%Y-%m-%dT%H:%M:%S.%gZ'))
      END
      FROM range(${n}) r(i)
    ) TO '${path}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\t')`);
  } finally {
    con.closeSync();
    inst.closeSync();
  }
}

async function runPhase(name, path, out) {
  if (name === 'baseline' || name === 'floor-count') {
    // The plain statement with DuckDB's defaults (all cores, default memory limit): count the rows of the file. The
    // baseline reads it typed, as load's baseline does (issue 18: the plain typed statement); the all-VARCHAR count
    // (no casts, ragged rows padded) is a floor under it.
    const { DuckDBInstance } = duckdbApi();
    const reader = name === 'baseline' ? await typedReadCsvSql(path)
      : `read_csv('${path}', header = true, all_varchar = true, null_padding = true)`;
    const inst = await DuckDBInstance.create(':memory:');
    const con = await inst.connect();
    try {
      const r = await time(async () => (await con.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM ${reader}`)).getRowObjectsJson()[0].n);
      return { seconds: r.seconds, rows: r.value };
    } finally {
      con.closeSync();
      inst.closeSync();
    }
  }
  if (name === 'floor-regex' || name === 'floor-dedupe') {
    // The raw work under the fast path, in plain DuckDB: every line through the compiled line regex; the duplicate
    // key aggregate over the first cell. Neither numbers lines nor says why a line fails.
    const { DuckDBInstance } = duckdbApi();
    const { buildFastLine } = await import('../dist/core/validate/fast-regex.js');
    const { loadDatasetSchema } = await import('../dist/core/schemas.js');
    const ds = loadDatasetSchema('telemetry');
    const fast = buildFastLine(ds.schema, ds.columns, ',');
    const inst = await DuckDBInstance.create(':memory:');
    const con = await inst.connect();
    const lines = `read_csv('${path}', columns = {'l': 'VARCHAR'}, header = true, delim = '\u0001', quote = '', escape = '', auto_detect = false)`;
    try {
      const sql = name === 'floor-regex'
        ? `SELECT count(*)::INTEGER AS n FROM ${lines} WHERE regexp_full_match(l, $rx)`
        : `SELECT count(*)::INTEGER AS n FROM (SELECT substr(l, 1, strpos(l, ',') - 1) AS k FROM ${lines} GROUP BY k HAVING count(*) > 1)`;
      const r = await time(async () => (await con.runAndReadAll(sql, name === 'floor-regex' ? { rx: fast.regex } : undefined)).getRowObjectsJson()[0].n);
      return { seconds: r.seconds, rows, matched: r.value };
    } finally {
      con.closeSync();
      inst.closeSync();
    }
  }
  const { validateFiles } = await import('../dist/core/validate/index.js');
  const engine = name === 'exact' ? 'compiled' : name;
  // The CLI turns SURGCTL_VALIDATE_FAST=0 into the lake's validateFast; core never reads the environment.
  const { Lakehouse } = await import('../dist/db/lakehouse.js');
  const r = await time(() => validateFiles({ inputs: [path], schema: 'telemetry', engine, quarantineDir: join(out, `q-${name}`), maxInvalid: '100%', limitErrors: 5 },
    { lake: new Lakehouse({ path: ':memory:', validateFast: name !== 'exact' }) }));
  const f = r.value.files[0];
  return { seconds: r.seconds, rows: f.rows_read, valid: f.rows_valid, quarantined: f.rows_quarantined, engine: f.engine };
}

if (phase) {
  await childMain(runPhase);
} else {
  const out = freshOut('validate');
  const path = join(out, `telemetry-${rows}.csv`);
  if (!existsSync(path)) {
    process.stderr.write(`validate bench: writing ${rows.toLocaleString('en-US')} rows...\n`);
    await makeCsv(path, rows);
  }
  const mb = statSync(path).size / 2 ** 20;
  const run = (name) => () => runChild(self, [name, path, out]);
  const phases = (process.env.BENCH_PHASES ?? 'compiled,exact,ajv,floor-count,floor-regex,floor-dedupe').split(',');
  const results = {};
  // Each phase alternates with the baseline (A B A B A B); the slow ajv engine and the floors run once beside one baseline.
  for (const name of phases) {
    process.stderr.write(`validate bench: ${name} vs baseline...\n`);
    results[name] = alternate(name, run(name), run('baseline'), name === 'compiled' || name === 'exact' ? repeats : 1);
  }
  const c = results.compiled;
  const label = {
    compiled: 'compiled engine (CSV line fast path)',
    exact: 'compiled engine, exact staging only (`SURGCTL_VALIDATE_FAST=0`)',
    ajv: 'ajv engine (one pair)',
    'floor-count': 'floor: plain DuckDB `count(*)` over `read_csv(..., all_varchar = true)`, no casts (one pair)',
    'floor-regex': 'floor: plain DuckDB, every line through the fast-path regex, counted (one pair)',
    'floor-dedupe': 'floor: plain DuckDB, duplicate-key `GROUP BY` over the first cell (one pair)',
  };
  const md = [
    '## validate',
    '',
    `${rows.toLocaleString('en-US')} telemetry rows (${fmt(mb, 0)} MiB CSV, every 50th row bad: out of range, bad enum, wrong type,`,
    'missing required, impossible date, duplicate key, ragged row, negative speed), `validateFiles` with quarantine written.',
    'Baseline: the plain typed DuckDB statement with default settings, `SELECT count(*) FROM read_csv(..., columns =',
    '{schema types}, store_rejects = true)` of the same file in its own process: the reader load\'s baseline uses (the',
    'file\'s header columns with the schema\'s types, the CSV dialect given, bad rows to the reject tables), as issue 18',
    'asks of every baseline. Until h18l the baseline was the all-VARCHAR count, which parses no value: it is kept as a',
    'floor row below (ratio there = typed count / all-VARCHAR count).',
    `Each row alternates surgctl and the baseline (A B A B ...; medians of ${repeats} pairs unless marked), each run its own`,
    'process; CPU s = user + system over all threads (the child\'s rusage, Node start-up included). Ratio = baseline /',
    'surgctl (1.0 = as fast as the typed count). Goals: compiled >= 0.3 of the count on a quiet machine, peak RSS < 512 MiB',
    'at 25M rows.',
    '',
    pairHeader('speed'),
    ...phases.map((p) => pairRow(label[p] ?? p, results[p], 'speed')),
    '',
    `Load during the compiled pairs: ${loadNote(c)}.`,
    `Rows quarantined by the compiled engine: ${c.a.last.quarantined?.toLocaleString('en-US')} of ${c.a.last.rows?.toLocaleString('en-US')}.`,
    '',
    'The compiled engine first matches every line against one regex compiled from the schema and the header; only the',
    'lines it does not accept (here the 2% bad rows and the duplicate keys) are split and checked in full, with the exact',
    'reasons. The file is read once: the scan keeps each line\'s key hash and byte length, and the lines of keys that',
    'occur more than once are read back at their offsets. The two floors are raw work that any exact validation of this',
    'file does: the regex pass (or an equivalent per-cell check) over every byte, and a duplicate-key aggregate over',
    'every row.',
    '',
  ].join('\n');
  writeSection('validate', md);
  if (!process.env.BENCH_KEEP) {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
  }
}
