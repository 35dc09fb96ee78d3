// Telemetry: the plan in JS (rows per procedure, step segments, network-degradation episodes, planted incidents,
// bad-row slots) and the SQL that turns it into rows. Every row is a pure function of its global slot number k and
// its segment: values come from hash(seed, k), so any slot range (a shard) produces the same bytes as the whole
// run, and DuckDB writes rows in slot order (unnest keeps order; no sort needed).
import { ERROR_CODES, INSTRUMENT_FORCE_LIMIT_N, MINOR_ERROR_CODES, SEVERE_ERROR_CODES, type ErrorCode } from '../domain.js';
import { createRng } from './rng.js';
import { ASSIST_FORCE, ASSIST_VELOCITY, CAMERA_FORCE, CAMERA_VELOCITY, STEP_PROFILES, stepWeights, type StepName } from './profiles.js';
import type { Reference } from './reference.js';
import type { ResolvedOptions } from './options.js';

/** One recording window: the samples of one step, at the telemetry rate, centred in the step's share of the
 *  procedure's time (a window longer than its step is squeezed into it). */
export interface TelStep {
  step: StepName;
  /** Local slot of the window's first row (s0 * arms). */
  lo: number;
  /** Local sample index of the window's first sample. */
  s0: number;
  samples: number;
  /** recorded_at of sample s0 (epoch ms). */
  t0Ms: number;
  /** Milliseconds between samples: 1000 / hz, or less when the window is squeezed into its step. */
  dtMs: number;
}

export interface TelProc {
  proc: number;
  /** Global slot of the procedure's first row. */
  slot0: number;
  n: number;
  arms: number;
  latencyBaseMs: number;
  /** The recording windows in time order; steps[i] starts at local slot steps[i].lo. */
  steps: TelStep[];
  /** Local slot range of a network-degradation episode, or null. */
  degraded: [number, number] | null;
}

export interface Override {
  slot: number;
  latencyMs: number | null;
  forceRatio: number | null;
  errorCode: ErrorCode | '' | null;
}

export type RobotIncidentKind = 'latency_spike' | 'force_overload' | 'severe_error' | 'combined' | 'network_degradation';

export interface RobotIncidentPlan {
  kind: RobotIncidentKind;
  proc: number;
  arm: number;
  slots: number[];
}

export interface TelemetryPlan {
  procs: TelProc[];
  total: number;
  overrides: Map<number, Override>;
  incidents: RobotIncidentPlan[];
}

/** Splits `total` in proportion to `weights`, exactly (largest remainder). */
export function apportion(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) return weights.map(() => 0);
  const raw = weights.map((w) => (total * w) / sum);
  const out = raw.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    out[i] = (out[i] as number) + 1;
    left--;
  }
  return out;
}

/** A procedure records one window per step while each window can hold this many seconds, else fewer windows
 *  (steps drawn by their share of the time): short sparse windows would show no shape. */
export const MIN_WINDOW_S = 15;

/**
 * The telemetry plan. Rows per procedure: --telemetry-rows apportioned by procedure duration, or (--telemetry-hz
 * alone) every second of every procedure at that rate. Within a procedure the rows are samples of all arms at
 * `hz`, recorded in windows: one per step (the heaviest steps when there are too few samples for a window of
 * MIN_WINDOW_S per step, drawn by weight), each centred in its step's share of the procedure's time.
 */
