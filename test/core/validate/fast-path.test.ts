// The CSV line fast path (fast-csv.ts, fast-regex.ts) must decide exactly as the exact staging does: same counts,
// rules, warnings, examples and quarantine records, byte for byte. Property tests build files of plain CSV lines with
// tricky cells, blank lines, ragged rows, duplicate keys, CRLF, reordered and unknown columns, and compare both paths.
// The regex builders are checked against their definitions: numbers by the double they parse to, patterns by ECMA
// semantics in JS, integer ranges exhaustively.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { useScratchDb } from '../../helpers/scratch-db.js';
import { describeSchema, loadDatasetSchema, type DatasetSchema, type JsonSchema } from '../../../src/core/schemas.js';
import { dropStaged, stageAndValidate, validateFiles } from '../../../src/core/validate/index.js';
import { generateDataset } from '../../../src/core/generate/index.js';
import { readFileSync } from 'node:fs';
import { buildFastLine, intRangeRegex, numberSlot, patternSlot } from '../../../src/core/validate/fast-regex.js';
import { lakeAt } from '../../helpers/lake.js';

const scratch = useScratchDb();

interface Outcome {
  fastPath: boolean;
  summary: unknown;
  quarantine: unknown[];
}

async function outcome(file: string, ds: DatasetSchema, fast: boolean, delimiter?: string, keys?: Record<string, string>): Promise<Outcome> {
  const s = await stageAndValidate(scratch.db, { path: file, displayName: 'f.csv' }, ds, { materializeValid: false, examples: 40, delimiter, foreignKeyTables: keys, fastPath: fast });
  const quarantine = await scratch.db.all(`SELECT file, line::DOUBLE AS line, "row"::DOUBLE AS "row", raw, errors, rule
    FROM ${s.quarantineTable} ORDER BY line, "row"`);
  const { rowsRead, rowsValid, rowsQuarantined, failuresByRule, warningsByRule, examples, fileErrors, notes, engine, delimiter: d } = s;
  expect(rowsRead).toBe(rowsValid + rowsQuarantined);
  await dropStaged(scratch.db, s);
  return {
    fastPath: s.fastPath,
    // Entries, not objects: the order of the rules is what a report prints.
    summary: { rowsRead, rowsValid, rowsQuarantined, failuresByRule: Object.entries(failuresByRule), warningsByRule: Object.entries(warningsByRule),
      examples, fileErrors, notes, engine, d },
    quarantine,
  };
}

/** Validates `file` both ways; returns whether the fast path took it. */
async function bothAgree(file: string, ds: DatasetSchema, delimiter?: string, keys?: Record<string, string>): Promise<boolean> {
  const exact = await outcome(file, ds, false, delimiter, keys);
  const fast = await outcome(file, ds, true, delimiter, keys);
  expect(exact.fastPath).toBe(false);
  expect(fast.summary).toEqual(exact.summary);
  expect(fast.quarantine).toEqual(exact.quarantine);
  return fast.fastPath;
}

// Cells with no quote, comma, CR or LF (what a plain line holds), around every boundary the fast regex draws.
const TRICKY = ['', '1e309', 'NaN', '-0', '-0.0', '00012', '1.0', '0', '100', '100.0', '100.5', '99.99999999999999999', '0.5',
  ' 5', '+5', '.5', '5.', '1e2', '-1', '101', '499.9', '500', '500.0', '500.1', '600', '1000', '1000.5', '60000', '60000.0',
  '60000.01', 'true', 'True', 'null', '2025-02-30T10:00:00Z', '2025-02-29T10:00:00Z', '2024-02-29T10:00:00Z',
  '2025-04-31T10:00:00Z', '2025-04-30T10:00:00Z', '2025-01-31T23:59:59Z', '2025-03-01 10:00', '2025-03-01T10:00:00+05:30',
  '2025-03-01t10:00:00z', '2016-12-31T23:59:60Z', '2025-03-01T10:00:00.12345678901234Z', '2025-03-01T10:00:00+0530',
  '2025-03-01 10:00:00Z', 'arm_9', 'arm_1 ', 'ARM_1', 'x'.repeat(64), 'x'.repeat(65), 'EV-1', 'EV-2', '💩', 'é', '-', '_x',
  'a b', 'W-COMM', 'w-comm', 'E-ARC', 'stapler', 'closure', 'heart_rate', 'spo2', 'consciousness', 'weight_kg', '/min', '%',
  'mmHg', '{score}', '{flag}', 'Cel', '19.9', '20', '250', '250.0', '250.5', '1.0', '0.5', '2', '43', '43.1', '350',
  '2016-12-31T18:59:60-05:00', '2016-12-31T12:59:60Z', '2016-12-31T24:59:60+01:00', '2025-03-01T10:00:00+05', '2025-03-01T10:00:00+05:30:00',
  '2025-03-01T10:00:00-00:00', '2025-03-01\t10:00:00Z', '2025-03-01\uFEFF10:00:00Z', '\uFEFFEV-1', 'EV-1\uFEFF', '\uFEFF12.5', '\uFEFF'];

