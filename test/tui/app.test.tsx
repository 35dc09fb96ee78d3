// Frames of the ink App (ink-testing-library) over a real DuckDB lakehouse built by SQL: the list, every filter,
// search, sort, detail, acknowledge, export, help and the empty states.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { render } from 'ink-testing-library';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openAlertStore, type AlertStore } from '../../src/core/tui-data/index.js';
import { App } from '../../src/tui/app.js';
import { BrowserController } from '../../src/tui/controller.js';
import { LIST_HINTS } from '../../src/tui/screen.js';
import { openDb } from '../../src/db/db.js';
import { tempDir } from '../helpers/run-cli.js';
import { buildMartFixture } from '../core/tui-data/fixture.js';
import { lakeAt } from '../helpers/lake.js';

const KEY = {
  up: '\u001b[A',
  down: '\u001b[B',
  pageUp: '\u001b[5~',
  pageDown: '\u001b[6~',
  enter: '\r',
  escape: '\u001b',
  backspace: '\u007f',
};

const t = tempDir('surgctl-tui-app-');
const lake = join(t.dir, 'lake.duckdb');
const clock = () => new Date('2026-01-06T12:00:00Z');
const opened: { store: AlertStore; unmount: () => void }[] = [];

beforeAll(async () => {
  await buildMartFixture(lake, { alerts: 600 });
});
afterEach(() => {
  for (const o of opened.splice(0)) {
    o.unmount();
    o.store.close();
  }
});
afterAll(() => t.cleanup());

async function mount(path = lake, rows = 24) {
  const store = await openAlertStore({ user: 'tester', now: clock }, { lake: lakeAt(path) });
  const controller = new BrowserController(store, { user: 'tester', exportDir: t.dir, rows, columns: 100 });
  await controller.init();
  const app = render(<App controller={controller} color={false} />);
  opened.push({ store, unmount: app.unmount });
  const frame = () => app.lastFrame() ?? '';
  /** Types keys one at a time, waits for the controller, then for the frame to show `expected`. */
  const press = async (keys: string[], expected?: string | RegExp) => {
    for (const k of keys) {
      app.stdin.write(k);
      // A lone Escape is flushed by ink on the next tick.
      await new Promise((r) => setImmediate(r));
      await controller.idle();
    }
    if (expected !== undefined) await waitFor(() => (typeof expected === 'string' ? frame().includes(expected) : expected.test(frame())), 15_000, frame);
    return frame();
  };
  await waitFor(() => frame().includes('row 1 of') || frame().includes('No alerts'));
  return { controller, store, frame, press };
}

