// Writes that never destroy (issue 12): every --out of export, report, query and generate. A folder surgctl did
// not write survives --force byte for byte; `-` is standard output; the --out extension and --format must agree;
// a directory surgctl wrote (marker .surgctl-output) is replaced whole with --force.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, runCliWith, scratchDirs } from '../helpers/run-cli.js';
import { hashTree } from '../helpers/files.js';
import { useFixtureLakehouse } from '../core/report/fixture.js';

const lake = useFixtureLakehouse();
const scratch = scratchDirs();


/** A user's folder: raw CSVs and a manifest, as the issue describes. */
function userFolder(parent: string, name = 'mydata'): string {
  const dir = join(parent, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'telemetry.csv'), 'event_id,force_n\nEV-1,4.5\nEV-2,14.2\n');
  writeFileSync(join(dir, 'vitals.csv'), 'reading_id,value\nVR-1,95\n');
  writeFileSync(join(dir, 'manifest.json'), '{"source":"hospital export, do not lose"}\n');
  mkdirSync(join(dir, 'level=high'));
  writeFileSync(join(dir, 'level=high', 'notes.parquet'), 'not really parquet, still mine');
  return dir;
}

function noStrays(dir: string): void {
  expect(readdirSync(dir).filter((n) => n.includes('.tmp-') || n.includes('.old-') || n === '-')).toEqual([]);
}

