// The four deciders of a row's fate — validate's CSV fast path, its exact compiled staging, ajv, and load — give the
// same verdict for every row. Examples for each rule where they once disagreed (a trailing empty field, U+FEFF inside
// a cell, offsets without minutes, leap seconds), then a property test over generated rows with all of them mixed in.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrate } from '../../../src/core/load/migrations.js';
import { describeSchema, loadDatasetSchema, type DatasetSchema } from '../../../src/core/schemas.js';
import { FORMAT_MACROS_SQL } from '../../../src/core/validate/compile.js';
import { dropStaged, stageAndValidate } from '../../../src/core/validate/index.js';
import { buildFastLine } from '../../../src/core/validate/fast-regex.js';
import { isRfc3339DateTime, isRfc3339Time } from '../../../src/core/validate/formats.js';
import { useScratchDb } from '../../helpers/scratch-db.js';
import { loadVerdicts, validateVerdicts, type FileVerdicts, type LoadVerdicts } from '../../helpers/verdicts.js';

const scratch = useScratchDb();

interface All {
  fast: FileVerdicts;
  exact: FileVerdicts;
  ajv: FileVerdicts;
  file: string;
  /** Undefined for a schema that is not a built-in dataset (load takes built-in datasets only). */
  load: LoadVerdicts | undefined;
}

let migrated = false;
let n = 0;

/** Writes `text` and decides it four ways; asserts they agree row by row and returns what they said. */
async function decide(ds: DatasetSchema, text: string): Promise<All> {
  if (!migrated) {
    await migrate(scratch.db);
    migrated = true;
  }
  const file = join(scratch.dir, `${ds.name}-${n++}.csv`);
  writeFileSync(file, text);
  const fast = await validateVerdicts(scratch.db, file, ds, 'fast');
  const exact = await validateVerdicts(scratch.db, file, ds, 'exact');
  const ajv = await validateVerdicts(scratch.db, file, ds, 'ajv');
  const load = ds.path.startsWith('/x/') ? undefined : await loadVerdicts(scratch.db, file, ds, join(scratch.dir, 'quarantine'));
  expect(exact.fastPath).toBe(false);
  expect({ errors: fast.errors, warnings: fast.warnings, rowsRead: fast.rowsRead }, 'fast path vs exact').toEqual({ errors: exact.errors, warnings: exact.warnings, rowsRead: exact.rowsRead });
  expect({ errors: ajv.errors, warnings: ajv.warnings, rowsRead: ajv.rowsRead }, 'ajv vs exact').toEqual({ errors: exact.errors, warnings: exact.warnings, rowsRead: exact.rowsRead });
  if (load) {
    expect({ errors: load.errors, rowsRead: load.rowsRead }, 'load vs exact').toEqual({ errors: exact.errors, rowsRead: exact.rowsRead });
    // Every row not quarantined is inserted, with no value lost to a failed cast.
    expect(Object.keys(load.inserted).length + Object.keys(exact.errors).length).toBe(exact.rowsRead);
  }
  return { file, fast, exact, ajv, load };
}

const TELEMETRY = loadDatasetSchema('telemetry');
const OUTCOMES = loadDatasetSchema('outcomes');
const telemetryRow = (i: number, recordedAt: string): string => `EV-${i},PR-1,PA-1,RB-1,arm_2,stapler,stapling,12.5,40,90,,${recordedAt}`;
/** Inserted lines whose only NULLs are the empty error_code and the optional columns the file leaves out. */
const ABSENT = TELEMETRY.columns.slice(TELEMETRY.columns.indexOf('recorded_at') + 1);
const onlyErrorCodeNull = (...lines: number[]): Record<number, string[]> => Object.fromEntries(lines.map((l) => [l, ['error_code', ...ABSENT]]));
/** The console telemetry columns (the optional kinematic ones after recorded_at are left out of the file). */
const TELEMETRY_CONSOLE = TELEMETRY.columns.slice(0, TELEMETRY.columns.indexOf('recorded_at') + 1);
const telemetryFile = (instants: string[]): string =>
  `${TELEMETRY_CONSOLE.join(',')}\n${instants.map((at, i) => telemetryRow(i, at)).join('\n')}\n`;

