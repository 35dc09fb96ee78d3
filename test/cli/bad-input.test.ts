// Bad input files through the CLI: a clear one-line error with the documented exit code, or every row accounted for;
// never an internal error, a stack trace, DuckDB's "state machine" message or a run that does not end.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openDb } from '../../src/db/db.js';
import { toIoError } from '../../src/errors.js';
import { runCliWith, scratchDirs } from '../helpers/run-cli.js';
import { nobodySkipReason } from '../helpers/spawn-cli.js';
import { ROBOTS, TELEMETRY_HEADER, telemetryRow } from '../helpers/small-dataset.js';

const dir = scratchDirs();
const BIN = resolve('bin/surgctl.js');

/** The CLI's error style: `surgctl: ...` then `hint: ...`, nothing else on stderr, no stack frames. */
function oneLineError(stderr: string, message: RegExp): void {
  const lines = stderr.trim().split('\n').filter((l) => !/^(not loaded|loaded|validat)/.test(l));
  expect(lines, stderr).toHaveLength(2);
  expect(lines[0]).toMatch(/^surgctl: /);
  expect(lines[0]).toMatch(message);
  expect(lines[1]).toMatch(/^hint: /);
  expect(stderr).not.toMatch(/\n\s+at |internal error|state machine/);
}

function balanced(f: { rows_read: number; rows_inserted: number; rows_duplicate: number; rows_quarantined: number }): void {
  expect(f.rows_read).toBe(f.rows_inserted + f.rows_duplicate + f.rows_quarantined);
}

describe('CSV files written by other tools', () => {
  it('mixed CRLF/LF line endings: validate and load read every row (was exit 3, "state machine")', async () => {
    const d = dir();
    const lines = [TELEMETRY_HEADER, ...[1, 2, 3, 4, 5, 6].map((i) => telemetryRow(i)), telemetryRow(7, { force_n: '300' })];
    writeFileSync(join(d, 'telemetry.csv'), lines.map((l, i) => l + (i < 3 ? '\r\n' : '\n')).join(''));
    const v = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv', '--format', 'json');
    expect(v.exitCode, v.stderr).toBe(1);
    expect(JSON.parse(v.stdout).files[0]).toMatchObject({ rows_read: 7, rows_valid: 6, rows_quarantined: 1, failures_by_rule: { maximum: 1 } });
    const l = await runCliWith({ cwd: d }, 'load', 'telemetry.csv', '--db', 'lake.duckdb', '--allow-orphans', '--format', 'json', '--max-invalid', '100%');
    expect(l.exitCode, l.stderr).toBe(0);
    const f = JSON.parse(l.stdout).files[0];
    expect(f).toMatchObject({ status: 'succeeded', rows_read: 7, rows_inserted: 6, rows_quarantined: 1 });
    balanced(f);
  });

  it('a pipe-delimited CRLF file validates with --delimiter |', async () => {
    const d = dir();
    writeFileSync(join(d, 'telemetry.csv'), [TELEMETRY_HEADER, telemetryRow(1), telemetryRow(2)].map((l) => l.replaceAll(',', '|')).join('\r\n') + '\r\n');
    const r = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv', '--delimiter', '|', '--format', 'json');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).totals).toMatchObject({ rows_read: 2, rows_valid: 2 });
  });

  const refused: [string, Buffer, RegExp, RegExp][] = [
    ['UTF-16 with a BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${TELEMETRY_HEADER}\r\n${telemetryRow(1)}\r\n`, 'utf16le')]),
      /^surgctl: validation failed for telemetry\.csv: the file is UTF-16 text .*\(csv_utf16\)$/, /iconv -f UTF-16 -t UTF-8/],
    ['random bytes', Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919 + 13) % 256)), /NUL byte at byte offset \d+ \(line \d+\) \(csv_binary\)$/, /not a text data file/],
    ['a PNG image named .csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x0d, 0x0a, 0x0a]), /a PNG image, not CSV text \(csv_binary\)$/, /not a text data file/],
  ];
  for (const [name, bytes, message, hint] of refused) {
    it(`${name}: refused with exit 1 and one line naming the file and the csv_* keyword`, async () => {
      const d = dir();
      writeFileSync(join(d, 'telemetry.csv'), bytes);
      const r = await runCliWith({ cwd: d }, 'validate', 'telemetry.csv');
      expect(r.exitCode).toBe(1);
      oneLineError(r.stderr, message);
      expect(r.stderr).toMatch(hint);
      const l = await runCliWith({ cwd: d }, 'load', 'telemetry.csv', '--db', 'lake.duckdb', '--format', 'json');
      expect(l.exitCode).toBe(1);
      const f = JSON.parse(l.stdout).files[0];
      expect(f).toMatchObject({ status: 'failed', rows_read: 0, rows_inserted: 0 });
      expect(f.message).toMatch(message.source.includes('UTF-16') ? /UTF-16/ : /not CSV text/);
      expect(f.message, 'the dataset question is for files whose columns do not fit').not.toMatch(/is this a/);
      expect(l.stderr).not.toMatch(/\n\s+at |internal error|state machine/);
    });
  }

  it('10,000 columns x 5 rows: validate and load end in seconds with one file error (was out of memory)', async () => {
    const d = dir();
    const extra = Array.from({ length: 10_000 - 7 }, (_, i) => `col_${i}`);
    writeFileSync(join(d, 'robots.csv'), [`${ROBOTS[0]},${extra.join(',')}`,
      ...[1, 2, 3, 4, 5].map((i) => `${(ROBOTS[1] as string).replace('RB-01', `RB-0${i}`)},${extra.map(() => '7').join(',')}`)].join('\n') + '\n');
    const t0 = Date.now();
    const v = await runCliWith({ cwd: d, env: { NO_COLOR: '1', SURGCTL_MEMORY_LIMIT: '488MB' } }, 'validate', 'robots.csv');
    expect(v.exitCode, v.stderr).toBe(1);
    oneLineError(v.stderr, /robots\.csv: the header has 9993 columns the schema does not allow \(col_0, col_1, col_2, col_3, col_4 and 9988 more\) \(additionalProperties\)$/);
    const l = await runCliWith({ cwd: d }, 'load', 'robots.csv', '--db', 'lake.duckdb', '--format', 'json');
    expect(l.exitCode).toBe(1);
    const f = JSON.parse(l.stdout).files[0];
    expect(f).toMatchObject({ status: 'failed', rows_read: 5, rows_inserted: 0 });
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});

