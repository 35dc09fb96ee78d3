// openDb's spill folders are named by pid, and the folders of processes that are gone are removed (a killed
// surgctl used to leave its spill folder, gigabytes at scale, in the temp directory for good).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spillHost, sweepDeadSpill } from '../../src/db/db.js';
import { scratchDirs } from '../helpers/run-cli.js';

const tempDir = scratchDirs();

describe('sweepDeadSpill', () => {
  it('removes the spill folders of dead pids on this host only, and leaves live pids, other hosts and other names alone', () => {
    const host = spillHost();
    const dir = tempDir();
    // A pid that is certainly gone: a child that has exited.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const names = {
      dead: `surgctl-spill-${host}-${dead}-AbC123`,
      self: `surgctl-spill-${host}-${process.pid}-XyZ789`,
      parent: `surgctl-spill-${host}-${process.ppid}-QwErTy`,
      elsewhere: `surgctl-spill-not-${host}-${dead}-AbC123`,
      old: 'surgctl-spill-AbCdEf',
      other: `other-spill-${dead}-AbC123`,
    };
    for (const n of Object.values(names)) {
      mkdirSync(join(dir, n));
      writeFileSync(join(dir, n, 'duckdb_temp_storage-0.tmp'), 'x'.repeat(1000));
    }
    const removed = sweepDeadSpill(dir);
    expect(removed).toEqual([names.dead]);
    expect(existsSync(join(dir, names.dead))).toBe(false);
    for (const n of [names.self, names.parent, names.elsewhere, names.old, names.other]) expect(existsSync(join(dir, n))).toBe(true);
  });

  it('uses the given liveness check', () => {
    const dir = tempDir();
    mkdirSync(join(dir, `surgctl-spill-${spillHost()}-4242-abcdef`));
    expect(sweepDeadSpill(dir, () => true)).toEqual([]);
    expect(sweepDeadSpill(dir, () => false)).toEqual([`surgctl-spill-${spillHost()}-4242-abcdef`]);
  });
});
