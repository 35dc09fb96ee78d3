// The fuzz smoke in npm test: the same properties as `npm run fuzz` (test/fuzz/fuzz.fuzz.ts), seeded, with a few
// cases each. A regression guard for issue 12: bad bytes never end in exit 3 or a stack trace, rows always add up,
// and the fast path, the exact staging, ajv and load agree. A failure names the saved counterexample.
import { describe, expect, it } from 'vitest';
import { runProperty } from './properties.js';
import { PROPERTIES } from './suite.js';

const SEED = 20261207;
const NUM_RUNS = 3;

describe(`fuzz smoke (seed ${SEED}, ${NUM_RUNS} cases per property)`, () => {
  for (const p of PROPERTIES) {
    it(p.name, async () => {
      const r = await runProperty(`smoke-${p.name}`, p.arb, { seed: SEED, numRuns: NUM_RUNS, load: p.load, timeLimitMs: 40_000 });
      expect(r.failed, r.error).toBe(false);
      expect(r.ran).toBe(NUM_RUNS);
    });
  }
});