export function planTelemetry(o: ResolvedOptions, ref: Reference): TelemetryPlan {
  const hz = o.telemetry_hz;
  const durations = ref.procedures.map((p) => p.endMs - p.startMs);
  const counts =
    o.telemetry_rows === null
      ? ref.procedures.map((p, i) => Math.round(((durations[i] as number) / 1000) * hz * (ref.robots[p.robot]?.arms ?? 1)))
      : apportion(o.telemetry_rows, durations);
  const procs: TelProc[] = [];
  let slot = 0;
  for (const p of ref.procedures) {
    const rng = createRng(o.seed, `telemetry:${p.idx}`);
    const n = counts[p.idx] as number;
    const robot = ref.robots[p.robot];
    const arms = robot?.arms ?? 1;
    const w = stepWeights(p.type);
    const names = (Object.keys(w) as StepName[]).filter((s) => w[s] > 0);
    const weights = names.map((s) => w[s] * rng.range(0.8, 1.2));
    const spans = apportion(p.endMs - p.startMs, weights);
    const samples = Math.ceil(n / arms);
    const windows = Math.max(1, Math.min(names.length, Math.floor(samples / (MIN_WINDOW_S * hz))));
    // Which steps are recorded: drawn by weight without replacement, so across procedures every step appears in
    // proportion to its share of the time, while each window stays long enough to show shape.
    const pool = names.map((_, i) => i);
    const chosen: number[] = [];
    while (chosen.length < windows) {
      const total = pool.reduce((a, i) => a + (weights[i] as number), 0);
      let u = rng.next() * total;
      let k = 0;
      while (k < pool.length - 1 && u >= (weights[pool[k] as number] as number)) u -= weights[pool[k++] as number] as number;
      chosen.push(...pool.splice(k, 1));
    }
    chosen.sort((a, b) => a - b);
    const sizes = apportion(samples, chosen.map((i) => weights[i] as number));
    const steps: TelStep[] = [];
    let s0 = 0;
    chosen.forEach((i, k) => {
      const m = sizes[k] as number;
      if (m === 0) return;
      const spanStart = p.startMs + spans.slice(0, i).reduce((a, b) => a + b, 0);
      const span = spans[i] as number;
      const win = (m * 1000) / hz;
      const squeezed = win >= span;
      steps.push({
        step: names[i] as StepName,
        lo: s0 * arms,
        s0,
        samples: m,
        t0Ms: squeezed ? spanStart : spanStart + Math.floor((span - win) / 2),
        dtMs: squeezed ? span / m : 1000 / hz,
      });
      s0 += m;
    });
    let degraded: [number, number] | null = null;
    if (n >= 50 && rng.chance(0.3)) {
      const a = rng.int(Math.floor(n * 0.1), Math.floor(n * 0.8));
      degraded = [a, Math.min(n, a + Math.max(1, Math.floor(n * rng.range(0.05, 0.15))))];
    }
    procs.push({ proc: p.idx, slot0: slot, n, arms, latencyBaseMs: robot?.latencyBaseMs ?? 25, steps, degraded });
    slot += n;
  }
  const overrides = new Map<number, Override>();
  const incidents = planRobotIncidents(o, procs, overrides);
  return { procs, total: slot, overrides, incidents };
}

/** recorded_at (epoch ms) of local slot `local` of a procedure: the same arithmetic as the SQL in telemetrySql. */
export function slotTimeMs(p: TelProc, local: number): number {
  const samp = Math.floor(local / p.arms);
  let st = p.steps[0];
  for (const s of p.steps) if (s.s0 <= samp) st = s;
  if (!st) throw new Error(`procedure ${p.proc} has no telemetry window`);
  return st.t0Ms + Math.floor((samp - st.s0) * st.dtMs);
}

const ROBOT_KINDS: RobotIncidentKind[] = ['latency_spike', 'force_overload', 'severe_error', 'combined', 'network_degradation'];

/** Consecutive samples an incident lasts, per kind: [min, max]. At the default 10 Hz a few tenths of a second
 *  for a spike, overload or error burst and one to two seconds for a degraded link, so each forms one alert
 *  episode of several alerts. */
const INCIDENT_SAMPLES: Record<RobotIncidentKind, [number, number]> = {
  latency_spike: [3, 6],
  force_overload: [2, 5],
  severe_error: [2, 4],
  combined: [2, 4],
  network_degradation: [8, 20],
};

function planRobotIncidents(o: ResolvedOptions, procs: TelProc[], overrides: Map<number, Override>): RobotIncidentPlan[] {
  const rng = createRng(o.seed, 'robot-incidents');
  const eligible = procs.filter((p) => p.n >= 40 * p.arms);
  const count = Math.min(eligible.length, Math.round(o.incidents * procs.length));
  const chosen = rng.shuffle([...eligible]).slice(0, count).sort((a, b) => a.proc - b.proc);
  const kinds = rng.shuffle([...ROBOT_KINDS]);
  const out: RobotIncidentPlan[] = [];
  const r1 = (x: number): number => Math.round(x * 10) / 10;
  chosen.forEach((p, i) => {
    const kind = kinds[i % kinds.length] as RobotIncidentKind;
    // A working arm (not the camera on arm_2), in the middle of the longest window, so the incident's samples are
    // consecutive in time (a window boundary would split it into two episodes).
    const workingArms = p.arms === 1 ? [0] : p.arms === 3 ? [0, 2] : [0, 2, 3];
    const arm = rng.pick(workingArms);
    const full = Math.floor(p.n / p.arms);
    const win = p.steps.reduce((best, s) => (s.samples > best.samples ? s : best), p.steps[0] as TelStep);
    const last = Math.min(win.s0 + win.samples, full);
    const [lenLo, lenHi] = INCIDENT_SAMPLES[kind];
    const len = Math.max(1, Math.min(rng.int(lenLo, lenHi), last - win.s0 - 2));
    const s0 = rng.int(win.s0 + Math.floor((last - win.s0 - len) * 0.2), win.s0 + Math.floor((last - win.s0 - len) * 0.8));
    const slots: number[] = [];
    for (let s = s0; s < s0 + len; s++) {
      const slot = p.slot0 + s * p.arms + arm;
      slots.push(slot);
      const severe = rng.pick(SEVERE_ERROR_CODES);
      overrides.set(slot, {
        slot,
        latencyMs:
          kind === 'latency_spike' ? r1(rng.range(520, 1500))
          : kind === 'combined' ? r1(rng.range(600, 1200))
          : kind === 'network_degradation' ? r1(rng.range(320, 480))
          : null,
        forceRatio: kind === 'force_overload' ? rng.range(1.6, 2.1) : kind === 'combined' ? rng.range(1.6, 2.0) : null,
        errorCode: kind === 'severe_error' || kind === 'combined' ? severe : kind === 'network_degradation' ? 'W-COMM' : '',
      });
    }
    out.push({ kind, proc: p.proc, arm, slots });
  });
  return out;
}

