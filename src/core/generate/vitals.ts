// Vitals: one post-operative monitoring stay per procedure (from the first reading slot after the procedure ends,
// for --vitals-hours), readings every --vitals-interval minutes in long format. Core NEWS2 parameters every tick,
// temperature hourly, glucose every 4 h, weight daily. Values follow per-patient baselines with circadian swing and
// stay in the NEWS2 zero band (low overall) except planted deterioration episodes: three whole clock hours at a
// 'medium' or 'high' NEWS2 band, after a one-hour prodrome that still scores low.
import { VITAL_METRICS } from '../domain.js';
import { createRng } from './rng.js';
import type { Reference } from './reference.js';
import type { ResolvedOptions } from './options.js';

const HOUR = 3_600_000;
const MIN = 60_000;

export const VITAL_UNITS: Record<(typeof VITAL_METRICS)[number], string> = {
  heart_rate: '/min', resp_rate: '/min', spo2: '%', systolic_bp: 'mmHg', diastolic_bp: 'mmHg', temperature_c: 'Cel',
  glucose_mg_dl: 'mg/dL', weight_kg: 'kg', consciousness: '{score}', o2_supplemental: '{flag}',
};

export interface Stay {
  stay: number;
  proc: number;
  /** Global slot of tick 0, metric 0 (slots are ticks x 10 metrics). */
  slot0: number;
  t0Ms: number;
  ticks: number;
  /** Deterioration: [start, end) ms on hour boundaries, and its band; or null. */
  det: { lo: number; hi: number; band: 'high' | 'medium' } | null;
  base: { hr: number; rr: number; spo2: number; sbp: number; dbp: number; tempOff: number; glu: number; wt: number };
}

export interface Cadence {
  intervalMs: number;
  temp: number;
  glucose: number;
  weight: number;
}

export interface VitalsPlan {
  stays: Stay[];
  /** Total slots (ticks x 10). */
  totalSlots: number;
  cadence: Cadence;
}

export function cadenceOf(intervalMin: number): Cadence {
  return {
    intervalMs: intervalMin * MIN,
    temp: Math.max(1, Math.round(60 / intervalMin)),
    glucose: Math.max(1, Math.round(240 / intervalMin)),
    weight: Math.max(1, Math.round(1440 / intervalMin)),
  };
}

/** Metric indexes (VITAL_METRICS order) read at tick t. */
export function dueMetrics(t: number, c: Cadence): number[] {
  const out = [0, 1, 2, 3, 4];
  if (t % c.temp === 0) out.push(5);
  if (t % c.glucose === 0) out.push(6);
  if (t % c.weight === 0) out.push(7);
  out.push(8, 9);
  return out;
}

const ceilDiv = (a: number, b: number): number => Math.floor((a + b - 1) / b);

/** Rows emitted by ticks [0, t) of a stay. */
function rowsBeforeTick(t: number, c: Cadence): number {
  return 7 * t + ceilDiv(t, c.temp) + ceilDiv(t, c.glucose) + ceilDiv(t, c.weight);
}

/** Rows emitted by local slots [0, x) of a stay with `ticks` ticks. */
function rowsBeforeSlot(x: number, ticks: number, c: Cadence): number {
  if (x <= 0) return 0;
  if (x >= ticks * 10) return rowsBeforeTick(ticks, c);
  const t = Math.floor(x / 10);
  const m = x % 10;
  return rowsBeforeTick(t, c) + dueMetrics(t, c).filter((d) => d < m).length;
}

/** Rows emitted by global slots [lo, hi). */
export function vitalsRowsIn(plan: VitalsPlan, lo: number, hi: number): number {
  let n = 0;
  for (const s of plan.stays) {
    const a = Math.max(lo, s.slot0) - s.slot0;
    const b = Math.min(hi, s.slot0 + s.ticks * 10) - s.slot0;
    if (b <= a) continue;
    n += rowsBeforeSlot(b, s.ticks, plan.cadence) - rowsBeforeSlot(a, s.ticks, plan.cadence);
  }
  return n;
}

