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
  const errors: FhirInputError[] = [];
  const docs = ident(`${table}_docs`);
  for (const file of files) {
    if (signal?.aborted) throw new InterruptedError(`staging FHIR input at ${file}`);
    const kind = sniffFhirFile(file);
    if (kind === 'empty') continue;
    if (typeof kind === 'object') {
      errors.push({ file, reason: kind.notJson });
      continue;
    }
    // One row per document: (raw text, 1-based line or NULL).
    if (kind === 'ndjson') {
      const rej = `${table}_rej`;
      // Every line goes into the staged table in one pass, in order: a plain resource (the bulk of Bulk Data NDJSON) as
      // its JSON, with its resourceType and id from the same parse; any other line (a Bundle, an array, bad JSON, a
      // blank line) as its text in _raw. No copy of the file is held beside the staged table; a line's number is its
      // row's position, set once the pass is done.
      await db.run(`INSERT INTO ${t} SELECT CASE WHEN p THEN raw::JSON END, CASE WHEN p THEN k[1] END, CASE WHEN p THEN k[2] END, $file, NULL, NULL,
          CASE WHEN NOT p THEN coalesce(raw, '') END
        FROM (SELECT raw, k, coalesce(k[1] <> 'Bundle' AND regexp_full_match(k[1], '[A-Z][A-Za-z]+'), false) AS p
          FROM (SELECT _json AS raw, try(json_extract_string(_json, ['$.resourceType', '$.id'])) AS k FROM read_csv(${literal(file)}, columns = {'_json': 'VARCHAR'},
        header = false, delim = ${literal('\u0001')}, quote = '', escape = '', auto_detect = false,
        store_rejects = true, rejects_table = ${literal(rej)}, rejects_scan = ${literal(`${rej}_scan`)}, max_line_size = 8388608, buffer_size = 16777216)))`, { file });
      // Staged row k is the k-th line DuckDB did not reject (invalid UTF-8, too long): line = k + #{j: r_j - j < k}.
      const rejected = await db.all<{ line: number; raw: string | null; kind: string | null }>(
        `SELECT line::INTEGER AS line, first(csv_line) AS raw, first(error_type) AS kind FROM ${ident(rej)} GROUP BY line ORDER BY line`,
      );
      for (const r of rejected) {
        // DuckDB keeps the first 10,000 characters of an over-long line: it is named by its length, not its encoding.
        const reason = r.kind === 'LINE SIZE OVER MAXIMUM' ? 'the line is longer than 8 MiB' : 'the line cannot be read as UTF-8 text';
        errors.push({ file, line: r.line, ...namedType(r.raw), reason, ...(r.raw ? { raw: r.raw.slice(0, RAW_MAX) } : {}) });
      }
      // DuckDB keeps the rejects tables across reads: the next file's would still hold this one's lines.
      await db.run(`DROP TABLE IF EXISTS ${ident(rej)}; DROP TABLE IF EXISTS ${ident(`${rej}_scan`)}`);
      const adj = rejected.map((r, j) => r.line - (j + 1));
      // This file's rows are the ones without a line yet, appended in order: k is the rowid past the first one's.
      const first = await db.scalar<number>(`SELECT min(rowid)::DOUBLE FROM ${t} WHERE _file = $file AND _line IS NULL`, { file });
      const k = '(rowid - CAST($first AS BIGINT) + 1)';
      const lineExpr = adj.length === 0 ? k : `${k} + len(list_filter(CAST($adj AS BIGINT[]), lambda a: a < ${k}))`;
      const params = { file, first: first ?? 0, ...(adj.length === 0 ? {} : { adj: JSON.stringify(adj) }) };
      await db.run(`UPDATE ${t} SET _line = ${lineExpr} WHERE _file = $file AND _line IS NULL`, params);
      // The rest (Bundles, arrays, bad lines; blank lines are none) leaves the table and goes through expandDocs.
      await db.run(`CREATE OR REPLACE TEMP TABLE ${docs} AS SELECT _raw AS raw, _line AS line FROM ${t} WHERE _file = $file AND _raw IS NOT NULL AND trim(_raw) <> ''`, { file });
      await db.run(`DELETE FROM ${t} WHERE _file = $file AND _raw IS NOT NULL`, { file });
    } else {
      await db.run(`CREATE OR REPLACE TEMP TABLE ${docs} AS SELECT CASE WHEN starts_with(content, chr(65279)) THEN content[2:] ELSE content END AS raw,
        NULL::BIGINT AS line FROM read_text(${literal(file)})`);
    }
    errors.push(...(await expandDocs(db, t, `${table}_docs`, file, kind)));
    await db.run(`DROP TABLE IF EXISTS ${docs}`);
  }
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
  return { table, resources, byType, errors };
}

