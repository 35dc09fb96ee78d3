// Read-only views of the ledger and quarantine for commands that only look.
import { openDb, type LakeLimits } from '../../db/db.js';
import { requireExistingDb } from '../db-path.js';
import { listLoads, type LoadRecord } from './ledger.js';
import { listQuarantine, showQuarantine, type QuarantineRow, type QuarantineSummary } from './quarantine.js';

async function withReadOnly<T>(dbPath: string, lockTimeoutMs: number | undefined, fn: (db: Awaited<ReturnType<typeof openDb>>) => Promise<T>, limits?: LakeLimits): Promise<T> {
  requireExistingDb({ path: dbPath, from: 'flag' });
  const db = await openDb(dbPath, { readOnly: true, lockTimeoutMs, threads: limits?.threads, memoryLimit: limits?.memoryLimit });
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

/** The load ledger, newest first. lockTimeoutMs: how long to wait for another process's lock (default 5000). */
export function readLedger(dbPath: string, lockTimeoutMs?: number, limits?: LakeLimits): Promise<LoadRecord[]> {
  return withReadOnly(dbPath, lockTimeoutMs, (db) => listLoads(db), limits);
}

export function readQuarantineSummary(dbPath: string, lockTimeoutMs?: number, limits?: LakeLimits): Promise<QuarantineSummary[]> {
  return withReadOnly(dbPath, lockTimeoutMs, (db) => listQuarantine(db), limits);
}

export function readQuarantineRows(dbPath: string, loadId: string, limit: number, lockTimeoutMs?: number, limits?: LakeLimits): Promise<QuarantineRow[]> {
  return withReadOnly(dbPath, lockTimeoutMs, (db) => showQuarantine(db, loadId, limit), limits);
}
