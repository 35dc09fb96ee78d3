// Drives the BUILT bin (`node bin/surgctl.js tui`) in a real pseudo-terminal: tmux on a private socket, a fixed
// window size, keys by send-keys, the screen by capture-pane. Proves every key works and that an acknowledgement
// survives reopening. Without tmux the tests say they were skipped and why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers/run-cli.js';
import { buildMartFixture } from '../core/tui-data/fixture.js';

const TMUX = ['/usr/bin/tmux', '/usr/local/bin/tmux'].find((p) => existsSync(p))
  ?? (spawnSync('sh', ['-c', 'command -v tmux'], { encoding: 'utf8' }).stdout.trim() || null);
const SKIP_NOTE = 'SKIPPED: tmux is not installed (looked in /usr/bin, /usr/local/bin and PATH), so the pseudo-terminal '
  + 'end-to-end test of `surgctl tui` did not run; install tmux to run it';
const SOCKET = `surgctl-e2e-${process.pid}`;
const BIN = resolve('bin/surgctl.js');
const ROWS = 30;
const COLS = 120;

const t = tempDir('surgctl-tui-e2e-');
const lake = join(t.dir, 'lake.duckdb');
const out = join(t.dir, 'exports');

function tmux(...args: string[]): string {
  const r = spawnSync(TMUX!, ['-L', SOCKET, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Starts `surgctl tui` in a new detached session of ROWS x COLS; the shell prints EXIT:<code> when it ends. */
function start(session: string): void {
  tmux('new-session', '-d', '-s', session, '-x', String(COLS), '-y', String(ROWS), '-c', t.dir,
    '-e', 'SURGCTL_USER=e2e.user', '-e', 'NO_COLOR=1',
    `${process.execPath} ${BIN} tui --db ${lake} --out ${out}; echo EXIT:$?; sleep 120`);
}

const screen = (session: string) => tmux('capture-pane', '-p', '-t', session);

async function waitFor(session: string, pattern: RegExp | string, ms = 30_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const s = screen(session);
    if (typeof pattern === 'string' ? s.includes(pattern) : pattern.test(s)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for ${String(pattern)}; the screen was:\n${s}`);
    await new Promise((r) => setTimeout(r, 40));
  }
}

/** Sends tmux key names (j, Enter, Escape, Up, NPage...) and waits for the screen to show `expect`. */
async function keys(session: string, names: string[], expected: RegExp | string): Promise<string> {
  for (const k of names) tmux('send-keys', '-t', session, k);
  return waitFor(session, expected);
}

async function type(session: string, text: string, expected: RegExp | string): Promise<string> {
  tmux('send-keys', '-t', session, '-l', text);
  return waitFor(session, expected);
}

beforeAll(async () => {
  if (TMUX === null) {
    console.warn(SKIP_NOTE);
    return;
  }
  await buildMartFixture(lake, { alerts: 2000 });
  (await import('node:fs')).mkdirSync(out);
});

afterAll(() => {
  if (TMUX !== null) {
    spawnSync(TMUX, ['-L', SOCKET, 'kill-server']);
    // kill-server leaves the socket file behind.
    rmSync(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, SOCKET), { force: true });
  }
  t.cleanup();
});

describe('surgctl tui in a real terminal (tmux)', () => {
  it('every key works, and an acknowledgement survives reopening', async (ctx) => {
    if (TMUX === null) ctx.skip(SKIP_NOTE);
    start('a');
    let s = await waitFor('a', 'row 1 of 2,000');
    expect(s).toMatch(/^surgctl tui │ alerts │ critical \d+ · high \d+ · medium \d+ │ 0 acked │ lake\.duckdb/);
    expect(s.split('\n')[0]!.length).toBeLessThanOrEqual(COLS);
    // Movement: j, k, arrows, PgDn/PgUp (a page is ROWS - 6 rows), G and g.
    await keys('a', ['j', 'j', 'Down'], 'row 4 of 2,000');
    await keys('a', ['k', 'Up'], 'row 2 of 2,000');
    await keys('a', ['NPage'], 'row 26 of 2,000');
    await keys('a', ['PPage'], 'row 2 of 2,000');
    s = await keys('a', ['G'], 'row 2,000 of 2,000');
    expect(s).toMatch(/ {2}MED /);
    await keys('a', ['g'], 'row 1 of 2,000');
    // Filters: l cycles the level; p / P the patient.
    s = await keys('a', ['l'], 'level ≥ high');
    expect(s).not.toMatch(/^ {2}MED /m);
    await keys('a', ['l'], 'level ≥ critical');
    await keys('a', ['l'], 'level ≥ medium');
    s = await keys('a', ['p'], /patient PT-\d{5} · sort/);
    const patient = /patient (PT-\d{5})/.exec(s)![1]!;
    const listed = s.split('\n').slice(3, ROWS - 3).filter((l) => l.trim() !== '');
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.every((l) => l.includes(patient))).toBe(true);
    await keys('a', ['P'], 'patient: all');
    // Sort: s cycles every column, S reverses; ties run earliest first (the order of report top-alerts).
    await keys('a', ['s'], 'sort: newest');
    await keys('a', ['s'], 'sort: oldest');
    // The header and the status line may land in different frames on a busy machine: wait for each.
    await keys('a', ['S'], 'sort: oldest reversed');
    s = await waitFor('a', 'sorted by time (newest first)');
    expect(s).toContain('sort: oldest reversed');
    await keys('a', ['s'], 'sort: level │');
    s = await keys('a', ['s'], 'sort: patient │');
    const patients = s.split('\n').slice(3, ROWS - 3).map((l) => /PT-\d{5}/.exec(l)?.[0]).filter((x): x is string => x !== undefined);
    expect(patients.length).toBeGreaterThan(3);
    expect([...patients].sort()).toEqual(patients);
    s = await keys('a', ['S'], 'sorted by patient (Z to A)');
    await keys('a', ['s'], 'sort: procedure │');
    await keys('a', ['s'], 'sort: arm │');
    await keys('a', ['s'], 'sort: risk │');
    s = await keys('a', ['E'], '│ episodes │');
    expect(s).toContain('START (UTC)');
    await keys('a', ['E'], '│ alerts │');
    // Filter: / narrows the list, the header shows the filter and the match count, Escape clears it.
    await keys('a', ['/'], 'filter /▏');
    await type('a', 'suturing', 'filter /suturing▏');
    s = await keys('a', ['Enter'], /filter "suturing" │ [\d,]+ matches/);
    const matches = Number(/│ ([\d,]+) matches/.exec(s)![1]!.replace(/,/g, ''));
    expect(matches).toBeGreaterThan(0);
    expect(matches).toBeLessThan(2000);
    const shown = s.split('\n').slice(3, ROWS - 3).filter((l) => l.trim() !== '');
    expect(shown.every((l) => l.includes('suturing'))).toBe(true);
    await keys('a', ['Escape'], 'filter cleared');
    s = await waitFor('a', '2,000 in view');
    expect(s.split('\n')[1]).not.toContain('filter "');
    // Detail, scrolled with j, closed with Escape.
    await keys('a', ['g'], 'row 1 of 2,000');
    s = await keys('a', ['Enter'], /alert AL-\d+ +CRITICAL/);
    expect(s).toMatch(/arm_\d telemetry .* \(±30 s, 1 s a cell, \d+ events\)/);
    expect(s).toMatch(/force +[▁▂▃▄▅▆▇█ ]+ {2}max/);
    expect(s).toContain('NEWS2 2026-01-0');
    expect(s).toMatch(/other alerts of procedure PR-\d+: 59/);
    // Every vital with its unit.
    expect(s).toMatch(/heart rate +avg [\d.]+ \/min/);
    // A vital with alarming readings is marked by '! ' and the word (not colour alone: NO_COLOR here); no other is.
    const vitalLines = s.split('\n').filter((l) => /^[ !] \S.* avg -?[\d.]+ .* · n \d+/.test(l));
    expect(vitalLines.length).toBeGreaterThan(0);
    for (const l of vitalLines) expect(l.startsWith('! ')).toBe(/ · alarming \d+ of \d+/.test(l));
    await keys('a', ['j'], /\(lines 2-\d+ of \d+\)/);
    await keys('a', ['Escape'], 'row 1 of 2,000');
    // Acknowledge with a note.
    const id = /alert (AL-\d+)/.exec(s)![1]!;
    await keys('a', ['a'], `acknowledge ${id} as e2e.user; note (optional):`);
    await type('a', 'seen in e2e', 'seen in e2e▏');
    s = await keys('a', ['Enter'], `acknowledged ${id} as e2e.user`);
    expect(s).toContain('│ 1 acked │');
    expect(s).toMatch(/^✓ CRIT/m);
    // Un-acknowledge with a note, then acknowledge again (history keeps all three).
    await keys('a', ['u'], `withdraw the acknowledgement of ${id} as e2e.user; note (optional):`);
    await type('a', 'wrong one', 'wrong one▏');
    s = await keys('a', ['Enter'], `withdrew 1 acknowledgement of ${id}`);
    expect(s).toContain('│ 0 acked │');
    await keys('a', ['a'], `acknowledge ${id} as e2e.user; note (optional):`);
    await type('a', 'seen in e2e', 'seen in e2e▏');
    s = await keys('a', ['Enter'], `acknowledged ${id} as e2e.user`);
    expect(s).toContain('│ 1 acked │');
    // Export to CSV and JSON: new files, path shown.
    await keys('a', ['x'], 'c = CSV, j = JSON, Esc cancels');
    s = await keys('a', ['c'], /exported 2,000 rows to \S+\.csv/);
    await keys('a', ['x', 'j'], /exported 2,000 rows to \S+\.json/);
    const files = readdirSync(out).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^surgctl-alerts-\d{8}T\d{6}Z\.csv$/);
    expect(readFileSync(join(out, files[0]!), 'utf8').split('\n')[1]).toContain(`${id},critical`);
    expect((JSON.parse(readFileSync(join(out, files[1]!), 'utf8')) as unknown[]).length).toBe(2000);
    // Help, then q closes help and q quits with exit 0.
    s = await keys('a', ['?'], 'surgctl tui: keys');
    expect(s).toContain('PgUp PgDn');
    await keys('a', ['q'], 'row 1 of 2,000');
    s = await keys('a', ['q'], 'EXIT:0');
    expect(s).not.toContain('surgctl tui │');
    // Reopen: the acknowledgement is still there.
    start('b');
    s = await waitFor('b', 'row 1 of 2,000');
    expect(s).toContain('│ 1 acked │');
    expect(s.split('\n')[3]).toMatch(/^✓ CRIT/);
    s = await keys('b', ['Enter'], 'acknowledged by e2e.user');
    expect(s).toContain(': "seen in e2e"');
    await keys('b', ['q', 'Escape'], 'EXIT:0');
  }, 300_000);

  it('at 80 columns the key footer fits whole, and ? shows every key', async (ctx) => {
    if (TMUX === null) ctx.skip(SKIP_NOTE);
    tmux('new-session', '-d', '-s', 'narrow', '-x', '80', '-y', String(ROWS), '-c', t.dir, '-e', 'NO_COLOR=1',
      `${process.execPath} ${BIN} tui --db ${lake} --out ${out}; echo EXIT:$?; sleep 120`);
    const s = await waitFor('narrow', 'row 1 of 2,000');
    const footer = s.trimEnd().split('\n').at(-1) ?? '';
    expect(footer).toBe('↑↓ move · / filter · s/S sort · Enter detail · a/u ack · ? keys · q quit');
    const help = await keys('narrow', ['?'], 'surgctl tui: keys');
    for (const k of ['/', 'Esc', 'S', 'u', 'x', 'E', 'p  P', 'l']) expect(help).toMatch(new RegExp(`^${k.replace(/[/]/g, '\\/')} `, 'm'));
    await keys('narrow', ['q'], 'row 1 of 2,000');
    await keys('narrow', ['q'], 'EXIT:0');
  }, 120_000);

  it('refuses a pipe with one line naming report top-alerts and exit 2 (built bin)', () => {
    const r = spawnSync(process.execPath, [BIN, 'tui', '--db', lake], { encoding: 'utf8', input: '' });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('surgctl report top-alerts');
  });

  it('loads ink and react only inside the tui command', () => {
    const hooks = join(t.dir, 'hooks.mjs');
    writeFileSync(hooks, `export async function resolve(s, c, next) {
      const r = await next(s, c);
      if (/node_modules\\/(ink|react)\\//.test(r.url)) process.stderr.write('LOADED ' + r.url + '\\n');
      return r;
    }\n`);
    const reg = join(t.dir, 'register.mjs');
    writeFileSync(reg, `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hooks}`)});\n`);
    const help = spawnSync(process.execPath, ['--import', reg, BIN, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('tui [options]');
    expect(help.stderr).not.toContain('LOADED');
    // The hook does see ink when it loads (the check above can fail).
    const ink = spawnSync(process.execPath, ['--import', reg, '--input-type=module', '-e', "await import('ink')"], { encoding: 'utf8' });
    expect(ink.stderr).toContain('LOADED');
  });
});
