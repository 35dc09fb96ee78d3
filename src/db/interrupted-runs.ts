// Runs left 'running' by a process that is gone: every writer marks them 'interrupted' when it opens the lakehouse
// (src/db/lakehouse.ts openWriter), so this lives beside the opener.
import type { Db } from './db.js';
import { isProcessAlive, writer } from './process.js';

/**
 * Marks `runs` and `transform_runs` rows left 'running' by a process that is gone as 'interrupted'. A row is gone
 * when it has no pid (written before pids were recorded) or its pid, on this host, is not this process and not
 * alive. Rows from another host are left alone (their process cannot be checked from here). Call it with the
 * write lock held. Returns the run ids it marked.
 */
export async function markInterruptedRuns(db: Db, self = writer(), alive: (pid: number) => boolean = isProcessAlive): Promise<string[]> {
  const marked: string[] = [];
  for (const table of ['runs', 'transform_runs']) {
    const rows = await db.all<{ run_id: string; pid: number | null; host: string | null }>(
      `SELECT run_id, pid, host FROM ${table} WHERE status = 'running' ORDER BY run_id`,
    );
    const gone = rows.filter((r) => r.pid === null || (r.host === self.host && r.pid !== self.pid && !alive(r.pid)));
    if (gone.length === 0) continue;
    const ids = gone.map((r) => r.run_id);
    await db.run(
      table === 'runs'
        ? `UPDATE runs SET status = 'interrupted', finished_at = coalesce(finished_at, now()),
             error = coalesce(error, 'interrupted: the process stopped before the run finished') WHERE run_id IN (SELECT unnest(from_json($ids, '["VARCHAR"]')))`
        : `UPDATE transform_runs SET status = 'interrupted', finished_at = coalesce(finished_at, now()) WHERE run_id IN (SELECT unnest(from_json($ids, '["VARCHAR"]')))`,
      { ids: JSON.stringify(ids) },
    );
    for (const id of ids) if (!marked.includes(id)) marked.push(id);
  }
  return marked;
}
