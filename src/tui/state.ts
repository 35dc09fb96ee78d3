// The alert browser's state as the controller holds it and the screens draw it (a module of its own, so
// controller.ts and screen.ts do not import each other).
import type { PagerView } from '../core/tui-data/pager.js';
import type { AlertDetail, LevelCounts, ViewSpec } from '../core/tui-data/types.js';

export type Screen = 'list' | 'detail' | 'help';
export type PromptKind = 'search' | 'note' | 'unack' | 'export';

export interface BrowserState {
  screen: Screen;
  spec: ViewSpec;
  counts: LevelCounts | null;
  view: PagerView;
  prompt: { kind: PromptKind; text: string } | null;
  detail: AlertDetail | null;
  detailScroll: number;
  message: { text: string; tone: 'info' | 'error' } | null;
  busy: boolean;
  lastExport: string | null;
  size: { rows: number; columns: number };
  user: string;
  dbPath: string;
  quit: boolean;
}
