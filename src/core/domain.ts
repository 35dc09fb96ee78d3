// Domain reference data shared by the generator, the rules and the reports: arms, instruments with their force
// limits, surgical steps, and the error-code taxonomy. The default rules (transform) use these same numbers.

export const ROBOT_ARMS = ['arm_1', 'arm_2', 'arm_3', 'arm_4'] as const;

export const SURGICAL_STEPS = [
  'docking', 'port_placement', 'dissection', 'retraction', 'cauterization', 'suturing', 'stapling', 'irrigation',
  'specimen_removal', 'closure', 'undocking',
] as const;

/**
 * Instrument force limits in newtons: the tip force above which tissue damage becomes likely. Working values
 * chosen from published in-vivo grasp and tool-tissue force measurements for robotic instruments (e.g. grasping
 * forces of 2-12 N reported by Golahmadi et al., Tool-tissue forces in surgery: a systematic review, Ann Med Surg
 * 2021); staplers clamp far harder by design. Normal generated forces stay below 0.8 x limit.
 */
export const INSTRUMENT_FORCE_LIMIT_N = {
  needle_driver: 12,
  monopolar_scissors: 8,
  bipolar_forceps: 8,
  prograsp_forceps: 10,
  vessel_sealer: 15,
  stapler: 40,
  clip_applier: 12,
  suction_irrigator: 6,
  endoscope: 5,
} as const;
export type Instrument = keyof typeof INSTRUMENT_FORCE_LIMIT_N;

/**
 * Error codes grounded in the FDA MAUDE adverse-event categories for robotic surgery (Alemzadeh et al., Adverse
 * Events in Robotic Surgery: A Retrospective Study of 14 Years of FDA Data, PLoS ONE 2016): severe categories
 * score 3 in the risk model, minor ones 1.
 */
export const ERROR_CODES = {
  'E-FRAG': { severity: 'severe', category: 'instrument fragment fell into patient' },
  'E-ARC': { severity: 'severe', category: 'electrical arcing of instrument' },
  'E-MOTION': { severity: 'severe', category: 'unintended instrument motion' },
  'E-SYSRESTART': { severity: 'severe', category: 'system error / restart' },
  'E-VIDEO': { severity: 'severe', category: 'video / imaging loss' },
  'W-COMM': { severity: 'minor', category: 'transient console communication fault' },
  'W-INSTR-LIFE': { severity: 'minor', category: 'instrument near end of life' },
  'W-CAMERA-FOG': { severity: 'minor', category: 'camera fogging' },
  'W-ARM-COLLISION': { severity: 'minor', category: 'external arm collision warning' },
  'W-GRIP': { severity: 'minor', category: 'grip slippage warning' },
  'W-TOOL-RECOG': { severity: 'minor', category: 'instrument not recognised, re-seated' },
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export const SEVERE_ERROR_CODES = Object.entries(ERROR_CODES)
  .filter(([, v]) => v.severity === 'severe')
  .map(([k]) => k as ErrorCode);
export const MINOR_ERROR_CODES = Object.entries(ERROR_CODES)
  .filter(([, v]) => v.severity === 'minor')
  .map(([k]) => k as ErrorCode);

/** The project's fixed reference date: generators start here unless --start says otherwise. Never the wall clock. */
export const DEFAULT_REFERENCE_DATE = '2026-01-05T00:00:00Z';

export const VITAL_METRICS = [
  'heart_rate', 'resp_rate', 'spo2', 'systolic_bp', 'diastolic_bp', 'temperature_c', 'glucose_mg_dl', 'weight_kg',
  'consciousness', 'o2_supplemental',
] as const;

/**
 * --max-invalid of `load` and `pipeline` (and `max_invalid` in the config): the quarantined share of rows read
 * that a run may have before it exits 1. Those runs keep the data (the valid rows loaded, the rest quarantined and
 * replayable), so a small share of bad rows is the working default.
 */
export const DEFAULT_MAX_INVALID = '2%';

/**
 * --max-invalid of `validate`: stricter on purpose. validate is the contract check a CI job gates a data drop on,
 * and has always failed on the first quarantined row; raising its default would let drops with up to 2% bad rows
 * pass gates that fail today. Pass --max-invalid 2% for the tolerance of load and pipeline.
 */
export const VALIDATE_MAX_INVALID = '0';

/** Share of rows per file that `generate` and `pipeline` plant as labelled bad rows, unless told otherwise. */
export const DEFAULT_BAD_ROWS = 0.005;
