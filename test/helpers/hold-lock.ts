// Another process holding a lakehouse's lock: it opens the file read-write and keeps it until its stdin closes.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/** Resolves with the child once it holds the lock; release it with releaseLock. */
export function holdLock(path: string): Promise<ChildProcess> {
  const api = resolve('node_modules/@duckdb/node-api/lib/index.js');
  const script = `import { DuckDBInstance } from ${JSON.stringify(api)};
    const i = await DuckDBInstance.create(${JSON.stringify(path)}); const c = await i.connect();
    process.stdout.write('ready\\n'); process.stdin.resume(); process.stdin.on('end', () => { c.closeSync(); i.closeSync(); process.exit(0); });`;
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
