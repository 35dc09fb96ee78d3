// surgctl import csv / profiles through the CLI (in-process): a user's own profile with vendor parameter names,
// units that need UCUM (degF, a fraction of 1 for SpO2), an incommensurable unit, missing markers and naive
// timestamps; --dry-run writes nothing, --out writes contract files, a load gates on --max-invalid.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCliWith, tempDir } from '../helpers/run-cli.js';

let dir = '';
let cleanup = (): void => undefined;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  writeFileSync(join(dir, 'monitor.csv'), [
    'bed,taken,param,val,uom',
    'B1,2026-01-10 08:00:00,HR,72,bpm',
    'B1,2026-01-10 08:00:00,TEMP,100.4,[degF]',
    'B1,2026-01-10 08:00:00,SPO2,0.97,1',
    'B1,2026-01-10 08:05:00,HR,NA,bpm',
    'B1,2026-01-10 08:05:00,WT,23.5,kg/m2',
    'B1,2026-01-10 08:05:00,NOTE,x,',
    'B1,2026-01-10T08:10:00Z,HR,75,/min',
  ].join('\n') + '\n');
  writeFileSync(join(dir, 'vendor.json'), JSON.stringify({
    name: 'vendor-monitor',
    description: 'a bedside monitor export',
    missing: ['NA', ''],
    tables: [{
      match: 'monitor*.csv',
      dataset: 'vitals',
      readings: { code: 'param', value: 'val', unit: 'uom', time: 'taken', codes: {
        HR: { metric: 'heart_rate' }, TEMP: { metric: 'temperature_c' }, SPO2: { metric: 'spo2' }, WT: { metric: 'weight_kg' },
      } },
      columns: { reading_id: { template: 'mon-{bed}-{_row}' }, patient_id: { from: 'bed' } },
    }],
  }));
});
afterEach(() => cleanup());

const run = (...argv: string[]) => runCliWith({ cwd: dir }, ...argv);

describe('surgctl profiles', () => {
  it('lists the shipped profiles and prints one', async () => {
    const list = await run('profiles', '--format', 'table');
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toMatch(/physionet-2012\s+vitals/);
    expect(list.stdout).toMatch(/synthea\s+vitals, patients, procedures/);
    const show = await run('profiles', 'show', 'physionet-2012');
    expect(show.exitCode).toBe(0);
    expect(JSON.parse(show.stdout).relative_time.anchor).toBe('2012-01-01T00:00:00Z');
    const bad = await run('profiles', 'show', 'nope');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^surgctl: unknown profile "nope"/m);
  });
});

