// Help and usage errors agree with themselves: every command's --help (walked from createProgram, subcommands
// included) has examples, prints defaults one way, the top-level help lists the exit codes, `tui --help` lists its
// keys, and every commander usage error prints as `surgctl: ...` + `hint: ...` with exit 2.
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { Readable } from 'node:stream';
import { createProgram } from '../../src/cli/main.js';
import { HELP as TUI_KEYS } from '../../src/tui/screen.js';
import { runCli } from '../helpers/run-cli.js';

function commandPaths(): string[][] {
  const program = createProgram({ stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: process.cwd(), stdin: Readable.from([]) });
  const paths: string[][] = [];
  const walk = (cmd: Command, path: string[]): void => {
    paths.push(path);
    for (const sub of cmd.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return paths;
}

const paths = commandPaths();

describe('every command --help', () => {
  it('walks the whole tree, subcommands included', () => {
    const names = paths.map((p) => p.join(' '));
    for (const n of ['', 'generate', 'load', 'quarantine list', 'rules plan', 'runs show', 'config show', 'tui']) expect(names).toContain(n);
    expect(paths.length).toBeGreaterThan(20);
  });

  it.each(paths.map((p) => [p.join(' ') || '(root)', p] as const))('%s: has an example line and prints defaults one way', async (_name, path) => {
    const r = await runCli(...path, '--help');
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    const at = lines.indexOf('Examples:');
    expect(at, r.stdout).toBeGreaterThan(0);
    const examples = lines.slice(at + 1).filter((l) => l.startsWith('  $ '));
    expect(examples.length).toBeGreaterThan(0);
    // At least one example runs this very command.
    expect(examples.some((l) => l.includes(['surgctl', ...path].join(' ')))).toBe(true);
    // Defaults: "(default: VALUE)" only; never "(default 7)", never quoted, never an empty list.
    const flat = r.stdout.replace(/\s+/g, ' ');
    expect(flat).not.toMatch(/\(default [^:]/);
    expect(flat).not.toMatch(/default: ["[]/);
    expect(flat).not.toMatch(/\[\]\)/);
  });

  it('the top-level help lists the exit codes', async () => {
    const r = await runCli('--help');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Exit codes:');
    for (const code of ['0', '1', '2', '3', '130']) expect(r.stdout).toMatch(new RegExp(`^  ${code} +\\S`, 'm'));
  });

  it('tui --help lists its keys', async () => {
    const r = await runCli('tui', '--help');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('Keys:');
    for (const [keys, what] of TUI_KEYS) expect(r.stdout).toContain(`${keys.padEnd(10)}  ${what}`);
  });

  it('defaults show the shared constants: load and pipeline 2%, validate 0, --bad-rows 0.005 in generate and pipeline', async () => {
    const flat = async (...argv: string[]): Promise<string> => (await runCli(...argv, '--help')).stdout.replace(/\s+/g, ' ');
    expect(await flat('load')).toMatch(/--max-invalid <n\|p%> .*\(default: 2%\)/);
    expect(await flat('pipeline')).toMatch(/--max-invalid <n\|p%> .*\(default: 2%\)/);
    expect(await flat('validate')).toMatch(/--max-invalid <n\|p%> .*\(default: 0\)/);
    expect(await flat('generate')).toMatch(/--bad-rows <rate> .*\(default: 0\.005\)/);
    expect(await flat('pipeline')).toMatch(/--bad-rows <rate> .*\(default: 0\.005\)/);
  });
});

describe('commander usage errors print in our style', () => {
  it.each([
    [['validate', 'x.csv', '--format', 'xml'], "argument 'xml' is invalid", 'surgctl validate --help'],
    [['load', 'x.csv', '--no-such-flag'], "unknown option '--no-such-flag'", 'surgctl load --help'],
    [['validate'], "missing required argument 'inputs'", 'surgctl validate --help'],
    [['lod'], "unknown command 'lod'", 'surgctl --help'],
    [['quarantine', 'show'], "missing required argument 'load_id'", 'surgctl quarantine show --help'],
    [['report', 'summary', '--limit'], "option '--limit <n>' argument missing", 'surgctl report --help'],
    [['completion', 'bash', 'extra'], 'too many arguments', 'surgctl completion --help'],
  ])('%j: one surgctl: line, a hint, exit 2', async (argv, message, hint) => {
    const r = await runCli(...argv);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^surgctl: /);
    expect(lines[0]).toContain(message);
    expect(lines[0]).not.toContain('error:');
    expect(lines[1]).toMatch(/^hint: /);
    expect(lines[1]).toContain(hint);
  });

  it('names the closest command or option', async () => {
    const r = await runCli('lod');
    expect(r.stderr).toContain('(Did you mean load?)');
  });

  it('is one JSON line on stderr with --format json', async () => {
    const r = await runCli('validate', 'x.csv', '--format', 'json', '--bogus');
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ error: 'usage', message: "unknown option '--bogus'", hint: expect.stringContaining('surgctl validate --help') });
  });
});
