// `npm run fuzz`: the long fuzz run (test/fuzz/*.fuzz.ts), not part of npm test. FUZZ_RUNS / FUZZ_SEED / FUZZ_ONLY.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/fuzz/**/*.fuzz.ts'],
    testTimeout: 3_600_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
