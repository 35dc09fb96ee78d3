// Ctrl-C during a transform: the run stops before the next model, keeps the models already built, records
// 'interrupted' in transform_runs and runs, and throws InterruptedError (exit 130).
import { describe, expect, it } from 'vitest';
import { transformDb } from '../../../src/core/transform/transform.js';
import { InterruptedError } from '../../../src/errors.js';
import { scratchDirs } from '../../helpers/run-cli.js';
import { insertSynthetic, openLakehouse } from './helpers.js';

const tmp = scratchDirs();

describe('transform under Ctrl-C', () => {
  it('stops after the model running when the signal fires; earlier models kept; run marked interrupted', async () => {
    const db = await openLakehouse(tmp());
    try {
      await insertSynthetic(db, { loadId: 'L1', from: 0, to: 2, events: 50, patients: 2, vitalsPatients: [0, 1], hours: 2 });
      const abort = new AbortController();
      const built: string[] = [];
      const err = await transformDb(db, {
        signal: abort.signal,
        onEvent: (e) => {
          if (e.type === 'model-done') {
            built.push(e.result.model);
            if (built.length === 2) abort.abort();
          }
        },
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InterruptedError);
      expect((err as InterruptedError).exitCode).toBe(130);
      expect((err as InterruptedError).message).toMatch(/^interrupted: transform stopped at model \w+; 2 model\(s\) built before it kept$/);
      expect(await db.all("SELECT status FROM transform_runs")).toEqual([{ status: 'interrupted' }]);
      expect(await db.all("SELECT command, status FROM runs")).toEqual([{ command: 'transform', status: 'interrupted' }]);
      // The models built before the signal exist; nothing after them ran.
      const tables = (await db.all<{ t: string }>('SELECT table_name AS t FROM information_schema.tables')).map((r) => r.t);
      for (const m of built) expect(tables).toContain(m);
      // The next transform is a full run again (the interrupted one does not count as the last good run).
      const again = await transformDb(db, {});
      expect(again.mode).toBe('full');
    } finally {
      db.close();
    }
  }, 60_000);
});
