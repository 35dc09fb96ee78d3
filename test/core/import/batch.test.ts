// An import of many small files (one FHIR Bundle per patient, one PhysioNet record per ICU stay) loads each dataset
// once and splits the load back per file inside its transaction. What it leaves must be what one import per file
// leaves: the raw rows with their lineage (each row under its own file's load), the ledger (one row per file, counts
// that add up), the quarantine rows and files. Each case imports the same files one at a time into lakehouse A and
// all at once into lakehouse B and compares everything but load ids and times.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../src/db/db.js';
import { importCsv, importFhir, type ImportInput, type ImportResult, type ImportStep } from '../../../src/core/import/import.js';
import { runCliWith, tempDir } from '../../helpers/run-cli.js';
import { lakeAt } from '../../helpers/lake.js';
import { physionetRecord } from '../../helpers/physionet.js';

const DATASETS = ['patients', 'robots', 'procedures', 'vitals'];

interface Snapshot {
  raw: string[];
  quarantine: string[];
  loads: string[];
  qfiles: Record<string, string>;
}

/** What an import left, each row's load named by its ledger row's path and sha256 instead of its id. */
async function snapshot(dbPath: string): Promise<Snapshot> {
  const db = await openDb(dbPath, { readOnly: true });
  try {
    const tables = new Set((await db.all<{ t: string }>('SELECT table_name AS t FROM duckdb_tables()')).map((r) => r.t));
    const raw: string[] = [];
    for (const ds of DATASETS) {
      if (!tables.has(`raw_${ds}`)) continue;
      raw.push(...(await db.all<{ j: string }>(
        `SELECT $ds || ' ' || CAST(to_json(t) AS VARCHAR) AS j FROM (
           SELECT r.* EXCLUDE (_load_id), l.path AS load_path, l.sha256 AS load_sha FROM raw_${ds} r LEFT JOIN loads l ON l.load_id = r._load_id) t`,
        { ds })).map((r) => r.j));
    }
    const quarantine = (await db.all<{ j: string }>(
      `SELECT CAST(to_json(t) AS VARCHAR) AS j FROM (
         SELECT q.file, q.line, q."row", q.dataset, q.raw, q.errors, q.rule, l.path, l.sha256
         FROM quarantine q LEFT JOIN loads l USING (load_id)) t`)).map((r) => r.j);
    const ledger = await db.all<{ j: string; path: string; sha256: string; qfile: string | null }>(
      `SELECT CAST(to_json(t) AS VARCHAR) AS j, path, sha256, qfile FROM (
         SELECT path, sha256, bytes, dataset, status, rows_read, rows_inserted, rows_duplicate, rows_quarantined, engine, message,
           replay_of, quarantine_file IS NOT NULL AS has_qfile, quarantine_file AS qfile FROM loads) t`);
    const qfiles: Record<string, string> = {};
    for (const l of ledger) if (l.qfile) qfiles[`${l.path} ${l.sha256}`] = readFileSync(l.qfile, 'utf8');
    const loads = ledger.map((l) => {
      const o = JSON.parse(l.j) as Record<string, unknown>;
      delete o.qfile;
      return JSON.stringify(o);
    });
    return { raw: raw.sort(), quarantine: quarantine.sort(), loads: loads.sort(), qfiles };
  } finally {
    db.close();
  }
}

/** The per-file results without load ids and quarantine paths (new per run), in file then dataset order. */
function perFile(files: ImportResult['files']): unknown[] {
  return files
    .map((f) => ({ ...f, load: f.load ? { ...f.load, load_id: 'id', quarantine_path: f.load.quarantine_path !== null } : null, message: f.message === null ? null : 'message' }))
    .sort((a, b) => a.path.localeCompare(b.path) || (a.dataset ?? '').localeCompare(b.dataset ?? ''));
}

/** rows read = inserted + duplicate + quarantined for every load, and mapped + skipped + missing for every file. */
function expectAccounted(r: ImportResult): void {
  const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);
  for (const f of r.files) {
    if (!f.counts || !f.load) continue;
    expect(f.counts.mapped + sum(f.counts.skipped) + sum(f.counts.missing), f.path).toBe(f.counts.rows_read);
    expect(f.load.rows_read, f.path).toBe(f.counts.mapped);
    expect(f.load.rows_inserted + f.load.rows_duplicate + f.load.rows_quarantined, f.path).toBe(f.load.rows_read);
  }
  const t = r.totals;
  expect(t.rows_inserted + t.rows_duplicate + t.rows_quarantined).toBe(t.mapped);
}

