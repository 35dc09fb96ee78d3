// cli/io.ts: the one table-or-json default every non-report command uses (resultFormat / wantsJson), checked
// directly and through real commands (config show, rules show) on a terminal and in a pipe.
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { resultFormat, wantsJson, type Io } from '../../src/cli/io.js';
import { runCliWith, scratchDirs } from '../helpers/run-cli.js';

const io = (isTTY: boolean | undefined): Io => ({
  stdout: { write: () => true, isTTY },
  stderr: { write: () => true },
  env: {},
  cwd: process.cwd(),
  stdin: Readable.from([]),
});

describe('resultFormat', () => {
  it('takes --format when given, else table on a terminal and json when piped (isTTY absent counts as piped)', () => {
    expect(resultFormat(io(true), undefined)).toBe('table');
    expect(resultFormat(io(false), undefined)).toBe('json');
    expect(resultFormat(io(undefined), undefined)).toBe('json');
    expect(resultFormat(io(false), 'table')).toBe('table');
    expect(resultFormat(io(true), 'junit')).toBe('junit');
    expect(wantsJson(io(true), undefined)).toBe(false);
    expect(wantsJson(io(false), undefined)).toBe(true);
    expect(wantsJson(io(false), 'table')).toBe(false);
  });
});

describe('commands print through it', () => {
  const scratch = scratchDirs();
  for (const argv of [['config', 'show'], ['rules', 'show']]) {
    it(`${argv.join(' ')}: json when piped, a table on a terminal, json on a terminal with --format json`, async () => {
      const cwd = scratch();
      const piped = await runCliWith({ cwd, tty: false }, ...argv);
      expect(piped.exitCode, piped.stderr).toBe(0);
      expect(() => JSON.parse(piped.stdout)).not.toThrow();
      const tty = await runCliWith({ cwd, tty: true }, ...argv);
      expect(tty.exitCode, tty.stderr).toBe(0);
      expect(() => JSON.parse(tty.stdout)).toThrow();
      const forced = await runCliWith({ cwd, tty: true }, ...argv, '--format', 'json');
      expect(forced.exitCode, forced.stderr).toBe(0);
      expect(JSON.parse(forced.stdout)).toEqual(JSON.parse(piped.stdout));
    });
  }
});