describe('Parquet files that cannot be read', () => {
  async function realParquet(path: string): Promise<void> {
    const csv = `${path}.src.csv`;
    writeFileSync(csv, ROBOTS.join('\n') + '\n');
    const db = await openDb(':memory:');
    try {
      await db.run(`COPY (SELECT * FROM read_csv('${csv}', all_varchar = true)) TO '${path}' (FORMAT parquet)`);
    } finally {
      db.close();
    }
  }
  const cases: [string, (real: Buffer) => Buffer, RegExp][] = [
    ['a 0-byte file', () => Buffer.alloc(0), /the file is empty \(0 bytes\), not a Parquet file \(parquet_invalid\)$/],
    ['the first half of a real file', (real) => real.subarray(0, real.length >> 1), /is cut off: it does not end with the magic bytes PAR1 .*\(parquet_invalid\)$/],
    ['a CSV renamed .parquet', () => Buffer.from(ROBOTS.join('\n')), /is not Parquet: it does not start with the magic bytes PAR1 \(parquet_invalid\)$/],
    ['a damaged footer', (real) => Buffer.concat([real.subarray(0, real.length - 8), Buffer.from([0xff, 0xff, 0xff, 0x7f]), Buffer.from('PAR1')]), /cannot be read: .*\(parquet_invalid\)$/],
  ];
  for (const [name, make, message] of cases) {
    it(`${name}: exit 1, one line with parquet_invalid; load fails the file the same way`, async () => {
      const d = dir();
      await realParquet(join(d, 'real.parquet'));
      writeFileSync(join(d, 'robots.parquet'), make(readFileSync(join(d, 'real.parquet'))));
      const r = await runCliWith({ cwd: d }, 'validate', 'robots.parquet');
      expect(r.exitCode).toBe(1);
      oneLineError(r.stderr, message);
      const l = await runCliWith({ cwd: d }, 'load', 'robots.parquet', '--db', 'lake.duckdb', '--format', 'json');
      expect(l.exitCode).toBe(1);
      expect(JSON.parse(l.stdout).files[0]).toMatchObject({ status: 'failed', rows_read: 0 });
    });
  }

  it('the real file itself still validates (the checks do not refuse good Parquet)', async () => {
    const d = dir();
    await realParquet(join(d, 'robots.parquet'));
    const r = await runCliWith({ cwd: d }, 'validate', 'robots.parquet', '--format', 'json');
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).totals).toMatchObject({ rows_read: 2, rows_valid: 2 });
  });
});

