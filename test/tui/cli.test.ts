// `surgctl tui` in-process: the refusals (no lakehouse, not a TTY) are one line that names report top-alerts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runCli, runCliWith, tempDir } from '../helpers/run-cli.js';
import { buildMartFixture } from '../core/tui-data/fixture.js';

const t = tempDir('surgctl-tui-cli-');
const lake = join(t.dir, 'lake.duckdb');
beforeAll(async () => {
  await buildMartFixture(lake, { alerts: 60 });
});
afterAll(() => t.cleanup());

describe('surgctl tui', () => {
  it('without a lakehouse prints one line naming report top-alerts and exits 2', async () => {
    const r = await runCliWith({ tty: true }, 'tui', '--db', join(t.dir, 'missing.duckdb'));
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`no lakehouse at ${join(t.dir, 'missing.duckdb')}`);
    expect(lines[0]).toContain('surgctl report top-alerts');
  });

  it('when stdin or stdout is not a terminal prints one line naming report top-alerts and exits 2', async () => {
    for (const tty of [false, true]) {
      // With tty: true only stdout is a TTY (the captured stdin never is).
      const r = await runCliWith({ tty }, 'tui', '--db', lake);
      expect(r.exitCode).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toEqual([
        'surgctl: surgctl tui needs an interactive terminal (stdin and stdout a TTY); for a plain list use `surgctl report top-alerts`',
      ]);
    }
  });

  it('finds the lakehouse through SURGCTL_DB too', async () => {
    const r = await runCliWith({ env: { SURGCTL_DB: join(t.dir, 'nope.duckdb') } }, 'tui');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('nope.duckdb');
  });

  it('documents its flags and where acknowledgements go', async () => {
    const r = await runCli('tui', '--help');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('--db <path>');
    expect(r.stdout).toContain('--out <dir>');
    expect(r.stdout).toContain('alert_acks');
  });
});
