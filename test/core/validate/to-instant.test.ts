// surgctl_to_instant (the cast of a date-time cell to the raw tables' TIMESTAMPTZ) casts a plain 'T' date-time
// directly and sends only the rest (a space or no separator, a leap second) through regexp_replace: the shortcut must
// give exactly what the one general expression gives, for valid and invalid text alike.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../src/db/db.js';
import { FORMAT_MACROS_SQL } from '../../../src/core/validate/compile.js';

/** The general expression surgctl_to_instant was before the shortcut. */
const GENERAL = `TRY_CAST(regexp_replace(upper(substr(s, 1, 10) || 'T' || substr(s, 12)), '^(.{16}):60(\\.[0-9]*)?', '\\1:59.999999') AS TIMESTAMPTZ)`;

const CASES = [
  '2025-03-01T10:00:00Z', '2025-03-01t10:00:00z', '2025-03-01 10:00:00Z', '2025-03-01T10:00:00.123456Z',
  '2025-03-01T10:00:00+05:30', '2025-03-01T10:00:00-08:00', '2016-12-31T23:59:60Z', '2016-12-31t23:59:60.5z',
  '2016-12-31 23:59:60Z', '2016-12-31T23:60:00Z', '2025-02-30T10:00:00Z', '2025-03-01', '2025-03-01T', 'T', '',
  '2025-03-01X10:00:00Z', 'garbage', '2025-03-01T10:00:00 America/New_York', '2025-03-01T10:00Z', '１２３',
];

let db: Db;
beforeAll(async () => {
  db = await openDb(':memory:');
  for (const stmt of FORMAT_MACROS_SQL.split(';').map((s) => s.trim()).filter(Boolean)) await db.run(stmt);
});
afterAll(() => db.close());

describe('surgctl_to_instant', () => {
  it('equals the general cast on every case, NULL included, and casts a plain date-time', async () => {
    const rows = await db.all<{ s: string | null; fast: string | null; general: string | null }>(`
      SELECT s, surgctl_to_instant(s)::VARCHAR AS fast, (${GENERAL})::VARCHAR AS general
      FROM (SELECT unnest(CAST(CAST($cases AS JSON) AS VARCHAR[])) AS s UNION ALL SELECT NULL) ORDER BY s NULLS FIRST`,
    { cases: JSON.stringify(CASES) });
    expect(rows).toHaveLength(CASES.length + 1);
    for (const r of rows) expect({ s: r.s, v: r.fast }).toEqual({ s: r.s, v: r.general });
    const at = (s: string): string | null | undefined => rows.find((r) => r.s === s)?.fast;
    expect(at('2025-03-01T10:00:00Z')).toBe('2025-03-01 10:00:00+00');
    expect(at('2016-12-31T23:59:60Z')).toBe('2016-12-31 23:59:59.999999+00');
    expect(at('garbage')).toBeNull();
  });
});
