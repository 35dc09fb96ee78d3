// The generator's options: defaults, --scale, and validation. Every rejection is a UsageError naming the flag,
// so the CLI and library callers get the same one-line message (exit 2).
import { UsageError } from '../../errors.js';
import { DATA_FORMATS, DEFAULT_BAD_ROWS, DEFAULT_REFERENCE_DATE, type DataFormat } from '../domain.js';

export { DATA_FORMATS, type DataFormat };

/** What generate writes: a contract data format, or fhir (FHIR R4 Bulk Data NDJSON of the same dataset). */
export type GenerateFormat = DataFormat | 'fhir';

/** The datasets the generator writes, referenced ones first. */
export const GENERATED_DATASETS = ['robots', 'patients', 'procedures', 'telemetry', 'vitals', 'outcomes', 'maintenance'] as const;
export type GeneratedDataset = (typeof GENERATED_DATASETS)[number];

/** Vitals reading intervals allowed: divisors of 60 minutes, so every clock hour holds the same readings. */
export const VITALS_INTERVALS_MIN = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60] as const;

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** What a caller may set; everything else takes its default. */
export interface GenerateOptions {
  /** Output directory; written under a temporary name beside it, renamed at the end. */
  out: string;
  seed?: number;
  format?: GenerateFormat;
  robots?: number;
  patients?: number;
  procedures?: number;
  /** Total telemetry rows (exact; default 200,000 x scale, or every second of every procedure when only
   *  telemetryHz is given). */
  telemetryRows?: number;
  /** Samples per second per arm inside a recording window (default 10). */
  telemetryHz?: number;
  /** Minutes between vital-sign readings (a divisor of 60). */
  vitalsIntervalMin?: number;
  /** Hours of post-operative monitoring per procedure (0 for none). */
  vitalsHours?: number;
  /** Reference instant (ISO 8601 with offset, or a date); procedures start from here. */
  start?: string;
  /** Fraction of rows per dataset replaced or joined by labelled bad rows, 0..0.5. */
  badRows?: number;
  /** Fraction of procedures given a planted robot incident, and of stays given a deterioration episode, 0..1. */
  incidents?: number;
  shard?: Shard;
  force?: boolean;
  /** The directory a relative out is resolved against, never replaced itself (default process.cwd()). */
  cwd?: string;
  /** Multiplies the default sizes (robots, patients, procedures, telemetry rows) not set explicitly. */
  scale?: number;
  /** Datasets to write (default all). */
  datasets?: string[];
}

export interface ResolvedOptions {
  seed: number;
  format: DataFormat;
  robots: number;
  patients: number;
  procedures: number;
  telemetry_rows: number | null;
  telemetry_hz: number;
  vitals_interval_min: number;
  vitals_hours: number;
  start: string;
  bad_rows: number;
  incidents: number;
  scale: number;
  datasets: GeneratedDataset[];
}

export const DEFAULTS = {
  seed: 7,
  format: 'csv' as DataFormat,
  robots: 8,
  patients: 200,
  procedures: 300,
  telemetryRows: 200_000,
  /** Samples per second per arm in a recording window: high enough that a 20-event force-spike window spans
   *  2 s and a burst of alerts forms one episode, low enough that 200k rows cover ~20 s per arm and procedure. */
  telemetryHz: 10,
  vitalsIntervalMin: 15,
  vitalsHours: 12,
  badRows: DEFAULT_BAD_ROWS,
  incidents: 0.05,
};

// Reference tables live in JS memory (about 1 KB per procedure), so their sizes are capped; telemetry and vitals
// stream through DuckDB and are bounded only by disk.
const LIMITS = {
  robots: 10_000,
  patients: 200_000,
  procedures: 200_000,
  telemetryRows: 10_000_000_000,
  telemetryHz: 100,
  vitalsHours: 720,
  scale: 10_000,
};

function checkInt(flag: string, v: number, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new UsageError(`${flag} must be an integer from ${lo} to ${hi.toLocaleString('en-US')}, got ${v}`, {
      field: flag,
    });
  }
  return v;
}

function checkNumber(flag: string, v: number, lo: number, hi: number, openLow = false): number {
  if (!Number.isFinite(v) || v > hi || (openLow ? v <= lo : v < lo)) {
    throw new UsageError(`${flag} must be a number ${openLow ? '>' : '>='} ${lo} and <= ${hi}, got ${v}`, { field: flag });
  }
  return v;
}