describe('surgctl import csv', () => {
  it('needs --profile, and refuses a bad time zone (usage errors, exit 2)', async () => {
    const none = await run('import', 'csv', 'monitor.csv');
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toMatch(/^surgctl: import csv needs --profile NAME\|FILE\nhint: /m);
    const tz = await run('import', 'csv', '--profile', 'vendor.json', '--timezone', 'Mars/Olympus', '--dry-run', 'monitor.csv');
    expect(tz.exitCode).toBe(2);
    expect(tz.stderr).toMatch(/--timezone Mars\/Olympus is not an IANA time zone/);
    writeFileSync(join(dir, 'monitor-empty.csv'), '');
    const empty = await run('import', 'csv', '--profile', 'vendor.json', '--dry-run', 'monitor-empty.csv');
    expect(empty.exitCode).toBe(2);
    expect(empty.stderr).toMatch(/^surgctl: monitor-empty.csv is empty: not even a header line\nhint: /m);
    writeFileSync(join(dir, 'monitor-other.csv'), 'a,b\n1,2\n');
    const other = await run('import', 'csv', '--profile', 'vendor.json', '--dry-run', 'monitor-other.csv');
    expect(other.exitCode).toBe(2);
    expect(other.stderr).toMatch(/^surgctl: monitor-other.csv: profile .*vendor.json columns.reading_id names column "bed", which the file does not have\nhint: the file's columns: a, b/m);
  });

  it('--dry-run: naive timestamps without a zone are quarantined with keyword timezone; nothing is written', async () => {
    const r = await run('import', 'csv', '--profile', 'vendor.json', '--dry-run', '--format', 'json', 'monitor.csv');
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.mode).toBe('dry-run');
    expect(out.totals).toMatchObject({ rows_read: 7, mapped: 5, skipped: 1, missing: 1 });
    expect(out.missing).toEqual({ NA: 1 });
    expect(out.skipped).toEqual({ 'code not mapped': 1 });
    // Four naive rows need a zone; WT's unit is not a mass, whatever the zone.
    expect(out.quarantined_by_keyword).toEqual({ timezone: 3, unit: 1 });
    expect(out.sample.vitals).toEqual([{ reading_id: 'mon-B1-7', patient_id: 'B1', metric: 'heart_rate', value: 75, unit: '/min', measured_at: '2026-01-10T08:10:00.000000Z' }]);
    // The contract check the load would make, run in memory on the mapped rows.
    expect(out.files[0].validation).toEqual({ rows_valid: 1, rows_quarantined: 0, failures_by_rule: {} });
    expect(existsSync(join(dir, 'surgctl.duckdb'))).toBe(false);
  });

  it('--timezone reads naive times in that zone; UCUM converts degF and a fraction of 1; --out writes contract CSV', async () => {
    const r = await run('import', 'csv', '--profile', 'vendor.json', '--timezone', 'America/New_York', '--out', 'out', '--format', 'json', 'monitor.csv');
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).quarantined_by_keyword).toEqual({ unit: 1 });
    const csv = readFileSync(join(dir, 'out', 'vitals.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('reading_id,patient_id,metric,value,unit,measured_at');
    expect(csv.slice(1)).toEqual([
      'mon-B1-1,B1,heart_rate,72.0,/min,2026-01-10T13:00:00.000000Z',
      'mon-B1-2,B1,temperature_c,38.0,Cel,2026-01-10T13:00:00.000000Z',
      'mon-B1-3,B1,spo2,97.0,%,2026-01-10T13:00:00.000000Z',
      'mon-B1-7,B1,heart_rate,75.0,/min,2026-01-10T08:10:00.000000Z',
    ]);
    expect(existsSync(join(dir, 'out', '.surgctl-output'))).toBe(true);
    expect(existsSync(join(dir, 'surgctl.duckdb'))).toBe(false);
  });

  it('--data-format parquet writes the contract files as Parquet (the word generate and pipeline use; --out-format still works)', async () => {
    for (const [flag, out] of [['--data-format', 'pq'], ['--out-format', 'pq-old']] as const) {
      const r = await run('import', 'csv', '--profile', 'vendor.json', '--timezone', 'America/New_York', '--out', out, flag, 'parquet', '--format', 'json', 'monitor.csv');
      expect(r.exitCode, r.stderr).toBe(0);
      const head = readFileSync(join(dir, out, 'vitals.parquet')).subarray(0, 4).toString();
      expect(head).toBe('PAR1');
    }
  });

  it('loads through the ledger and quarantine; more quarantined rows than --max-invalid exit 1, the load stays', async () => {
    const r = await run('import', 'csv', '--profile', 'vendor.json', '--timezone', 'UTC', '--allow-orphans', '--format', 'json', 'monitor.csv');
    expect(r.exitCode).toBe(1);
    // With --format json the error is one JSON line on stderr.
    const err = JSON.parse(r.stderr.trim().split('\n').pop() as string);
    expect(err).toMatchObject({ error: 'gate_failed', file: 'monitor.csv' });
    expect(err.message).toMatch(/^import gate failed, more than --max-invalid 2%: monitor.csv: 1 of 5 rows quarantined/);
    const out = JSON.parse(r.stdout);
    expect(out.files[0].load).toMatchObject({ status: 'succeeded', rows_read: 5, rows_inserted: 4, rows_duplicate: 0, rows_quarantined: 1 });
    const q = await run('quarantine', 'show', out.files[0].load.load_id, '--format', 'json');
    expect(q.exitCode).toBe(0);
    const rows = JSON.parse(q.stdout);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ line: 6, rule: 'unit' });
    const again = await run('import', 'csv', '--profile', 'vendor.json', '--timezone', 'UTC', '--allow-orphans', '--format', 'json', 'monitor.csv');
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout).files[0].status).toBe('skipped');
  });
});

