// Generation profiles: how long each procedure type takes, how its time splits into surgical steps, which
// instrument each arm holds in each step, and the force and speed envelopes per step. Forces are fractions of the
// instrument's limit (domain.ts) and stay below 0.8 in normal data; only planted incidents exceed the limit.
import type { Instrument } from '../domain.js';

export const PROCEDURE_TYPES = {
  prostatectomy: { minutes: [150, 240], sex: 'male' },
  hysterectomy: { minutes: [110, 200], sex: 'female' },
  cholecystectomy: { minutes: [50, 110], sex: null },
  hernia_repair: { minutes: [60, 130], sex: null },
  colectomy: { minutes: [150, 280], sex: null },
  nephrectomy: { minutes: [130, 240], sex: null },
  lobectomy: { minutes: [140, 260], sex: null },
  gastric_bypass: { minutes: [110, 210], sex: null },
} as const;
export type ProcedureType = keyof typeof PROCEDURE_TYPES;

/** Relative share of each procedure type. */
export const PROCEDURE_TYPE_WEIGHTS: Record<ProcedureType, number> = {
  prostatectomy: 18,
  hysterectomy: 18,
  cholecystectomy: 14,
  hernia_repair: 16,
  colectomy: 10,
  nephrectomy: 8,
  lobectomy: 6,
  gastric_bypass: 10,
};

export type StepName =
  | 'docking' | 'port_placement' | 'dissection' | 'retraction' | 'cauterization' | 'suturing' | 'stapling'
  | 'irrigation' | 'specimen_removal' | 'closure' | 'undocking';

export interface StepProfile {
  /** Instrument per arm: arm_1 (dominant), arm_2 (camera), arm_3, arm_4 (assistant/retraction). */
  instruments: [Instrument, Instrument, Instrument, Instrument];
  /** Force as a fraction of the instrument limit for the working arms (1 and 3): [low, high]. */
  force: [number, number];
  /** Tip speed envelope in mm/s for the working arms. */
  velocity: [number, number];
}

const GRASP: [Instrument, Instrument, Instrument, Instrument] = ['prograsp_forceps', 'endoscope', 'bipolar_forceps', 'prograsp_forceps'];

export const STEP_PROFILES: Record<StepName, StepProfile> = {
  docking: { instruments: GRASP, force: [0.02, 0.1], velocity: [5, 40] },
  port_placement: { instruments: GRASP, force: [0.05, 0.2], velocity: [5, 30] },
  dissection: { instruments: ['monopolar_scissors', 'endoscope', 'bipolar_forceps', 'prograsp_forceps'], force: [0.25, 0.55], velocity: [10, 80] },
  retraction: { instruments: GRASP, force: [0.4, 0.72], velocity: [2, 25] },
  cauterization: { instruments: ['monopolar_scissors', 'endoscope', 'vessel_sealer', 'prograsp_forceps'], force: [0.15, 0.4], velocity: [5, 40] },
  suturing: { instruments: ['needle_driver', 'endoscope', 'needle_driver', 'prograsp_forceps'], force: [0.35, 0.7], velocity: [10, 120] },
  stapling: { instruments: ['stapler', 'endoscope', 'bipolar_forceps', 'prograsp_forceps'], force: [0.45, 0.78], velocity: [2, 20] },
  irrigation: { instruments: ['suction_irrigator', 'endoscope', 'bipolar_forceps', 'prograsp_forceps'], force: [0.05, 0.25], velocity: [10, 60] },
  specimen_removal: { instruments: GRASP, force: [0.3, 0.6], velocity: [5, 50] },
  closure: { instruments: ['needle_driver', 'endoscope', 'needle_driver', 'prograsp_forceps'], force: [0.3, 0.65], velocity: [10, 100] },
  undocking: { instruments: GRASP, force: [0.02, 0.1], velocity: [5, 40] },
};

/** Envelopes of the non-working arms: the camera and the assistant holding tissue. */
export const CAMERA_FORCE: [number, number] = [0.02, 0.2];
export const CAMERA_VELOCITY: [number, number] = [1, 15];
export const ASSIST_FORCE: [number, number] = [0.2, 0.5];
export const ASSIST_VELOCITY: [number, number] = [1, 10];

/** Share of procedure time per step, by type; steps with 0 are skipped. */
const BASE_STEP_WEIGHTS: Record<StepName, number> = {
  docking: 4, port_placement: 5, dissection: 25, retraction: 10, cauterization: 10, suturing: 15, stapling: 6,
  irrigation: 4, specimen_removal: 6, closure: 10, undocking: 5,
};
export function stepWeights(type: ProcedureType): Record<StepName, number> {
  const w = { ...BASE_STEP_WEIGHTS };
  if (type === 'cholecystectomy') Object.assign(w, { suturing: 3, stapling: 0, cauterization: 16 });
  if (type === 'hernia_repair') Object.assign(w, { suturing: 25, stapling: 0, specimen_removal: 0 });
  if (type === 'colectomy') Object.assign(w, { stapling: 12 });
  if (type === 'gastric_bypass') Object.assign(w, { stapling: 16, suturing: 18 });
  if (type === 'lobectomy') Object.assign(w, { stapling: 12 });
  if (type === 'prostatectomy') Object.assign(w, { suturing: 22, stapling: 0 });
  return w;
}

/** Arms per robot model: single-port systems drive one arm; modular ones three or four. */
export const ROBOT_MODELS = {
  'da Vinci Xi': { manufacturer: 'Intuitive Surgical', arms: 4, serialPrefix: 'SK', weight: 40 },
  'da Vinci X': { manufacturer: 'Intuitive Surgical', arms: 4, serialPrefix: 'SR', weight: 14 },
  'da Vinci SP': { manufacturer: 'Intuitive Surgical', arms: 1, serialPrefix: 'SP', weight: 8 },
  'da Vinci 5': { manufacturer: 'Intuitive Surgical', arms: 4, serialPrefix: 'DV5', weight: 12 },
  'Hugo RAS': { manufacturer: 'Medtronic', arms: 4, serialPrefix: 'HUGO', weight: 14 },
  Versius: { manufacturer: 'CMR Surgical', arms: 3, serialPrefix: 'CMR', weight: 12 },
} as const;
export type RobotModel = keyof typeof ROBOT_MODELS;