// Vitals: a metric per row with its unit and a value inside its range (the schema's if/then rules).
const VITALS: [string, string, string][] = [['heart_rate', '/min', '72'], ['resp_rate', '/min', '16.5'], ['spo2', '%', '97'],
  ['systolic_bp', 'mmHg', '120'], ['diastolic_bp', 'mmHg', '80.0'], ['temperature_c', 'Cel', '36.6'], ['glucose_mg_dl', 'mg/dL', '95'],
  ['weight_kg', 'kg', '70.2'], ['consciousness', '{score}', '0'], ['o2_supplemental', '{flag}', '1']];
const vital = (i: number): [string, string, string] => VITALS[i % VITALS.length] as [string, string, string];

const GOOD: Record<string, (i: number) => string> = {
  reading_id: (i) => `R-${i}`, metric: (i) => vital(i)[0], unit: (i) => vital(i)[1], value: (i) => vital(i)[2],
  measured_at: () => '2025-03-01T10:00:00+01:00',
  event_id: (i) => `EV-${i}`, procedure_id: () => 'PR-1', patient_id: () => 'PA-1', robot_id: () => 'RB-1', robot_arm: () => 'arm_2',
  instrument: () => 'stapler', step: () => 'stapling', force_n: () => '12.5', velocity_mm_s: () => '40', latency_ms: () => '90',
  error_code: () => '', recorded_at: () => '2025-03-01T10:00:00.250Z',
};

