// One version everywhere: package.json, --version, the generate manifest and the CHANGELOG; and the release script
// that `npm version` runs keeps the CHANGELOG in step.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, scratchDirs } from '../helpers/run-cli.js';

const repo = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string; engines: { node: string } };
const SMALL = ['--robots', '2', '--patients', '4', '--procedures', '4', '--telemetry-rows', '200', '--vitals-hours', '1'];
const scratch = scratchDirs();

describe('surgctl version', () => {
  it('--version, version and the generate manifest all print the package version', async () => {
    for (const argv of [['--version'], ['-V'], ['version']]) {
      const r = await runCli(...argv);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(`${pkg.version}\n`);
    }
    const out = join(scratch(), 'gen');
    const g = await runCli('generate', '--out', out, ...SMALL);
    expect(g.exitCode, g.stderr).toBe(0);
    expect((JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { version: string }).version).toBe(pkg.version);
  });

  it('--version --verbose (either order) and version --verbose add Node, DuckDB and the platform', async () => {
    for (const argv of [['--version', '--verbose'], ['-v', '-V'], ['version', '--verbose'], ['--verbose', 'version']]) {
      const r = await runCli(...argv);
      expect(r.exitCode, argv.join(' ')).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe(`surgctl ${pkg.version}`);
      expect(lines[1]).toBe(`node ${process.version}`);
      expect(lines[2]).toMatch(/^duckdb v1\.5\.\d+ \(@duckdb\/node-api 1\.5\.[\w.-]+\)$/);
      expect(lines[3]).toBe(`platform ${process.platform} ${process.arch}`);
    }
    const json = await runCli('--version', '--verbose', '--format', 'json');
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ surgctl: pkg.version, node: process.version });
  });

  it('--version with another command is still that command', async () => {
    const r = await runCli('schemas', '--version');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
  });
});

describe('CHANGELOG.md', () => {
  const changelog = readFileSync(join(repo, 'CHANGELOG.md'), 'utf8');

  it('has an Unreleased section and a released section for the package version', () => {
    expect(changelog).toMatch(/^## \[Unreleased\]$/m);
    expect(changelog).toMatch(new RegExp(`^## \\[${pkg.version.replaceAll('.', '\\.')}\\] - \\d{4}-\\d{2}-\\d{2}$`, 'm'));
  });

  it('the npm version script moves Unreleased under the new version and refuses an empty section', () => {
    const copy = join(scratch(), 'CHANGELOG.md');
    copyFileSync(join(repo, 'CHANGELOG.md'), copy);
    const script = join(repo, '.ci', 'changelog-release.js');
    const bump = spawnSync(process.execPath, [script, '9.9.9', copy], { encoding: 'utf8' });
    expect(bump.status, bump.stderr).toBe(0);
    const after = readFileSync(copy, 'utf8');
    const unreleased = after.indexOf('## [Unreleased]');
    const released = after.indexOf('## [9.9.9] - ');
    expect(unreleased).toBeGreaterThanOrEqual(0);
    expect(released).toBeGreaterThan(unreleased);
    // What was unreleased now sits under 9.9.9, and the section above it is empty.
    expect(after.slice(unreleased + '## [Unreleased]'.length, released).trim()).toBe('');
    expect(after.slice(released)).toContain('### ');
    const again = spawnSync(process.execPath, [script, '9.9.10', copy], { encoding: 'utf8' });
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('Unreleased section is empty');
    expect(readFileSync(copy, 'utf8')).toBe(after);
  });

  it('engines names the Node lines CI runs (20, 22 and 24)', () => {
    expect(pkg.engines.node).toBe('^20.19.0 || ^22.12.0 || ^24.0.0');
    const ci = readFileSync(join(repo, '.ci', 'run'), 'utf8');
    expect(ci).toContain('for major in 22 24');
  });
});
