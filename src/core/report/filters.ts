// Report filters: parsed and checked once, then only ever bound as $parameters (a value like
// `x'; DROP TABLE loads; --` is just a value). Each report says which filters it understands.
import type { DuckDBValue } from '@duckdb/node-api';
import { UsageError } from '../../errors.js';
import { RISK_LEVELS, type RiskLevel } from '../domain.js';

export { RISK_LEVELS, type RiskLevel };

export interface ReportFilters {
  patient?: string | undefined;
  procedure?: string | undefined;
  robot?: string | undefined;
  /** Inclusive lower bound, ISO 8601 UTC. */
  since?: string | undefined;
  /** Exclusive upper bound, ISO 8601 UTC. */
  until?: string | undefined;
  minLevel?: RiskLevel | undefined;
  limit?: number | undefined;
  /** Every row: no default limit (--all). */
  all?: boolean | undefined;
  /** The search text (report search). */
  text?: string | undefined;
}

export type FilterName = keyof ReportFilters;

export const FILTER_FLAGS: Record<FilterName, string> = {
  patient: '--patient',
  procedure: '--procedure',
  robot: '--robot',
  since: '--since',
  until: '--until',
  minLevel: '--min-level',
  limit: '--limit',
  all: '--all',
  text: 'TEXT',
};

/** Raw flag values as the CLI receives them. */
export interface RawFilters {
  patient?: string | undefined;
  procedure?: string | undefined;
  robot?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  minLevel?: string | undefined;
  limit?: string | number | undefined;
  all?: boolean | undefined;
  text?: string | undefined;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const LOCAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$/;
const ZONED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A date or instant as ISO 8601 UTC; a date means its UTC midnight, an instant without offset means UTC. */
function instant(value: string, flag: string): string {
  const t = value.trim().replace(' ', 'T');
  const iso = DATE_ONLY.test(t) ? `${t}T00:00:00Z` : LOCAL.test(t) ? `${t}Z` : ZONED.test(t) ? t : undefined;
  const ms = iso === undefined ? NaN : Date.parse(iso);
  if (Number.isNaN(ms)) {
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not an ISO 8601 date or instant`, {
      field: flag,
      hint: `e.g. ${flag} 2026-01-05 or ${flag} 2026-01-05T06:00:00Z (UTC unless an offset is given)`,
    });
  }
  return new Date(ms).toISOString();
}

/** Checks and normalises raw flag values. Throws UsageError naming the flag. */
export function parseFilters(raw: RawFilters): ReportFilters {
  const out: ReportFilters = {};
  for (const key of ['patient', 'procedure', 'robot', 'text'] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (v.trim() === '') throw new UsageError(`${FILTER_FLAGS[key]} needs a value`, { field: FILTER_FLAGS[key] });
    out[key] = v;
  }
  if (raw.since !== undefined) out.since = instant(raw.since, '--since');
  if (raw.until !== undefined) out.until = instant(raw.until, '--until');
  if (out.since !== undefined && out.until !== undefined && out.since >= out.until) {
    throw new UsageError(`--since ${out.since} is not before --until ${out.until}`, { field: '--since' });
  }
  if (raw.minLevel !== undefined) {
    const level = RISK_LEVELS.find((l) => l === raw.minLevel);
    if (level === undefined) {
      throw new UsageError(`--min-level ${JSON.stringify(raw.minLevel)} is not a risk level`, {
        field: '--min-level',
        hint: `choose one of ${RISK_LEVELS.join(', ')}`,
      });
    }
    out.minLevel = level;
  }
  if (raw.limit !== undefined) {
    const n = typeof raw.limit === 'number' ? raw.limit : /^\d+$/.test(raw.limit.trim()) ? Number(raw.limit) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new UsageError(`--limit ${JSON.stringify(String(raw.limit))} is not a positive integer`, { field: '--limit' });
    }
    out.limit = n;
  }
  if (raw.all === true) {
    if (out.limit !== undefined) throw new UsageError('--limit and --all cannot be given together', { field: '--all', hint: 'give --limit N for N rows, or --all for every row' });
    out.all = true;
  }
  return out;
}

/** Escapes LIKE wildcards so the text matches literally; use with ILIKE ... ESCAPE '\'. */
export function containsPattern(text: string): string {
  return `%${text.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Collects WHERE clauses and their bound values; never splices a value into SQL. */
export class Where {
  readonly clauses: string[] = [];
  readonly params: Record<string, DuckDBValue> = {};

  /** Adds `clause`, which refers to $name, binding value under name. */
  add(clause: string, name: string, value: DuckDBValue): this {
    this.clauses.push(clause);
    this.params[name] = value;
    return this;
  }

  /** ' WHERE a AND b', or '' when empty; `extra` clauses (no params) are ANDed in. */
  sql(...extra: string[]): string {
    const all = [...extra, ...this.clauses];
    return all.length === 0 ? '' : ` WHERE ${all.join(' AND ')}`;
  }

  /** ' AND a AND b' to append to an existing WHERE, or ''. */
  and(): string {
    return this.clauses.length === 0 ? '' : ` AND ${this.clauses.join(' AND ')}`;
  }
}
