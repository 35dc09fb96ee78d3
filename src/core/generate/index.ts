// surgctl generate: a seeded, reproducible synthetic dataset with planted bad rows and incidents, plus its manifest.
//
// Design, chosen by measurement (bench/results/generate.md has the current numbers): reference tables (robots,
// patients, procedures, outcomes, maintenance) and every plan (schedule, incidents, bad rows) are small and built in
// JS with faker and a seeded PRNG. Telemetry and vitals are high-volume and built by DuckDB SQL from a small segment
// table: each row is a pure function of hash(seed, slot) and its segment, and `unnest(range(...))` keeps slot order,
// so COPY streams rows to disk in order with no sort and flat memory, and any slot range (a shard) yields exactly its
// part of the whole. Text rows are one preformatted line each, written by the CSV writer with quoting off, so bad rows
// and broken CSV lines land byte for byte as planned. Measured here for 2M telemetry rows (CPU seconds, shared
// machine): this SQL 2.8-3.3 s to CSV vs 2.6-3.7 s for a plain COPY from range() of the same columns; the notes'
// JS PRNG loop was ~2x the COPY (12.1 s vs 6.5 s for 5M rows). DuckDB runs with ONE thread here: with more, the
// ordered COPY of this single-partition source buffers the whole result before writing (3-5x slower, RSS ~500 MiB).
// Byte-identical output across runs is tested; hash() is DuckDB's own, stable for a DuckDB version.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db, InterruptHandle } from '../../db/db.js';
import { openWorkDb } from '../../db/lakehouse.js';
import type { WorkContext } from '../stage.js';
import { InterruptedError, UsageError } from '../../errors.js';
import { loadDatasetSchema, type DatasetSchema } from '../schemas.js';
import { surgctlVersion } from '../version.js';
import { badRng, corruptRow, planBadRows, type BadPlan, type Corrupted } from './bad-rows.js';
import { generateFhirDataset } from './fhir.js';
import { formatCsvLine, formatJsonLine } from './format.js';
import type { Incident, Manifest, ManifestBadRow, ManifestFile } from './manifest.js';
import { commitOutput, discardOutput, prepareOutput } from './output.js';
import { parseShard, resolveOptions, type DataFormat, type GenerateOptions, type GeneratedDataset, type ResolvedOptions, type Shard } from './options.js';
import { buildMaintenance, buildOutcomes, buildReference, iso, pad, type Reference, type Row } from './reference.js';
import {
  buildSegments, expectedAlert, planTelemetry, procOfSlot, slotTimeMs, STEP_TABLE_COLUMNS, stepTableRows, TELEMETRY_COLUMNS, telemetryLinesSql, telemetryRowsSql,
  type TelemetryPlan,
} from './telemetry.js';
import { dueMetrics, planVitals, stayOfSlot, VITALS_COLUMNS, vitalsRowsIn, vitalsRowsSql, type VitalsPlan } from './vitals.js';
import {
  appendRows, copyTo, createFilledTable, digestWhileWriting, fileDigest, goodLineSql, lineCopyOptions, lineSelect, PARQUET_OPTIONS, textValue,
  writeJsRows, type ColumnType, type OutRow,
} from './write.js';

export type { Manifest, ManifestBadRow, ManifestFile, Incident, RobotIncident, DeteriorationIncident } from './manifest.js';
export type { GenerateOptions, ResolvedOptions, DataFormat, GenerateFormat, GeneratedDataset, Shard } from './options.js';
export { FHIR_FILES } from './fhir.js';
export { DATA_FORMATS, GENERATED_DATASETS, DEFAULTS, parseShard, parseStart, resolveOptions } from './options.js';
export { BAD_ROW_KINDS, type BadRowKind } from './bad-rows.js';

export type GenerateEvent =
  | { type: 'start'; datasets: { dataset: GeneratedDataset; rows: number }[]; totalRows: number }
  /** Rows written so far while a large text file is written (counted from its line breaks). */
  | { type: 'progress'; dataset: GeneratedDataset; doneRows: number }
  | { type: 'dataset'; dataset: GeneratedDataset; rows: number; bytes: number; doneRows: number };

/**
 * generateDataset's context: no lakehouse file is needed; a lake, when given, lends its memory limit (default 256MB;
 * one thread). Aborting the signal stops the running COPY, removes the temporary output and throws InterruptedError
 * (exit 130).
 */
