// Streaming loads from a pipe (e.g. a Kafka consumer's output): lines are spooled to a batch file and each batch
// is committed as its own idempotent load when it reaches --batch-rows lines or --batch-seconds of age.
// Memory stays bounded: only the current line is held in JS.
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { InterruptedError, UsageError } from '../../errors.js';
import { loadDatasetSchema } from '../schemas.js';
import type { StageContext } from '../stage.js';
import { loadOneFile, runLoad, sumTotals, type FileLoadResult, type LoadEvent, type LoadInput, type LoadOptions, type LoadResult } from './load.js';

/** loadStream's input: the stream and the load's flags. */
export interface StreamInput extends LoadInput {
  /** NDJSON, or CSV with its header as the first line. */
  stream: NodeJS.ReadableStream;
  /** What each batch's ledger entry is named after: `<label>#<n>` (default 'stdin'). */
  label?: string | undefined;
  batchRows?: number | undefined;
  batchSeconds?: number | undefined;
}

/**
 * Reads NDJSON (or CSV with its header as the first line) from `input.stream` and loads it in batches into the
 * context's lakehouse. Each batch is a ledger entry named `<label>#<n>`.
 */
export async function loadStream(streamInput: StreamInput, ctx: StageContext<LoadEvent>): Promise<LoadResult> {
  const { stream: input, label = 'stdin', ...rest } = streamInput;
  const opts: LoadOptions & Pick<StreamInput, 'batchRows' | 'batchSeconds'> = { ...rest, ...ctx };
  if (!opts.dataset) throw new UsageError('reading from stdin needs --dataset NAME', { hint: 'e.g. surgctl load --dataset telemetry --format ndjson -' });
  const ds = loadDatasetSchema(opts.dataset);
  const format = opts.format ?? 'ndjson';
  if (format === 'parquet') throw new UsageError('parquet cannot be streamed from stdin', { hint: 'use --format ndjson or csv' });
  const batchRows = opts.batchRows ?? 50_000;
  const batchMs = (opts.batchSeconds ?? 5) * 1000;
  const spool = mkdtempSync(join(tmpdir(), 'surgctl-stream-'));
  const files: FileLoadResult[] = [];
  try {
    // Each batch is staged in a scratch of its own; the lakehouse is locked only for its merge (see load.ts).
    return await runLoad(opts, opts.args ?? ['-'], async (openLake) => {
      let header: string | undefined;
      let n = 0;
      let rows = 0;
      let out: WriteStream | undefined;
      let path = '';
      let started = 0;
      const flush = async (): Promise<void> => {
        if (!out) return;
        const w = out;
        out = undefined;
        await new Promise<void>((res, rej) => w.end((err?: Error | null) => (err ? rej(err) : res())));
        if (rows > 0) {
          files.push(await loadOneFile(openLake, { path, display: `${label}#${n}`, ds }, opts, { format }));
        }
        rmSync(path, { force: true });
        rows = 0;
      };
      const open = (): void => {
        n += 1;
        path = join(spool, `batch-${n}.${format}`);
        out = createWriteStream(path);
        if (format === 'csv' && header !== undefined) out.write(`${header}\n`);
        started = Date.now();
      };
      // One chain serialises writes and flushes: a batch also commits when it ages past --batch-seconds while the
      // pipe is quiet, not only when the next line arrives.
      let chain: Promise<void> = Promise.resolve();
      const enqueue = (fn: () => Promise<void> | void): Promise<void> => (chain = chain.then(fn));
      const timer = setInterval(() => {
        if (out && Date.now() - started >= batchMs) void enqueue(flush).catch(() => undefined);
      }, Math.max(50, Math.min(1000, batchMs / 4)));
      try {
        // Ctrl-C closes the reader even while it waits for the pipe; the open batch is then not loaded.
        for await (const line of createInterface({ input, crlfDelay: Infinity, ...(opts.signal ? { signal: opts.signal } : {}) })) {
          if (format === 'csv' && header === undefined) {
            header = line;
            continue;
          }
          if (line.trim() === '') continue;
          await enqueue(async () => {
            if (!out) open();
            (out as unknown as WriteStream).write(`${line}\n`);
            rows += 1;
            if (rows >= batchRows) await flush();
          });
        }
        if (opts.signal?.aborted) throw new InterruptedError();
        await enqueue(flush);
      } catch (e) {
        if (!opts.signal?.aborted) throw e;
        await chain.catch(() => undefined);
        const kept = files.filter((f) => f.status === 'succeeded').length;
        if (e instanceof InterruptedError && e.message !== 'interrupted') throw e;
        // A batch being committed rolls back (loadOneFile); lines still spooling were never committed.
        throw new InterruptedError(
          e instanceof InterruptedError && out === undefined && rows > 0
            ? `load of ${label}#${n} rolled back; ${kept} earlier batch(es) kept`
            : `load from ${label} stopped; ${kept} earlier batch(es) kept; the ${rows} line(s) of the open batch were not loaded`,
        );
      } finally {
        clearInterval(timer);
      }
    return { db: opts.lake.path, files, totals: sumTotals(files) };
    });
  } finally {
    rmSync(spool, { recursive: true, force: true });
  }
}
