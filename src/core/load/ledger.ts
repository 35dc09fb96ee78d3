// The `loads` ledger: one row per file (or stream batch) a load touched, written 'running' in a short transaction
// of its own before the file is staged (so a killed process leaves a visible unfinished load), and finished inside
// the merge transaction that lands the rows.
import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/db.js';
import { isLoadLive } from './session.js';

export type LoadStatus = 'running' | 'succeeded' | 'failed' | 'skipped' | 'interrupted';

export interface LoadRecord {
  load_id: string;
  path: string;
  sha256: string | null;
  bytes: number | null;
  dataset: string;
  started_at: string;
  finished_at: string | null;
  status: LoadStatus;
  rows_read: number;
  rows_inserted: number;
  rows_duplicate: number;
  rows_quarantined: number;
  engine: string | null;
  message: string | null;
  replay_of: string | null;
}

/** A sortable, unique load id: L + UTC timestamp + random suffix. */
export function newLoadId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', 'T').replace(/\.\d+Z$/, 'Z');
  return `L${stamp}-${randomUUID().slice(0, 8)}`;
}

export async function startLoad(
  db: Db,
  rec: { loadId: string; path: string; sha256: string | null; bytes: number | null; dataset: string; replayOf?: string },
): Promise<void> {
  await db.run(
    `INSERT INTO loads (load_id, path, sha256, bytes, dataset, started_at, status, replay_of)
     VALUES ($id, $path, $sha, $bytes, $ds, now(), 'running', $replay)`,
    { id: rec.loadId, path: rec.path, sha: rec.sha256, bytes: rec.bytes, ds: rec.dataset, replay: rec.replayOf ?? null },
  );
}

export async function finishLoad(
  db: Db,
  loadId: string,
  status: LoadStatus,
  counts: { read: number; inserted: number; duplicate: number; quarantined: number },
  extra: { engine?: string | null; message?: string | null; quarantineFile?: string | null } = {},
): Promise<void> {
  await db.run(
    `UPDATE loads SET status = $status, finished_at = now(), rows_read = $r, rows_inserted = $i, rows_duplicate = $d,
       rows_quarantined = $q, engine = $engine, message = $message, quarantine_file = $qfile WHERE load_id = $id`,
    {
      qfile: extra.quarantineFile ?? null,
      id: loadId,
      status,
      r: counts.read,
      i: counts.inserted,
      d: counts.duplicate,
      q: counts.quarantined,
      engine: extra.engine ?? null,
      message: extra.message ?? null,
    },
  );
}

/** The newest successful load of this exact content into this dataset, if any. */
export async function findSucceededBySha(db: Db, sha256: string, dataset: string): Promise<LoadRecord | undefined> {
  const rows = await listLoads(db, { where: "sha256 = $sha AND dataset = $ds AND status = 'succeeded'", params: { sha: sha256, ds: dataset }, limit: 1 });
  return rows[0];
}

/**
 * The newest successful load of each content (sha256) into this dataset, as sha256 -> load id: one query for a whole
 * import run instead of one per file (an export of one Bundle per patient has thousands of files).
 */
export async function succeededByShas(db: Db, dataset: string): Promise<Map<string, string>> {
  const rows = await db.all<{ sha256: string; load_id: string }>(
    `SELECT sha256, load_id FROM (
       SELECT sha256, load_id, row_number() OVER (PARTITION BY sha256 ORDER BY started_at DESC, load_id DESC) AS n
       FROM loads WHERE dataset = $ds AND status = 'succeeded' AND sha256 IS NOT NULL)
     WHERE n = 1`,
    { ds: dataset },
  );
  return new Map(rows.map((r) => [r.sha256, r.load_id]));
}

/**
 * Loads not finished by an earlier process (killed or crashed): marked failed so the ledger tells the truth. A
 * 'running' row whose load is still staging in a live process (its scratch owner note, session.ts) is left alone:
 * loads no longer hold the lakehouse while they stage, so another writer may start meanwhile. Returns the count marked.
 */
export async function markAbandoned(db: Db, isLive: (loadId: string) => boolean = (id) => isLoadLive(db.path, id)): Promise<number> {
  const running = await db.all<{ load_id: string }>("SELECT load_id FROM loads WHERE status = 'running' ORDER BY load_id");
  const gone = running.map((r) => r.load_id).filter((id) => !isLive(id));
  if (gone.length > 0) {
    await db.run(
      `UPDATE loads SET status = 'failed', message = 'interrupted: the process stopped before the load committed; no rows of it were kept'
       WHERE status = 'running' AND load_id IN (SELECT unnest(from_json($ids, '["VARCHAR"]')))`,
      { ids: JSON.stringify(gone) },
    );
  }
  return gone.length;
}

export async function listLoads(
  db: Db,
  opts: { where?: string; params?: Record<string, string | number | null>; limit?: number } = {},
): Promise<LoadRecord[]> {
  const where = opts.where ? `WHERE ${opts.where}` : '';
  const limit = opts.limit ? `LIMIT ${Math.trunc(opts.limit)}` : '';
  return db.all<LoadRecord & Record<string, unknown>>(
    `SELECT load_id, path, sha256, bytes::DOUBLE AS bytes, dataset,
       strftime(started_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS started_at,
       strftime(finished_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS finished_at, status,
       rows_read::DOUBLE AS rows_read, rows_inserted::DOUBLE AS rows_inserted,
       rows_duplicate::DOUBLE AS rows_duplicate, rows_quarantined::DOUBLE AS rows_quarantined, engine, message, replay_of
     FROM loads ${where} ORDER BY started_at DESC, load_id DESC ${limit}`,
    opts.params ?? {},
  );
}
