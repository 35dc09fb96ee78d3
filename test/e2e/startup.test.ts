// A fast start (issue 13), proved by structure rather than by a timer: the built bin runs under a module-trace hook
// (test/helpers/module-trace.mjs) and the test asserts which packages each command loaded. --version, --help,
// schemas, a command's --help and the error path must not load DuckDB, ajv, chalk, cli-progress, csv-parse,
// apache-arrow, faker, ink or react; those load inside the action that needs them. bench/startup.bench.js times it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'surgctl.js');
const HOOK = pathToFileURL(join(ROOT, 'test', 'helpers', 'module-trace.mjs')).href;
const HEAVY = ['@duckdb/node-api', 'ajv', 'ajv-formats', 'chalk', 'cli-progress', 'csv-parse', 'apache-arrow', '@faker-js/faker', 'ink', 'react'];

const dir = mkdtempSync(join(tmpdir(), 'surgctl-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** Runs the built bin with argv under the trace hook; returns its result and the node_modules packages it loaded. */
function traced(...argv: string[]): { status: number | null; stdout: string; stderr: string; packages: string[] } {
  const trace = join(dir, `trace-${n++}.txt`);
  const r = spawnSync(process.execPath, ['--import', HOOK, BIN, ...argv], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, SURGCTL_TRACE_MODULES: trace, NO_COLOR: '1' },
  });
  const packages = new Set<string>();
  for (const line of readFileSync(trace, 'utf8').split('\n')) {
    const m = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(decodeURIComponent(line));
    if (m?.[1]) packages.add(m[1]);
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, packages: [...packages].sort() };
}

const heavyIn = (packages: string[]): string[] => packages.filter((p) => HEAVY.includes(p));

describe('startup: what a light command loads', () => {
  it('--version loads commander only', () => {
    const r = traced('--version');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+/);
    expect(heavyIn(r.packages)).toEqual([]);
    expect(r.packages).toContain('commander');
  });

  it('--help (and no arguments) load no heavy package', () => {
    const help = traced('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: surgctl');
    expect(help.stdout).toContain('validate');
    expect(heavyIn(help.packages)).toEqual([]);
    const bare = traced();
    expect(bare.status).toBe(0);
    expect(bare.stdout).toBe(help.stdout);
    expect(heavyIn(bare.packages)).toEqual([]);
  });

  it('schemas lists the contracts from JSON alone', () => {
    const r = traced('schemas');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^telemetry\s+key=event_id/m);
    expect(heavyIn(r.packages)).toEqual([]);
  });

  it('a command --help that lists formats, reports and levels loads no heavy package', () => {
    for (const argv of [['report', '--help'], ['export', '--help'], ['query', '--help'], ['validate', '--help']]) {
      const r = traced(...argv);
      expect(r.status, argv.join(' ')).toBe(0);
      expect(heavyIn(r.packages), argv.join(' ')).toEqual([]);
    }
    expect(traced('report', '--help').stdout).toContain('top-alerts');
  });

  it('the error path (usage error, surgctl error) loads no heavy package', () => {
    const unknown = traced('genrate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command');
    expect(heavyIn(unknown.packages)).toEqual([]);
    const bad = traced('schemas', 'no_such_dataset');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^surgctl: .*no_such_dataset/m);
    expect(heavyIn(bad.packages)).toEqual([]);
  });

  it('the trace sees a heavy package when a command needs it (version --verbose loads DuckDB)', () => {
    const r = traced('version', '--verbose');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^duckdb /m);
    expect(r.packages).toContain('@duckdb/node-api');
  });
});
