// `surgctl import csv|fhir`: map a source onto the contracts and load it the normal way (or --dry-run, or --out).
// `surgctl profiles [show NAME]`: the shipped source profiles. Parse flags, one core call, render.
import { Command, Option } from 'commander';
import { DEFAULT_MAX_INVALID } from '../../core/domain.js';
import type { ImportEvent, ImportInput, ImportResult } from '../../core/import/import.js';
import { GateFailedError, UsageError } from '../../errors.js';
import { renderTextTable } from '../../render/text-table.js';
import { say, wantsJson, type CliContext } from '../io.js';

interface ImportFlags {
  profile?: string;
  db?: string;
  timezone?: string;
  anchor?: string;
  dryRun?: boolean;
  out?: string;
  outFormat?: 'csv' | 'parquet';
  dataFormat?: 'csv' | 'parquet';
  force?: boolean;
  allowOrphans?: boolean;
  quarantineDir?: string;
  rules?: string;
  maxInvalid: string;
  format?: string;
  engine?: 'compiled' | 'reference' | 'auto';
  view?: string;
}

function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('--timezone <zone>', 'IANA time zone of naive timestamps (no Z, no offset), e.g. Europe/London; overrides the profile')
    .option('--anchor <instant>', 'instant that relative times (H:MM since admission) count from; overrides the profile')
    .option('--dry-run', 'map only: print what would load and the mapping coverage; write nothing')
    .option('--out <dir>', 'write contract files (one per dataset) into DIR instead of loading')
    .addOption(new Option('--data-format <format>', 'format of the --out files (as in generate and pipeline)').choices(['csv', 'parquet']).default('csv'))
    // The first spelling, kept working; --data-format is the project's word for the files a command writes.
    .addOption(new Option('--out-format <format>').choices(['csv', 'parquet']).hideHelp())
    .option('--force', 'import a source again even if it was imported with the same profile and options (idempotent by key); replace an --out directory surgctl wrote')
    .option('--allow-orphans', 'keep rows whose foreign keys do not resolve (e.g. vitals of patients not loaded)')
    .option('--quarantine-dir <dir>', 'where quarantine NDJSON files go', 'quarantine')
    .option('--rules <path>', 'project rules file (the glucose molar mass for mmol/L)')
    .option('--max-invalid <n|p%>', 'exit 1 when a file has more quarantined rows than this (checked after the load, which stays committed)', DEFAULT_MAX_INVALID)
    .addOption(new Option('--format <format>', 'table | json for the summary').choices(['table', 'json']));
}

export const importCommand = (ctx: CliContext): Command => {
  const cmd = new Command('import').description('map real data (FHIR R4, CSV feeds through a source profile) onto the contracts and load it');
  withCommonOptions(
    cmd
      .command('csv')
      .description('import CSV files through a source profile (surgctl profiles lists the shipped ones)')
      .argument('<inputs...>', 'files or directories')
      .option('--profile <name|file>', 'a shipped profile (synthea, physionet-2012, jigsaws: surgctl profiles lists them) or the path of your own profile JSON'),
  ).action(async (inputs: string[], flags: ImportFlags) => {
    if (!flags.profile) throw new UsageError('import csv needs --profile NAME|FILE', { hint: 'surgctl profiles lists the shipped profiles; see schemas/profile.schema.json to write your own' });
    await runImport(ctx, 'csv', inputs, flags);
  });
  withCommonOptions(
    cmd
      .command('fhir')
      .description('import FHIR R4 resources (Bulk Data NDJSON, Bundles, single resources; - for stdin) through SQL-on-FHIR ViewDefinitions')
      .argument('<inputs...>', 'files, directories, or - for stdin')
      .addOption(new Option('--engine <engine>', 'ViewDefinition engine').choices(['compiled', 'reference', 'auto']).default('auto')),
  ).action(async (inputs: string[], flags: ImportFlags) => {
    await runImport(ctx, 'fhir', inputs, flags);
  });
  return cmd;
};

