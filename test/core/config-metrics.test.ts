import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import { MetricSet, renderMetrics, writeMetricsFile } from '../../src/core/metrics.js';
import { ConfigError } from '../../src/errors.js';
import { runCliWith, scratchDirs } from '../helpers/run-cli.js';
import { assertExposition } from '../helpers/prometheus.js';

const tmp = scratchDirs();

describe('configuration precedence', () => {
  it('flags > env > config file > defaults, with sources', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'surgctl.config.json'), JSON.stringify({ seed: 11, scale: 2, db: 'lake/x.duckdb' }));
    const { config, effective } = loadConfig({ cwd: dir, env: { SURGCTL_SCALE: '3' }, flags: { seed: 5 } });
    expect(config.seed).toBe(5);
    expect(effective.seed.from).toBe('flag');
    expect(config.scale).toBe(3);
    expect(effective.scale.from).toBe('env');
    expect(config.db).toBe(join(dir, 'lake/x.duckdb'));
    expect(effective.db.from).toBe('config');
    expect(effective.format).toEqual({ value: 'csv', from: 'default' });
  });

  it('rejects an invalid config file naming the field', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'surgctl.config.json'), JSON.stringify({ sead: 1 }));
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(ConfigError);
    expect(() => loadConfig({ cwd: dir, env: {} })).toThrow(/sead/);
  });

  it('`config show` prints each value and where it came from', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'surgctl.config.json'), JSON.stringify({ seed: 11 }));
    const r = await runCliWith({ cwd: dir, env: { SURGCTL_DB: 'e.duckdb' } }, 'config', 'show', '--format', 'json');
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout) as { settings: Record<string, { value: unknown; from: string }> };
    expect(out.settings.seed).toEqual({ value: 11, from: 'config' });
    expect(out.settings.db).toEqual({ value: join(dir, 'e.duckdb'), from: 'env' });
    const bad = await runCliWith({ cwd: dir, env: {} }, 'config', 'show', '--config', 'missing.json');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('missing.json');
  });
});

describe('metrics exposition', () => {
  it('renders valid exposition text with escaped labels', () => {
    const m = new MetricSet()
      .add('surgctl_rows_read_total', 'counter', 'Rows read', 10, { dataset: 'telemetry' })
      .add('surgctl_rows_read_total', 'counter', 'Rows read', 3, { dataset: 'vi"tals\\x\ny' })
      .add('surgctl_last_success_timestamp_seconds', 'gauge', 'Last success', 1767571200);
    const text = renderMetrics(m.list());
    assertExposition(text);
    expect(text).toContain('surgctl_rows_read_total{dataset="vi\\"tals\\\\x\\ny"} 3');
  });

  it('writes atomically: no temporary file is left behind', () => {
    const dir = tmp();
    const path = join(dir, 'surgctl.prom');
    writeMetricsFile(path, new MetricSet().add('surgctl_up', 'gauge', 'up', 1).list());
    expect(existsSync(path)).toBe(true);
    expect(readdirSync(dir)).toEqual(['surgctl.prom']);
    assertExposition(readFileSync(path, 'utf8'));
  });
});

describe('completion', () => {
  it.each(['bash', 'zsh', 'fish'])('prints a %s script naming the commands', async (shell) => {
    const r = await runCliWith({}, 'completion', shell);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('schemas');
    expect(r.stdout).toContain('config');
  });

  it('the bash script is valid bash', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = await runCliWith({}, 'completion', 'bash');
    const check = spawnSync('bash', ['-n'], { input: r.stdout, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
  });

  it('rejects an unknown shell with exit 2', async () => {
    const r = await runCliWith({}, 'completion', 'powershell');
    expect(r.exitCode).toBe(2);
  });
});
