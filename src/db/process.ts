// Which process writes, and whether a process recorded by pid is still alive on this host: a writer's note
// (merge-gate.ts), a run record (interrupted-runs.ts) and a spill folder's name (db.ts) all ask it. And this
// process's CPU time, which --debug prints beside each statement's wall time (db.ts onStatement, load).
import { hostname } from 'node:os';

/** Who writes: this process. Recorded on runs and transform_runs rows. */
export function writer(): { pid: number; host: string } {
  return { pid: process.pid, host: hostname() };
}

/** True when a process with this pid exists on this host (EPERM: it exists but is not ours). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * This process's CPU time (user + system, all threads) since `since` (a process.cpuUsage() reading; undefined: since
 * the process started), in ms.
 */
export function cpuMs(since: NodeJS.CpuUsage | undefined): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}
