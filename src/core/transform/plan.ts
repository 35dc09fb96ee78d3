// `rules plan`: previews a rule change on the data already loaded. Computes the alert set under the rules in force
// and under the proposed rules, each into a TEMP table (the telemetry_risk and alerts models run as CTEs against
// the raw tables, nothing is written to the lakehouse), and diffs them in SQL: alerts that would appear,
// disappear or change level, by level and by trigger, plus the rule values that differ.
import { resolve } from 'node:path';
import type { Db } from '../../db/db.js';
import type { StageContext } from '../stage.js';
import { loadModels, type Model, type ModelSet } from './models.js';
import { RISK_LEVELS } from '../domain.js';
import { loadRules, type LoadedRules } from './rules.js';
import { existingTables } from './scope.js';
import { prepareSession, rulesInForce } from './transform.js';

/** What to plan; the lakehouse (which must exist; opened read-only, writing only TEMP tables) is the context's. */
export interface PlanInput {
  /** The proposed project rules file (merged over the shipped defaults). */
  proposedRules: string;
  /** For resolving the rules in force (config, ./surgctl.rules.json) and relative paths. */
  cwd?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  modelsDir?: string | undefined;
}

export interface PlanCounts {
  current: number;
  proposed: number;
  appear: number;
  disappear: number;
  level_changed: number;
}

export interface RulesPlan {
  db: string;
  current: { version: string; file: string | null };
  proposed: { version: string; file: string };
  /** Rule values that differ (dotted path), current vs proposed. */
  changed_rules: { path: string; current: unknown; proposed: unknown }[];
  /** Every alert, whatever its level. */
  totals: PlanCounts & { unchanged: number };
  /** By level: counts at that level now and after; appear/disappear at that level; level_changed into/out of it. */
  by_level: { level: string; current: number; proposed: number; appear: number; disappear: number; changed_in: number; changed_out: number }[];
  /** By trigger (latency, force, error, force_spike, velocity): alerts carrying it now and after, and the changes touching it. */
  by_rule: ({ rule: string } & PlanCounts)[];
  /** Level moves: from -> to, with counts. */
  level_moves: { from: string; to: string; alerts: number }[];
  /** The motion rules (rules file `motion`: jerk and idle thresholds) on motion_kpis, now and after. */
  motion: { current: MotionTotals; proposed: MotionTotals };
}

export interface MotionTotals {
  /** Samples whose jerk exceeds motion.jerk_high_mm_s3. */
  jerk_events: number;
  /** Procedure, arm and step groups with at least one jerk event. */
  steps_with_jerk: number;
  /** Seconds the tool tip moved slower than motion.idle_speed_mm_s (0.1 s precision). */
  idle_s: number;
}

/** The triggers alerts.sql can set, in the order by_rule lists them. */
const ALERT_TRIGGERS = ['latency', 'force', 'error', 'force_spike', 'velocity'] as const;

function modelNamed(set: ModelSet, name: string): Model {
  const m = set.models.find((x) => x.name === name);
  if (!m) throw new Error(`model ${name} is missing from ${set.dir}`);
  return m;
}

async function computeAlerts(db: Db, rules: LoadedRules, set: ModelSet, into: string, motionInto: string): Promise<void> {
  await prepareSession(db, rules, set);
  const risk = modelNamed(set, 'telemetry_risk').sql;
  const alerts = modelNamed(set, 'alerts').sql;
  await db.run(`CREATE OR REPLACE TEMP TABLE ${into} AS
    WITH telemetry_risk AS (
${risk}
    )
    SELECT * FROM (
${alerts}
    )`);
  // The motion rules act on motion_kpis, not on alerts: the same session (these rules' parameters) computes it.
  await db.run(`CREATE OR REPLACE TEMP TABLE ${motionInto} AS SELECT * FROM (
${modelNamed(set, 'motion_kpis').sql}
    )`);
}

async function motionTotals(db: Db, table: string): Promise<MotionTotals> {
  const row = (await db.all<MotionTotals & Record<string, unknown>>(`SELECT
      coalesce(sum(jerk_events), 0)::BIGINT::DOUBLE AS jerk_events,
      count(*) FILTER (WHERE jerk_events > 0)::INTEGER AS steps_with_jerk,
      round(coalesce(sum(idle_s), 0), 1)::DOUBLE AS idle_s
    FROM ${table}`))[0];
  return { jerk_events: Number(row?.jerk_events ?? 0), steps_with_jerk: Number(row?.steps_with_jerk ?? 0), idle_s: Number(row?.idle_s ?? 0) };
}

