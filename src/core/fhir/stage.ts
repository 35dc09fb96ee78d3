// Staging FHIR input into DuckDB: NDJSON (Bulk Data $export), Bundles and single resources, told apart by their
// content. Lines and documents are read by DuckDB (read_csv of whole lines, read_text of a document) and taken apart
// with its JSON functions; no line is parsed in JS. One bad line or entry becomes an error entry, never the file.
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../../db/db.js';
import { ident, literal } from '../../db/sql.js';
import { InterruptedError, UsageError, toIoError } from '../../errors.js';

export interface FhirInputError {
  file: string;
  /** NDJSON: the 1-based physical line. */
  line?: number;
  /** Bundle or top-level array: the 0-based index of the entry or element (entryOf says which). */
  entry?: number;
  /** What `entry` indexes: a Bundle's entries or the elements of a top-level JSON array. */
  entryOf?: 'Bundle' | 'array';
  /** The resource type the bad text names at its start ({"resourceType": "X", ...), when it does. */
  resourceType?: string;
  reason: string;
  /** The offending text, cut to 500 characters. */
  raw?: string;
}

export interface FhirStageResult {
  table: string;
  resources: number;
  byType: Record<string, number>;
  errors: FhirInputError[];
}

/** What a file holds, from its first bytes. */
export type FhirFileKind = 'ndjson' | 'document' | 'empty';

const FHIR_FILE = /\.(json|ndjson|jsonl)$/i;
const PEEK = 1 << 20;
const RAW_MAX = 500;
/** A resource's text that opens with its resourceType (FHIR JSON writes it first) names its type even when broken. */
const NAMED_TYPE = /^\s*\{\s*"resourceType"\s*:\s*"([A-Z][A-Za-z]+)"/;

/** The resource type a bad line or file names at its start, for booking its error (see FhirInputError.resourceType). */
function namedType(raw: string | null | undefined): { resourceType?: string } {
  const m = raw ? NAMED_TYPE.exec(raw) : null;
  return m?.[1] ? { resourceType: m[1] } : {};
}

/**
 * Files named by `inputs`: files as given, directories walked (sorted) for *.json, *.ndjson and *.jsonl (hidden files
 * and a manifest.json, generate's, skipped).
 */
export function fhirFiles(inputs: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (e) {
      throw toIoError(dir, e, 'read');
    }
    for (const n of names) {
      // surgctl's own manifest.json beside generated NDJSON is not FHIR.
      if (n.startsWith('.') || n === 'manifest.json') continue;
      const p = join(dir, n);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (FHIR_FILE.test(n)) out.push(p);
    }
  };
  for (const input of inputs) {
    let st;
    try {
      st = statSync(input);
    } catch (e) {
      throw toIoError(input, e, 'read');
    }
    if (st.isDirectory()) walk(input);
    else out.push(input);
  }
  return out;
}

function tryJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Tells NDJSON from one JSON document (a resource, a Bundle, an array) by content: NDJSON when the first line is a
 * whole JSON object and more follows, or when the first line is broken but the next one is a whole object.
 * Returns a reason string for a file that is not JSON at all.
 */
