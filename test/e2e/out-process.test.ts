// The built bin with real pipes and real signals: `--out -` streams Parquet and Arrow bytes to a pipe (and
// creates no file named -), and a process killed while replacing its own output leaves the old output whole.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { openDb } from '../../src/db/db.js';
import { literal } from '../../src/db/sql.js';
import { scratchDirs } from '../helpers/run-cli.js';
import { hashTree } from '../helpers/files.js';
import { useFixtureLakehouse } from '../core/report/fixture.js';

const BIN = join(process.cwd(), 'bin', 'surgctl.js');
const lake = useFixtureLakehouse();
const scratch = scratchDirs();


describe('--out - to a pipe', () => {
  it('export --format parquet and report --format arrow write their bytes to stdout', async () => {
    const cwd = scratch();
    const pq = spawnSync(process.execPath, [BIN, 'export', 'alerts', '--db', lake.db, '--out', '-', '--format', 'parquet', '--where', 'level=medium'], { cwd, timeout: 60_000 });
    expect(pq.status, pq.stderr.toString()).toBe(0);
    expect(pq.stdout.subarray(0, 4).toString()).toBe('PAR1');
    const arrow = spawnSync(process.execPath, [BIN, 'report', 'top-alerts', '--db', lake.db, '--out', '-', '--format', 'arrow'], { cwd, timeout: 60_000 });
    expect(arrow.status, arrow.stderr.toString()).toBe(0);
    expect(readdirSync(cwd)).toEqual([]);
    expect(tableFromIPC(arrow.stdout).numRows).toBe(5);
    // query's Parquet goes through the sealed read-only handle, which may write only its private temporary file.
    const q = spawnSync(process.execPath, [BIN, 'query', "SELECT alert_id FROM alerts WHERE level = 'medium'", '--db', lake.db, '--out', '-', '--format', 'parquet'], { cwd, timeout: 60_000 });
    expect(q.status, q.stderr.toString()).toBe(0);
    expect(q.stdout.subarray(0, 4).toString()).toBe('PAR1');
    expect(readdirSync(cwd)).toEqual([]);
    const file = join(scratch(), 'piped.parquet');
    writeFileSync(file, pq.stdout);
    const mem = await openDb(':memory:');
    try {
      expect(await mem.scalar<number>(`SELECT count(*)::INTEGER FROM read_parquet(${literal(file)}) WHERE level = 'medium'`)).toBe(3);
    } finally {
      mem.close();
    }
  });
});

describe('killed while replacing', () => {
  it('generate --force over its own output, killed mid-write, leaves the old dataset whole', async () => {
    const dir = scratch();
    const out = join(dir, 'data');
    const small = ['--robots', '2', '--patients', '4', '--procedures', '4', '--vitals-hours', '1'];
    const first = spawnSync(process.execPath, [BIN, 'generate', '--out', out, ...small, '--telemetry-rows', '200', '--quiet'], { timeout: 60_000 });
    expect(first.status, first.stderr?.toString()).toBe(0);
    const before = hashTree(out);
    const child = spawn(process.execPath, [BIN, 'generate', '--out', out, ...small, '--telemetry-rows', '3000000', '--force', '--quiet'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
    // Kill once the new dataset is being written beside the old one.
    const deadline = Date.now() + 30_000;
    while (!readdirSync(dir).some((n) => n.startsWith('.data.tmp-')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(hashTree(out)).toEqual(before);
  }, 60_000);
});
