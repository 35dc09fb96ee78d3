// Runs every example in the README's ```console blocks, in order, in one fresh directory, as a new user would:
// each `$ surgctl ...` (or `$ npx surgctl ...`) line is run in-process on a terminal-sized TTY; its exit code must
// be 0 unless the line ends with `# exit N` (stdout is a 160-column terminal, stderr is not), and every output line the README shows must appear in what the
// command printed (a `...` line stands for lines left out; load ids, run ids, instants of the run and durations
// are compared by shape, not value).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { runCliWith, tempDir } from '../helpers/run-cli.js';

interface Example {
  command: string;
  argv: string[];
  exitCode: number;
  expected: string[];
}

function shellWords(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let has = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else cur += ch;
  }
  if (has || cur) out.push(cur);
  return out;
}

function parseReadme(text: string): Example[] {
  const examples: Example[] = [];
  const blocks = text.matchAll(/```console\n([\s\S]*?)```/g);
  for (const [, body] of blocks) {
    let current: Example | undefined;
    for (const line of (body ?? '').split('\n')) {
      if (line.startsWith('$ ')) {
        const m = /^(.*?)\s+#\s*exit\s+(\d+)\s*$/.exec(line.slice(2));
        const command = (m ? m[1] : line.slice(2))!.trim();
        const words = shellWords(command);
        if (words[0] === 'npx') words.shift();
        if (words[0] !== 'surgctl') throw new Error(`README console examples run surgctl only: ${line}`);
        current = { command, argv: words.slice(1), exitCode: m ? Number(m[2]) : 0, expected: [] };
        examples.push(current);
      } else if (current && line.trim() !== '' && line.trim() !== '...') current.expected.push(line.trimEnd());
    }
  }
  return examples;
}

const VOLATILE: [RegExp, string][] = [
  [/L\d{8}T\d{6}Z-[0-9a-f]{8}/g, '<load_id>'],
  [/R\d{8}T\d{6}Z-[0-9a-f]{8}/g, '<run_id>'],
  [/20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<instant>'],
  [/\d+(\.\d+)? s\b/g, '<seconds>'],
  [/\b\d{8}T\d{9}Z\b/g, '<stamp>'],
  [/\/tmp\/[^\s/]+/g, '<tmp>'],
];

function normalise(s: string): string {
  // The README shows the clone as ~/surgctl; this run's clone is the working directory.
  let out = s.replaceAll(process.cwd(), '~/surgctl');
  for (const [re, rep] of VOLATILE) out = out.replace(re, rep);
  out = out.replace(/[ \t]+/g, ' ').trim();
  // Table rules stretch with the widest value (a path); their width is not the point.
  return /^[-─ ]+$/.test(out) ? '<rule>' : out;
}

const examples = parseReadme(readFileSync('README.md', 'utf8'));
let dir = '';
let cleanup = () => {};
beforeAll(() => {
  ({ dir, cleanup } = tempDir('surgctl-readme-'));
});
afterAll(() => cleanup());

describe('README examples', () => {
  it('has a tour to run', () => {
    expect(examples.length).toBeGreaterThan(10);
    expect(examples[0]?.argv[0]).toBe('pipeline');
  });

  for (const ex of examples) {
    it(`$ ${ex.command}`, async () => {
      const r = await runCliWith({ cwd: dir, env: { NO_COLOR: '1' }, tty: true, stderrTty: false, columns: 160 }, ...ex.argv);
      expect(r.exitCode, `${r.stderr}\n${r.stdout}`).toBe(ex.exitCode);
      const got = new Set(`${r.stdout}\n${r.stderr}`.split('\n').map(normalise));
      for (const line of ex.expected) expect(got, `README shows "${line}"\nbut ${ex.command} printed:\n${r.stdout}${r.stderr}`).toContain(normalise(line));
    }, 300_000);
  }
});
