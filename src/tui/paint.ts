// The terminal around the ink App: the alternate screen, and a first paint of the opening frame written straight
// from the screen lines before ink and react load (they take ~0.5 s to import), so the list shows as soon as the
// data is there. Ink then draws the same frame over it. Keys pressed meanwhile wait in the terminal.
import type { BrowserController } from './controller.js';
import type { Line } from './format.js';
import { screenLines } from './screen.js';

const ESC = '\u001b[';
const SGR_COLOR: Record<string, number> = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, white: 37, gray: 90 };

export const ALT_SCREEN_ON = `${ESC}?1049h${ESC}H`;
export const ALT_SCREEN_OFF = `${ESC}?1049l`;

/** One frame as ANSI text: each line styled, cleared to its end, the cursor left at the top. */
export function paintFrame(lines: Line[], color: boolean): string {
  const out = lines.map((line) => {
    const body = line
      .map((s) => {
        const codes: number[] = [];
        if (s.bold) codes.push(1);
        if (s.dim) codes.push(2);
        if (s.inverse) codes.push(7);
        const c = color && s.color !== undefined ? SGR_COLOR[s.color] : undefined;
        if (c !== undefined) codes.push(c);
        return codes.length === 0 ? s.text : `${ESC}${codes.join(';')}m${s.text}${ESC}0m`;
      })
      .join('');
    return `${body}${ESC}K`;
  });
  return `${ESC}H${out.join('\n')}\n${ESC}H`;
}

export interface Terminal {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  color: boolean;
}

/** Enters the alternate screen, stops the echo of early keys, and paints the controller's first frame. */
export function openScreen(controller: BrowserController, term: Terminal): void {
  term.stdout.write(ALT_SCREEN_ON);
  if (term.stdin.isTTY) term.stdin.setRawMode(true);
  term.stdout.write(`${ESC}?25l${paintFrame(screenLines(controller.getState()), term.color)}`);
}

/** Leaves the alternate screen and gives the terminal back as it was (cursor shown, raw mode off). */
export function closeScreen(term: Terminal): void {
  if (term.stdin.isTTY) term.stdin.setRawMode(false);
  term.stdout.write(`${ESC}?25h${ALT_SCREEN_OFF}`);
}