export function planVitals(o: ResolvedOptions, ref: Reference): VitalsPlan {
  const cadence = cadenceOf(o.vitals_interval_min);
  const ticks = Math.floor((o.vitals_hours * 60) / o.vitals_interval_min);
  const stays: Stay[] = [];
  let slot = 0;
  for (const p of ref.procedures) {
    const rng = createRng(o.seed, `vitals:${p.idx}`);
    const t0Ms = Math.ceil(p.endMs / cadence.intervalMs) * cadence.intervalMs;
    const hypertensive = rng.chance(0.3);
    const diabetic = rng.chance(0.15);
    stays.push({
      stay: p.idx,
      proc: p.idx,
      slot0: slot,
      t0Ms,
      ticks,
      det: null,
      base: {
        hr: rng.range(62, 82),
        rr: rng.range(14, 18),
        spo2: rng.range(97, 99),
        sbp: hypertensive ? rng.range(138, 160) : rng.range(115, 132),
        dbp: hypertensive ? rng.range(86, 96) : rng.range(68, 80),
        tempOff: rng.range(-0.3, 0.3),
        glu: diabetic ? rng.range(150, 210) : rng.range(82, 120),
        wt: rng.range(52, 125),
      },
    });
    slot += ticks * 10;
  }
  // Deterioration: three whole hours starting >= 3 h after the procedure ends, inside the monitoring window.
  const rng = createRng(o.seed, 'deterioration');
  const eligible = stays.filter((s) => {
    const end = ref.procedures[s.proc]?.endMs ?? 0;
    const lo = Math.ceil((end + 3 * HOUR) / HOUR) * HOUR;
    return s.ticks > 0 && lo + 3 * HOUR <= s.t0Ms + s.ticks * cadence.intervalMs;
  });
  const count = Math.min(eligible.length, Math.round(o.incidents * stays.length));
  const chosen = rng.shuffle([...eligible]).slice(0, count).sort((a, b) => a.stay - b.stay);
  chosen.forEach((s, i) => {
    const end = ref.procedures[s.proc]?.endMs ?? 0;
    const first = Math.ceil((end + 3 * HOUR) / HOUR) * HOUR;
    const last = Math.floor((s.t0Ms + s.ticks * cadence.intervalMs - 3 * HOUR) / HOUR) * HOUR;
    const lo = first + rng.int(0, Math.max(0, (last - first) / HOUR)) * HOUR;
    s.det = { lo, hi: lo + 3 * HOUR, band: i % 2 === 0 ? 'high' : 'medium' };
  });
  return { stays, totalSlots: slot, cadence };
}

/** The stay holding a global slot (binary search). */
export function stayOfSlot(stays: Stay[], slot: number): Stay | undefined {
  let lo = 0;
  let hi = stays.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = stays[mid] as Stay;
    if (slot < s.slot0) hi = mid - 1;
    else if (slot >= s.slot0 + s.ticks * 10) lo = mid + 1;
    else return s;
  }
  return undefined;
}

/** Row number (0-based) of a due slot within the global slot range starting at lo. */
export function vitalsRowIndex(plan: VitalsPlan, lo: number, slot: number): number {
  return vitalsRowsIn(plan, lo, slot);
}

export const VITALS_COLUMNS = ['reading_id', 'patient_id', 'metric', 'value', 'unit', 'measured_at'] as const;

const U = (h: string, shift: number): string => `(((${h} >> ${shift}) & 1048575) / 1048576.0)`;
const clamp = (x: string, lo: number, hi: number): string => `least(${hi}, greatest(${lo}, ${x}))`;

/**
 * The typed rows of vitals slots [lo, hi) as a SELECT over vit_seg / vit_stay / vit_bad. Columns: k (slot), bad,
 * bad_m, then reading_id, patient_id, metric, value, unit, measured_ms. `onlyBad` keeps the bad ticks.
 */