async function waitFor(ok: () => boolean, ms = 15_000, last?: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for the frame${last ? `; last frame:\n${last()}` : ''}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The list rows of a frame (lines after the column header, before the status line). */
function listRows(frame: string): string[] {
  const lines = frame.split('\n');
  const start = lines.findIndex((l) => l.includes('RISK')) + 1;
  return lines.slice(start, lines.length - 2).filter((l) => l.trim() !== '');
}

describe('tui list', () => {
  it('shows counts by level, the filters, the columns, the rows and the key hints', async () => {
    const { frame } = await mount();
    const f = frame();
    const lines = f.split('\n');
    expect(lines).toHaveLength(23);
    expect(lines[0]).toMatch(/^surgctl tui │ alerts │ critical \d+ · high \d+ · medium \d+ │ 0 acked │ lake\.duckdb/);
    expect(lines[1]).toContain('filters: level ≥ medium · patient: all · sort: risk │ 600 in view');
    expect(lines[2]).toMatch(/LVL +RISK TIME \(UTC\) +PATIENT +PROCEDURE +ARM +STEP +REASON/);
    const rows = listRows(f);
    expect(rows).toHaveLength(18);
    expect(rows[0]).toMatch(/^ {2}CRIT +\d+ 01-0\d \d\d:\d\d:\d\d PT-\d{5} +PR-\d{6} arm_\d \w+ +\S/);
    expect(lines[21]).toBe('row 1 of 600');
    // The footer fits an 80-column terminal; ? lists every key.
    expect(lines[22]).toBe(LIST_HINTS);
    expect([...LIST_HINTS].length).toBeLessThanOrEqual(80);
  });

  it('moves with arrows, j/k, PgUp/PgDn and g/G', async () => {
    const { press, controller } = await mount();
    expect(await press(['j', 'j', KEY.down], 'row 4 of 600')).toContain('row 4 of 600');
    await press(['k', KEY.up], 'row 2 of 600');
    await press([KEY.pageDown], 'row 20 of 600');
    await press([KEY.pageUp], 'row 2 of 600');
    const last = await press(['G'], 'row 600 of 600');
    expect(controller.getState().view.atEnd).toBe(true);
    expect(listRows(last).at(-1)).toMatch(/^ {2}MED /);
    await press(['g'], 'row 1 of 600');
    expect(controller.getState().view.atStart).toBe(true);
  });

  it('l cycles the minimum level', async () => {
    const { press, store } = await mount();
    const c = await store.counts({ mode: 'alerts', minLevel: 'medium', patientId: null, sort: 'risk' });
    const high = await press(['l'], 'level ≥ high');
    expect(high).toContain(`${c.high + c.critical} in view`);
    expect(listRows(high).every((r) => /^ {2}(CRIT|HIGH) /.test(r))).toBe(true);
    const crit = await press(['G'], `row ${c.high + c.critical} of`);
    expect(listRows(crit).at(-1)).toMatch(/^ {2}HIGH /);
    const critical = await press(['l'], 'level ≥ critical');
    expect(listRows(critical).every((r) => r.startsWith('  CRIT '))).toBe(true);
    expect(await press(['l'], 'level ≥ medium')).toContain('600 in view');
  });

  it('p filters to the selected patient and P clears it', async () => {
    const { press } = await mount();
    const f = await press(['p'], /patient PT-\d{5} ·/);
    const patient = /patient (PT-\d{5})/.exec(f)![1]!;
    expect(f).toContain('120 in view');
    expect(listRows(f).every((r) => r.includes(patient))).toBe(true);
    expect(f).toContain(`showing patient ${patient} (P clears)`);
    expect(await press(['P'], 'patient: all')).toContain('600 in view');
  });

  it('s cycles the sort through every column, S reverses it; ties run earliest first as in report top-alerts', async () => {
    const { press, controller } = await mount();
    const risk = controller.getState().view.rows;
    // Equal risk scores: the earlier alert first, as `report top-alerts` orders them.
    for (let i = 1; i < risk.length; i++) {
      if (risk[i]!.riskScore === risk[i - 1]!.riskScore) expect(risk[i]!.at >= risk[i - 1]!.at).toBe(true);
    }
    const newest = await press(['s'], 'sort: newest');
    const times = listRows(newest).map((r) => r.slice(12, 26));
    expect([...times].sort().reverse()).toEqual(times);
    expect(times[0]).toBe('01-05 13:34:55');
    const oldest = await press(['s'], 'sort: oldest');
    expect(listRows(oldest)[0]!.slice(12, 26)).toBe('01-05 08:00:03');
    const reversed = await press(['S'], 'sort: oldest reversed');
    expect(reversed).toContain('sorted by time (newest first)');
    expect(listRows(reversed)[0]!.slice(12, 26)).toBe('01-05 13:34:55');
    await press(['s'], 'sort: level │');
    const patients = await press(['s'], 'sort: patient │');
    const ids = controller.getState().view.rows.map((r) => r.patientId);
    expect([...ids].sort()).toEqual(ids);
    expect(patients).toContain('sorted by patient (A to Z)');
    await press(['S'], 'sorted by patient (Z to A)');
    const back = controller.getState().view.rows.map((r) => r.patientId);
    expect([...back].sort().reverse()).toEqual(back);
    await press(['s'], 'sort: procedure │');
    await press(['s'], 'sort: arm │');
    await press(['s'], 'sort: risk │');
  });

  it('E toggles episodes', async () => {
    const { press } = await mount();
    const f = await press(['E'], 'START (UTC)');
    expect(f).toMatch(/│ episodes │/);
    expect(f).toContain('LENGTH ALERTS');
    expect(f).toContain('120 in view');
    expect(listRows(f)[0]).toMatch(/^ {2}CRIT +\d+ 01-0\d \d\d:\d\d:\d\d 32s +5 +PT-/);
    expect(await press(['E'], '│ alerts │')).toContain('TIME (UTC)');
  });
});

describe('tui filter', () => {
  it('/ filters the list (the filter and match count in the header), Esc clears it, an empty filter shows all', async () => {
    const { press, controller } = await mount();
    await press(['/', 's', 'u', 't', 'x', KEY.backspace, 'u', 'r'], 'filter /sutur▏');
    const f = await press([KEY.enter], /filter "sutur" │ \d+ matches/);
    const n = controller.getState().counts!.inView;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(600);
    expect(f).toContain(`row 1 of ${n}`);
    const rows = listRows(f);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.toLowerCase()).toContain('sutur');
    const cleared = await press([KEY.escape], 'filter cleared');
    expect(cleared).toContain('600 in view');
    expect(controller.getState().quit).toBe(false);
    await press(['/', 'x', KEY.escape], 'cancelled');
    expect(await press(['/', 'PR-000007', KEY.enter], 'filter "PR-000007" │ 60 matches')).toContain('PR-000007');
    expect(await press(['/', ...Array(9).fill(KEY.backspace), KEY.enter], 'filter cleared')).toContain('600 in view');
    expect(await press(['/', 'zzz', KEY.enter], 'No alerts match these filters')).toContain('Esc to clear the filter');
    await press([KEY.escape], '600 in view');
    await press([KEY.escape]);
    expect(controller.getState().quit).toBe(true);
  });
});

