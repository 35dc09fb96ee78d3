// The rules in force: the shipped defaults (rules/default.rules.json, every number cited) deep-merged with a
// project file, validated by schemas/rules.schema.json, with the origin of every value. Also writes the rules
// into the session's TEMP rules_* tables the models read (values bound, never spliced).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Db } from '../../db/db.js';
import { ident } from '../../db/sql.js';
import { ConfigError, UsageError } from '../../errors.js';
import { NEWS2_PARAMETERS, RISK_LEVEL_RANK, type RiskLevel } from '../domain.js';
import { builtinSchemaDir } from '../schemas.js';

export interface Band {
  max: number;
  score: number;
}
export interface BandedScore {
  bands: Band[];
  above: number;
  unit?: string;
  source: string;
}
export interface ErrorClass {
  codes: string[];
  score: number;
}

export interface VitalsLimit {
  unit?: string;
  /** The contract's impossible tier (schemas/vitals.schema.json), documented with its source; not read by models. */
  impossible_min?: number;
  impossible_min_exclusive?: number;
  impossible_max?: number;
  alarming_below: number;
  alarming_above: number;
  source: string;
}

/** The metrics of rules.vitals_limits with their limits (the `source` key left out). */
export function vitalsLimits(rules: Rules): [string, VitalsLimit][] {
  return Object.entries(rules.vitals_limits).filter((e): e is [string, VitalsLimit] => typeof e[1] === 'object');
}

export interface Rules {
  version: string;
  robot_risk: {
    latency_ms: BandedScore;
    force_ratio: BandedScore;
    velocity_mm_s: BandedScore;
    instrument_force_limit_n: { limits: Record<string, number>; source: string };
    error_codes: { severe: ErrorClass; minor: ErrorClass; source: string };
    force_spike: { k_sd: number; window_events: number; min_events: number; source: string };
    levels: { low_min: number; medium_min: number; high_min: number; critical_min: number; single_score_high: number; source: string };
  };
  motion: { idle_speed_mm_s: number; jerk_high_mm_s3: number; max_gap_s: number; source: string };
  alerts: { min_level: Exclude<RiskLevel, 'none'>; episode_gap_s: number; source: string };
  news2: {
    resp_rate: BandedScore;
    spo2: BandedScore;
    o2_supplemental: BandedScore;
    systolic_bp: BandedScore;
    heart_rate: BandedScore;
    consciousness: BandedScore;
    temperature_c: BandedScore;
    bands: { low_medium_single: number; medium_min: number; high_min: number; source: string };
    observation_set: { lookback_h: number; source: string };
    spo2_scale2: { bands: Band[]; above: number; on_air_above: number; patients: string[]; unit?: string; source: string };
  };
  /** Per vitals metric (plus `source`): the contract's impossible tier, documented, and the alarming tier the marts flag. */
  vitals_limits: { source: string } & Record<string, VitalsLimit | string>;
  blood_pressure: {
    elevated_sbp_min: number;
    stage1_sbp_min: number;
    stage1_dbp_min: number;
    stage2_sbp_min: number;
    stage2_dbp_min: number;
    crisis_sbp_above: number;
    crisis_dbp_above: number;
    source: string;
  };
  glucose: { level2_hypo_below: number; level1_hypo_below: number; high_above: number; very_high_above: number; molar_mass?: { g_per_mol: number; source: string }; source: string };
  weight: { gain_kg: number; window_h: number; source: string };
  trends: { window_h: number; cv_volatile: number; slope_rel_per_24h: number; min_points: number; metrics: string[]; source: string };
  kpis: { procedure_news2_after_end_h: number; stay_gap_h?: number; source: string };
}

/** The NEWS2 parameters (defined in domain.ts) in chart order. */
export { NEWS2_PARAMETERS };

export interface RuleValue {
  /** Dotted path, e.g. "news2.heart_rate.bands". */
  path: string;
  value: unknown;
  /** 'default' or the absolute path of the project file that set it. */
  from: string;
}

