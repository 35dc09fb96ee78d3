// AlertStore: the alert browser's data access over a lakehouse file. Opens the database READ-ONLY (a shared lock,
// so `surgctl report` and other readers keep working beside a browser left open for hours) and reopens it
// read-write only for the moment an acknowledgement is written. Pages come a few dozen rows at a time by keyset.
// A browser left open must not keep a load out: DuckDB gives a writer the file only when no reader holds it, so the
// store lets go of its handle between queries as soon as a writer says it is waiting (src/db/merge-gate.ts), and
// opens it again for the next query.
import { copyFileSync, linkSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writerWaiting } from '../../db/merge-gate.js';
import { migrate } from '../../db/migrate.js';
import type { Db, JsonRow } from '../../db/db.js';
import type { Lakehouse } from '../../db/lakehouse.js';
import { ident } from '../../db/sql.js';
import { DatabaseError, IoError, UsageError, toIoError } from '../../errors.js';
import { NEWS2_SCORE_COLUMNS } from '../domain.js';
import { copyQueryTo } from '../export/copy.js';
import type { StageContext } from '../stage.js';
import { TUI_ALTERNATIVE, requireLakehouse } from './preflight.js';
import {
  EMPTY_ACKS, EPISODE_MEMBERS_ON, MODE_COLUMNS, isoMsSql, isoSql, orderSql, pageSql, whereSql, type SqlParams,
} from './queries.js';
import {
  LEVELS, LEVEL_RANK, type Ack, type AckResult, type AlertDetail, type AlertSource, type ArmWindow, type ExportFormat,
  type ExportResult, type Level, type LevelCounts, type ListRow, type News2Hour, type PageRequest,
  type RelatedAlert, type RowKey, type TelemetryEvent, type ViewSpec, type VitalHour,
} from './types.js';

/** Who browses; the lakehouse (its limits, and how long an acknowledgement waits for a lock) is the context's. */
export interface AlertStoreOptions {
  /** Who acknowledges: the CLI passes SURGCTL_USER or the OS user name. */
  user: string;
  /** The clock for acked_at and export names (default: the wall clock). */
  now?: () => Date;
}

/** Half-width of the telemetry window around an alert, in microseconds (30 s). */
const WINDOW_US = 30_000_000n;
/** How often an open store checks for a waiting writer, in ms. */
const WRITER_POLL_MS = 100;

/**
 * Opens the context's lakehouse for browsing. Throws UsageError (exit 2) when the file does not exist or has no
 * alerts mart, DatabaseError when it is locked by a writer or is not a DuckDB file.
 */
export async function openAlertStore(options: AlertStoreOptions, ctx: Pick<StageContext, 'lake'>): Promise<AlertStore> {
  const { path } = ctx.lake;
  requireLakehouse(path);
  const store = new AlertStore(ctx.lake, options);
  try {
    await store.open();
  } catch (e) {
    store.close();
    throw e;
  }
  if (!store.hasTable('alerts')) {
    store.close();
    throw new UsageError(`${path} has no alerts mart: run \`surgctl transform\` first; ${TUI_ALTERNATIVE}`);
  }
  return store;
}

/** The FROM clause (alias `a`, bound as $id) of the alerts an acknowledgement of `row` covers: it, or its episode's. */
function ackedAlertsSql(row: ListRow): string {
  return row.kind === 'alert'
    ? 'FROM alerts a WHERE a.alert_id = $id'
    : `FROM alert_episodes e JOIN alerts a ON ${EPISODE_MEMBERS_ON} WHERE e.episode_id = $id`;
}

export class AlertStore implements AlertSource {
  readonly path: string;
  private readonly lake: Lakehouse;
  private db: Db | undefined;
  private tables = new Set<string>();
  private readonly options: AlertStoreOptions;
  /** A private folder the sealed read-only handle may write exports into (the only writable path it has). */
  private staging: string | undefined;
  /** Queries running on the handle now: it is let go for a writer only between queries. */
  private inflight = 0;
  /** Checks every WRITER_POLL_MS whether a writer waits for the file, while the handle is open. */
  private watcher: NodeJS.Timeout | undefined;
  /** The handle's queries, each reopening the file first when the handle was let go for a writer. */
  private readonly conn = {
    all: <T extends JsonRow = JsonRow>(sql: string, params?: SqlParams): Promise<T[]> => this.use((db) => db.all<T>(sql, params)),
    scalar: <T = unknown>(sql: string, params?: SqlParams): Promise<T | undefined> => this.use((db) => db.scalar<T>(sql, params)),
  };

