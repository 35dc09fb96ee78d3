// surgctl generate --data-format fhir (and the deprecated --format fhir): FHIR R4 Bulk Data NDJSON on disk.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/run-cli.js';

const tmp = tempDir('surgctl-gen-fhir-cli-');
afterAll(() => tmp.cleanup());
const SMALL = ['--robots', '2', '--patients', '4', '--procedures', '5', '--telemetry-rows', '100', '--vitals-hours', '1'];

describe('surgctl generate --data-format fhir', () => {
  it('writes Observation, Patient, Procedure and Device NDJSON and the manifest', async () => {
    const out = join(tmp.dir, 'fhir');
    const r = await runCli('generate', '--out', out, ...SMALL, '--data-format', 'fhir', '--format', 'json');
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ out, format: 'fhir', bad_rows: 0 });
    expect(readdirSync(out).sort()).toEqual(['.surgctl-output', 'Device.ndjson', 'Observation.ndjson', 'Patient.ndjson', 'Procedure.ndjson', 'manifest.json']);
  });

  it('refuses --bad-rows with fhir (exit 2, the flag named)', async () => {
    const r = await runCli('generate', '--out', join(tmp.dir, 'bad'), ...SMALL, '--data-format', 'fhir', '--bad-rows', '1%');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('surgctl: --bad-rows does not apply to --data-format fhir');
  });
});