/** The procedure whose slot range holds `slot` (binary search). */
export function procOfSlot(procs: TelProc[], slot: number): TelProc | undefined {
  let lo = 0;
  let hi = procs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const p = procs[mid] as TelProc;
    if (slot < p.slot0) hi = mid - 1;
    else if (slot >= p.slot0 + p.n) lo = mid + 1;
    else return p;
  }
  return undefined;
}

export interface TelSegment {
  seg: number;
  proc: number;
  lo: number;
  hi: number;
  step: StepName;
  /** The segment's recording window: recorded_at = t0Ms + floor((sample - s0) * dtMs). */
  t0Ms: number;
  s0: number;
  dtMs: number;
  degraded: boolean;
  override: Override | null;
  bad: number | null;
}

/** Cuts every procedure into runs of slots that share a step, a degradation state and (for single slots) an
 *  override or a bad row. */
export function buildSegments(plan: TelemetryPlan, badSlots: Map<number, number>): TelSegment[] {
  const special = new Set<number>([...plan.overrides.keys(), ...badSlots.keys()]);
  const bySlot = [...special].sort((a, b) => a - b);
  const segs: TelSegment[] = [];
  let si = 0;
  for (const p of plan.procs) {
    if (p.n === 0) continue;
    const cuts = new Set<number>([0, p.n]);
    for (const s of p.steps) cuts.add(s.lo);
    if (p.degraded) {
      cuts.add(p.degraded[0]);
      cuts.add(p.degraded[1]);
    }
    while (si < bySlot.length && (bySlot[si] as number) < p.slot0 + p.n) {
      const local = (bySlot[si] as number) - p.slot0;
      if (local >= 0) {
        cuts.add(local);
        cuts.add(local + 1);
      }
      si++;
    }
    const sorted = [...cuts].filter((c) => c >= 0 && c <= p.n).sort((a, b) => a - b);
    let stepIdx = 0;
    for (let i = 0; i + 1 < sorted.length; i++) {
      const lo = sorted[i] as number;
      const hi = sorted[i + 1] as number;
      while (stepIdx + 1 < p.steps.length && (p.steps[stepIdx + 1]?.lo as number) <= lo) stepIdx++;
      const g = p.slot0 + lo;
      const single = hi - lo === 1;
      const st = p.steps[stepIdx];
      segs.push({
        seg: segs.length,
        proc: p.proc,
        lo: g,
        hi: p.slot0 + hi,
        step: st?.step ?? 'dissection',
        t0Ms: st?.t0Ms ?? 0,
        s0: st?.s0 ?? 0,
        dtMs: st?.dtMs ?? 0,
        degraded: p.degraded !== null && lo >= p.degraded[0] && lo < p.degraded[1],
        override: single ? (plan.overrides.get(g) ?? null) : null,
        bad: single ? (badSlots.get(g) ?? null) : null,
      });
    }
  }
  return segs;
}

/** The step table: instruments, force limits and envelopes per step and arm, as SQL VALUES rows. */
export function stepTableRows(): (string | number)[][] {
  return (Object.keys(STEP_PROFILES) as StepName[]).map((step) => {
    const p = STEP_PROFILES[step];
    const lim = p.instruments.map((i) => INSTRUMENT_FORCE_LIMIT_N[i]);
    return [step, ...p.instruments, ...lim, p.force[0], p.force[1], p.velocity[0], p.velocity[1]];
  });
}