type Run = (input: ImportInput, lakePath: string) => Promise<ImportResult>;

/** Imports `names` (in dir, given as dir-relative paths) one import per file into A and in one import into B. */
async function bothWays(cwd: string, names: string[], run: Run, opts: Partial<ImportInput>): Promise<{ a: ImportResult[]; b: ImportResult; merges: number }> {
  const a: ImportResult[] = [];
  for (const n of names) a.push(await run({ inputs: [n], profile: 'fhir', cwd, quarantineDir: 'qa', ...opts }, join(cwd, 'a.duckdb')));
  let merges = 0;
  const atStep = (step: ImportStep): void => {
    if (step === 'before-commit') merges += 1;
  };
  const b = await run({ inputs: names, profile: 'fhir', cwd, quarantineDir: 'qb', atStep, ...opts }, join(cwd, 'b.duckdb'));
  return { a, b, merges };
}

async function expectSameLakehouses(cwd: string, a: ImportResult[], b: ImportResult): Promise<void> {
  const sa = await snapshot(join(cwd, 'a.duckdb'));
  const sb = await snapshot(join(cwd, 'b.duckdb'));
  expect(sb.raw.length).toBeGreaterThan(0);
  expect(sb.raw).toEqual(sa.raw);
  expect(sb.quarantine).toEqual(sa.quarantine);
  expect(sb.loads).toEqual(sa.loads);
  expect(sb.qfiles).toEqual(sa.qfiles);
  expect(perFile(b.files)).toEqual(perFile(a.flatMap((r) => r.files)));
  expectAccounted(b);
  for (const r of a) expectAccounted(r);
}

