// Issue 15's two-tier vitals limits. The impossible tier lives in the contract (schemas/vitals.schema.json) and is
// cited in the rules file: the two must say the same numbers. The alarming tier loads, is scored like any value, and
// is counted in alarming_n of vitals_hourly and vitals_5min; golden values at each edge, worked by hand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../../../src/db/db.js';
import { loadDatasetSchema } from '../../../src/core/schemas.js';
import { loadRules, vitalsLimits } from '../../../src/core/transform/rules.js';
import { transformDb } from '../../../src/core/transform/transform.js';
import { tempDir } from '../../helpers/run-cli.js';
import { insertRows, openLakehouse, vital } from './helpers.js';

type Bounds = { minimum?: number; exclusiveMinimum?: number; maximum?: number };

describe('the impossible tier', () => {
  it('is the same in the contract and in the rules file, for every metric with a numeric range', () => {
    const schema = loadDatasetSchema('vitals').schema as unknown as {
      allOf: { if: { properties: { metric: { const: string } } }; then: { properties: { value: Bounds & { multipleOf?: number } } } }[];
    };
    const fromSchema = Object.fromEntries(
      schema.allOf
        .filter((e) => e.then.properties.value.multipleOf === undefined)
        .map((e) => {
          const v = e.then.properties.value;
          return [e.if.properties.metric.const, { min: v.minimum, min_exclusive: v.exclusiveMinimum, max: v.maximum }];
        }),
    );
    const rules = loadRules(null).rules;
    const fromRules = Object.fromEntries(
      vitalsLimits(rules).map(([m, l]) => [m, { min: l.impossible_min, min_exclusive: l.impossible_min_exclusive, max: l.impossible_max }]),
    );
    expect(fromRules).toEqual(fromSchema);
    expect(Object.keys(fromRules).sort()).toEqual(['diastolic_bp', 'glucose_mg_dl', 'heart_rate', 'resp_rate', 'spo2', 'systolic_bp', 'temperature_c', 'weight_kg']);
    // every alarming range sits inside the possible one, with a cited source
    for (const [m, l] of vitalsLimits(rules)) {
      const lo = l.impossible_min ?? l.impossible_min_exclusive ?? -Infinity;
      expect(l.alarming_below, m).toBeGreaterThanOrEqual(lo);
      expect(l.alarming_above, m).toBeLessThanOrEqual(l.impossible_max ?? Infinity);
      expect(l.source.length, m).toBeGreaterThan(40);
    }
  });
});

describe('the alarming tier in the marts', () => {
  let db: Db;
  let cleanup: () => void;
  const at = (h: number, min = 0): string => new Date(Date.parse('2026-04-01T00:00:00Z') + h * 3_600_000 + min * 60_000).toISOString();

  beforeAll(async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    db = await openLakehouse(t.dir);
    // One hour per metric, readings a minute apart (5-minute windows :00 and :05 split them 5 + rest).
    const edges: [string, number[]][] = [
      // alarming below 40, above 500: 39.9 and 10 and 500.1 and 1143 flagged; 40 and 500 not
      ['glucose_mg_dl', [10, 39.9, 40, 500, 500.1, 1143]],
      // below 70: 26 and 69.9 flagged; 70 and 100 not
      ['spo2', [26, 69.9, 70, 100]],
      // below 32 or above 41: 29 and 31.9 and 41.1 flagged
      ['temperature_c', [29, 31.9, 32, 41, 41.1]],
      // below 30 or above 200
      ['heart_rate', [29, 30, 200, 201]],
      // below 2 or above 300
      ['weight_kg', [0.6, 2, 300, 300.5]],
    ];
    await insertRows(db, 'vitals', edges.flatMap(([m, vs], h) => vs.map((v, i) => vital('PT-X', m, v, at(h, i)))), 'L-x');
    const r = await transformDb(db, { cwd: t.dir, env: {} });
    expect(r.tests.filter((x) => x.status === 'fail')).toEqual([]);
  });

  afterAll(() => {
    db?.close();
    cleanup?.();
  });

  it('counts alarming readings per hour and per 5 minutes; values at the limit are not alarming', async () => {
    expect(await db.all(`SELECT metric, n::INTEGER AS n, alarming_n::INTEGER AS alarming_n FROM vitals_hourly WHERE patient_id = 'PT-X' ORDER BY hour_start`)).toEqual([
      { metric: 'glucose_mg_dl', n: 6, alarming_n: 4 },
      { metric: 'spo2', n: 4, alarming_n: 2 },
      { metric: 'temperature_c', n: 5, alarming_n: 3 },
      { metric: 'heart_rate', n: 4, alarming_n: 2 },
      { metric: 'weight_kg', n: 4, alarming_n: 2 },
    ]);
    // glucose: :00-:04 hold 10, 39.9, 40, 500, 500.1 (3 alarming); :05 holds 1143 (1)
    expect(await db.all(`SELECT strftime(window_start, '%M') AS w, n::INTEGER AS n, alarming_n::INTEGER AS alarming_n FROM vitals_5min
      WHERE patient_id = 'PT-X' AND metric = 'glucose_mg_dl' ORDER BY window_start`)).toEqual([
      { w: '00', n: 5, alarming_n: 3 },
      { w: '05', n: 1, alarming_n: 1 },
    ]);
  });

  it('scores and grades alarming values like any other: SpO2 26 scores 3, glucose 10 is level 2 hypoglycaemia', async () => {
    // SpO2 hour: the set is scored at its latest reading (100 at :03, score 0); the 26 at :00 is in the hour's 5-minute
    // and hourly aggregates. Glucose hour: the lowest reading, 10, grades the hour.
    expect(await db.scalar(`SELECT min FROM vitals_hourly WHERE patient_id = 'PT-X' AND metric = 'spo2'`)).toBe(26);
    expect(await db.scalar(`SELECT glucose_level FROM vitals_flags WHERE patient_id = 'PT-X' AND hour_start = $h::TIMESTAMPTZ`, { h: at(0) })).toBe('hypo_level_2');
  });

  it('follows a rules override of the alarming range', async () => {
    const dir = tempDir();
    try {
      const file = join(dir.dir, 'r.json');
      writeFileSync(file, JSON.stringify({ vitals_limits: { glucose_mg_dl: { alarming_below: 54, alarming_above: 2000 } } }));
      await transformDb(db, { cwd: dir.dir, env: {}, rulesPath: file, select: ['vitals_hourly'] });
      // below 54: 10, 39.9, 40; none above 2000 (the default counted 500.1 and 1143, not 40)
      expect(await db.scalar(`SELECT alarming_n::INTEGER FROM vitals_hourly WHERE patient_id = 'PT-X' AND metric = 'glucose_mg_dl'`)).toBe(3);
      expect(await db.scalar(`SELECT alarming_n::INTEGER FROM vitals_hourly WHERE patient_id = 'PT-X' AND metric = 'spo2'`)).toBe(2);
    } finally {
      dir.cleanup();
    }
  });
});
