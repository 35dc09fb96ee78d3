// `surgctl tui`: the interactive alert browser. The data layer, ink and react load only inside the action (await
// import), so `surgctl --help` and every other command stay fast. Needs a TTY; a pipe gets one line and exit 2.
import { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { TUI_ALTERNATIVE, requireLakehouse } from '../../core/tui-data/preflight.js';
import { UsageError } from '../../errors.js';
import { useColor } from '../io.js';
import type { CliContext } from '../io.js';

interface TuiFlags {
  out?: string;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export const tuiCommand = (ctx: CliContext): Command =>
  new Command('tui')
    .description('browse, search, acknowledge and export alerts in the terminal')
    .option('--out <dir>', 'directory the x key exports into (default: the current directory)')
    .addHelpText('after', '\nAcknowledgements go to the alert_acks table as SURGCTL_USER (default: the OS user).\n'
      + 'The lakehouse stays open read-only; it is reopened read-write only while an acknowledgement is written.\n')
    .action(async (flags: TuiFlags) => {
      const { io } = ctx;
      if (flags.out === '-') {
        throw new UsageError('tui --out is the folder the x key exports into; the TUI draws on standard output, so it cannot be -', { field: '--out', hint: 'e.g. --out exports' });
      }
      const lake = ctx.lake();
      requireLakehouse(lake.path);
      const stdin = io.stdin as NodeJS.ReadStream;
      if (io.stdout.isTTY !== true || stdin.isTTY !== true) {
        throw new UsageError(`surgctl tui needs an interactive terminal (stdin and stdout a TTY); ${TUI_ALTERNATIVE}`);
      }
      const exportDir = resolve(io.cwd, flags.out ?? '.');
      if (!existsSync(exportDir) || !statSync(exportDir).isDirectory()) {
        throw new UsageError(`--out ${exportDir} is not a directory`);
      }
      const user = io.env.SURGCTL_USER || osUser();
      // ink and react take ~0.5 s to import. Loading them beside the first queries starves the queries' callbacks
      // (measured: the first frame then waits for ink), so the first frame is painted from the data first, and ink
      // loads after it; keys pressed meanwhile wait in the terminal.
      const [{ openAlertStore }, { BrowserController }, { openScreen, closeScreen }] = await Promise.all([
        import('../../core/tui-data/store.js'),
        import('../../tui/controller.js'),
        import('../../tui/paint.js'),
      ]);
      const store = await openAlertStore({ user }, { lake });
      const out = io.stdout as NodeJS.WriteStream;
      const term = { stdin, stdout: out, color: useColor(io, ctx.globals()) };
      let opened = false;
      try {
        const controller = new BrowserController(store, {
          user, exportDir, rows: out.rows ?? 24, columns: out.columns ?? 80,
        });
        await controller.init();
        openScreen(controller, term);
        opened = true;
        // ink reads CI at import (is-in-ci) and then draws only the final frame and ignores keys; the browser has
        // already checked it owns a terminal, so it is interactive whatever CI says (a shell in a CI job, a test).
        if (process.env.CI !== undefined) process.env.CI = 'false';
        if (process.env.CONTINUOUS_INTEGRATION !== undefined) process.env.CONTINUOUS_INTEGRATION = 'false';
        const { runTui } = await import('../../tui/run.js');
        await runTui(controller, term);
      } finally {
        if (opened) closeScreen(term);
        store.close();
      }
    });

