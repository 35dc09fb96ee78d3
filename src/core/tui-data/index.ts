// The alert browser's data layer: keyset-paged lists of alerts or episodes, counts by level, search, detail
// lookups, acknowledgements (alert_acks) and export of the current view. The tui draws what this returns.
export * from './types.js';
export { AlertStore, openAlertStore, type AlertStoreOptions } from './store.js';
export { Pager, type PagerView } from './pager.js';
export { requireLakehouse, TUI_ALTERNATIVE } from './preflight.js';
