// Acceptance against the generator: every bad row the manifest labels is quarantined with its labelled keyword,
// and no other row is, for each output format (the whole directory at once, so foreign keys are checked too).
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BAD_CHUNK, generateDataset } from '../../../src/core/generate/index.js';
import { validateFiles } from '../../../src/core/validate/index.js';
import { tempDir } from '../../helpers/run-cli.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

interface Manifest { files: { path: string; rows: number }[]; bad_rows: { file: string; line: number; keyword: string; kind: string }[] }

// The last case plants more telemetry and vitals bad rows than one chunk of the generator's planting holds.
describe.each([
  ['csv', 3000, 6, 0.03], ['ndjson', 3000, 6, 0.03], ['parquet', 3000, 6, 0.03], ['csv', 16_000, 36, 0.3],
] as const)('generated %s (%i telemetry rows, %i vitals hours) with --bad-rows %d', (format, telemetryRows, vitalsHours, badRows) => {
  it('quarantines exactly the labelled rows, each with its keyword', async () => {
    const out = join(tmp.dir, `${format}-${telemetryRows}`);
    await generateDataset({ out, format, robots: 3, patients: 16, procedures: 24, telemetryRows, vitalsHours, badRows, incidents: 0.2 });
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.bad_rows.length).toBeGreaterThan(10);
    if (badRows > 0.1) {
      for (const file of ['telemetry.csv', 'vitals.csv']) expect(manifest.bad_rows.filter((b) => b.file === file).length, file).toBeGreaterThan(BAD_CHUNK);
    }
    const report = await validateFiles({ inputs: [out], cwd: tmp.dir, quarantineDir: join(tmp.dir, `q-${format}-${telemetryRows}`), maxInvalid: '100%' });
    const quarantined = new Map<string, string[]>();
    for (const f of report.files) {
      const planted = manifest.files.find((m) => f.path.endsWith(m.path));
      expect(f.rows_read, f.path).toBe(planted?.rows);
      expect(f.rows_read).toBe(f.rows_valid + f.rows_quarantined);
      if (!f.quarantine_path) continue;
      for (const line of readFileSync(f.quarantine_path, 'utf8').trim().split('\n')) {
        const q = JSON.parse(line) as { line: number; errors: { keyword: string }[] };
        quarantined.set(`${f.path.split('/').pop()}:${q.line}`, q.errors.map((e) => e.keyword));
      }
    }
    const missing: string[] = [];
    for (const b of manifest.bad_rows) {
      const got = quarantined.get(`${b.file}:${b.line}`);
      if (!got || !got.includes(b.keyword)) missing.push(`${b.file}:${b.line} ${b.kind} wants ${b.keyword}, got ${got?.join('+') ?? 'valid'}`);
    }
    expect(missing).toEqual([]);
    const labelled = new Set(manifest.bad_rows.map((b) => `${b.file}:${b.line}`));
    const extra = [...quarantined].filter(([k]) => !labelled.has(k)).map(([k, v]) => `${k} ${v.join('+')}`);
    expect(extra).toEqual([]);
  });
});
