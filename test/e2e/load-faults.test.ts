// Fault injection at every step of a load (SURGCTL_FAULT=<step>: the real process SIGKILLs itself there), then a
// rerun of the same command without the fault: the lakehouse, the ledger and the quarantine files must come out
// exact against the generator's manifest, and the killed load's scratch must be gone, whatever step the first
// process died at (before the 'running' row, while staging in the scratch, with the lakehouse attached, inside the
// merge, after it). The killed loads make a read snapshot for every merge: one left by a kill is never read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../src/db/db.js';
import { LOAD_STEPS } from '../../src/core/load/load.js';
import { tempDir } from '../helpers/run-cli.js';
import { BIN, spawnSurgctl } from '../helpers/spawn-cli.js';

const DATASETS = ['robots', 'patients', 'procedures', 'telemetry'];
let dir = '';
let data = '';
let base = '';
let cleanup = (): void => {};
let manifest: { files: { path: string; rows: number }[]; bad_rows: { file: string; line: number }[] };

const surgctl = spawnSurgctl;

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('surgctl-faults-'));
  data = join(dir, 'data');
  const gen = spawnSync(
    process.execPath,
    [BIN, 'generate', '--out', data, '--robots', '2', '--patients', '6', '--procedures', '6', '--telemetry-rows', '300', '--bad-rows', '0.03', '--datasets', DATASETS.join(','), '-q'],
    { cwd: dir, encoding: 'utf8' },
  );
  expect(gen.status, gen.stderr).toBe(0);
  manifest = JSON.parse(readFileSync(join(data, 'manifest.json'), 'utf8')) as typeof manifest;
  expect(manifest.bad_rows.filter((b) => b.file === 'telemetry.csv').length).toBeGreaterThan(3);
  // The referenced datasets, loaded once; each fault case copies this lakehouse and then loads telemetry.csv.
  base = join(dir, 'base.duckdb');
  const r = await surgctl(dir, ['load', join(data, 'robots.csv'), join(data, 'patients.csv'), join(data, 'procedures.csv'), '--db', base, '-q']);
  expect(r.code, r.stderr).toBe(0);
}, 120_000);
afterAll(() => cleanup());

/** Asserts the invariants of a lakehouse after a completed load of the whole generated dataset. */
async function expectExact(dbPath: string, qdir: string): Promise<void> {
  const db = await openDb(dbPath, { readOnly: true });
  try {
    for (const ds of DATASETS) {
      const file = `${ds}.csv`;
      const rows = manifest.files.find((f) => f.path === file)?.rows ?? -1;
      const bad = manifest.bad_rows.filter((b) => b.file === file).length;
      // Every valid, unique generated row exactly once.
      expect(await db.scalar(`SELECT count(*)::INTEGER FROM raw_${ds}`), ds).toBe(rows - bad);
      expect(await db.scalar(`SELECT count(DISTINCT _source_line)::INTEGER FROM raw_${ds}`), ds).toBe(rows - bad);
      // Every bad row exactly once in the quarantine table, at the lines the generator planted.
      const lines = await db.all<{ line: number }>(
        `SELECT line::INTEGER AS line FROM quarantine WHERE dataset = $ds ORDER BY line`,
        { ds },
      );
      expect(lines.map((l) => l.line), ds).toEqual(manifest.bad_rows.filter((b) => b.file === file).map((b) => b.line).sort((a, b) => a - b));
      // One succeeded ledger row per file content, and its rows add up.
      const ok = await db.all<{ r: number; i: number; d: number; q: number; qf: string | null; load_id: string }>(
        `SELECT rows_read::INTEGER AS r, rows_inserted::INTEGER AS i, rows_duplicate::INTEGER AS d, rows_quarantined::INTEGER AS q,
           quarantine_file AS qf, load_id FROM loads WHERE dataset = $ds AND status = 'succeeded'`,
        { ds },
      );
      expect(ok, ds).toHaveLength(1);
      const l = ok[0]!;
      expect(l.r, ds).toBe(rows);
      expect(l.i + l.d + l.q, ds).toBe(l.r);
      expect(l.q, ds).toBe(bad);
      if (bad > 0) {
        // The quarantine file exists, whole, with exactly the table's rows.
        expect(l.qf).toBe(join(qdir, `${file}.${l.load_id}.quarantine.ndjson`));
        const fileLines = readFileSync(l.qf!, 'utf8').trim().split('\n').map((s) => (JSON.parse(s) as { line: number }).line);
        expect(fileLines, ds).toEqual(lines.map((x) => x.line));
      }
    }
    expect(await db.scalar("SELECT count(*)::INTEGER FROM loads WHERE status = 'running'")).toBe(0);
    expect(await db.scalar("SELECT count(*)::INTEGER FROM runs WHERE status = 'running'")).toBe(0);
  } finally {
    db.close();
  }
  expect(readdirSync(qdir).filter((n) => n.includes('.tmp-'))).toEqual([]);
}

