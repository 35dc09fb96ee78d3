// JSON-safe values (src/core/read/values.ts), which every report and query output goes through: checked on
// real DuckDB results, the fast column reader against the generic converter.
import { describe, expect, it } from 'vitest';
import { openDb } from '../../../src/db/db.js';
import { createRowReader, isoFromMicros, jsonSafeConverter } from '../../../src/core/read/values.js';

describe('JSON-safe values', () => {
  it('formats instants as ISO 8601 UTC, milliseconds only when present', () => {
    expect(isoFromMicros(1_767_571_200_000_000n)).toBe('2026-01-05T00:00:00Z');
    expect(isoFromMicros(1_767_571_200_123_456n)).toBe('2026-01-05T00:00:00.123Z');
    expect(isoFromMicros(-1n)).toBe('1969-12-31T23:59:59.999Z');
  });

  it('the column reader and the generic converter agree on every type a mart holds', async () => {
    const db = await openDb(':memory:');
    try {
      const sql = `SELECT * FROM (VALUES
        ('a', 1::INTEGER, 9007199254740993::BIGINT, 2.5::DOUBLE, 'NaN'::DOUBLE, true, TIMESTAMPTZ '2026-01-05 03:00:00+00',
         DATE '2026-01-05', ['x', 'y'], 1.25::DECIMAL(10, 2), 42::BIGINT, {'k': 1}),
        (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)) t(s, i, big, d, nan, b, ts, dt, l, dec, small, st)`;
      const result = await db.stream(sql);
      const chunk = (await result.fetchChunk())!;
      const rows = createRowReader(result.columnNames(), result.columnTypes())(chunk);
      expect(rows[0]).toEqual({
        s: 'a', i: 1, big: '9007199254740993', d: 2.5, nan: null, b: true, ts: '2026-01-05T03:00:00Z', dt: '2026-01-05',
        l: ['x', 'y'], dec: 1.25, small: 42, st: { k: 1 },
      });
      expect(Object.values(rows[1] ?? {}).every((v) => v === null)).toBe(true);
      const cols = chunk.convertColumns(jsonSafeConverter);
      result.columnNames().forEach((name, c) => expect(rows[0]?.[name], name).toEqual(cols[c]?.[0]));
    } finally {
      db.close();
    }
  });
});
