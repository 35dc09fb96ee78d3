// The npm tarball is the product: pack it, check what it holds, install it into an empty directory (runtime
// dependencies only, no build step) and run the main commands from there with this Node (20 under `npm test`;
// .ci/run runs this file again under Node 22).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';

const repo = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };
const UNPACKED_BUDGET = 5 * 1024 * 1024;

interface PackResult {
  filename: string;
  unpackedSize: number;
  files: { path: string }[];
}

let work: string;
let pack: PackResult;
let tarball: string;
let installed: string;
let bin: string;

function npm(args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });
}

/** Runs the installed surgctl with this test's Node, in `cwd`. */
function surgctl(cwd: string, ...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', CI: 'true' } });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(repo, join(d.parentPath, d.name)));
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'surgctl-pack-'));
  // dist/ is built by `npm test` before vitest; --ignore-scripts keeps prepack from rebuilding it under the
  // tests that are running from it right now.
  const r = npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], repo);
  expect(r.status, r.stderr).toBe(0);
  pack = (JSON.parse(r.stdout) as PackResult[])[0]!;
  tarball = join(work, pack.filename);
  installed = join(work, 'consumer');
  mkdirSync(installed);
  writeFileSync(join(installed, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  // A consumer's install: production dependencies only, no lifecycle scripts of ours (there is no build step to run).
  const i = npm(['install', '--prefer-offline', '--omit=dev', '--no-package-lock', tarball], installed);
  expect(i.status, i.stderr).toBe(0);
  bin = join(installed, 'node_modules', 'surgctl', 'bin', 'surgctl.js');
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds every runtime file and nothing that should not ship', () => {
    const shipped = new Set(pack.files.map((f) => f.path));
    const required = [
      'package.json',
      'README.md',
      'CHANGELOG.md',
      'LICENSE',
      'bin/surgctl.js',
      ...filesUnder(join(repo, 'schemas')),
      ...filesUnder(join(repo, 'src', 'core', 'transform', 'models')),
      ...filesUnder(join(repo, 'src', 'core', 'transform', 'rules')),
      ...filesUnder(join(repo, 'src', 'db', 'migrations')),
      ...filesUnder(join(repo, 'dist')).filter((f) => f.endsWith('.js')),
    ];
    expect(required.filter((f) => !shipped.has(f))).toEqual([]);
    const forbidden = [...shipped].filter(
      (f) =>
        /^(test|fixtures|bench|\.ci|node_modules|coverage)\//.test(f) ||
        f.endsWith('.map') ||
        (f.startsWith('src/') && /\.tsx?$/.test(f)) ||
        /^(tsconfig.*|vitest\.config\.ts|package-lock\.json)$/.test(f) ||
        f.endsWith('.duckdb'),
    );
    expect(forbidden).toEqual([]);
    expect(pack.unpackedSize).toBeLessThan(UNPACKED_BUDGET);
  });

  it('installs without dev dependencies and reports its version', () => {
    const devOnly = ['vitest', 'typescript', 'fast-check', 'ink-testing-library'];
    expect(devOnly.filter((d) => existsSync(join(installed, 'node_modules', d)))).toEqual([]);
    const v = surgctl(installed, '--version');
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe(pkg.version);
    const verbose = surgctl(installed, 'version', '--verbose', '--format', 'json');
    expect(verbose.status, verbose.stderr).toBe(0);
    const info = JSON.parse(verbose.stdout) as Record<string, string>;
    expect(info).toMatchObject({ surgctl: pkg.version, node: process.version, platform: process.platform, arch: process.arch });
    expect(info.duckdb).toMatch(/^v1\.5\./);
  });

  it('runs the pipeline, validate, an HTML report and the tui refusal from the installed package', () => {
    const cwd = join(work, 'user');
    mkdirSync(cwd);
    const p = surgctl(cwd, 'pipeline', '--scale', '0.05', '--format', 'json');
    expect(p.status, p.stderr).toBe(0);
    const summary = JSON.parse(p.stdout) as { metric: string; value: number }[];
    expect(summary.find((m) => m.metric === 'loads_succeeded')?.value).toBe(7);
    expect(p.stderr).not.toMatch(/\n\s+at /);
    // Node prints DeprecationWarning / ExperimentalWarning lines to stderr; none may appear on any supported Node.
    expect(p.stderr).not.toMatch(/Warning:/);

    const data = join(cwd, 'surgctl-data');
    const dir = join(data, readdirSync(data)[0]!);
    const v = surgctl(cwd, 'validate', dir, '--format', 'json', '--max-invalid', '2%');
    expect(v.status, v.stderr).toBe(0);
    expect((JSON.parse(v.stdout) as { files: unknown[] }).files).toHaveLength(7);

    const html = join(cwd, 'report.html');
    const r = surgctl(cwd, 'report', 'summary', '--format', 'html', '--out', html);
    expect(r.status, r.stderr).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/i);
    expect(page).toContain(`surgctl ${pkg.version}`);

    // No terminal here: the tui refuses with a usage error and a hint, not a stack trace.
    const t = surgctl(cwd, 'tui');
    expect(t.status).toBe(2);
    expect(t.stderr).toMatch(/^surgctl: /);
    expect(t.stderr).not.toMatch(/\n\s+at /);
  });

  it('stamps the same version into Parquet provenance', async () => {
    const cwd = join(work, 'user');
    const out = join(cwd, 'alerts.parquet');
    const e = surgctl(cwd, 'export', 'alerts', '--format', 'parquet', '--out', out);
    expect(e.status, e.stderr).toBe(0);
    const q = surgctl(cwd, 'query', `SELECT 1`, '--format', 'json');
    expect(q.status, q.stderr).toBe(0);
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    try {
      const reader = await con.runAndReadAll(`SELECT decode(value) AS v FROM parquet_kv_metadata('${out.replaceAll("'", "''")}') WHERE decode(key) = 'surgctl_version'`);
      expect(reader.getRowObjectsJson()).toEqual([{ v: pkg.version }]);
    } finally {
      con.closeSync();
      db.closeSync();
    }
  });
});
