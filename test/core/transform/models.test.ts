// Model discovery and the runner's bookkeeping: headers, dependency order, --select, cycles and bad headers; a
// failing model rolls back, is recorded in model_runs with its error, skips what depends on it and throws a
// QueryError naming the model.
import { describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultModelsDir, downstreamOf, loadModels, parseModel, selectModels } from '../../../src/core/transform/models.js';
import { transformDb } from '../../../src/core/transform/transform.js';
import { ConfigError, QueryError, UsageError } from '../../../src/errors.js';
import { scratchDirs } from '../../helpers/run-cli.js';
import { event, insertRows, openLakehouse } from './helpers.js';

const dir = scratchDirs();

describe('the shipped models', () => {
  const set = loadModels();

  it('are every contract mart plus the enrichment view, in dependency order', () => {
    expect(set.models.map((m) => m.name).sort()).toEqual([
      'alert_episodes', 'alerts', 'data_quality', 'motion_kpis', 'news2_hourly', 'outcomes_by_type', 'patient_risk', 'procedure_risk',
      'robot_kpis', 'stg_telemetry', 'telemetry_risk', 'telemetry_search', 'telemetry_summary', 'trends', 'vitals_5min', 'vitals_flags', 'vitals_hourly',
    ]);
    const pos = new Map(set.models.map((m, i) => [m.name, i]));
    for (const m of set.models) for (const d of m.dependsOn) expect(pos.get(d)).toBeLessThan(pos.get(m.name) as number);
    expect(set.helpers.map((h) => h.file.replace(/^.*\//, ''))).toEqual(['_macros.sql']);
    expect(defaultModelsDir()).toMatch(/src\/core\/transform\/models\/$/);
  });

  it('declare a grain whose columns become unique and not-null tests', () => {
    const risk = set.models.find((m) => m.name === 'telemetry_risk');
    expect(risk?.key).toEqual(['event_id']);
    expect(risk?.partition).toEqual({ kind: 'procedure', columns: ['procedure_id'] });
    expect(risk?.tests.map((t) => t.name).slice(0, 2)).toEqual(['unique(event_id)', 'not_null(event_id)']);
    expect(set.models.find((m) => m.name === 'vitals_5min')?.partition).toEqual({ kind: 'patient_hour', columns: ['patient_id', 'window_start'] });
    expect(set.models.find((m) => m.name === 'stg_telemetry')?.tests).toEqual([]);
  });

  it('select NAME and NAME+ (NAME and everything downstream)', () => {
    expect(selectModels(set.models, ['news2_hourly']).map((m) => m.name)).toEqual(['news2_hourly']);
    expect(selectModels(set.models, ['news2_hourly+']).map((m) => m.name)).toEqual(['news2_hourly', 'patient_risk', 'procedure_risk']);
    expect(selectModels(set.models, ['trends,alerts']).map((m) => m.name).sort()).toEqual(['alerts', 'trends']);
    expect([...downstreamOf(set.models, 'telemetry_risk')].sort()).toEqual(['alert_episodes', 'alerts', 'patient_risk', 'procedure_risk', 'robot_kpis', 'telemetry_search', 'telemetry_summary']);
    expect(() => selectModels(set.models, ['nope+'])).toThrow(UsageError);
  });
});

describe('model files', () => {
  const good = '-- depends-on:\n-- grain: one row per (a)\nSELECT 1 AS a\n';

  it('parse tests, partitions and materialization from the header', () => {
    const m = parseModel('/x/m.sql', `-- depends-on: a, b
-- grain: one row per (k1, k2)
-- materialized: table
-- partition: patient_hour(p, t)
-- test: range(score, 0, *)
-- test: accepted_values(band, low, high)
-- test: not_null(x, y)
-- test: expect(a <= b)
SELECT 1`);
    expect(m.dependsOn).toEqual(['a', 'b']);
    expect(m.partition).toEqual({ kind: 'patient_hour', columns: ['p', 't'] });
    expect(m.batched).toBe(true);
    expect(m.tests).toEqual([
      { kind: 'unique', name: 'unique(k1, k2)', columns: ['k1', 'k2'] },
      { kind: 'not_null', name: 'not_null(k1)', column: 'k1' },
      { kind: 'not_null', name: 'not_null(k2)', column: 'k2' },
      { kind: 'range', name: 'range(score, 0, *)', column: 'score', min: 0, max: null },
      { kind: 'accepted_values', name: 'accepted_values(band)', column: 'band', values: ['low', 'high'] },
      { kind: 'not_null', name: 'not_null(x)', column: 'x' },
      { kind: 'not_null', name: 'not_null(y)', column: 'y' },
      { kind: 'expect', name: 'expect(a <= b)', expression: 'a <= b' },
    ]);
    expect(parseModel('/x/ok.sql', good).sql).toContain('SELECT 1 AS a');
    // batched: false, with its reason in words, keeps a partitioned model's full build in one pass
    expect(parseModel('/x/one.sql', '-- depends-on:\n-- grain: one row per (a)\n-- partition: procedure(a)\n-- batched: false (a filter)\nSELECT 1 AS a').batched).toBe(false);
    expect(loadModels().models.filter((x) => !x.batched).map((x) => x.name).sort()).toEqual(['alert_episodes', 'alerts', 'telemetry_search']);
    // a semicolon inside a string literal is not a second statement
    expect(parseModel('/x/ok2.sql', "-- depends-on:\n-- grain: one row per (a)\nSELECT '; ' AS a;\n").name).toBe('ok2');
  });

  it.each([
    ['-- grain: one row per (a)\nSELECT 1', /depends-on/],
    ['-- depends-on:\nSELECT 1', /grain/],
    ['-- depends-on:\n-- grain: rows\nSELECT 1', /one row per/],
    ['-- depends-on:\n-- grain: one row per (a)\nSELECT 1; DROP TABLE x', /exactly one SELECT/],
    ['-- depends-on:\n-- grain: one row per (a)\nDELETE FROM x', /exactly one SELECT/],
    ['-- depends-on:\n-- grain: one row per (a)\n-- partition: hospital(a)\nSELECT 1', /bad partition/],
    ['-- depends-on:\n-- grain: one row per (a)\n-- test: range(a, 0)\nSELECT 1', /bad test/],
    ['-- depends-on:\n-- grain: one row per (a)\n-- test: shape(a)\nSELECT 1', /unknown test kind/],
    ['-- depends-on:\n-- grain: one row per (a)\n-- batched: falsy\nSELECT 1', /batched must be true or false/],
  ])('refuse a bad header (%#)', (text, message) => {
    expect(() => parseModel('/x/bad.sql', text)).toThrow(ConfigError);
    expect(() => parseModel('/x/bad.sql', text)).toThrow(message);
  });

  it('refuse unknown dependencies and cycles', () => {
    const d = dir();
    writeFileSync(join(d, 'a.sql'), '-- depends-on: b\n-- grain: one row per (x)\nSELECT 1 AS x');
    expect(() => loadModels(d)).toThrow(/depends on "b", which is not a model/);
    writeFileSync(join(d, 'b.sql'), '-- depends-on: a\n-- grain: one row per (x)\nSELECT 1 AS x');
    expect(() => loadModels(d)).toThrow(/cycle: a -> b -> a/);
  });
});

describe('a failing model', () => {
  it('is rolled back and recorded, skips its dependents, and throws a QueryError naming it', async () => {
    const d = dir();
    const models = join(d, 'models');
    mkdirSync(models);
    cpSync(defaultModelsDir(), models, { recursive: true });
    // alerts now divides by a column that does not exist
    writeFileSync(join(models, 'alerts.sql'), '-- depends-on: telemetry_risk\n-- grain: one row per (alert_id)\nSELECT event_id AS alert_id, no_such_column FROM telemetry_risk');
    const db = await openLakehouse(d);
    try {
      await insertRows(db, 'telemetry', [event('EV-1')]);
      const err = await transformDb(db, { cwd: d, env: {}, modelsDir: models }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueryError);
      expect((err as QueryError).model).toBe('alerts');
      expect((err as QueryError).message).toMatch(/^model alerts failed: .*no_such_column/);
      const runs = await db.all<{ model: string; status: string; error: string | null }>(
        'SELECT model, status, error FROM model_runs ORDER BY started_at, model',
      );
      const by = Object.fromEntries(runs.map((r) => [r.model, r]));
      expect(by.telemetry_risk?.status).toBe('succeeded');
      expect(by.alerts?.status).toBe('failed');
      expect(by.alerts?.error).toContain('no_such_column');
      expect(by.alert_episodes).toMatchObject({ status: 'skipped', error: 'upstream alerts failed' });
      expect(by.patient_risk).toMatchObject({ status: 'skipped' });
      expect(by.vitals_hourly?.status).toBe('succeeded');
      expect(await db.scalar("SELECT count(*)::INTEGER FROM information_schema.tables WHERE table_name = 'alerts'")).toBe(0);
      // The failed run consumed nothing: the next run starts over in full.
      expect(await db.scalar('SELECT count(*)::INTEGER FROM transform_state')).toBe(0);
      expect(await db.scalar("SELECT status FROM transform_runs")).toBe('failed');
      expect(await db.scalar("SELECT status FROM runs WHERE command = 'transform'")).toBe('failed');
    } finally {
      db.close();
    }
  });
});

describe('model tests in a full run', () => {
  it('count a duplicated key exactly (the hashes of the keys fall short of the rows) and pass unique keys', async () => {
    const d = dir();
    const db = await openLakehouse(d);
    try {
      // EV-1 three times, EV-2 twice: 2 keys occur more than once (6 rows, 3 keys: rows minus keys would say 3).
      const at = (s: number): string => `2026-01-05T08:00:0${s}Z`;
      await insertRows(db, 'telemetry', [event('EV-1'), event('EV-1', { recorded_at: at(1) }), event('EV-1', { recorded_at: at(2) }), event('EV-2'), event('EV-2', { procedure_id: 'PR-2' }), event('EV-3')]);
      const r = await transformDb(db, { cwd: d, env: {} });
      expect(r.mode).toBe('full');
      expect(r.tests.filter((t) => t.status === 'fail').map((t) => [t.model, t.test, t.failures])).toEqual([['telemetry_risk', 'unique(event_id)', 2]]);
      expect(r.tests.find((t) => t.model === 'telemetry_summary' && t.test.startsWith('unique('))?.status).toBe('pass');
    } finally {
      db.close();
    }
  });
});

describe('model tests in an incremental run', () => {
  it('check the partitions in scope and catch a duplicate the new load brought', async () => {
    const d = dir();
    const db = await openLakehouse(d);
    try {
      await insertRows(db, 'telemetry', [event('EV-1'), event('EV-2', { procedure_id: 'PR-2' })]);
      expect((await transformDb(db, { cwd: d, env: {} })).tests_failed).toBe(0);
      await insertRows(db, 'telemetry', [event('EV-1', { recorded_at: '2026-01-05T08:00:01Z' })], 'L-dup');
      const r = await transformDb(db, { cwd: d, env: {} });
      expect(r.mode).toBe('incremental');
      expect(r.models.find((m) => m.model === 'telemetry_risk')?.rows).toBe(2);
      expect(r.tests.filter((t) => t.status === 'fail').map((t) => [t.model, t.test, t.failures])).toEqual([['telemetry_risk', 'unique(event_id)', 1]]);
    } finally {
      db.close();
    }
  });
});
