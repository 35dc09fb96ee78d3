import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { runCliWith, scratchDirs } from '../helpers/run-cli.js';
import { assertExposition } from '../helpers/prometheus.js';

const dir = scratchDirs();

const TEL_HEADER = 'event_id,procedure_id,patient_id,robot_id,robot_arm,instrument,step,force_n,velocity_mm_s,latency_ms,error_code,recorded_at';
const tel = (id: string, over: Partial<Record<string, string>> = {}): string => {
  const r: Record<string, string> = {
    event_id: id, procedure_id: 'PR-1', patient_id: 'PA-1', robot_id: 'RB-1', robot_arm: 'arm_1', instrument: 'needle_driver',
    step: 'suturing', force_n: '3.5', velocity_mm_s: '20', latency_ms: '120', error_code: '', recorded_at: '2025-03-01T10:00:00Z', ...over,
  };
  return TEL_HEADER.split(',').map((k) => r[k] ?? '').join(',');
};

describe('surgctl validate', () => {
  it('passes a clean file with exit 0 and JSON when piped', async () => {
    const d = dir();
    writeFileSync(join(d, 'telemetry.csv'), [TEL_HEADER, tel('EV-1'), tel('EV-2'), ''].join('\n'));
    const r = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv');
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.passed).toBe(true);
    expect(report.files[0]).toMatchObject({ path: 'telemetry.csv', dataset: 'telemetry', engine: 'compiled', rows_read: 2, rows_valid: 2, rows_quarantined: 0, quarantine_path: null });
    expect(existsSync(join(d, 'quarantine'))).toBe(false);
  });

  it('--debug prints each DuckDB statement with its wall and CPU time on stderr; stdout stays the report', async () => {
    const d = dir();
    writeFileSync(join(d, 'telemetry.csv'), [TEL_HEADER, tel('EV-1'), tel('EV-1'), ''].join('\n'));
    const r = await runCliWith({ cwd: d }, '--debug', 'validate', 'telemetry.csv', '--max-invalid', '1');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).files[0]).toMatchObject({ rows_read: 2, rows_quarantined: 1 });
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('debug: '));
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.every((l) => /^debug: +\d+ ms +\d+ cpu ms {2}\S/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes('CREATE TABLE surgctl_stage.'))).toBe(true);
    const plain = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv', '--max-invalid', '1');
    expect(plain.stderr).not.toContain('debug: ');
  });

  it('refuses a delimiter longer than one character with exit 2 and a message, no stack', async () => {
    const d = dir();
    writeFileSync(join(d, 'telemetry.csv'), [TEL_HEADER, tel('EV-1'), ''].join('\n'));
    const r = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv', '--delimiter', ';;');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--delimiter must be one character, got ";;"');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('fails the gate with exit 1, writes a new quarantine file each run, honours --max-invalid', async () => {
    const d = dir();
    writeFileSync(join(d, 'telemetry.csv'), [TEL_HEADER, tel('EV-1'), tel('EV-2', { force_n: '300' }), tel('EV-3'), ''].join('\n'));
    const r1 = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv', '--format', 'json', '--metrics-file', 'v.prom');
    expect(r1.exitCode).toBe(1);
    const prom = readFileSync(join(d, 'v.prom'), 'utf8');
    assertExposition(prom);
    expect(prom).toContain('surgctl_rows_quarantined_total{dataset="telemetry",rule="maximum"} 1');
    expect(prom).toContain('surgctl_last_run_success{command="validate"} 0');
    const rep = JSON.parse(r1.stdout);
    expect(rep.passed).toBe(false);
    expect(rep.files[0].failures_by_rule).toEqual({ maximum: 1 });
    const q = readFileSync(rep.files[0].quarantine_path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({ file: 'telemetry.csv', line: 3, row: 2, errors: [{ field: 'force_n', keyword: 'maximum', value: '300' }] });
    expect(q[0].raw.force_n).toBe('300');
    const r2 = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv', '--max-invalid', '1');
    expect(r2.exitCode).toBe(0);
    const r3 = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv', '--max-invalid', '40%');
    expect(r3.exitCode).toBe(0);
    const r4 = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv', '--max-invalid', '10%');
    expect(r4.exitCode).toBe(1);
    expect(readdirSync(join(d, 'quarantine')).filter((f) => f.endsWith('.quarantine.ndjson')).length).toBe(4);
  });

  it('the JSON report matches schemas/validation-report.schema.json', async () => {
    const d = dir();
    writeFileSync(join(d, 'telemetry.csv'), [TEL_HEADER, tel('EV-1', { robot_arm: 'arm_9' }), tel('EV-2', { velocity_mm_s: '700' }), 'EV-3,x', ''].join('\n'));
    const r = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv', '--format', 'json');
    expect(r.exitCode).toBe(1);
    const ajv = new Ajv2020({ strict: false });
    const schema = JSON.parse(readFileSync(join(process.cwd(), 'schemas/validation-report.schema.json'), 'utf8'));
    const ok = ajv.validate(schema, JSON.parse(r.stdout));
    expect(ok, JSON.stringify(ajv.errors)).toBe(true);
  });

  it('exit 2 for a missing file, an unknown dataset, an uninferable name and an invalid schema', async () => {
    const d = dir();
    writeFileSync(join(d, 'data.csv'), `${TEL_HEADER}\n`);
    const missing = await runCliWith({ cwd: d }, 'validate', 'nope.csv');
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('nope.csv');
    const unknown = await runCliWith({ cwd: d }, 'validate', 'data.csv', '--schema', 'nosuch');
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('telemetry');
    const infer = await runCliWith({ cwd: d }, 'validate', 'data.csv');
    expect(infer.exitCode).toBe(2);
    expect(infer.stderr).toMatch(/cannot tell which dataset.*\n.*telemetry/);
    writeFileSync(join(d, 'bad.schema.json'), JSON.stringify({ type: 'object', properties: { a: { type: 'strin' } } }));
    const bad = await runCliWith({ cwd: d }, 'validate', 'data.csv', '--schema', './bad.schema.json');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/not a valid JSON Schema/);
  });

  it('junit agrees with the exit code: only a file over --max-invalid is a failure; one within it passes with its quarantined rows in system-out', async () => {
    const d = dir();
    // telemetry.csv: 1 bad row of 4 (25%); vitals.csv: 2 bad rows of 2 (100%).
    writeFileSync(join(d, 'telemetry.csv'), [TEL_HEADER, tel('EV-1', { robot_arm: 'arm_9' }), tel('EV-2'), tel('EV-3'), tel('EV-4'), ''].join('\n'));
    writeFileSync(join(d, 'vitals.csv'), ['reading_id,patient_id,metric,value,unit,measured_at', 'VT-1,PA-1,heart_rate,abc,/min,2025-03-01T10:00:00Z', 'VT-2,PA-1,nope,80,/min,2025-03-01T10:00:00Z', ''].join('\n'));
    const parse = (xmlText: string) => {
      const root = /<testsuites [^>]*tests="(\d+)" failures="(\d+)"/.exec(xmlText);
      const cases = [...xmlText.matchAll(/<testcase classname="([^"]*)" name="([^"]*)"(?:\/>|>([\s\S]*?)<\/testcase>)/g)].map((m) => ({
        name: m[2], failed: (m[3] ?? '').includes('<failure '), out: /<system-out>([\s\S]*?)<\/system-out>/.exec(m[3] ?? '')?.[1] ?? null,
      }));
      return { tests: Number(root?.[1]), failures: Number(root?.[2]), failureElements: (xmlText.match(/<failure /g) ?? []).length, cases };
    };
    const some = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv', 'vitals.csv', '--format', 'junit', '--max-invalid', '30%');
    expect(some.exitCode).toBe(1);
    const x = parse(some.stdout);
    expect(x).toMatchObject({ tests: 2, failures: 1, failureElements: 1 });
    expect(x.cases.find((c) => c.name === 'vitals.csv')?.failed).toBe(true);
    const passing = x.cases.find((c) => c.name === 'telemetry.csv');
    expect(passing?.failed).toBe(false);
    expect(passing?.out).toContain('1 of 4 rows quarantined (25.00%), within --max-invalid 30%');
    expect(passing?.out).toContain('line 2 robot_arm: enum');
    const json = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv', 'vitals.csv', '--format', 'json', '--max-invalid', '30%');
    expect((JSON.parse(json.stdout) as { files: { passed: boolean }[] }).files.filter((f) => !f.passed)).toHaveLength(x.failures);
    const all = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv', 'vitals.csv', '--format', 'junit', '--max-invalid', '100%');
    expect(all.exitCode).toBe(0);
    expect(parse(all.stdout)).toMatchObject({ tests: 2, failures: 0, failureElements: 0 });
  });

  it('renders junit, github and table formats', async () => {
    const d = dir();
    writeFileSync(join(d, 'telemetry.csv'), [TEL_HEADER, tel('EV-1', { robot_arm: 'arm_9' }), tel('EV-2', { velocity_mm_s: '700' }), ''].join('\n'));
    const junit = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv', '--format', 'junit');
    expect(junit.exitCode).toBe(1);
    expect(junit.stdout).toMatch(/^<\?xml version="1.0"/);
    expect(junit.stdout).toContain('<testcase classname="telemetry" name="telemetry.csv">');
    expect(junit.stdout).toContain('failing rules: enum 1');
    expect(junit.stdout).toContain('warnings (not quarantined): velocity_soft_limit 1');
    const gh = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv', '--format', 'github');
    expect(gh.stdout).toContain('::error file=telemetry.csv,line=2,title=enum robot_arm::robot_arm: must be equal to one of the allowed values (value "arm_9")');
    expect(gh.stdout).toContain('::warning file=telemetry.csv,line=3');
    const table = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv', '--format', 'table', '--limit-errors', '1');
    expect(table.stdout).toContain('FAILED');
    expect(table.stdout).toContain('line 2 robot_arm: enum');
    expect(table.stdout).not.toContain('line 3 velocity_mm_s');
  });

  it('on a terminal: a table on stdout and a progress line on stderr', async () => {
    const d = dir();
    writeFileSync(join(d, 'telemetry.csv'), [TEL_HEADER, tel('EV-1'), ''].join('\n'));
    const r = await runCliWith({ cwd: d, tty: true }, 'validate', 'telemetry.csv');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^file\s+dataset\s+engine/);
    expect(r.stdout).toContain('PASSED');
    expect(r.stderr).toContain('[1/1] telemetry.csv (telemetry): checking rows');
    const piped = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv');
    expect(piped.stderr).toBe('');
  });

  it('reads stdin with --schema and checks foreign keys across a directory', async () => {
    const d = dir();
    const stdin = await runCliWith({ cwd: d, stdin: [TEL_HEADER, tel('EV-1'), ''].join('\n') }, 'validate', '-', '--schema', 'telemetry');
    expect(stdin.exitCode, stdin.stderr).toBe(0);
    expect(JSON.parse(stdin.stdout).files[0]).toMatchObject({ path: '-', rows_valid: 1 });
    const data = join(d, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'robots.csv'), 'robot_id,serial,model,manufacturer,facility_id,installed_on,status\nRB-1,SN-0001,da Vinci Xi,Intuitive Surgical,FAC-1,2024-01-02,active\n');
    writeFileSync(join(data, 'maintenance.csv'), 'log_id,robot_id,kind,started_at,downtime_hours,cost_usd\nML-1,RB-1,preventive,2025-01-01T08:00:00Z,2,100\nML-2,RB-9,preventive,2025-01-01T08:00:00Z,2,100\n');
    const r = await runCliWith({ cwd: d }, 'validate', 'data');
    expect(r.exitCode).toBe(1);
    const rep = JSON.parse(r.stdout);
    const m = rep.files.find((f: { dataset: string }) => f.dataset === 'maintenance');
    expect(m.failures_by_rule).toEqual({ orphan_foreign_key: 1 });
    expect(m.examples[0]).toMatchObject({ line: 3, field: 'robot_id', value: 'RB-9' });
  });

  it('writes valid rows with --valid-out, as parquet with --valid-format parquet', async () => {
    const d = dir();
    writeFileSync(join(d, 'telemetry.csv'), [TEL_HEADER, tel('EV-1'), tel('EV-2', { force_n: 'x' }), tel('EV-3'), ''].join('\n'));
    const r = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv', '--valid-out', 'out', '--max-invalid', '1');
    expect(r.exitCode).toBe(0);
    const path = JSON.parse(r.stdout).files[0].valid_path as string;
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    // Valid rows come out in the contract's shape: the optional kinematic columns the input lacked are empty.
    expect(lines[0]).toBe(`${TEL_HEADER},tool_x_mm,tool_y_mm,tool_z_mm,gripper_angle_rad`);
    expect(lines[2]).toContain('EV-3');
    const p = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv', '--valid-out', 'out', '--valid-format', 'parquet', '--max-invalid', '1');
    expect(JSON.parse(p.stdout).files[0].valid_path).toMatch(/\.valid\.parquet$/);
  });
});
