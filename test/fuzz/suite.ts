// The properties the harness runs, by name: shared by the smoke (npm test) and by `npm run fuzz`.
import type fc from 'fast-check';
import { DATASETS, datasetCsv, exporterCsv, randomSchemaCsv, type FuzzCase } from './generators.js';

export interface FuzzProperty {
  name: string;
  arb: fc.Arbitrary<FuzzCase>;
  /** Load the file too (built-in datasets only). */
  load: boolean;
}

export const PROPERTIES: FuzzProperty[] = [
  ...DATASETS.map((d) => ({ name: `csv-bytes-${d}`, arb: datasetCsv(d), load: true })),
  { name: 'exporters', arb: exporterCsv(), load: true },
  { name: 'random-schemas', arb: randomSchemaCsv(), load: false },
];
