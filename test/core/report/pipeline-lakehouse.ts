// A really generated, loaded and transformed lakehouse for the report/export/query tests: the built bin runs
// `generate` (small, seeded), `load` and `transform` into a temporary directory. Spawning the bin keeps these
// tests on the stages' public surface (their flags and files), the same one users drive.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const BIN = resolve('bin/surgctl.js');

function surgctl(cwd: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
  if (r.status !== 0) {
    throw new Error(`surgctl ${args.join(' ')} exited ${String(r.status)} (is dist/ built? npm run build)\n${r.stderr}`);
  }
  return r.stdout;
}

export interface PipelineLakehouse {
  dbPath: string;
  dataDir: string;
}

/** generate (20 patients, 30 procedures, 5,000 telemetry rows, seed 7) -> load -> transform, into dir. */
export function buildPipelineLakehouse(dir: string): PipelineLakehouse {
  const dataDir = join(dir, 'data');
  const dbPath = join(dir, 'lakehouse.duckdb');
  surgctl(dir, 'generate', '--out', dataDir, '--seed', '7', '--robots', '4', '--patients', '20', '--procedures', '30', '--telemetry-rows', '5000', '--vitals-hours', '6');
  const files = readdirSync(dataDir).filter((f) => f.endsWith('.csv')).map((f) => join(dataDir, f));
  surgctl(dir, 'load', ...files, '--db', dbPath, '--format', 'json', '--quarantine-dir', join(dir, 'quarantine'));
  surgctl(dir, 'transform', '--db', dbPath, '--format', 'json');
  return { dbPath, dataDir };
}
