import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { UsageError } from '../../../src/errors.js';
import { parseShard, parseStart, resolveOptions, shardRange } from '../../../src/core/generate/index.js';
import { createRng } from '../../../src/core/generate/rng.js';
import { apportion } from '../../../src/core/generate/telemetry.js';
import { cadenceOf, dueMetrics, vitalsRowsIn, type VitalsPlan } from '../../../src/core/generate/vitals.js';

describe('generate options', () => {
  it('fills defaults: seed 7, the project reference date, small sizes', () => {
    const o = resolveOptions({ out: 'x' });
    expect(o).toMatchObject({ seed: 7, format: 'csv', robots: 8, patients: 200, procedures: 300, telemetry_rows: 200_000, start: '2026-01-05T00:00:00Z' });
    expect(o.datasets).toEqual(['robots', 'patients', 'procedures', 'telemetry', 'vitals', 'outcomes', 'maintenance']);
  });

  it('scales only the sizes not given explicitly', () => {
    const o = resolveOptions({ out: 'x', scale: 25, robots: 3 });
    expect(o).toMatchObject({ robots: 3, patients: 5000, procedures: 7500, telemetry_rows: 5_000_000 });
  });

  it('normalises --start to UTC and rejects what is not an instant with an offset or a date', () => {
    expect(resolveOptions({ out: 'x', start: '2026-03-01T10:00:00+02:00' }).start).toBe('2026-03-01T08:00:00Z');
    expect(resolveOptions({ out: 'x', start: '2026-03-01' }).start).toBe('2026-03-01T00:00:00Z');
    for (const bad of ['2026-03-01T10:00:00', '2026-02-30', 'now', '']) expect(() => parseStart(bad), bad).toThrow(UsageError);
  });

  it.each([
    [{ robots: 0 }, '--robots'],
    [{ patients: 1.5 }, '--patients'],
    [{ procedures: 300_000 }, '--procedures'],
    [{ badRows: -0.1 }, '--bad-rows'],
    [{ incidents: 1.5 }, '--incidents'],
    [{ scale: 0 }, '--scale'],
    [{ vitalsIntervalMin: 7 }, '--vitals-interval'],
    [{ datasets: ['robots', 'vitalz'] }, '--datasets'],
    [{ format: 'xlsx' as 'csv' }, '--format'],
    [{ telemetryRows: 5, telemetryHz: 0 }, '--telemetry-hz'],
    [{ telemetryHz: 101 }, '--telemetry-hz'],
  ])('rejects %j naming the flag', (bad, flag) => {
    try {
      resolveOptions({ out: 'x', ...bad });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      expect((e as UsageError).field).toBe(flag);
      expect((e as UsageError).exitCode).toBe(2);
    }
  });

  it('parses I/N shards and rejects the rest', () => {
    expect(parseShard('2/8')).toEqual({ index: 2, count: 8 });
    for (const bad of ['0/2', '3/2', '1/0', 'a/b', '2', '1/10001']) expect(() => parseShard(bad), bad).toThrow(UsageError);
  });
});

describe('generate helpers', () => {
  it('splits any total into contiguous, disjoint, covering shard ranges', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 1, max: 50 }), (total, count) => {
        let next = 0;
        for (let index = 1; index <= count; index++) {
          const [lo, hi] = shardRange(total, { index, count });
          expect(lo).toBe(next);
          expect(hi).toBeGreaterThanOrEqual(lo);
          next = hi;
        }
        expect(next).toBe(total);
      }),
    );
  });

  it('apportions a total exactly, in proportion', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.array(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 50 }), (total, weights) => {
        const parts = apportion(total, weights);
        expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
        const sum = weights.reduce((a, b) => a + b, 0);
        parts.forEach((p, i) => expect(Math.abs(p - (total * (weights[i] as number)) / sum)).toBeLessThan(1));
      }),
    );
  });

  it('counts vitals rows in any slot range as the due metrics say', () => {
    for (const interval of [5, 15, 60]) {
      const cadence = cadenceOf(interval);
      const plan = { cadence, totalSlots: 2 * 70 * 10, stays: [0, 1].map((i) => ({ stay: i, proc: i, slot0: i * 700, t0Ms: 0, ticks: 70, det: null, base: {} })) } as unknown as VitalsPlan;
      const due = new Set<number>();
      for (const s of plan.stays) for (let t = 0; t < s.ticks; t++) for (const m of dueMetrics(t, cadence)) due.add(s.slot0 + t * 10 + m);
      for (const [lo, hi] of [[0, 1400], [3, 697], [650, 760], [700, 700], [1399, 1400]] as const) {
        expect(vitalsRowsIn(plan, lo, hi), `${interval} ${lo}-${hi}`).toBe([...due].filter((x) => x >= lo && x < hi).length);
      }
    }
  });

  it('seeds independent, repeatable PRNG streams', () => {
    const a = createRng(7, 'x');
    const b = createRng(7, 'x');
    const c = createRng(7, 'y');
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });
});
