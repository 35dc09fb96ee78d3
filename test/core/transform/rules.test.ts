// The rules file: shipped defaults are valid and cited, match the domain reference data, merge with a project
// file (objects merge, arrays replace) keeping the origin of every value, and bad files fail with the file and field.
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, INSTRUMENT_FORCE_LIMIT_N, MINOR_ERROR_CODES, SEVERE_ERROR_CODES } from '../../../src/core/domain.js';
import { deepMerge, defaultRulesPath, loadRules, resolveRulesFile, validateRules } from '../../../src/core/transform/rules.js';
import { ConfigError, UsageError } from '../../../src/errors.js';
import { scratchDirs } from '../../helpers/run-cli.js';

const dir = scratchDirs();

/** Every object in the default rules that holds a number (directly or in an array) must carry a source. */
function uncited(node: unknown, path: string, out: string[]): void {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return;
  const obj = node as Record<string, unknown>;
  const hasNumber = (v: unknown): boolean =>
    typeof v === 'number' || (Array.isArray(v) && v.some((x) => typeof x === 'number' || (typeof x === 'object' && x !== null && Object.values(x).some((y) => typeof y === 'number'))));
  const numbersHere = Object.values(obj).some(hasNumber);
  if (numbersHere && typeof obj.source !== 'string' && !path.endsWith('.limits') && !/\.(severe|minor)$/.test(path)) out.push(path || '(root)');
  for (const [k, v] of Object.entries(obj)) uncited(v, path ? `${path}.${k}` : k, out);
}

describe('default rules', () => {
  it('validate against the schema and cite a source for every number', () => {
    const loaded = loadRules(null);
    expect(loaded.projectFile).toBeNull();
    const doc = JSON.parse(readFileSync(defaultRulesPath(), 'utf8')) as Record<string, unknown>;
    expect(() => validateRules(doc, undefined, null, defaultRulesPath())).not.toThrow();
    expect(() => validateRules({ ...doc, version: 7 }, undefined, null, defaultRulesPath())).toThrow(/"version" must be string/);
    const missing: string[] = [];
    uncited(doc, '', missing);
    expect(missing).toEqual([]);
    expect(loaded.values.every((v) => v.from === 'default')).toBe(true);
  });

  it('use the instrument force limits and error taxonomy of domain.ts', () => {
    const { rules } = loadRules(null);
    expect(rules.robot_risk.instrument_force_limit_n.limits).toEqual(INSTRUMENT_FORCE_LIMIT_N);
    expect(rules.robot_risk.error_codes.severe.codes).toEqual(SEVERE_ERROR_CODES);
    expect(rules.robot_risk.error_codes.minor.codes).toEqual(MINOR_ERROR_CODES);
    expect(Object.keys(ERROR_CODES).length).toBe(SEVERE_ERROR_CODES.length + MINOR_ERROR_CODES.length);
  });

  it('hold the RCP 2017 NEWS2 chart', () => {
    const { news2 } = loadRules(null).rules;
    const chart = (b: { bands: { max: number; score: number }[]; above: number }) => [...b.bands.map((x) => [x.max, x.score]), ['above', b.above]];
    expect(chart(news2.heart_rate)).toEqual([[40, 3], [50, 1], [90, 0], [110, 1], [130, 2], ['above', 3]]);
    expect(chart(news2.resp_rate)).toEqual([[8, 3], [11, 1], [20, 0], [24, 2], ['above', 3]]);
    expect(chart(news2.spo2)).toEqual([[91, 3], [93, 2], [95, 1], ['above', 0]]);
    expect(chart(news2.temperature_c)).toEqual([[35, 3], [36, 1], [38, 0], [39, 1], ['above', 2]]);
    expect(chart(news2.systolic_bp)).toEqual([[90, 3], [100, 2], [110, 1], [219, 0], ['above', 3]]);
    expect(chart(news2.consciousness)).toEqual([[0, 0], ['above', 3]]);
    expect(chart(news2.o2_supplemental)).toEqual([[0, 0], ['above', 2]]);
  });
});

describe('project rules', () => {
  it('merge objects key by key, replace arrays, and remember where each value came from', () => {
    const d = dir();
    const file = join(d, 'surgctl.rules.json');
    writeFileSync(file, JSON.stringify({ version: 'site-a', alerts: { episode_gap_s: 30 }, trends: { metrics: ['heart_rate'] } }));
    const loaded = loadRules(file);
    expect(loaded.rules.alerts).toMatchObject({ episode_gap_s: 30, min_level: 'medium' });
    expect(loaded.rules.trends.metrics).toEqual(['heart_rate']);
    const from = Object.fromEntries(loaded.values.map((v) => [v.path, v.from]));
    expect(from['alerts.episode_gap_s']).toBe(file);
    expect(from['trends.metrics']).toBe(file);
    expect(from['alerts.min_level']).toBe('default');
    expect(loaded.sha256).not.toBe(loadRules(null).sha256);
    expect(deepMerge({ a: { b: 1, c: [1, 2] } }, { a: { c: [3] } })).toEqual({ a: { b: 1, c: [3] } });
  });

  it('are found from the flag, then the config, then ./surgctl.rules.json', () => {
    const d = dir();
    expect(resolveRulesFile({ cwd: d })).toBeNull();
    writeFileSync(join(d, 'surgctl.rules.json'), '{}');
    expect(resolveRulesFile({ cwd: d })).toBe(join(d, 'surgctl.rules.json'));
    expect(resolveRulesFile({ cwd: d, configRules: 'site.json' })).toBe(join(d, 'site.json'));
    expect(resolveRulesFile({ cwd: d, rulesPath: 'x.json', configRules: 'site.json' })).toBe(join(d, 'x.json'));
  });

  it.each([
    [{ news2: { heart_rate: { above: 4 } } }, 'news2.heart_rate.above'],
    [{ robot_risk: { latency_ms: { bands: [{ max: 300, score: 0 }, { max: 200, score: 1 }] } } }, 'robot_risk.latency_ms.bands'],
    [{ alerts: { min_level: 'urgent' } }, 'alerts.min_level'],
    [{ trends: { cv_volatile: 0.36, cv_volitile: 0.4 } }, 'trends.cv_volitile'],
    [{ robot_risk: { error_codes: { minor: { codes: ['E-ARC'], score: 1 } } } }, 'robot_risk.error_codes'],
  ])('refuse %j naming the file and the field', (over, field) => {
    const d = dir();
    const file = join(d, 'bad.json');
    writeFileSync(file, JSON.stringify(over));
    const err = (() => {
      try {
        loadRules(file);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe(field);
    expect((err as ConfigError).file).toBe(file);
  });

  it('refuse a missing file (usage) and a file that is not JSON (config)', () => {
    const d = dir();
    expect(() => loadRules(join(d, 'missing.json'))).toThrow(UsageError);
    writeFileSync(join(d, 'broken.json'), '{ "version": ');
    expect(() => loadRules(join(d, 'broken.json'))).toThrow(/not valid JSON/);
  });
});
