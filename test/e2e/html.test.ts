// The HTML report rendered in real headless Chromium (Debian package `chromium`): on a generated, loaded and
// transformed lakehouse, the built bin writes the page,
// a measuring copy (the same page plus a script that records each chart's drawn marks after layout) is loaded
// with --dump-dom, and every chart must have marks with a non-zero on-screen size. Without chromium the test is
// skipped and says so on the console.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../helpers/run-cli.js';
import { buildPipelineLakehouse } from '../core/report/pipeline-lakehouse.js';

const CHROMIUM = process.env.CHROMIUM ?? 'chromium';
const hasChromium = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).status === 0;
if (!hasChromium) {
  console.warn(`test/e2e/html.test.ts: SKIPPED: headless Chromium not found (${CHROMIUM}); install Debian's package: apt-get install -y chromium`);
}

interface Measured {
  charts: { cls: string; svgs: number; marks: number; drawn: number }[];
  scripts: number;
}

/** Runs in the page after layout: per figure, how many marks there are and how many have a visible box. */
const MEASURE = `<script>
(() => {
  const charts = [...document.querySelectorAll('figure')].map((f) => {
    const marks = [...f.querySelectorAll('svg .mark')];
    const drawn = marks.filter((m) => { const r = m.getBoundingClientRect(); const b = m.getBBox(); return r.width > 0 && r.height > 0 && (b.width > 0 || b.height > 0); });
    return { cls: f.className, svgs: f.querySelectorAll('svg').length, marks: marks.length, drawn: drawn.length };
  });
  const pre = document.createElement('pre');
  pre.id = 'surgctl-measure';
  pre.textContent = JSON.stringify({ charts, scripts: document.scripts.length - 1 });
  document.body.appendChild(pre);
})();
</script>`;

let dir: { dir: string; cleanup: () => void };
let db: string;

beforeAll(() => {
  dir = tempDir();
  if (hasChromium) db = buildPipelineLakehouse(dir.dir).dbPath;
}, 180_000);
afterAll(() => dir.cleanup());

function chromium(args: string[]): string {
  const r = spawnSync(
    CHROMIUM,
    ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${join(dir.dir, 'chromium-profile')}`, ...args],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (r.status !== 0) throw new Error(`chromium failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

describe('HTML report in headless Chromium', () => {
  it.skipIf(!hasChromium)('draws every chart: vitals with NEWS2 bands, risk levels, alerts per procedure and robot, data quality', () => {
    const page = join(dir.dir, 'report.html');
    const r = spawnSync(process.execPath, ['bin/surgctl.js', 'report', 'summary', '--db', db, '--format', 'html', '--out', page], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const html = readFileSync(page, 'utf8');
    expect(html).not.toMatch(/<script|<link|@import|url\(|src=/i);
    expect(html).toContain("Content-Security-Policy\" content=\"default-src 'none'");

    // The measuring copy may run its one inline script; the page itself allows none.
    const probe = join(dir.dir, 'probe.html');
    writeFileSync(probe, html.replace("default-src 'none'", "default-src 'none'; script-src 'unsafe-inline'").replace('</body>', `${MEASURE}</body>`));
    const dom = chromium(['--window-size=1400,2000', '--dump-dom', pathToFileURL(probe).href]);
    const json = /<pre id="surgctl-measure">([^<]*)<\/pre>/.exec(dom)?.[1];
    expect(json, 'the measuring script ran').toBeDefined();
    const measured = JSON.parse((json ?? '{}').replaceAll('&quot;', '"').replaceAll('&amp;', '&')) as Measured;
    expect(measured.scripts).toBe(0);
    const byClass = (cls: string) => measured.charts.filter((c) => c.cls === cls);
    for (const cls of ['chart-risk', 'chart-alerts-procedure', 'chart-alerts-robot', 'chart-quality', 'chart-vitals']) {
      const charts = byClass(cls);
      expect(charts.length, cls).toBeGreaterThan(0);
      for (const c of charts) {
        expect(c.svgs, cls).toBe(1);
        expect(c.drawn, `${cls}: drawn marks`).toBeGreaterThan(0);
      }
    }
    // Six patients (highest NEWS2 first), each with NEWS2 bars for every monitored hour plus one line per vital.
    expect(byClass('chart-vitals')).toHaveLength(6);
    for (const v of byClass('chart-vitals')) expect(v.drawn).toBeGreaterThan(10);
    expect(byClass('chart-risk')[0]?.drawn).toBeGreaterThanOrEqual(3);
    expect(byClass('chart-quality')[0]?.drawn).toBeGreaterThanOrEqual(7);
  });
});
