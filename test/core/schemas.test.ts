import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { inferDataset, listDatasets, loadDatasetSchema } from '../../src/core/schemas.js';

describe('data contracts', () => {
  it('every dataset schema is valid draft 2020-12, strict, with a primary key and units', () => {
    const ajv = new Ajv2020({ strict: false });
    for (const name of listDatasets()) {
      const d = loadDatasetSchema(name);
      expect(ajv.validateSchema(d.schema), `${name}: ${JSON.stringify(ajv.errors)}`).toBe(true);
      expect(d.schema.additionalProperties).toBe(false);
      expect(d.primaryKey.length).toBeGreaterThan(0);
      for (const col of d.columns) expect(d.columnTypes[col]?.unit, `${name}.${col} unit`).toBeTruthy();
    }
  });

  it('foreign keys reference declared datasets and columns', () => {
    for (const name of listDatasets()) {
      for (const fk of loadDatasetSchema(name).foreignKeys) {
        const target = loadDatasetSchema(fk.references.dataset);
        for (const c of fk.references.columns) expect(target.columns).toContain(c);
      }
    }
  });

  it('infers datasets from file names', () => {
    expect(inferDataset('/x/telemetry.csv')).toBe('telemetry');
    expect(inferDataset('vitals.ndjson.gz')).toBe('vitals');
    expect(inferDataset('2026-01_procedures_shard1.parquet')).toBe('procedures');
    expect(inferDataset('data.csv')).toBeUndefined();
  });
});

describe('domain reference data matches the contracts', () => {
  it('instruments, arms, steps and error codes equal the telemetry schema enums', async () => {
    const d = await import('../../src/core/domain.js');
    const props = loadDatasetSchema('telemetry').schema.properties ?? {};
    expect(new Set(props.instrument?.enum as string[])).toEqual(new Set(Object.keys(d.INSTRUMENT_FORCE_LIMIT_N)));
    expect(props.robot_arm?.enum).toEqual([...d.ROBOT_ARMS]);
    expect(props.step?.enum).toEqual([...d.SURGICAL_STEPS]);
    expect(new Set((props.error_code?.enum as string[]).filter((c) => c !== ''))).toEqual(new Set(Object.keys(d.ERROR_CODES)));
    expect(loadDatasetSchema('vitals').schema.properties?.metric?.enum).toEqual([...d.VITAL_METRICS]);
  });
});