describe('a folder surgctl did not write survives every --out --force', () => {
  it.each([
    ['export', (out: string) => ['export', 'alerts', '--db', lake.db, '--out', out, '--force']],
    ['export --partition-by', (out: string) => ['export', 'alerts', '--db', lake.db, '--out', out, '--partition-by', 'level', '--force']],
    ['report', (out: string) => ['report', 'summary', '--db', lake.db, '--out', out, '--force']],
    ['query', (out: string) => ['query', 'SELECT 1 AS x', '--db', lake.db, '--out', out, '--force']],
    ['generate', (out: string) => ['generate', '--out', out, '--robots', '2', '--patients', '4', '--procedures', '4', '--telemetry-rows', '100', '--vitals-hours', '1', '--force']],
  ])('%s --out mydata --force: exit 2, a hint, every file byte for byte', async (_name, argv) => {
    const dir = scratch();
    const mine = userFolder(dir);
    const before = hashTree(mine);
    const r = await runCli(...argv(mine));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^surgctl: refusing to replace (directory )?.*mydata/m);
    expect(r.stderr).toMatch(/^hint: .*even with --force/m);
    expect(r.stdout).toBe('');
    expect(hashTree(mine)).toEqual(before);
    noStrays(dir);
  });

  it('without --force the refusal is the same (not "pass --force"), and the folder is untouched', async () => {
    const dir = scratch();
    const mine = userFolder(dir);
    const before = hashTree(mine);
    const r = await runCli('export', 'alerts', '--db', lake.db, '--out', mine, '--partition-by', 'level');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('surgctl did not write');
    expect(r.stderr).not.toContain('pass --force');
    expect(hashTree(mine)).toEqual(before);
  });

  it('a folder surgctl wrote, to which a user has since added a file, is refused and kept whole', async () => {
    const dir = scratch();
    const out = join(dir, 'parts');
    expect((await runCli('export', 'alerts', '--db', lake.db, '--out', out, '--partition-by', 'level')).exitCode).toBe(0);
    writeFileSync(join(out, 'level=high', 'my-notes.txt'), 'added by hand');
    const before = hashTree(out);
    const r = await runCli('export', 'alerts', '--db', lake.db, '--out', out, '--partition-by', 'level', '--force');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('files surgctl did not write (level=high/my-notes.txt)');
    expect(hashTree(out)).toEqual(before);
  });

  it('a generated dataset is not replaced by an export (the marker names what wrote it)', async () => {
    const dir = scratch();
    const data = join(dir, 'data');
    const gen = await runCli('generate', '--out', data, '--robots', '2', '--patients', '4', '--procedures', '4', '--telemetry-rows', '100', '--vitals-hours', '1', '--quiet');
    expect(gen.exitCode).toBe(0);
    const before = hashTree(data);
    const r = await runCli('export', 'alerts', '--db', lake.db, '--out', data, '--partition-by', 'level', '--force');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('it holds a surgctl generate output, not export output');
    expect(hashTree(data)).toEqual(before);
  });

  it('a symlink as --out is never followed or replaced, even with --force', async () => {
    const dir = scratch();
    const mine = userFolder(dir);
    const link = join(dir, 'link');
    symlinkSync(mine, link);
    const before = hashTree(mine);
    for (const argv of [
      ['export', 'alerts', '--db', lake.db, '--out', link, '--partition-by', 'level', '--force'],
      ['export', 'alerts', '--db', lake.db, '--out', link, '--format', 'csv', '--force'],
      ['generate', '--out', link, '--robots', '2', '--force'],
    ]) {
      const r = await runCli(...argv);
      expect(r.exitCode, argv.join(' ')).toBe(2);
      expect(r.stderr).toContain('symbolic link');
    }
    expect(hashTree(mine)).toEqual(before);
    expect(statSync(link).isDirectory()).toBe(true);
  });

  it('a file where a directory goes, and a directory where a file goes, are refused even with --force', async () => {
    const dir = scratch();
    const file = join(dir, 'alerts.parquet');
    writeFileSync(file, 'mine');
    const a = await runCli('export', 'alerts', '--db', lake.db, '--out', file, '--partition-by', 'level', '--force');
    expect(a.exitCode).toBe(2);
    expect(a.stderr).toContain('it is a file and this output is a directory');
    expect(readFileSync(file, 'utf8')).toBe('mine');
    const empty = join(dir, 'empty.csv');
    mkdirSync(empty);
    const b = await runCli('export', 'alerts', '--db', lake.db, '--out', empty, '--force');
    expect(b.exitCode).toBe(2);
    expect(b.stderr).toContain('it is a directory and this output is one file');
    expect(statSync(empty).isDirectory()).toBe(true);
  });

  it('--out ., .., /, the current directory, the lakehouse or its folder: always refused', async () => {
    const cwd = join(lake.dir, 'work');
    mkdirSync(cwd, { recursive: true });
    const cases: [string[], string][] = [
      [['export', 'alerts', '--out', '.', '--partition-by', 'level'], 'the current directory'],
      [['export', 'alerts', '--out', cwd, '--partition-by', 'level'], 'the current directory'],
      [['export', 'alerts', '--out', '..', '--partition-by', 'level'], 'a parent of the current directory'],
      [['export', 'alerts', '--out', '/', '--partition-by', 'level'], 'the root of the file system'],
      [['export', 'alerts', '--out', lake.db, '--format', 'parquet'], 'the lakehouse file'],
      [['export', 'alerts', '--out', `${lake.db}.wal`, '--format', 'parquet'], 'the lakehouse file'],
      [['generate', '--out', '.'], 'the current directory'],
      [['generate', '--out', lake.dir], 'a parent of the current directory'],
    ];
    const before = statSync(lake.db).size;
    for (const [argv, why] of cases) {
      const args = argv[0] === 'generate' ? argv : [...argv, '--db', lake.db];
      const r = await runCliWith({ cwd }, ...args, '--force');
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(`it is ${why}`);
    }
    const other = scratch();
    const nested = join(other, 'lake', 'surgctl.duckdb');
    mkdirSync(join(other, 'lake'));
    writeFileSync(nested, readFileSync(lake.db));
    const r = await runCliWith({ cwd: other }, 'export', 'alerts', '--db', nested, '--out', join(other, 'lake'), '--partition-by', 'level', '--force');
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('a folder that holds the lakehouse');
    // A lakehouse named without an extension, so only the lakehouse rule can refuse it (report and query).
    const bare = join(other, 'lakehouse');
    writeFileSync(bare, readFileSync(lake.db));
    for (const argv of [['report', 'summary'], ['query', 'SELECT 1']]) {
      const q = await runCliWith({ cwd: other }, ...argv, '--db', bare, '--out', bare, '--format', 'csv', '--force');
      expect(q.exitCode, argv[0]).toBe(2);
      expect(q.stderr).toContain('it is the lakehouse file');
    }
    expect(readFileSync(bare).equals(readFileSync(lake.db))).toBe(true);
    expect(statSync(lake.db).size).toBe(before);
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe('a directory surgctl wrote is replaced whole with --force', () => {
  it('export --partition-by over its own earlier output, and over an empty folder', async () => {
    const dir = scratch();
    const out = join(dir, 'parts');
    expect((await runCli('export', 'alerts', '--db', lake.db, '--out', out, '--partition-by', 'level')).exitCode).toBe(0);
    const marker = JSON.parse(readFileSync(join(out, '.surgctl-output'), 'utf8')) as { tool: string; what: string; id: string; created_at: string; files: { path: string; bytes: number }[] };
    expect(marker).toMatchObject({ tool: 'surgctl', what: 'export' });
    expect(marker.files.map((f) => f.path.split('/')[0]).sort()).toEqual(['level=critical', 'level=high', 'level=medium']);
    const r = await runCli('export', 'alerts', '--db', lake.db, '--out', out, '--partition-by', 'level', '--where', 'level=critical', '--force');
    expect(r.exitCode).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['.surgctl-output', 'level=critical']);
    const next = JSON.parse(readFileSync(join(out, '.surgctl-output'), 'utf8')) as { id: string };
    expect(next.id).not.toBe(marker.id);
    noStrays(dir);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const e = await runCli('export', 'alerts', '--db', lake.db, '--out', empty, '--partition-by', 'level');
    expect(e.exitCode).toBe(0);
    expect(readdirSync(empty)).toContain('level=high');
  });
});

describe('generate --force over generated datasets', () => {
  const small = ['--robots', '2', '--patients', '4', '--procedures', '4', '--telemetry-rows', '100', '--vitals-hours', '1', '--quiet'];

  it('replaces its own dataset, one written before markers existed (manifest.json lists it), but not an edited one', async () => {
    const dir = scratch();
    const out = join(dir, 'data');
    expect((await runCli('generate', '--out', out, ...small)).exitCode).toBe(0);
    rmSync(join(out, '.surgctl-output'));
    const legacy = await runCli('generate', '--out', out, ...small, '--seed', '3', '--force');
    expect(legacy.exitCode).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'))).toMatchObject({ seed: 3 });
    expect(existsSync(join(out, '.surgctl-output'))).toBe(true);
    writeFileSync(join(out, 'robots.csv'), `${readFileSync(join(out, 'robots.csv'), 'utf8')}ROB-X,hand-added\n`);
    const before = hashTree(out);
    const edited = await runCli('generate', '--out', out, ...small, '--force');
    expect(edited.exitCode).toBe(2);
    expect(edited.stderr).toContain('files in it changed since surgctl wrote them (robots.csv)');
    expect(hashTree(out)).toEqual(before);
    noStrays(dir);
  });
});

describe('--out - is standard output', () => {
  it('export, report and query write to stdout and create no file named -', async () => {
    const cwd = scratch();
    const csv = await runCliWith({ cwd }, 'export', 'alerts', '--db', lake.db, '--out', '-', '--format', 'csv');
    expect(csv.exitCode).toBe(0);
    expect(csv.stdout.split('\n')[0]).toMatch(/^alert_id,event_id,/);
    expect(csv.stdout.trim().split('\n')).toHaveLength(6);
    expect(csv.stderr).toContain('exported 5 rows of alerts to standard output (csv)');
    const nd = await runCliWith({ cwd }, 'export', 'alerts', '--db', lake.db, '--out', '-', '--format', 'ndjson', '--quiet');
    expect(nd.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { alert_id: string }).alert_id).sort()).toEqual(['AL-1', 'AL-2', 'AL-3', 'AL-4', 'AL-5']);
    const rep = await runCliWith({ cwd }, 'report', 'outcomes', '--db', lake.db, '--out', '-', '--format', 'json');
    expect(rep.exitCode).toBe(0);
    expect(JSON.parse(rep.stdout)).toHaveLength(2);
    const q = await runCliWith({ cwd }, 'query', 'SELECT 42 AS answer', '--db', lake.db, '--out', '-');
    expect(q.exitCode).toBe(0);
    expect(JSON.parse(q.stdout)).toEqual([{ answer: 42 }]);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('binary formats to a terminal, a partitioned export and generate to - are usage errors (exit 2)', async () => {
    const cwd = scratch();
    const cases: [string[], string][] = [
      [['export', 'alerts', '--db', lake.db, '--out', '-'], 'is binary and standard output is a terminal'],
      [['report', 'top-alerts', '--db', lake.db, '--out', '-', '--format', 'arrow'], 'is binary and standard output is a terminal'],
      [['query', 'SELECT 1', '--db', lake.db, '--out', '-', '--format', 'parquet'], 'is binary and standard output is a terminal'],
      [['export', 'alerts', '--db', lake.db, '--out', '-', '--format', 'parquet', '--partition-by', 'level'], 'cannot go to standard output'],
      [['generate', '--out', '-'], 'cannot hold it'],
      [['tui', '--out', '-'], 'the TUI draws on standard output'],
    ];
    for (const [argv, message] of cases) {
      const r = await runCliWith({ cwd, tty: true }, ...argv);
      expect(r.exitCode, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toContain(message);
      expect(r.stderr).toMatch(/^hint: /m);
      expect(r.stdout).toBe('');
    }
    expect(readdirSync(cwd)).toEqual([]);
  });
});

describe('the --out extension and --format agree', () => {
  it('report summary --out x.xlsx is exit 2 and writes nothing', async () => {
    const dir = scratch();
    const out = join(dir, 'x.xlsx');
    for (const extra of [[], ['--format', 'csv']]) {
      const r = await runCli('report', 'summary', '--db', lake.db, '--out', out, ...extra);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain('--out x.xlsx: surgctl does not write .xlsx files');
      expect(r.stderr).toMatch(/^hint: choose one of .*csv \(\.csv\)/m);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a known extension that contradicts --format is exit 2 naming both; without --format the extension decides', async () => {
    const dir = scratch();
    const bad = await runCli('query', 'SELECT 1 AS x', '--db', lake.db, '--out', join(dir, 'q.csv'), '--format', 'json');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--out q.csv has the extension .csv (csv) but --format is json');
    expect(bad.stderr).toContain('name it q.json, or drop --format');
    const exp = await runCli('export', 'alerts', '--db', lake.db, '--out', join(dir, 'a.parquet'), '--format', 'csv');
    expect(exp.exitCode).toBe(2);
    expect(exp.stderr).toContain('.parquet (parquet) but --format is csv');
    const html = await runCli('export', 'alerts', '--db', lake.db, '--out', join(dir, 'a.html'));
    expect(html.exitCode).toBe(2);
    expect(html.stderr).toContain('.html is html, which export cannot write');
    const unknown = await runCli('report', 'summary', '--db', lake.db, '--out', join(dir, 'summary.out'));
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('surgctl does not write .out files');
    expect(readdirSync(dir)).toEqual([]);
    const md = await runCli('report', 'outcomes', '--db', lake.db, '--out', join(dir, 'o.md'));
    expect(md.exitCode).toBe(0);
    expect(readFileSync(join(dir, 'o.md'), 'utf8')).toMatch(/^\|.*procedure_type/m);
    const csv = await runCli('query', 'SELECT 7 AS n', '--db', lake.db, '--out', join(dir, 'n.csv'));
    expect(csv.exitCode).toBe(0);
    expect(readFileSync(join(dir, 'n.csv'), 'utf8')).toBe('n\n7\n');
    const same = await runCli('query', 'SELECT 7 AS n', '--db', lake.db, '--out', join(dir, 'n.json'), '--format', 'json');
    expect(same.exitCode).toBe(0);
    expect(existsSync(join(dir, 'n.json'))).toBe(true);
  });
});
