// Run history: every pipeline, load and transform run is recorded in the lakehouse's `runs` table
// (id, command, arguments, started, finished, status, counts as JSON, error), with the writer's pid and host so the
// next writer can tell a run whose process is gone ('interrupted') from one still going.
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/db.js';
import { isProcessAlive, writer } from '../db/process.js';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted';

export interface RunRecord {
  run_id: string;
  command: string;
  args: string | null;
  started_at: string;
  finished_at: string | null;
  /** 'interrupted?' when read-only: still 'running' in the table, but its process (on this host) is gone; the next
   *  writer records it as 'interrupted'. */
  status: RunStatus | 'interrupted?';
  counts: Record<string, unknown> | null;
  error: string | null;
}

export function newRunId(now = new Date()): string {
  return `R${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomUUID().slice(0, 8)}`;
}

/** Records a run as 'running'. startedAt: when it really began, for a run recorded after the fact (default now). */
export async function startRun(db: Db, runId: string, command: string, args: string[], startedAt?: Date): Promise<void> {
  const w = writer();
  await db.run(
    "INSERT INTO runs (run_id, command, args, started_at, status, pid, host) VALUES ($id, $cmd, $args, coalesce($started::TIMESTAMPTZ, now()), 'running', $pid, $host)",
    { id: runId, cmd: command, args: JSON.stringify(args), started: startedAt?.toISOString() ?? null, pid: w.pid, host: w.host },
  );
}

export async function finishRun(db: Db, runId: string, status: RunStatus, counts: Record<string, unknown>, error?: string): Promise<void> {
  await db.run('UPDATE runs SET finished_at = now(), status = $s, counts = $c, error = $e WHERE run_id = $id', {
    id: runId,
    s: status,
    c: JSON.stringify(counts),
    e: error ?? null,
  });
}

const SELECT = `SELECT run_id, command, args, strftime(started_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS started_at,
  strftime(finished_at, '%Y-%m-%dT%H:%M:%S.%gZ') AS finished_at, status, counts, error FROM runs`;

function parse(r: Record<string, unknown>): RunRecord {
  return { ...(r as unknown as RunRecord), counts: typeof r.counts === 'string' ? (JSON.parse(r.counts) as Record<string, unknown>) : null };
}

/** Newest first. */
export async function listRuns(db: Db, limit = 50): Promise<RunRecord[]> {
  return flagGone(db, (await db.all(`${SELECT} ORDER BY started_at DESC, run_id DESC LIMIT $limit`, { limit })).map(parse));
}

export async function getRun(db: Db, runId: string): Promise<RunRecord | undefined> {
  const r = (await db.all(`${SELECT} WHERE run_id = $id`, { id: runId }))[0];
  return r ? (await flagGone(db, [parse(r)]))[0] : undefined;
}

/** Readers cannot write: show a 'running' run whose process is gone as 'interrupted?' (same rule as the writer's). */
async function flagGone(db: Db, runs: RunRecord[]): Promise<RunRecord[]> {
  if (!runs.some((r) => r.status === 'running')) return runs;
  let rows: { run_id: string; pid: number | null; host: string | null }[];
  try {
    rows = await db.all("SELECT run_id, pid, host FROM runs WHERE status = 'running'");
  } catch {
    return runs; // a lakehouse from before pids were recorded (read-only, not migrated)
  }
  const self = writer();
  const gone = new Set(rows.filter((r) => r.pid === null || (r.host === self.host && r.pid !== self.pid && !isProcessAlive(r.pid))).map((r) => r.run_id));
  return runs.map((r) => (r.status === 'running' && gone.has(r.run_id) ? { ...r, status: 'interrupted?' } : r));
}
