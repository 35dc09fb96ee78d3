// Fault injection in `surgctl import csv` (SURGCTL_FAULT=<step>: the real process SIGKILLs itself there), then a rerun
// of the same command without the fault: the lakehouse must be exactly what one uninterrupted import makes: the raw
// rows with their source lines and lineage (original value/unit), the quarantine rows (the mapping's own and the
// contract's, at the source's lines), one succeeded ledger row with the import's sha256 whose counts add up, and the
// quarantine file. The source is Synthea's real CSV export (fixtures/synthea-csv) plus four lines edited from its
// rows: a heart rate in kg (the mapping quarantines it: unit), one of 9999/min (the contract does: maximum), one with
// no instant (format) and a temperature in [degF] (loaded, converted, its original unit kept).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { openDb } from '../../src/db/db.js';
import { tempDir } from '../helpers/run-cli.js';
import { spawnSurgctl } from '../helpers/spawn-cli.js';

const FIX = resolve('fixtures/synthea-csv');
const P = '593aaa05-d864-1df7-5b96-155fbdb19f28,33dc326d-4b64-921b-4afe-6456415a2e78,vital-signs';
const EDITED = [
  `2021-08-23T03:30:00Z,${P},8867-4,Heart rate,77.0,kg,numeric`,
  `2021-08-23T03:31:00Z,${P},8867-4,Heart rate,9999.0,/min,numeric`,
  `yesterday,${P},8867-4,Heart rate,70.0,/min,numeric`,
  `2021-08-23T03:32:00Z,${P},8310-5,Body temperature,99.5,[degF],numeric`,
];

let dir = '';
let base = '';
let cleanup = (): void => {};
let expected: Snapshot;

const surgctl = spawnSurgctl;

const IMPORT = ['import', 'csv', 'observations.csv', '--profile', 'synthea', '--db', 'lake.duckdb', '-q'];

/** A work directory holding the patients-only lakehouse and the observations to import. */
function workDir(name: string): { work: string; done: () => void } {
  const { dir: work, cleanup: done } = tempDir(`surgctl-impfault-${name}-`);
  copyFileSync(base, join(work, 'lake.duckdb'));
  copyFileSync(join(dir, 'observations.csv'), join(work, 'observations.csv'));
  return { work, done };
}

interface Snapshot {
  raw: string[];
  quarantine: string[];
  ledger: Record<string, unknown>[];
  qfile: string[];
}

/** What the import left, without the load ids (new per run) and with the quarantine file's content. */
async function snapshot(work: string): Promise<Snapshot> {
  const db = await openDb(join(work, 'lake.duckdb'), { readOnly: true });
  try {
    const raw = (await db.all<{ j: string }>(
      'SELECT CAST(to_json(t) AS VARCHAR) AS j FROM (SELECT * EXCLUDE (_load_id) FROM raw_vitals) t ORDER BY j')).map((r) => r.j);
    const quarantine = (await db.all<{ j: string }>(
      `SELECT CAST(to_json(t) AS VARCHAR) AS j FROM (SELECT file, line, "row", dataset, raw, errors, rule FROM quarantine) t ORDER BY j`)).map((r) => r.j);
    const ledger = await db.all<Record<string, unknown>>(
      `SELECT load_id, sha256, bytes::INTEGER AS bytes, rows_read::INTEGER AS rows_read, rows_inserted::INTEGER AS rows_inserted,
         rows_duplicate::INTEGER AS rows_duplicate, rows_quarantined::INTEGER AS rows_quarantined, quarantine_file
       FROM loads WHERE dataset = 'vitals' AND status = 'succeeded'`);
    expect(await db.scalar("SELECT count(*)::INTEGER FROM loads WHERE status = 'running'")).toBe(0);
    const qfiles = ledger.map((l) => l.quarantine_file as string | null).filter((f): f is string => f !== null);
    const qfile = qfiles.flatMap((f) => readFileSync(f, 'utf8').trim().split('\n'));
    // The file name carries the load id: check it belongs to this load, then drop the ids.
    for (const l of ledger) {
      if (l.quarantine_file !== null) expect(basename(l.quarantine_file as string)).toContain(l.load_id as string);
      delete l.load_id;
      l.quarantine_file = l.quarantine_file === null ? null : 'set';
    }
    expect(readdirSync(join(work, 'quarantine')).filter((n) => n.includes('.tmp-'))).toEqual([]);
    return { raw, quarantine, ledger, qfile };
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('surgctl-impfaults-'));
  writeFileSync(join(dir, 'observations.csv'), readFileSync(join(FIX, 'observations.csv'), 'utf8') + EDITED.join('\n') + '\n');
  copyFileSync(join(FIX, 'patients.csv'), join(dir, 'patients.csv'));
  base = join(dir, 'base.duckdb');
  const r = await surgctl(dir, ['import', 'csv', 'patients.csv', '--profile', 'synthea', '--db', base, '-q']);
  expect(r.code, r.stderr).toBe(0);
  // The reference: one uninterrupted import.
  const { work, done } = workDir('ref');
  try {
    const ref = await surgctl(work, IMPORT);
    expect(ref.code, ref.stderr).toBe(0);
    expected = await snapshot(work);
  } finally {
    done();
  }
}, 60_000);
afterAll(() => cleanup());

