// `surgctl --debug load` prints each statement of the file's load with its wall and CPU time (and the sha256 of the
// file, a step outside DuckDB) on stderr; stdout stays the results, and without --debug nothing of it is printed.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCliWith, scratchDirs } from '../helpers/run-cli.js';

const dir = scratchDirs();

const TEL_HEADER = 'event_id,procedure_id,patient_id,robot_id,robot_arm,instrument,step,force_n,velocity_mm_s,latency_ms,error_code,recorded_at';
const tel = (n: number): string => [`EV-${n}`, 'PR-1', 'PA-1', 'RB-1', 'arm_1', 'needle_driver', 'suturing', '3.5', '20', '120', '', '2025-03-01T10:00:00Z'].join(',');

describe('surgctl --debug load', () => {
  it('prints each statement with its wall and CPU time, the sha256 step and the merge among them; stdout stays the results', async () => {
    const d = dir();
    writeFileSync(join(d, 'telemetry.csv'), [TEL_HEADER, tel(1), tel(2), tel(3), ''].join('\n'));
    const r = await runCliWith({ cwd: d }, '--debug', 'load', 'telemetry.csv', '--db', 'lake.duckdb', '--allow-orphans', '--format', 'json');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ files: [{ status: 'succeeded', rows_read: 3, rows_inserted: 3, rows_quarantined: 0 }] });
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('debug: '));
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.every((l) => /^debug: +\d+ ms +\d+ cpu ms {2}\S/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes('(sha256 of telemetry.csv)'))).toBe(true);
    expect(lines.some((l) => l.includes('INSERT INTO "raw_telemetry"'))).toBe(true);
    const plain = await runCliWith({ cwd: d }, 'load', 'telemetry.csv', '--db', 'other.duckdb', '--allow-orphans', '--format', 'json');
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(plain.stderr).not.toContain('debug: ');
  });
});
