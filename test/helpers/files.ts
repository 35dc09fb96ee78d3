// File-tree helpers for tests that check outputs and inputs byte for byte.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { openDb } from '../../src/db/db.js';
import { literal } from '../../src/db/sql.js';

/** path -> sha256 of every file under dir (relative paths), so "untouched" is checked byte for byte. */
export function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** Writes `rows` valid robots rows (RB-0 ...) as a CSV with a header, for tests that need a load of some length. */
export async function writeRobotsCsv(path: string, rows: number): Promise<void> {
  const db = await openDb(':memory:');
  try {
    await db.run(`COPY (SELECT 'RB-' || i AS robot_id, 'SN-' || lpad(i::VARCHAR, 8, '0') AS serial, 'da Vinci Xi' AS model,
      'Intuitive Surgical' AS manufacturer, 'FAC-' || (i % 7) AS facility_id, DATE '2024-01-01' + (i % 300)::INTEGER AS installed_on,
      'active' AS status FROM range(${rows}) t(i)) TO ${literal(path)} (FORMAT csv, HEADER true)`);
  } finally {
    db.close();
  }
}
