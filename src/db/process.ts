// Which process writes, and whether a process recorded by pid is still alive on this host: a writer's note
// (merge-gate.ts), a run record (interrupted-runs.ts) and a spill folder's name (db.ts) all ask it.
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