describe('paths that cannot be read', () => {
  it('a path through a file says so (ENOTDIR), not just "does not exist"; exit 2', async () => {
    const d = dir();
    writeFileSync(join(d, 'robots.csv'), ROBOTS.join('\n'));
    const r = await runCliWith({ cwd: d }, 'validate', 'robots.csv/robots.csv');
    expect(r.exitCode).toBe(2);
    oneLineError(r.stderr, /^surgctl: input robots\.csv\/robots\.csv does not exist: a part of the path is a file, not a directory$/);
  });

  it('a directory given as --schema: "is a directory", exit 2 (was "not valid JSON: EISDIR ...")', async () => {
    const d = dir();
    writeFileSync(join(d, 'robots.csv'), ROBOTS.join('\n'));
    mkdirSync(join(d, 'schemas'));
    const r = await runCliWith({ cwd: d }, 'validate', 'robots.csv', '--schema', 'schemas/');
    expect(r.exitCode).toBe(2);
    oneLineError(r.stderr, /^surgctl: schema \/.*\/schemas is a directory, not a file$/);
  });

  it('fs errors in words: each code its own message (real errors from the file system)', () => {
    const d = dir();
    writeFileSync(join(d, 'f'), 'x');
    const err = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (e) {
        return e;
      }
      throw new Error('no error');
    };
    expect(toIoError('p', err(() => readFileSync(join(d, 'missing'))), 'read').message).toBe('cannot read p: does not exist (ENOENT)');
    expect(toIoError('p', err(() => readFileSync(d)), 'read').message).toBe('cannot read p: is a directory, not a file (EISDIR)');
    expect(toIoError('p', err(() => readFileSync(join(d, 'f', 'g'))), 'read').message).toBe('cannot read p: a part of the path is a file, not a directory (ENOTDIR)');
    const eacces = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    expect(toIoError('p', eacces, 'read')).toMatchObject({ message: 'cannot read p: permission denied (EACCES)', exitCode: 3 });
  });

  it('a file or directory without permission: "permission denied", exit 3 (run as nobody; root reads anything)', (ctx) => {
    const skip = nobodySkipReason();
    if (skip !== undefined) return ctx.skip(skip);
    const d = dir();
    mkdirSync(join(d, 'locked'));
    writeFileSync(join(d, 'locked', 'robots.csv'), ROBOTS.join('\n'));
    writeFileSync(join(d, 'robots.csv'), ROBOTS.join('\n'));
    chmodSync(join(d, 'locked'), 0o700);
    chmodSync(join(d, 'robots.csv'), 0o600);
    chmodSync(d, 0o755);
    const asNobody = (...args: string[]) => {
      const isRoot = process.getuid?.() === 0;
      const cmd = isRoot ? 'setpriv' : process.execPath;
      const argv = isRoot ? ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args] : [BIN, ...args];
      return spawnSync(cmd, argv, { cwd: d, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    };
    for (const [args, message] of [
      [['validate', 'robots.csv'], /^surgctl: cannot read .*robots\.csv: permission denied \(EACCES\)$/],
      [['validate', 'locked/robots.csv'], /^surgctl: cannot read input locked\/robots\.csv: permission denied \(EACCES\)$/],
      [['validate', 'locked'], /^surgctl: cannot list directory locked: permission denied \(EACCES\)$/],
    ] as const) {
      const r = asNobody(...args);
      expect(r.status, r.stderr).toBe(3);
      oneLineError(r.stderr, message);
    }
  });
});