export type GenerateHooks = WorkContext<GenerateEvent>;

export interface GenerateResult {
  /** The absolute output directory. */
  outDir: string;
  manifest: Manifest;
  seconds: number;
}

const MAX_BAD_ROWS = 1_000_000;
const MAX_TELEMETRY_ROWS = 10_000_000_000;


/** [lo, hi) of shard i of n over `total` items: contiguous, disjoint, covering. */
export function shardRange(total: number, shard: Shard): [number, number] {
  return [Math.floor(((shard.index - 1) * total) / shard.count), Math.floor((shard.index * total) / shard.count)];
}

const extOf = (f: DataFormat): string => f;

interface Planted {
  plan: BadPlan;
  bad: Corrupted;
}

/** What the manifest keeps of a planted bad row (the row itself is in the file). */
interface PlantedEntry {
  pos: number;
  kind: BadPlan['kind'];
  field: string | null;
  key: string | null;
  keyword: string;
}

/** The items of a list mapped lazily, one at a time. */
function* mapIter<T, U>(items: readonly T[], f: (item: T) => U): Generator<U> {
  for (const item of items) yield f(item);
}

const entryOf = (p: Planted): PlantedEntry => ({ pos: p.plan.pos, kind: p.plan.kind, field: p.plan.field, key: p.bad.key, keyword: p.bad.keyword });

/** Planted rows corrupted per chunk: memory holds one chunk's rows, not every planted row (0.5% of 25M is 125,000). */
export const BAD_CHUNK = 2_000;

/**
 * Generates the dataset into `options.out` (written to a temporary directory beside it, then renamed).
 * Same options and seed: byte-identical files. Throws UsageError / OutputExistsError for bad options or an
 * existing output without `force` (exit 2), IoError / QueryError for runtime failures (exit 3).
 */