describe('the four engines on the rows where they once disagreed', () => {
  it('a trailing empty field is ignored by all four (as DuckDB reads it); a non-empty extra field is csv_field_count', async () => {
    const r = await decide(OUTCOMES, `${OUTCOMES.columns.join(',')}
PR-1,death,none,146.435,true,
PR-2,death,none,1,true
PR-3,death,none,1,true,,
PR-4,death,none,1,true, 
PR-5,death,none,1,true,x
PR-6,death,none,1,,
`);
    expect(r.fast.fastPath).toBe(true);
    expect(r.exact.errors).toEqual({ 5: 'null:csv_field_count', 6: 'null:csv_field_count', 7: 'readmitted_30d:required' });
    expect(r.load?.inserted).toEqual({ 2: [], 3: [], 4: [] });
  });

  it('a U+FEFF inside a cell is a character of the value: pattern, enum and type fail in all four', async () => {
    const r = await decide(OUTCOMES, `\uFEFF${OUTCOMES.columns.join(',')}
\uFEFFPR-1,death,none,1,true
PR-2,\uFEFFdeath,none,1,true
PR-3,death\uFEFF,none,1,true
PR-4,death,none,\uFEFF1,true
PR-5,death,none,1,true
`);
    expect(r.exact.errors).toEqual({
      2: 'procedure_id:pattern', 3: 'outcome:enum', 4: 'outcome:enum', 5: 'length_of_stay_days:type',
    });
    expect(r.load?.inserted).toEqual({ 6: [] });
    // The examples a report prints keep the U+FEFF too (node-api's text decoding would strip one that begins a value).
    for (const fast of [true, false]) {
      const s = await stageAndValidate(scratch.db, { path: r.file }, OUTCOMES, { materializeValid: false, fastPath: fast });
      expect(s.examples.map((e) => e.value), `fast path ${fast}`).toEqual(['\uFEFFPR-1', '\uFEFFdeath', 'death\uFEFF', '\uFEFF1']);
      await dropStaged(scratch.db, s);
    }
  });

  it('RFC 3339 offsets: Z or ±HH:MM; +05, +0530 and +05:30:00 are format errors in all four', async () => {
    const r = await decide(TELEMETRY, telemetryFile([
      '2025-03-01T10:00:00+05', '2025-03-01T10:00:00+0530', '2025-03-01T10:00:00+05:30:00', '2025-03-01T10:00:00+05:30',
      '2025-03-01T10:00:00-00:00', '2025-03-01t10:00:00z', '2025-03-01 10:00:00Z', '2025-03-01\t10:00:00Z', '2025-03-01\uFEFF10:00:00Z',
      ' 2025-03-01T10:00:00Z', '2025-03-01T10:00:00Z ', '2025-03-01T10:00:00+24:00', '2025-03-01T10:00:00+23:59',
    ]));
    expect(r.exact.errors).toEqual({
      2: 'recorded_at:format', 3: 'recorded_at:format', 4: 'recorded_at:format', 9: 'recorded_at:format', 10: 'recorded_at:format',
      11: 'recorded_at:format', 12: 'recorded_at:format', 13: 'recorded_at:format',
    });
    expect(r.load?.inserted).toEqual(onlyErrorCodeNull(5, 6, 7, 8, 14));
  });

  it('the same offset rule for format: time', async () => {
    const ds = describeSchema({ type: 'object', properties: { id: { type: 'string' }, t: { type: 'string', format: 'time' } }, required: ['id'] }, '/x/times.schema.json');
    const r = await decide(ds, 'id,t\na,10:00:00+05\nb,10:00:00+0530\nc,10:00:00+05:30\nd,10:00:00z\ne,23:59:60Z\nf,22:59:60Z\n');
    expect(r.exact.errors).toEqual({ 2: 't:format', 3: 't:format', 7: 't:format' });
    expect(r.exact.warnings).toEqual({});
  });

  it('a leap second is valid with a leap_second warning in all four; load keeps the row as 23:59:59.999999 UTC', async () => {
    const r = await decide(TELEMETRY, telemetryFile([
      '2016-12-31T23:59:60Z', '2016-12-31T18:59:60-05:00', '2016-12-31t23:59:60.5z', '2016-12-31T12:59:60Z', '2016-12-31T23:59:61Z',
      '2016-12-31T24:59:60+01:00', '2016-12-31T23:58:60Z', '2016-12-31T23:59:59Z',
    ]));
    expect(r.exact.errors).toEqual({ 5: 'recorded_at:format', 6: 'recorded_at:format', 7: 'recorded_at:format', 8: 'recorded_at:format' });
    expect(r.exact.warnings).toEqual({ 2: 'recorded_at:leap_second', 3: 'recorded_at:leap_second', 4: 'recorded_at:leap_second' });
    expect(r.load?.inserted).toEqual(onlyErrorCodeNull(2, 3, 4, 9));
    expect([2, 3, 4, 9].map((line) => r.load?.values[line]?.recorded_at)).toEqual([
      '2016-12-31 23:59:59.999999+00', '2016-12-31 23:59:59.999999+00', '2016-12-31 23:59:59.999999+00', '2016-12-31 23:59:59+00']);
  });
});

