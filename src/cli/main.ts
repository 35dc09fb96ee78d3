// The commander tree and main(): argv in, exit code out. Turns every error into one clear message (a stack
// trace only with --debug). Commands live in ./commands, one file per verb; heavy modules load lazily there.
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, UsageError, isSurgctlError, type SurgctlError } from '../errors.js';
import type { Lakehouse } from '../db/lakehouse.js';
import { DEFAULT_LOCK_TIMEOUT_S } from '../db/defaults.js';
import { dbPathFor, lakehouseFor, packageVersion, parseLockTimeout, processIo, resolveLakeSettings, type CliContext, type GlobalOptions, type Io, type LakeSettings } from './io.js';
import { commandFactories } from './commands/index.js';
import { applyHelpConventions, commandPath } from './help.js';

/** The Ctrl-C state main shares with the commands: the signal, and whether a command took charge of it. */
export interface Interrupt {
  readonly signal: AbortSignal;
  used: boolean;
}

/** Builds the whole command tree. No side effects at import or build time. */
export function createProgram(io: Io, interrupt: Interrupt = { signal: new AbortController().signal, used: false }): Command {
  const program = new Command('surgctl');
  // The configuration is resolved once, on first use inside an action (after the flags are parsed).
  let settings: LakeSettings | undefined;
  // One Lakehouse per path (a command's own --db may name another than the global one).
  const lakes = new Map<string, Lakehouse>();
  const ctx: CliContext = {
    io,
    globals: () => program.opts<GlobalOptions>(),
    get signal() {
      interrupt.used = true;
      return interrupt.signal;
    },
    settings: () => (settings ??= resolveLakeSettings(program.opts<GlobalOptions>(), io.env)),
    dbPath: (commandFlag) => dbPathFor(io, program.opts<GlobalOptions>(), commandFlag),
    lake: (commandFlag) => {
      const path = ctx.dbPath(commandFlag).path;
      let lake = lakes.get(path);
      if (lake === undefined) {
        lake = lakehouseFor(path, ctx.settings());
        lakes.set(path, lake);
      }
      return lake;
    },
    stage: (extra = {}, commandFlag) => ({ lake: ctx.lake(commandFlag), signal: extra.signal, onEvent: extra.onEvent }),
    work: (extra = {}) => ({ lake: lakehouseFor(':memory:', ctx.settings()), signal: extra.signal, onEvent: extra.onEvent }),
  };
  program
    .description('Data-engineering toolkit for robotic-surgery and patient telemetry')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--debug', 'show stack traces and SQL on errors')
    .option('-q, --quiet', 'print only warnings and errors on stderr')
    .option('-v, --verbose', 'print more detail on stderr')
    .option('--no-color', 'no colour (NO_COLOR is honoured too)')
    .addOption(new Option('--log-format <format>', 'stderr messages as text or JSON lines').choices(['text', 'json']))
    .option('--db <path>', 'lakehouse file (default: SURGCTL_DB, the config file\'s "db", or ./surgctl.duckdb)')
    .option('--config <path>', 'config file (default: ./surgctl.config.json)')
    .addOption(
      new Option('--lock-timeout <seconds>', `wait this long for another process holding the lakehouse (default: ${DEFAULT_LOCK_TIMEOUT_S})`).argParser(
        parseLockTimeout,
      ),
    )
    .showSuggestionAfterError(true);
  for (const make of commandFactories) program.addCommand(make(ctx));
  configure(program, io);
  return program;
}

function configure(cmd: Command, io: Io): void {
  applyHelpConventions(cmd);
  cmd.exitOverride();
  cmd.showSuggestionAfterError(true);
  // Global flags (--lock-timeout, --debug, ...) work before or after the command name; every help lists them.
  cmd.configureHelp({ showGlobalOptions: true });
  cmd.configureOutput({
    writeOut: (s) => io.stdout.write(s),
    writeErr: (s) => io.stderr.write(s),
    // main() prints commander's usage errors in our own style (surgctl: ... / hint: ...); remember which command.
    outputError: () => {
      usageErrorCommand.set(io, cmd);
    },
  });
  for (const sub of cmd.commands) configure(sub, io);
}

