// BrowserController: the alert browser's state and key bindings, independent of ink. Keys are queued and handled
// one at a time (each may wait on the data layer), then subscribers (the ink App) redraw from getState().
// It asks an AlertSource for everything it shows and holds no SQL.
import { Pager, type PagerView } from '../core/tui-data/pager.js';
import {
  DEFAULT_VIEW, LEVELS, SORTS, type AlertDetail, type AlertSource, type LevelCounts, type ListRow, type ViewSpec,
} from '../core/tui-data/types.js';
import { detailHeight, detailLines, listHeight } from './screen.js';
import type { BrowserState, PromptKind, Screen } from './state.js';

/** The keys the controller understands (a subset of ink's Key). */
export interface KeyInfo {
  upArrow?: boolean;
  downArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  backspace?: boolean;
  delete?: boolean;
  ctrl?: boolean;
  meta?: boolean;
  tab?: boolean;
}

export type { BrowserState, PromptKind, Screen };

export interface ControllerOptions {
  user: string;
  /** Where `x` writes exports. */
  exportDir: string;
  rows: number;
  columns: number;
  spec?: ViewSpec;
}

const EMPTY_VIEW: PagerView = { rows: [], selected: -1, position: null, atStart: true, atEnd: true };

function cycle<T>(values: readonly T[], current: T): T {
  return values[(values.indexOf(current) + 1) % values.length] as T;
}

export class BrowserController {
  private state: BrowserState;
  private pager: Pager;
  private readonly source: AlertSource;
  private readonly options: ControllerOptions;
  private readonly listeners = new Set<() => void>();
  private queue: Promise<void> = Promise.resolve();

  constructor(source: AlertSource, options: ControllerOptions) {
    this.source = source;
    this.options = options;
    const spec = options.spec ?? DEFAULT_VIEW;
    this.state = {
      screen: 'list', spec, counts: null, view: EMPTY_VIEW, prompt: null, detail: null,
      detailScroll: 0, message: null, busy: true, lastExport: null,
      size: { rows: options.rows, columns: options.columns }, user: options.user, dbPath: source.path, quit: false,
    };
    this.pager = new Pager(source, spec, listHeight(options.rows), 0);
  }

