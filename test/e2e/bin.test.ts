// Spawns the built bin/ to prove packaging works (npm test builds dist/ before vitest runs).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';

describe('bin/surgctl.js', () => {
  it('runs --help from the built package', () => {
    const r = spawnSync(process.execPath, ['bin/surgctl.js', '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: surgctl');
  });

  it('exits 2 with a suggestion for an unknown command', () => {
    const r = spawnSync(process.execPath, ['bin/surgctl.js', 'genrate'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown command');
  });
});