describe('patterns and nesting that used to hang or crash ajv', () => {
  const schema = (pattern: string) => JSON.stringify({
    $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', 'x-primary-key': ['id'],
    properties: { id: { type: 'string' }, code: { type: 'string', pattern }, payload: { type: 'array' } },
    required: ['id'], additionalProperties: false,
  });

  it('a catastrophic pattern (^(a+)+$ on 50 characters) ends at once with --engine ajv, and auto when it falls back to ajv', async () => {
    const d = dir();
    writeFileSync(join(d, 'things.schema.json'), schema('^(a+)+$'));
    writeFileSync(join(d, 'things.csv'), `id,code\n1,aaa\n2,${'a'.repeat(50)}b\n3,${'a'.repeat(40)}!\n`);
    // The array property keeps the compiler off this schema: auto falls back to ajv, as --engine ajv runs it.
    for (const engine of ['ajv', 'auto']) {
      const t0 = Date.now();
      const r = await runCliWith({ cwd: d }, 'validate', 'things.csv', '--schema', 'things.schema.json', '--engine', engine, '--format', 'json');
      expect(Date.now() - t0, engine).toBeLessThan(10_000);
      expect(r.exitCode, r.stderr).toBe(1);
      const f = JSON.parse(r.stdout).files[0];
      expect(f, engine).toMatchObject({ engine: 'ajv', rows_read: 3, rows_valid: 1, rows_quarantined: 2, failures_by_rule: { pattern: 2 } });
    }
  });

  it('the compiled engine runs the same pattern on DuckDB\'s RE2: linear too', async () => {
    const d = dir();
    writeFileSync(join(d, 'things.schema.json'), JSON.stringify({ type: 'object', properties: { id: { type: 'string' }, code: { type: 'string', pattern: '^(a+)+$' } }, required: ['id'], additionalProperties: false }));
    writeFileSync(join(d, 'things.csv'), `id,code\n1,aaa\n2,${'a'.repeat(5000)}b\n`);
    for (const engine of ['compiled', 'auto']) {
      const t0 = Date.now();
      const r = await runCliWith({ cwd: d }, 'validate', 'things.csv', '--schema', 'things.schema.json', '--engine', engine, '--format', 'json');
      expect(Date.now() - t0, engine).toBeLessThan(10_000);
      expect(r.exitCode, r.stderr).toBe(1);
      expect(JSON.parse(r.stdout).files[0]).toMatchObject({ engine: 'compiled', rows_read: 2, rows_valid: 1, failures_by_rule: { pattern: 1 } });
    }
  });

  for (const [name, pattern, why] of [['a backreference', '^(a)\\1$', /backreference/], ['a lookahead', '^(?=a)a+$', /lookaround/]] as const) {
    it(`${name}: a ConfigError naming the schema and keyword, exit 2, with every engine (auto no longer falls back to a backtracking engine)`, async () => {
      const d = dir();
      writeFileSync(join(d, 'things.schema.json'), schema(pattern));
      writeFileSync(join(d, 'things.csv'), 'id,code\n1,aa\n');
      for (const engine of ['ajv', 'auto', 'compiled']) {
        const r = await runCliWith({ cwd: d }, 'validate', 'things.csv', '--schema', 'things.schema.json', '--engine', engine);
        expect(r.exitCode, `${engine}: ${r.stderr}`).toBe(2);
        oneLineError(r.stderr, /^surgctl: schema .*things\.schema\.json: keyword pattern ".*" cannot run on a linear-time regex engine \(RE2\)/);
        expect(r.stderr).toMatch(why);
      }
    });
  }

  it('an NDJSON line nested 10,000 deep is quarantined (json_too_deep with ajv), every other row kept', async () => {
    const d = dir();
    writeFileSync(join(d, 'things.schema.json'), schema('^[a-z]+$'));
    const deep = `{"id":"2","extra":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    writeFileSync(join(d, 'things.ndjson'), ['{"id":"1","code":"ok"}', deep, '{"id":"3"}', '{"id":"4","payload":[[[1]]]}'].join('\n') + '\n');
    for (const [engine, keyword] of [['ajv', 'json_too_deep'], ['compiled', 'additionalProperties'], ['auto', 'additionalProperties']]) {
      const r = await runCliWith({ cwd: d }, 'validate', 'things.ndjson', '--schema', 'things.schema.json', '--engine', engine as string, '--format', 'json');
      expect(r.exitCode, `${engine}: ${r.stderr}`).toBe(1);
      const f = JSON.parse(r.stdout).files[0];
      expect(f, engine).toMatchObject({ rows_read: 4, rows_valid: 3, rows_quarantined: 1, failures_by_rule: { [keyword as string]: 1 } });
    }
  });
});
