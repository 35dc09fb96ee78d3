// `npm run fuzz`: every property with many cases (FUZZ_RUNS per property, default 200; FUZZ_SEED, default 12;
// FUZZ_TIME_LIMIT_S per property, default 900;
// FUZZ_ONLY=name to run one; FUZZ_REPLAY=file.csv to recheck a saved counterexample). Prints a summary (cases per property, failures, counterexample paths) and writes it to
// bench/out/fuzz-summary.json. Each failing property fails its own test, so the others still run.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonSchema } from '../../src/core/schemas.js';
import { checkCase, FINDINGS_DIR, runProperty, type PropertyResult } from './properties.js';
import { PROPERTIES } from './suite.js';

const numRuns = Number(process.env.FUZZ_RUNS ?? 200);
const seed = Number(process.env.FUZZ_SEED ?? 12);
const only = process.env.FUZZ_ONLY;
// Per property, shrinking included (FUZZ_TIME_LIMIT_S, default 900 s): past it the run reports what it has.
const timeLimitMs = Number(process.env.FUZZ_TIME_LIMIT_S ?? 900) * 1000;
const results: PropertyResult[] = [];
// FUZZ_REPLAY=bench/out/fuzz-findings/NAME.csv: check one saved counterexample again (dataset from NAME.txt, schema
// from NAME.schema.json when there is one), instead of the properties.
const replay = process.env.FUZZ_REPLAY;

if (replay !== undefined) {
  it(`replay ${replay}`, async () => {
    const base = replay.replace(/\.csv$/, '');
    const dataset = /dataset ([\w-]+);/.exec(readFileSync(`${base}.txt`, 'utf8'))?.[1] ?? 'fuzz';
    const schema = existsSync(`${base}.schema.json`) ? (JSON.parse(readFileSync(`${base}.schema.json`, 'utf8')) as JsonSchema) : undefined;
    await checkCase({ style: 'replay', dataset, schema, bytes: readFileSync(replay) }, { load: schema === undefined });
  });
}

describe.runIf(replay === undefined)(`fuzz: seed ${seed}, ${numRuns} cases per property`, () => {
  for (const p of PROPERTIES.filter((x) => only === undefined || x.name === only)) {
    it(p.name, async () => {
      const r = await runProperty(p.name, p.arb, { seed, numRuns, load: p.load, timeLimitMs });
      results.push(r);
      expect(r.failed, r.error).toBe(false);
    });
  }
  afterAll(() => {
    const lines = results.map((r) => `${r.name}: ${r.ran} cases in ${(r.ms / 1000).toFixed(1)} s, ${r.failed ? `FAILED -> ${r.counterexample}\n    ${r.error ?? ''}` : 'ok'}`);
    process.stdout.write(`\nfuzz summary (seed ${seed}, numRuns ${numRuns}):\n${lines.join('\n')}\n`);
    mkdirSync(join(FINDINGS_DIR, '..'), { recursive: true });
    writeFileSync(join(FINDINGS_DIR, '..', 'fuzz-summary.json'), `${JSON.stringify({ seed, numRuns, results }, null, 2)}\n`);
  });
});
