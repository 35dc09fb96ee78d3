// Read-only views of the ledger and quarantine for commands that only look.
import { openDb } from '../../db/db.js';
import { requireExistingDb } from '../db-path.js';
import { listLoads, type LoadRecord } from './ledger.js';
import { listQuarantine, showQuarantine, type QuarantineRow, type QuarantineSummary } from './quarantine.js';

async function withReadOnly<T>(dbPath: string, fn: (db: Awaited<ReturnType<typeof openDb>>) => Promise<T>): Promise<T> {
  requireExistingDb({ path: dbPath, from: 'flag' });
  const db = await openDb(dbPath, { readOnly: true });
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

export function readLedger(dbPath: string): Promise<LoadRecord[]> {
  return withReadOnly(dbPath, (db) => listLoads(db));
}

export function readQuarantineSummary(dbPath: string): Promise<QuarantineSummary[]> {
  return withReadOnly(dbPath, (db) => listQuarantine(db));
}

export function readQuarantineRows(dbPath: string, loadId: string, limit: number): Promise<QuarantineRow[]> {
  return withReadOnly(dbPath, (db) => showQuarantine(db, loadId, limit));
}