/** Parses an ISO 8601 instant with an offset, or a calendar date (taken as 00:00Z). Returns epoch ms. */
export function parseStart(value: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/.exec(value);
  const ms = m ? Date.parse(m[4] === undefined ? `${value}T00:00:00Z` : value.replace(' ', 'T')) : NaN;
  if (!m || Number.isNaN(ms) || (m[4] !== undefined && m[7] === undefined)) {
    throw new UsageError(`--start must be an ISO 8601 instant with an offset or a date, got "${value}"`, {
      field: '--start',
      hint: `e.g. --start ${DEFAULT_REFERENCE_DATE} or --start 2026-01-05`,
    });
  }
  // Reject dates Date.parse rolls over (2026-02-30).
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3])) {
    throw new UsageError(`--start is not a real date: "${value}"`, { field: '--start' });
  }
  if (ms < Date.UTC(1970, 0, 1) || ms > Date.UTC(2200, 0, 1)) {
    throw new UsageError(`--start must lie between 1970 and 2200, got "${value}"`, { field: '--start' });
  }
  return ms;
}

/** Parses "I/N" (1 <= I <= N <= 10000). */
export function parseShard(value: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || index < 1 || count < 1 || index > count || count > 10_000) {
    throw new UsageError(`--shard must be I/N with 1 <= I <= N <= 10000, got "${value}"`, {
      field: '--shard',
      hint: 'e.g. --shard 2/8 writes the second of eight disjoint parts',
    });
  }
  return { index, count };
}

/** Applies defaults and --scale, checks every value. Throws UsageError naming the flag. */
export function resolveOptions(o: GenerateOptions): ResolvedOptions {
  const scale = checkNumber('--scale', o.scale ?? 1, 0, LIMITS.scale, true);
  const scaled = (v: number | undefined, def: number): number => v ?? Math.max(1, Math.round(def * scale));
  const seed = checkInt('--seed', o.seed ?? DEFAULTS.seed, 0, 2 ** 32 - 1);
  const format = o.format ?? DEFAULTS.format;
  if (!(DATA_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`unknown format "${String(format)}"`, { field: '--format', hint: `choose one of: ${DATA_FORMATS.join(', ')}` });
  }
  const robots = checkInt('--robots', scaled(o.robots, DEFAULTS.robots), 1, LIMITS.robots);
  const patients = checkInt('--patients', scaled(o.patients, DEFAULTS.patients), 1, LIMITS.patients);
  const procedures = checkInt('--procedures', scaled(o.procedures, DEFAULTS.procedures), 1, LIMITS.procedures);
  const telemetryHz = checkNumber('--telemetry-hz', o.telemetryHz ?? DEFAULTS.telemetryHz, 0, LIMITS.telemetryHz, true);
  // --telemetry-hz alone records every second of every procedure; otherwise the rows are a fixed budget.
  const telemetryRows =
    o.telemetryHz !== undefined && o.telemetryRows === undefined
      ? null
      : checkInt('--telemetry-rows', scaled(o.telemetryRows, DEFAULTS.telemetryRows), 0, LIMITS.telemetryRows);
  const vitalsInterval = o.vitalsIntervalMin ?? DEFAULTS.vitalsIntervalMin;
  if (!(VITALS_INTERVALS_MIN as readonly number[]).includes(vitalsInterval)) {
    throw new UsageError(`--vitals-interval must divide 60 minutes (${VITALS_INTERVALS_MIN.join(', ')}), got ${vitalsInterval}`, {
      field: '--vitals-interval',
    });
  }
  const vitalsHours = checkInt('--vitals-hours', o.vitalsHours ?? DEFAULTS.vitalsHours, 0, LIMITS.vitalsHours);
  const startMs = parseStart(o.start ?? DEFAULT_REFERENCE_DATE);
  const badRows = checkNumber('--bad-rows', o.badRows ?? DEFAULTS.badRows, 0, 0.5);
  const incidents = checkNumber('--incidents', o.incidents ?? DEFAULTS.incidents, 0, 1);
  const datasets = o.datasets === undefined || o.datasets.length === 0 ? [...GENERATED_DATASETS] : o.datasets;
  for (const d of datasets) {
    if (!(GENERATED_DATASETS as readonly string[]).includes(d)) {
      throw new UsageError(`unknown dataset "${d}"`, { field: '--datasets', hint: `choose from: ${GENERATED_DATASETS.join(', ')}` });
    }
  }
  const vitalsSlots = procedures * Math.ceil((vitalsHours * 60) / vitalsInterval) * 10;
  if (vitalsSlots > 20_000_000_000) {
    throw new UsageError(`--procedures x --vitals-hours / --vitals-interval asks for ${vitalsSlots.toExponential(2)} vitals readings; the limit is 2e10`, {
      field: '--vitals-hours',
    });
  }
  return {
    seed,
    format: format as DataFormat,
    robots,
    patients,
    procedures,
    telemetry_rows: telemetryRows,
    telemetry_hz: telemetryHz,
    vitals_interval_min: vitalsInterval,
    vitals_hours: vitalsHours,
    start: new Date(startMs).toISOString().replace('.000Z', 'Z'),
    bad_rows: badRows,
    incidents,
    scale,
    datasets: GENERATED_DATASETS.filter((d) => datasets.includes(d)),
  };
}
