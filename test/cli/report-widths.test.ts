// Terminal tables that fit (issue 16): every report at 80, 120 and 160 columns, snapshotted on the deterministic
// contract lakehouse (test/core/report/fixture.ts), and the rules checked on a really generated lakehouse: no line
// wider than the terminal, ids and instants printed whole, free text elided with … at its end only.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { runCliWith, tempDir } from '../helpers/run-cli.js';
import { useFixtureLakehouse } from '../core/report/fixture.js';
import { buildPipelineLakehouse } from '../core/report/pipeline-lakehouse.js';
import { REPORT_NAMES, reportDefinition } from '../../src/core/report/reports.js';

const lake = useFixtureLakehouse();
const WIDTHS = [80, 120, 160] as const;

/** Extra arguments a report needs to run on the fixture. */
const ARGS: Partial<Record<(typeof REPORT_NAMES)[number], string[]>> = {
  timeline: ['--patient', 'PAT-1'],
  search: ['e'],
};

async function table(db: string, width: number, name: string, ...extra: string[]): Promise<string> {
  const r = await runCliWith({ tty: true, columns: width, env: { NO_COLOR: '1' } }, 'report', name, ...extra, '--db', db);
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout;
}

describe('report tables at 80, 120 and 160 columns', () => {
  for (const name of REPORT_NAMES) {
    for (const width of WIDTHS) {
      it(`${name} at ${width}`, async () => {
        const out = await table(lake.db, width, name, ...(ARGS[name] ?? []));
        for (const line of out.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(width);
        await expect(out).toMatchFileSnapshot(`./__snapshots__/report-widths/${name}.${width}.txt`);
      });
    }
  }
});

describe('report tables on a generated lakehouse', () => {
  let dir: { dir: string; cleanup: () => void };
  let db = '';
  beforeAll(() => {
    dir = tempDir();
    db = buildPipelineLakehouse(dir.dir).dbPath;
  }, 120_000);
  afterAll(() => dir.cleanup());

  const ID = /\b(?:AL-EV|PR|PT|RB|L)-?[0-9A-Za-z-]*\d\b/g;
  const INSTANT = /\b20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?Z\b/g;

  it('top-alerts at 80 columns prints every id and instant whole, and the reason under its row', async () => {
    const json = await runCliWith({ tty: false }, 'report', 'top-alerts', '--limit', '3', '--db', db);
    const rows = JSON.parse(json.stdout) as Record<string, string>[];
    expect(rows).toHaveLength(3);
    const out = await table(db, 80, 'top-alerts', '--limit', '3');
    for (const line of out.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(80);
    for (const row of rows) {
      const line = out.split('\n').find((l) => l.startsWith(`${row.alert_id} `));
      expect(line, `a line for ${row.alert_id}`).toBeDefined();
      for (const key of ['procedure_id', 'patient_id', 'at']) expect(line).toContain(row[key]);
      const reason = out.split('\n')[out.split('\n').indexOf(line ?? '') + 1] ?? '';
      expect(reason.startsWith('  reason: '), reason).toBe(true);
      const shown = reason.slice('  reason: '.length);
      expect(shown.endsWith('…') ? (row.reason ?? '').startsWith(shown.slice(0, -1)) : shown === row.reason, shown).toBe(true);
    }
    // Nothing is cut in the middle of a row: … only ends a line.
    for (const line of out.split('\n')) expect(line, line).not.toMatch(/\S… +\S/);
  });

  it('every report at 80 columns: no id or instant is cut (an elided cell never ends in a partial id)', async () => {
    for (const name of REPORT_NAMES) {
      const extra = name === 'timeline' ? ['--patient', 'PT-0000001'] : name === 'search' ? ['sutur'] : [];
      const limit = reportDefinition(name).filters.includes('limit') ? ['--limit', '5'] : [];
      const out = await table(db, 80, name, ...extra, ...limit);
      for (const line of out.split('\n')) {
        expect([...line].length, `${name}: ${line}`).toBeLessThanOrEqual(80);
        for (const m of line.matchAll(ID)) expect(line[(m.index ?? 0) + m[0].length], `${name}: ${line}`).not.toBe('…');
        for (const m of line.matchAll(INSTANT)) expect(m[0]).toMatch(/Z$/);
        expect(line, `${name}: ${line}`).not.toMatch(/\b20\d\d-\d\d(-\d\d(T[\d:.]*)?)?…/);
      }
    }
  }, 60_000);
});