describe('import of many files: one load per dataset, split back per file', () => {
  it('PhysioNet records: the same rows, lineage, ledger, quarantine and results as one import per file', async () => {
    const t = tempDir('surgctl-batch-pn-');
    try {
      const dir = join(t.dir, 'set-a');
      mkdirSync(dir);
      for (let i = 0; i < 8; i++) {
        let text = physionetRecord(132539 + i, 7 + i);
        // A heart rate no monitor reports: the contract quarantines it (maximum) in that record's load.
        if (i === 4) text += '47:59,HR,9999\n';
        writeFileSync(join(dir, `${132539 + i}.txt`), text);
      }
      // A corrected copy of a record under another name: the same reading ids (pn<record>-<row>), so its rows are
      // duplicates of the earlier file's and count on it; its one new row (a new last line) is inserted.
      writeFileSync(join(dir, '132542b.txt'), `${physionetRecord(132542, 10)}47:59,HR,88\n`);
      const names = readdirSync(dir).sort().map((n) => join('set-a', n));
      const run: Run = (input, path) => importCsv({ ...input, profile: 'physionet-2012' }, { lake: lakeAt(path) });
      const { a, b, merges } = await bothWays(t.dir, names, run, { allowOrphans: true });
      expect(b.files.map((f) => f.status)).toEqual(names.map(() => 'loaded'));
      // Two loads for 9 files: the copy shares keys with an earlier file of the batch, so it starts a second load.
      expect(merges).toBe(2);
      await expectSameLakehouses(t.dir, a, b);
      const copy = b.files.find((f) => f.path.endsWith('132542b.txt'))!.load!;
      expect(copy.rows_inserted).toBe(1);
      expect(copy.rows_duplicate).toBe(copy.rows_read - copy.rows_quarantined - 1);
      expect(b.files.find((f) => f.path.endsWith('132543.txt'))!.load!.failures_by_rule).toMatchObject({ type: 1 });
      const bad = b.files.find((f) => f.path.endsWith('132543.txt'))!.load!;
      expect(bad.rows_quarantined).toBe(2);

      // A rerun skips every file; a new file alone loads.
      const lake = lakeAt(join(t.dir, 'b.duckdb'));
      const again = await importCsv({ inputs: ['set-a'], profile: 'physionet-2012', cwd: t.dir, quarantineDir: 'qb', allowOrphans: true }, { lake });
      expect(again.files.map((f) => f.status)).toEqual(names.map(() => 'skipped'));
      writeFileSync(join(dir, '132600.txt'), physionetRecord(132600, 99));
      const more = await importCsv({ inputs: ['set-a'], profile: 'physionet-2012', cwd: t.dir, quarantineDir: 'qb', allowOrphans: true }, { lake });
      expect(more.files.filter((f) => f.status === 'loaded').map((f) => f.path)).toEqual([join('set-a', '132600.txt')]);
      expect(more.files.filter((f) => f.status === 'skipped')).toHaveLength(names.length);
      expect(more.totals.rows_inserted).toBeGreaterThan(0);
    } finally {
      t.cleanup();
    }
  }, 240_000);

  it('FHIR Bundles, one per patient: the same as one import per Bundle, a repeated resource a duplicate of the later file', async () => {
    const t = tempDir('surgctl-batch-fhir-');
    try {
      const g = await runCliWith({ cwd: t.dir }, 'generate', '--seed', '5', '--scale', '0.04', '--bad-rows', '0', '--data-format', 'fhir', '--out', 'g', '--format', 'json');
      expect(g.exitCode, g.stderr).toBe(0);
      const read = (n: string): Record<string, any>[] =>
        readFileSync(join(t.dir, 'g', n), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
      const patients = read('Patient.ndjson');
      const bySubject = new Map<string, Record<string, any>[]>();
      for (const r of [...read('Procedure.ndjson'), ...read('Observation.ndjson')]) {
        const id = String(r.subject.reference).split('/').at(-1) as string;
        bySubject.set(id, [...(bySubject.get(id) ?? []), r]);
      }
      mkdirSync(join(t.dir, 'bundles'));
      const bundle = (resources: Record<string, any>[]): string => JSON.stringify({
        resourceType: 'Bundle', type: 'transaction',
        entry: resources.map((r) => ({ fullUrl: `urn:uuid:${r.id}`, resource: r, request: { method: 'POST', url: r.resourceType } })),
      });
      patients.forEach((p, i) => {
        const own = bySubject.get(p.id) ?? [];
        writeFileSync(join(t.dir, 'bundles', `patient-${String(i).padStart(3, '0')}.json`), bundle([...(i === 0 ? read('Device.ndjson') : []), p, ...own]));
      });
      expect(patients.length).toBeGreaterThan(3);
      // The last Bundle repeats the first patient (changed) and one of the second patient's readings (changed):
      // duplicates of the earlier files, counted on this one; a heart rate in kg (the mapping quarantines it: unit)
      // and one of 9999/min (the contract does: maximum).
      const obs = (bySubject.get(patients[1]!.id) ?? []).find((r) => r.resourceType === 'Observation') as Record<string, any>;
      const hr = (id: string, value: number, code: string): Record<string, any> => ({
        ...obs, id, code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
        valueQuantity: { value, unit: code, system: 'http://unitsofmeasure.org', code },
      });
      writeFileSync(join(t.dir, 'bundles', 'patient-zzz.json'), bundle([
        { ...patients[0]!, birthDate: '1950-01-01' }, { ...obs, valueQuantity: { ...obs.valueQuantity, value: 1 } },
        hr('VT-X-kg', 70, 'kg'), hr('VT-X-9999', 9999, '/min'),
      ]));
      const names = readdirSync(join(t.dir, 'bundles')).sort().map((n) => join('bundles', n));
      const run: Run = (input, path) => importFhir(input, { lake: lakeAt(path) });
      const { a, b, merges } = await bothWays(t.dir, names, run, {});
      // patients (two loads: the last Bundle repeats a patient), robots, procedures, vitals (two loads: a repeated reading).
      expect(merges).toBe(6);
      await expectSameLakehouses(t.dir, a, b);
      const last = b.files.filter((f) => f.path.endsWith('patient-zzz.json'));
      expect(last.map((f) => [f.dataset, f.load!.rows_inserted, f.load!.rows_duplicate, f.load!.rows_quarantined])).toEqual([
        ['patients', 0, 1, 0],
        ['vitals', 0, 1, 2],
      ]);
      expect(last[1]!.load!.failures_by_rule).toEqual({ heart_rate_range: 1, maximum: 1, unit: 1 });
      expect(b.files.every((f) => f.status === 'loaded')).toBe(true);

      const again = await importFhir({ inputs: ['bundles'], profile: 'fhir', cwd: t.dir, quarantineDir: 'qb' }, { lake: lakeAt(join(t.dir, 'b.duckdb')) });
      expect(again.files.every((f) => f.status === 'skipped')).toBe(true);
      expect(again.files).toHaveLength(b.files.length);
    } finally {
      t.cleanup();
    }
  }, 300_000);
});
