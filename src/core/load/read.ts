// Read-only views of the ledger and quarantine for commands that only look.
import type { Lakehouse } from '../../db/lakehouse.js';
import { listLoads, type LoadRecord } from './ledger.js';
import { listQuarantine, showQuarantine, type QuarantineRow, type QuarantineSummary } from './quarantine.js';

/** The load ledger, newest first. UsageError when there is no lakehouse. */
export function readLedger(lake: Lakehouse): Promise<LoadRecord[]> {
  return lake.withReader((db) => listLoads(db));
}

export function readQuarantineSummary(lake: Lakehouse): Promise<QuarantineSummary[]> {
  return lake.withReader((db) => listQuarantine(db));
}

export function readQuarantineRows(lake: Lakehouse, loadId: string, limit: number): Promise<QuarantineRow[]> {
  return lake.withReader((db) => showQuarantine(db, loadId, limit));
}