export const STEP_TABLE_COLUMNS = ['step', 'i1', 'i2', 'i3', 'i4', 'l1', 'l2', 'l3', 'l4', 'flo', 'fhi', 'vlo', 'vhi'];

const U = (h: string, shift: number): string => `(((${h} >> ${shift}) & 1048575) / 1048576.0)`;

/**
 * The typed rows of telemetry slots [lo, hi) as a SELECT over tel_seg / tel_proc / tel_step / tel_bad. Columns:
 * k, bad, then the schema columns (recorded_at as epoch ms in recorded_ms). `onlyBad` [a, b) keeps the single-slot
 * segments of the planted bad rows a to b - 1, so JS can read their good values cheaply, a chunk at a time.
 */
export function telemetryRowsSql(seed: number, lo: number, hi: number, onlyBad?: [number, number]): string {
  return telemetrySql(seed, lo, hi, onlyBad, undefined);
}

/**
 * Telemetry slots [lo, hi) as one preformatted text line each (column `line`, the bad row's own text where one was
 * planted). The part of a line that is constant per segment and arm (ids, arm, instrument, step) is built once per
 * segment, not per row: string building is most of the cost of a text row.
 */
export function telemetryLinesSql(seed: number, lo: number, hi: number, format: 'csv' | 'ndjson'): string {
  return `SELECT CASE WHEN bad IS NULL THEN line ELSE bad_line END AS line FROM (${telemetrySql(seed, lo, hi, undefined, format)})`;
}

function telemetrySql(seed: number, lo: number, hi: number, onlyBad: [number, number] | undefined, format: 'csv' | 'ndjson' | undefined): string {
  const minor = `[${MINOR_ERROR_CODES.map((c) => `'${c}'`).join(', ')}]`;
  const h1 = `hash(${seed}, k)`;
  const h2 = `hash(${seed + 1}, k)`;
  const special = onlyBad ? `AND seg.bad >= ${Math.trunc(onlyBad[0])} AND seg.bad < ${Math.trunc(onlyBad[1])}` : '';
  return `
WITH s AS (
  SELECT seg.seg, seg.lo, seg.hi, seg.step, seg.t0_ms, seg.s0, seg.dt_ms, seg.degraded, seg.o_lat, seg.o_ratio, seg.o_err, seg.bad,
         p.procedure_id, p.patient_id, p.robot_id, p.slot0, p.n, p.start_ms, p.dur_ms, p.arms, p.lat_base, p.phase,
         st.i1, st.i2, st.i3, st.i4, st.l1, st.l2, st.l3, st.l4, st.flo, st.fhi, st.vlo, st.vhi,
         tb.line AS bad_line, ${TELEMETRY_COLUMNS.map((c) => `tb.x_${c}`).join(', ')}${format === undefined ? '' : `,
         ${armPrefixes(format)}`}
  FROM tel_seg seg JOIN tel_proc p ON p.proc = seg.proc JOIN tel_step st ON st.step = seg.step
       LEFT JOIN tel_bad tb ON tb.bad = seg.bad
  WHERE seg.hi > ${lo} AND seg.lo < ${hi} ${special}
  ORDER BY seg.seg
), r AS (
  SELECT s.*, unnest(range(greatest(lo, ${lo}), least(hi, ${hi}))) AS k FROM s
), a AS (
  SELECT r.*, k - slot0 AS j, CASE WHEN arms = 1 THEN 0 ELSE (k - slot0) % arms END AS arm,
         ${h1} AS h1, ${h2} AS h2
  FROM r
), b AS (
  SELECT a.*, (j // arms) AS samp,
         CASE arm WHEN 0 THEN i1 WHEN 1 THEN i2 WHEN 2 THEN i3 ELSE i4 END AS instrument,
         CASE arm WHEN 0 THEN l1 WHEN 1 THEN l2 WHEN 2 THEN l3 ELSE l4 END AS limit_n,
         CASE WHEN arms = 1 OR arm IN (0, 2) THEN flo WHEN arm = 1 THEN ${CAMERA_FORCE[0]} ELSE ${ASSIST_FORCE[0]} END AS f_lo,
         CASE WHEN arms = 1 OR arm IN (0, 2) THEN fhi WHEN arm = 1 THEN ${CAMERA_FORCE[1]} ELSE ${ASSIST_FORCE[1]} END AS f_hi,
         CASE WHEN arms = 1 OR arm IN (0, 2) THEN vlo WHEN arm = 1 THEN ${CAMERA_VELOCITY[0]} ELSE ${ASSIST_VELOCITY[0]} END AS v_lo,
         CASE WHEN arms = 1 OR arm IN (0, 2) THEN vhi WHEN arm = 1 THEN ${CAMERA_VELOCITY[1]} ELSE ${ASSIST_VELOCITY[1]} END AS v_hi
  FROM a
), c AS (
SELECT b.*,
  'EV-' || printf('%010d', k) AS event_id,
  'arm_' || (arm + 1) AS robot_arm,
  round(coalesce(o_ratio, f_lo + (f_hi - f_lo) * (0.5 + 0.35 * sin(samp / 7.0 + arm * 1.3 + phase) + 0.15 * (2 * ${U('h1', 0)} - 1))) * limit_n, 2) AS force_n,
  round(v_lo + (v_hi - v_lo) * (0.5 + 0.3 * sin(samp / 5.0 + arm + phase) + 0.2 * (2 * ${U('h1', 20)} - 1)), 1) AS velocity_mm_s,
  coalesce(o_lat, round(CASE WHEN degraded THEN 110 + 90 * ${U('h1', 40)} ELSE lat_base + 25 * ${U('h1', 40)} END, 1)) AS latency_ms,
  coalesce(o_err, CASE WHEN ${U('h2', 0)} < CASE WHEN degraded THEN 0.03 ELSE 0.0015 END
                       THEN CASE WHEN degraded THEN 'W-COMM' ELSE ${minor}[1 + floor(${U('h2', 20)} * ${MINOR_ERROR_CODES.length})::INTEGER] END
                       ELSE '' END) AS error_code,
  t0_ms + floor((samp - s0) * dt_ms)::BIGINT AS recorded_ms
FROM b
)
SELECT k, bad, bad_line, ${TELEMETRY_COLUMNS.map((c) => `x_${c}`).join(', ')},${format === undefined ? '' : ` ${lineExpr(format)} AS line,`}
  ${TELEMETRY_COLUMNS.filter((c) => c !== 'recorded_at').join(', ')}, recorded_ms
FROM c`;
}

