// A closed pipe is not an error: `surgctl ... | head -1` exits quietly (0, nothing on stderr) instead of printing an
// EPIPE stack trace. Spawns the built bin with stdout piped into a reader that closes after the first line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openDb } from '../../src/db/db.js';
import { tempDir } from '../helpers/run-cli.js';

let tmp: { dir: string; cleanup: () => void };
let lake: string;

beforeAll(async () => {
  tmp = tempDir('surgctl-epipe-');
  lake = join(tmp.dir, 'lake.duckdb');
  const db = await openDb(lake);
  try {
    await db.run("CREATE TABLE alerts AS SELECT 'AL-' || i AS alert_id, i AS risk_score, repeat('r', 40) AS reason FROM range(300000) t(i)");
  } finally {
    db.close();
  }
});

afterAll(() => tmp.cleanup());

/** Runs the built bin, keeps the first line of stdout, then closes the pipe; resolves when the process exits. */
function headOne(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; first: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/surgctl.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let first: string | undefined;
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      if (first !== undefined) return;
      out += s;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        first = out.slice(0, nl);
        child.stdout.destroy();
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, first: first ?? out, stderr }));
  });
}

describe('a closed stdout pipe', () => {
  it.each([
    ['query --format csv', ['query', 'SELECT * FROM alerts ORDER BY risk_score', '--format', 'csv'], 'alert_id,risk_score,reason'],
    ['query --format ndjson', ['query', 'SELECT * FROM alerts ORDER BY risk_score', '--format', 'ndjson'], '{"alert_id":"AL-0","risk_score":0,'],
    ['query --format json', ['query', 'SELECT * FROM alerts', '--format', 'json'], '['],
  ])('%s exits 0 with no stack trace', async (_name, args, first) => {
    const r = await headOne([...args, '--db', lake]);
    expect(r.first.startsWith(first)).toBe(true);
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at |internal error/);
    expect(r.stderr).toBe('');
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
  });

  it('help output exits 0 too', async () => {
    const r = await headOne(['help', 'report']);
    expect(r.first).toMatch(/^Usage: surgctl report/);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('a closed stderr pipe', () => {
  it('loses only messages: the process carries on and exits with its own code', async () => {
    const io = resolve('dist/cli/io.js');
    const marker = join(tmp.dir, 'finished.txt');
    const script = `import { exitQuietlyOnClosedPipe } from ${JSON.stringify(io)}; import { writeFileSync } from 'node:fs';
      exitQuietlyOnClosedPipe();
      for (let i = 0; i < 20000; i++) { process.stderr.write('progress line ' + i + '\\n'); if (i % 1000 === 0) await new Promise((r) => setTimeout(r, 5)); }
      writeFileSync(${JSON.stringify(marker)}, 'done'); process.exitCode = 7;`;
    const r = await new Promise<{ code: number | null }>((res, rej) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
      let seen = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => {
        seen += s;
        if (seen.includes('\n')) child.stderr.destroy();
      });
      child.on('error', rej);
      child.on('close', (code) => res({ code }));
    });
    expect(r.code).toBe(7);
    expect(readFileSync(marker, 'utf8')).toBe('done');
  });
});