async function runImport(ctx: CliContext, kind: 'csv' | 'fhir', inputs: string[], flags: ImportFlags): Promise<void> {
  const g = ctx.globals();
  const { overMaxInvalid, checkFilesLoaded, describeBreaches } = await import('../../core/load/gate.js');
  overMaxInvalid([], flags.maxInvalid);
  const lake = ctx.lake(flags.db);
  const onEvent = (e: ImportEvent): void => {
    if (e.type === 'mapped') say(ctx.io, g, `mapped ${e.path} (${e.dataset}): ${e.counts.rows_read} read, ${e.counts.mapped} mapped, ${sum(e.counts.skipped)} skipped, ${sum(e.counts.missing)} missing`, 'verbose');
    if (e.type === 'file-skipped') say(ctx.io, g, `skipped ${e.path}: already imported by ${e.previousLoadId} (use --force to import it again)`);
    if (e.type === 'abandoned') say(ctx.io, g, `marked ${e.count} unfinished earlier load(s) as failed`, 'warn');
    if (e.type === 'warning') say(ctx.io, g, `warning: ${e.message}`, 'warn');
  };
  const input: ImportInput = {
    inputs,
    cwd: ctx.io.cwd,
    profile: flags.profile ?? 'fhir',
    timezone: flags.timezone,
    anchor: flags.anchor,
    dryRun: flags.dryRun,
    out: flags.out,
    outFormat: flags.outFormat ?? flags.dataFormat,
    force: flags.force,
    allowOrphans: flags.allowOrphans,
    quarantineDir: flags.quarantineDir,
    rulesPath: flags.rules,
    args: ['import', kind, ...inputs],
    stdin: ctx.io.stdin,
    ...(flags.engine ? { engine: flags.engine } : {}),
  };
  const core = await import('../../core/import/import.js');
  // SURGCTL_FAULT=<step> (a test hook, as for load): SIGKILL at that step of a file's import (IMPORT_STEPS).
  const fault = ctx.io.env.SURGCTL_FAULT;
  if (fault) {
    if (!(core.IMPORT_STEPS as readonly string[]).includes(fault)) {
      throw new UsageError(`unknown SURGCTL_FAULT step ${fault}`, { hint: `one of ${core.IMPORT_STEPS.join(', ')}` });
    }
    input.atStep = (step) => {
      if (step === fault) process.kill(process.pid, 'SIGKILL');
    };
  }
  const stage = { lake, signal: ctx.signal, onEvent };
  const result = kind === 'csv' ? await core.importCsv(input, stage) : await core.importFhir(input, stage);
  const t = result.totals;
  say(ctx.io, g, `import ${kind}${result.mode === 'load' ? '' : ` (${result.mode})`}: ${result.files.length} file(s), ${t.rows_read} read, ${t.mapped} mapped, ${t.skipped} skipped, ${t.missing} missing` +
    (result.mode === 'load' ? `; ${t.rows_inserted} inserted, ${t.rows_duplicate} duplicate, ${t.rows_quarantined} quarantined` : '') +
    (t.unreadable > 0 ? `; ${t.unreadable} unreadable (no resource type a view maps: in no load, listed in the summary)` : ''));
  if (wantsJson(ctx.io, flags.format)) ctx.io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else ctx.io.stdout.write(renderImport(result));
  if (result.mode !== 'load') return;
  const loads = result.files.flatMap((f) => (f.load ? [f.load] : []));
  checkFilesLoaded(loads);
  const over = overMaxInvalid(core.gateInputs(loads, result.unreadable), flags.maxInvalid);
  if (over.length > 0) {
    const which = describeBreaches(over);
    throw new GateFailedError(`import gate failed, more than --max-invalid ${flags.maxInvalid}: ${which}. The import is committed: the valid rows are loaded and the rest are in the quarantine`, {
      file: over[0]?.path,
      hint: 'surgctl quarantine list shows why (keyword unit, timezone, anchor: see the import summary; orphan_foreign_key: import the patients first or pass --allow-orphans); fix the profile or the flags and import again with --force, or raise --max-invalid',
    });
  }
}

function sum(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}