  constructor(lake: Lakehouse, options: AlertStoreOptions) {
    this.lake = lake;
    this.path = lake.path;
    this.options = options;
  }

  /** Opens (or reopens) the read-only handle and notes which marts exist. */
  async open(): Promise<void> {
    this.staging ??= mkdtempSync(join(tmpdir(), 'surgctl-tui-export-'));
    try {
      this.db = await this.lake.openReader({ writePaths: [this.staging] });
    } catch (e) {
      this.release();
      throw e;
    }
    const rows = await this.db.all<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'main'",
    );
    this.tables = new Set(rows.map((r) => r.name));
    this.watcher ??= setInterval(() => {
      if (this.db !== undefined && this.inflight === 0 && writerWaiting(this.path)) this.release();
    }, WRITER_POLL_MS).unref();
  }

  /** True while the read-only handle is open (false after it was let go for a writer, until the next query). */
  get isOpen(): boolean {
    return this.db !== undefined;
  }

  /** Runs fn on the read-only handle, reopening it first when it was let go for a writer. */
  private async use<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    this.inflight++;
    try {
      if (this.db === undefined) {
        if (this.staging === undefined) throw new DatabaseError('db_closed', `the alert store for ${this.path} is closed`);
        await this.open();
      }
      return await fn(this.db as Db);
    } finally {
      this.inflight--;
    }
  }

  /** Closes the read-only handle (releasing the file for a writer); the next query opens it again. */
  private release(): void {
    this.db?.close();
    this.db = undefined;
  }

  hasTable(name: string): boolean {
    return this.tables.has(name);
  }

  close(): void {
    this.release();
    if (this.watcher !== undefined) clearInterval(this.watcher);
    this.watcher = undefined;
    if (this.staging !== undefined) rmSync(this.staging, { recursive: true, force: true });
    this.staging = undefined;
  }

  private get acks(): string {
    return this.tables.has('alert_acks') ? ident('alert_acks') : EMPTY_ACKS;
  }

  private now(): Date {
    return this.options.now ? this.options.now() : new Date();
  }

  async counts(spec: ViewSpec): Promise<LevelCounts> {
    const m = MODE_COLUMNS[spec.mode];
    const params: SqlParams = {};
    const where = whereSql(spec, params, { allLevels: true });
    // Grouping by the integer rank is ~3x faster than by the level text on a million alerts.
    const rows = await this.conn.all<{ rank: number; n: number }>(
      `SELECT level_rank AS rank, count(*)::INTEGER AS n FROM ${ident(m.table)} WHERE ${where} GROUP BY level_rank`,
      params,
    );
    const counts: LevelCounts = { medium: 0, high: 0, critical: 0, total: 0, inView: 0, acked: 0 };
    for (const r of rows) {
      counts.total += r.n;
      const level = LEVELS.find((l) => LEVEL_RANK[l] === r.rank);
      if (level === undefined) continue;
      counts[level] += r.n;
      if (r.rank >= LEVEL_RANK[spec.minLevel]) counts.inView += r.n;
    }
    if (this.tables.has('alert_acks')) counts.acked = await this.countAcked(spec);
    return counts;
  }

  private async countAcked(spec: ViewSpec): Promise<number> {
    const params: SqlParams = {};
    if (spec.mode === 'alerts') {
      const where = whereSql(spec, params, { allLevels: true });
      const n = await this.conn.scalar<number>(
        `SELECT count(*)::INTEGER FROM alerts WHERE ${where} AND alert_id IN (SELECT alert_id FROM alert_acks)`,
        params,
      );
      return n ?? 0;
    }
    const where = whereSql(spec, params, { allLevels: true });
    const n = await this.conn.scalar<number>(
      `SELECT count(*)::INTEGER FROM (
         SELECT e.episode_id, any_value(e.alerts) AS alerts, count(*) AS acked
         FROM (SELECT * FROM alert_episodes WHERE ${where}) e JOIN alerts a ON ${EPISODE_MEMBERS_ON}
         JOIN alert_acks k ON k.alert_id = a.alert_id
         GROUP BY e.episode_id) WHERE acked >= alerts`,
      params,
    );
    return n ?? 0;
  }

  async page(spec: ViewSpec, request: PageRequest): Promise<ListRow[]> {
    const params: SqlParams = { limit: request.limit };
    const keyset = request.after
      ? { side: 'after' as const, key: request.after }
      : request.before
        ? { side: 'before' as const, key: request.before }
        : undefined;
    const reverse = request.before !== undefined || (request.fromEnd === true && request.after === undefined);
    const where = whereSql(spec, params, { keyset });
    const rows = await this.conn.all(pageSql(spec, where, reverse, this.acks), params);
    const out = rows.map((r) => toListRow(spec, r));
    return reverse ? out.reverse() : out;
  }

  async rankOf(spec: ViewSpec, key: RowKey): Promise<number> {
    const params: SqlParams = {};
    const where = whereSql(spec, params, { keyset: { side: 'before', key } });
    const n = await this.conn.scalar<number>(
      `SELECT count(*)::INTEGER FROM ${ident(MODE_COLUMNS[spec.mode].table)} WHERE ${where}`,
      params,
    );
    return n ?? 0;
  }

  async detail(row: ListRow, options: { buckets?: number; relatedLimit?: number } = {}): Promise<AlertDetail> {
    const buckets = Math.max(4, Math.min(240, options.buckets ?? 60));
    const relatedLimit = Math.max(1, options.relatedLimit ?? 8);
    const missing: string[] = [];
    let triggers: string[] = [];
    let errorCode: string | null = null;
    let event: TelemetryEvent | null = null;
    let fromUs = BigInt(row.key.atUs) - WINDOW_US;
    let toUs = BigInt(row.key.atUs) + WINDOW_US;
    if (row.kind === 'alert') {
      const a = (await this.conn.all<{ event_id: string | null; triggers: string[] | null; error_code: string | null }>(
        'SELECT event_id, triggers, error_code FROM alerts WHERE alert_id = $id', { id: row.id },
      ))[0];
      triggers = a?.triggers ?? [];
      errorCode = a?.error_code ?? null;
      if (!this.tables.has('telemetry_risk')) missing.push('telemetry_risk');
      else if (a?.event_id) event = await this.event(a.event_id);
    } else {
      const endUs = await this.conn.scalar<string>(
        'SELECT epoch_us(ended_at)::VARCHAR FROM alert_episodes WHERE episode_id = $id', { id: row.id },
      );
      if (endUs !== undefined && endUs !== null) toUs = BigInt(endUs) + WINDOW_US;
      fromUs = BigInt(row.key.atUs) - WINDOW_US;
    }
    const window = this.tables.has('telemetry_risk') ? await this.armWindow(row, fromUs, toUs, buckets) : null;
    const hour = hourOf(row.key.atUs);
    let vitals: VitalHour[] | null = null;
    let vitalsHour: string | null = null;
    if (this.tables.has('vitals_hourly')) {
      vitalsHour = await this.nearestHour('vitals_hourly', row.patientId, hour);
      vitals = vitalsHour === null ? [] : await this.vitalsOfHour(row.patientId, vitalsHour);
    } else missing.push('vitals_hourly');
    let news2: News2Hour | null = null;
    let news2Hour: string | null = null;
    if (this.tables.has('news2_hourly')) {
      news2Hour = await this.nearestHour('news2_hourly', row.patientId, hour);
      const n = news2Hour === null ? undefined : (await this.conn.all(
        `SELECT news2_total::INTEGER AS total, news2_band AS band, missing, ${NEWS2_SCORE_COLUMNS.map((c) => `${ident(c)}::INTEGER AS ${ident(c)}`).join(', ')}
         FROM news2_hourly WHERE patient_id = $p AND hour_start = $h::TIMESTAMPTZ`,
        { p: row.patientId, h: news2Hour },
      ))[0];
      if (n) {
        news2 = {
          total: (n.total as number | null) ?? null,
          band: (n.band as string | null) ?? null,
          missing: (n.missing as string[] | null) ?? [],
          scores: Object.fromEntries(NEWS2_SCORE_COLUMNS.map((c) => [c.replace(/_score$/, ''), (n[c] as number | null) ?? null])),
        };
      }
    } else missing.push('news2_hourly');
    const related = row.kind === 'alert' ? await this.procedureAlerts(row, relatedLimit) : await this.episodeAlerts(row, relatedLimit);
    return { row, triggers, errorCode, event, window, hour, vitals, vitalsHour, news2, news2Hour, related, missing };
  }

  /**
   * The patient's hour in `table` nearest to `hour` (the same hour when it has rows; an earlier one on a tie), as
   * ISO; null when the patient has none. Intra-operative alerts often fall before the first post-operative vitals.
   */
  private async nearestHour(table: 'vitals_hourly' | 'news2_hourly', patientId: string, hour: string): Promise<string | null> {
    const h = await this.conn.scalar<string>(
      `SELECT ${isoMsSql('hour_start')} FROM ${ident(table)} WHERE patient_id = $p
       ORDER BY abs(epoch_us(hour_start) - epoch_us($h::TIMESTAMPTZ)), hour_start LIMIT 1`,
      { p: patientId, h: hour },
    );
    return h ?? null;
  }

  /**
   * The patient's vitals_hourly rows of one hour, by metric, with the count of alarming readings (null when the
   * lakehouse's vitals_hourly was built before the two tiers and lacks alarming_n). The alarming range itself lives in
   * the rules of the transform run (a TEMP table of that session), so it is not shown here.
   */
  private async vitalsOfHour(patientId: string, hour: string): Promise<VitalHour[]> {
    const hasAlarming = (await this.conn.scalar<number>(
      `SELECT count(*)::INTEGER FROM information_schema.columns
       WHERE table_schema = 'main' AND table_name = 'vitals_hourly' AND column_name = 'alarming_n'`,
    )) === 1;
    return this.conn.all<VitalHour & JsonRow>(
      `SELECT metric, n::INTEGER AS n, ${ident('min')}::DOUBLE AS min, ${ident('max')}::DOUBLE AS max,
              ${ident('avg')}::DOUBLE AS avg, p95::DOUBLE AS p95,
              ${hasAlarming ? 'alarming_n::INTEGER' : 'NULL::INTEGER'} AS ${ident('alarmingN')}
       FROM vitals_hourly WHERE patient_id = $p AND hour_start = $h::TIMESTAMPTZ ORDER BY metric`,
      { p: patientId, h: hour },
    );
  }

  private async event(eventId: string): Promise<TelemetryEvent | null> {
    const r = (await this.conn.all(
      `SELECT event_id, ${isoMsSql('recorded_at')} AS recorded_at, instrument, step, force_n::DOUBLE AS force_n,
              velocity_mm_s::DOUBLE AS velocity_mm_s, latency_ms::DOUBLE AS latency_ms, error_code,
              latency_score::INTEGER AS latency_score, force_score::INTEGER AS force_score,
              error_score::INTEGER AS error_score, force_spike, risk_score::INTEGER AS risk_score, risk_level
       FROM telemetry_risk WHERE event_id = $id LIMIT 1`,
      { id: eventId },
    ))[0];
    if (!r) return null;
    const v = <T>(k: string): T | null => (r[k] ?? null) as T | null;
    return {
      eventId: String(r.event_id), recordedAt: String(r.recorded_at), instrument: v('instrument'), step: v('step'),
      forceN: v('force_n'), velocityMmS: v('velocity_mm_s'), latencyMs: v('latency_ms'), errorCode: v('error_code'),
      latencyScore: v('latency_score'), forceScore: v('force_score'), errorScore: v('error_score'),
      forceSpike: v('force_spike'), riskScore: v('risk_score'), riskLevel: v('risk_level'),
    };
  }

  /** The arm's telemetry between fromUs and toUs, folded into `buckets` cells (max force and latency per cell). */
  private async armWindow(row: ListRow, fromUs: bigint, toUs: bigint, buckets: number): Promise<ArmWindow> {
    const span = toUs - fromUs;
    const rows = await this.conn.all<{ b: number; f: number | null; l: number | null; c: number }>(
      `SELECT least(floor((epoch_us(recorded_at) - $from::BIGINT) * $n / $span::BIGINT)::INTEGER, $n - 1) AS b,
              max(force_n)::DOUBLE AS f, max(latency_ms)::DOUBLE AS l, count(*)::INTEGER AS c
       FROM telemetry_risk
       WHERE procedure_id = $p AND robot_id = $r AND robot_arm = $arm
         AND recorded_at BETWEEN make_timestamptz($from::BIGINT) AND make_timestamptz($to::BIGINT)
       GROUP BY b ORDER BY b`,
      { from: fromUs, to: toUs, span, n: buckets, p: row.procedureId, r: row.robotId, arm: row.robotArm },
    );
    const force: (number | null)[] = new Array<number | null>(buckets).fill(null);
    const latency: (number | null)[] = new Array<number | null>(buckets).fill(null);
    let events = 0;
    for (const r of rows) {
      if (r.b < 0 || r.b >= buckets) continue;
      force[r.b] = r.f;
      latency[r.b] = r.l;
      events += r.c;
    }
    return {
      from: usToIso(fromUs), to: usToIso(toUs), bucketSeconds: Number(span) / 1e6 / buckets, force, latency, events,
    };
  }

  private relatedSelect(): string {
    return `a.alert_id, ${isoSql('a."at"')} AS at_iso, a.level, a.risk_score::INTEGER AS risk_score, a.robot_arm,
            a.step, a.reason, k.alert_id IS NOT NULL AS acked`;
  }

  private async procedureAlerts(row: ListRow, limit: number): Promise<AlertDetail['related']> {
    const params = { p: row.procedureId, id: row.id, at: BigInt(row.key.atUs), limit };
    const total = await this.conn.scalar<number>(
      'SELECT count(*)::INTEGER FROM alerts WHERE procedure_id = $p AND alert_id <> $id', { p: row.procedureId, id: row.id },
    );
    // The nearest in time first, then shown in time order.
    const rows = await this.conn.all(
      `SELECT * FROM (
         SELECT ${this.relatedSelect()}, epoch_us(a."at") AS us FROM alerts a LEFT JOIN ${this.acks} k ON k.alert_id = a.alert_id
         WHERE a.procedure_id = $p AND a.alert_id <> $id
         ORDER BY abs(epoch_us(a."at") - $at::BIGINT), a.alert_id LIMIT $limit)
       ORDER BY us, alert_id`,
      params,
    );
    return { title: `other alerts of procedure ${row.procedureId}`, total: total ?? 0, rows: rows.map(toRelated) };
  }

  private async episodeAlerts(row: ListRow, limit: number): Promise<AlertDetail['related']> {
    const from = `FROM alert_episodes e JOIN alerts a ON ${EPISODE_MEMBERS_ON} LEFT JOIN ${this.acks} k ON k.alert_id = a.alert_id
                  WHERE e.episode_id = $id`;
    const total = await this.conn.scalar<number>(`SELECT count(*)::INTEGER ${from}`, { id: row.id });
    const rows = await this.conn.all(
      `SELECT ${this.relatedSelect()} ${from} ORDER BY a.risk_score DESC, a."at", a.alert_id LIMIT $limit`,
      { id: row.id, limit },
    );
    return { title: `alerts in episode ${row.id}`, total: total ?? 0, rows: rows.map(toRelated) };
  }

  /**
   * Acknowledges an alert, or every alert of an episode, as this store's user: an alert_acks row per alert
   * (kept if one exists). Closes the read-only handle, holds the file read-write for the write only, reopens.
   * Throws DatabaseError('db_locked') when another process holds the file longer than lockTimeoutMs.
   */
  async acknowledge(row: ListRow, note: string | null): Promise<AckResult> {
    const ackedAt = this.now().toISOString();
    const by = this.options.user;
    return this.withWritable('acknowledge', async (rw) => {
      const source = ackedAlertsSql(row);
      const total = (await rw.scalar<number>(`SELECT count(*)::INTEGER ${source}`, { id: row.id })) ?? 0;
      const inserted = await rw.transaction(async () => {
        const added = await rw.all(
          `INSERT INTO alert_acks (alert_id, acked_by, acked_at, note)
           SELECT a.alert_id, $by, $at::TIMESTAMPTZ, $note ${source}
           ON CONFLICT DO NOTHING RETURNING alert_id`,
          { id: row.id, by, at: ackedAt, note },
        );
        await historyInsert(rw, added.map((r) => String(r.alert_id)), 'ack', by, ackedAt, note);
        return added;
      });
      const ackRow = (await rw.all(
        `SELECT k.alert_id, k.acked_by, ${isoSql('k.acked_at')} AS acked_at, k.note
         FROM alert_acks k WHERE k.alert_id = ${row.kind === 'alert' ? '$id' : `(SELECT min(a.alert_id) ${source})`}`,
        { id: row.id },
      ))[0];
      return {
        added: inserted.length,
        already: total - inserted.length,
        ack: ackRow ? toAck(ackRow) : null,
      };
    });
  }

  /**
   * Withdraws the acknowledgement of an alert, or of every acknowledged alert of an episode: the alert_acks rows
   * go, and alert_ack_history keeps the acknowledgement and gains an 'unack' row with who, when and the note.
   * Throws DatabaseError('db_locked') as acknowledge does.
   */
  async unacknowledge(row: ListRow, note: string | null): Promise<{ removed: number }> {
    const at = this.now().toISOString();
    const by = this.options.user;
    return this.withWritable('withdraw the acknowledgement', async (rw) => {
      const source = ackedAlertsSql(row);
      const removed = await rw.transaction(async () => {
        const gone = await rw.all(`DELETE FROM alert_acks WHERE alert_id IN (SELECT a.alert_id ${source}) RETURNING alert_id`, { id: row.id });
        await historyInsert(rw, gone.map((r) => String(r.alert_id)), 'unack', by, at, note);
        return gone.length;
      });
      return { removed };
    });
  }

  /**
   * Runs `fn` on the file held read-write: closes the read-only handle, opens read-write (waiting up to
   * lockTimeoutMs) and migrates; the next query reopens read-only. A lock held too long becomes
   * DatabaseError('db_locked') "cannot <action> now: ...".
   */
  private async withWritable<T>(action: string, fn: (rw: Db) => Promise<T>): Promise<T> {
    this.release();
    let rw: Db | undefined;
    try {
      rw = await this.lake.openWritable();
      // A lakehouse from a newer surgctl is never written, not even an acknowledgement (migrate refuses it before
      // any write); an older one gains alert_acks from migration 003.
      await migrate(rw);
      this.tables.add('alert_acks'); // migrate made it if it was missing; queries built before the reopen use it
      return await fn(rw);
    } catch (e) {
      if (e instanceof DatabaseError && e.code === 'db_locked') {
        throw new DatabaseError('db_locked', `cannot ${action} now: ${this.path} is in use by another process; try again`, { cause: e });
      }
      throw e;
    } finally {
      rw?.close(); // the next query opens the read-only handle again (and sees alert_acks if migrate made it)
    }
  }

  /**
   * Writes the whole current view (filters and sort; not the search) to a new file in `dir`, named
   * surgctl-<mode>-<UTC stamp>[-N].<csv|json>; never replaces an existing file. JSON is one array of objects.
   */
  async exportView(spec: ViewSpec, format: ExportFormat, dir: string): Promise<ExportResult> {
    const m = MODE_COLUMNS[spec.mode];
    const params: SqlParams = {};
    const where = whereSql(spec, params);
    const order = orderSql(spec);
    let select: string;
    if (spec.mode === 'alerts') {
      const triggers = format === 'csv' ? "array_to_string(v.triggers, ';') AS triggers" : 'v.triggers';
      select = `WITH v AS (SELECT *, row_number() OVER (ORDER BY ${order}) AS _ord FROM alerts WHERE ${where})
        SELECT v.alert_id, v.level, v.risk_score, ${isoMsSql('v."at"')} AS "at", v.patient_id, v.procedure_id, v.robot_id,
               v.robot_arm, v.instrument, v.step, ${triggers}, v.reason, v.error_code, k.acked_by,
               ${isoSql('k.acked_at')} AS acked_at, k.note AS ack_note
        FROM v LEFT JOIN ${this.acks} k ON k.alert_id = v.alert_id ORDER BY v._ord`;
    } else {
      select = `WITH v AS (SELECT *, row_number() OVER (ORDER BY ${order}) AS _ord FROM alert_episodes WHERE ${where}),
        x AS (SELECT e.episode_id, count(*)::INTEGER AS acked FROM v e JOIN alerts a ON ${EPISODE_MEMBERS_ON}
              JOIN ${this.acks} k ON k.alert_id = a.alert_id GROUP BY e.episode_id)
        SELECT v.episode_id, v.level, v.risk_score, ${isoMsSql('v.started_at')} AS started_at,
               ${isoMsSql('v.ended_at')} AS ended_at, v.alerts, coalesce(x.acked, 0) AS alerts_acked, v.patient_id,
               v.procedure_id, v.robot_id, v.robot_arm, v.reason
        FROM v LEFT JOIN x ON x.episode_id = v.episode_id ORDER BY v._ord`;
    }
    const stamp = this.now().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const base = `surgctl-${m.table === 'alerts' ? 'alerts' : 'episodes'}-${stamp}`;
    const tmp = join(dir, `.${base}.${process.pid}.tmp`);
    const staged = join(this.staging ?? dir, `${base}.${format}`);
    try {
      // DuckDB writes only into the private staging folder (the handle is sealed); the file is then copied
      // beside its target and linked to a free name.
      const rows = await this.use((db) => copyQueryTo(db, select, params, staged, { format }));
      try {
        copyFileSync(staged, tmp);
      } catch (e) {
        throw toIoError(dir, e, 'write into');
      }
      const path = linkUnique(tmp, dir, base, format);
      return { path, rows, format };
    } finally {
      rmSync(tmp, { force: true });
      rmSync(staged, { force: true });
    }
  }
}

