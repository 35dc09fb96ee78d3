// The failed-file gate shared by `surgctl load` and the pipeline's load stage (src/core/load/gate.ts).
import { describe, expect, it } from 'vitest';
import { GateFailedError } from '../../../src/errors.js';
import { checkFilesLoaded } from '../../../src/core/load/gate.js';

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
