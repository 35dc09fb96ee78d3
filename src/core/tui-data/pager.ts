// Pager: a bounded window over one view, filled by keyset pages. It keeps at most a few chunks of rows around the
// visible part, fetches the next chunk when the selection walks off either end, and drops the far end so memory
// stays flat however long the list is. No SQL here: it asks an AlertSource for pages.
import type { AlertSource, ListRow, ViewSpec } from './types.js';

export interface PagerView {
  /** The visible rows, top to bottom. */
  rows: ListRow[];
  /** Index of the selected row in `rows` (-1 when empty). */
  selected: number;
  /** 0-based position of the selected row in the whole view, when known. */
  position: number | null;
  atStart: boolean;
  atEnd: boolean;
}

export class Pager {
  private buf: ListRow[] = [];
  private top = 0;
  private sel = 0;
  private base: number | null = 0;
  private atStart = true;
  private atEnd = true;
  private height: number;
  private readonly source: Pick<AlertSource, 'page' | 'rankOf'>;
  readonly spec: ViewSpec;
  /** Rows in the whole view (from the counts), for positions after G. */
  private readonly total: number;

  constructor(source: Pick<AlertSource, 'page' | 'rankOf'>, spec: ViewSpec, height: number, total: number) {
    this.source = source;
    this.spec = spec;
    this.height = Math.max(1, height);
    this.total = total;
  }

  private get chunk(): number {
    return Math.max(this.height * 2, 40);
  }

  private get maxBuffer(): number {
    return this.chunk * 3;
  }

  /** Rows held in memory now (bounded by three chunks). */
  get buffered(): number {
    return this.buf.length;
  }

  view(): PagerView {
    const rows = this.buf.slice(this.top, this.top + this.height);
    if (rows.length === 0) return { rows, selected: -1, position: null, atStart: true, atEnd: true };
    return {
      rows,
      selected: rows.length === 0 ? -1 : this.sel - this.top,
      position: this.base === null ? null : this.base + this.sel,
      atStart: this.atStart && this.sel === 0,
      atEnd: this.atEnd && this.sel === this.buf.length - 1,
    };
  }

  selected(): ListRow | undefined {
    return this.buf[this.sel];
  }

  async first(): Promise<void> {
    this.buf = await this.source.page(this.spec, { limit: this.chunk });
    this.atStart = true;
    this.atEnd = this.buf.length < this.chunk;
    this.top = 0;
    this.sel = 0;
    this.base = 0;
  }

  async last(): Promise<void> {
    this.buf = await this.source.page(this.spec, { fromEnd: true, limit: this.chunk });
    this.atEnd = true;
    this.atStart = this.buf.length < this.chunk;
    this.sel = Math.max(0, this.buf.length - 1);
    this.top = Math.max(0, this.sel - this.height + 1);
    this.base = Math.max(0, this.total - this.buf.length);
  }

  /** Moves the selection by `delta` rows (a page when |delta| is the height: the window scrolls with it). */
  async moveBy(delta: number): Promise<void> {
    if (this.buf.length === 0) return;
    let target = this.sel + delta;
    // Keep a screenful loaded beyond the target, so a page move can scroll a whole page.
    if (delta > 0) while (target + this.height >= this.buf.length && !this.atEnd) target -= await this.extendEnd();
    if (delta < 0) while (target - this.height < 0 && !this.atStart) target += await this.extendStart();
    target = Math.max(0, Math.min(this.buf.length - 1, target));
    const moved = target - this.sel;
    this.sel = target;
    if (Math.abs(delta) >= this.height) this.top += moved;
    this.clampTop();
  }

  /** Replaces rows with the same id (after an acknowledgement) without moving. */
  replace(rows: ListRow[]): void {
    const byId = new Map(rows.map((r) => [r.id, r]));
    this.buf = this.buf.map((r) => byId.get(r.id) ?? r);
  }

  /** The ids currently held, for a refresh of their state. */
  heldRows(): ListRow[] {
    return this.buf.slice(this.top, this.top + this.height);
  }

  setHeight(height: number): void {
    this.height = Math.max(1, height);
    this.clampTop();
  }

  private clampTop(): void {
    if (this.sel < this.top) this.top = this.sel;
    if (this.sel >= this.top + this.height) this.top = this.sel - this.height + 1;
    this.top = Math.max(0, Math.min(this.top, Math.max(0, this.buf.length - this.height)));
    if (this.sel < this.top) this.top = this.sel;
  }

  /** Appends the next chunk; returns how many rows were dropped from the front. */
  private async extendEnd(): Promise<number> {
    const last = this.buf[this.buf.length - 1];
    if (last === undefined) return 0;
    const more = await this.source.page(this.spec, { after: last.key, limit: this.chunk });
    if (more.length < this.chunk) this.atEnd = true;
    if (more.length === 0) return 0;
    this.buf.push(...more);
    const drop = Math.max(0, Math.min(this.buf.length - this.maxBuffer, this.top));
    if (drop > 0) {
      this.buf.splice(0, drop);
      this.top -= drop;
      this.sel -= drop;
      if (this.base !== null) this.base += drop;
      this.atStart = false;
    }
    return drop;
  }

  /** Prepends the previous chunk; returns how many rows were added in front. */
  private async extendStart(): Promise<number> {
    const first = this.buf[0];
    if (first === undefined) return 0;
    const more = await this.source.page(this.spec, { before: first.key, limit: this.chunk });
    if (more.length < this.chunk) this.atStart = true;
    if (more.length === 0) return 0;
    this.buf.unshift(...more);
    this.top += more.length;
    this.sel += more.length;
    if (this.base !== null) this.base -= more.length;
    const keep = Math.max(this.maxBuffer, this.top + this.height);
    if (this.buf.length > keep) {
      this.buf.length = keep;
      this.atEnd = false;
    }
    return more.length;
  }
}
