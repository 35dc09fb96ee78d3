// What staging a file for validation returns (engine.ts and its CSV fast path fast-csv.ts both build it), in a
// module of its own so the two do not import each other.
import type { InputFormat } from './inputs.js';

export type EngineName = 'compiled' | 'ajv';

export type ProgressPhase = 'reading' | 'mapping lines' | 'checking rows' | 'keys' | 'quarantine' | 'valid rows' | 'summary';

export interface FileError {
  keyword: string;
  message: string;
  fields?: string[];
}

export interface ErrorExample {
  line: number;
  row: number;
  field: string | null;
  keyword: string;
  message: string;
  value: string | null;
  severity: 'error' | 'warn';
}

export interface StagedValidation {
  /** TEMP table: schema columns typed per duckType(), in schema order, then _source_line BIGINT and _row BIGINT.
   *  A TEMP view over the staged data when validIsView (the CSV fast path asked for valid rows: StageOptions.validView). */
  validTable: string;
  validIsView?: boolean;
  /** Tables the valid view reads (dropped by dropStaged). */
  extraTables?: string[];
  /** TEMP table: file, line BIGINT, row BIGINT, raw VARCHAR (JSON), errors VARCHAR (JSON array), rule VARCHAR. */
  quarantineTable: string;
  /** The parsed input as staged, in the attached in-memory database surgctl_stage (internal; dropped by dropStaged). */
  stagedTable: string;
  format: InputFormat;
  delimiter: string | null;
  engine: EngineName;
  /** The CSV line fast path (fast-csv.ts) decided the file; false when the exact staging did. */
  fastPath: boolean;
  /** Why the compiler was not used, when engine is ajv. */
  engineReasons: string[];
  rowsRead: number;
  rowsValid: number;
  rowsQuarantined: number;
  /** Quarantined rows per rule (x-rule name when the failing check has one, else the keyword). */
  failuresByRule: Record<string, number>;
  /** Rows reported by x-severity: warn rules (not quarantined). */
  warningsByRule: Record<string, number>;
  fileErrors: FileError[];
  examples: ErrorExample[];
  notes: string[];
}
