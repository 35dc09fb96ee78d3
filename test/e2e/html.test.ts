// The HTML report rendered in real headless Chromium (Debian package `chromium`): on a generated, loaded and
// transformed lakehouse, the built bin writes the page,
// a measuring copy (the same page plus a script that records each chart's drawn marks after layout) is loaded
// with --dump-dom, and every chart must have marks with a non-zero on-screen size. Screenshots of the page and of
// one patient's small multiples, and the printed PDF, are attached to test-output/html/ (gitignored; the README's
// PNG is copied from there). Without chromium the test is skipped and says so on the console.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../helpers/run-cli.js';
import { buildPipelineLakehouse } from '../core/report/pipeline-lakehouse.js';

const CHROMIUM = process.env.CHROMIUM ?? 'chromium';
/** Where the screenshots and the PDF are attached (gitignored). */
const OUTPUT = join(import.meta.dirname, '..', '..', 'test-output', 'html');
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
    // vega draws each mark item (bar, point, line) as a child of a g.role-mark group; axes and legends are other roles.
    const marks = [...f.querySelectorAll('svg g.role-mark > *')];
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

let profiles = 0;

function chromium(args: string[]): string {
  const r = spawnSync(
    CHROMIUM,
    ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${join(dir.dir, `chromium-profile-${profiles++}`)}`, ...args],
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

    // The header says when, from which lakehouse and with which rules the page was made.
    for (const label of ['generated', 'lakehouse', 'last load', 'last transform run', 'rules sha256', 'surgctl']) expect(html).toContain(`<dt>${label}</dt>`);
    expect(html).toMatch(/<dt>rules sha256<\/dt><dd>[0-9a-f]{64}<\/dd>/);
    expect(html).toContain(`<dd>${db}</dd>`);

    mkdirSync(OUTPUT, { recursive: true });
    const png = join(OUTPUT, 'report-summary.png');
    chromium(['--window-size=1280,2400', '--hide-scrollbars', `--screenshot=${png}`, pathToFileURL(page).href]);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    const pdf = join(OUTPUT, 'report-summary.pdf');
    chromium(['--no-pdf-header-footer', `--print-to-pdf=${pdf}`, pathToFileURL(page).href]);
    const pdfText = readFileSync(pdf).toString('latin1');
    expect(pdfText.startsWith('%PDF-')).toBe(true);
    // The print stylesheet: A4 landscape pages (842 x 595 pt), several of them (charts, then the table).
    const boxes = [...pdfText.matchAll(/\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/g)].map((m) => [Math.round(Number(m[1])), Math.round(Number(m[2]))]);
    expect(boxes.length).toBeGreaterThan(1);
    for (const [w, h] of boxes) expect([w, h]).toEqual([842, 595]);
    expect(statSync(pdf).size).toBeGreaterThan(20_000);
  });

  it.skipIf(!hasChromium)('one patient: vitals as small multiples (a row per vital with its unit, a column per stay), screenshot for the README', () => {
    const page = join(dir.dir, 'patient.html');
    const patient = spawnSync(process.execPath, ['bin/surgctl.js', 'report', 'patient-risk', '--db', db, '--format', 'json', '--limit', '1'], { encoding: 'utf8' });
    const id = (JSON.parse(patient.stdout) as { patient_id: string }[])[0]?.patient_id ?? '';
    const r = spawnSync(process.execPath, ['bin/surgctl.js', 'report', 'news2', '--patient', id, '--db', db, '--format', 'html', '--out', page], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const html = readFileSync(page, 'utf8');
    expect(html.match(/<figure class="chart-vitals">/g)).toHaveLength(1);
    // Each row's y-axis title is its vital and unit (two lines: <tspan>s); NEWS2 is the top row.
    for (const axis of ['NEWS2', 'heart rate', '(/min)', 'SpO₂', '(%)', 'systolic BP', '(mmHg)', 'temperature', '(°C)']) expect(html, axis).toMatch(new RegExp(`>${axis.replace(/[()]/g, '\\$&')}</t(ext|span)>`));
    expect(html).toMatch(/>stay 1 \(\d+ h, UTC\)( \d{4}-\d{2}-\d{2})?<\/text>/);
    // Only the vitals figure, cropped to its box, as the README's picture.
    const alone = join(dir.dir, 'alone.html');
    const figure = /<figure class="chart-vitals">[\s\S]*?<\/figure>/.exec(html)?.[0] ?? '';
    writeFileSync(alone, html.replace(/<body>[\s\S]*<\/body>/, `<body style="margin:0;background:#fff">${figure.replace(/<figcaption>[\s\S]*?<\/figcaption>/, '')}</body>`));
    mkdirSync(OUTPUT, { recursive: true });
    const png = join(OUTPUT, 'vitals-small-multiples.png');
    chromium(['--window-size=760,560', '--hide-scrollbars', '--force-device-scale-factor=1', `--screenshot=${png}`, pathToFileURL(alone).href]);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    expect(statSync(png).size).toBeLessThan(150_000);
  });
});
