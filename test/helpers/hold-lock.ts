// Another process holding a lakehouse's lock: it opens the file read-write and keeps it until its stdin closes.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * Resolves with the child once it holds the lock, after running `statements` (each committed; e.g. a row the readers
 * must not see); release it with releaseLock, or kill it to play a writer that dies. Rejects when the child exits first.
 * The child keeps its DuckDB instance reachable (the stdin listener closes it): an instance nothing references is
 * closed by its finalizer at the next garbage collection, which drops the lock at a moment the machine's load decides
 * (merge-gate.test.ts once read the lakehouse a "live writer" held that way). The child collects garbage once before
 * it says it is ready, so a holder that loses its instance lets go before `ready`, every run, not now and then.
 */
export function holdLock(path: string, statements: readonly string[] = []): Promise<ChildProcess> {
  const api = resolve('node_modules/@duckdb/node-api/lib/index.js');
  const script = `import { DuckDBInstance } from ${JSON.stringify(api)};
    import { setFlagsFromString } from 'node:v8'; import { runInNewContext } from 'node:vm';
    const i = await DuckDBInstance.create(${JSON.stringify(path)}); const c = await i.connect();
    for (const sql of ${JSON.stringify(statements)}) await c.run(sql);
    process.stdin.resume(); process.stdin.on('end', () => { c.closeSync(); i.closeSync(); process.exit(0); });
    setFlagsFromString('--expose-gc'); const gc = runInNewContext('gc');
    setTimeout(() => { gc(); setTimeout(() => process.stdout.write('ready\\n'), 20); }, 0);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((res, rej) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && res(child));
    child.on('error', rej);
    child.on('exit', (code) => rej(new Error(`lock holder exited with ${code}`)));
  });
}

/** Closes the holder's stdin and waits for it to exit (the lock is free then). */
export async function releaseLock(holder: ChildProcess): Promise<void> {
  const exited = new Promise((r) => holder.once('close', r));
  holder.stdin!.end();
  await exited;
}

/** Kills the holder (a writer that dies holding the lock) and waits until it is gone. */
export async function killHolder(holder: ChildProcess): Promise<void> {
  if (holder.exitCode !== null || holder.signalCode !== null) return;
  const exited = new Promise((r) => holder.once('close', r));
  holder.kill('SIGKILL');
  await exited;
}