export function sniffFhirFile(path: string): FhirFileKind | { notJson: string } {
  const buf = Buffer.alloc(PEEK);
  let n: number;
  let size: number;
  try {
    const fd = openSync(path, 'r');
    try {
      size = statSync(path).size;
      n = readSync(fd, buf, 0, PEEK, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw toIoError(path, e, 'read');
  }
  if (buf[0] === 0x1f && buf[1] === 0x8b) return { notJson: 'the file is gzip-compressed; decompress it first (gunzip)' };
  let text = buf.subarray(0, n).toString('utf8');
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const start = text.search(/\S/);
  if (start === -1) return 'empty';
  const first = text[start];
  if (first === '[') return 'document';
  if (first !== '{') return { notJson: `not FHIR JSON: the file starts with ${JSON.stringify(text.slice(start, start + 20))}, not "{" or "["` };
  const lines = text.slice(start).split('\n');
  const complete = n < size ? lines.slice(0, -1) : lines;
  const firstLine = complete[0];
  if (firstLine === undefined) return 'document';
  const rest = complete.slice(1).filter((l) => l.trim() !== '');
  if (tryJson(firstLine)) return rest.length > 0 || n < size ? 'ndjson' : 'document';
  const second = rest[0];
  if (second !== undefined && second.trimStart().startsWith('{"') && tryJson(second)) return 'ndjson';
  return 'document';
}

const STAGE_COLUMNS = 'resource JSON, resource_type VARCHAR, id VARCHAR, _file VARCHAR, _line BIGINT, _entry BIGINT';

/**
 * Reads NDJSON (Bulk Data $export) and Bundles (transaction, batch, collection, searchset, ...) and single resources,
 * detected from content not extension, into TEMP table `table` (default 'fhir_resources') with columns
 * resource JSON, resource_type VARCHAR, id VARCHAR, _file VARCHAR, _line BIGINT (NDJSON 1-based line, else NULL),
 * _entry BIGINT (Bundle entry index 0-based, else NULL). One bad resource or line is an error entry, never the file.
 * Directories are walked for *.json, *.ndjson and *.jsonl; a file named directly is read whatever its name.
 */
export async function stageFhir(db: Db, inputs: string[], opts: { signal?: AbortSignal; table?: string } = {}): Promise<FhirStageResult> {
  const table = opts.table ?? 'fhir_resources';
  const t = ident(table);
  const files = fhirFiles(inputs);
  if (files.length === 0) {
    throw new UsageError(`no FHIR file in ${inputs.join(', ')}`, { hint: 'name .ndjson / .json files, or a directory holding them' });
  }
  // _raw holds an NDJSON line that is not a plain resource until it is taken out (dropped once every file is in).
  await db.run(`CREATE OR REPLACE TEMP TABLE ${t} (${STAGE_COLUMNS}, _raw VARCHAR)`);
  // Ctrl-C stops the running statement (DuckDB interrupt) and ends in InterruptedError.
  const interrupt = db.interruptOn(opts.signal);
  try {
    return await stageFiles(db, table, files, opts.signal);
  } catch (e) {
    if (opts.signal?.aborted) throw new InterruptedError('staging FHIR input');
    throw e;
  } finally {
    interrupt.remove();
  }
}

async function stageFiles(db: Db, table: string, files: string[], signal: AbortSignal | undefined): Promise<FhirStageResult> {
  const t = ident(table);
  const docs = `${table}_docs`;
  // Each file's read errors, in file order: a whole-file error or DuckDB's rejects, then its bad lines or entries.
  const errors: FhirInputError[][] = files.map(() => []);
  // Rows every INSERT has appended to the staged table so far: the rowid the next one starts at (nothing is deleted
  // from it until every file is in, and DuckDB numbers appended rows on from the last).
  let appended = 0;
  // Each NDJSON file's rows: the first one's rowid, and DuckDB's rejected lines (see below).
  const spans: { first: number; adj: number[] }[] = [];
  for (const [n, file] of files.entries()) {
    if (signal?.aborted) throw new InterruptedError(`staging FHIR input at ${file}`);
    const kind = sniffFhirFile(file);
    if (kind === 'empty') continue;
    const errs = errors[n] as FhirInputError[];
    if (typeof kind === 'object') {
      errs.push({ file, reason: kind.notJson });
      continue;
    }
    if (kind === 'document') {
      // One row: the document's text.
      await db.run(`CREATE OR REPLACE TEMP TABLE ${ident(docs)} AS SELECT CASE WHEN starts_with(content, chr(65279)) THEN content[2:] ELSE content END AS raw,
        NULL::BIGINT AS line, $file AS file FROM read_text(${literal(file)})`, { file });
      const expanded = await expandDocs(db, t, docs);
      appended += expanded.inserted;
      errs.push(...expanded.errors);
      continue;
    }
    const rej = `${table}_rej`;
    // Every line goes into the staged table in one pass, in order: a plain resource (the bulk of Bulk Data NDJSON) as
    // its JSON, with its resourceType and id from the same parse; any other line (a Bundle, an array, bad JSON, a
    // blank line) as its text in _raw. No copy of the file is held beside the staged table. _line holds the file's
    // first rowid until every file is in; a line's number is then its row's position in the file.
    const first = appended;
    const read = await db.read(`INSERT INTO ${t} SELECT CASE WHEN p THEN raw::JSON END, CASE WHEN p THEN k[1] END, CASE WHEN p THEN k[2] END, $file, $first, NULL,
        CASE WHEN NOT p THEN coalesce(raw, '') END
      FROM (SELECT raw, k, coalesce(k[1] <> 'Bundle' AND regexp_full_match(k[1], '[A-Z][A-Za-z]+'), false) AS p
        FROM (SELECT _json AS raw, try(json_extract_string(_json, ['$.resourceType', '$.id'])) AS k FROM read_csv(${literal(file)}, columns = {'_json': 'VARCHAR'},
      header = false, delim = ${literal('\u0001')}, quote = '', escape = '', auto_detect = false,
      store_rejects = true, rejects_table = ${literal(rej)}, rejects_scan = ${literal(`${rej}_scan`)}, max_line_size = 8388608, buffer_size = 16777216)))`, { file, first });
    appended += read.rowsChanged;
    const rejected = await db.all<{ line: number; raw: string | null; kind: string | null }>(
      `SELECT line::INTEGER AS line, first(csv_line) AS raw, first(error_type) AS kind FROM ${ident(rej)} GROUP BY line ORDER BY line`,
    );
    for (const r of rejected) {
      // DuckDB keeps the first 10,000 characters of an over-long line: it is named by its length, not its encoding.
      const reason = r.kind === 'LINE SIZE OVER MAXIMUM' ? 'the line is longer than 8 MiB' : 'the line cannot be read as UTF-8 text';
      errs.push({ file, line: r.line, ...namedType(r.raw), reason, ...(r.raw ? { raw: r.raw.slice(0, RAW_MAX) } : {}) });
    }
    // DuckDB keeps the rejects tables across reads: the next file's would still hold this one's lines.
    await db.run(`DROP TABLE IF EXISTS ${ident(rej)}; DROP TABLE IF EXISTS ${ident(`${rej}_scan`)}`);
    // Staged row k is the k-th line DuckDB did not reject (invalid UTF-8, too long): line = k + #{j: r_j - j < k}.
    if (read.rowsChanged > 0) spans.push({ first, adj: rejected.map((r, j) => r.line - (j + 1)) });
  }
  if (spans.length > 0) {
    // Every NDJSON line's number in one pass over the staged rows (a document's rows have no _line: no span).
    const sp = ident(`${table}_spans`);
    await db.run(`CREATE OR REPLACE TEMP TABLE ${sp} AS SELECT s.first, s.adj
      FROM (SELECT unnest(from_json($spans, '[{"first": "BIGINT", "adj": ["BIGINT"]}]'), recursive := true)) s`, { spans: JSON.stringify(spans) });
    const k = '(r.rowid - s.first + 1)';
    await db.run(`UPDATE ${t} AS r SET _line = ${k} + CASE WHEN len(s.adj) = 0 THEN 0 ELSE len(list_filter(s.adj, lambda a: a < ${k})) END
      FROM ${sp} s WHERE r._line = s.first`);
    await db.run(`DROP TABLE ${sp}`);
    // The other lines (Bundles, arrays, bad lines; blank lines are none) leave the table and go through expandDocs.
    await db.run(`CREATE OR REPLACE TEMP TABLE ${ident(docs)} AS SELECT _raw AS raw, _line AS line, _file AS file FROM ${t} WHERE _raw IS NOT NULL AND trim(_raw) <> ''`);
    await db.run(`DELETE FROM ${t} WHERE _raw IS NOT NULL`);
    const bad = (await expandDocs(db, t, docs)).errors;
    // Each file's bad lines after its rejected ones (a file named twice: all under its first place).
    const place = new Map<string, number>();
    files.forEach((f, i) => place.has(f) || place.set(f, i));
    for (const e of bad) errors[place.get(e.file) ?? 0]?.push(e);
  }
  await db.run(`DROP TABLE IF EXISTS ${ident(docs)}`);
  await db.run(`ALTER TABLE ${t} DROP COLUMN _raw`);
  const counts = await db.all<{ resource_type: string; n: number }>(
    `SELECT resource_type, count(*)::INTEGER AS n FROM ${t} GROUP BY resource_type ORDER BY resource_type`,
  );
  const byType: Record<string, number> = {};
  let resources = 0;
  for (const c of counts) {
    byType[c.resource_type] = c.n;
    resources += c.n;
  }
  return { table, resources, byType, errors: errors.flat() };
}

/**
 * Moves the good resources of table `base` (raw text, line: NDJSON's or NULL for a whole file, file) into `t`
 * (Bundles and arrays taken apart); returns the rows it inserted and the bad ones, by file, line and entry.
 */
async function expandDocs(db: Db, t: string, base: string): Promise<{ inserted: number; errors: FhirInputError[] }> {
  const docs = ident(base);
  const dc = ident(`${base}_c`);
  const di = ident(`${base}_i`);
  const dr = ident(`${base}_r`);
  const what = "CASE WHEN line IS NULL THEN 'the file' ELSE 'the line' END";
  // Classify each document once: JSON validity and top-level shape.
  await db.run(`CREATE OR REPLACE TEMP TABLE ${dc} AS SELECT raw, line, file, json_valid(raw) AS ok,
      CASE WHEN json_valid(raw) THEN json_type(raw::JSON) END AS jt,
      CASE WHEN json_valid(raw) AND json_type(raw::JSON) = 'OBJECT' THEN raw::JSON ->> '$.resourceType' END AS rt
    FROM ${docs}`);
  // Items: a resource, the resources of a Bundle's entries, or the elements of a top-level array.
  await db.run(`CREATE OR REPLACE TEMP TABLE ${di} AS
    SELECT raw::JSON AS item, line, file, NULL::BIGINT AS entry, NULL::VARCHAR AS bundle FROM ${dc} WHERE ok AND jt = 'OBJECT' AND rt IS DISTINCT FROM 'Bundle'
    UNION ALL
    SELECT e.item, line, file, e.i - 1, 'Bundle' FROM (SELECT line, file, unnest(json_extract(raw::JSON, '$.entry[*]')) AS item,
        unnest(generate_series(1, json_array_length(raw::JSON, '$.entry')::BIGINT)) AS i FROM ${dc} WHERE ok AND rt = 'Bundle') e
    UNION ALL
    SELECT e.item, line, file, e.i - 1, 'array' FROM (SELECT line, file, unnest(json_extract(raw::JSON, '$[*]')) AS item,
        unnest(generate_series(1, json_array_length(raw::JSON)::BIGINT)) AS i FROM ${dc} WHERE ok AND jt = 'ARRAY') e`);
  // In a Bundle the resource is entry.resource; in an array the element itself.
  await db.run(`CREATE OR REPLACE TEMP TABLE ${dr} AS SELECT CASE WHEN bundle = 'Bundle' THEN json_extract(item, '$.resource') ELSE item END AS res,
      item, line, file, entry, bundle FROM ${di}`);
  const inserted = await db.read(`INSERT INTO ${t} (resource, resource_type, id, _file, _line, _entry) SELECT res, res ->> '$.resourceType', res ->> '$.id', file, line, entry FROM ${dr}
    WHERE json_type(res) = 'OBJECT' AND json_type(res, '$.resourceType') = 'VARCHAR' AND regexp_full_match(res ->> '$.resourceType', '[A-Z][A-Za-z]+')`);
  const bad = await db.all<{ file: string; line: number | null; entry: number | null; entry_of: 'Bundle' | 'array' | null; reason: string; raw: string | null }>(
    `SELECT file, line::INTEGER AS line, NULL::INTEGER AS entry, NULL AS entry_of,
        ${what} || CASE WHEN NOT ok THEN ' is not valid JSON' ELSE ' holds JSON ' || lower(jt) || ', not a FHIR resource object' END AS reason,
        left(raw, ${RAW_MAX}) AS raw
      FROM ${dc} WHERE NOT ok OR jt NOT IN ('OBJECT', 'ARRAY')
    UNION ALL
    SELECT file, line::INTEGER, NULL, NULL, 'the JSON object has no resourceType: not a FHIR resource', left(raw, ${RAW_MAX})
      FROM ${dc} WHERE ok AND jt = 'OBJECT' AND NOT coalesce(json_type(raw::JSON, '$.resourceType') = 'VARCHAR' AND regexp_full_match(rt, '[A-Z][A-Za-z]+'), false)
    UNION ALL
    SELECT file, line::INTEGER, entry::INTEGER, bundle,
        CASE WHEN bundle = 'array' THEN 'the element is not a FHIR resource (no resourceType)'
             WHEN res IS NULL THEN 'the Bundle entry has no resource' || coalesce(' (request ' || (item ->> '$.request.method') || ' ' || (item ->> '$.request.url') || ')', '')
             ELSE 'the entry is not a FHIR resource (no resourceType)' END,
        left(item::VARCHAR, ${RAW_MAX})
      FROM ${dr} WHERE entry IS NOT NULL AND NOT coalesce(json_type(res) = 'OBJECT' AND json_type(res, '$.resourceType') = 'VARCHAR'
        AND regexp_full_match(res ->> '$.resourceType', '[A-Z][A-Za-z]+'), false)
    ORDER BY 1, 2 NULLS FIRST, 3 NULLS FIRST`,
  );
  await db.run(`DROP TABLE IF EXISTS ${dc}; DROP TABLE IF EXISTS ${di}; DROP TABLE IF EXISTS ${dr}`);
  const errors = bad.map((b) => ({
    file: b.file,
    ...(b.line === null ? {} : { line: b.line }),
    ...(b.entry === null ? {} : { entry: b.entry }),
    ...(b.entry_of === null ? {} : { entryOf: b.entry_of }),
    // An entry or element that is no resource names no type; a broken line or file may (its text's start).
    ...(b.entry === null ? namedType(b.raw) : {}),
    reason: b.reason,
    ...(b.raw === null ? {} : { raw: b.raw }),
  }));
  return { inserted: inserted.rowsChanged, errors };
}
