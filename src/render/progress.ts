// A small progress reporter for long commands: a cli-progress bar on stderr when it is a TTY, otherwise nothing
// (or, with `lines`, one plain line per update). Commands feed it from their core's onEvent; the core never draws.
import cliProgress from 'cli-progress';

/** Where a bar is drawn (the CLI's stderr; a structural match, so render does not import the CLI). */
export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean | undefined;
  columns?: number | undefined;
}

export interface Progress {
  /** Sets the amount done (same unit as total) and, optionally, what is being worked on. */
  update(done: number, label?: string): void;
  /** Changes the total (for work whose size is known only after it starts). */
  setTotal(total: number): void;
  /** Ends the bar and leaves the line clean. Safe to call twice. */
  stop(): void;
  /** Prints a whole message line above the bar (the bar redraws below it); a plain line in `lines` mode; nothing when silent. */
  log(line: string): void;
}

export interface ProgressOptions {
  total: number;
  /** Unit shown after the counts, e.g. "rows". */
  unit?: string;
  /** Plain lines on a non-TTY stream (e.g. --verbose); default: silent there. */
  lines?: boolean;
  /** False turns the reporter off entirely (e.g. --quiet or --format json). */
  enabled?: boolean;
  /** False shows the percentage and label without value/total (for totals in internal steps). Default true. */
  counts?: boolean;
}

const silent: Progress = { update: () => undefined, setTotal: () => undefined, stop: () => undefined, log: () => undefined };

export function createProgress(stream: OutStream, options: ProgressOptions): Progress {
  if (options.enabled === false) return silent;
  const unit = options.unit ?? '';
  if (stream.isTTY !== true) {
    if (!options.lines) return silent;
    let total = options.total;
    return {
      update: (done, label) => {
        stream.write(`${label ? `${label}: ` : ''}${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}${unit ? ` ${unit}` : ''}\n`);
      },
      setTotal: (t) => {
        total = t;
      },
      stop: () => undefined,
      log: (line) => {
        stream.write(`${line}\n`);
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream: stream as unknown as NodeJS.WritableStream,
      format: options.counts === false ? '{bar} {percentage}% | {label}' : `{bar} {percentage}% | {value}/{total}${unit ? ` ${unit}` : ''} | {label}`,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 24,
      noTTYOutput: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(options.total, 0, { label: '' });
  let stopped = false;
  return {
    update: (done, label) => {
      if (!stopped) bar.update(done, label === undefined ? {} : { label });
    },
    setTotal: (t) => {
      if (!stopped) bar.setTotal(t);
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
    log: (line) => {
      if (stopped) {
        stream.write(`${line}\n`);
        return;
      }
      // Clear the bar's line, print the message, and make the bar's next tick redraw itself on the new line
      // (cli-progress redraws only when its text changed; lastDrawnString is what it compares with).
      stream.write(`\r\x1b[2K${line}\n`);
      (bar as unknown as { lastDrawnString: string | null }).lastDrawnString = null;
    },
  };
}