describe('surgctl import fhir', () => {
  it('reads NDJSON from standard input (-) and loads it', async () => {
    const ndjson = [
      { resourceType: 'Patient', id: 'p9', gender: 'male', birthDate: '1950-01-01', managingOrganization: { reference: 'Organization/h1' } },
      { resourceType: 'Observation', id: 'rr', status: 'final', subject: { reference: 'Patient/p9' }, effectiveInstant: '2026-02-01T06:00:00.123Z',
        code: { coding: [{ system: 'http://loinc.org', code: '9279-1' }] }, valueQuantity: { value: 18, system: 'http://unitsofmeasure.org', code: '/min' } },
    ].map((x) => JSON.stringify(x)).join('\n');
    const r = await runCliWith({ cwd: dir, stdin: `${ndjson}\n` }, 'import', 'fhir', '-', '--format', 'json');
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.files.map((f: { dataset: string; path: string; load: { rows_inserted: number } }) => [f.path, f.dataset, f.load.rows_inserted])).toEqual([
      ['-', 'patients', 1],
      ['-', 'vitals', 1],
    ]);
    expect(out.by_metric).toEqual({ resp_rate: 1 });
  });

  it('lists what it could not book to a load, a top-level array\'s element as "array element N"', async () => {
    writeFileSync(join(dir, 'array.json'), JSON.stringify([{ resourceType: 'Patient', id: 'p1', gender: 'male', birthDate: '1950-01-01' }, { id: 'no-type' }]));
    // Unreadable resources are in no load, but they are bad input: the gate counts them (1 of 2 here).
    const gated = await runCliWith({ cwd: dir }, 'import', 'fhir', 'array.json', '--format', 'table');
    expect(gated.exitCode).toBe(1);
    expect(gated.stderr).toContain('import gate failed, more than --max-invalid 2%: array.json: 1 of 2 rows');
    const r = await runCliWith({ cwd: dir }, 'import', 'fhir', 'array.json', '--format', 'table', '--max-invalid', '50%', '--force');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('unreadable, in no load (no resource type a view maps):\n  array.json array element 1: the element is not a FHIR resource (no resourceType)\n');
    expect(r.stdout).not.toContain('Bundle entry');
    expect(r.stderr).toContain('1 unreadable');
  });
});

describe('surgctl import csv on a malformed file', () => {
  it('quarantines what cannot be parsed or mapped at its physical line (blank lines and quoted newlines counted)', async () => {
    writeFileSync(join(dir, 'monitor2.csv'), [
      'bed,taken,param,val,uom',
      'B1,2026-01-10T08:00:00Z,HR,72,bpm',
      '',
      'B1,2026-01-10T08:01:00Z,HR,"7',
      '3",bpm',
      'B1,2026-01-10T08:02:00Z,HR,74,bpm,extra',
      'B1,2026-01-10T08:03:00Z,HR,75,xx',
      'B1,2026-01-10T08:04:00Z,HR,76,bpm',
    ].join('\n') + '\n');
    const r = await run('import', 'csv', '--profile', 'vendor.json', '--allow-orphans', '--max-invalid', '100%', '--format', 'json', 'monitor2.csv');
    expect(r.exitCode).toBe(0);
    const f = JSON.parse(r.stdout).files[0];
    expect(f.counts.rows_read).toBe(5);
    expect(f.counts.quarantined_by_keyword).toEqual({ type: 1, csv_field_count: 1, unit: 1 });
    expect(f.load).toMatchObject({ rows_read: 5, rows_inserted: 2, rows_quarantined: 3 });
    const q = JSON.parse((await run('quarantine', 'show', f.load.load_id, '--format', 'json')).stdout) as { line: number; row: number; rule: string }[];
    expect(q.map((x) => [x.line, x.rule])).toEqual([[4, 'type'], [6, 'csv_field_count'], [7, 'unit']]);
    const lines = JSON.parse((await run('query', 'SELECT reading_id, _source_line::INTEGER AS line FROM raw_vitals ORDER BY 2', '--format', 'json')).stdout);
    // {_row} counts data rows, the rejected one included: ids do not move when a bad line is fixed.
    expect(lines).toEqual([{ reading_id: 'mon-B1-1', line: 2 }, { reading_id: 'mon-B1-5', line: 8 }]);
    expect(q.map((x) => x.row)).toEqual([2, 3, 4]);
  });
});
