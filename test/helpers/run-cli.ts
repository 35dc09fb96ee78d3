// runCli(...argv): runs main() in-process with captured streams. Every CLI test asserts the exit code.
import { afterEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  stdin?: string;
  tty?: boolean;
  /** Whether stderr is a TTY too (default: as tty). */
  stderrTty?: boolean;
  columns?: number;
}

export async function runCliWith(options: RunOptions, ...argv: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: { write: (s: string) => (stdout += s), isTTY: options.tty ?? false, columns: options.columns ?? 120 },
    stderr: { write: (s: string) => (stderr += s), isTTY: options.stderrTty ?? options.tty ?? false, columns: options.columns ?? 120 },
    env: { ...(options.env ?? { NO_COLOR: '1' }) },
    cwd: options.cwd ?? process.cwd(),
    stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
  };
  const exitCode = await main(argv, io);
  return { exitCode, stdout, stderr };
}

export function runCli(...argv: string[]): Promise<CliResult> {
  return runCliWith({}, ...argv);
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'surgctl-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A maker of scratch directories for a test file: each call gives a new one, all removed after each test. */
export function scratchDirs(): () => string {
  const cleanups: (() => void)[] = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));
  return () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    return t.dir;
  };
}
