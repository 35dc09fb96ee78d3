// The fuzz harness's properties (issue 12), run by the smoke in npm test (test/fuzz/fuzz-smoke.test.ts) and by
// `npm run fuzz` (test/fuzz/fuzz.fuzz.ts). One case = real bytes in a temp dir, validated by the real CLI in-process
// three ways (compiled on the line fast path, compiled exact staging, ajv) and loaded into a real lakehouse file.
// A failing property saves its shrunk counterexample under bench/out/fuzz-findings/ and throws with its path.
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCliWith, type CliResult } from '../helpers/run-cli.js';
import type { FuzzCase } from './generators.js';

export const FINDINGS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../bench/out/fuzz-findings');

interface FileReport {
  rows_read: number;
  rows_valid: number;
  rows_quarantined: number;
  failures_by_rule: Record<string, number>;
  file_errors: unknown[];
  engine: string;
}

interface QuarantineRecord {
  line: number;
  row: number;
  raw: unknown;
  errors: { field: string | null; keyword: string }[];
}

interface ValidateRun {
  label: string;
  cli: CliResult;
  report?: FileReport | undefined;
  quarantine: QuarantineRecord[];
}

/** Throws with a readable message when `ok` is false. */
function check(ok: boolean, message: () => string): asserts ok {
  if (!ok) throw new Error(message());
}

const brief = (r: CliResult): string => `exit ${r.exitCode}; stderr: ${r.stderr.trim().slice(0, 400)}`;

/** Exit 3 (runtime failure) and stack traces are what the harness exists to catch. */
function checkNoCrash(label: string, r: CliResult): void {
  check(r.exitCode !== 3, () => `${label}: exit 3 (runtime failure) on bad input; ${brief(r)}`);
  check(!r.stderr.includes('    at '), () => `${label}: stack trace on stderr; ${brief(r)}`);
  check([0, 1, 2].includes(r.exitCode), () => `${label}: unexpected exit code; ${brief(r)}`);
}

function readQuarantine(dir: string): QuarantineRecord[] {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.ndjson'));
  } catch {
    return [];
  }
  return files.flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as QuarantineRecord));
}

/** Per quarantined row: line, row and the set of failing field:keyword pairs (messages differ between engines). */
const verdicts = (q: QuarantineRecord[]): string[] =>
  q.map((r) => `${r.line}/${r.row}: ${[...new Set(r.errors.map((e) => `${e.field}:${e.keyword}`))].sort().join(' ')}`).sort();
const lines = (q: QuarantineRecord[]): string[] => q.map((r) => `${r.line}/${r.row}`).sort();

async function validateOnce(dir: string, file: string, schemaArgs: string[], label: string, engine: string, fast: boolean): Promise<ValidateRun> {
  const qdir = join(dir, `q-${label}`);
  // The fast-path switch is read once by the CLI from its environment (the Io env) and passed to core.
  const cli: CliResult = await runCliWith({ cwd: dir, env: { NO_COLOR: '1', SURGCTL_VALIDATE_FAST: fast ? '1' : '0' } }, 'validate', file, ...schemaArgs, '--engine', engine, '--format', 'json',
    '--max-invalid', '100%', '--quarantine-dir', qdir);
  checkNoCrash(`validate --engine ${engine}${engine === 'ajv' ? '' : fast ? ' (fast path on)' : ' (SURGCTL_VALIDATE_FAST=0)'}`, cli);
  let report: FileReport | undefined;
  if (cli.exitCode !== 2) {
    const parsed = JSON.parse(cli.stdout) as { files: FileReport[] };
    report = parsed.files[0];
    check(report !== undefined, () => `${label}: no file in the report`);
  }
  return { label, cli, report, quarantine: readQuarantine(qdir) };
}

export interface CaseOptions {
  /** Also load the file (built-in datasets only) and compare with validate. */
  load: boolean;
}

/**
 * The property for one case: no engine exits 3 or prints a stack trace; each report adds up (read = valid +
 * quarantined, one quarantine record per quarantined row); the three ways agree on counts and on which rows fail with
 * which field:keyword pairs (fast and exact compiled paths on everything); load agrees with validate and adds up.
 */
