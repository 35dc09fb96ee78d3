// The validate stage: JSON Schema checks for CSV, NDJSON and Parquet with row-level quarantine.
//
// Two entries:
//  - validateFiles({ inputs, ...flags }, { lake?, signal, onEvent }): Promise<ValidationReport> -- the whole `surgctl validate` (inputs, datasets,
//    its own in-memory DuckDB, quarantine/valid files, --max-invalid gate). Used by the CLI.
//  - stageAndValidate(db, input, ds, opts): Promise<StagedValidation> -- the lower level, inside a Db the caller
//    already opened (load uses it):
//        const s = await stageAndValidate(db, { path, displayName, format }, loadDatasetSchema('telemetry'),
//                                         { delimiter, engine: 'auto', foreignKeyTables: { robots: 'keys_robots' } });
//        // s.validTable: TEMP table, schema columns typed per duckType() in schema order, then _source_line BIGINT
//        //   (physical line the row starts on; Parquet: row number) and _row BIGINT (1-based data-row number).
//        // s.quarantineTable: TEMP table (file VARCHAR, line BIGINT, "row" BIGINT, raw VARCHAR JSON,
//        //   errors VARCHAR JSON array of {field, keyword, message, value}, rule VARCHAR = first failing keyword),
//        //   in no order (read it with ORDER BY line, "row"; writeQuarantineNdjson writes the file so: one sort of
//        //   every wide row would need memory of their size). raw is a JSON object of the row's cells, or a JSON string
//        //   of the line text when the line could not be parsed (csv_field_count, csv_unterminated_quote,
//        //   csv_invalid_utf8, json_parse, ...).
//        // s.rowsRead === s.rowsValid + s.rowsQuarantined always; s.engine is 'compiled' or 'ajv'.
//        await dropStaged(db, s);   // when done: drops both TEMP tables and the staged input (s.stagedTable,
//                                   // held in an attached in-memory database `surgctl_stage`, compressed)
//    Call it outside a transaction: it writes to surgctl_stage, and DuckDB allows one written database per
//    transaction. Read s.validTable / s.quarantineTable inside your own transaction as you like.
//    Stdin: spoolStream(process.stdin, dir) writes it to a temporary file (streamed) and names the format.
//
// Engines: the compiler (compile.ts: schema -> one DuckDB query) runs whatever it supports; ajv (ajv-engine.ts) runs
// the rest and is the reference. CSV structure is DuckDB's read_csv with rejects; csv-scan.ts maps DuckDB's line
// numbers to physical lines. For CSV without a typed valid table, the compiled engine first tries the line fast path
// (fast-csv.ts, fast-regex.ts): one regex marks the surely valid lines, the rest go through the same compiled checks;
// it steps aside (returns undefined) whenever it cannot decide exactly. Core only: no console, no commander; the CLI
// renders the report.
export { stageAndValidate, dropStaged } from './engine.js';
export type {
  EngineChoice, EngineName, ErrorExample, FileError, ProgressPhase, StageInput, StageOptions, StagedValidation,
} from './engine.js';
export { validateFiles, parseMaxInvalid } from './run.js';
export type { FileReport, ValidateEvent, ValidateInput, ValidationReport } from './run.js';
export { expandInputs, formatFromName, sniffFile, spoolStream } from './inputs.js';
export { writeQuarantineNdjson } from './quarantine-file.js';
export type { InputFormat } from './inputs.js';
export { compileChecks, unsupportedReasons } from './compile.js';
export { coerceCsvCell, createAjv, schemaProblem } from './ajv-engine.js';
