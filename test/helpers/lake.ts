// A Lakehouse (src/db/lakehouse.ts) for a test's database file, with the settings the test names: what main() builds
// once from the flags and environment, and every stage is given as its context's `lake`.
import { Lakehouse, type LakehouseSettings } from '../../src/db/lakehouse.js';

export function lakeAt(path: string, settings: Omit<LakehouseSettings, 'path'> = {}): Lakehouse {
  return new Lakehouse({ ...settings, path });
}
