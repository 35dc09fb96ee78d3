// `surgctl rules show`: the rules in force and where each value came from.
// `surgctl rules plan --rules FILE`: what a rule change would do to the alerts on the data already loaded.
import { Command, Option } from 'commander';
import type { RulesPlan } from '../../core/transform/plan.js';
import type { LoadedRules } from '../../core/transform/rules.js';
import { renderTextTable } from '../../render/text-table.js';
import { wantsJson, type CliContext } from '../io.js';

export const rulesCommand = (ctx: CliContext): Command => {
  const cmd = new Command('rules').description('show the transform rules in force, or preview a change to them');
  cmd
    .command('show')
    .description('print every rule value, and whether it is a default or comes from the project rules file')
    .option('--rules <path>', 'project rules file merged over the defaults (default: ./surgctl.rules.json)')
    .addOption(new Option('--format <format>', 'table | json').choices(['table', 'json']))
    .action(async (flags: { rules?: string; format?: string }) => {
      const { rulesInForce } = await import('../../core/transform/transform.js');
      const loaded = rulesInForce({ cwd: ctx.io.cwd, env: ctx.io.env, rulesPath: flags.rules });
      if (wantsJson(ctx.io, flags.format)) {
        ctx.io.stdout.write(`${JSON.stringify(showJson(loaded), null, 2)}\n`);
        return;
      }
      ctx.io.stdout.write(renderShow(loaded));
    });
  cmd
    .command('plan')
    .description('preview a rules file on the loaded data: alerts that would appear, disappear or change level')
    .requiredOption('--rules <file>', 'the proposed project rules file')
    .addOption(new Option('--format <format>', 'table | json').choices(['table', 'json']))
    .action(async (flags: { rules: string; format?: string }) => {
      ctx.lake().requireExisting();
      const { planRules } = await import('../../core/transform/plan.js');
      const plan = await planRules({ proposedRules: flags.rules, cwd: ctx.io.cwd, env: ctx.io.env }, ctx.stage());
      if (wantsJson(ctx.io, flags.format)) {
        ctx.io.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
        return;
      }
      ctx.io.stdout.write(renderPlan(plan));
    });
  return cmd;
};

function showJson(l: LoadedRules): Record<string, unknown> {
  return { version: l.rules.version, defaults: l.defaultsFile, project_file: l.projectFile, sha256: l.sha256, values: l.values, rules: l.rules };
}

function short(v: unknown): string {
  if (Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null && 'max' in x && 'score' in x)) {
    return (v as { max: number; score: number }[]).map((b) => `<=${b.max}:${b.score}`).join(' ');
  }
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function renderShow(l: LoadedRules): string {
  const values = l.values.filter((v) => !v.path.endsWith('.source'));
  const sources = l.values.filter((v) => v.path.endsWith('.source'));
  const head = `rules ${l.rules.version}: defaults ${l.defaultsFile}${l.projectFile ? `, overridden by ${l.projectFile}` : ' (no project rules file)'}\n`;
  const table = renderTextTable(values, [
    { header: 'rule', value: (v) => v.path },
    { header: 'value', value: (v) => short(v.value) },
    { header: 'from', value: (v) => (v.from === 'default' ? 'default' : v.from) },
  ]);
  const cites = sources.map((s) => `  ${s.path.replace(/\.source$/, '')}${s.from === 'default' ? '' : ` [${s.from}]`}: ${String(s.value)}`).join('\n');
  return `${head}${table}\nsources:\n${cites}\n`;
}

function renderPlan(p: RulesPlan): string {
  const t = p.totals;
  const lines = [
    `rules plan on ${p.db}: ${p.current.version}${p.current.file ? ` (${p.current.file})` : ' (defaults)'} -> ${p.proposed.version} (${p.proposed.file})`,
    `alerts: ${t.current} now, ${t.proposed} after: ${t.appear} appear, ${t.disappear} disappear, ${t.level_changed} change level, ${t.unchanged} unchanged`,
    '',
    'changed rules:',
    ...(p.changed_rules.length === 0 ? ['  (none)'] : p.changed_rules.map((c) => `  ${c.path}: ${short(c.current)} -> ${short(c.proposed)}`)),
    '',
    'by level:',
    renderTextTable(p.by_level, [
      { header: 'level', value: (r) => r.level },
      { header: 'now', value: (r) => r.current, align: 'right' },
      { header: 'after', value: (r) => r.proposed, align: 'right' },
      { header: 'appear', value: (r) => r.appear, align: 'right' },
      { header: 'disappear', value: (r) => r.disappear, align: 'right' },
      { header: 'moved in', value: (r) => r.changed_in, align: 'right' },
      { header: 'moved out', value: (r) => r.changed_out, align: 'right' },
    ]),
    'by rule (trigger):',
    renderTextTable(p.by_rule, [
      { header: 'rule', value: (r) => r.rule },
      { header: 'now', value: (r) => r.current, align: 'right' },
      { header: 'after', value: (r) => r.proposed, align: 'right' },
      { header: 'appear', value: (r) => r.appear, align: 'right' },
      { header: 'disappear', value: (r) => r.disappear, align: 'right' },
      { header: 'level changed', value: (r) => r.level_changed, align: 'right' },
    ]),
  ];
  if (p.level_moves.length > 0) {
    lines.push('level moves:', ...p.level_moves.map((m) => `  ${m.from} -> ${m.to}: ${m.alerts}`), '');
  }
  const m = p.motion;
  lines.push(
    'motion (motion_kpis; rules motion.jerk_high_mm_s3, motion.idle_speed_mm_s):',
    renderTextTable(
      [
        { measure: 'jerk events', now: m.current.jerk_events, after: m.proposed.jerk_events },
        { measure: 'steps with jerk', now: m.current.steps_with_jerk, after: m.proposed.steps_with_jerk },
        { measure: 'idle s', now: m.current.idle_s, after: m.proposed.idle_s },
      ],
      [
        { header: 'measure', value: (r) => r.measure },
        { header: 'now', value: (r) => r.now, align: 'right' },
        { header: 'after', value: (r) => r.after, align: 'right' },
      ],
    ),
  );
  return `${lines.join('\n')}\n`;
}
