import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDatasetSchema } from '../../../src/core/schemas.js';
import type { DataFormat, Manifest } from '../../../src/core/generate/index.js';
import { tempDir } from '../../helpers/run-cli.js';
import { generate, readRows, validators, xCompareFailures, type ReadRow } from './helpers.js';

const tmp = tempDir('surgctl-gen-');
afterAll(() => tmp.cleanup());

const DATASETS = ['robots', 'patients', 'procedures', 'telemetry', 'vitals', 'outcomes', 'maintenance'] as const;
const KINDS_BY_FORMAT: Record<DataFormat, string[]> = {
  csv: ['wrong_type', 'out_of_range', 'bad_enum', 'missing_required', 'bad_timestamp', 'duplicate_key', 'orphan_foreign_key', 'unterminated_quote', 'ragged_row'],
  ndjson: ['wrong_type', 'out_of_range', 'bad_enum', 'missing_required', 'bad_timestamp', 'duplicate_key', 'orphan_foreign_key'],
  parquet: ['out_of_range', 'bad_enum', 'missing_required', 'duplicate_key', 'orphan_foreign_key'],
};

function manifestOf(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
}

describe('generateDataset: reproducibility', () => {
  it('gives byte-identical files and manifest for the same seed and options', async () => {
    const a = join(tmp.dir, 'rep-a');
    const b = join(tmp.dir, 'rep-b');
    await generate(a, { seed: 11 });
    await generate(b, { seed: 11 });
    // The marker (.surgctl-output: run id, time) differs per run by design; the dataset itself is byte-identical.
    const files = readdirSync(a).filter((f) => f !== '.surgctl-output').sort();
    expect(files).toEqual([...DATASETS.map((d) => `${d}.csv`), 'manifest.json'].sort());
    expect(readdirSync(a)).toContain('.surgctl-output');
    expect(readdirSync(b).filter((f) => f !== '.surgctl-output').sort()).toEqual(files);
    for (const f of files) expect(readFileSync(join(b, f)).equals(readFileSync(join(a, f))), f).toBe(true);
    const c = join(tmp.dir, 'rep-c');
    await generate(c, { seed: 12 });
    expect(readFileSync(join(c, 'telemetry.csv')).equals(readFileSync(join(a, 'telemetry.csv')))).toBe(false);
  });

  it('records options, version, seed and a sha256 per file in the manifest', async () => {
    const dir = join(tmp.dir, 'rep-a');
    const m = manifestOf(dir);
    expect(m.tool).toBe('surgctl');
    expect(m.seed).toBe(11);
    expect(m.reference_date).toBe('2026-01-05T00:00:00Z');
    expect(m.shard).toEqual({ index: 1, count: 1 });
    expect(m.options.telemetry_rows).toBe(4000);
    const { createHash } = await import('node:crypto');
    for (const f of m.files) {
      const bytes = readFileSync(join(dir, f.path));
      expect(f.bytes).toBe(bytes.length);
      expect(f.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });
});

describe.each(['csv', 'ndjson', 'parquet'] as const)('generateDataset: %s contracts', (format) => {
  const dir = join(tmp.dir, `contracts-${format}`);
  let m: Manifest;
  const rows = new Map<string, ReadRow[]>();
  beforeAll(async () => {
    m = (await generate(dir, { format, seed: 3 })).manifest;
    for (const d of DATASETS) rows.set(d, await readRows(dir, `${d}.${format}`, loadDatasetSchema(d)));
  });

  it('writes the manifest row count of every file', () => {
    for (const f of m.files) expect(rows.get(f.dataset)?.length, f.path).toBe(f.rows);
    expect(m.files.map((f) => f.path)).toEqual(DATASETS.map((d) => `${d}.${format}`));
  });

  it('plants every bad-row kind the format can carry, and only those', () => {
    expect(new Set(m.bad_rows.map((b) => b.kind))).toEqual(new Set(KINDS_BY_FORMAT[format]));
    const quoted = m.bad_rows.filter((b) => b.kind === 'unterminated_quote');
    for (const q of quoted) expect(q.row, q.file).toBe(m.files.find((f) => f.path === q.file)?.rows);
  });

  it('every good row validates; every labelled bad row fails for its labelled reason', () => {
    const validate = validators();
    const goodKeys = new Map<string, Set<string>>();
    for (const d of DATASETS) {
      const ds = loadDatasetSchema(d);
      const file = `${d}.${format}`;
      const bad = new Map(m.bad_rows.filter((b) => b.file === file).map((b) => [b.row, b]));
      const pk = ds.primaryKey[0] as string;
      const keys = new Set<string>();
      const seen = new Set<string>();
      for (const r of rows.get(d) ?? []) {
        const key = r.value[pk];
        const label = bad.get(r.row);
        if (label) {
          expect(r.line, `${file} row ${r.row}`).toBe(label.line);
          if (label.kind !== 'unterminated_quote') expect(label.key ?? undefined).toBe(key);
          if (label.keyword === 'csv_field_count' || label.keyword === 'csv_unterminated_quote') {
            expect(r.structure, `${file} line ${r.line}`).toBe(label.keyword);
          } else if (label.keyword === 'duplicate_key') {
            expect(seen.has(String(key)), `${file} line ${r.line} repeats an earlier key`).toBe(true);
            expect(validate.get(d)?.(r.value), `${file} line ${r.line}`).toBe(true);
          } else if (label.keyword !== 'orphan_foreign_key') {
            expect(validate.get(d)?.(r.value), `${file} line ${r.line}`).toBe(false);
            const errs = validate.get(d)?.errors ?? [];
            expect(errs.map((e) => e.keyword), `${file} line ${r.line} ${JSON.stringify(r.value)}`).toContain(label.keyword);
            const fields = new Set(errs.map((e) => (e.keyword === 'required' ? (e.params as { missingProperty: string }).missingProperty : e.instancePath.slice(1))).filter(Boolean));
            expect([...fields], `${file} line ${r.line} fails only on ${label.field}`).toEqual([label.field]);
          }
        } else {
          expect(r.structure).toBe('ok');
          const ok = validate.get(d)?.(r.value);
          expect(ok, `${file} line ${r.line}: ${JSON.stringify(validate.get(d)?.errors)}`).toBe(true);
          expect(xCompareFailures(ds, r.value), `${file} line ${r.line}`).toEqual([]);
          expect(keys.has(String(key)), `${file} line ${r.line} key ${String(key)} unique`).toBe(false);
          keys.add(String(key));
        }
        if (key !== undefined) seen.add(String(key));
      }
      goodKeys.set(d, keys);
    }
    // Foreign keys: good rows resolve to good rows; orphan rows resolve to nothing.
    for (const d of DATASETS) {
      const ds = loadDatasetSchema(d);
      const file = `${d}.${format}`;
      const bad = new Map(m.bad_rows.filter((b) => b.file === file).map((b) => [b.row, b]));
      for (const r of rows.get(d) ?? []) {
        const label = bad.get(r.row);
        for (const fk of ds.foreignKeys) {
          const col = fk.columns[0] as string;
          const target = goodKeys.get(fk.references.dataset);
          if (!label) expect(target?.has(String(r.value[col])), `${file} line ${r.line} ${col}`).toBe(true);
          else if (label.kind === 'orphan_foreign_key' && label.field === col) expect(target?.has(String(r.value[col]))).toBe(false);
        }
      }
    }
  });
});

// NDJSON shares the text path with CSV (only the line format differs); Parquet takes the typed path.
describe.each(['csv', 'parquet'] as const)('generateDataset: %s shards', (format) => {
  it('3 shards are disjoint and their union is exactly the unsharded output', async () => {
    const whole = join(tmp.dir, `shard-${format}-whole`);
    const mWhole = (await generate(whole, { format, seed: 5 })).manifest;
    const parts: Manifest[] = [];
    for (let i = 1; i <= 3; i++) {
      parts.push((await generate(join(tmp.dir, `shard-${format}-${i}`), { format, seed: 5, shard: { index: i, count: 3 } })).manifest);
    }
    for (const d of DATASETS) {
      const ds = loadDatasetSchema(d);
      const file = `${d}.${format}`;
      const all = (await readRows(whole, file, ds)).map((r) => r.value);
      const union: unknown[] = [];
      for (let i = 1; i <= 3; i++) union.push(...(await readRows(join(tmp.dir, `shard-${format}-${i}`), file, ds)).map((r) => r.value));
      expect(union, file).toEqual(all);
      if (format !== 'parquet') {
        const text = (p: string): string[] => readFileSync(p, 'utf8').split('\n').filter(Boolean).slice(format === 'csv' ? 1 : 0);
        const joined = [1, 2, 3].flatMap((i) => text(join(tmp.dir, `shard-${format}-${i}`, file)));
        expect(joined.join('\n'), file).toBe(text(join(whole, file)).join('\n'));
      }
      expect(parts.reduce((s, p) => s + (p.files.find((f) => f.path === file)?.rows ?? 0), 0)).toBe(mWhole.files.find((f) => f.path === file)?.rows);
    }
    // The labelled bad rows and incidents of the shards, rebased, are those of the whole.
    const rebased = parts.flatMap((p) =>
      p.bad_rows.map((b) => {
        const before = parts.slice(0, p.shard.index - 1).reduce((s, q) => s + (q.files.find((f) => f.path === b.file)?.rows ?? 0), 0);
        return { ...b, row: b.row + before, line: b.line + before };
      }),
    );
    const order = (x: { file: string; row: number }, y: { file: string; row: number }): number => x.file.localeCompare(y.file) || x.row - y.row;
    expect(rebased.sort(order)).toEqual([...mWhole.bad_rows].sort(order));
    expect(parts.flatMap((p) => p.incidents).sort((x, y) => x.id.localeCompare(y.id))).toEqual(mWhole.incidents);
    expect(parts.map((p) => p.shard)).toEqual([1, 2, 3].map((index) => ({ index, count: 3 })));
  });
});

describe('generateDataset: safety', () => {
  it('stops on abort, leaving neither the output nor a temporary directory', async () => {
    const { InterruptedError } = await import('../../../src/errors.js');
    const { generateDataset } = await import('../../../src/core/generate/index.js');
    const out = join(tmp.dir, 'aborted');
    const abort = new AbortController();
    const run = generateDataset({ out, robots: 2, patients: 4, procedures: 4, telemetryRows: 200_000, datasets: ['telemetry'] }, {
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === 'start') abort.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(InterruptedError);
    expect(readdirSync(tmp.dir).filter((n) => n.startsWith('aborted') || n.startsWith('.aborted'))).toEqual([]);
  });
});