describe('the four engines on the two-tier vitals limits (issue 15)', () => {
  const VITALS_DS = loadDatasetSchema('vitals');
  // [metric, unit, value, the row's verdict]: impossible values are quarantined (the keyword of the bound they
  // cross), alarming-but-possible ones load (the marts flag them, test/core/transform/golden-observation-sets).
  const CASES: [string, string, string, string | null][] = [
    ['heart_rate', '/min', '0', 'value:exclusiveMinimum'], ['heart_rate', '/min', '-1', 'value:exclusiveMinimum value:minimum'],
    ['heart_rate', '/min', '0.5', null], ['heart_rate', '/min', '600', null], ['heart_rate', '/min', '600.1', 'value:maximum'],
    ['resp_rate', '/min', '0', null], ['resp_rate', '/min', '100.5', 'value:maximum'],
    ['spo2', '%', '0', 'value:exclusiveMinimum'], ['spo2', '%', '26', null], ['spo2', '%', '100', null], ['spo2', '%', '100.1', 'value:maximum'],
    ['systolic_bp', '/min', '120', 'unit:const'], ['systolic_bp', 'mmHg', '500', null], ['systolic_bp', 'mmHg', '500.5', 'value:maximum'],
    ['diastolic_bp', 'mmHg', '0', 'value:exclusiveMinimum'], ['diastolic_bp', 'mmHg', '400', null],
    ['temperature_c', 'Cel', '9.9', 'value:minimum'], ['temperature_c', 'Cel', '10', null], ['temperature_c', 'Cel', '29', null],
    ['temperature_c', 'Cel', '47', null], ['temperature_c', 'Cel', '47.1', 'value:maximum'],
    ['glucose_mg_dl', 'mg/dL', '10', null], ['glucose_mg_dl', 'mg/dL', '1143', null], ['glucose_mg_dl', 'mg/dL', '2700', null],
    ['glucose_mg_dl', 'mg/dL', '2700.5', 'value:maximum'], ['glucose_mg_dl', 'mg/dL', '0', 'value:exclusiveMinimum'],
    ['weight_kg', 'kg', '0.19', 'value:minimum'], ['weight_kg', 'kg', '0.2', null], ['weight_kg', 'kg', '0.6', null],
    ['weight_kg', 'kg', '700', null], ['weight_kg', 'kg', '700.5', 'value:maximum'],
    ['consciousness', '{score}', '2', 'value:maximum'], ['o2_supplemental', '{flag}', '0.5', 'value:multipleOf'],
  ];

  it('quarantine the impossible tier and load the alarming one, all four alike', async () => {
    const text = `${VITALS_DS.columns.join(',')}\n${CASES.map(([m, u, v], i) => `R-${i},PA-1,${m},${v},${u},2025-03-01T10:00:00Z`).join('\n')}\n`;
    const r = await decide(VITALS_DS, text);
    const want = Object.fromEntries(CASES.flatMap(([, , , verdict], i) => (verdict === null ? [] : [[i + 2, verdict]])));
    expect(r.exact.errors).toEqual(want);
    expect(Object.keys(r.load?.inserted ?? {}).map(Number)).toEqual(CASES.flatMap(([, , , verdict], i) => (verdict === null ? [i + 2] : [])));
  });
});