export interface LoadedRules {
  rules: Rules;
  /** Every leaf (arrays are leaves) with its origin, in document order. */
  values: RuleValue[];
  defaultsFile: string;
  /** The project file merged over the defaults, or null. */
  projectFile: string | null;
  /** sha256 of the merged rules (canonical JSON): a change forces a full rebuild. */
  sha256: string;
}

export const PROJECT_RULES_FILE = 'surgctl.rules.json';

/** The shipped defaults. Resolved from the repo root so it works from src (vitest) and dist (bin). */
export function defaultRulesPath(): string {
  return fileURLToPath(new URL('../../../src/core/transform/rules/default.rules.json', import.meta.url));
}

let compiled: ReturnType<Ajv2020['compile']> | undefined;
function validator(): ReturnType<Ajv2020['compile']> {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(resolve(builtinSchemaDir(), 'rules.schema.json'), 'utf8')) as object;
    compiled = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
  }
  return compiled;
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      file: path,
      hint: 'check the path given to --rules',
      cause: e,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ConfigError(`${what} ${path} is not valid JSON: ${(e as Error).message}`, { file: path, cause: e });
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Objects merge key by key; arrays and scalars in `over` replace. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : v;
  return out;
}

function leaves(doc: unknown, prefix: string, out: { path: string; value: unknown }[]): void {
  if (isObject(doc)) {
    for (const [k, v] of Object.entries(doc)) {
      if (k === '$schema') continue;
      leaves(v, prefix ? `${prefix}.${k}` : k, out);
    }
    return;
  }
  out.push({ path: prefix, value: doc });
}

function hasPath(doc: unknown, path: string): boolean {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (!isObject(cur) || !(part in cur)) return false;
    cur = cur[part];
  }
  return true;
}

/**
 * Which project rules file applies: --rules PATH, else the `rules` entry of the effective config (SURGCTL_RULES or
 * surgctl.config.json), else ./surgctl.rules.json when it exists, else none.
 */
export function resolveRulesFile(opts: { cwd: string; rulesPath?: string | null | undefined; configRules?: string | null | undefined }): string | null {
  if (opts.rulesPath) return resolve(opts.cwd, opts.rulesPath);
  if (opts.configRules) return resolve(opts.cwd, opts.configRules);
  const local = resolve(opts.cwd, PROJECT_RULES_FILE);
  return existsSync(local) ? local : null;
}

/**
 * Loads the defaults, merges `projectFile` over them (when given) and validates the result.
 * Throws UsageError when the file cannot be read, ConfigError (naming the file and the field) when the JSON or a
 * value is invalid, including semantic checks the schema cannot express (bands in increasing order).
 */
export function loadRules(projectFile: string | null, defaultsFile: string = defaultRulesPath()): LoadedRules {
  const defaults = readJson(defaultsFile, 'default rules');
  const project = projectFile === null ? undefined : readJson(projectFile, 'rules file');
  if (project !== undefined && !isObject(project)) {
    throw new ConfigError(`rules file ${projectFile} must hold a JSON object`, { file: projectFile ?? undefined });
  }
  const merged = project === undefined ? defaults : deepMerge(defaults, project);
  // The shipped defaults alone are validated by the test suite (rules.test.ts); compiling the schema costs a few
  // hundred ms per process, so it runs only when a project file (or other defaults) is in play.
  if (project !== undefined || defaultsFile !== defaultRulesPath()) validateRules(merged, project, projectFile, defaultsFile);
  const rules = merged as Rules;
  checkSemantics(rules, projectFile ?? defaultsFile);
  const flat: { path: string; value: unknown }[] = [];
  leaves(rules, '', flat);
  const values = flat.map((l) => ({ ...l, from: project !== undefined && hasPath(project, l.path) ? (projectFile as string) : 'default' }));
  const sha256 = createHash('sha256').update(JSON.stringify(canonical(rules))).digest('hex');
  return { rules, values, defaultsFile, projectFile, sha256 };
}

/**
 * Validates a merged rules document against schemas/rules.schema.json. Throws ConfigError naming the field and
 * the file that set it (the project file when it holds that part, else the defaults).
 */
