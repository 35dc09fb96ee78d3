// The quarantine lifecycle: list what is held, show a load's rows, and replay them after a schema or rule fix:
// rows now valid are loaded (idempotently, as a new ledger entry that names the load it replays), the rest stay
// quarantined with their new reasons. Replayed rows keep their original file and line in the lineage columns.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import type { Db } from '../../db/db.js';
import { ident, literal } from '../../db/sql.js';
import { InterruptedError, UsageError } from '../../errors.js';
import { loadDatasetSchema } from '../schemas.js';
import type { StageContext } from '../stage.js';
import { LOAD_MEMORY_LIMIT } from './lakehouse.js';
import { loadOneFile, restoreQuarantineFiles, type FileLoadResult, type LoadEvent, type LoadInput, type LoadOptions } from './load.js';
import { rawTableName } from './raw-tables.js';

export interface QuarantineSummary {
  load_id: string;
  dataset: string;
  file: string;
  rows: number;
  open_rows: number;
  rules: string;
}

export async function listQuarantine(db: Db): Promise<QuarantineSummary[]> {
  return db.all<QuarantineSummary & Record<string, unknown>>(
    `SELECT load_id, dataset, any_value(file) AS file, count(*)::INTEGER AS rows,
       count(*) FILTER (WHERE replayed_by IS NULL)::INTEGER AS open_rows,
       string_agg(DISTINCT rule, ',' ORDER BY rule) AS rules
     FROM quarantine GROUP BY load_id, dataset ORDER BY load_id`,
  );
}

export interface QuarantineRow {
  load_id: string;
  file: string;
  line: number | null;
  row: number | null;
  dataset: string;
  raw: unknown;
  errors: unknown;
  rule: string;
  replayed_by: string | null;
}

export async function showQuarantine(db: Db, loadId: string, limit = 100): Promise<QuarantineRow[]> {
  const rows = await db.all<Record<string, unknown>>(
    `SELECT load_id, file, line::DOUBLE AS line, "row"::DOUBLE AS "row", dataset, raw, errors, rule, replayed_by
     FROM quarantine WHERE load_id = $id ORDER BY line, "row" LIMIT $limit`,
    { id: loadId, limit },
  );
  return rows.map((r) => ({
    ...(r as unknown as QuarantineRow),
    raw: parseJson(r.raw),
    errors: parseJson(r.errors),
  }));
}

function parseJson(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

export interface ReplayResult {
  replayed_load_id: string;
  candidates: number;
  not_replayable: number;
  result: FileLoadResult | null;
}

/** replayQuarantine's input: the load whose quarantined rows to replay, and the load's flags. */
export interface ReplayInput extends LoadInput {
  loadId: string;
}

/**
 * Re-validates the open quarantined rows of `input.loadId` against today's schema and loads those now valid into the
 * context's lakehouse (held open for writing throughout). Rows that were structurally broken (no column values to
 * re-check) stay as they are.
 */
export async function replayQuarantine(input: ReplayInput, ctx: StageContext<LoadEvent>): Promise<ReplayResult> {
  const { loadId, ...rest } = input;
  const opts: LoadOptions = { ...rest, ...ctx };
  const db = await opts.lake.openWriter({ memoryLimit: LOAD_MEMORY_LIMIT });
  const spool = mkdtempSync(join(tmpdir(), 'surgctl-replay-'));
  try {
    await restoreQuarantineFiles(db, opts);
    const load = (await db.all<{ dataset: string; path: string }>('SELECT dataset, path FROM loads WHERE load_id = $id', { id: loadId }))[0];
    if (!load) throw new UsageError(`no load with id ${loadId}`, { hint: 'surgctl quarantine list shows the loads that hold quarantined rows' });
    const ds = loadDatasetSchema(load.dataset);
    await db.run(`CREATE OR REPLACE TEMP TABLE _replay AS
      SELECT row_number() OVER (ORDER BY line, "row") AS replay_row, file, line, "row", raw
      FROM quarantine
      WHERE load_id = $id AND replayed_by IS NULL AND json_valid(raw) AND json_type(raw::JSON) = 'OBJECT'`, { id: loadId });
    const candidates = Number((await db.scalar<number>('SELECT count(*)::INTEGER FROM _replay')) ?? 0);
    const total = Number((await db.scalar<number>('SELECT count(*)::INTEGER FROM quarantine WHERE load_id = $id AND replayed_by IS NULL', { id: loadId })) ?? 0);
    if (candidates === 0) return { replayed_load_id: loadId, candidates: 0, not_replayable: total, result: null };
    const asCsv = ['.csv', '.tsv', '.gz'].includes(extname(load.path).toLowerCase());
    const file = join(spool, `${ds.name}.replay.${asCsv ? 'csv' : 'ndjson'}`);
    const struct = JSON.stringify(Object.fromEntries(ds.columns.map((c) => [c, 'VARCHAR'])));
    // One row per line in replay_row order: line n+1 of the CSV (after its header) or line n of the NDJSON.
    if (asCsv) {
      await db.run(`COPY (SELECT unnest(json_transform(raw, ${literal(struct)})) FROM _replay ORDER BY replay_row)
        TO ${literal(file)} (FORMAT csv, HEADER true)`);
    } else {
      await db.run(`COPY (SELECT raw FROM _replay ORDER BY replay_row) TO ${literal(file)} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x1f')`);
    }
    const result = await loadOneFile(db, { path: file, display: `replay:${loadId}`, ds }, { ...opts, force: true }, {
      replayOf: loadId,
      format: asCsv ? 'csv' : 'ndjson',
    }).catch((e: unknown) => {
      if (e instanceof InterruptedError) throw new InterruptedError(`replay of ${loadId} rolled back; its ${candidates} row(s) stay quarantined`);
      throw e;
    });
    const offset = asCsv ? 1 : 0;
    await db.transaction(async () => {
      await db.run(
        `UPDATE ${rawTableName(ds.name)} AS t SET _source_file = m.file, _source_line = m.line
         FROM _replay m WHERE t._load_id = $new AND t._source_line = m.replay_row + ${offset}`,
        { new: result.load_id },
      );
      await db.run(
        `UPDATE quarantine AS q SET file = m.file, line = m.line, "row" = m."row"
         FROM _replay m WHERE q.load_id = $new AND q.line = m.replay_row + ${offset}`,
        { new: result.load_id },
      );
      await db.run(
        `UPDATE quarantine SET replayed_by = $new WHERE load_id = $old AND replayed_by IS NULL
           AND json_valid(raw) AND json_type(raw::JSON) = 'OBJECT'`,
        { new: result.load_id, old: loadId },
      );
    });
    await db.run(`DROP TABLE IF EXISTS ${ident('_replay')}`);
    return { replayed_load_id: loadId, candidates, not_replayable: total - candidates, result };
  } finally {
    db.close();
    rmSync(spool, { recursive: true, force: true });
  }
}