let n = 0;
describe('CSV fast path: the same verdicts as the exact staging', () => {
  const ds = loadDatasetSchema('telemetry');
  const mutation = fc.record({ col: fc.nat(), value: fc.constantFrom(...TRICKY) });
  const rowSpec = fc.record({
    muts: fc.array(mutation, { maxLength: 3 }),
    blankBefore: fc.integer({ min: 0, max: 9 }).map((x) => x < 2),
    // -1 a field short, 1 a field too many; 2 and 3 one and two empty fields past the last column (no fields, as
    // DuckDB reads them), 4 a space past it (a field too many).
    ragged: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, -1, 1, 2, 3, 4),
    dupOf: fc.option(fc.nat(), { freq: 5 }),
  });
  const fileSpec = fc.record({
    rows: fc.array(rowSpec, { minLength: 1, maxLength: 120 }),
    crlf: fc.boolean(),
    trailingNewline: fc.boolean(),
    shuffle: fc.boolean(),
    extra: fc.constantFrom(undefined, 'note', '__proto__'),
    extraValue: fc.constantFrom('', '', 'x'),
    tail: fc.constantFrom(undefined, undefined, 'EV-9,"PR-1', '"x"y,1', 'a"b', '"open\nEV-1,x'),
  });
  it.each(['telemetry', 'vitals'])('property: random %s files', async (dataset) => {
    const ds = loadDatasetSchema(dataset);
    const key = ds.primaryKey[0] as string;
    let fastRuns = 0;
    await fc.assert(
      fc.asyncProperty(fileSpec, async (spec) => {
        const cols = [...ds.columns];
        if (spec.shuffle) cols.reverse();
        if (spec.extra) cols.splice(3, 0, spec.extra);
        const nl = spec.crlf ? '\r\n' : '\n';
        const lines = [cols.join(',')];
        spec.rows.forEach((r, i) => {
          const cells = cols.map((c) => (c === spec.extra ? spec.extraValue : (GOOD[c]?.(i) ?? '')));
          for (const m of r.muts) cells[m.col % cells.length] = m.value;
          if (r.dupOf !== null && i > 0) cells[cols.indexOf(key)] = GOOD[key]?.(r.dupOf % i) ?? '';
          if (r.ragged < 0) cells.pop();
          if (r.ragged === 1) cells.push('x');
          if (r.ragged === 2 || r.ragged === 3) cells.push(...Array<string>(r.ragged - 1).fill(''));
          if (r.ragged === 4) cells.push(' ');
          if (r.blankBefore) lines.push('');
          lines.push(cells.join(','));
        });
        const file = join(scratch.dir, `${dataset}-${n++}.csv`);
        if (spec.tail) lines.push(spec.tail);
        writeFileSync(file, lines.join(nl) + (spec.trailingNewline ? nl : ''));
        if (await bothAgree(file, ds)) fastRuns++;
      }),
      { numRuns: 25, seed: 20261128 },
    );
    // Lines holding no quote at all: the fast path must have taken (nearly) every file.
    expect(fastRuns).toBeGreaterThan(15);
  }, 180_000);

  it('takes plain files, and backs out to the exact path for quotes, bad UTF-8 and CR line ends', async () => {
    const header = ds.columns.join(',');
    const good = (i: number): string => ds.columns.map((c) => GOOD[c]?.(i) ?? '').join(',');
    const write = (name: string, body: string | Buffer): string => {
      const file = join(scratch.dir, name);
      writeFileSync(file, body);
      return file;
    };
    expect(await bothAgree(write('plain.csv', `\uFEFF${header}\n${good(1)}\n${good(2)}\n`), ds)).toBe(true);
    expect(await bothAgree(write('header-only.csv', `${header}\n`), ds)).toBe(true);
    expect(await bothAgree(write('gz.csv.gz', gzipSync(`${header}\n${good(1)}\n${good(1)}\n`)), ds)).toBe(true);
    const semi = write('semi.csv', `${ds.columns.join(';')}\n${ds.columns.map((c) => GOOD[c]?.(1) ?? '').join(';')}\n`);
    expect(await bothAgree(semi, ds)).toBe(true);
    expect(await bothAgree(semi, ds, ';')).toBe(true);
    // A quoted newline: a record spans two lines, only the exact path can tell.
    const quoted = `${header}\n${good(1)}\n${good(2).replace('PR-1', '"PR\n1"')}\n${good(3)}\n`;
    expect(await bothAgree(write('quoted.csv', quoted), ds)).toBe(false);
    // A truncated last record (an open quote to the end of the file), a stray quote, a ragged line after it: the
    // tail from the first quote on goes to the exact staging, the rest stays on the fast path.
    expect(await bothAgree(write('trunc.csv', `${header}\n${good(1)}\n${good(2)}\n${good(2)}\nEV-9,"PR-1`), ds)).toBe(true);
    expect(await bothAgree(write('trunc-lf.csv', `${header}\r\n${good(1)}\r\n\r\nEV-9,"PR-1\r\n`), ds)).toBe(true);
    expect(await bothAgree(write('stray.csv', `${header}\n${good(1)}\n${good(2).replace('PR-1', '"PR"1')}\nx,y\n`), ds)).toBe(true);
    await bothAgree(write('mid-quote.csv', `${header}\n${good(1)}\n${good(2).replace('PR-1', 'PR"1')}\n`), ds);
    // A quoted cell that parses as a row: the exact path for the whole file.
    expect(await bothAgree(write('quoted-last.csv', `${header}\n${good(1)}\n${good(2).replace('PR-1', '"PR-1"')}\n`), ds)).toBe(false);
    // Any quote, even around a valid cell, before plain lines leaves the file to the exact path.
    expect(await bothAgree(write('quoted-ok.csv', `${header}\n${good(1).replace('PR-1', '"PR-1"')}\n`), ds)).toBe(false);
    const bad = Buffer.concat([Buffer.from(`${header}\n${good(1)}\n`), Buffer.from([0x45, 0x56, 0xff, 0x2c]), Buffer.from(`${good(2).slice(5)}\n`)]);
    expect(await bothAgree(write('latin1.csv', bad), ds)).toBe(false);
    expect(await bothAgree(write('cr.csv', `${header}\r${good(1)}\r${good(2)}\r`), ds)).toBe(false);
    // A header missing a required column is a file-level error: the exact path reports it.
    expect(await bothAgree(write('missing.csv', `${header.replace('robot_id,', '')}\n${good(1)}\n`), ds)).toBe(false);
    // Whether it took the file or backed out, the fast path detached the scratch database of its kept lines.
    expect(await scratch.db.scalar(`SELECT count(*)::INTEGER FROM duckdb_databases() WHERE starts_with(database_name, '_sv_kept_')`)).toBe(0);
  });

  it('other datasets: every built-in schema either builds a fast regex or says why', () => {
    for (const name of ['telemetry', 'patients', 'maintenance', 'outcomes', 'robots', 'procedures', 'vitals']) {
      const d = loadDatasetSchema(name);
      const r = buildFastLine(d.schema, d.columns, ',');
      if (r.ok) expect(r.regex.length).toBeGreaterThan(10);
      else expect(r.reason).toMatch(/\w/);
    }
    expect(buildFastLine(loadDatasetSchema('vitals').schema, loadDatasetSchema('vitals').columns, ',')).toMatchObject({ ok: true });
    expect(buildFastLine(loadDatasetSchema('procedures').schema, loadDatasetSchema('procedures').columns, ',')).toMatchObject({ ok: false });
  });

  it('patients and maintenance files agree too', async () => {
    for (const name of ['patients', 'maintenance', 'outcomes']) {
      const d = loadDatasetSchema(name);
      const file = join(scratch.dir, `${name}.csv`);
      // A header and rows of blanks and junk: the exact checks decide every line.
      writeFileSync(file, `${d.columns.join(',')}\n${d.columns.map(() => '').join(',')}\n${d.columns.map(() => 'x').join(',')}\n`);
      await bothAgree(file, d);
    }
  });
});