export function validateRules(merged: unknown, project: unknown, projectFile: string | null, defaultsFile: string): void {
  const validate = validator();
  if (validate(merged)) return;
  const err = validate.errors?.[0];
  const extra = (err?.params as { additionalProperty?: string } | undefined)?.additionalProperty;
  const field = [err?.instancePath.replace(/^\//, '').replaceAll('/', '.') ?? '', extra ?? ''].filter(Boolean).join('.');
  const blame = project !== undefined && (field === '' || hasPath(project, field.split('.').slice(0, 2).join('.'))) ? projectFile : defaultsFile;
  throw new ConfigError(`rules ${field ? `"${field}" ` : ''}${err?.message ?? 'are invalid'}${extra ? ` (${extra})` : ''}`, {
    file: blame ?? defaultsFile,
    field: field || undefined,
    hint: 'see schemas/rules.schema.json for the keys, their types and ranges; `surgctl rules show` prints the rules in force',
  });
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObject(v)) return Object.fromEntries(Object.keys(v).filter((k) => k !== '$schema').sort().map((k) => [k, canonical(v[k])]));
  return v;
}

function checkSemantics(rules: Rules, file: string): void {
  const banded: [string, BandedScore][] = [
    ['robot_risk.latency_ms', rules.robot_risk.latency_ms],
    ['robot_risk.force_ratio', rules.robot_risk.force_ratio],
    ['robot_risk.velocity_mm_s', rules.robot_risk.velocity_mm_s],
    ...NEWS2_PARAMETERS.map((p) => [`news2.${p}`, rules.news2[p]] as [string, BandedScore]),
    ['news2.spo2_scale2', rules.news2.spo2_scale2],
  ];
  for (const [path, b] of banded) {
    for (let i = 1; i < b.bands.length; i++) {
      const prev = b.bands[i - 1] as Band;
      const cur = b.bands[i] as Band;
      if (!(cur.max > prev.max)) {
        throw new ConfigError(`rules "${path}.bands" must be in increasing order of max (band ${i + 1}: ${cur.max} after ${prev.max})`, {
          file,
          field: `${path}.bands`,
          hint: 'each band covers values above the previous max up to and including its own max',
        });
      }
    }
  }
  const l = rules.robot_risk.levels;
  if (!(l.low_min <= l.medium_min && l.medium_min <= l.high_min && l.high_min <= l.critical_min)) {
    throw new ConfigError('rules "robot_risk.levels" must satisfy low_min <= medium_min <= high_min <= critical_min', {
      file,
      field: 'robot_risk.levels',
    });
  }
  const g = rules.glucose;
  if (!(g.level2_hypo_below <= g.level1_hypo_below && g.level1_hypo_below <= g.high_above && g.high_above <= g.very_high_above)) {
    throw new ConfigError('rules "glucose" thresholds must increase: level2_hypo_below <= level1_hypo_below <= high_above <= very_high_above', {
      file,
      field: 'glucose',
    });
  }
  const overlap = rules.robot_risk.error_codes.severe.codes.filter((c) => rules.robot_risk.error_codes.minor.codes.includes(c));
  if (overlap.length > 0) {
    throw new ConfigError(`rules error code ${overlap.join(', ')} is both severe and minor`, { file, field: 'robot_risk.error_codes' });
  }
}

/** Names of the banded-score rules as stored in rules_bands.rule. */
export function bandedRules(rules: Rules): [string, BandedScore][] {
  return [
    ['latency_ms', rules.robot_risk.latency_ms],
    ['force_ratio', rules.robot_risk.force_ratio],
    ['velocity_mm_s', rules.robot_risk.velocity_mm_s],
    ...NEWS2_PARAMETERS.map((p) => [`news2_${p}`, rules.news2[p]] as [string, BandedScore]),
    ['news2_spo2_scale2', rules.news2.spo2_scale2],
  ];
}

/** The rules tables, as TEMP tables of this session (each session writes the rules it runs with). */
export const RULES_TABLES = ['rules_bands', 'rules_params', 'rules_force_limits', 'rules_error_codes', 'rules_trend_metrics', 'rules_spo2_scale2_patients', 'rules_vitals_limits'] as const;

/** The session variable holding rules_params.spike_window_events (telemetry_risk's force-spike frame). */
const SPIKE_WINDOW_VARIABLE = 'surgctl_spike_window_events';

/**
 * Writes the rules into TEMP tables the models read: rules_bands (rule, maxes DOUBLE[], scores INTEGER[], above),
 * rules_params (one row of scalars), rules_force_limits (instrument, limit_n), rules_error_codes (code, severity,
 * score), rules_trend_metrics (metric), rules_spo2_scale2_patients (patient_id), rules_vitals_limits (metric, alarming_below, alarming_above).
 * Replaces what this session had. Every value is a bound parameter.
 */
export async function writeRulesTables(db: Db, rules: Rules): Promise<void> {
  // Each table is filled by one INSERT whose rows travel as one JSON parameter: bound, never spliced.
  const fill = async (table: string, ddl: string, shape: Record<string, string>, rows: Record<string, unknown>[]): Promise<void> => {
    await db.run(`CREATE OR REPLACE TEMP TABLE ${ident(table)} (${ddl})`);
    if (rows.length === 0) return;
    await db.run(
      `INSERT INTO ${ident(table)} SELECT ${Object.keys(shape).map((k) => `r.${ident(k)}`).join(', ')}
       FROM (SELECT unnest(from_json($rows, $shape), recursive := true)) r`,
      { rows: JSON.stringify(rows), shape: JSON.stringify([shape]) },
    );
  };
  await fill(
    'rules_bands',
    'rule VARCHAR PRIMARY KEY, maxes DOUBLE[] NOT NULL, scores INTEGER[] NOT NULL, above INTEGER NOT NULL',
    { rule: 'VARCHAR', maxes: 'DOUBLE[]', scores: 'INTEGER[]', above: 'INTEGER' },
    bandedRules(rules).map(([rule, b]) => ({ rule, maxes: b.bands.map((x) => x.max), scores: b.bands.map((x) => x.score), above: b.above })),
  );
  await fill(
    'rules_force_limits',
    'instrument VARCHAR PRIMARY KEY, limit_n DOUBLE NOT NULL',
    { instrument: 'VARCHAR', limit_n: 'DOUBLE' },
    Object.entries(rules.robot_risk.instrument_force_limit_n.limits).map(([instrument, limit_n]) => ({ instrument, limit_n })),
  );
  await fill(
    'rules_error_codes',
    'code VARCHAR PRIMARY KEY, severity VARCHAR NOT NULL, score INTEGER NOT NULL',
    { code: 'VARCHAR', severity: 'VARCHAR', score: 'INTEGER' },
    (['severe', 'minor'] as const).flatMap((severity) =>
      rules.robot_risk.error_codes[severity].codes.map((code) => ({ code, severity, score: rules.robot_risk.error_codes[severity].score })),
    ),
  );
  await fill('rules_trend_metrics', 'metric VARCHAR PRIMARY KEY', { metric: 'VARCHAR' }, rules.trends.metrics.map((metric) => ({ metric })));
  await fill(
    'rules_spo2_scale2_patients',
    'patient_id VARCHAR PRIMARY KEY',
    { patient_id: 'VARCHAR' },
    rules.news2.spo2_scale2.patients.map((patient_id) => ({ patient_id })),
  );
  await fill(
    'rules_vitals_limits',
    'metric VARCHAR PRIMARY KEY, alarming_below DOUBLE NOT NULL, alarming_above DOUBLE NOT NULL',
    { metric: 'VARCHAR', alarming_below: 'DOUBLE', alarming_above: 'DOUBLE' },
    vitalsLimits(rules).map(([metric, l]) => ({ metric, alarming_below: l.alarming_below, alarming_above: l.alarming_above })),
  );
  const r = rules.robot_risk;
  const params: Record<string, { type: string; value: number | string }> = {
    spike_k_sd: { type: 'DOUBLE', value: r.force_spike.k_sd },
    spike_window_events: { type: 'INTEGER', value: r.force_spike.window_events },
    spike_min_events: { type: 'INTEGER', value: r.force_spike.min_events },
    low_min: { type: 'INTEGER', value: r.levels.low_min },
    medium_min: { type: 'INTEGER', value: r.levels.medium_min },
    high_min: { type: 'INTEGER', value: r.levels.high_min },
    critical_min: { type: 'INTEGER', value: r.levels.critical_min },
    single_score_high: { type: 'INTEGER', value: r.levels.single_score_high },
    alert_min_rank: { type: 'INTEGER', value: RISK_LEVEL_RANK[rules.alerts.min_level] },
    episode_gap_s: { type: 'DOUBLE', value: rules.alerts.episode_gap_s },
    motion_idle_speed_mm_s: { type: 'DOUBLE', value: rules.motion.idle_speed_mm_s },
    motion_jerk_high_mm_s3: { type: 'DOUBLE', value: rules.motion.jerk_high_mm_s3 },
    motion_max_gap_s: { type: 'DOUBLE', value: rules.motion.max_gap_s },
    news2_low_medium_single: { type: 'INTEGER', value: rules.news2.bands.low_medium_single },
    news2_medium_min: { type: 'INTEGER', value: rules.news2.bands.medium_min },
    news2_high_min: { type: 'INTEGER', value: rules.news2.bands.high_min },
    news2_lookback_h: { type: 'DOUBLE', value: rules.news2.observation_set.lookback_h },
    news2_spo2_scale2_on_air_above: { type: 'DOUBLE', value: rules.news2.spo2_scale2.on_air_above },
    bp_elevated_sbp_min: { type: 'DOUBLE', value: rules.blood_pressure.elevated_sbp_min },
    bp_stage1_sbp_min: { type: 'DOUBLE', value: rules.blood_pressure.stage1_sbp_min },
    bp_stage1_dbp_min: { type: 'DOUBLE', value: rules.blood_pressure.stage1_dbp_min },
    bp_stage2_sbp_min: { type: 'DOUBLE', value: rules.blood_pressure.stage2_sbp_min },
    bp_stage2_dbp_min: { type: 'DOUBLE', value: rules.blood_pressure.stage2_dbp_min },
    bp_crisis_sbp_above: { type: 'DOUBLE', value: rules.blood_pressure.crisis_sbp_above },
    bp_crisis_dbp_above: { type: 'DOUBLE', value: rules.blood_pressure.crisis_dbp_above },
    glucose_level2_hypo_below: { type: 'DOUBLE', value: rules.glucose.level2_hypo_below },
    glucose_level1_hypo_below: { type: 'DOUBLE', value: rules.glucose.level1_hypo_below },
    glucose_high_above: { type: 'DOUBLE', value: rules.glucose.high_above },
    glucose_very_high_above: { type: 'DOUBLE', value: rules.glucose.very_high_above },
    weight_gain_kg: { type: 'DOUBLE', value: rules.weight.gain_kg },
    weight_window_h: { type: 'DOUBLE', value: rules.weight.window_h },
    trend_window_h: { type: 'DOUBLE', value: rules.trends.window_h },
    trend_cv_volatile: { type: 'DOUBLE', value: rules.trends.cv_volatile },
    trend_slope_rel_per_24h: { type: 'DOUBLE', value: rules.trends.slope_rel_per_24h },
    trend_min_points: { type: 'INTEGER', value: rules.trends.min_points },
    procedure_news2_after_end_h: { type: 'DOUBLE', value: rules.kpis.procedure_news2_after_end_h },
    rules_version: { type: 'VARCHAR', value: rules.version },
  };
  const names = Object.keys(params);
  await db.run(`CREATE OR REPLACE TEMP TABLE rules_params (${names.map((n) => `${ident(n)} ${params[n]?.type} NOT NULL`).join(', ')})`);
  await db.run(
    `INSERT INTO rules_params VALUES (${names.map((n) => `$${n}`).join(', ')})`,
    Object.fromEntries(names.map((n) => [n, params[n]?.value ?? null])),
  );
  // The force-spike frame's size also as a session variable, which DuckDB folds into a constant: a frame bound read
  // from a column (rules_params) is evaluated row by row, and telemetry_risk's window cost about 4% more CPU so.
  await db.run(`SET VARIABLE ${SPIKE_WINDOW_VARIABLE} = (SELECT spike_window_events FROM rules_params)`);
}
