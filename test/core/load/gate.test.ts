// The failed-file gate shared by `surgctl load` and the pipeline's load stage (src/core/load/gate.ts).
import { describe, expect, it } from 'vitest';
import { GateFailedError } from '../../../src/errors.js';
import { checkFilesLoaded, describeBreaches } from '../../../src/core/load/gate.js';

describe('checkFilesLoaded', () => {
  it('passes when no file failed (skipped and succeeded files are fine)', () => {
    expect(() =>
      checkFilesLoaded([
        { path: 'a.csv', status: 'succeeded', message: null },
        { path: 'b.csv', status: 'skipped', message: null },
      ]),
    ).not.toThrow();
  });

  it('fails with exit 1 naming every failed file, its reason, the first file and a hint', () => {
    let error: unknown;
    try {
      checkFilesLoaded([
        { path: 'a.csv', status: 'succeeded', message: null },
        { path: 'odd.csv', status: 'failed', message: 'no dataset named odd' },
        { path: 'gone.csv', status: 'failed', message: null },
      ]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GateFailedError);
    const g = error as GateFailedError;
    expect(g.exitCode).toBe(1);
    expect(g.message).toBe('2 file(s) were not loaded: odd.csv: no dataset named odd; gone.csv: failed');
    expect(g.file).toBe('odd.csv');
    expect(g.hint).toMatch(/dataset/);
  });
});

describe('describeBreaches', () => {
  it('names the first three breaching files in full and counts the rest (an import of a folder can breach on every file)', () => {
    const b = (path: string, q: number, r: number) => ({ path, rows_read: r, rows_quarantined: q, share: q / r });
    expect(describeBreaches([b('a.json', 1, 1)])).toBe('a.json: 1 of 1 rows quarantined (100.00%)');
    const many = ['a', 'b', 'c', 'd', 'e'].map((x) => b(`${x}.json`, 1, 4));
    expect(describeBreaches(many)).toBe(
      'a.json: 1 of 4 rows quarantined (25.00%); b.json: 1 of 4 rows quarantined (25.00%); c.json: 1 of 4 rows quarantined (25.00%); and 2 more file(s)',
    );
  });
});
