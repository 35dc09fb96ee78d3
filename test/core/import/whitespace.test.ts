// import csv with a profile table whose columns are separated by runs of whitespace (csv.whitespace, as JIGSAWS
// kinematics files are), and a file mapped by two tables: tabs, CRLF, leading/trailing blanks and blank lines are
// read as the file means them; a line with another number of fields is quarantined at its physical line; rows read
// = inserted + duplicate + quarantined for each table's load.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb } from '../../../src/db/db.js';
import { runCliWith, tempDir } from '../../helpers/run-cli.js';

const tmp = tempDir('surgctl-ws-');
const dbPath = () => join(tmp.dir, 'lake.duckdb');

const table = (suffix: string, arm: string, col: string) => ({
  match: 'trial*.txt',
  dataset: 'telemetry',
  csv: { whitespace: true, header: false, columns: ['id', 'at', 'x', 'y'] },
  columns: {
    event_id: { template: `{id}-${suffix}` }, procedure_id: { const: 'P1' }, patient_id: { const: 'X1' }, robot_id: { const: 'R1' },
    robot_arm: { const: arm }, instrument: { const: 'needle_driver' }, step: { const: 'suturing' }, recorded_at: { from: 'at' },
    tool_x_mm: { from: col },
  },
});

beforeAll(() => {
  writeFileSync(join(tmp.dir, 'ws.json'), JSON.stringify({
    name: 'ws', description: 'two arms in one whitespace-separated file',
    tables: [table('L', 'arm_1', 'x'), table('R', 'arm_2', 'y'), { match: '*.txt', skip: 'a catch-all: not applied after a mapping table' }],
  }));
  // Line 1: tabs, runs of spaces, CRLF; lines 2-3 blank; line 4 has a fifth field; line 5 trailing blanks.
  writeFileSync(join(tmp.dir, 'trial1.txt'),
    '\tE1   2024-01-01T00:00:00Z  1.5 10\r\n\n   \nE2 2024-01-01T00:00:01Z 2.5 20 extra\nE3\t2024-01-01T00:00:02Z\t3.5   30  \n');
});
afterAll(() => tmp.cleanup());

describe('import csv, whitespace-separated columns and several tables per file', () => {
  it('loads every frame of every table, quarantines the bad line at its physical line, and accounts for each row', async () => {
    const r = await runCliWith({ cwd: tmp.dir }, 'import', 'csv', '--profile', 'ws.json', 'trial1.txt', '--db', dbPath(), '--allow-orphans',
      '--max-invalid', '50%', '--format', 'json');
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { files: { status: string; load: { rows_read: number; rows_inserted: number; rows_duplicate: number; rows_quarantined: number } }[] };
    expect(out.files.map((f) => [f.status, f.load.rows_read, f.load.rows_inserted, f.load.rows_duplicate, f.load.rows_quarantined])).toEqual([
      ['loaded', 3, 2, 0, 1],
      ['loaded', 3, 2, 0, 1],
    ]);
    const db = await openDb(dbPath(), { readOnly: true });
    try {
      const rows = await db.all<{ event_id: string; robot_arm: string; x: number; line: number }>(
        'SELECT event_id, robot_arm, tool_x_mm AS x, _source_line::INTEGER AS line FROM raw_telemetry ORDER BY event_id');
      expect(rows).toEqual([
        { event_id: 'E1-L', robot_arm: 'arm_1', x: 1.5, line: 1 },
        { event_id: 'E1-R', robot_arm: 'arm_2', x: 10, line: 1 },
        { event_id: 'E3-L', robot_arm: 'arm_1', x: 3.5, line: 5 },
        { event_id: 'E3-R', robot_arm: 'arm_2', x: 30, line: 5 },
      ]);
      const q = await db.all<{ line: number; row: number; rule: string }>('SELECT line::INTEGER AS line, "row"::INTEGER AS row, rule FROM quarantine ORDER BY load_id');
      expect(q).toEqual([{ line: 4, row: 2, rule: 'csv_field_count' }, { line: 4, row: 2, rule: 'csv_field_count' }]);
    } finally {
      db.close();
    }
  });

  it('reads the column names of a header line after a byte order mark (the mark is no part of the first name)', async () => {
    writeFileSync(join(tmp.dir, 'bom.json'), JSON.stringify({
      name: 'bom', description: 'a header line behind a UTF-8 byte order mark',
      tables: [{ ...table('B', 'arm_1', 'x'), match: 'bom*.txt', csv: { whitespace: true, header: true } }],
    }));
    writeFileSync(join(tmp.dir, 'bom1.txt'), '\uFEFFid at x y\nE7 2024-01-01T00:00:07Z 7.5 70\n');
    const r = await runCliWith({ cwd: tmp.dir }, 'import', 'csv', '--profile', 'bom.json', 'bom1.txt', '--db', dbPath(), '--allow-orphans', '--format', 'json');
    expect(r.exitCode, r.stderr).toBe(0);
    const db = await openDb(dbPath(), { readOnly: true });
    try {
      const rows = await db.all<{ event_id: string; x: number; line: number }>(
        "SELECT event_id, tool_x_mm AS x, _source_line::INTEGER AS line FROM raw_telemetry WHERE event_id LIKE 'E7%'");
      expect(rows).toEqual([{ event_id: 'E7-B', x: 7.5, line: 2 }]);
    } finally {
      db.close();
    }
  });

  it('skips a rerun of the same import for both tables (each has its own sha256)', async () => {
    const r = await runCliWith({ cwd: tmp.dir }, 'import', 'csv', '--profile', 'ws.json', 'trial1.txt', '--db', dbPath(), '--allow-orphans', '--format', 'json');
    expect(r.exitCode, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { files: { status: string }[] }).files.map((f) => f.status)).toEqual(['skipped', 'skipped']);
  });
});