// Cells around every rule above: leap seconds (valid and not), offsets without minutes, with seconds, lowercase z
// and t, other separators, U+FEFF and spaces around and inside values, numbers that are not JSON numbers.
const INSTANTS = ['2016-12-31T23:59:60Z', '2016-12-31T18:59:60-05:00', '2016-12-31t23:59:60.5z', '2016-12-31T23:59:60+00:00',
  '2017-01-01T00:29:60+00:30', '2016-12-31T12:59:60Z', '2016-12-31T23:59:61Z', '2016-12-31T24:59:60+01:00', '2016-12-31T23:58:60Z',
  '2025-03-01T10:00:00+05', '2025-03-01T10:00:00+0530', '2025-03-01T10:00:00+05:30', '2025-03-01T10:00:00+05:30:00',
  '2025-03-01T10:00:00-00:00', '2025-03-01t10:00:00z', '2025-03-01T10:00:00z', '2025-03-01 10:00:00Z', '2025-03-01\t10:00:00Z',
  '2025-03-01\uFEFF10:00:00Z', '2025-03-01T10:00:00+24:00', '2025-03-01T10:00:00+23:59', '2025-03-01T10:00:00-23:59',
  '1985-04-12T00:59:59.999999999999999Z', '0000-01-01T00:00:00Z', '2024-02-29T10:00:00Z', '2025-02-29T10:00:00Z',
  '2025-03-01T10:00:00.250Z', '2025-03-01T10:00', '2025-03-01', '2016-12-31T23:59:59.9995Z', '2016-12-31T23:59:59.0000001Z',
  '2016-12-31T23:59:59.000001Z', '2017-01-01T00:00:00.0001+00:00'];
const OTHERS = ['', '1e309', 'NaN', '-0', '00012', '1.0', '+1', '-1', '5', '300', 'true', 'True', 'false', 'null', '\uFEFF', 'x', 'PR-1', 'a b'];
/** Around a good value: nothing, a U+FEFF, a space or a no-break space before, inside or after it. */
const AROUND = ['', '\uFEFF', ' ', '\u00A0'];

const VITALS: [string, string, string][] = [['heart_rate', '/min', '72'], ['spo2', '%', '97'], ['temperature_c', 'Cel', '36.6'],
  ['weight_kg', 'kg', '70.2'], ['consciousness', '{score}', '0']];
const GOOD: Record<string, Record<string, (i: number) => string>> = {
  telemetry: {
    event_id: (i) => `EV-${i}`, procedure_id: () => 'PR-1', patient_id: () => 'PA-1', robot_id: () => 'RB-1', robot_arm: () => 'arm_2',
    instrument: () => 'stapler', step: () => 'stapling', force_n: () => '12.5', velocity_mm_s: () => '40', latency_ms: () => '90',
    error_code: (i) => (i % 3 ? '' : 'E-ARC'), recorded_at: () => '2025-03-01T10:00:00.250Z',
  },
  outcomes: {
    procedure_id: (i) => `PR-${i}`, outcome: () => 'success', clavien_dindo_grade: () => 'none', length_of_stay_days: () => '3.5',
    readmitted_30d: (i) => (i % 2 ? 'true' : 'false'),
  },
  vitals: {
    reading_id: (i) => `R-${i}`, patient_id: () => 'PA-1', metric: (i) => VITALS[i % VITALS.length]?.[0] ?? '',
    value: (i) => VITALS[i % VITALS.length]?.[2] ?? '', unit: (i) => VITALS[i % VITALS.length]?.[1] ?? '',
    measured_at: () => '2025-03-01T10:00:00+01:00',
  },
  procedures: {
    procedure_id: (i) => `P-${i}`, patient_id: () => 'PA-1', robot_id: () => 'RB-1', surgeon_id: () => 'S-1', procedure_type: () => 'colectomy',
    started_at: () => '2016-12-31T23:59:59.9999Z', ended_at: () => '2017-01-01T10:00:00Z', status: () => 'completed',
  },
};

