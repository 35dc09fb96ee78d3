// generate -> FHIR -> import equals the CSV path: the generator's own vitals, written once as contract CSV (loaded
// with `load`) and once as FHIR Bulk Data NDJSON (`generate --data-format fhir`, imported with `import fhir`), give
// the same readings in raw_vitals (ids aside: FHIR readings are keyed by Observation id and LOINC code) and the same
// raw_procedures (robot and surgeon from the Procedure's Device and Practitioner performers) and the same raw_robots
// (Device -> robots).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../src/db/db.js';
import { importFhir } from '../../../src/core/import/import.js';
import { loadFiles } from '../../../src/core/load/load.js';
import { runCliWith, tempDir } from '../../helpers/run-cli.js';
import { lakeAt } from '../../helpers/lake.js';

async function readings(dbPath: string): Promise<unknown[]> {
  const db = await openDb(dbPath, { readOnly: true });
  try {
    return await db.all(
      `SELECT patient_id, metric, value, unit, strftime(measured_at, '%Y-%m-%dT%H:%M:%S.%fZ') AS at FROM raw_vitals
       ORDER BY patient_id, metric, measured_at, value`,
    );
  } finally {
    db.close();
  }
}

describe('generate -> FHIR -> import', () => {
  it('gives the same vitals as the CSV path', async () => {
    const t = tempDir();
    try {
      for (const [fmt, out] of [['csv', 'gc'], ['fhir', 'gf']] as const) {
        const g = await runCliWith({ cwd: t.dir }, 'generate', '--seed', '3', '--scale', '0.01', '--bad-rows', '0', '--data-format', fmt, '--out', out, '--format', 'json');
        expect(g.exitCode, g.stderr).toBe(0);
      }
      const csvDb = join(t.dir, 'csv.duckdb');
      const loaded = await loadFiles({ inputs: ['robots.csv', 'patients.csv', 'procedures.csv', 'vitals.csv'].map((f) => join(t.dir, 'gc', f)), cwd: t.dir }, { lake: lakeAt(csvDb) });
      expect(loaded.totals.rows_quarantined).toBe(0);
      const fhirDb = join(t.dir, 'fhir.duckdb');
      // Devices come first (installed_on from the generator's installed-on extension), so procedures need no --allow-orphans.
      const imported = await importFhir({ inputs: [join(t.dir, 'gf')], profile: 'fhir', cwd: t.dir }, { lake: lakeAt(fhirDb) });
      expect(imported.totals.rows_quarantined).toBe(0);
      expect(imported.totals.rows_read).toBe(imported.totals.mapped + imported.totals.skipped + imported.totals.missing);
      const a = await readings(csvDb);
      expect(a.length).toBeGreaterThan(500);
      expect(await readings(fhirDb)).toEqual(a);
      const rows = async (dbPath: string, table: string, key: string): Promise<unknown[]> => {
        const db = await openDb(dbPath, { readOnly: true });
        try {
          return await db.all(`SELECT * EXCLUDE (_load_id, _source_file, _source_line) FROM ${table} ORDER BY ${key}`);
        } finally {
          db.close();
        }
      };
      const pa = await rows(csvDb, 'raw_procedures', 'procedure_id');
      expect(pa.length).toBeGreaterThan(0);
      expect(await rows(fhirDb, 'raw_procedures', 'procedure_id')).toEqual(pa);
      // Device -> robots: every column equal (installed_on from the generator's extension, status via statusReason.text).
      const ra = await rows(csvDb, 'raw_robots', 'robot_id');
      expect(ra.length).toBeGreaterThan(0);
      expect(await rows(fhirDb, 'raw_robots', 'robot_id')).toEqual(ra);
    } finally {
      t.cleanup();
    }
  });
});