describe('the reference import', () => {
  it('carries lineage, both kinds of quarantine and counts that add up', () => {
    expect(expected.ledger).toHaveLength(1);
    const l = expected.ledger[0] as { rows_read: number; rows_inserted: number; rows_duplicate: number; rows_quarantined: number };
    // 506 vitals rows Synthea's export maps, the temperature in [degF], and three quarantined.
    expect(l).toMatchObject({ rows_read: 510, rows_inserted: 507, rows_duplicate: 0, rows_quarantined: 3, quarantine_file: 'set' });
    expect(l.rows_inserted + l.rows_duplicate + l.rows_quarantined).toBe(l.rows_read);
    const source = readFileSync(join(FIX, 'observations.csv'), 'utf8').trim().split('\n').length;
    const q = expected.quarantine.map((j) => JSON.parse(j) as { line: number; rule: string });
    expect(q.map((x) => [x.line, x.rule]).sort()).toEqual([[source + 1, 'unit'], [source + 2, 'maximum'], [source + 3, 'format']].sort());
    expect(expected.qfile).toHaveLength(3);
    const temp = expected.raw.map((j) => JSON.parse(j) as { _source_line: number; original_unit: string; original_value: string })
      .find((r) => r._source_line === source + 4);
    expect(temp).toMatchObject({ original_unit: '[degF]', original_value: '99.5' });
  });
});

describe.concurrent('an import killed at a step, then rerun, equals the uninterrupted import', () => {
  // before-commit: inside the load's merge transaction, after the import's lineage and quarantine rows;
  // after-commit: the merge (and with it the lineage) committed; after-load: the load returned, the quarantine file
  // not yet written.
  for (const step of ['before-commit', 'after-commit', 'after-load']) {
    it(`SIGKILL at ${step}`, async () => {
      const { work, done } = workDir(step);
      try {
        const killed = await surgctl(work, IMPORT, { SURGCTL_FAULT: step });
        expect(killed.signal, killed.stderr).toBe('SIGKILL');
        const again = await surgctl(work, IMPORT);
        expect(again.code, again.stderr).toBe(0);
        expect(await snapshot(work)).toEqual(expected);
      } finally {
        done();
      }
    }, 60_000);
  }
});

describe('SURGCTL_FAULT for import', () => {
  it('refuses an unknown step (usage error, exit 2)', async () => {
    const { work, done } = workDir('unknown');
    try {
      const r = await surgctl(work, IMPORT, { SURGCTL_FAULT: 'nope' });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^surgctl: unknown SURGCTL_FAULT step nope\nhint: one of .*after-load/m);
    } finally {
      done();
    }
  });
});
