// --lock-timeout is one global option: every command that opens the lakehouse waits that long for another process's
// lock (default 5 s), placed before or after the command name, validated once, shown the same way in every help.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../src/db/db.js';
import { runCli, tempDir } from '../helpers/run-cli.js';
import { holdLock, releaseLock } from '../helpers/hold-lock.js';

let tmp: { dir: string; cleanup: () => void };
let lake: string;
let holder: ChildProcess | undefined;

beforeAll(async () => {
  tmp = tempDir('surgctl-lock-');
  lake = join(tmp.dir, 'lake.duckdb');
  const db = await openDb(lake);
  await db.run("CREATE TABLE alerts AS SELECT 'AL-1' AS alert_id");
  db.close();
  writeFileSync(join(tmp.dir, 'robots.csv'), 'robot_id,serial,model,manufacturer,facility_id,installed_on,status\nRB-1,SN-00000001,da Vinci Xi,Intuitive Surgical,FAC-1,2024-01-01,active\n');
  writeFileSync(join(tmp.dir, 'rules.json'), '{}\n');
  holder = await holdLock(lake);
}, 30_000);

afterAll(async () => {
  if (holder) await releaseLock(holder);
  tmp.cleanup();
});

// Every command that opens the lakehouse, as argv after the command name (LAKE and TMP replaced).
const COMMANDS: [string, string[]][] = [
  ['report', ['report', 'summary']],
  ['query', ['query', 'SELECT 1']],
  ['export', ['export', 'alerts', '--out', 'TMP/a.parquet']],
  ['runs', ['runs']],
  ['loads', ['loads']],
  ['load --list', ['load', '--list']],
  ['load', ['load', 'TMP/robots.csv', '--quarantine-dir', 'TMP/q']],
  ['quarantine list', ['quarantine', 'list']],
  ['quarantine show', ['quarantine', 'show', 'L-1']],
  ['quarantine replay', ['quarantine', 'replay', 'L-1', '--quarantine-dir', 'TMP/q']],
  ['transform', ['transform']],
  ['rules plan', ['rules', 'plan', '--rules', 'TMP/rules.json']],
];

const fill = (args: string[]): string[] => args.map((a) => a.replaceAll('TMP', tmp.dir));

async function timed(argv: string[]): Promise<{ exitCode: number; stderr: string; ms: number }> {
  const t0 = Date.now();
  const r = await runCli(...argv);
  return { exitCode: r.exitCode, stderr: r.stderr, ms: Date.now() - t0 };
}

describe('--lock-timeout', () => {
  it.each(COMMANDS)('%s honours it before and after the command name', async (_name, args) => {
    // The config file says 60 s: a run that gives up long before that took the flag's 0.2 s (a bound far from both,
    // so a loaded machine cannot blur it).
    const config = join(tmp.dir, 'wait-60.config.json');
    writeFileSync(config, JSON.stringify({ lock_timeout_s: 60 }));
    for (const argv of [
      ['--config', config, '--lock-timeout', '0.2', ...fill(args), '--db', lake],
      ['--config', config, ...fill(args), '--db', lake, '--lock-timeout', '0.2'],
    ]) {
      const r = await timed(argv);
      expect(r.stderr, argv.join(' ')).toMatch(/^surgctl: database .* is locked by another process.*\nhint: .*raise --lock-timeout/);
      expect(r.exitCode).toBe(3);
      expect(r.ms).toBeGreaterThanOrEqual(180);
      expect(r.ms).toBeLessThan(30_000); // not the config's 60 s
    }
  });

  it('pipeline takes it over lock_timeout_s in the config file', async () => {
    const config = join(tmp.dir, 'surgctl.config.json');
    writeFileSync(config, JSON.stringify({ lock_timeout_s: 120 }));
    const r = await timed(['pipeline', '--config', config, '--scale', '0.01', '--data-dir', join(tmp.dir, 'data'), '--db', lake, '--lock-timeout', '0.2', '--format', 'json']);
    expect(JSON.parse(r.stderr.trim().split('\n').at(-1) ?? '{}')).toMatchObject({ error: 'db_locked', hint: expect.stringMatching(/raise --lock-timeout/) });
    expect(r.exitCode).toBe(3);
    expect(r.ms).toBeLessThan(60_000); // 120 s if the config had won
  }, 90_000);

  it.each([['abc'], ['-1'], ['']])('refuses %j with exit 2 before opening anything', async (value) => {
    for (const argv of [['--lock-timeout', value, 'runs', '--db', lake], ['runs', '--db', lake, '--lock-timeout', value]]) {
      const r = await runCli(...argv);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toMatch(/^surgctl: --lock-timeout must be a number of seconds \(0 or more\).*\nhint: /);
    }
  });

  it('is described once, the same way, in the help of the program and of every command', async () => {
    const line = /--lock-timeout <seconds> wait this long for another process holding the lakehouse \(default: 5\)/;
    for (const argv of [['--help'], ['load', '--help'], ['report', '--help'], ['quarantine', 'replay', '--help'], ['tui', '--help']]) {
      const r = await runCli(...argv);
      expect(r.exitCode).toBe(0);
      expect(r.stdout.replace(/\s+/g, ' ').match(new RegExp(line.source, 'g'))?.length, argv.join(' ')).toBe(1);
    }
  });
});