const TS = `strftime(epoch_ms(recorded_ms), '%Y-%m-%dT%H:%M:%S.%gZ')`;

/** Per segment: the text between event_id and force_n for each arm (pa0..pa3), in schema column order. */
function armPrefixes(format: 'csv' | 'ndjson'): string {
  return [0, 1, 2, 3]
    .map((i) =>
      format === 'csv'
        ? `',' || p.procedure_id || ',' || p.patient_id || ',' || p.robot_id || ',arm_${i + 1},' || st.i${i + 1} || ',' || seg.step || ',' AS pa${i}`
        : `'","procedure_id":"' || p.procedure_id || '","patient_id":"' || p.patient_id || '","robot_id":"' || p.robot_id || '","robot_arm":"arm_${i + 1}","instrument":"' || st.i${i + 1} || '","step":"' || seg.step || '","force_n":' AS pa${i}`,
    )
    .join(',\n         ');
}

function lineExpr(format: 'csv' | 'ndjson'): string {
  const pa = 'CASE arm WHEN 0 THEN pa0 WHEN 1 THEN pa1 WHEN 2 THEN pa2 ELSE pa3 END';
  return format === 'csv'
    ? `event_id || ${pa} || force_n::VARCHAR || ',' || velocity_mm_s::VARCHAR || ',' || latency_ms::VARCHAR || ',' || error_code || ',' || ${TS}`
    : `'{"event_id":"' || event_id || ${pa} || force_n::VARCHAR || ',"velocity_mm_s":' || velocity_mm_s::VARCHAR || ',"latency_ms":' || latency_ms::VARCHAR || ',"error_code":"' || error_code || '","recorded_at":"' || ${TS} || '"}'`;
}

export const TELEMETRY_COLUMNS = [
  'event_id', 'procedure_id', 'patient_id', 'robot_id', 'robot_arm', 'instrument', 'step', 'force_n', 'velocity_mm_s',
  'latency_ms', 'error_code', 'recorded_at',
] as const;

/** Expected alert for a planted robot incident, by the transform stage's default rules. */
export function expectedAlert(kind: RobotIncidentKind): { level: 'medium' | 'high' | 'critical'; triggers: string[] } {
  switch (kind) {
    case 'network_degradation':
      return { level: 'medium', triggers: ['latency', 'error'] };
    case 'latency_spike':
      return { level: 'high', triggers: ['latency'] };
    case 'force_overload':
      return { level: 'high', triggers: ['force'] };
    case 'severe_error':
      return { level: 'high', triggers: ['error'] };
    case 'combined':
      return { level: 'critical', triggers: ['latency', 'force', 'error'] };
  }
}

export const isSevere = (code: string): boolean => ERROR_CODES[code as ErrorCode]?.severity === 'severe';
