// The whole job on a small scale: summary counts agree with the ledger, a second run loads nothing new, the run
// history records both, and the metrics file is valid exposition text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openDb } from '../../src/db/db.js';
import { runCliWith, tempDir, type CliResult } from '../helpers/run-cli.js';
import { assertExposition } from '../helpers/prometheus.js';

let dir = '';
let cleanup = () => {};
let first: CliResult;
let second: CliResult;
const args = ['pipeline', '--scale', '0.05', '--format', 'json', '--metrics-file', 'surgctl.prom'];

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('surgctl-pipeline-'));
  first = await runCliWith({ cwd: dir, env: {} }, ...args);
  second = await runCliWith({ cwd: dir, env: {} }, ...args);
}, 300_000);
afterAll(() => cleanup());

type Row = { area: string; metric: string; value: number };
const metric = (rows: Row[], m: string): number | undefined => rows.find((r) => r.metric === m)?.value;

describe('surgctl pipeline', () => {
  it('succeeds and prints a summary whose counts agree with the ledger', async () => {
    expect(first.exitCode, first.stderr).toBe(0);
    const rows = JSON.parse(first.stdout) as Row[];
    const db = await openDb(join(dir, 'surgctl.duckdb'), { readOnly: true });
    try {
      const [l] = await db.all<{ inserted: number; quarantined: number; read: number; dup: number; ok: number }>(
        `SELECT sum(rows_inserted)::INTEGER AS inserted, sum(rows_quarantined)::INTEGER AS quarantined, sum(rows_read)::INTEGER AS read,
                sum(rows_duplicate)::INTEGER AS dup, count(*) FILTER (WHERE status = 'succeeded')::INTEGER AS ok FROM loads`,
      );
      expect(metric(rows, 'rows_inserted')).toBe(l!.inserted);
      expect(metric(rows, 'rows_quarantined')).toBe(l!.quarantined);
      expect(metric(rows, 'loads_succeeded')).toBe(l!.ok);
      expect(l!.read).toBe(l!.inserted + l!.dup + l!.quarantined);
      const robotsFile = (await db.scalar<string>("SELECT any_value(path) FROM loads WHERE dataset = 'robots'"))!;
      const manifest = JSON.parse(readFileSync(join(dirname(robotsFile), 'manifest.json'), 'utf8')) as { files: { rows: number }[] };
      expect(l!.read).toBe(manifest.files.reduce((s, f) => s + f.rows, 0));
      const events = await db.scalar<number>('SELECT count(*)::INTEGER FROM telemetry_risk');
      expect(metric(rows, 'events')).toBe(events);
    } finally {
      db.close();
    }
    expect(first.stderr).toContain('[generate]');
    expect(first.stderr).toContain('[transform]');
  });

  it('is safe to run twice: the second run generates and loads nothing new', () => {
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.stderr).toContain('already generated');
    expect(second.stderr).toMatch(/0 inserted/);
    expect(second.stderr).toContain('already loaded');
    expect(JSON.parse(second.stdout)).toEqual(JSON.parse(first.stdout));
  });

  it('records both runs in the run history', async () => {
    const r = await runCliWith({ cwd: dir, env: {} }, 'runs', '--format', 'json');
    expect(r.exitCode).toBe(0);
    const runs = JSON.parse(r.stdout) as { run_id: string; command: string; status: string; counts: Record<string, unknown> }[];
    const pipelines = runs.filter((x) => x.command === 'pipeline');
    expect(pipelines.map((p) => p.status)).toEqual(['succeeded', 'succeeded']);
    expect(runs.some((x) => x.command === 'load')).toBe(true);
    expect(runs.some((x) => x.command === 'transform')).toBe(true);
    const show = await runCliWith({ cwd: dir, env: {} }, 'runs', 'show', pipelines[0]!.run_id);
    expect(show.exitCode).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({ run_id: pipelines[0]!.run_id, command: 'pipeline' });
    const missing = await runCliWith({ cwd: dir, env: {} }, 'runs', 'show', 'R-nope');
    expect(missing.exitCode).toBe(2);
  });

  it('records the pipeline run from its real start: before its load and transform runs began, after they finished', async () => {
    const r = await runCliWith({ cwd: dir, env: {} }, 'runs', '--format', 'json');
    expect(r.exitCode).toBe(0);
    const runs = (JSON.parse(r.stdout) as { command: string; args: string | null; started_at: string; finished_at: string }[]).reverse();
    const pipeline = runs.find((x) => x.command === 'pipeline')!;
    const load = runs.find((x) => x.command === 'load' && (x.args ?? '').includes('pipeline:load'))!;
    const transform = runs.find((x) => x.command === 'transform')!;
    expect(pipeline.started_at <= load.started_at, `pipeline ${pipeline.started_at}, its load ${load.started_at}`).toBe(true);
    expect(pipeline.finished_at >= transform.finished_at).toBe(true);
  });

  it('shows load progress on a terminal (stderr a TTY) and none on a pipe', async () => {
    // The generated files are reused; fresh lakehouses load them all again.
    const tty = await runCliWith({ cwd: dir, env: {}, tty: true, stderrTty: true }, 'pipeline', '--scale', '0.05', '--db', 'tty.duckdb');
    expect(tty.exitCode, tty.stderr).toBe(0);
    expect(tty.stderr).toMatch(/\d+% \| \[\d+\/7\] \S+\.csv: /);
    const piped = await runCliWith({ cwd: dir, env: {} }, 'pipeline', '--scale', '0.05', '--db', 'piped.duckdb', '--format', 'json');
    expect(piped.exitCode, piped.stderr).toBe(0);
    expect(piped.stderr).not.toMatch(/%|\x1b/);
  }, 120_000);

  it('writes a valid Prometheus textfile with the documented metrics', () => {
    const text = readFileSync(join(dir, 'surgctl.prom'), 'utf8');
    assertExposition(text);
    for (const name of ['surgctl_rows_read_total', 'surgctl_rows_inserted_total', 'surgctl_rows_duplicate_total', 'surgctl_alerts', 'surgctl_stage_duration_seconds', 'surgctl_last_success_timestamp_seconds']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toMatch(/surgctl_last_run_success\{command="pipeline"\} 1/);
  });

  it('fails the gate with exit 1 when more rows are quarantined than --max-invalid allows', async () => {
    const r = await runCliWith({ cwd: dir, env: {} }, 'pipeline', '--scale', '0.05', '--bad-rows', '0.2', '--max-invalid', '1%', '--format', 'json', '--data-dir', 'other', '--db', 'other.duckdb');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('validation gate failed');
    expect(r.stdout).toBe('');
  });
});