/** Links tmp to the first free name base[-N].ext in dir (a link fails rather than replace a file). */
function linkUnique(tmp: string, dir: string, base: string, ext: string): string {
  for (let n = 1; n < 10_000; n++) {
    const path = join(dir, `${base}${n === 1 ? '' : `-${n}`}.${ext}`);
    try {
      linkSync(tmp, path);
      return path;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw toIoError(path, e, 'write');
    }
  }
  throw new IoError(join(dir, base), `no free export name for ${base} in ${dir}`);
}

function toListRow(spec: ViewSpec, r: JsonRow): ListRow {
  const kind = spec.mode === 'alerts' ? 'alert' : 'episode';
  const ack = kind === 'alert' && r.acked_by !== null && r.acked_by !== undefined ? toAck({ ...r, alert_id: r.id }) : null;
  return {
    kind,
    id: String(r.id),
    level: r.level as Level,
    levelRank: Number(r.level_rank),
    riskScore: Number(r.risk_score),
    at: String(r.at_iso),
    endedAt: (r.ended_iso as string | null) ?? null,
    patientId: String(r.patient_id),
    procedureId: String(r.procedure_id),
    robotId: String(r.robot_id),
    robotArm: String(r.robot_arm),
    step: (r.step as string | null) ?? null,
    instrument: (r.instrument as string | null) ?? null,
    reason: String(r.reason ?? ''),
    alerts: Number(r.alerts),
    acked: Number(r.acked ?? 0),
    ack,
    key: {
      risk: Number(r.risk_score), atUs: String(r.at_us), id: String(r.id), rank: Number(r.level_rank),
      patient: String(r.patient_id), procedure: String(r.procedure_id), arm: String(r.robot_arm),
    },
  };
}

