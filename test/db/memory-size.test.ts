// megabytes(): the one parser of memory sizes (SURGCTL_MEMORY_LIMIT in src/cli/io.ts; validate's fast path compares
// a handle's memory_limit with it): decimal and binary units in any case, fractions, spaces; nothing else.
import { describe, expect, it } from 'vitest';
import { megabytes } from '../../src/db/memory-size.js';

describe('megabytes', () => {
  it('reads decimal and binary units, in any case, with fractions and spaces', () => {
    expect(megabytes('512MB')).toBe(512);
    expect(megabytes('2GB')).toBe(2000);
    expect(megabytes('1.5 gb')).toBe(1500);
    expect(megabytes('  192mb ')).toBe(192);
    expect(megabytes('1TB')).toBe(1e6);
    expect(megabytes('250KB')).toBe(0.25);
    expect(megabytes('1000000B')).toBe(1);
    expect(megabytes('1KiB')).toBe(0.001024);
    expect(megabytes('1MiB')).toBe(1.048576);
    expect(megabytes('2 GiB')).toBe(2147.483648);
    expect(megabytes('1tib')).toBe(1099511.627776);
    expect(megabytes('0MB')).toBe(0);
  });

  it('refuses what is not a number and a unit', () => {
    for (const bad of ['', 'MB', '512', '512 M', '512MBs', '-1GB', '+1GB', '1e3MB', '.5GB', '1.GB', '1,5GB', '1 G B', 'lots', '1PB', '1GB 1GB']) {
      expect(megabytes(bad), bad).toBeUndefined();
    }
  });
});
