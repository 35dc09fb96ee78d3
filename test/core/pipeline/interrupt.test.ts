// Ctrl-C during a pipeline: the signal reaches the stage that is running (here: load), the pipeline throws
// InterruptedError and records its own run as 'interrupted' (the load's run says so too).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDb } from '../../../src/db/db.js';
import { loadConfig } from '../../../src/core/config.js';
import { runPipeline } from '../../../src/core/pipeline/pipeline.js';
import { InterruptedError } from '../../../src/errors.js';
import { lakeAt } from '../../helpers/lake.js';
import { scratchDirs } from '../../helpers/run-cli.js';

const tmp = scratchDirs();

describe('pipeline under Ctrl-C', () => {
  it('stops in the load stage, keeps what committed, records pipeline and load runs as interrupted', async () => {
    const dir = tmp();
    const db = join(dir, 'lake.duckdb');
    const { config } = loadConfig({ cwd: dir, env: {}, flags: { db, data_dir: join(dir, 'data'), scale: 0.001 } });
    const abort = new AbortController();
    let filesDone = 0;
    const err = await runPipeline({ config, cwd: dir, env: {}, args: ['pipeline'] }, {
      lake: lakeAt(config.db, { lockTimeoutMs: config.lock_timeout_s * 1000 }),
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === 'load' && e.event.type === 'file-done' && ++filesDone === 2) abort.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as Error).message).toMatch(/^interrupted: load stopped before \S+; 2 earlier file\(s\) kept$/);
    const lake = await openDb(db, { readOnly: true });
    try {
      expect(await lake.all('SELECT command, status FROM runs ORDER BY started_at')).toEqual([
        // The pipeline's run starts when the pipeline does, before its load stage.
        { command: 'pipeline', status: 'interrupted' },
        { command: 'load', status: 'interrupted' },
      ]);
      expect(await lake.scalar("SELECT count(*)::INTEGER FROM loads WHERE status = 'succeeded'")).toBe(2);
      expect(await lake.scalar("SELECT count(*)::INTEGER FROM information_schema.tables WHERE table_name = 'transform_runs'")).toBe(1);
      expect(await lake.scalar('SELECT count(*)::INTEGER FROM transform_runs')).toBe(0);
    } finally {
      lake.close();
    }
  }, 60_000);
});
