// The project's one vocabulary, defined once and imported everywhere: risk and alert levels with their ranks, data and
// output formats, NEWS2 parameters, bands and score columns, and the domain reference data shared by the generator,
// the rules and the reports (arms, instruments with their force limits, surgical steps, the error-code taxonomy).
// SQL models (.sql) may spell these out; TypeScript that builds SQL from them uses the helpers here.

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

/** A fixed list of words as a DuckDB list literal, e.g. ['none', 'low']; for the constants in this file only. */
function sqlStringList(values: readonly string[]): string {
  return `[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ')}]`;
}

/**
 * Risk levels of a telemetry event (telemetry_risk.risk_level), lowest first. A level's rank is its index:
 * none 0, low 1, medium 2, high 3, critical 4; the alerts mart stores it as level_rank.
 */
export const RISK_LEVELS = ['none', 'low', 'medium', 'high', 'critical'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];
export const RISK_LEVEL_RANK = Object.fromEntries(RISK_LEVELS.map((l, i) => [l, i])) as Record<RiskLevel, number>;

export function isRiskLevel(value: unknown): value is RiskLevel {
  return typeof value === 'string' && (RISK_LEVELS as readonly string[]).includes(value);
}

/** The levels that raise an alert (alerts.level, alert_episodes.level), lowest first. */
export const ALERT_LEVELS = ['medium', 'high', 'critical'] as const satisfies readonly RiskLevel[];
export type AlertLevel = (typeof ALERT_LEVELS)[number];

/** RISK_LEVELS as a DuckDB list literal, for SQL that orders or enumerates levels. */
export const RISK_LEVELS_SQL = sqlStringList(RISK_LEVELS);

/** SQL for the rank (0 none .. 4 critical; NULL for anything else) of a risk-level SQL expression. */
export function riskLevelRankSql(expr: string): string {
  return `(list_position(${RISK_LEVELS_SQL}, ${expr}) - 1)`;
}

/**
 * SQL counting rows per alert level of a `level` column, one column per level named after it:
 * count(*) FILTER (WHERE level = 'medium') AS medium, ... (each cast with `cast`, e.g. '::INTEGER', when given).
 */
export function alertLevelCountsSql(cast = ''): string {
  return ALERT_LEVELS.map((l) => `count(*) FILTER (WHERE level = '${l}')${cast} AS ${l}`).join(', ');
}

/** Formats of dataset files: what generate writes and validate and load read. */
export const DATA_FORMATS = ['csv', 'ndjson', 'parquet'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

/**
 * The output formats of report, query and export (export/formats.ts chooses one from --format and --out).
 * vega-lite (the report's charts as Vega-Lite specs) is a report format only: see QUERY_FORMATS.
 */
export const OUTPUT_FORMATS = ['table', 'json', 'ndjson', 'csv', 'markdown', 'html', 'vega-lite', 'parquet', 'arrow'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** What `surgctl query` writes: every output format but the report charts (vega-lite). */
export const QUERY_FORMATS = OUTPUT_FORMATS.filter((f) => f !== 'vega-lite');

/** Output formats written by DuckDB or apache-arrow straight to a file; they need --out. */
export const FILE_FORMATS = ['parquet', 'arrow'] as const satisfies readonly OutputFormat[];
export type FileFormat = (typeof FILE_FORMATS)[number];
export type TextFormat = Exclude<OutputFormat, FileFormat>;

/** What `surgctl export` writes. */
export const EXPORT_FORMATS = ['parquet', 'csv', 'ndjson', 'arrow'] as const satisfies readonly OutputFormat[];
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The result formats of the other commands (load, transform, runs, rules, ...): table on a terminal, else json. */
export const RESULT_FORMATS = ['table', 'json'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

/** The NEWS2 parameters in chart order (RCP 2017 Chart 1); also the vitals metric names. */
export const NEWS2_PARAMETERS = ['resp_rate', 'spo2', 'o2_supplemental', 'systolic_bp', 'heart_rate', 'consciousness', 'temperature_c'] as const;
export type News2Parameter = (typeof NEWS2_PARAMETERS)[number];

/** The news2_hourly column holding each parameter's score (0-3). */
export const NEWS2_SCORE_COLUMN = {
  resp_rate: 'resp_rate_score',
  spo2: 'spo2_score',
  o2_supplemental: 'o2_supplemental_score',
  systolic_bp: 'systolic_bp_score',
  heart_rate: 'heart_rate_score',
  consciousness: 'consciousness_score',
  temperature_c: 'temperature_score',
} as const satisfies Record<News2Parameter, string>;

/** The score columns of news2_hourly, in chart order. */
export const NEWS2_SCORE_COLUMNS: readonly (typeof NEWS2_SCORE_COLUMN)[News2Parameter][] = NEWS2_PARAMETERS.map((p) => NEWS2_SCORE_COLUMN[p]);

/**
 * NEWS2 clinical-risk bands (news2_hourly.news2_band of a complete set, and news2_alert), lowest first (RCP 2017:
 * aggregate 0-4 low, a single parameter scoring 3 low-medium, 5-6 medium, 7 or more high). A set with a parameter
 * missing has news2_band 'incomplete', which is not a band (isNews2Band is false for it).
 */
export const NEWS2_BANDS = ['low', 'low-medium', 'medium', 'high'] as const;
export type News2Band = (typeof NEWS2_BANDS)[number];

export function isNews2Band(value: unknown): value is News2Band {
  return typeof value === 'string' && (NEWS2_BANDS as readonly string[]).includes(value);
}

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

/** How each vitals metric reads on screen (charts, the alert browser): a label and its unit (UCUM Cel is °C). */
export const VITAL_DISPLAY: Readonly<Record<string, { label: string; unit: string }>> = {
  heart_rate: { label: 'heart rate', unit: '/min' },
  resp_rate: { label: 'resp. rate', unit: '/min' },
  spo2: { label: 'SpO₂', unit: '%' },
  systolic_bp: { label: 'systolic BP', unit: 'mmHg' },
  diastolic_bp: { label: 'diastolic BP', unit: 'mmHg' },
  temperature_c: { label: 'temperature', unit: '°C' },
  glucose_mg_dl: { label: 'glucose', unit: 'mg/dL' },
  weight_kg: { label: 'weight', unit: 'kg' },
  consciousness: { label: 'consciousness', unit: '0 alert, 1 new confusion' },
  o2_supplemental: { label: 'supplemental O₂', unit: '1 on oxygen, 0 air' },
};
