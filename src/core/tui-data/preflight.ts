// Cheap checks before the alert browser loads DuckDB and ink: the lakehouse file must exist. No heavy imports here,
// so the CLI can fail fast with one line.
import { existsSync } from 'node:fs';
import { UsageError } from '../../errors.js';

/** The line every "cannot browse here" message ends with. */
export const TUI_ALTERNATIVE = 'for a plain list use `surgctl report top-alerts`';

/** Throws UsageError (exit 2) naming the path and `surgctl report top-alerts` when there is no lakehouse file. */
export function requireLakehouse(path: string): void {
  if (!existsSync(path)) {
    throw new UsageError(`no lakehouse at ${path}: build one with \`surgctl load\` and \`surgctl transform\`; ${TUI_ALTERNATIVE}`);
  }
}
