// runTui: mounts the App on a terminal already opened by openScreen (paint.ts) and resolves when the user quits.
import { render } from 'ink';
import { App } from './app.js';
import type { BrowserController } from './controller.js';
import type { Terminal } from './paint.js';

export async function runTui(controller: BrowserController, term: Terminal): Promise<void> {
  const app = render(<App controller={controller} color={term.color} />, {
    stdin: term.stdin,
    stdout: term.stdout,
    exitOnCtrlC: true,
    patchConsole: false,
  });
  await app.waitUntilExit();
}