describe('tui detail', () => {
  it('Enter shows the event, the arm sparkline, vitals, NEWS2 and the procedure\'s other alerts; q goes back', async () => {
    const { press, controller } = await mount(lake, 40);
    const row = controller.getState().view.rows[0]!;
    const f = await press([KEY.enter], `alert ${row.id}`);
    expect(f).toContain('not acknowledged (press a)');
    expect(f).toContain(`patient ${row.patientId} · procedure ${row.procedureId}`);
    expect(f).toMatch(/event EV-\d+ force [\d.]+ N/);
    expect(f).toMatch(new RegExp(`${row.robotArm} telemetry \\d\\d:\\d\\d:\\d\\d to \\d\\d:\\d\\d:\\d\\d UTC \\(±30 s, 1 s a cell`));
    expect(f).toMatch(/force {3}[▁▂▃▄▅▆▇█ ]{60} {2}max [\d.]+ N/);
    expect(f).toMatch(/latency [▁▂▃▄▅▆▇█ ]{60} {2}max \d+ ms/);
    expect(f).toMatch(/ {8} {30}▲ +the alert/);
    expect(f).toContain(`vitals of ${row.patientId}, hour`);
    // Every vital with its unit.
    expect(f).toMatch(/heart rate +avg 78[\d.]* \/min · min [\d.]+ \/min/);
    expect(f).toMatch(/SpO₂ +avg [\d.]+ %/);
    expect(f).toMatch(/NEWS2 2026-01-0\d \d\d:00 UTC \d \((low|low-medium|medium|high)\)/);
    expect(f).toContain(`other alerts of procedure ${row.procedureId}: 59 (8 shown, nearest in time)`);
    expect(await press(['q'], 'row 1 of 600')).toContain('surgctl tui │ alerts');
  });

  it('scrolls a long detail with j/k and opens an episode', async () => {
    const { press } = await mount(lake, 16);
    const f = await press([KEY.enter], /\(lines 1-12 of \d+\)/);
    expect(f).toContain('not acknowledged');
    const down = await press(['j', 'j'], /\(lines 3-14 of \d+\)/);
    expect(down).not.toContain('not acknowledged');
    await press([KEY.escape], 'row 1 of 600');
    const ep = await press(['E', KEY.enter], /episode EP-/);
    expect(ep).toMatch(/0 of 5 alerts acknowledged/);
    expect(ep).toMatch(/from 2026-01-0\dT[\d:]+Z to 2026-01-0\dT[\d:]+Z \(32s\)/);
  });
});

