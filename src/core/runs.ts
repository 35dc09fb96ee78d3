// Run history: every pipeline, load and transform run is recorded in the lakehouse's `runs` table
// (id, command, arguments, started, finished, status, counts as JSON, error).
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/db.js';

export type RunStatus = 'running' | 'succeeded' | 'failed';

export interface RunRecord {
  run_id: string;
  command: string;
  args: string | null;
  started_at: string;
  finished_at: string | null;
  status: RunStatus;
  counts: Record<string, unknown> | null;
  error: string | null;
}

export function newRunId(now = new Date()): string {
  return `R${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomUUID().slice(0, 8)}`;
}

export async function startRun(db: Db, runId: string, command: string, args: string[]): Promise<void> {
  await db.run(
    "INSERT INTO runs (run_id, command, args, started_at, status) VALUES ($id, $cmd, $args, now(), 'running')",
    { id: runId, cmd: command, args: JSON.stringify(args) },
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
  return (await db.all(`${SELECT} ORDER BY started_at DESC, run_id DESC LIMIT $limit`, { limit })).map(parse);
}

export async function getRun(db: Db, runId: string): Promise<RunRecord | undefined> {
  const r = (await db.all(`${SELECT} WHERE run_id = $id`, { id: runId }))[0];
  return r ? parse(r) : undefined;
}
