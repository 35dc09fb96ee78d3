// Issue 4's acceptance: loading a generated dataset with --bad-rows, the ledger's counts equal the manifest's
// ground truth, file by file, and every labelled bad row sits in the quarantine table with its labelled keyword.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basename, join } from 'node:path';
import { generateDataset, type Manifest } from '../../../src/core/generate/index.js';
import { loadFiles, type LoadResult } from '../../../src/core/load/load.js';
import { openDb } from '../../../src/db/db.js';
import { tempDir } from '../../helpers/run-cli.js';
import { lakeAt } from '../../helpers/lake.js';

for (const format of ['csv', 'ndjson', 'parquet'] as const) {
  describe(`load vs the generator's ground truth (${format})`, () => {
    let cleanup = () => {};
    let manifest: Manifest;
    let result: LoadResult;
    let dbPath = '';

    beforeAll(async () => {
      const t = tempDir();
      cleanup = t.cleanup;
      const gen = await generateDataset({ out: join(t.dir, 'data'), seed: 3, format, robots: 3, patients: 30, procedures: 40, telemetryRows: 8_000, vitalsHours: 4, badRows: 0.02 });
      manifest = gen.manifest;
      dbPath = join(t.dir, 'lake.duckdb');
      result = await loadFiles({ inputs: [gen.outDir], cwd: t.dir, quarantineDir: join(t.dir, 'q') }, { lake: lakeAt(dbPath) });
    }, 180_000);
    afterAll(() => cleanup());

    it('rows read, inserted and quarantined per file equal the manifest', () => {
      for (const f of manifest.files) {
        const r = result.files.find((x) => basename(x.path) === f.path);
        const bad = manifest.bad_rows.filter((b) => b.file === f.path).length;
        expect(r, f.path).toBeDefined();
        expect(r!.rows_read, f.path).toBe(f.rows);
        expect(r!.rows_quarantined, f.path).toBe(bad);
        expect(r!.rows_inserted, f.path).toBe(f.rows - bad);
        expect(r!.rows_duplicate, f.path).toBe(0);
      }
      expect(manifest.bad_rows.length).toBeGreaterThan(20);
    });

    it('every labelled bad row is quarantined at its line with its labelled keyword', async () => {
      const db = await openDb(dbPath, { readOnly: true });
      try {
        const rows = await db.all<{ file: string; line: number; keywords: string[] }>(
          `SELECT file, line::INTEGER AS line,
                  list_transform(from_json(errors, '[{"keyword": "VARCHAR"}]'), x -> x.keyword) AS keywords
           FROM quarantine`,
        );
        const got = new Map(rows.map((r) => [`${basename(r.file)}:${r.line}`, r.keywords]));
        for (const b of manifest.bad_rows) {
          expect(got.get(`${b.file}:${b.line}`), `${b.file}:${b.line} ${b.kind}`).toContain(b.keyword);
        }
        expect(got.size).toBe(manifest.bad_rows.length);
      } finally {
        db.close();
      }
    });
  });
}