describe('CSV fast path on random schemas', () => {
  // Flat schemas of the keywords the line regex spells: bounds on numbers, patterns, lengths, enums, formats,
  // required or not, unknown columns allowed or not, a warn rule; cells drawn near every boundary.
  const num = fc.constantFrom(-100, -10.5, -1, 0, 0.5, 1, 7, 10, 99.5, 100, 1000);
  const prop = fc.oneof(
    fc.record({ type: fc.constantFrom('number', 'integer'), minimum: fc.option(num, { nil: undefined }), maximum: fc.option(num, { nil: undefined }),
      exclusiveMinimum: fc.option(num, { nil: undefined }), exclusiveMaximum: fc.option(num, { nil: undefined }) }),
    fc.record({ type: fc.constant('string'), pattern: fc.option(fc.constantFrom('^[A-Z]{2}-[0-9]+$', '^a', 'b$', '^(x|yz)*$', '[0-9]', '^.{2,4}$'), { nil: undefined }),
      minLength: fc.option(fc.constantFrom(0, 1, 2), { nil: undefined }), maxLength: fc.option(fc.constantFrom(3, 8, 40), { nil: undefined }) }),
    fc.record({ type: fc.constant('string'), enum: fc.subarray(['a', 'bb', 'AB-1', 'x y', 'é', 'a,b', ''], { minLength: 1 }) }),
    fc.record({ type: fc.constant('string'), format: fc.constantFrom('date-time', 'date', 'time', 'uuid') }),
    fc.record({ type: fc.constant('boolean') }),
  );
  const CELLS = ['', '0', '1', '-1', '0.5', '-0', '7', '10', '10.0', '99.5', '99.9', '100', '100.5', '-100', '-10.5', '-100.5', '1000', '1e2',
    'true', 'false', 'a', 'bb', 'AB-1', 'AB-12', 'AB-', 'x', 'yz', 'xyz', 'x y', 'é', 'ab', 'abcde', 'abc', 'b', 'x'.repeat(41),
    '2025-03-01T10:00:00Z', '2025-02-29', '2024-02-29', '2025-03-01', '10:00:00Z', '23:59:60Z', '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
    '6BA7B810-9DAD-11D1-80B4-00C04FD430C8', 'urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8', '00012', ' 5',
    '23:59:60+00:00', '10:00:00+05', '10:00:00+05:30', '2016-12-31T23:59:60Z', '2025-03-01T10:00:00+05', '\uFEFFa', 'bb\uFEFF'];
  it('property: the same verdicts', async () => {
    let fastRuns = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(prop, { minLength: 2, maxLength: 6 }), fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }), fc.boolean(), fc.boolean(),
        fc.array(fc.array(fc.constantFrom(...CELLS), { minLength: 7, maxLength: 7 }), { minLength: 1, maxLength: 40 }),
        async (props, req, strict, extraCol, rows) => {
          const properties: Record<string, JsonSchema> = {};
          props.forEach((p, i) => {
            properties[`p${i}`] = Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as JsonSchema;
          });
          const names = Object.keys(properties);
          const numeric = names.find((n) => ['number', 'integer'].includes(String(properties[n]?.type)));
          const schema: JsonSchema = {
            type: 'object', properties, required: names.filter((_, i) => req[i]), additionalProperties: !strict,
            ...(numeric ? { allOf: [{ 'x-rule': 'soft', 'x-severity': 'warn', properties: { [numeric]: { maximum: 50 } } }] } : {}),
          };
          const ds = describeSchema(schema, join(scratch.dir, `fuzz-${n}.schema.json`));
          const header = extraCol ? [...names, 'extra'] : names;
          const lines = [header.join(','), ...rows.map((r) => header.map((_, i) => r[i] ?? '').join(','))];
          const file = join(scratch.dir, `fuzz-${n++}.csv`);
          // Cells with a comma split the line differently: the row is ragged for both paths alike.
          writeFileSync(file, `${lines.join('\n')}\n`);
          if (await bothAgree(file, ds)) fastRuns++;
        },
      ),
      { numRuns: 60, seed: 5 },
    );
    expect(fastRuns).toBeGreaterThan(20);
  }, 180_000);
});

