// spawnSurgctl: runs the built CLI (bin/surgctl.js, so dist/ must be built, as `npm test` does) in a real child
// process, for tests that kill it, signal it or need its exit as a process sees it.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const BIN = resolve('bin/surgctl.js');

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `surgctl ...args` in cwd with NO_COLOR and `env` over the test's environment; resolves when it exits. */
export function spawnSurgctl(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}