describe('tui acknowledge', () => {
  it('a asks for a note, stores the ack, marks the row, and the ack survives reopening', async () => {
    const copy = join(t.dir, 'ack.duckdb');
    copyFileSync(lake, copy);
    const first = await mount(copy);
    const row = first.controller.getState().view.rows[0]!;
    await first.press(['a'], `acknowledge ${row.id} as tester; note (optional):`);
    const f = await first.press([...'checked', KEY.enter], `acknowledged ${row.id} as tester`);
    expect(f).toContain('│ 1 acked │');
    expect(listRows(f)[0]).toMatch(/^✓ CRIT/);
    expect(await first.press(['a'], 'was acknowledged by tester at 2026-01-06T12:00:00Z')).toContain('✓ CRIT');
    const detail = await first.press([KEY.enter], 'acknowledged by tester');
    expect(detail).toContain('✓ acknowledged by tester at 2026-01-06T12:00:00Z: "checked"');
    for (const o of opened.splice(0)) {
      o.unmount();
      o.store.close();
    }
    const db = await openDb(copy, { readOnly: true });
    expect(await db.all('SELECT alert_id, acked_by, note FROM alert_acks')).toEqual([{ alert_id: row.id, acked_by: 'tester', note: 'checked' }]);
    db.close();
    const again = await mount(copy);
    expect(listRows(again.frame())[0]).toMatch(/^✓ CRIT/);
    expect(again.frame()).toContain('│ 1 acked │');
  });

  it('u withdraws an acknowledgement with a note; both stay in the history', async () => {
    const copy = join(t.dir, 'unack.duckdb');
    copyFileSync(lake, copy);
    const { press, controller } = await mount(copy);
    const row = controller.getState().view.rows[0]!;
    expect(await press(['u'], `${row.id} is not acknowledged`)).toContain('not acknowledged');
    await press(['a', ...'seen', KEY.enter], `acknowledged ${row.id} as tester`);
    await press(['u'], `withdraw the acknowledgement of ${row.id} as tester; note (optional):`);
    const f = await press([...'wrong alert', KEY.enter], `withdrew 1 acknowledgement of ${row.id}`);
    expect(f).toContain('│ 0 acked │');
    expect(listRows(f)[0]).toMatch(/^ {2}CRIT/);
    for (const o of opened.splice(0)) {
      o.unmount();
      o.store.close();
    }
    const db = await openDb(copy, { readOnly: true });
    expect(await db.all('SELECT action, acted_by, note FROM alert_ack_history ORDER BY action')).toEqual([
      { action: 'ack', acted_by: 'tester', note: 'seen' },
      { action: 'unack', acted_by: 'tester', note: 'wrong alert' },
    ]);
    db.close();
  });

  it('acknowledges a whole episode from the detail pane; Esc cancels a note', async () => {
    const copy = join(t.dir, 'ack-ep.duckdb');
    copyFileSync(lake, copy);
    const { press } = await mount(copy, 40);
    await press(['a', 'x', KEY.escape], 'cancelled');
    await press(['E', KEY.enter], 'episode EP-');
    const f = await press(['a', KEY.enter], /acknowledged 5 alerts of EP-/);
    expect(f).toContain('5 of 5 alerts acknowledged');
    expect(f).toMatch(/alerts in episode EP-\S+: 5\n(✓ .*\n){5}/);
    const list = await press(['q'], '│ 1 fully acked │');
    expect(listRows(list)[0]).toMatch(/^✓ CRIT .* 5\/5 /);
  });
});

describe('tui export', () => {
  it('x then c writes the current view to a new CSV and shows the path; x then j writes JSON', async () => {
    const { press } = await mount();
    await press(['l', 'l'], 'level ≥ critical');
    await press(['x'], 'c = CSV, j = JSON, Esc cancels');
    const f = await press(['c'], /exported \d+ rows to /);
    const path = /exported [\d,]+ rows to (\S+\.csv)/.exec(f)![1]!;
    expect(path).toBe(join(t.dir, 'surgctl-alerts-20260106T120000Z.csv'));
    const csv = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(csv.slice(1).every((l) => l.split(',')[1] === 'critical')).toBe(true);
    expect(f).toContain(`exported ${csv.length - 1} rows`);
    const j = await press(['x', 'j'], /exported \d+ rows to \S+\.json/);
    const jpath = /to (\S+\.json)/.exec(j)![1]!;
    expect((JSON.parse(readFileSync(jpath, 'utf8')) as unknown[]).length).toBe(csv.length - 1);
    const again = await press(['x', 'c'], 'Z-2.csv');
    expect(again).toContain('surgctl-alerts-20260106T120000Z-2.csv');
    expect(existsSync(path)).toBe(true);
  });
});

describe('tui help, quit and empty states', () => {
  it('? shows the keys; q closes help; q quits', async () => {
    const { press, controller } = await mount();
    const h = await press(['?'], 'surgctl tui: keys');
    for (const k of ['PgUp PgDn', 'g  G', '/', 'Esc', 's  ', 'S  ', 'u  ', 'p  P', 'Enter', 'q  ']) expect(h).toContain(k);
    expect(h).toContain('ties always run earliest first');
    await press(['q'], 'row 1 of 600');
    await press(['q']);
    expect(controller.getState().quit).toBe(true);
  });

  it('says so when the lakehouse has no alerts at all', async () => {
    const empty = join(t.dir, 'empty.duckdb');
    await buildMartFixture(empty, { alerts: 0 });
    const { frame, press } = await mount(empty);
    expect(frame()).toContain('No alerts in this lakehouse: nothing to triage.');
    expect(frame()).toContain('0 of 0');
    expect(await press([KEY.enter], 'no row selected')).toContain('no row selected');
  });

  it('says which filters hide everything', async () => {
    const medium = join(t.dir, 'medium.duckdb');
    await buildMartFixture(medium, { alerts: 60 });
    const db = await openDb(medium);
    await db.run("UPDATE alerts SET level = 'medium', level_rank = 2");
    db.close();
    const { press } = await mount(medium);
    const f = await press(['l'], 'level ≥ high');
    expect(f).toContain('No alerts match these filters (level ≥ high).');
    expect(f).toContain('Press l to change the minimum level, or P to show every patient.');
    expect(f).toContain('0 of 0');
  });
});
