// The reference tables, built in JS with faker (identities, names) and the seeded PRNG: facilities, robots,
// patients, the procedure schedule (no two procedures overlap on a robot or a patient; a patient's next procedure
// waits until their monitoring window is over), outcomes and maintenance (at night, never during a procedure).
import type { Faker } from '@faker-js/faker';
import { createRng } from './rng.js';
import {
  PROCEDURE_TYPES, PROCEDURE_TYPE_WEIGHTS, ROBOT_MODELS, type ProcedureType, type RobotModel,
} from './profiles.js';
import type { ResolvedOptions } from './options.js';

export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

export interface Robot {
  idx: number;
  robot_id: string;
  model: RobotModel;
  facility: number;
  arms: number;
  /** Baseline console-to-arm latency in ms. */
  latencyBaseMs: number;
  row: Row;
}

export interface Patient {
  idx: number;
  patient_id: string;
  sex: string;
  facility: number;
  row: Row;
}

export interface Procedure {
  idx: number;
  procedure_id: string;
  patient: number;
  robot: number;
  type: ProcedureType;
  startMs: number;
  endMs: number;
  status: 'completed' | 'aborted' | 'converted_to_open';
  row: Row;
}

export interface Reference {
  facilities: string[];
  robots: Robot[];
  patients: Patient[];
  procedures: Procedure[];
}

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
export const pad = (prefix: string, n: number, width: number): string => `${prefix}${String(n).padStart(width, '0')}`;

/** Builds a seeded faker that never reads the wall clock. */
export async function createFaker(seed: number, refMs: number): Promise<Faker> {
  const { Faker: FakerClass, en, base } = await import('@faker-js/faker');
  const faker = new FakerClass({ locale: [en, base] });
  faker.seed(seed);
  faker.setDefaultRefDate(new Date(refMs));
  return faker;
}

/** Next instant a procedure may start at or after t: weekdays, 07:00-16:30 UTC. */
function nextWorkSlot(t: number): number {
  for (;;) {
    const day = Math.floor(t / DAY) * DAY;
    const dow = new Date(day).getUTCDay();
    if (dow === 0 || dow === 6) {
      t = day + DAY + 7 * HOUR;
      continue;
    }
    if (t < day + 7 * HOUR) return day + 7 * HOUR;
    if (t > day + 16.5 * HOUR) {
      t = day + DAY + 7 * HOUR;
      continue;
    }
    return t;
  }
}