/** One alert_ack_history row per alert id (the table is append-only: acknowledgements and their withdrawals). */
async function historyInsert(db: Db, ids: string[], action: 'ack' | 'unack', by: string, at: string, note: string | null): Promise<void> {
  for (const id of ids) {
    await db.run(
      'INSERT INTO alert_ack_history (alert_id, action, acted_by, acted_at, note) VALUES ($id, $action, $by, $at::TIMESTAMPTZ, $note)',
      { id, action, by, at, note },
    );
  }
}

function toAck(r: JsonRow): Ack {
  return {
    alertId: String(r.alert_id),
    ackedBy: String(r.acked_by),
    ackedAt: String(r.acked_at),
    note: (r.note as string | null) ?? null,
  };
}

function toRelated(r: JsonRow): RelatedAlert {
  return {
    alertId: String(r.alert_id),
    at: String(r.at_iso),
    level: r.level as Level,
    riskScore: Number(r.risk_score),
    robotArm: String(r.robot_arm),
    step: (r.step as string | null) ?? null,
    reason: String(r.reason ?? ''),
    acked: r.acked === true,
  };
}

function usToIso(us: bigint): string {
  return new Date(Number(us / 1000n)).toISOString();
}

/** The UTC hour (ISO) that contains the instant `atUs` (epoch microseconds). */
function hourOf(atUs: string): string {
  const ms = Number(BigInt(atUs) / 1000n);
  return new Date(ms - (((ms % 3_600_000) + 3_600_000) % 3_600_000)).toISOString();
}
