import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, UsageError } from '../../../src/errors.js';
import { codeRules, listProfiles, loadProfile, tableFor } from '../../../src/core/import/profile.js';
import { tempDir } from '../../helpers/run-cli.js';

describe('source profiles', () => {
  it('ships synthea and physionet-2012, each valid against schemas/profile.schema.json and the contracts', () => {
    expect(listProfiles()).toEqual(expect.arrayContaining(['physionet-2012', 'synthea']));
    for (const name of listProfiles()) {
      const p = loadProfile(name);
      expect(p.profile.name).toBe(name);
      expect(p.shipped).toBe(true);
    }
  });

  it('matches files to tables by base name; the first match wins', () => {
    const { profile } = loadProfile('synthea');
    expect(tableFor(profile, '/x/observations.csv')?.dataset).toBe('vitals');
    expect(tableFor(profile, 'patients.csv')?.dataset).toBe('patients');
    expect(tableFor(profile, 'encounters.csv')?.skip).toMatch(/encounters/);
    expect(tableFor(profile, 'notes.txt')).toBeUndefined();
  });

  it('merges the shipped LOINC map under the profile codes', () => {
    const { profile } = loadProfile('synthea');
    const rules = codeRules(profile.tables[0]!.readings!);
    expect(rules['8867-4']?.metric).toBe('heart_rate');
    expect(rules['85354-9']?.skip).toMatch(/components/);
    expect(rules['9269-2']?.flag_if).toEqual({ op: '<', than: 15 });
  });

  it('refuses an unknown name (usage) and a bad profile file (config, naming the field)', () => {
    expect(() => loadProfile('nope')).toThrow(UsageError);
    const t = tempDir();
    try {
      const bad = (over: object): string => {
        const f = join(t.dir, 'p.json');
        writeFileSync(f, JSON.stringify({ name: 'mine', description: 'x', tables: [{ match: '*.csv', dataset: 'vitals', readings: { code: 'c', value: 'v', time: 't' }, columns: { reading_id: { from: 'id' }, patient_id: { from: 'p' } }, ...over }] }));
        return f;
      };
      expect(loadProfile(bad({})).profile.name).toBe('mine');
      expect(() => loadProfile(bad({ columns: { reading_id: { from: 'id' }, patient_id: { from: 'p' }, colour: { const: 'x' } } }))).toThrow(/tables\.0\.columns\.colour" is not a column of vitals/);
      expect(() => loadProfile(bad({ columns: { reading_id: { from: 'id' } } }))).toThrow(/lacks required vitals column\(s\): patient_id/);
      expect(() => loadProfile(bad({ timezone: 'Mars/Olympus' }))).toThrow(/not an IANA time zone/);
      expect(() => loadProfile(bad({ readings: { code: 'c', value: 'v', time: 't', codes: { X: { metric: 'pulse' } } } }))).toThrow(ConfigError);
      expect(() => loadProfile(bad({ columns: { reading_id: { from: 'id', const: 'x' }, patient_id: { from: 'p' } } }))).toThrow(/exactly one of/);
      expect(() => loadProfile(bad({ wat: 1 }))).toThrow(/wat/);
    } finally {
      t.cleanup();
    }
  });
});