  getState = (): BrowserState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private set(patch: Partial<BrowserState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  /** Loads the counts and the first page. Call once before the first frame. */
  async init(): Promise<void> {
    await this.reload(this.state.spec);
  }

  /** Resolves when every queued key has been handled. */
  idle(): Promise<void> {
    return this.queue;
  }

  resize(rows: number, columns: number): void {
    this.pager.setHeight(listHeight(rows));
    this.set({ size: { rows, columns }, view: this.pager.view() });
  }

  /**
   * Queues a key press. Several characters in one input (fast typing or a paste, which ink delivers as one
   * string) are handled one by one, so "jj" moves twice and a pasted search ending in Enter submits.
   * Errors become a message on the status line.
   */
  key(input: string, key: KeyInfo = {}): void {
    const chars = Array.from(input);
    if (chars.length > 1 && !Object.values(key).some((v) => v === true)) {
      for (const c of chars) this.key(...charKey(c));
      return;
    }
    this.queue = this.queue
      .then(() => this.handle(input, key))
      .catch((e: unknown) => {
        this.set({ busy: false, message: { text: e instanceof Error ? e.message : String(e), tone: 'error' } });
      });
  }

  private async reload(spec: ViewSpec): Promise<void> {
    this.set({ busy: true });
    const counts = await this.source.counts(spec);
    this.pager = new Pager(this.source, spec, listHeight(this.state.size.rows), counts.inView);
    await this.pager.first();
    this.set({ spec, counts, view: this.pager.view(), busy: false });
  }

  private async handle(input: string, key: KeyInfo): Promise<void> {
    if (this.state.prompt) return this.handlePrompt(input, key);
    if (this.state.screen === 'help') {
      if (input === 'q' || input === '?' || key.escape || key.return) this.set({ screen: this.state.detail ? 'detail' : 'list' });
      return;
    }
    if (this.state.screen === 'detail') return this.handleDetail(input, key);
    return this.handleList(input, key);
  }

  private async move(fn: () => Promise<void>): Promise<void> {
    await fn();
    this.set({ view: this.pager.view(), message: null });
  }

  private async handleList(input: string, key: KeyInfo): Promise<void> {
    const h = listHeight(this.state.size.rows);
    const spec = this.state.spec;
    if (key.upArrow || input === 'k') return this.move(() => this.pager.moveBy(-1));
    if (key.downArrow || input === 'j') return this.move(() => this.pager.moveBy(1));
    if (key.pageUp || (key.ctrl && input === 'b')) return this.move(() => this.pager.moveBy(-h));
    if (key.pageDown || (key.ctrl && input === 'f') || input === ' ') return this.move(() => this.pager.moveBy(h));
    if (key.home || input === 'g') return this.move(() => this.pager.first());
    if (key.end || input === 'G') return this.move(() => this.pager.last());
    if (key.escape && spec.filter) {
      await this.reload({ ...spec, filter: null });
      return this.set({ message: { text: 'filter cleared', tone: 'info' } });
    }
    if (input === 'q' || key.escape) return this.set({ quit: true });
    if (input === '?') return this.set({ screen: 'help' });
    if (input === '/') return this.set({ prompt: { kind: 'search', text: spec.filter ?? '' }, message: null });
    if (input === 'l') {
      const minLevel = cycle(LEVELS, spec.minLevel);
      await this.reload({ ...spec, minLevel });
      return this.set({ message: { text: `showing level ${minLevel} and above`, tone: 'info' } });
    }
    if (input === 's' || input === 'S') {
      const next = input === 's' ? { ...spec, sort: cycle(SORTS, spec.sort), reverse: false } : { ...spec, reverse: !spec.reverse };
      await this.reload(next);
      return this.set({ message: { text: `sorted by ${sortLabel(next)}`, tone: 'info' } });
    }
    if (input === 'E') {
      if (spec.mode === 'alerts' && !this.source.hasTable('alert_episodes')) {
        return this.set({ message: { text: 'this lakehouse has no alert_episodes mart (run `surgctl transform`)', tone: 'error' } });
      }
      const mode = spec.mode === 'alerts' ? 'episodes' : 'alerts';
      await this.reload({ ...spec, mode });
      return this.set({ message: { text: `showing ${mode}`, tone: 'info' } });
    }
    if (input === 'P') {
      if (spec.patientId === null) return this.set({ message: { text: 'no patient filter to clear', tone: 'info' } });
      await this.reload({ ...spec, patientId: null });
      return this.set({ message: { text: 'patient filter cleared', tone: 'info' } });
    }
    if (input === 'x') {
      return this.set({ prompt: { kind: 'export', text: '' }, message: null });
    }
    const row = this.pager.selected();
    if (row === undefined) {
      if (input === 'p' || input === 'a' || key.return) this.set({ message: { text: 'no row selected', tone: 'error' } });
      return;
    }
    if (input === 'p') {
      await this.reload({ ...spec, patientId: row.patientId });
      return this.set({ message: { text: `showing patient ${row.patientId} (P clears)`, tone: 'info' } });
    }
    if (key.return) return this.openDetail(row);
    if (input === 'a') return this.startAck(row);
    if (input === 'u') return this.startUnack(row);
  }

  private async openDetail(row: ListRow): Promise<void> {
    this.set({ busy: true });
    // One cell a second over an alert's +-30 s (telemetry is at least 1 Hz); wider for an episode's span.
    const room = Math.max(20, this.state.size.columns - 30);
    const detail = await this.source.detail(row, { buckets: Math.min(row.kind === 'alert' ? 60 : 120, room) });
    this.set({ screen: 'detail', detail, detailScroll: 0, busy: false, message: null });
  }

  private async handleDetail(input: string, key: KeyInfo): Promise<void> {
    const detail = this.state.detail;
    if (input === 'q' || key.escape) return this.set({ screen: 'list', detail: null, message: null });
    if (input === '?') return this.set({ screen: 'help' });
    if (detail === null) return;
    const lines = detailLines(detail, this.state.size.columns).length;
    const maxScroll = Math.max(0, lines - detailHeight(this.state.size.rows));
    const h = detailHeight(this.state.size.rows);
    const scrollBy = (d: number) => this.set({ detailScroll: Math.max(0, Math.min(maxScroll, this.state.detailScroll + d)) });
    if (key.upArrow || input === 'k') return scrollBy(-1);
    if (key.downArrow || input === 'j') return scrollBy(1);
    if (key.pageUp) return scrollBy(-h);
    if (key.pageDown || input === ' ') return scrollBy(h);
    if (input === 'g' || key.home) return this.set({ detailScroll: 0 });
    if (input === 'G' || key.end) return this.set({ detailScroll: maxScroll });
    if (input === 'a') return this.startAck(detail.row);
    if (input === 'u') return this.startUnack(detail.row);
  }

  private startUnack(row: ListRow): void {
    if (row.acked === 0) {
      this.set({ message: { text: `${row.id} is not acknowledged`, tone: 'info' } });
      return;
    }
    this.set({ prompt: { kind: 'unack', text: '' }, message: null });
  }

  private startAck(row: ListRow): void {
    if (row.kind === 'alert' && row.ack !== null) {
      this.set({ message: { text: `${row.id} was acknowledged by ${row.ack.ackedBy} at ${row.ack.ackedAt}`, tone: 'info' } });
      return;
    }
    if (row.kind === 'episode' && row.acked >= row.alerts) {
      this.set({ message: { text: `every alert of ${row.id} is acknowledged`, tone: 'info' } });
      return;
    }
    this.set({ prompt: { kind: 'note', text: '' }, message: null });
  }

  private async handlePrompt(input: string, key: KeyInfo): Promise<void> {
    const prompt = this.state.prompt;
    if (prompt === null) return;
    if (key.escape) return this.set({ prompt: null, message: { text: 'cancelled', tone: 'info' } });
    if (prompt.kind === 'export') {
      const format = input === 'c' ? 'csv' : input === 'j' ? 'json' : null;
      if (format === null) return;
      this.set({ prompt: null, busy: true, message: { text: `exporting to ${format}...`, tone: 'info' } });
      const r = await this.source.exportView(this.state.spec, format, this.options.exportDir);
      return this.set({
        busy: false, lastExport: r.path,
        message: { text: `exported ${r.rows.toLocaleString('en-US')} rows to ${r.path}`, tone: 'info' },
      });
    }
    if (key.return) {
      this.set({ prompt: null });
      if (prompt.kind === 'search') return this.submitFilter(prompt.text);
      return prompt.kind === 'unack' ? this.submitUnack(prompt.text) : this.submitAck(prompt.text);
    }
    if (key.backspace || key.delete) return this.set({ prompt: { ...prompt, text: prompt.text.slice(0, -1) } });
    if (key.ctrl || key.meta || key.upArrow || key.downArrow || key.pageUp || key.pageDown || key.tab) return;
    // Printable input only (a paste arrives as one string).
    const printable = input.replace(/[\u0000-\u001f\u007f]/g, '');
    if (printable) this.set({ prompt: { ...prompt, text: prompt.text + printable } });
  }

  /** `/` then Enter: the list shows only rows containing the text (an empty text shows every row again). */
  private async submitFilter(text: string): Promise<void> {
    const trimmed = text.trim();
    await this.reload({ ...this.state.spec, filter: trimmed === '' ? null : trimmed });
    const n = this.state.counts?.inView ?? 0;
    return this.set({
      message: trimmed === ''
        ? { text: 'filter cleared', tone: 'info' }
        : { text: `filter "${trimmed}": ${n.toLocaleString('en-US')} match${n === 1 ? '' : 'es'}; Esc clears`, tone: n === 0 ? 'error' : 'info' },
    });
  }

  private async submitUnack(note: string): Promise<void> {
    const row = this.state.screen === 'detail' && this.state.detail ? this.state.detail.row : this.pager.selected();
    if (row === undefined) return;
    this.set({ busy: true });
    const r = await this.source.unacknowledge(row, note.trim() === '' ? null : note.trim());
    const updated: ListRow = row.kind === 'alert' ? { ...row, acked: 0, ack: null } : { ...row, acked: 0 };
    this.pager.replace([updated]);
    const counts = await this.source.counts(this.state.spec);
    const shown = this.state.detail;
    const detail = shown && shown.row.id === row.id ? { ...shown, row: updated } : shown;
    const text = `withdrew ${r.removed} acknowledgement${r.removed === 1 ? '' : 's'} of ${row.id} (kept in alert_ack_history)`;
    this.set({ busy: false, counts, view: this.pager.view(), detail, message: { text, tone: 'info' } });
  }

  private async submitAck(note: string): Promise<void> {
    const row = this.state.screen === 'detail' && this.state.detail ? this.state.detail.row : this.pager.selected();
    if (row === undefined) return;
    this.set({ busy: true });
    const r = await this.source.acknowledge(row, note.trim() === '' ? null : note.trim());
    const updated: ListRow = row.kind === 'alert'
      ? { ...row, acked: 1, ack: r.ack }
      : { ...row, acked: Math.min(row.alerts, row.acked + r.added) };
    this.pager.replace([updated]);
    const counts = await this.source.counts(this.state.spec);
    const text = row.kind === 'alert'
      ? `acknowledged ${row.id} as ${r.ack?.ackedBy ?? this.options.user}`
      : `acknowledged ${r.added} alerts of ${row.id}${r.already > 0 ? ` (${r.already} already were)` : ''}`;
    // A detail pane on screen is fetched again so its list of alerts shows the new acknowledgements too.
    const shown = this.state.detail;
    const detail = shown && shown.row.id === row.id
      ? { ...(row.kind === 'episode' ? await this.source.detail(updated, { buckets: shown.window?.force.length ?? 60 }) : shown), row: updated }
      : shown;
    this.set({ busy: false, counts, view: this.pager.view(), detail, message: { text, tone: 'info' } });
  }
}

/** The sort as the header and messages name it, e.g. "risk (highest first)" or "patient (Z to A)". */
export function sortLabel(spec: ViewSpec): string {
  const labels: Record<ViewSpec['sort'], [string, string]> = {
    risk: ['risk (highest first)', 'risk (lowest first)'],
    newest: ['time (newest first)', 'time (oldest first)'],
    oldest: ['time (oldest first)', 'time (newest first)'],
    level: ['level (critical first)', 'level (medium first)'],
    patient: ['patient (A to Z)', 'patient (Z to A)'],
    procedure: ['procedure (A to Z)', 'procedure (Z to A)'],
    arm: ['arm (A to Z)', 'arm (Z to A)'],
  };
  return labels[spec.sort][spec.reverse ? 1 : 0];
}

/** One character of a multi-character input as the key ink would have reported alone. */
function charKey(c: string): [string, KeyInfo] {
  if (c === '\r' || c === '\n') return ['', { return: true }];
  if (c === '\u007f' || c === '\b') return ['', { backspace: true }];
  if (c === '\t') return ['', { tab: true }];
  if (c === '\u001b') return ['', { escape: true }];
  const code = c.charCodeAt(0);
  if (code < 32) return [String.fromCharCode(code + 96), { ctrl: true }];
  return [c, {}];
}