function renderImport(r: ImportResult): string {
  const rows = r.files.map((f) => ({
    file: f.path,
    dataset: f.dataset ?? '-',
    status: f.status,
    read: f.counts?.rows_read ?? '',
    mapped: f.counts?.mapped ?? '',
    skipped: f.counts ? sum(f.counts.skipped) : '',
    missing: f.counts ? sum(f.counts.missing) : '',
    inserted: f.load?.rows_inserted ?? '',
    duplicate: f.load?.rows_duplicate ?? '',
    quarantined: f.load?.rows_quarantined ?? (f.counts ? sum(f.counts.quarantined_by_keyword) : ''),
  }));
  type Key = keyof (typeof rows)[number];
  const cols: Key[] = ['file', 'dataset', 'status', 'read', 'mapped', 'skipped', 'missing', ...(r.mode === 'load' ? (['inserted', 'duplicate'] as const) : []), 'quarantined'];
  let out = renderTextTable(rows, cols.map((c) => ({ header: c, value: (x: (typeof rows)[number]) => x[c], ...(['file', 'dataset', 'status'].includes(c) ? {} : { align: 'right' as const }) })));
  const section = (title: string, rec: Record<string, number>): void => {
    const entries = Object.entries(rec).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    if (entries.length === 0) return;
    out += `${title}:\n${entries.map(([k, v]) => `  ${String(v).padStart(7)}  ${k}`).join('\n')}\n`;
  };
  section('mapped by metric', r.by_metric);
  section('skipped by reason', r.skipped);
  const codes: Record<string, number> = {};
  for (const f of r.files) for (const [k, v] of Object.entries(f.counts?.unmapped_codes ?? {})) codes[k] = (codes[k] ?? 0) + v;
  section('codes not mapped (most frequent; add them to your own profile\'s readings.codes)', Object.fromEntries(Object.entries(codes).sort((a, b) => b[1] - a[1]).slice(0, 10)));
  section('missing readings by marker', r.missing);
  section('quarantined by the mapping, by keyword', r.quarantined_by_keyword);
  if (r.unreadable.length > 0) {
    out += `unreadable, in no load (no resource type a view maps):\n${r.unreadable.map((u) => {
      const where = [u.line === null ? '' : `:${u.line}`, u.entry === null ? '' : ` ${u.entry_of === 'array' ? 'array element' : 'Bundle entry'} ${u.entry}`].join('');
      return `  ${u.file}${where}${u.resource_type ? ` (${u.resource_type})` : ''}: ${u.reason}`;
    }).join('\n')}\n`;
  }
  for (const f of r.files) if (f.status === 'skipped' && f.message) out += `skipped ${f.path}: ${f.message}\n`;
  if (r.mode === 'dry-run') {
    for (const f of r.files) {
      if (!f.validation) continue;
      const rules = Object.entries(f.validation.failures_by_rule).map(([k, v]) => `${k} ${v}`).join(', ');
      out += `${f.path}: the contract check would pass ${f.validation.rows_valid} and quarantine ${f.validation.rows_quarantined}${rules ? ` (${rules})` : ''}; foreign keys are checked on load\n`;
    }
    for (const [ds, sample] of Object.entries(r.sample)) {
      if (sample.length === 0) continue;
      out += `first ${ds} rows that would load:\n${renderTextTable(sample, Object.keys(sample[0] as object).map((k) => ({ header: k, value: (x: Record<string, unknown>) => (x[k] === null || x[k] === undefined ? '' : String(x[k])) })))}`;
    }
  }
  return out;
}

export const profilesCommand = (ctx: CliContext): Command => {
  const cmd = new Command('profiles')
    .description('list the shipped source profiles for `import csv`, or print one')
    .addOption(new Option('--format <format>', 'table | json').choices(['table', 'json']))
    .action(async (flags: { format?: string }) => {
      const { listProfiles, loadProfile } = await import('../../core/import/profile.js');
      const rows = listProfiles().map((name) => {
        const p = loadProfile(name).profile;
        return { name, datasets: [...new Set(p.tables.flatMap((t) => (t.dataset ? [t.dataset] : [])))].join(', '), files: p.tables.filter((t) => !t.skip).map((t) => t.match).join(', '), description: p.description };
      });
      if (wantsJson(ctx.io, flags.format)) {
        ctx.io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      ctx.io.stdout.write(renderTextTable(rows, [
        { header: 'profile', value: (r) => r.name },
        { header: 'datasets', value: (r) => r.datasets },
        { header: 'files', value: (r) => r.files },
      ]));
    });
  cmd
    .command('show')
    .description('print a profile (shipped name or file) as JSON')
    .argument('<name>', 'a shipped profile name, or the path of a profile file')
    .action(async (name: string) => {
      const { loadProfile } = await import('../../core/import/profile.js');
      ctx.io.stdout.write(`${JSON.stringify(loadProfile(name, ctx.io.cwd).profile, null, 2)}\n`);
    });
  return cmd;
};
