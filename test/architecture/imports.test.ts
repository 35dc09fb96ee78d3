// The import graph of src/, read from the source text with the TypeScript parser, and the rules it must keep:
// - no cycle between modules (files), and none between the folders of src/core. Folder granularity: each direct
//   folder of src/core (query, export, report, tui-data, load, ...) is one node and the loose files at its top
//   (domain.ts, db-path.ts, safe-output.ts, ...) are one node each, so a folder may import its own files freely but
//   two folders never import each other, directly or round about;
// - layers: src/db imports nothing from core, cli, render or tui; src/core never imports cli, render, tui or the
//   terminal packages (commander, chalk, ink, react, cli-progress); src/render never imports cli or tui; src/tui
//   never imports cli;
// - the serve layer has one direction: read (values, result shape, lakehouse) <- export <- query, report <-
//   tui-data, and nothing imports against that order.
// Every edge counts: static imports, `export ... from`, dynamic `import('...')` and `typeof import('...')` with a
// literal, and type-only imports too (a type is part of a module's contract: moving it is moving the dependency).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = join(ROOT, 'src');

interface Edge {
  from: string;
  /** A path relative to the repository (src/...), or a package name. */
  to: string;
  line: number;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

const rel = (p: string): string => relative(ROOT, p).split(sep).join('/');

/** The file a relative specifier names (`./x.js` is x.ts or x.tsx; a folder is its index). */
function resolveLocal(from: string, spec: string, files: Set<string>): string {
  const base = resolve(dirname(from), spec);
  const stem = base.replace(/\.(js|jsx|ts|tsx)$/, '');
  for (const c of [`${stem}.ts`, `${stem}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx')]) {
    if (files.has(c)) return c;
  }
  throw new Error(`${rel(from)}: cannot resolve import '${spec}'`);
}

/** The package a bare specifier names: `@scope/name` or `name` (node: built-ins as `node:x`). */
function packageOf(spec: string): string {
  if (spec.startsWith('node:')) return spec;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec);
}

function importsOf(file: string, files: Set<string>): Edge[] {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const edges: Edge[] = [];
  const add = (node: ts.Node, spec: string): void => {
    const to = spec.startsWith('.') ? rel(resolveLocal(file, spec, files)) : packageOf(spec);
    edges.push({ from: rel(file), to, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node, node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) add(node, arg.text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node, node.argument.literal.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const e = node.moduleReference.expression;
      if (ts.isStringLiteral(e)) add(node, e.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return edges;
}

const FILES = sourceFiles(SRC);
const EDGES = FILES.flatMap((f) => importsOf(f, new Set(FILES)));
const LOCAL = EDGES.filter((e) => e.to.startsWith('src/'));

/** Every elementary cycle found by a depth-first search (one per back edge), as node paths ending where they start. */
function findCycles(edges: readonly { from: string; to: string }[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (e.from === e.to) continue;
    const list = next.get(e.from) ?? [];
    if (!list.includes(e.to)) list.push(e.to);
    next.set(e.from, list);
  }
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const walk = (n: string): void => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of [...(next.get(n) ?? [])].sort()) {
      const s = state.get(m);
      if (s === 'open') cycles.push([...stack.slice(stack.indexOf(m)), m]);
      else if (s === undefined) walk(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...next.keys()].sort()) if (!state.has(n)) walk(n);
  return cycles;
}

/** The folder node of a src/core path (see the header), or undefined outside src/core. */
function coreFolder(path: string): string | undefined {
  const m = /^src\/core\/([^/]+)(\/)?/.exec(path);
  if (!m) return undefined;
  return m[2] ? `src/core/${m[1]}/` : path;
}

const where = (e: Edge): string => `${e.from}:${e.line} imports ${e.to}`;

describe('the import graph of src/', () => {
  it('reads the imports it should (sanity: the parser sees static, type-only and dynamic imports)', () => {
    expect(FILES.length).toBeGreaterThan(50);
    const kinds = (to: string): Edge[] => EDGES.filter((e) => e.to === to);
    expect(kinds('commander').length).toBeGreaterThan(0);
    expect(kinds('src/db/db.ts').length).toBeGreaterThan(5);
    // cli/commands/tui.ts loads the TUI lazily with import('...'); apache-arrow is loaded with import() in export.
    expect(EDGES.some((e) => e.from === 'src/cli/commands/tui.ts' && e.to.startsWith('src/tui/'))).toBe(true);
    expect(EDGES.some((e) => e.to === 'apache-arrow')).toBe(true);
  });

  it('has no cycle between modules', () => {
    const cycles = findCycles(LOCAL).map((c) => c.join(' -> '));
    expect(cycles, `import cycles:\n${cycles.join('\n')}`).toEqual([]);
  });

  it('has no cycle between the folders of src/core', () => {
    const folderEdges = LOCAL.flatMap((e) => {
      const from = coreFolder(e.from);
      const to = coreFolder(e.to);
      return from !== undefined && to !== undefined && from !== to ? [{ from, to, via: where(e) }] : [];
    });
    const cycles = findCycles(folderEdges).map((c) => {
      const via = c.slice(1).map((to, i) => folderEdges.find((e) => e.from === c[i] && e.to === to)?.via);
      return `${c.join(' -> ')}\n    (${via.join('; ')})`;
    });
    expect(cycles, `folder cycles in src/core:\n${cycles.join('\n')}`).toEqual([]);
  });

  it('keeps the layers: db < core < render < tui < cli, and core uses no terminal package', () => {
    const TERMINAL = ['commander', 'chalk', 'ink', 'react', 'cli-progress', 'ink-testing-library'];
    const rules: { from: RegExp; banned: (to: string) => boolean; why: string }[] = [
      { from: /^src\/db\//, banned: (to) => /^src\/(core|cli|render|tui)\//.test(to), why: 'src/db is the bottom layer' },
      { from: /^src\/errors\.ts$/, banned: (to) => to.startsWith('src/'), why: 'src/errors.ts is the bottom layer' },
      {
        from: /^src\/core\//,
        banned: (to) => /^src\/(cli|render|tui)\//.test(to) || TERMINAL.includes(to),
        why: 'src/core never draws (no cli, render, tui, commander, chalk, ink, react, cli-progress)',
      },
      { from: /^src\/render\//, banned: (to) => /^src\/(cli|tui)\//.test(to), why: 'src/render never imports cli or tui' },
      { from: /^src\/tui\//, banned: (to) => /^src\/cli\//.test(to), why: 'src/tui never imports cli' },
    ];
    const wrong = EDGES.flatMap((e) => rules.filter((r) => r.from.test(e.from) && r.banned(e.to)).map((r) => `${where(e)} (${r.why})`));
    expect(wrong, wrong.join('\n')).toEqual([]);
  });

  it('keeps one direction in the serve layer: read <- export <- query, report <- tui-data', () => {
    // Higher numbers may import lower ones; never the other way, and never across the same rank.
    const RANK: Record<string, number> = {
      'src/core/read/': 0,
      'src/core/export/': 1,
      'src/core/query/': 2,
      'src/core/report/': 2,
      'src/core/tui-data/': 3,
    };
    const wrong = LOCAL.flatMap((e) => {
      const from = coreFolder(e.from);
      const to = coreFolder(e.to);
      if (from === undefined || to === undefined || from === to) return [];
      const a = RANK[from];
      const b = RANK[to];
      if (a === undefined || b === undefined || b < a) return [];
      return [`${where(e)}: ${from} (rank ${a}) may not import ${to} (rank ${b})`];
    });
    expect(wrong, wrong.join('\n')).toEqual([]);
    // The declared folders exist, so a rename cannot make the rule vacuous.
    for (const folder of Object.keys(RANK)) expect(FILES.some((f) => rel(f).startsWith(folder)), folder).toBe(true);
  });

  it('has one vocabulary: levels, formats and NEWS2 bands are spelled out only in core/domain.ts', () => {
    const VOCAB: { name: string; re: RegExp }[] = [
      { name: 'the risk-level list', re: /\[\s*'none',\s*'low',\s*'medium',\s*'high',\s*'critical'\s*\]/ },
      { name: 'the alert-level list', re: /\[\s*'medium',\s*'high',\s*'critical'\s*\]/ },
      { name: 'the alert level ranks', re: /medium:\s*2,\s*high:\s*3,\s*critical:\s*4/ },
      // csv, ndjson and parquet in any order, as a union or a list of exactly those three.
      { name: 'the data-format union', re: /'(csv|ndjson|parquet)'\s*\|\s*'(csv|ndjson|parquet)'\s*\|\s*'(csv|ndjson|parquet)'(?!\s*\|)/ },
      { name: 'the data-format list', re: /\[\s*'(csv|ndjson|parquet)',\s*'(csv|ndjson|parquet)',\s*'(csv|ndjson|parquet)'\s*\]/ },
      { name: 'the NEWS2 band list', re: /\[\s*'low',\s*'low-medium',\s*'medium',\s*'high'\s*\]/ },
      { name: 'the NEWS2 score columns', re: /'resp_rate_score',\s*'spo2_score'/ },
    ];
    const wrong = FILES.filter((f) => rel(f) !== 'src/core/domain.ts').flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      return VOCAB.filter((v) => v.re.test(text)).map((v) => `${rel(f)} spells out ${v.name}: import it from src/core/domain.ts`);
    });
    expect(wrong, wrong.join('\n')).toEqual([]);
  });

  it('has one table-or-json default: commands call resultFormat/wantsJson from src/cli/io.ts', () => {
    const copy = /isTTY\s*(===\s*true\s*)?\?\s*'table'\s*:\s*'json'/;
    const wrong = FILES.filter((f) => rel(f) !== 'src/cli/io.ts' && copy.test(readFileSync(f, 'utf8'))).map(
      (f) => `${rel(f)} picks table or json itself: use resultFormat or wantsJson from src/cli/io.ts`,
    );
    expect(wrong, wrong.join('\n')).toEqual([]);
  });

  it('has one owner of the environment: src/core and src/db never read process.env (main resolves it once)', () => {
    const wrong = FILES.filter((f) => /^src\/(core|db)\//.test(rel(f))).flatMap((f) =>
      readFileSync(f, 'utf8').split('\n').flatMap((text, i) => (/\bprocess\.env\b/.test(text) ? [`${rel(f)}:${i + 1} reads process.env: take the value as an option, resolved by the CLI`] : [])),
    );
    expect(wrong, wrong.join('\n')).toEqual([]);
  });

  it('has one opener: only src/db creates a DuckDB instance, and only src/db touches a raw connection', () => {
    const wrong = FILES.filter((f) => !rel(f).startsWith('src/db/')).flatMap((f) =>
      readFileSync(f, 'utf8').split('\n').flatMap((text, i) =>
        /DuckDBInstance\.create|\.connection\.|\binstance\.connect\(/.test(text) ? [`${rel(f)}:${i + 1} opens or bypasses the lakehouse handle: use the Db wrapper in src/db`] : []),
    );
    expect(wrong, wrong.join('\n')).toEqual([]);
  });
});
