// The list of verbs. Each factory builds one commander Command; main() attaches them in this order.
// Every command module is loaded at each start (the help lists them all), so each one imports only commander and
// light helpers at the top; its action loads the stage, DuckDB, ajv, chalk or cli-progress with `await import()`.
// test/e2e/startup.test.ts fails when --version, --help or schemas load any of them.
import type { Command } from 'commander';
import type { CliContext } from '../io.js';
import { schemasCommand } from './schemas.js';
import { generateCommand } from './generate.js';
import { transformCommand } from './transform.js';
import { rulesCommand } from './rules.js';
import { validateCommand } from './validate.js';
import { loadCommand, loadsCommand } from './load.js';
import { importCommand, profilesCommand } from './import.js';
import { quarantineCommand } from './quarantine.js';
import { reportCommand } from './report.js';
import { exportCommand } from './export.js';
import { queryCommand } from './query.js';
import { configCommand } from './config.js';
import { pipelineCommand } from './pipeline.js';
import { runsCommand } from './runs.js';
import { completionCommand } from './completion.js';
import { tuiCommand } from './tui.js';
import { versionCommand } from './version.js';
import { publishCommand } from './publish.js';

export type CommandFactory = (ctx: CliContext) => Command;

export const commandFactories: CommandFactory[] = [
  schemasCommand,
  generateCommand,
  transformCommand,
  rulesCommand,
  validateCommand,
  loadCommand,
  loadsCommand,
  importCommand,
  profilesCommand,
  quarantineCommand,
  pipelineCommand,
  configCommand,
  runsCommand,
  completionCommand,
  tuiCommand,
  reportCommand,
  exportCommand,
  queryCommand,
  publishCommand,
  versionCommand,
];
