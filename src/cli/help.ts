// Help conventions, applied to every command of the tree in one place: examples under each command's options,
// the exit codes under the top-level help, the keys under `tui --help`, and defaults printed one way
// ("(default: VALUE)", never quoted, never "[]"). A command file may add more help text of its own.
import type { Command } from 'commander';
import { HELP as TUI_KEYS } from '../tui/screen.js';

/** Examples per command path (names below the root joined by a space). Each is a full `surgctl ...` line. */
const EXAMPLES: Record<string, string[]> = {
  '': ['surgctl pipeline', 'surgctl validate data/ --format junit > validate.xml', 'surgctl report top-alerts --limit 5'],
  schemas: ['surgctl schemas', 'surgctl schemas telemetry > telemetry.schema.json'],
  generate: [
    'surgctl generate --seed 11 --scale 0.1 --out demo',
    'surgctl generate --data-format parquet --telemetry-rows 1000000 --out big',
    'surgctl generate --shard 2/4 --out part2   # part 2 of 4, on another machine',
  ],
  transform: ['surgctl transform', 'surgctl transform --dry-run', 'surgctl transform --select telemetry_risk+ --rules rules.json'],
  rules: ['surgctl rules show', 'surgctl rules plan --rules stricter.rules.json'],
  'rules show': ['surgctl rules show', 'surgctl rules show --rules project.rules.json --format json'],
  'rules plan': ['surgctl rules plan --rules stricter.rules.json'],
  validate: [
    'surgctl validate data/telemetry.csv',
    'surgctl validate data/ --max-invalid 0.5% --format junit > validate.xml',
    'gunzip -c vitals.ndjson.gz | surgctl validate - --schema vitals --format github',
  ],
  load: [
    'surgctl load data/ --db lake.duckdb',
    'surgctl load data/telemetry.csv --max-invalid 0   # exit 1 if any row is quarantined',
    'consumer | surgctl load - --dataset telemetry --input-format ndjson --batch-rows 10000',
  ],
  loads: ['surgctl loads', 'surgctl loads --format json'],
  import: ['surgctl import fhir export/ --timezone Europe/London', 'surgctl import csv --profile synthea synthea/csv/'],
  'import csv': [
    'surgctl import csv --profile synthea synthea/csv/',
    'surgctl import csv --profile physionet-2012 set-a/ --allow-orphans --dry-run',
    'surgctl import csv --profile ./my-monitor.json monitor.csv --timezone America/New_York --out contract/',
  ],
  'import fhir': [
    'surgctl import fhir export/Patient.ndjson export/Observation.ndjson',
    'surgctl import fhir bundle.json --timezone UTC --dry-run',
    'curl -s $FHIR/Observation | surgctl import fhir - --allow-orphans',
  ],
  profiles: ['surgctl profiles', 'surgctl profiles show physionet-2012 > my-profile.json'],
  'profiles show': ['surgctl profiles show synthea'],
  quarantine: ['surgctl quarantine list', 'surgctl quarantine show L20260105T000000Z-1a2b3c4d', 'surgctl quarantine replay L20260105T000000Z-1a2b3c4d'],
  'quarantine list': ['surgctl quarantine list', 'surgctl quarantine list --format json'],
  'quarantine show': ['surgctl quarantine show L20260105T000000Z-1a2b3c4d --limit 20'],
  'quarantine replay': ['surgctl quarantine replay L20260105T000000Z-1a2b3c4d   # after fixing the schema or the rows'],
  pipeline: ['surgctl pipeline', 'surgctl pipeline --seed 42 --scale 5 --data-format parquet', 'surgctl pipeline --format json > summary.json'],
  config: ['surgctl config show', 'surgctl config show --format json'],
  'config show': ['surgctl config show', 'surgctl config show --config ci.config.json --format json'],
  runs: ['surgctl runs', 'surgctl runs --limit 5 --format json', 'surgctl runs show R20260105T000000Z-1a2b3c4d'],
  'runs show': ['surgctl runs show R20260105T000000Z-1a2b3c4d'],
  completion: ['eval "$(surgctl completion bash)"', 'surgctl completion zsh > ~/.zfunc/_surgctl'],
  tui: ['surgctl tui', 'surgctl tui --db lake.duckdb --out exports'],
  report: ['surgctl report summary', 'surgctl report top-alerts --min-level critical --limit 10', 'surgctl report summary --format html --out summary.html'],
  export: ['surgctl export telemetry_risk --out risk.parquet --where risk_level=critical', 'surgctl export vitals_hourly --out vitals/ --partition-by patient_id', 'surgctl export telemetry_risk --out risk_by_day/ --partition-by "day(recorded_at)"'],
  query: ['surgctl query "SELECT level, count(*) AS n FROM alerts GROUP BY ALL"', 'surgctl query "SELECT * FROM alerts" --format csv --out alerts.csv'],
  publish: [
    'DATABASE_URL=postgresql://app@db.internal:5432/clinic surgctl publish',
    'surgctl publish --to postgresql://app@127.0.0.1:5432/clinic --schema serving alerts telemetry_risk',
    'surgctl publish --raw --full   # every mart and raw table, rewritten in full',
  ],
  version: ['surgctl version', 'surgctl version --verbose', 'surgctl --version --verbose --format json'],
};

const EXIT_CODES_HELP = [
  'Exit codes:',
  '  0    success',
  '  1    the data failed a gate (--max-invalid, a file that does not fit its dataset, model tests)',
  '  2    usage or configuration error (bad flag or value, missing file, unknown dataset, output exists)',
  '  3    runtime failure (I/O, database locked or corrupt, internal)',
  '  130  interrupted',
].join('\n');

/** The path of a command below the root: '' for the root, 'rules show' for a subcommand. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** How a default value prints: the value itself, no quotes; an empty list is "none". */
function describeDefault(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(',');
  return String(value);
}

/** Applies the help conventions to one command (not its subcommands). */
export function applyHelpConventions(cmd: Command): void {
  for (const opt of cmd.options) {
    if (opt.defaultValue !== undefined && opt.defaultValueDescription === undefined && !opt.negate && typeof opt.defaultValue !== 'boolean') {
      opt.defaultValueDescription = describeDefault(opt.defaultValue);
    }
  }
  const path = commandPath(cmd);
  const extra: string[] = [];
  if (path === 'tui') extra.push(['Keys:', ...TUI_KEYS.map(([k, what]) => `  ${k.padEnd(10)}  ${what}`)].join('\n'));
  const examples = EXAMPLES[path];
  if (examples) extra.push(['Examples:', ...examples.map((e) => `  $ ${e}`)].join('\n'));
  if (path === '') extra.push(EXIT_CODES_HELP);
  if (extra.length) cmd.addHelpText('after', `\n${extra.join('\n\n')}\n`);
}
