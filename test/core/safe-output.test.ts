// The replace step of every output (src/core/safe-output.ts) on real directories: a failure at any point of the
// swap leaves the old output whole where it was; a failed write (DuckDB refusing mid-export) never touches it.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commitOutput, OUTPUT_MARKER, tempPathFor, writeMarker, type OutputGuard, type ReplaceSteps } from '../../src/core/safe-output.js';
import { exportTable } from '../../src/core/export/index.js';
import { runQuery } from '../../src/core/query/index.js';
import { rendererFor } from '../../src/render/result.js';
import { IoError, QueryError } from '../../src/errors.js';
import { scratchDirs } from '../helpers/run-cli.js';
import { useFixtureLakehouse } from './report/fixture.js';
import { lakeAt } from '../helpers/lake.js';

const lake = useFixtureLakehouse();
const scratch = scratchDirs();

/** A directory as surgctl writes it: files plus the marker listing them. */
function ourDir(path: string, content: string): void {
  mkdirSync(join(path, 'level=high'), { recursive: true });
  writeFileSync(join(path, 'level=high', 'data_0.parquet'), content);
  writeMarker(path, 'export', 'export alerts --partition-by level');
}

/** Real renames, except that call number `failAt` (1-based) throws as a full disk would. */
function failingSteps(failAt: number): ReplaceSteps {
  let n = 0;
  return {
    rename(from: string, to: string): void {
      n++;
      if (n === failAt) throw Object.assign(new Error('ENOSPC: no space left on device, rename'), { code: 'ENOSPC' });
      renameSync(from, to);
    },
  };
}

describe('replacing a directory surgctl wrote', () => {
  it.each([
    [1, 'moving the old output aside'],
    [2, 'moving the new output into place'],
  ])('a failure at rename %i (%s) leaves the old output whole and no temporary behind', (failAt) => {
    const dir = scratch();
    const out = join(dir, 'parts');
    ourDir(out, 'old');
    const temp = tempPathFor(out);
    ourDir(temp, 'new');
    const guard: OutputGuard = { kind: 'export', shape: 'directory', force: true, cwd: dir };
    let err: unknown;
    try {
      commitOutput(temp, out, guard, failingSteps(failAt));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IoError);
    expect((err as IoError).message).toContain('ENOSPC');
    expect(readFileSync(join(out, 'level=high', 'data_0.parquet'), 'utf8')).toBe('old');
    expect(existsSync(join(out, OUTPUT_MARKER))).toBe(true);
    expect(readdirSync(dir)).toEqual(['parts']);
  });

  it('with no failure the new output is in place and the old one gone', () => {
    const dir = scratch();
    const out = join(dir, 'parts');
    ourDir(out, 'old');
    const temp = tempPathFor(out);
    ourDir(temp, 'new');
    commitOutput(temp, out, { kind: 'export', shape: 'directory', force: true, cwd: dir });
    expect(readFileSync(join(out, 'level=high', 'data_0.parquet'), 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['parts']);
  });

  it('checks again at commit time: a file a user added while the export ran stops the replace', () => {
    const dir = scratch();
    const out = join(dir, 'parts');
    ourDir(out, 'old');
    const temp = tempPathFor(out);
    ourDir(temp, 'new');
    writeFileSync(join(out, 'added-meanwhile.csv'), 'a,b\n');
    expect(() => commitOutput(temp, out, { kind: 'export', shape: 'directory', force: true, cwd: dir })).toThrow(/surgctl did not write \(added-meanwhile.csv\)/);
    expect(readFileSync(join(out, 'level=high', 'data_0.parquet'), 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['parts']);
  });
});

describe('a write that fails part way never touches the old output', () => {
  it('export --force whose --where value fails inside COPY keeps the old file', async () => {
    const dir = scratch();
    const out = join(dir, 'alerts.csv');
    writeFileSync(out, 'old export\n');
    await expect(exportTable({ table: 'alerts', out, where: ['risk_score>=lots'], force: true, cwd: dir }, { lake: lakeAt(lake.db) })).rejects.toThrow(/does not fit its column/);
    expect(readFileSync(out, 'utf8')).toBe('old export\n');
    expect(readdirSync(dir)).toEqual(['alerts.csv']);
  });

  it('query --force whose rows fail while streaming keeps the old file', async () => {
    const dir = scratch();
    const out = join(dir, 'q.json');
    writeFileSync(out, '["old"]\n');
    const sql = "SELECT CASE WHEN alert_id = 'AL-5' THEN error('boom at AL-5') ELSE alert_id END AS a FROM alerts";
    const err = await runQuery({ sql, target: { format: 'json', out, force: true, cwd: dir, stdout: { write: () => true }, render: rendererFor('json') } }, { lake: lakeAt(lake.db) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryError);
    expect(readFileSync(out, 'utf8')).toBe('["old"]\n');
    expect(readdirSync(dir)).toEqual(['q.json']);
  });
});