export async function buildReference(o: ResolvedOptions): Promise<Reference> {
  const startMs = Date.parse(o.start);
  const faker = await createFaker(o.seed, startMs);
  const rng = createRng(o.seed, 'reference');

  const nFac = Math.max(1, Math.ceil(o.robots / 2));
  const facilities: string[] = [];
  const seen = new Set<string>();
  for (let f = 0; f < nFac; f++) {
    const city = faker.location.city().toUpperCase().replace(/[^A-Z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'SITE';
    let id = `FAC-${city}`.slice(0, 40);
    if (seen.has(id)) id = `${id}-${f + 1}`;
    seen.add(id);
    facilities.push(id);
  }

  const modelWeights = Object.fromEntries(Object.entries(ROBOT_MODELS).map(([k, v]) => [k, v.weight])) as Record<RobotModel, number>;
  const robots: Robot[] = [];
  for (let i = 0; i < o.robots; i++) {
    const model = rng.weighted(modelWeights);
    const spec = ROBOT_MODELS[model];
    const facility = i % nFac;
    const robot_id = pad('RB-', i + 1, 4);
    const installed = startMs - rng.int(120, 3200) * DAY;
    robots.push({
      idx: i,
      robot_id,
      model,
      facility,
      arms: spec.arms,
      latencyBaseMs: rng.range(16, 40),
      row: {
        robot_id,
        serial: `${spec.serialPrefix}${faker.string.alphanumeric({ length: 6, casing: 'upper' })}`,
        model,
        manufacturer: spec.manufacturer,
        facility_id: facilities[facility] ?? 'FAC-SITE',
        installed_on: isoDate(installed),
        status: i % 10 === 9 ? 'maintenance' : 'active',
      },
    });
  }

  const patients: Patient[] = [];
  for (let i = 0; i < o.patients; i++) {
    const r = rng.next();
    const sex = r < 0.006 ? 'unknown' : r < 0.012 ? 'other' : faker.person.sex();
    const patient_id = pad('PT-', i + 1, 7);
    const facility = i % nFac;
    patients.push({
      idx: i,
      patient_id,
      sex,
      facility,
      row: {
        patient_id,
        sex,
        birth_date: isoDate(faker.date.birthdate({ mode: 'age', min: 18, max: 90 }).getTime()),
        facility_id: facilities[facility] ?? 'FAC-SITE',
      },
    });
  }

  // Surgeons per facility.
  const surgeons: string[][] = facilities.map(() => []);
  let surgeonNo = 0;
  for (let f = 0; f < nFac; f++) {
    const n = rng.int(3, 6);
    for (let s = 0; s < n; s++) surgeons[f]?.push(pad('SG-', ++surgeonNo, 4));
  }

  // The schedule: every patient gets one procedure first (shuffled), then repeats; each procedure goes to the
  // facility robot free first, at the next working slot after both the robot and the patient are free.
  const order = rng.shuffle(Array.from({ length: o.patients }, (_, i) => i));
  const robotsByFacility: number[][] = facilities.map(() => []);
  for (const r of robots) robotsByFacility[r.facility]?.push(r.idx);
  const robotFree = robots.map(() => nextWorkSlot(startMs));
  const patientFree = patients.map(() => startMs);
  const monitorMs = o.vitals_hours * HOUR;
  const typeNames = Object.keys(PROCEDURE_TYPES) as ProcedureType[];
  const planned: Omit<Procedure, 'idx' | 'procedure_id' | 'row'>[] = [];
  const surgeonOf: string[] = [];
  for (let j = 0; j < o.procedures; j++) {
    const patient = j < order.length ? (order[j] as number) : rng.int(0, o.patients - 1);
    const p = patients[patient] as Patient;
    const facRobots = robotsByFacility[p.facility] ?? [];
    let robot = facRobots[0] as number;
    for (const r of facRobots) if ((robotFree[r] as number) < (robotFree[robot] as number)) robot = r;
    const weights = { ...PROCEDURE_TYPE_WEIGHTS };
    for (const t of typeNames) {
      const sex = PROCEDURE_TYPES[t].sex;
      if (sex !== null && sex !== p.sex) weights[t] = 0;
    }
    const type = rng.weighted(weights);
    const [lo, hi] = PROCEDURE_TYPES[type].minutes;
    let minutes = rng.int(lo, hi);
    const statusDraw = rng.next();
    const status = statusDraw < 0.02 ? 'aborted' : statusDraw < 0.05 ? 'converted_to_open' : 'completed';
    if (status === 'aborted') minutes = Math.max(20, Math.round(minutes * rng.range(0.3, 0.6)));
    let start = nextWorkSlot(Math.max(robotFree[robot] as number, patientFree[patient] as number));
    start += rng.int(0, 20) * MINUTE;
    if (start > Math.floor(start / DAY) * DAY + 16.5 * HOUR) start = nextWorkSlot(Math.floor(start / DAY) * DAY + DAY);
    const end = start + minutes * MINUTE + rng.int(0, 59) * 1000;
    robotFree[robot] = end + rng.int(30, 60) * MINUTE;
    patientFree[patient] = end + monitorMs + 3 * DAY;
    planned.push({ patient, robot, type, startMs: start, endMs: end, status });
    const fs = surgeons[p.facility] ?? [];
    surgeonOf.push(fs[rng.int(0, fs.length - 1)] ?? 'SG-0000');
  }
  const idxs = planned.map((_, i) => i);
  idxs.sort((a, b) => (planned[a]!.startMs - planned[b]!.startMs) || (planned[a]!.robot - planned[b]!.robot));
  const procedures: Procedure[] = idxs.map((k, i) => {
    const p = planned[k]!;
    const procedure_id = pad('PR-', i + 1, 7);
    return {
      ...p,
      idx: i,
      procedure_id,
      row: {
        procedure_id,
        patient_id: patients[p.patient]!.patient_id,
        robot_id: robots[p.robot]!.robot_id,
        surgeon_id: surgeonOf[k] ?? 'SG-0000',
        procedure_type: p.type,
        started_at: iso(p.startMs),
        ended_at: iso(p.endMs),
        status: p.status,
      },
    };
  });
  return { facilities, robots, patients, procedures };
}

const OUTCOME_GRADES = {
  success: ['none'],
  minor_complication: ['I', 'I', 'II'],
  major_complication: ['IIIa', 'IIIb', 'IVa', 'IVb'],
  death: ['V'],
} as const;
const BASE_STAY_DAYS: Record<ProcedureType, [number, number]> = {
  prostatectomy: [1, 3], hysterectomy: [1, 2], cholecystectomy: [0.5, 1.5], hernia_repair: [0.5, 2], colectomy: [3, 6],
  nephrectomy: [2, 4], lobectomy: [3, 5], gastric_bypass: [1.5, 3],
};

/** One outcome per procedure; procedures with a severe planted incident fare worse. */
export function buildOutcomes(seed: number, procs: Procedure[], severe: Set<number>): Row[] {
  const rng = createRng(seed, 'outcomes');
  return procs.map((p) => {
    const bad = severe.has(p.idx);
    const outcome = rng.weighted(
      bad
        ? { success: 60, minor_complication: 20, major_complication: 17, death: 3 }
        : { success: 880, minor_complication: 80, major_complication: 35, death: 5 },
    );
    const grade = rng.pick(OUTCOME_GRADES[outcome]);
    const [lo, hi] = BASE_STAY_DAYS[p.type];
    const extra = outcome === 'minor_complication' ? rng.range(0.5, 3) : outcome === 'major_complication' ? rng.range(3, 20) : 0;
    const readmit = outcome === 'death' ? false : rng.chance(outcome === 'success' ? 0.05 : outcome === 'minor_complication' ? 0.15 : 0.3);
    return {
      procedure_id: p.procedure_id,
      outcome,
      clavien_dindo_grade: grade,
      length_of_stay_days: Math.round((rng.range(lo, hi) + extra) * 10) / 10,
      readmitted_30d: readmit,
    };
  });
}

const MAINT_KINDS = { preventive: 45, calibration: 25, software_update: 20, instrument_replacement: 10 } as const;

/**
 * Maintenance per robot: one visit before the reference date, then every 10-20 days, plus a corrective visit the
 * evening of a severe incident. Visits start at 22:00 UTC and last at most 8.5 h, so they never meet a procedure
 * (which start 07:00-16:30 and end by 21:30).
 */
export function buildMaintenance(seed: number, startMs: number, ref: Reference, severeAt: { robot: number; atMs: number }[]): Row[] {
  const rng = createRng(seed, 'maintenance');
  const lastEnd = ref.procedures.reduce((m, p) => Math.max(m, p.endMs), startMs);
  const visits: { robot: number; atMs: number; kind: string }[] = [];
  for (const r of ref.robots) {
    let day = Math.floor(startMs / DAY) * DAY - rng.int(1, 10) * DAY;
    while (day <= lastEnd) {
      visits.push({ robot: r.idx, atMs: day + 22 * HOUR, kind: rng.weighted(MAINT_KINDS) });
      day += rng.int(10, 20) * DAY;
    }
  }
  const taken = new Set(visits.map((v) => `${v.robot}@${v.atMs}`));
  for (const s of severeAt) {
    const at = Math.floor(s.atMs / DAY) * DAY + 22 * HOUR;
    const key = `${s.robot}@${at}`;
    if (taken.has(key)) {
      const v = visits.find((x) => x.robot === s.robot && x.atMs === at);
      if (v) v.kind = 'corrective';
      continue;
    }
    taken.add(key);
    visits.push({ robot: s.robot, atMs: at, kind: 'corrective' });
  }
  visits.sort((a, b) => a.atMs - b.atMs || a.robot - b.robot);
  return visits.map((v, i) => {
    const [dLo, dHi, cLo, cHi] =
      v.kind === 'corrective' ? [2, 8.5, 5000, 40000]
      : v.kind === 'preventive' ? [2, 8, 2000, 8000]
      : v.kind === 'calibration' ? [1, 3, 500, 2500]
      : v.kind === 'software_update' ? [0.5, 2, 0, 500]
      : [0.5, 2, 1000, 5000];
    return {
      log_id: pad('MT-', i + 1, 6),
      robot_id: ref.robots[v.robot]!.robot_id,
      kind: v.kind,
      started_at: iso(v.atMs),
      downtime_hours: Math.round(rng.range(dLo, dHi) * 10) / 10,
      cost_usd: Math.round(rng.range(cLo, cHi) * 100) / 100,
    };
  });
}