/** Builds the plan. Opens the lakehouse read-only; writes only TEMP tables. */
export async function planRules(opts: PlanInput, ctx: StageContext): Promise<RulesPlan> {
  const current = rulesInForce({ cwd: opts.cwd, env: opts.env });
  const proposed = loadRules(resolve(opts.cwd ?? process.cwd(), opts.proposedRules));
  const set = loadModels(opts.modelsDir);
  const db = await ctx.lake.openReader();
  try {
    const have = await existingTables(db, ['raw_telemetry']);
    if (!have.has('raw_telemetry')) {
      await db.run(`CREATE TEMP TABLE raw_telemetry (event_id VARCHAR, procedure_id VARCHAR, patient_id VARCHAR, robot_id VARCHAR,
        robot_arm VARCHAR, instrument VARCHAR, step VARCHAR, force_n DOUBLE, velocity_mm_s DOUBLE, latency_ms DOUBLE,
        error_code VARCHAR, recorded_at TIMESTAMPTZ, tool_x_mm DOUBLE, tool_y_mm DOUBLE, tool_z_mm DOUBLE, gripper_angle_rad DOUBLE)`);
    }
    await computeAlerts(db, current, set, '_plan_current', '_plan_motion_current');
    await computeAlerts(db, proposed, set, '_plan_proposed', '_plan_motion_proposed');
    await db.run(`CREATE OR REPLACE TEMP TABLE _plan_diff AS
      SELECT coalesce(c.alert_id, p.alert_id) AS alert_id,
             c.level AS current_level, p.level AS proposed_level,
             coalesce(c.triggers, []) AS current_triggers, coalesce(p.triggers, []) AS proposed_triggers,
             CASE WHEN c.alert_id IS NULL THEN 'appear'
                  WHEN p.alert_id IS NULL THEN 'disappear'
                  WHEN c.level <> p.level THEN 'level_changed'
                  ELSE 'unchanged' END AS change
      FROM _plan_current c FULL OUTER JOIN _plan_proposed p ON p.alert_id = c.alert_id`);
    const totals = (
      await db.all<RulesPlan['totals'] & Record<string, unknown>>(`SELECT
        count(current_level)::INTEGER AS current, count(proposed_level)::INTEGER AS proposed,
        count(*) FILTER (WHERE change = 'appear')::INTEGER AS appear,
        count(*) FILTER (WHERE change = 'disappear')::INTEGER AS disappear,
        count(*) FILTER (WHERE change = 'level_changed')::INTEGER AS level_changed,
        count(*) FILTER (WHERE change = 'unchanged')::INTEGER AS unchanged
      FROM _plan_diff`)
    )[0] as RulesPlan['totals'];
    const byLevel = await db.all<RulesPlan['by_level'][number] & Record<string, unknown>>(
      `SELECT l.level,
        count(*) FILTER (WHERE d.current_level = l.level)::INTEGER AS current,
        count(*) FILTER (WHERE d.proposed_level = l.level)::INTEGER AS proposed,
        count(*) FILTER (WHERE d.change = 'appear' AND d.proposed_level = l.level)::INTEGER AS appear,
        count(*) FILTER (WHERE d.change = 'disappear' AND d.current_level = l.level)::INTEGER AS disappear,
        count(*) FILTER (WHERE d.change = 'level_changed' AND d.proposed_level = l.level)::INTEGER AS changed_in,
        count(*) FILTER (WHERE d.change = 'level_changed' AND d.current_level = l.level)::INTEGER AS changed_out
      FROM (SELECT unnest($levels::JSON::VARCHAR[]) AS level, generate_subscripts($levels::JSON::VARCHAR[], 1) AS ord) l
      LEFT JOIN _plan_diff d ON d.current_level = l.level OR d.proposed_level = l.level
      GROUP BY l.level, l.ord ORDER BY l.ord`,
      { levels: JSON.stringify(RISK_LEVELS.filter((l) => l !== 'none')) },
    );
    const byRule = await db.all<RulesPlan['by_rule'][number] & Record<string, unknown>>(
      `SELECT r.rule,
        count(*) FILTER (WHERE list_contains(d.current_triggers, r.rule))::INTEGER AS current,
        count(*) FILTER (WHERE list_contains(d.proposed_triggers, r.rule))::INTEGER AS proposed,
        count(*) FILTER (WHERE d.change = 'appear' AND list_contains(d.proposed_triggers, r.rule))::INTEGER AS appear,
        count(*) FILTER (WHERE d.change = 'disappear' AND list_contains(d.current_triggers, r.rule))::INTEGER AS disappear,
        count(*) FILTER (WHERE d.change = 'level_changed'
                         AND (list_contains(d.current_triggers, r.rule) OR list_contains(d.proposed_triggers, r.rule)))::INTEGER AS level_changed
      FROM (SELECT unnest($triggers::JSON::VARCHAR[]) AS rule, generate_subscripts($triggers::JSON::VARCHAR[], 1) AS ord) r
      LEFT JOIN _plan_diff d ON list_contains(d.current_triggers, r.rule) OR list_contains(d.proposed_triggers, r.rule)
      GROUP BY r.rule, r.ord ORDER BY r.ord`,
      { triggers: JSON.stringify(ALERT_TRIGGERS) },
    );
    const moves = await db.all<RulesPlan['level_moves'][number] & Record<string, unknown>>(
      `SELECT current_level AS "from", proposed_level AS "to", count(*)::INTEGER AS alerts FROM _plan_diff
       WHERE change = 'level_changed' GROUP BY ALL ORDER BY "from", "to"`,
    );
    const cur = new Map(current.values.map((v) => [v.path, v.value]));
    const prop = new Map(proposed.values.map((v) => [v.path, v.value]));
    const changed = [...new Set([...cur.keys(), ...prop.keys()])]
      .filter((k) => JSON.stringify(cur.get(k)) !== JSON.stringify(prop.get(k)) && !k.endsWith('.source'))
      .map((k) => ({ path: k, current: cur.get(k), proposed: prop.get(k) }));
    return {
      db: ctx.lake.path,
      current: { version: current.rules.version, file: current.projectFile },
      proposed: { version: proposed.rules.version, file: proposed.projectFile as string },
      changed_rules: changed,
      totals,
      by_level: byLevel,
      by_rule: byRule,
      level_moves: moves,
      motion: { current: await motionTotals(db, '_plan_motion_current'), proposed: await motionTotals(db, '_plan_motion_proposed') },
    };
  } finally {
    db.close();
  }
}
