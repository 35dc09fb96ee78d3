import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, runCliWith, tempDir } from '../helpers/run-cli.js';

const tmp = tempDir('surgctl-gen-cli-');
afterAll(() => tmp.cleanup());
const SMALL = ['--robots', '2', '--patients', '6', '--procedures', '8', '--telemetry-rows', '800', '--vitals-hours', '2'];

describe('surgctl generate', () => {
  it('writes the files and, piped, the summary as JSON on stdout (the rule of every command); --format table forces the table', async () => {
    const out = join(tmp.dir, 'human');
    const r = await runCli('generate', '--out', out, ...SMALL);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ out, format: 'csv' });
    expect(r.stderr).toBe('');
    const t = await runCli('generate', '--out', out, ...SMALL, '--force', '--format', 'table');
    expect(t.exitCode).toBe(0);
    expect(t.stdout).toContain('generated 7 files');
    expect(t.stdout).toContain('telemetry.csv');
    expect(readdirSync(out).sort()).toEqual(['.surgctl-output', 'maintenance.csv', 'manifest.json', 'outcomes.csv', 'patients.csv', 'procedures.csv', 'robots.csv', 'telemetry.csv', 'vitals.csv']);
  });

  it('keeps --format csv|ndjson|parquet for the data working, with a deprecation note on stderr', async () => {
    const out = join(tmp.dir, 'deprecated');
    const r = await runCli('generate', '--out', out, ...SMALL, '--format', 'ndjson,json');
    expect(r.exitCode).toBe(0);
    expect(r.stderr.trim()).toBe('surgctl: note: --format ndjson for the data files is deprecated; use --data-format ndjson');
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'ndjson' });
    expect(readdirSync(out)).toContain('telemetry.ndjson');
    const clash = await runCli('generate', '--out', join(tmp.dir, 'clash'), ...SMALL, '--format', 'csv', '--data-format', 'parquet');
    expect(clash.exitCode).toBe(2);
    expect(clash.stderr).toContain('--format csv and --data-format parquet disagree');
  });

  it('prints the summary as JSON on stdout with --format json, the data format from --data-format', async () => {
    const out = join(tmp.dir, 'json');
    const r = await runCli('generate', '--out', out, ...SMALL, '--data-format', 'parquet', '--format', 'json', '--bad-rows', '5%');
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    const s = JSON.parse(r.stdout) as { format: string; files: { path: string; rows: number }[]; bad_rows: number; out: string };
    expect(s.format).toBe('parquet');
    expect(s.out).toBe(out);
    expect(s.files.find((f) => f.path === 'telemetry.parquet')?.rows).toBe(800);
    expect(s.bad_rows).toBeGreaterThan(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { options: { bad_rows: number } };
    expect(manifest.options.bad_rows).toBe(0.05);
  });

  it('writes one shard and only the chosen datasets', async () => {
    const out = join(tmp.dir, 'shard');
    const r = await runCli('generate', '--out', out, ...SMALL, '--shard', '2/3', '--datasets', 'telemetry,robots', '--data-format', 'ndjson', '--format', 'json');
    expect(r.exitCode).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['.surgctl-output', 'manifest.json', 'robots.ndjson', 'telemetry.ndjson']);
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { shard: unknown; files: { rows: number }[] };
    expect(m.shard).toEqual({ index: 2, count: 3 });
    expect(m.files.map((f) => f.rows)).toEqual([1, 267]);
  });

  it('refuses a folder it did not write, with or without --force (exit 2, untouched); replaces its own with --force', async () => {
    const out = join(tmp.dir, 'exists');
    mkdirSync(out);
    writeFileSync(join(out, 'keep.txt'), 'mine');
    const r = await runCli('generate', '--out', out, ...SMALL);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('refusing to replace directory');
    expect(r.stderr).toContain('surgctl did not write');
    expect(r.stderr).toContain('even with --force');
    const f = await runCli('generate', '--out', out, ...SMALL, '--force', '--quiet');
    expect(f.exitCode).toBe(2);
    expect(readdirSync(out)).toEqual(['keep.txt']);
    expect(readFileSync(join(out, 'keep.txt'), 'utf8')).toBe('mine');
    const own = join(tmp.dir, 'own');
    expect((await runCli('generate', '--out', own, ...SMALL, '--quiet')).exitCode).toBe(0);
    const again = await runCli('generate', '--out', own, ...SMALL);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('already exists');
    expect(again.stderr).toContain('--force');
    const g = await runCli('generate', '--out', own, ...SMALL, '--force', '--quiet', '--seed', '9');
    expect(g.exitCode).toBe(0);
    expect(g.stderr).toBe('');
    expect(JSON.parse(readFileSync(join(own, 'manifest.json'), 'utf8'))).toMatchObject({ seed: 9 });
    expect(readdirSync(tmp.dir).filter((n) => n.includes('.tmp-') || n.includes('.old-'))).toEqual([]);
  });

  it.each([
    [['--format', 'xml'], 'unknown format "xml"'],
    [['--format', 'csv,parquet'], 'two data formats'],
    [['--robots', '0'], '--robots must be an integer from 1'],
    [['--procedures', 'many'], '--procedures must be a whole number'],
    [['--telemetry-rows', '-5'], '--telemetry-rows must be a whole number'],
    [['--bad-rows', '0.9'], '--bad-rows must be a number'],
    [['--incidents', '2'], '--incidents must be a number'],
    [['--shard', '0/3'], '--shard must be I/N'],
    [['--shard', '3'], '--shard must be I/N'],
    [['--datasets', 'robots,telemtry'], 'unknown dataset "telemtry"'],
    [['--start', 'yesterday'], '--start must be an ISO 8601 instant'],
    [['--vitals-interval', '7'], '--vitals-interval must divide 60'],
    [['--scale', '0'], '--scale must be a number > 0'],
    [['--telemetry-rows', '10', '--telemetry-hz', '0'], '--telemetry-hz must be a number > 0'],
  ])('rejects %j with one clear line and exit 2, writing nothing', async (flags, message) => {
    const out = join(tmp.dir, `bad-${flags.join('_').replace(/[^a-z0-9]/gi, '')}`);
    const r = await runCli('generate', '--out', out, ...flags);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect(existsSync(out)).toBe(false);
  });

  it('rejects an unwritable path with exit 2 and leaves nothing behind', async () => {
    const file = join(tmp.dir, 'a-file');
    writeFileSync(file, 'x');
    const r = await runCli('generate', '--out', join(file, 'out'), ...SMALL);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('ENOTDIR');
    expect(r.stderr.trim().split('\n')).toHaveLength(2);
  });

  it('reports errors as one JSON line with --format json', async () => {
    const r = await runCli('generate', '--out', join(tmp.dir, 'x'), '--format', 'json', '--robots', '0');
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr.trim())).toMatchObject({ error: 'usage' });
  });

  it('draws a progress bar only on a TTY, and prints the summary as a table there', async () => {
    const out = join(tmp.dir, 'tty');
    const r = await runCliWith({ tty: true }, 'generate', '--out', out, ...SMALL);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('generated 7 files');
    expect(r.stderr).toMatch(/%/);
  });
});
