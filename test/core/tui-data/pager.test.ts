import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DEFAULT_VIEW, Pager, openAlertStore, type AlertStore, type ListRow, type PageRequest, type ViewSpec } from '../../../src/core/tui-data/index.js';
import { tempDir } from '../../helpers/run-cli.js';
import { buildMartFixture } from './fixture.js';
import { lakeAt } from '../../helpers/lake.js';

const t = tempDir('surgctl-pager-');
let store: AlertStore;
let all: ListRow[];
/** Page requests the pager made, to prove it fetches a bounded chunk at a time. */
const requests: PageRequest[] = [];

beforeAll(async () => {
  const p = join(t.dir, 'lake.duckdb');
  await buildMartFixture(p, { alerts: 1200 });
  store = await openAlertStore({ user: 'x' }, { lake: lakeAt(p) });
  all = await store.page(DEFAULT_VIEW, { limit: 10_000 });
});
afterAll(() => {
  store?.close();
  t.cleanup();
});

function pager(spec: ViewSpec, height: number, total: number): Pager {
  return new Pager(
    {
      page: (s, r) => {
        requests.push(r);
        return store.page(s, r);
      },
      rankOf: (s, k) => store.rankOf(s, k),
    },
    spec,
    height,
    total,
  );
}

describe('Pager', () => {
  it('walks the whole view one row at a time holding at most three chunks', async () => {
    const p = pager(DEFAULT_VIEW, 10, all.length);
    await p.first();
    requests.length = 0;
    const seen: string[] = [p.selected()!.id];
    let maxHeld = 0;
    for (let i = 1; i < all.length + 5; i++) {
      await p.moveBy(1);
      maxHeld = Math.max(maxHeld, p.buffered);
      const v = p.view();
      if (seen[seen.length - 1] !== p.selected()!.id) seen.push(p.selected()!.id);
      expect(v.rows[v.selected]!.id).toBe(p.selected()!.id);
      expect(v.position).toBe(seen.length - 1);
    }
    expect(seen).toEqual(all.map((r) => r.id));
    expect(maxHeld).toBeLessThanOrEqual(40 * 3 + 40);
    expect(requests.every((r) => r.limit === 40)).toBe(true);
    expect(p.view().atEnd).toBe(true);
  });

  it('pages down and up by the height and comes back to the same rows', async () => {
    const p = pager(DEFAULT_VIEW, 12, all.length);
    await p.first();
    for (let i = 0; i < 30; i++) await p.moveBy(12);
    expect(p.view().position).toBe(360);
    expect(p.view().rows.map((r) => r.id)).toEqual(all.slice(360, 372).map((r) => r.id));
    for (let i = 0; i < 30; i++) await p.moveBy(-12);
    expect(p.view().position).toBe(0);
    expect(p.view().rows.map((r) => r.id)).toEqual(all.slice(0, 12).map((r) => r.id));
    expect(p.view().atStart).toBe(true);
  });

  it('jumps to the end (G) with its position, and moves back from there', async () => {
    const p = pager(DEFAULT_VIEW, 8, all.length);
    await p.last();
    expect(p.selected()!.id).toBe(all[all.length - 1]!.id);
    expect(p.view().position).toBe(all.length - 1);
    await p.moveBy(-100);
    expect(p.selected()!.id).toBe(all[all.length - 101]!.id);
  });

  it('handles an empty view', async () => {
    const p = pager({ ...DEFAULT_VIEW, patientId: 'nobody' }, 8, 0);
    await p.first();
    await p.moveBy(1);
    expect(p.view()).toEqual({ rows: [], selected: -1, position: null, atStart: true, atEnd: true });
    expect(p.selected()).toBeUndefined();
  });
});