export async function generateDataset(options: GenerateOptions, hooks: GenerateHooks = {}): Promise<GenerateResult> {
  if (options.format === 'fhir') return generateFhirDataset(options, generateDataset, hooks);
  const t0 = performance.now();
  const o = resolveOptions(options);
  const shard = options.shard ?? { index: 1, count: 1 };
  parseShard(`${shard.index}/${shard.count}`);
  const force = options.force ?? false;
  const { target, tmp } = prepareOutput(options.out, force, options.cwd);
  let db: Db | undefined;
  let interrupting: InterruptHandle | undefined;
  const checkAbort = (): void => {
    if (hooks.signal?.aborted) throw new InterruptedError();
  };
  try {
    checkAbort();
    const ref = await buildReference(o);
    const gen = new Generation(o, ref);
    if (gen.tel.total > MAX_TELEMETRY_ROWS) {
      throw new UsageError(`--telemetry-hz ${o.telemetry_hz} asks for ${gen.tel.total.toExponential(2)} telemetry rows; the limit is 1e10`, {
        field: '--telemetry-hz',
      });
    }
    db = await openWorkDb(':memory:', { threads: 1, memoryLimit: hooks.lake?.limits.memoryLimit ?? '256MB' });
    interrupting = db.interruptOn(hooks.signal);
    await gen.prepare(db);
    checkAbort();
    const manifest = await gen.write(db, tmp, shard, surgctlVersion(), hooks);
    checkAbort();
    writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    db.close();
    db = undefined;
    commitOutput(tmp, target, force, options.cwd, `generate --seed ${o.seed} --format ${o.format}`);
    return { outDir: target, manifest, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    db?.close();
    discardOutput(tmp);
    throw hooks.signal?.aborted ? new InterruptedError() : e;
  } finally {
    interrupting?.remove();
  }
}

/** One run's plans and the state that turns them into files. */
class Generation {
  readonly tel: TelemetryPlan;
  readonly vit: VitalsPlan;
  readonly schemas: Record<GeneratedDataset, DatasetSchema>;
  /** Final row lists of the JS-built datasets (bad rows in place). */
  readonly jsRows = new Map<GeneratedDataset, { rows: OutRow[]; bad: Map<number, Planted> }>();
  telBad: PlantedEntry[] = [];
  vitBad: PlantedEntry[] = [];
  incidents: Incident[] = [];

  constructor(readonly o: ResolvedOptions, readonly ref: Reference) {
    this.schemas = Object.fromEntries(
      (['robots', 'patients', 'procedures', 'telemetry', 'vitals', 'outcomes', 'maintenance'] as const).map((d) => [d, loadDatasetSchema(d)]),
    ) as Record<GeneratedDataset, DatasetSchema>;
    // The generator writes the console telemetry columns; the optional kinematic ones (tool-tip position, gripper
    // angle) stay absent, as in a console log, so bad rows are planted only in the columns written.
    const tel = this.schemas.telemetry;
    this.schemas.telemetry = { ...tel, columns: tel.columns.filter((c) => (TELEMETRY_COLUMNS as readonly string[]).includes(c)) };
    this.tel = planTelemetry(o, ref);
    this.vit = planVitals(o, ref);
  }

  private slotMs(slot: number): number {
    const p = procOfSlot(this.tel.procs, slot);
    if (!p) throw new Error(`slot ${slot} has no procedure`);
    return slotTimeMs(p, slot - p.slot0);
  }

  private badCount(rows: number): number {
    const n = Math.round(this.o.bad_rows * rows);
    if (n > MAX_BAD_ROWS) {
      throw new UsageError(`--bad-rows ${this.o.bad_rows} plants ${n.toLocaleString('en-US')} bad rows in one file; the limit is ${MAX_BAD_ROWS.toLocaleString('en-US')}`, {
        field: '--bad-rows',
      });
    }
    return n;
  }

  /** Builds reference rows, plans every bad row and incident, and loads the SQL generators' tables. */
  async prepare(db: Db): Promise<void> {
    const { o, ref, tel } = this;
    const startMs = Date.parse(o.start);
    const severe = tel.incidents.filter((i) => i.kind === 'severe_error' || i.kind === 'combined');
    const outcomes = buildOutcomes(o.seed, ref.procedures, new Set(severe.map((i) => i.proc)));
    const maintenance = buildMaintenance(
      o.seed,
      startMs,
      ref,
      severe.map((i) => ({ robot: ref.procedures[i.proc]?.robot ?? 0, atMs: this.slotMs(i.slots[0] as number) })),
    );
    this.insertMode('robots', ref.robots.map((r) => r.row), 'RB-B', 4);
    this.insertMode('patients', ref.patients.map((p) => p.row), 'PT-B', 6);
    this.insertMode('procedures', ref.procedures.map((p) => p.row), 'PR-B', 6);
    this.replaceMode('outcomes', outcomes);
    this.replaceMode('maintenance', maintenance);
    await this.prepareTelemetry(db);
    await this.prepareVitals(db);
    this.buildIncidents();
  }

  /** Referenced datasets: bad rows are extra rows with fresh keys (or a repeated key), so every good foreign key
   *  still resolves to a good row. */
  private insertMode(name: GeneratedDataset, good: Row[], keyPrefix: string, width: number): void {
    const ds = this.schemas[name];
    const n = good.length;
    const plans = planBadRows({
      seed: this.o.seed, ds, format: this.o.format, count: this.badCount(n),
      pick: (rng) => (n === 0 ? null : rng.int(1, n)),
      lastPos: n === 0 ? null : n + 1,
    });
    const pk = ds.primaryKey[0] as string;
    const byPos = new Map<number, Planted>();
    plans.forEach((plan, i) => {
      const rng = badRng(this.o.seed, name, plan.pos);
      const base = { ...(good[rng.int(0, n - 1)] as Row), [pk]: `${keyPrefix}${String(i + 1).padStart(width, '0')}` };
      const dupOf = good[rng.int(0, Math.min(plan.pos, n) - 1)]?.[pk];
      byPos.set(plan.pos, { plan, bad: corruptRow(ds, base, plan, rng, { duplicateOf: String(dupOf) }) });
    });
    const rows: OutRow[] = [];
    const bad = new Map<number, Planted>();
    for (let i = 0; i <= n + 1; i++) {
      const b = byPos.get(i);
      if (b) {
        bad.set(rows.length, b);
        rows.push({ row: b.bad.row, fault: b.bad.fault, faultField: b.plan.field ?? undefined });
      }
      const g = good[i];
      if (g && i < n) rows.push({ row: g });
    }
    this.jsRows.set(name, { rows, bad });
  }

  /** Leaf datasets: a bad row replaces the good row at its position (nothing references it). */
  private replaceMode(name: GeneratedDataset, good: Row[]): void {
    const ds = this.schemas[name];
    const n = good.length;
    const plans = planBadRows({
      seed: this.o.seed, ds, format: this.o.format, count: this.badCount(n),
      pick: (rng) => (n < 3 ? null : rng.int(1, n - 2)),
      lastPos: n < 2 ? null : n - 1,
    });
    const pk = ds.primaryKey[0] as string;
    const badPos = new Set(plans.map((p) => p.pos));
    const rows: OutRow[] = good.map((row) => ({ row }));
    const bad = new Map<number, Planted>();
    for (const plan of plans) {
      const rng = badRng(this.o.seed, name, plan.pos);
      let src = rng.int(0, plan.pos - 1);
      while (src > 0 && badPos.has(src)) src--;
      const b = corruptRow(ds, good[plan.pos] as Row, plan, rng, { duplicateOf: String(good[src]?.[pk]) });
      bad.set(plan.pos, { plan, bad: b });
      rows[plan.pos] = { row: b.row, fault: b.fault, faultField: plan.field ?? undefined };
    }
    this.jsRows.set(name, { rows, bad });
  }

  private async prepareTelemetry(db: Db): Promise<void> {
    const { o, ref, tel } = this;
    const ds = this.schemas.telemetry;
    const last = tel.total - 1;
    const plans = planBadRows({
      seed: o.seed, ds, format: o.format, count: this.badCount(tel.total),
      pick: (rng) => {
        if (tel.total < 2) return null;
        const slot = rng.int(0, tel.total - 2);
        const p = procOfSlot(tel.procs, slot);
        if (!p || slot === p.slot0 || tel.overrides.has(slot)) return null;
        return slot;
      },
      lastPos: tel.total >= 2 && !tel.overrides.has(last) ? last : null,
    });
    const badSlots = new Map(plans.map((p, i) => [p.pos, i] as const));
    const segs = buildSegments(tel, badSlots);
    await createFilledTable(
      db, 'tel_proc',
      [['proc', 'INTEGER'], ['procedure_id', 'VARCHAR'], ['patient_id', 'VARCHAR'], ['robot_id', 'VARCHAR'], ['slot0', 'BIGINT'],
        ['n', 'BIGINT'], ['start_ms', 'BIGINT'], ['dur_ms', 'BIGINT'], ['arms', 'INTEGER'], ['lat_base', 'DOUBLE'], ['phase', 'DOUBLE']],
      tel.procs.map((p) => {
        const pr = ref.procedures[p.proc];
        return [p.proc, pr?.procedure_id ?? null, pr?.row.patient_id ?? null, pr?.row.robot_id ?? null, p.slot0, p.n,
          pr?.startMs ?? 0, (pr?.endMs ?? 0) - (pr?.startMs ?? 0), p.arms, Math.round(p.latencyBaseMs * 10) / 10, (p.proc % 97) * 0.61];
      }),
    );
    await createFilledTable(
      db, 'tel_seg',
      [['seg', 'INTEGER'], ['proc', 'INTEGER'], ['lo', 'BIGINT'], ['hi', 'BIGINT'], ['step', 'VARCHAR'], ['t0_ms', 'BIGINT'], ['s0', 'BIGINT'],
        ['dt_ms', 'DOUBLE'], ['degraded', 'BOOLEAN'], ['o_set', 'BOOLEAN'], ['o_lat', 'DOUBLE'], ['o_ratio', 'DOUBLE'], ['o_err', 'VARCHAR'], ['bad', 'INTEGER']],
      // A generator, not an array: one short-lived row at a time (25M rows make about 250,000 segments).
      mapIter(segs, (s) => [s.seg, s.proc, s.lo, s.hi, s.step, s.t0Ms, s.s0, s.dtMs, s.degraded, s.override !== null, s.override?.latencyMs ?? null,
        s.override?.forceRatio ?? null, s.override?.errorCode ?? null, s.bad]),
    );
    const stepTypes: ColumnType[] = ['VARCHAR', 'VARCHAR', 'VARCHAR', 'VARCHAR', 'VARCHAR', 'DOUBLE', 'DOUBLE', 'DOUBLE', 'DOUBLE', 'DOUBLE', 'DOUBLE', 'DOUBLE', 'DOUBLE'];
    await createFilledTable(db, 'tel_step', STEP_TABLE_COLUMNS.map((c, i) => [c, stepTypes[i] as ColumnType]), stepTableRows());
    const badCols: [string, ColumnType][] = [['bad', 'INTEGER'], ['line', 'VARCHAR'], ...TELEMETRY_COLUMNS.map((c) => [`x_${c}`, 'VARCHAR'] as [string, ColumnType])];
    await createFilledTable(db, 'tel_bad', badCols, []);
    if (plans.length === 0) return;
    const cols = TELEMETRY_COLUMNS.filter((c) => c !== 'recorded_at').join(', ');
    this.telBad = await this.plantBad(db, ds, 'telemetry', TELEMETRY_COLUMNS, 'tel_bad', badCols, plans,
      (a, b) => `SELECT bad, ${cols}, strftime(epoch_ms(recorded_ms), '%Y-%m-%dT%H:%M:%S.%gZ') AS recorded_at
       FROM (${telemetryRowsSql(o.seed, 0, tel.total, [a, b])}) WHERE bad IS NOT NULL`,
      (pos) => `EV-${String(procOfSlot(tel.procs, pos)?.slot0 ?? 0).padStart(10, '0')}`);
  }

  /**
   * Reads the good values of the planted rows (`goods(a, b)`: a SELECT of `bad`, the plan's index, and the dataset's
   * columns, for the plans a to b - 1), corrupts them in JS and appends the bad rows to `table` for the writers, a
   * chunk at a time; returns what the manifest keeps of each.
   */
  private async plantBad(db: Db, ds: DatasetSchema, name: 'telemetry' | 'vitals', columns: readonly string[], table: string,
    badCols: [string, ColumnType][], plans: BadPlan[], goods: (a: number, b: number) => string, duplicateOf: (pos: number) => string): Promise<PlantedEntry[]> {
    const entries: PlantedEntry[] = [];
    for (let a = 0; a < plans.length; a += BAD_CHUNK) {
      const b = Math.min(plans.length, a + BAD_CHUNK);
      const rows = await db.all<Record<string, unknown>>(goods(a, b));
      const byBad = new Map(rows.map((g) => [Number(g.bad), g]));
      const planted: Planted[] = plans.slice(a, b).map((plan, j) => {
        const g = byBad.get(a + j);
        if (!g) throw new Error(`${name} bad slot ${plan.pos} was not generated`);
        const row: Row = Object.fromEntries(columns.map((c) => [c, g[c] as string | number]));
        return { plan, bad: corruptRow(ds, row, plan, badRng(this.o.seed, name, plan.pos), { duplicateOf: duplicateOf(plan.pos) }) };
      });
      await appendRows(db, table, badCols, planted.map((p, j) => [a + j, this.textLine(ds, p), ...columns.map((c) => textValue(p.bad.row[c]))]));
      for (const p of planted) entries.push(entryOf(p));
    }
    return entries;
  }

  private textLine(ds: DatasetSchema, b: Planted): string | null {
    if (this.o.format === 'csv') return formatCsvLine(b.bad.row, ds.columns, b.bad.fault, b.plan.field ?? undefined);
    if (this.o.format === 'ndjson') return formatJsonLine(b.bad.row, ds.columns);
    return null;
  }

  private async prepareVitals(db: Db): Promise<void> {
    const { o, ref, vit } = this;
    const ds = this.schemas.vitals;
    const c = vit.cadence;
    const HOUR = 3_600_000;
    const slotOf = (globalTick: number, stay: (typeof vit.stays)[number]): number => {
      const t = globalTick - stay.slot0 / 10;
      const due = dueMetrics(t, c);
      return stay.slot0 + t * 10 + (due[(globalTick * 7) % due.length] as number);
    };
    const lastStay = [...vit.stays].reverse().find((s) => s.ticks > 0);
    const plans = planBadRows({
      seed: o.seed, ds, format: o.format, count: this.badCount(vitalsRowsIn(vit, 0, vit.totalSlots)),
      pick: (rng) => {
        if (vit.totalSlots === 0) return null;
        const gt = rng.int(0, vit.totalSlots / 10 - 1);
        const s = stayOfSlot(vit.stays, gt * 10);
        if (!s) return null;
        const t = gt - s.slot0 / 10;
        if (t === 0 || (s === lastStay && t === s.ticks - 1)) return null;
        const ms = s.t0Ms + t * c.intervalMs;
        if (s.det && ms >= s.det.lo - HOUR && ms < s.det.hi) return null;
        return slotOf(gt, s);
      },
      lastPos: lastStay ? lastStay.slot0 + (lastStay.ticks - 1) * 10 + 9 : null,
    });
    await createFilledTable(
      db, 'vit_stay',
      [['stay', 'INTEGER'], ['patient_id', 'VARCHAR'], ['slot0', 'BIGINT'], ['t0_ms', 'BIGINT'], ['o2_until', 'BIGINT'], ['det_lo', 'BIGINT'],
        ['det_hi', 'BIGINT'], ['det_band', 'VARCHAR'], ['b_hr', 'DOUBLE'], ['b_rr', 'DOUBLE'], ['b_spo2', 'DOUBLE'], ['b_sbp', 'DOUBLE'],
        ['b_dbp', 'DOUBLE'], ['b_toff', 'DOUBLE'], ['b_glu', 'DOUBLE'], ['b_wt', 'DOUBLE']],
      vit.stays.map((s) => [s.stay, ref.procedures[s.proc]?.row.patient_id ?? null, s.slot0, s.t0Ms, s.t0Ms + 2 * HOUR,
        s.det?.lo ?? null, s.det?.hi ?? null, s.det?.band ?? null, s.base.hr, s.base.rr, s.base.spo2, s.base.sbp, s.base.dbp,
        s.base.tempOff, s.base.glu, s.base.wt]),
    );
    // Segments: whole stays, cut around each bad tick (one bad reading per tick at most).
    const badAt = new Map(plans.map((p, i) => [Math.floor(p.pos / 10), { i, m: p.pos % 10 }] as const));
    const segRows: (number | null)[][] = [];
    const ticks = [...badAt.keys()].sort((a, b) => a - b);
    let ti = 0;
    for (const s of vit.stays) {
      if (s.ticks === 0) continue;
      const g0 = s.slot0 / 10;
      let t = 0;
      while (ti < ticks.length && (ticks[ti] as number) < g0 + s.ticks) {
        const bt = (ticks[ti] as number) - g0;
        const b = badAt.get(ticks[ti] as number);
        if (bt > t) segRows.push([segRows.length, s.stay, t, bt, null, null]);
        segRows.push([segRows.length, s.stay, bt, bt + 1, b?.i ?? null, b?.m ?? null]);
        t = bt + 1;
        ti++;
      }
      if (t < s.ticks) segRows.push([segRows.length, s.stay, t, s.ticks, null, null]);
    }
    await createFilledTable(
      db, 'vit_seg',
      [['seg', 'INTEGER'], ['stay', 'INTEGER'], ['t_lo', 'BIGINT'], ['t_hi', 'BIGINT'], ['bad', 'INTEGER'], ['bad_m', 'INTEGER']],
      segRows,
    );
    const badCols: [string, ColumnType][] = [['bad', 'INTEGER'], ['line', 'VARCHAR'], ...VITALS_COLUMNS.map((c2) => [`x_${c2}`, 'VARCHAR'] as [string, ColumnType])];
    await createFilledTable(db, 'vit_bad', badCols, []);
    if (plans.length === 0) return;
    this.vitBad = await this.plantBad(db, ds, 'vitals', VITALS_COLUMNS, 'vit_bad', badCols, plans,
      (a, b) => `SELECT * EXCLUDE (measured_ms), strftime(epoch_ms(measured_ms), '%Y-%m-%dT%H:%M:%S.%gZ') AS measured_at
       FROM (${vitalsRowsSql(o.seed, c, 0, vit.totalSlots, [a, b])}) WHERE bad IS NOT NULL`,
      (pos) => `VT-${String(stayOfSlot(vit.stays, pos)?.slot0 ?? 0).padStart(10, '0')}`);
  }

  private buildIncidents(): void {
    const { ref, tel, vit } = this;
    const out: (Incident & { sortMs: number })[] = [];
    for (const inc of tel.incidents) {
      const pr = ref.procedures[inc.proc];
      if (!pr) continue;
      const atMs = this.slotMs(inc.slots[0] as number);
      out.push({
        id: '',
        kind: inc.kind,
        procedure_id: pr.procedure_id,
        patient_id: String(pr.row.patient_id),
        robot_id: String(pr.row.robot_id),
        robot_arm: `arm_${inc.arm + 1}`,
        at: iso(atMs),
        event_ids: inc.slots.map((s) => `EV-${String(s).padStart(10, '0')}`),
        expected: expectedAlert(inc.kind),
        sortMs: atMs,
      });
    }
    for (const s of vit.stays) {
      const pr = ref.procedures[s.proc];
      if (!s.det || !pr) continue;
      out.push({
        id: '',
        kind: 'deterioration',
        procedure_id: pr.procedure_id,
        patient_id: String(pr.row.patient_id),
        robot_id: String(pr.row.robot_id),
        at: iso(s.det.lo),
        expected: { news2_band: s.det.band, hour_start: iso(s.det.lo) },
        sortMs: s.det.lo,
      });
    }
    out.sort((a, b) => a.sortMs - b.sortMs || a.procedure_id.localeCompare(b.procedure_id) || a.kind.localeCompare(b.kind));
    this.incidents = out.map(({ sortMs: _, ...inc }, i) => ({ ...inc, id: pad('INC-', i + 1, 4) }) as Incident);
  }

  /** Rows of each dataset in this shard, for the progress total. */
  private shardRows(name: GeneratedDataset, shard: Shard): number {
    if (name === 'telemetry') {
      const [lo, hi] = shardRange(this.tel.total, shard);
      return hi - lo;
    }
    if (name === 'vitals') {
      const [lo, hi] = shardRange(this.vit.totalSlots, shard);
      return vitalsRowsIn(this.vit, lo, hi);
    }
    const rows = this.jsRows.get(name)?.rows.length ?? 0;
    const [lo, hi] = shardRange(rows, shard);
    return hi - lo;
  }

  async write(db: Db, dir: string, shard: Shard, version: string, hooks: GenerateHooks): Promise<Manifest> {
    const { o } = this;
    const plan = o.datasets.map((d) => ({ dataset: d, rows: this.shardRows(d, shard) }));
    const totalRows = plan.reduce((s, p) => s + p.rows, 0);
    hooks.onEvent?.({ type: 'start', datasets: plan, totalRows });
    const files: ManifestFile[] = [];
    const badRows: ManifestBadRow[] = [];
    let doneRows = 0;
    for (const name of o.datasets) {
      if (hooks.signal?.aborted) throw new InterruptedError();
      const file = `${name}.${extOf(o.format)}`;
      const path = join(dir, file);
      const ds = this.schemas[name];
      const headerLines = o.format === 'csv' ? 1 : 0;
      const entry = (planted: PlantedEntry, row: number): ManifestBadRow => ({
        file, line: row + headerLines, row, key: planted.key, kind: planted.kind, field: planted.field, keyword: planted.keyword,
      });
      let rows: number;
      let digest: { bytes: number; sha256: string } | undefined;
      const before = doneRows;
      const onRead =
        o.format === 'parquet' || !hooks.onEvent
          ? undefined
          : (_bytes: number, lines: number): void => hooks.onEvent?.({ type: 'progress', dataset: name, doneRows: before + Math.max(0, lines - headerLines) });
      if (name === 'telemetry') {
        const [lo, hi] = shardRange(this.tel.total, shard);
        rows = hi - lo;
        digest = await digestWhileWriting(path, this.writeTelemetry(db, ds, lo, hi, path), onRead);
        for (const b of this.telBad) if (b.pos >= lo && b.pos < hi) badRows.push(entry(b, b.pos - lo + 1));
      } else if (name === 'vitals') {
        const [lo, hi] = shardRange(this.vit.totalSlots, shard);
        rows = vitalsRowsIn(this.vit, lo, hi);
        digest = await digestWhileWriting(path, this.writeVitals(db, ds, lo, hi, path), onRead);
        for (const b of this.vitBad) if (b.pos >= lo && b.pos < hi) badRows.push(entry(b, vitalsRowsIn(this.vit, lo, b.pos) + 1));
      } else {
        const all = this.jsRows.get(name);
        if (!all) throw new Error(`no rows built for ${name}`);
        const [lo, hi] = shardRange(all.rows.length, shard);
        rows = hi - lo;
        await writeJsRows(db, ds, o.format, all.rows.slice(lo, hi), path);
        for (const [i, b] of [...all.bad.entries()].sort((a, b2) => a[0] - b2[0])) if (i >= lo && i < hi) badRows.push(entry(entryOf(b), i - lo + 1));
      }
      const { bytes, sha256 } = digest ?? (await fileDigest(path));
      files.push({ path: file, dataset: name, format: o.format, rows, bytes, sha256 });
      doneRows += rows;
      hooks.onEvent?.({ type: 'dataset', dataset: name, rows, bytes, doneRows });
      if (hooks.signal?.aborted) throw new InterruptedError();
    }
    const incidents = this.incidents.filter((inc) => this.incidentInShard(inc, shard));
    return {
      tool: 'surgctl', version, seed: o.seed, reference_date: o.start, options: o, shard: { index: shard.index, count: shard.count },
      files, bad_rows: badRows, incidents,
    };
  }

  /** An incident belongs to the shard holding its first telemetry event, or (deterioration) its first reading. */
  private incidentInShard(inc: Incident, shard: Shard): boolean {
    if (shard.count === 1) return true;
    if (inc.kind === 'deterioration') {
      const s = this.vit.stays.find((x) => this.ref.procedures[x.proc]?.procedure_id === inc.procedure_id);
      if (!s || !s.det) return false;
      const t = Math.ceil((s.det.lo - s.t0Ms) / this.vit.cadence.intervalMs);
      const [lo, hi] = shardRange(this.vit.totalSlots, shard);
      const slot = s.slot0 + t * 10;
      return slot >= lo && slot < hi;
    }
    const slot = Number(inc.event_ids[0]?.slice(3));
    const [lo, hi] = shardRange(this.tel.total, shard);
    return slot >= lo && slot < hi;
  }

  private async writeTelemetry(db: Db, ds: DatasetSchema, lo: number, hi: number, path: string): Promise<void> {
    if (this.o.format === 'parquet') {
      const from = telemetryRowsSql(this.o.seed, lo, hi);
      const cols = TELEMETRY_COLUMNS.map((c) => {
        if (c === 'recorded_at') return `CASE WHEN bad IS NULL THEN epoch_ms(recorded_ms)::TIMESTAMPTZ ELSE CAST(x_recorded_at AS TIMESTAMPTZ) END AS recorded_at`;
        const t = ds.columnTypes[c]?.type === 'number' ? 'DOUBLE' : 'VARCHAR';
        return `CASE WHEN bad IS NULL THEN ${c} ELSE CAST(x_${c} AS ${t}) END AS ${c}`;
      });
      await copyTo(db, `SELECT ${cols.join(', ')} FROM (${from})`, path, PARQUET_OPTIONS);
      return;
    }
    if (ds.columns.join(',') !== TELEMETRY_COLUMNS.join(',')) {
      throw new Error(`the telemetry schema's console columns changed (${ds.columns.join(', ')}): update TELEMETRY_COLUMNS and its line SQL`);
    }
    const lines = telemetryLinesSql(this.o.seed, lo, hi, this.o.format);
    await copyTo(db, lineSelect(this.o.format, ds.columns, 'line', lines), path, lineCopyOptions(this.o.format === 'csv'));
  }

  private async writeVitals(db: Db, ds: DatasetSchema, lo: number, hi: number, path: string): Promise<void> {
    const from = vitalsRowsSql(this.o.seed, this.vit.cadence, lo, hi);
    const ts = `strftime(epoch_ms(measured_ms), '%Y-%m-%dT%H:%M:%S.%gZ')`;
    if (this.o.format === 'parquet') {
      const cols = VITALS_COLUMNS.map((c) => {
        if (c === 'measured_at') return `CASE WHEN bad IS NULL THEN epoch_ms(measured_ms)::TIMESTAMPTZ ELSE CAST(x_measured_at AS TIMESTAMPTZ) END AS measured_at`;
        const t = c === 'value' ? 'DOUBLE' : 'VARCHAR';
        return `CASE WHEN bad IS NULL THEN ${c} ELSE CAST(x_${c} AS ${t}) END AS ${c}`;
      });
      await copyTo(db, `SELECT ${cols.join(', ')} FROM (${from})`, path, PARQUET_OPTIONS);
      return;
    }
    const exprs: Record<string, string> = { reading_id: 'reading_id', patient_id: 'patient_id', metric: 'metric', value: 'value::VARCHAR', unit: 'unit', measured_at: ts };
    const line = `CASE WHEN bad IS NULL THEN ${goodLineSql(this.o.format, ds, exprs)} ELSE bad_line END`;
    await copyTo(db, lineSelect(this.o.format, ds.columns, line, from), path, lineCopyOptions(this.o.format === 'csv'));
  }
}