export function vitalsRowsSql(seed: number, c: Cadence, lo: number, hi: number, onlyBad?: [number, number]): string {
  const metrics = `[${VITAL_METRICS.map((m) => `'${m}'`).join(', ')}]`;
  const units = `[${VITAL_METRICS.map((m) => `'${VITAL_UNITS[m]}'`).join(', ')}]`;
  const u = U('h', 0);
  const u2 = U('h', 20);
  // state: 0 normal, 1 prodrome (hour before), 2 high, 3 medium.
  const value = `CASE m
      WHEN 0 THEN CASE state WHEN 0 THEN round(${clamp(`b_hr + 5 * circ + 8 * (${u} - 0.5)`, 52, 98)}) WHEN 1 THEN round(${clamp(`b_hr + 12 + 4 * (${u} - 0.5)`, 85, 100)})
                  WHEN 2 THEN 112 + floor(14 * ${u}) ELSE 95 + floor(14 * ${u}) END
      WHEN 1 THEN CASE state WHEN 0 THEN round(${clamp(`b_rr + 1.5 * circ + 3 * (${u} - 0.5)`, 12, 20)}) WHEN 1 THEN 19 + floor(2 * ${u})
                  WHEN 2 THEN 25 + floor(4 * ${u}) ELSE 21 + floor(3 * ${u}) END
      WHEN 2 THEN CASE state WHEN 0 THEN round(${clamp(`b_spo2 + 2 * (${u} - 0.5)`, 96, 100)}) WHEN 1 THEN 96
                  WHEN 2 THEN 89 + floor(3 * ${u}) ELSE 94 + floor(2 * ${u}) END
      WHEN 3 THEN CASE state WHEN 0 THEN round(${clamp(`b_sbp + 6 * circ + 10 * (${u} - 0.5)`, 112, 185)}) WHEN 1 THEN round(${clamp('b_sbp - 8', 112, 185)})
                  WHEN 2 THEN 92 + floor(9 * ${u}) ELSE 102 + floor(9 * ${u}) END
      WHEN 4 THEN CASE state WHEN 0 THEN round(${clamp(`b_dbp + 4 * circ + 8 * (${u} - 0.5)`, 55, 105)}) WHEN 1 THEN round(${clamp('b_dbp - 4', 55, 105)})
                  WHEN 2 THEN 55 + floor(8 * ${u}) ELSE 60 + floor(9 * ${u}) END
      WHEN 5 THEN CASE state WHEN 0 THEN round(${clamp(`36.8 + b_toff + 0.3 * circ + 0.3 * (${u} - 0.5)`, 36.2, 37.9)}, 1) WHEN 1 THEN 37.8 + 0.1 * floor(2 * ${u})
                  WHEN 2 THEN round(38.3 + 0.6 * ${u}, 1) ELSE round(38.2 + 0.6 * ${u}, 1) END
      WHEN 6 THEN round(${clamp(`b_glu + CASE WHEN state >= 2 THEN 30 ELSE 0 END + 20 * (${u} - 0.5)`, 70, 280)})
      WHEN 7 THEN round(b_wt + 0.4 * (${u2} - 0.5), 1)
      WHEN 8 THEN 0
      ELSE CASE WHEN state = 0 AND ts < o2_until THEN 1 ELSE 0 END
    END`;
  const onlyBadSql = onlyBad ? `AND seg.bad >= ${Math.trunc(onlyBad[0])} AND seg.bad < ${Math.trunc(onlyBad[1])}` : '';
  return `
WITH s AS (
  SELECT seg.seg, seg.t_lo, seg.t_hi, seg.bad, seg.bad_m, st.slot0, st.patient_id, st.t0_ms, st.o2_until, st.det_lo, st.det_hi,
         st.det_band, st.b_hr, st.b_rr, st.b_spo2, st.b_sbp, st.b_dbp, st.b_toff, st.b_glu, st.b_wt,
         vb.line AS bad_line, ${VITALS_COLUMNS.map((c) => `vb.x_${c}`).join(', ')}
  FROM vit_seg seg JOIN vit_stay st ON st.stay = seg.stay LEFT JOIN vit_bad vb ON vb.bad = seg.bad
  WHERE st.slot0 + seg.t_hi * 10 > ${lo} AND st.slot0 + seg.t_lo * 10 < ${hi} ${onlyBadSql}
  ORDER BY seg.seg
), t AS (
  SELECT s.*, unnest(range(greatest(t_lo, (${lo} - slot0) // 10), least(t_hi, (${hi} - slot0 + 9) // 10))) AS t FROM s
), r AS (
  SELECT t.*, unnest(
           [0, 1, 2, 3, 4]
           || CASE WHEN t % ${c.temp} = 0 THEN [5] ELSE [] END
           || CASE WHEN t % ${c.glucose} = 0 THEN [6] ELSE [] END
           || CASE WHEN t % ${c.weight} = 0 THEN [7] ELSE [] END
           || [8, 9]) AS m
  FROM t
), v AS (
  SELECT r.*, slot0 + t * 10 + m AS k, t0_ms + t * ${c.intervalMs} + m * 2000 AS ts
  FROM r
), w AS (
  SELECT v.*, hash(${seed}, k) AS h,
         cos(2 * pi() * (((ts % 86400000) / 3600000.0) - 16) / 24) AS circ,
         CASE WHEN det_lo IS NULL THEN 0
              WHEN ts >= det_lo AND ts < det_hi THEN CASE WHEN det_band = 'high' THEN 2 ELSE 3 END
              WHEN ts >= det_lo - 3600000 AND ts < det_lo THEN 1 ELSE 0 END AS state
  FROM v WHERE k >= ${lo} AND k < ${hi}
)
SELECT k, CASE WHEN m = bad_m THEN bad END AS bad, bad_line, ${VITALS_COLUMNS.map((c) => `x_${c}`).join(', ')},
       'VT-' || printf('%010d', k) AS reading_id, patient_id, ${metrics}[m + 1] AS metric,
       (${value})::DOUBLE AS value, ${units}[m + 1] AS unit, ts AS measured_ms, m
FROM w`;
}
