// import fhir: Device -> robots. FHIR R4 Device has no installation date: the surgctl installed-on extension is used,
// else manufactureDate's calendar date (documented fallback), else the row is quarantined (installed_on required).
// Fleet status from statusReason.text when it names one, else Device.status (inactive -> retired); entered-in-error
// is skipped with a reason. Same rows from the compiled and the reference engine.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../src/db/db.js';
import { importFhir } from '../../../src/core/import/import.js';
import { tempDir } from '../../helpers/run-cli.js';
import { lakeAt } from '../../helpers/lake.js';

const EXT = 'https://surgctl.dev/fhir/StructureDefinition/installed-on';
const device = (id: string, extra: Record<string, unknown>) => ({
  resource: { resourceType: 'Device', id, serialNumber: `SN-${id.slice(3)}`, manufacturer: 'CMR Surgical', modelNumber: 'Versius',
    owner: { reference: 'Organization/FAC-1' }, status: 'active', ...extra },
});
const bundle = {
  resourceType: 'Bundle', type: 'collection',
  entry: [
    device('RB-0001', { manufacturer: 'Intuitive Surgical', modelNumber: 'da Vinci Xi', statusReason: [{ text: 'maintenance' }],
      extension: [{ url: EXT, valueDate: '2021-04-02' }], manufactureDate: '2019-01-01' }),
    device('RB-0002', { status: 'inactive', manufactureDate: '2019-11-30T23:30:00-05:00', owner: { reference: 'Organization/FAC-2' } }),
    device('RB-0003', {}),
    device('RB-0004', { status: 'entered-in-error', manufactureDate: '2020-01-01' }),
  ],
};

describe('import fhir: Device -> robots', () => {
  for (const engine of ['compiled', 'reference'] as const) {
    it(`maps installed_on, status and facility; quarantines a Device without any date; skips entered-in-error (${engine})`, async () => {
      const t = tempDir();
      try {
        const file = join(t.dir, 'devices.json');
        writeFileSync(file, JSON.stringify(bundle, null, 2));
        const dbPath = join(t.dir, 'lake.duckdb');
        const r = await importFhir({ inputs: [file], profile: 'fhir', cwd: t.dir, engine }, { lake: lakeAt(dbPath) });
        const robots = r.files.find((f) => f.dataset === 'robots')!;
        expect(robots.status).toBe('loaded');
        expect(robots.counts!.rows_read).toBe(4);
        expect(robots.load!.rows_inserted).toBe(2);
        expect(robots.load!.rows_quarantined).toBe(1);
        expect(robots.counts!.quarantined_by_keyword).toEqual({ required: 1 });
        expect(robots.counts!.skipped).toEqual({ 'Device status entered-in-error: not a real device record': 1 });
        expect(r.totals.rows_read).toBe(r.totals.mapped + r.totals.skipped + r.totals.missing);
        expect(r.resources_skipped).toEqual({});
        const db = await openDb(dbPath, { readOnly: true });
        try {
          expect(await db.all(
            'SELECT robot_id, serial, model, manufacturer, facility_id, CAST(installed_on AS VARCHAR) AS installed_on, status FROM raw_robots ORDER BY robot_id',
          )).toEqual([
            // The extension wins over manufactureDate; statusReason.text keeps the fleet status.
            { robot_id: 'RB-0001', serial: 'SN-0001', model: 'da Vinci Xi', manufacturer: 'Intuitive Surgical', facility_id: 'FAC-1', installed_on: '2021-04-02', status: 'maintenance' },
            // No extension: manufactureDate's date as written (no shift to UTC); inactive -> retired.
            { robot_id: 'RB-0002', serial: 'SN-0002', model: 'Versius', manufacturer: 'CMR Surgical', facility_id: 'FAC-2', installed_on: '2019-11-30', status: 'retired' },
          ]);
          const q = await db.all<{ rule: string; errors: string }>("SELECT rule, CAST(errors AS VARCHAR) AS errors FROM quarantine WHERE dataset = 'robots'");
          expect(q).toHaveLength(1);
          expect(q[0]!.rule).toBe('required');
          expect(JSON.parse(q[0]!.errors)).toEqual([{ field: 'installed_on', keyword: 'required', value: null,
            message: 'Device has no installation date: neither the installed-on extension nor manufactureDate (robots requires installed_on)' }]);
        } finally {
          db.close();
        }
      } finally {
        t.cleanup();
      }
    });
  }
});