/** Runs surgctl with argv (without node and script). Returns the exit code; never throws. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  // Ctrl-C: the first aborts the running stage (it rolls back, records 'interrupted', and main prints one line and
  // returns 130); a second, or the first when the command does not handle it, exits at once.
  const abort = new AbortController();
  const interrupt: Interrupt = { signal: abort.signal, used: false };
  const onSigint = (): void => {
    if (abort.signal.aborted || !interrupt.used) {
      io.stderr.write('surgctl: interrupted\n');
      // process.exit() would wait for a running DuckDB statement; dying of SIGINT itself is immediate, and the shell
      // reports it as 130. What was left 'running' is marked 'interrupted' by the next writer.
      process.removeListener('SIGINT', onSigint);
      process.kill(process.pid, 'SIGINT');
      return;
    }
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  const program = createProgram(io, interrupt);
  const debug = argv.includes('--debug');
  const json = jsonErrors(argv);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return ExitCode.ok;
    }
    await program.parseAsync(verboseVersion(argv) ? ['--verbose', 'version', ...argv.filter((a) => a === '--format' || a === 'json' || a === 'text' || a.startsWith('--format='))] : argv, { from: 'user' });
    return ExitCode.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit through here with exitCode 0; commander already printed its message.
      if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return ExitCode.ok;
      if (e.code === 'commander.help') return ExitCode.ok;
      reportError(io, commanderUsageError(e, usageErrorCommand.get(io) ?? program), { debug, json });
      return ExitCode.usage;
    }
    if (isSurgctlError(e)) {
      reportError(io, e, { debug, json });
      return e.exitCode;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    if (json) io.stderr.write(`${JSON.stringify({ error: 'internal', message: err.message })}\n`);
    else {
      io.stderr.write(`surgctl: internal error: ${err.message}\n`);
      io.stderr.write(debug ? `${err.stack ?? ''}\n` : 'This is a bug. Re-run with --debug and report the output.\n');
    }
    return ExitCode.runtime;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

/** The command whose parse failed, per Io (set by commander's outputError just before it throws). */
const usageErrorCommand = new WeakMap<Io, Command>();

/** A commander usage error (unknown option, invalid choice, missing argument, ...) as our UsageError. */
function commanderUsageError(e: CommanderError, cmd: Command): UsageError {
  const message = e.message.replace(/^error:\s*/, '').trim().replace(/\s*\n\s*/g, ' ');
  const path = commandPath(cmd);
  const help = `surgctl ${path ? `${path} ` : ''}--help`;
  const hint = e.code === 'commander.unknownCommand' ? `${help} lists the commands` : `${help} lists the options and shows examples`;
  return new UsageError(message, { hint });
}

const VERSION_FLAGS = new Set(['-V', '--version', '-v', '--verbose', '--no-color', '--debug', '--format', 'json', 'text', '--format=json', '--format=text']);

/** `surgctl --version --verbose` (in any order, nothing else but those flags): the verbose `version` command. */
function verboseVersion(argv: string[]): boolean {
  return (argv.includes('-V') || argv.includes('--version')) && (argv.includes('-v') || argv.includes('--verbose')) && argv.every((a) => VERSION_FLAGS.has(a));
}

function jsonErrors(argv: string[]): boolean {
  const i = argv.indexOf('--format');
  if (i >= 0 && argv[i + 1] === 'json') return true;
  if (argv.includes('--format=json')) return true;
  const l = argv.indexOf('--log-format');
  return l >= 0 && argv[l + 1] === 'json';
}

function reportError(io: Io, e: SurgctlError, opts: { debug: boolean; json: boolean }): void {
  if (opts.json) {
    io.stderr.write(`${JSON.stringify(e.toJSON())}\n`);
  } else {
    const where = [e.file, e.line, e.field].filter((x) => x !== undefined).join(':');
    io.stderr.write(`surgctl: ${e.message}${where && !e.message.includes(String(e.file)) ? ` (${where})` : ''}\n`);
    if (e.hint) io.stderr.write(`hint: ${e.hint}\n`);
  }
  if (opts.debug) {
    const extra = e as SurgctlError & { sql?: string; params?: unknown };
    if (extra.sql) io.stderr.write(`sql: ${extra.sql}\nparams: ${JSON.stringify(extra.params)}\n`);
    io.stderr.write(`${e.stack ?? ''}\n`);
    if (e.cause instanceof Error) io.stderr.write(`caused by: ${e.cause.stack ?? e.cause.message}\n`);
  }
}
