import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { runCli } from '../helpers/run-cli.js';

describe('surgctl main', () => {
  it('prints the package version', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const r = await runCli('--version');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('suggests the closest command for a typo and exits 2', async () => {
    const r = await runCli('schemaz');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("unknown command 'schemaz'");
    expect(r.stderr).toContain('Did you mean schemas?');
  });

  it('suggests the closest flag for a typo and exits 2', async () => {
    const r = await runCli('--verbos');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--verbose');
  });

  it('names the choices for an unknown dataset, exit 2, no stack trace', async () => {
    const r = await runCli('schemas', 'telemtry');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('unknown dataset "telemtry"');
    expect(r.stderr).toContain('telemetry');
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('lists every dataset contract in dependency order', async () => {
    const r = await runCli('schemas');
    expect(r.exitCode).toBe(0);
    const names = r.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]);
    expect(names.indexOf('robots')).toBeLessThan(names.indexOf('procedures'));
    expect(names.indexOf('procedures')).toBeLessThan(names.indexOf('telemetry'));
    expect(new Set(names)).toEqual(new Set(['robots', 'patients', 'procedures', 'telemetry', 'vitals', 'outcomes', 'maintenance']));
  });
});