describe('the four engines on generated rows', () => {
  const mutation = fc.record({
    col: fc.nat(),
    dateTime: fc.boolean(),
    value: fc.oneof(
      fc.constantFrom(...INSTANTS),
      fc.constantFrom(...OTHERS),
      fc.record({ pre: fc.constantFrom(...AROUND), mid: fc.constantFrom(...AROUND), post: fc.constantFrom(...AROUND) }),
    ),
  });
  const rowSpec = fc.record({
    muts: fc.array(mutation, { maxLength: 2 }),
    // Extra fields after the last column: empty ones (ignored), a space or a value (ragged).
    trail: fc.constantFrom('', '', '', '', '', ',', ',,', ', ', ',x'),
  });
  let cases = 0;
  let rows = 0;
  it.each(['telemetry', 'outcomes', 'vitals', 'procedures'])('property: %s files decided alike, row by row', async (dataset) => {
    const ds = loadDatasetSchema(dataset);
    const good = GOOD[dataset] ?? {};
    const dateTimes = ds.columns.filter((c) => ds.columnTypes[c]?.format === 'date-time');
    await fc.assert(
      fc.asyncProperty(fc.array(rowSpec, { minLength: 150, maxLength: 300 }), async (specs) => {
        const cells = specs.map((spec, i) => {
          const row = ds.columns.map((c) => good[c]?.(i) ?? '');
          for (const m of spec.muts) {
            const col = m.dateTime && dateTimes.length ? ds.columns.indexOf(dateTimes[m.col % dateTimes.length] as string) : m.col % row.length;
            const before = row[col] ?? '';
            const half = Math.floor(before.length / 2);
            row[col] = typeof m.value === 'string' ? m.value : `${m.value.pre}${before.slice(0, half)}${m.value.mid}${before.slice(half)}${m.value.post}`;
          }
          return row;
        });
        const text = `${ds.columns.join(',')}\n${cells.map((row, i) => `${row.join(',')}${specs[i]?.trail ?? ''}`).join('\n')}\n`;
        const r = await decide(ds, text);
        // Each inserted row lost nothing to the typed cast: NULL exactly where its cell was empty.
        for (const [line, nulls] of Object.entries(r.load?.inserted ?? {})) {
          const row = cells[Number(line) - 2] ?? [];
          expect(nulls, `line ${line}`).toEqual(ds.columns.filter((_, j) => row[j] === ''));
        }
        cases++;
        rows += cells.length;
      }),
      { numRuns: 4, seed: 20261207, endOnFailure: true },
    );
  }, 60_000);
  it('ran enough rows', () => {
    expect(rows).toBeGreaterThan(cases * 50);
    console.info(`four-engines property: ${cases} files, ${rows} rows, each decided by the fast path, the exact staging, ajv and load`);
  });
});

describe('x-compare on instants', () => {
  it('compares to the microsecond in both engines, leap seconds as :59.999999', async () => {
    const ds = loadDatasetSchema('procedures');
    const row = (i: number, start: string, end: string): string => `P-${i},PA-1,RB-1,S-1,colectomy,${start},${end},completed`;
    const r = await decide(ds, `${ds.columns.join(',')}
${row(1, '2025-03-01T10:00:00.0005Z', '2025-03-01T10:00:00.0001Z')}
${row(2, '2025-03-01T10:00:00.0001Z', '2025-03-01T10:00:00.0005Z')}
${row(3, '2016-12-31T23:59:60Z', '2016-12-31T23:59:59.9995Z')}
${row(4, '2016-12-31T23:59:59.9999999Z', '2016-12-31T23:59:60Z')}
${row(5, '2016-12-31T23:59:60Z', '2017-01-01T00:00:00Z')}
${row(6, '2017-01-01T00:00:00Z', '2016-12-31T23:59:60Z')}
${row(7, '2025-03-01T10:00:00.000000999Z', '2025-03-01T10:00:00Z')}
`);
    expect(r.exact.errors).toEqual({ 2: 'ended_at:x-compare', 4: 'ended_at:x-compare', 7: 'ended_at:x-compare' });
  });
});