export async function checkCase(c: FuzzCase, opts: CaseOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'surgctl-fuzz-'));
  try {
    const file = join(dir, `${c.dataset}.csv`);
    writeFileSync(file, c.bytes);
    const schemaArgs: string[] = [];
    if (c.schema !== undefined) {
      writeFileSync(join(dir, 'fuzz.schema.json'), JSON.stringify(c.schema, null, 2));
      schemaArgs.push('--schema', join(dir, 'fuzz.schema.json'));
    }
    const compiledEngine = c.schema === undefined ? 'compiled' : 'auto';
    const runs = [
      await validateOnce(dir, file, schemaArgs, 'fast', compiledEngine, true),
      await validateOnce(dir, file, schemaArgs, 'exact', compiledEngine, false),
      await validateOnce(dir, file, schemaArgs, 'ajv', 'ajv', false),
    ];
    const [fast, exact, ajv] = runs as [ValidateRun, ValidateRun, ValidateRun];
    for (const r of runs) {
      check(r.cli.exitCode === exact.cli.exitCode, () => `exit codes differ: ${runs.map((x) => `${x.label} ${brief(x.cli)}`).join(' | ')}`);
      const rep = r.report;
      if (!rep) continue;
      check(rep.rows_read === rep.rows_valid + rep.rows_quarantined,
        () => `${r.label}: rows_read ${rep.rows_read} != valid ${rep.rows_valid} + quarantined ${rep.rows_quarantined}`);
      check(r.quarantine.length === rep.rows_quarantined,
        () => `${r.label}: ${rep.rows_quarantined} rows quarantined but ${r.quarantine.length} quarantine records written`);
      // A file refused as a whole (a file error, nothing read: e.g. csv_binary for a NUL byte) is a gate failure, not lost rows.
      const refused = rep.rows_read === 0 && rep.file_errors.length > 0;
      if (c.expectedRows !== undefined && !refused) {
        check(rep.rows_read === c.expectedRows, () => `${r.label}: ${c.style} file of ${c.expectedRows} rows read as ${rep.rows_read}`);
      }
    }
    if (!exact.report || !fast.report || !ajv.report) return;
    const counts = (r: FileReport): string => `read ${r.rows_read} valid ${r.rows_valid} quarantined ${r.rows_quarantined}`;
    check(counts(fast.report) === counts(exact.report), () => `fast path vs exact: ${counts(fast.report!)} vs ${counts(exact.report!)}`);
    check(JSON.stringify(fast.report.failures_by_rule) === JSON.stringify(exact.report.failures_by_rule),
      () => `fast path vs exact failures_by_rule: ${JSON.stringify(fast.report!.failures_by_rule)} vs ${JSON.stringify(exact.report!.failures_by_rule)}`);
    check(JSON.stringify(verdicts(fast.quarantine)) === JSON.stringify(verdicts(exact.quarantine)),
      () => `fast path vs exact quarantine: ${JSON.stringify(verdicts(fast.quarantine))} vs ${JSON.stringify(verdicts(exact.quarantine))}`);
    check(counts(ajv.report) === counts(exact.report), () => `ajv vs compiled: ${counts(ajv.report!)} vs ${counts(exact.report!)}`);
    check(JSON.stringify(verdicts(ajv.quarantine)) === JSON.stringify(verdicts(exact.quarantine)),
      () => `ajv vs compiled quarantine: ${JSON.stringify(verdicts(ajv.quarantine))} vs ${JSON.stringify(verdicts(exact.quarantine))}`);

    if (!opts.load || c.schema !== undefined) return;
    const qdir = join(dir, 'q-load');
    const load = await runCliWith({ cwd: dir, env: { NO_COLOR: '1' } }, 'load', file, '--db', join(dir, 'lake.duckdb'), '--allow-orphans',
      '--format', 'json', '--quarantine-dir', qdir, '--max-invalid', '100%');
    checkNoCrash('load', load);
    check(load.exitCode === exact.cli.exitCode, () => `load ${brief(load)} but validate exit ${exact.cli.exitCode}`);
    const lr = (JSON.parse(load.stdout) as { files: { rows_read: number; rows_inserted: number; rows_duplicate: number; rows_quarantined: number; status: string }[] }).files[0];
    check(lr !== undefined, () => 'load: no file in the result');
    if (lr.status !== 'succeeded') {
      // A file validate refused as a whole (empty, no header, ...) is not loaded, and nothing of it is kept.
      check(exact.report.file_errors.length > 0, () => `load ${lr.status} where validate found no file error: ${brief(load)}`);
      check(lr.rows_inserted === 0, () => `load ${lr.status} but inserted ${lr.rows_inserted} rows`);
      return;
    }
    check(lr.rows_read === lr.rows_inserted + lr.rows_duplicate + lr.rows_quarantined,
      () => `load: rows_read ${lr.rows_read} != inserted ${lr.rows_inserted} + duplicate ${lr.rows_duplicate} + quarantined ${lr.rows_quarantined}`);
    check(lr.rows_read === exact.report.rows_read, () => `load read ${lr.rows_read} rows, validate ${exact.report!.rows_read}`);
    check(lr.rows_quarantined === exact.report.rows_quarantined, () => `load quarantined ${lr.rows_quarantined} rows, validate ${exact.report!.rows_quarantined}`);
    const lq = readQuarantine(qdir);
    check(JSON.stringify(lines(lq)) === JSON.stringify(lines(exact.quarantine)),
      () => `load and validate quarantined different rows: ${JSON.stringify(lines(lq))} vs ${JSON.stringify(lines(exact.quarantine))}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface PropertyResult {
  name: string;
  seed: number;
  numRuns: number;
  ran: number;
  failed: boolean;
  /** Where the shrunk counterexample was saved, and what broke. */
  counterexample?: string | undefined;
  error?: string | undefined;
  ms: number;
}

const show = (b: Uint8Array): string => JSON.stringify(Buffer.from(b).toString('latin1'));

/**
 * Runs `arb` through checkCase with a fixed seed and numRuns. On failure, writes the shrunk counterexample's bytes
 * (NAME-seedS.csv, plus .schema.json and a .txt with the message) to bench/out/fuzz-findings/ and returns it.
 * `ran` < numRuns without a failure means the time limit cut the run short.
 */
export async function runProperty(name: string, arb: fc.Arbitrary<FuzzCase>,
  opts: CaseOptions & { seed: number; numRuns: number; timeLimitMs?: number | undefined }): Promise<PropertyResult> {
  const started = Date.now();
  // The time limit bounds shrinking too: past it, the smallest counterexample found so far is reported.
  const details = await fc.check(fc.asyncProperty(arb, (c) => checkCase(c, opts)), {
    seed: opts.seed, numRuns: opts.numRuns, ...(opts.timeLimitMs === undefined ? {} : { interruptAfterTimeLimit: opts.timeLimitMs }),
  });
  const result: PropertyResult = { name, seed: opts.seed, numRuns: opts.numRuns, ran: details.numRuns, failed: details.failed, ms: Date.now() - started };
  if (details.failed && details.counterexample) {
    const [c] = details.counterexample;
    mkdirSync(FINDINGS_DIR, { recursive: true });
    const base = join(FINDINGS_DIR, `${name}-seed${opts.seed}`);
    writeFileSync(`${base}.csv`, c.bytes);
    if (c.schema) writeFileSync(`${base}.schema.json`, JSON.stringify(c.schema, null, 2));
    const message = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    writeFileSync(`${base}.txt`, `${name} (seed ${opts.seed}, style ${c.style}, dataset ${c.dataset}; file name ${c.dataset}.csv)\n${message}\n`
      + `bytes (latin1 view): ${show(c.bytes)}\ncounterexample path: ${JSON.stringify(details.counterexamplePath)}\n`);
    result.counterexample = `${base}.csv`;
    result.error = `${message}\n  style ${c.style}, dataset ${c.dataset}, bytes ${show(c.bytes).slice(0, 600)}\n  saved: ${base}.csv`;
  }
  return result;
}