describe.concurrent('a load killed at each step, then rerun, is exact', () => {
  for (const step of LOAD_STEPS) {
    it(`SIGKILL at ${step}`, async () => {
      const { dir: work, cleanup: done } = tempDir(`surgctl-fault-${step}-`);
      try {
        const db = join(work, 'lake.duckdb');
        copyFileSync(base, db);
        const qdir = join(work, 'quarantine');
        // Every merge makes a read snapshot here (SURGCTL_READ_SNAPSHOT_ROWS=0), so kills also land while one is up.
        const killed = await surgctl(work, ['load', join(data, 'telemetry.csv'), '--db', db, '-q'], { SURGCTL_FAULT: step, SURGCTL_READ_SNAPSHOT_ROWS: '0' });
        expect(killed.signal, killed.stderr).toBe('SIGKILL');
        const snapshotLeft = existsSync(`${db}.surgctl-snapshot`);
        expect(snapshotLeft, step).toBe(['lake-attached', 'mid-insert', 'before-commit'].includes(step));
        const again = await surgctl(work, ['load', data, '--db', db, '--format', 'json', '--max-invalid', '100%']);
        expect(again.code, again.stderr).toBe(0);
        await expectExact(db, qdir);
        // The killed load's scratch (staged beside the lakehouse) is gone: the rerun removed it; so are its note and
        // its read snapshot (expectExact's reader above read the lakehouse, not the stale snapshot).
        expect(readdirSync(work).filter((n) => n.startsWith('.surgctl-stage-') || n.includes('.surgctl-snapshot') || n.includes('.surgctl-writer')), step).toEqual([]);
        if (step === 'after-commit') {
          // The file committed before the kill: the rerun skipped it (same content) and only derived its file.
          expect(again.stderr).toContain('wrote the missing quarantine file');
          expect((JSON.parse(again.stdout) as { files: { status: string }[] }).files.map((f) => f.status)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
        }
      } finally {
        done();
      }
    }, 60_000);
  }
});

describe('the quarantine file is a derived copy', () => {
  it('a quarantine directory that cannot be written keeps the load succeeded and exact; the next load writes the file', async () => {
    const { dir: work, cleanup: done } = tempDir('surgctl-qfull-');
    try {
      const db = join(work, 'lake.duckdb');
      copyFileSync(base, db);
      const qdir = join(work, 'quarantine');
      writeFileSync(qdir, 'a file where the quarantine directory should be: mkdir fails, like a full disk\n');
      const first = await surgctl(work, ['load', data, '--db', db, '--format', 'json', '--max-invalid', '100%']);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toContain('warning: quarantine file');
      const out = JSON.parse(first.stdout) as { files: { path: string; status: string; rows_inserted: number; rows_quarantined: number }[] };
      const tel = out.files.find((f) => f.path.endsWith('telemetry.csv'))!;
      expect(tel.status).toBe('succeeded');
      expect(tel.rows_quarantined).toBe(manifest.bad_rows.filter((b) => b.file === 'telemetry.csv').length);

      // The "disk" has room again: the rerun skips the file (its content loaded) and derives the missing file.
      rmSync(qdir);
      const again = await surgctl(work, ['load', data, '--db', db, '--format', 'json', '--max-invalid', '100%']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain('wrote the missing quarantine file');
      expect(existsSync(qdir)).toBe(true);
      await expectExact(db, qdir);
    } finally {
      done();
    }
  }, 60_000);
});