describe('RFC 3339 spelled three times', () => {
  it('the ajv format functions and the SQL macros agree on every combination; the fast line regex accepts a subset', async () => {
    const dates = ['2025-03-01', '2024-02-29', '2025-02-29', '2025-04-31', '0000-01-01', '2025-13-01', '2025-3-01', '2025-03-0١'];
    const seps = ['T', 't', ' ', '\t', '\uFEFF', '_', ''];
    const times = ['10:00:00', '23:59:60', '18:59:60', '00:29:60', '12:59:60', '23:59:61', '24:00:00', '24:59:60', '23:60:00', '10:00:00.5',
      '23:59:59.999999999999999', '10:00', '1:00:00'];
    const offsets = ['Z', 'z', '+05:30', '-05:00', '+00:30', '-23:59', '+05', '+0530', '+05:30:00', '+24:00', '+05:60', '', 'Z ', '+5:30'];
    const all = dates.flatMap((d) => seps.flatMap((s) => times.flatMap((t) => offsets.map((o) => `${d}${s}${t}${o}`))));
    const timesAll = times.flatMap((t) => offsets.map((o) => `${t}${o}`));
    for (const stmt of FORMAT_MACROS_SQL.split(';').map((x) => x.trim()).filter(Boolean)) await scratch.db.run(stmt);
    const line = buildFastLine({ type: 'object', properties: { a: { type: 'string', format: 'date-time' }, b: { type: 'string', format: 'time' } } }, ['a', 'b'], ',');
    if (!line.ok) throw new Error(line.reason);
    await scratch.db.run(`CREATE OR REPLACE TEMP TABLE rfc_dt AS SELECT unnest(CAST($v AS VARCHAR[])) AS s`, { v: JSON.stringify(all) });
    await scratch.db.run(`CREATE OR REPLACE TEMP TABLE rfc_t AS SELECT unnest(CAST($v AS VARCHAR[])) AS s`, { v: JSON.stringify(timesAll) });
    // Each value behind a '.' (node-api strips a U+FEFF that begins a value).
    const sqlDt = await scratch.db.all<{ s: string; ok: boolean; fast: boolean }>(`SELECT '.' || s AS s, surgctl_is_date_time(s) AS ok,
      regexp_full_match(s || ',', $rx) AS fast FROM rfc_dt`, { rx: line.regex });
    const sqlT = await scratch.db.all<{ s: string; ok: boolean; fast: boolean }>(`SELECT '.' || s AS s, surgctl_is_time(s) AS ok,
      regexp_full_match(',' || s, $rx) AS fast FROM rfc_t`, { rx: line.regex });
    expect(sqlDt.length).toBe(all.length);
    const wrong: string[] = [];
    for (const r of sqlDt) {
      const s = r.s.slice(1);
      if (r.ok !== isRfc3339DateTime(s)) wrong.push(`date-time ${JSON.stringify(s)}: SQL ${r.ok}`);
      if (r.fast && !r.ok) wrong.push(`date-time ${JSON.stringify(s)}: the fast regex accepts an invalid value`);
    }
    for (const r of sqlT) {
      const s = r.s.slice(1);
      if (r.ok !== isRfc3339Time(s)) wrong.push(`time ${JSON.stringify(s)}: SQL ${r.ok}`);
      if (r.fast && !r.ok) wrong.push(`time ${JSON.stringify(s)}: the fast regex accepts an invalid value`);
    }
    expect(wrong).toEqual([]);
    // Spot checks of the rule itself.
    expect(['2016-12-31T23:59:60Z', '2016-12-31T18:59:60-05:00', '2025-03-01 10:00:00z'].map(isRfc3339DateTime)).toEqual([true, true, true]);
    expect(['2025-03-01T10:00:00+05', '2016-12-31T24:59:60+01:00', '2025-03-01\uFEFF10:00:00Z'].map(isRfc3339DateTime)).toEqual([false, false, false]);
    expect(sqlDt.filter((r) => r.ok).length).toBeGreaterThan(100);
    expect(sqlDt.filter((r) => r.fast).length).toBeGreaterThan(50);
  });
});