describe('CSV fast path with foreign keys', () => {
  const ds = loadDatasetSchema('telemetry');
  it('orphans found exactly as the exact staging finds them, the referenced keys spelled into the regex', async () => {
    await scratch.db.run(`CREATE OR REPLACE TEMP TABLE fk_procs AS SELECT 'PR-' || range AS procedure_id FROM range(3000)
      UNION ALL SELECT 'PR,comma' UNION ALL SELECT 'pr-lower-but-valid' UNION ALL SELECT NULL`);
    await scratch.db.run(`CREATE OR REPLACE TEMP TABLE fk_pats AS SELECT 'PA-' || range AS patient_id FROM range(50)`);
    await scratch.db.run(`CREATE OR REPLACE TEMP TABLE fk_robots AS SELECT 'RB-1' AS robot_id WHERE false`);
    const cells = (i: number, proc: string, pat: string, robot: string): string =>
      ds.columns.map((c) => ({ procedure_id: proc, patient_id: pat, robot_id: robot })[c as 'procedure_id'] ?? GOOD[c]?.(i) ?? '').join(',');
    const lines = [ds.columns.join(',')];
    for (let i = 0; i < 400; i++) {
      const proc = i % 37 === 0 ? 'PR-99999' : i % 41 === 0 ? 'pr-lower-but-valid' : `PR-${i * 7}`;
      const pat = i % 53 === 0 ? 'PA-50' : i % 59 === 0 ? 'bad id!' : `PA-${i % 50}`;
      lines.push(cells(i, proc, pat, 'RB-1'));
    }
    const file = join(scratch.dir, 'fk.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    // Robots: none valid, so every row is an orphan there; then without the robots table.
    expect(await bothAgree(file, ds, undefined, { procedures: 'fk_procs', patients: 'fk_pats', robots: 'fk_robots' })).toBe(false);
    expect(await bothAgree(file, ds, undefined, { procedures: 'fk_procs', patients: 'fk_pats' })).toBe(true);
    const s = await outcome(file, ds, true, undefined, { procedures: 'fk_procs', patients: 'fk_pats' });
    const byRule = Object.fromEntries((s.summary as { failuresByRule: [string, number][] }).failuresByRule);
    expect(byRule.orphan_foreign_key).toBeGreaterThan(15);
  });

  it('a generated directory validates the same both ways (foreign keys across its files)', async () => {
    const out = join(scratch.dir, 'gen');
    await generateDataset({ out, format: 'csv', robots: 3, patients: 16, procedures: 24, telemetryRows: 4000, vitalsHours: 4, badRows: 0.03, incidents: 0.2, seed: 11 });
    const run = async (fast: boolean): Promise<unknown> => {
      const r = await validateFiles({ inputs: [out], cwd: scratch.dir, quarantineDir: join(scratch.dir, `gq-${fast}`), maxInvalid: '100%', limitErrors: 30 }, { lake: lakeAt(':memory:', { validateFast: fast }) });
      return r.files.map((f) => ({ ...f, quarantine_path: null, quarantine: f.quarantine_path ? readFileSync(f.quarantine_path, 'utf8') : '' }));
    };
    expect(await run(true)).toEqual(await run(false));
  });
});

describe('fast regex builders', () => {
  it('intRangeRegex matches exactly the integers of the range, without leading zeros', () => {
    for (let lo = 0; lo <= 130; lo += 13) {
      for (let hi = lo; hi <= 1300; hi += 61) {
        const re = new RegExp(`^(?:${intRangeRegex(lo, hi)})$`);
        for (let v = 0; v <= 1400; v++) expect(re.test(String(v))).toBe(v >= lo && v <= hi);
        expect(re.test('00')).toBe(false);
        expect(re.test(`0${lo}`)).toBe(false);
      }
    }
    expect(intRangeRegex(5, 4)).toBe('');
  });

  it('numberSlot accepts only numerals whose double is inside the bounds', () => {
    const bounds = fc.record({
      min: fc.option(fc.double({ min: -1000, max: 1000, noNaN: true }), { nil: undefined }),
      exMin: fc.option(fc.constantFrom(-10, 0, 0.5, 3), { nil: undefined }),
      max: fc.option(fc.double({ min: -1000, max: 1000, noNaN: true }), { nil: undefined }),
      exMax: fc.option(fc.constantFrom(-3, 0, 10, 99.5, 100), { nil: undefined }),
    });
    const numeral = fc.oneof(
      fc.integer({ min: -1200, max: 1200 }).map(String),
      fc.tuple(fc.integer({ min: -1200, max: 1200 }), fc.stringMatching(/^[0-9]{1,25}$/)).map(([i, f]) => `${i}.${f}`),
      fc.constantFrom('-0', '-0.0', '0.0', '99.99999999999999999', '100.00000000000000001', '-0.5'),
    );
    fc.assert(
      fc.property(bounds, numeral, fc.boolean(), (b, text, integerOnly) => {
        const slot = numberSlot(b, integerOnly);
        if (!slot || !new RegExp(`^(?:${slot.re.replaceAll('\\x{', '\\u{')})$`, 'u').test(text)) return;
        const v = Number(text);
        if (b.min !== undefined) expect(v).toBeGreaterThanOrEqual(b.min);
        if (b.max !== undefined) expect(v).toBeLessThanOrEqual(b.max);
        if (b.exMin !== undefined) expect(v).toBeGreaterThan(b.exMin);
        if (b.exMax !== undefined) expect(v).toBeLessThan(b.exMax);
        if (integerOnly) expect(Number.isInteger(v)).toBe(true);
      }),
      { numRuns: 3000, seed: 7 },
    );
  });

  it('patternSlot matches a subset of what the ECMA pattern matches, never a forbidden character', async () => {
    const patterns = ['^[A-Za-z0-9][A-Za-z0-9_.:-]*$', '^[A-Z0-9-]+$', 'abc', '^a.c$', '^(ab|cd)+x?$', '^\\d{2,3}-\\w+$', '[^x]y$',
      '^[^,]*$', '^é+$', '^a\\.b$'];
    const strings = ['abc', 'xabcx', 'a,c', 'a"c', 'aXc', 'ab', 'abcdx', 'cdab', '12-x_y', '123-', 'zy', 'yy', ',y', 'éé', 'a.b', 'aXb',
      'RB-01', 'rb-01', 'EV-1', '-EV', 'A', ''];
    const forbidden = [',', '"', '\r', '\n'];
    for (const p of patterns) {
      const slot = patternSlot(p, forbidden);
      expect(slot, p).toBeDefined();
      const ecma = new RegExp(p, 'u');
      for (const s of strings) {
        const matched = Boolean(await scratch.db.scalar<boolean>('SELECT regexp_full_match($s, $re)', { s, re: slot?.re ?? '' }));
        if (matched) {
          expect(ecma.test(s), `${p} vs ${JSON.stringify(s)}`).toBe(true);
          expect(forbidden.some((f) => s.includes(f))).toBe(false);
        } else if (ecma.test(s) && !forbidden.some((f) => s.includes(f))) {
          // Complete on what it takes: a string without forbidden characters that the pattern matches is matched.
          expect.fail(`${p} should match ${JSON.stringify(s)}`);
        }
      }
    }
    for (const p of ['^a$b', '(?=a)', '\\bword', '^[,;]$', '^a\\sb$']) expect(patternSlot(p, forbidden), p).toBeUndefined();
  });
});
