// How one JSON-safe value reads in a human format (table, markdown, HTML): numbers compact and grouped, lists
// joined, null empty. Machine formats (json, ndjson, csv) print values exactly instead.
import { isNews2Band, isRiskLevel, RISK_LEVEL_RANK, type News2Band } from '../core/domain.js';
import type { ColumnKind, JsonValue } from '../core/read/values.js';

export function formatNumber(n: number): string {
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  const abs = Math.abs(n);
  if (abs >= 1000) return n.toLocaleString('en-US', { maximumFractionDigits: 0 });
  if (abs >= 1) return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
  if (abs === 0) return '0';
  return String(Number(n.toPrecision(3)));
}

/** Human text for a value. */
export function cellText(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : cellText(v))).join(', ');
  return JSON.stringify(value);
}

export function isNumericKind(kind: ColumnKind): boolean {
  return kind === 'integer' || kind === 'number';
}

/** NEWS2 bands on the same colour scale (low-medium already asks for an urgent ward review, like medium). */
const BAND_SEVERITY: Record<News2Band, number> = { low: 1, 'low-medium': 2, medium: 2, high: 3 };

/** Severity of a categorical value in a level-like column, for colour: 0 calm .. 4 critical; undefined = plain. */
export function severity(column: string, value: JsonValue | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  if (column === 'level' || column === 'risk_level' || column === 'max_level') {
    return isRiskLevel(value) ? RISK_LEVEL_RANK[value] : undefined;
  }
  if (column === 'news2_band') return isNews2Band(value) ? BAND_SEVERITY[value] : undefined;
  if (column === 'status') return { succeeded: 1, skipped: 0, running: 2, failed: 4 }[value];
  if (column === 'trend') return { stable: 1, increasing: 2, decreasing: 2, volatile: 3 }[value];
  return undefined;
}
