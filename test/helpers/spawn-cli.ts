// spawnSurgctl: runs the built CLI (bin/surgctl.js, so dist/ must be built, as `npm test` does) in a real child
// process, for tests that kill it, signal it or need its exit as a process sees it.
import { spawn, spawnSync } from 'node:child_process';
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

let nobodyReason: string | undefined | null = null;

/**
 * Why a test that runs the CLI as the unprivileged `nobody` (root ignores permission bits) cannot run here, or
 * undefined when it can: as root, `nobody` must be able to read the checkout (a clone inside a directory only its
 * owner may enter, such as `mktemp -d`'s, is not). Such a test skips with this reason, printed, instead of failing
 * with Node's "Cannot find module". Not root: undefined (the test runs as the user).
 */
export function nobodySkipReason(): string | undefined {
  if (nobodyReason !== null) return nobodyReason;
  nobodyReason = undefined;
  if (process.getuid?.() === 0) {
    const r = spawnSync(process.execPath, [BIN, '--version'], { encoding: 'utf8', uid: 65534, gid: 65534 });
    if (r.status !== 0) {
      nobodyReason = `SKIPPED: this permission test runs surgctl as the user nobody (uid 65534), who cannot run ${BIN} `
        + `here (${firstErrorLine(r.stderr || String(r.error ?? '')) ?? `exit ${r.status}`}); `
        + 'make the checkout and its parent directories readable by others (chmod o+rx) to run it';
      console.warn(nobodyReason);
    }
  }
  return nobodyReason;
}

function firstErrorLine(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.find((l) => /Error\b/.test(l)) ?? lines[0];
}