/** Moves the good resources of table `docs` into `t` (Bundles and arrays taken apart) and returns the bad ones. */
async function expandDocs(db: Db, t: string, base: string, file: string, kind: FhirFileKind): Promise<FhirInputError[]> {
  const docs = ident(base);
  const dc = ident(`${base}_c`);
  const di = ident(`${base}_i`);
  const dr = ident(`${base}_r`);
  const what = kind === 'ndjson' ? 'the line' : 'the file';
  // Classify each document once: JSON validity and top-level shape.
  await db.run(`CREATE OR REPLACE TEMP TABLE ${dc} AS SELECT raw, line, json_valid(raw) AS ok,
      CASE WHEN json_valid(raw) THEN json_type(raw::JSON) END AS jt,
      CASE WHEN json_valid(raw) AND json_type(raw::JSON) = 'OBJECT' THEN raw::JSON ->> '$.resourceType' END AS rt
    FROM ${docs}`);
  // Items: a resource, the resources of a Bundle's entries, or the elements of a top-level array.
  await db.run(`CREATE OR REPLACE TEMP TABLE ${di} AS
    SELECT raw::JSON AS item, line, NULL::BIGINT AS entry, NULL::VARCHAR AS bundle FROM ${dc} WHERE ok AND jt = 'OBJECT' AND rt IS DISTINCT FROM 'Bundle'
    UNION ALL
    SELECT e.item, line, e.i - 1, 'Bundle' FROM (SELECT line, unnest(json_extract(raw::JSON, '$.entry[*]')) AS item,
        unnest(generate_series(1, json_array_length(raw::JSON, '$.entry')::BIGINT)) AS i FROM ${dc} WHERE ok AND rt = 'Bundle') e
    UNION ALL
    SELECT e.item, line, e.i - 1, 'array' FROM (SELECT line, unnest(json_extract(raw::JSON, '$[*]')) AS item,
        unnest(generate_series(1, json_array_length(raw::JSON)::BIGINT)) AS i FROM ${dc} WHERE ok AND jt = 'ARRAY') e`);
  // In a Bundle the resource is entry.resource; in an array the element itself.
  await db.run(`CREATE OR REPLACE TEMP TABLE ${dr} AS SELECT CASE WHEN bundle = 'Bundle' THEN json_extract(item, '$.resource') ELSE item END AS res,
      item, line, entry, bundle FROM ${di}`);
  await db.run(`INSERT INTO ${t} (resource, resource_type, id, _file, _line, _entry) SELECT res, res ->> '$.resourceType', res ->> '$.id', $file, line, entry FROM ${dr}
    WHERE json_type(res) = 'OBJECT' AND json_type(res, '$.resourceType') = 'VARCHAR' AND regexp_full_match(res ->> '$.resourceType', '[A-Z][A-Za-z]+')`, { file });
  const bad = await db.all<{ line: number | null; entry: number | null; entry_of: 'Bundle' | 'array' | null; reason: string; raw: string | null }>(
    `SELECT line::INTEGER AS line, NULL::INTEGER AS entry, NULL AS entry_of,
        CASE WHEN NOT ok THEN ${literal(`${what} is not valid JSON`)} ELSE ${literal(`${what} holds JSON `)} || lower(jt) || ', not a FHIR resource object' END AS reason,
        left(raw, ${RAW_MAX}) AS raw
      FROM ${dc} WHERE NOT ok OR jt NOT IN ('OBJECT', 'ARRAY')
    UNION ALL
    SELECT line::INTEGER, NULL, NULL, 'the JSON object has no resourceType: not a FHIR resource', left(raw, ${RAW_MAX})
      FROM ${dc} WHERE ok AND jt = 'OBJECT' AND NOT coalesce(json_type(raw::JSON, '$.resourceType') = 'VARCHAR' AND regexp_full_match(rt, '[A-Z][A-Za-z]+'), false)
    UNION ALL
    SELECT line::INTEGER, entry::INTEGER, bundle,
        CASE WHEN bundle = 'array' THEN 'the element is not a FHIR resource (no resourceType)'
             WHEN res IS NULL THEN 'the Bundle entry has no resource' || coalesce(' (request ' || (item ->> '$.request.method') || ' ' || (item ->> '$.request.url') || ')', '')
             ELSE 'the entry is not a FHIR resource (no resourceType)' END,
        left(item::VARCHAR, ${RAW_MAX})
      FROM ${dr} WHERE entry IS NOT NULL AND NOT coalesce(json_type(res) = 'OBJECT' AND json_type(res, '$.resourceType') = 'VARCHAR'
        AND regexp_full_match(res ->> '$.resourceType', '[A-Z][A-Za-z]+'), false)
    ORDER BY 1 NULLS FIRST, 2 NULLS FIRST`,
  );
  await db.run(`DROP TABLE IF EXISTS ${dc}; DROP TABLE IF EXISTS ${di}; DROP TABLE IF EXISTS ${dr}`);
  return bad.map((b) => ({
    file,
    ...(b.line === null ? {} : { line: b.line }),
    ...(b.entry === null ? {} : { entry: b.entry }),
    ...(b.entry_of === null ? {} : { entryOf: b.entry_of }),
    // An entry or element that is no resource names no type; a broken line or file may (its text's start).
    ...(b.entry === null ? namedType(b.raw) : {}),
    reason: b.reason,
    ...(b.raw === null ? {} : { raw: b.raw }),
  }));
}
