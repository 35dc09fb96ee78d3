// The mapping: a staged source table (every cell VARCHAR, plus _row and _line) and one profile table -> a TEMP table
// of contract-shaped rows, each with a status: 'ok' (goes to validate -> load), 'skip' (not for this contract: a
// reason), 'missing' (a not-measured marker: a missing reading, never quarantined) or 'quarantine' (the mapping
// itself failed: keyword unit, timezone, anchor, format, type, enum). Set-at-a-time in DuckDB: code maps, answer maps
// and unit conversions are small TEMP tables joined in; only the distinct (unit, target unit) pairs cross into JS,
// where UCUM computes each conversion once.
import type { Db } from '../../db/db.js';
import { ident, quoteAnyIdent } from '../../db/sql.js';
import { ConfigError } from '../../errors.js';
import type { DatasetSchema } from '../schemas.js';
import { codeRules, type ColumnMap, type ProfileTable } from './profile.js';
import { conversion } from './units.js';

export const MAPPED_TABLE = 'imp_mapped';

export interface MapOptions {
  /** IANA zone for naive timestamps (--timezone, else the table's, else the profile's); undefined: quarantined. */
  timezone?: string | undefined;
  /** Instant relative times (H:MM) count from; undefined: relative times are quarantined with keyword anchor. */
  anchor?: string | undefined;
  /** Missing-value markers (the table's, else the profile's). */
  missing: string[];
  /** Glucose molar mass (g/mol) for mmol/L -> mg/dL, from the rules file. */
  molarMass: number;
  /** The file's base name, for {_file}. */
  file: string;
  /** Where the file came from, to name it in errors. */
  display: string;
}

export interface MapCounts {
  /** Source data rows. rows_read = mapped + skipped + missing. */
  rows_read: number;
  /** Rows that became contract rows (loaded: inserted + duplicate + quarantined), mapping failures included. */
  mapped: number;
  /** Rows the mapping quarantined, by keyword (part of mapped). */
  quarantined_by_keyword: Record<string, number>;
  /** Rows not for the contract, by reason. */
  skipped: Record<string, number>;
  /** Missing readings, by marker ("-1", "NA", "(empty)"). */
  missing: Record<string, number>;
  /** Codes not in the code map, with their row counts (the 20 most frequent). */
  unmapped_codes: Record<string, number>;
  /** Mapped rows per metric (vitals). */
  by_metric: Record<string, number>;
}

interface Ctx {
  params: Record<string, string | number | null>;
  n: number;
  srcCols: Set<string>;
  path: string;
  display: string;
}

/** Only the parameters a statement uses: DuckDB refuses a named parameter the SQL does not mention. */
export function usedParams<T>(sql: string, params: Record<string, T>): Record<string, T> {
  const names = new Set([...sql.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] as string));
  return Object.fromEntries(Object.entries(params).filter(([k]) => names.has(k)));
}

function bind(c: Ctx, v: string | number | null): string {
  const name = `p${c.n++}`;
  c.params[name] = v;
  return `$${name}`;
}

function srcCol(c: Ctx, name: string, where: string): string {
  if (!c.srcCols.has(name)) {
    throw new ConfigError(`${c.display}: profile ${c.path} ${where} names column "${name}", which the file does not have`, {
      file: c.display,
      field: where,
      hint: `the file's columns: ${[...c.srcCols].filter((x) => !x.startsWith('_')).join(', ')}`,
    });
  }
  return `s.${quoteAnyIdent(name)}`;
}

/** {_row}, {_record}, {_file} or a source column, as VARCHAR SQL. */
function placeholder(c: Ctx, name: string, where: string): string {
  if (name === '_row') return 'CAST(s._row AS VARCHAR)';
  if (name === '_record') return '$record';
  if (name === '_file') return '$file';
  return `trim(${srcCol(c, name, where)})`;
}

/** A column mapping as a VARCHAR SQL expression over the source row `s` (markers already NULL for from). */
function columnSql(c: Ctx, m: ColumnMap, where: string): string {
  let e: string;
  if (m.from !== undefined) e = `CASE WHEN trim(${srcCol(c, m.from, where)}) IN (SELECT marker FROM imp_markers) THEN NULL ELSE trim(${srcCol(c, m.from, where)}) END`;
  else if (m.const !== undefined) e = bind(c, String(m.const));
  else if (m.template !== undefined) {
    const parts: string[] = [];
    let last = 0;
    for (const hit of m.template.matchAll(/\{([^{}]+)\}/g)) {
      if (hit.index > last) parts.push(bind(c, m.template.slice(last, hit.index)));
      parts.push(`coalesce(${placeholder(c, hit[1] as string, where)}, '')`);
      last = hit.index + hit[0].length;
    }
    if (last < m.template.length) parts.push(bind(c, m.template.slice(last)));
    e = parts.length === 0 ? "''" : `concat(${parts.join(', ')})`;
  } else if (m.hash !== undefined) {
    const cols = m.hash.map((h) => `coalesce(${placeholder(c, h, where)}, '')`);
    e = `concat(${bind(c, m.prefix ?? '')}, substr(md5(concat_ws('|', ${cols.join(', ')})), 1, 24))`;
  } else if (m.row_time !== undefined) {
    e = `strftime(CAST(${bind(c, m.row_time.anchor)} AS TIMESTAMPTZ) + to_microseconds(CAST(round((s._row - 1) * ${bind(c, m.row_time.seconds_per_row)} * 1e6) AS BIGINT)), '%Y-%m-%dT%H:%M:%S.%fZ')`;
  } else e = 'NULL';
  if (m.map !== undefined && Object.keys(m.map).length > 0) {
    const whens = Object.entries(m.map).map(([k, v]) => `WHEN ${bind(c, k)} THEN ${v === null ? 'NULL' : bind(c, String(v))}`);
    e = `CASE (${e}) ${whens.join(' ')} ELSE (${e}) END`;
  }
  if (m.scale !== undefined) e = `CAST(try_cast(${e} AS DOUBLE) * ${bind(c, m.scale)} AS VARCHAR)`;
  if (m.default !== undefined) e = `coalesce(${e}, ${bind(c, m.default)})`;
  return e;
}

/**
 * A time text -> { ts: TIMESTAMPTZ SQL (NULL when it cannot be read), err: VARCHAR SQL naming the keyword }.
 * Instants (Z or an offset) keep their offset and become UTC; naive timestamps are read in $tz (NULL: keyword
 * timezone); H:MM is elapsed time from $anchor (NULL: keyword anchor); anything else is keyword format.
 */
function timeSql(c: Ctx, t: string, format: string | undefined): { ts: string; err: string } {
  const instant = `regexp_full_match(${t}, '\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?([Zz]|[+-]\\d{2}(:?\\d{2})?)')`;
  const naive = `regexp_full_match(${t}, '\\d{4}-\\d{2}-\\d{2}([Tt ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?)?')`;
  const relative = `regexp_full_match(${t}, '\\d{1,4}:\\d{2}')`;
  const rel = `CAST($anchor AS TIMESTAMPTZ) + to_minutes(CAST(split_part(${t}, ':', 1) AS BIGINT) * 60 + CAST(split_part(${t}, ':', 2) AS BIGINT))`;
  const naiveTs = format === undefined ? `try_cast(${t} AS TIMESTAMP)` : `try_strptime(${t}, ${bind(c, format)})`;
  const isNaive = format === undefined ? naive : `(${naiveTs}) IS NOT NULL`;
  const ts = `CASE WHEN ${t} IS NULL THEN NULL
    WHEN ${relative} THEN CASE WHEN $anchor IS NULL THEN NULL ELSE ${rel} END
    WHEN ${instant} THEN try_cast(${t} AS TIMESTAMPTZ)
    WHEN ${isNaive} THEN CASE WHEN $tz IS NULL THEN NULL ELSE timezone($tz, ${naiveTs}) END
    ELSE NULL END`;
  const err = `CASE WHEN ${t} IS NULL THEN 'required'
    WHEN ${relative} THEN CASE WHEN $anchor IS NULL THEN 'anchor' END
    WHEN ${instant} THEN CASE WHEN try_cast(${t} AS TIMESTAMPTZ) IS NULL THEN 'format' END
    WHEN ${isNaive} THEN CASE WHEN $tz IS NULL THEN 'timezone' WHEN (${naiveTs}) IS NULL THEN 'format' END
    ELSE 'format' END`;
  return { ts, err };
}

const TIME_MESSAGES: Record<string, string> = {
  required: 'no time given',
  anchor: 'a relative time (H:MM since admission) needs an anchor: the profile\'s relative_time.anchor or --anchor',
  timezone: 'a naive timestamp (no Z, no offset) needs a time zone: pass --timezone ZONE (IANA, e.g. Europe/London) or set timezone in the profile',
  format: 'not a timestamp surgctl can read (ISO 8601, or the profile\'s time_format)',
};

/** Inserts `rows` (objects with the fields of `struct`) into TEMP table `name` in one statement; `select` reads each as r. */
async function fillTable(db: Db, name: string, struct: string, select: string, rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  await db.run(`INSERT INTO ${name} SELECT ${select} FROM (SELECT unnest(CAST(CAST($rows AS JSON) AS STRUCT(${struct})[])) AS r)`, { rows: JSON.stringify(rows) });
}

async function setupTables(db: Db, table: ProfileTable, ds: DatasetSchema, opts: MapOptions): Promise<void> {
  await db.run('CREATE OR REPLACE TEMP TABLE imp_markers (marker VARCHAR)');
  await fillTable(db, 'imp_markers', 'marker VARCHAR', 'r.marker', opts.missing.map((m) => ({ marker: m.trim() })));
  await db.run(`CREATE OR REPLACE TEMP TABLE imp_codes (code VARCHAR, metric VARCHAR, unit VARCHAR, flag_op VARCHAR,
    flag_than DOUBLE, skip VARCHAR, has_values BOOLEAN)`);
  await db.run('CREATE OR REPLACE TEMP TABLE imp_answers (code VARCHAR, answer VARCHAR, num DOUBLE)');
  await db.run('CREATE OR REPLACE TEMP TABLE imp_metric_units (metric VARCHAR, unit VARCHAR)');
  if (!table.readings) return;
  const units = (ds.schema['x-metric-units'] ?? {}) as Record<string, string>;
  await fillTable(db, 'imp_metric_units', 'metric VARCHAR, unit VARCHAR', 'r.metric, r.unit', Object.entries(units).map(([metric, unit]) => ({ metric, unit })));
  const rules = Object.entries(codeRules(table.readings));
  await fillTable(db, 'imp_codes', 'code VARCHAR, metric VARCHAR, unit VARCHAR, op VARCHAR, than DOUBLE, skip VARCHAR, hv BOOLEAN',
    'r.code, r.metric, r.unit, r.op, r.than, r.skip, r.hv', rules.map(([code, r]) => ({
      code, metric: r.metric ?? null, unit: r.unit ?? null, op: r.flag_if?.op ?? null, than: r.flag_if?.than ?? null,
      skip: r.skip ?? null, hv: r.values !== undefined && Object.keys(r.values).length > 0,
    })));
  await fillTable(db, 'imp_answers', 'code VARCHAR, answer VARCHAR, num DOUBLE', 'r.code, lower(trim(r.answer)), r.num',
    rules.flatMap(([code, r]) => Object.entries(r.values ?? {}).map(([answer, num]) => ({ code, answer, num }))));
}

/** The record id of a file: the value of the first row whose code is table.record.code (PhysioNet's RecordID). */
async function recordId(db: Db, src: string, table: ProfileTable, c: Ctx): Promise<string | null> {
  if (!table.record || !table.readings) return null;
  const code = srcCol(c, table.readings.code, 'readings.code');
  const value = srcCol(c, table.readings.value, 'readings.value');
  const v = await db.scalar<string | null>(
    `SELECT trim(${value}) FROM ${ident(src)} s WHERE trim(${code}) = $code ORDER BY s._row LIMIT 1`,
    { code: table.record.code },
  );
  return v ?? null;
}

/**
 * Maps the staged source table `src` (VARCHAR cells, _row, _line) through one profile table into TEMP table
 * imp_mapped: the contract's columns (typed: numbers DOUBLE, everything else VARCHAR, date-times as ISO 8601 UTC
 * text), then _row, _line, original_value, original_unit, original_code, _status, _reason, _keyword, _field,
 * _bad_value. Returns the counts. Throws ConfigError when the profile names a column the file lacks.
 */
export async function mapTable(db: Db, src: string, table: ProfileTable, ds: DatasetSchema, opts: MapOptions, profilePath: string): Promise<MapCounts> {
  const srcCols = new Set(
    (await db.all<{ column_name: string }>('SELECT column_name FROM (DESCRIBE SELECT * FROM ' + ident(src) + ')')).map((r) => r.column_name),
  );
  const c: Ctx = { params: {}, n: 0, srcCols, path: profilePath, display: opts.display };
  await setupTables(db, table, ds, opts);
  const record = await recordId(db, src, table, c);
  c.params.record = record;
  c.params.file = opts.file;
  c.params.tz = opts.timezone ?? null;
  c.params.anchor = opts.anchor ?? null;
  const columns = table.columns ?? {};
  const only = table.only ? `trim(${srcCol(c, table.only.column, 'only.column')}) IN (${table.only.values.map((v) => bind(c, v)).join(', ')})` : 'true';
  const onlyReason = table.only ? bind(c, table.only.reason) : 'CAST(NULL AS VARCHAR)';
  const eventTime = ds.eventTime ?? 'measured_at';
  const r = table.readings;
  const colExprs: string[] = [];
  for (const col of ds.columns) {
    if (r && ['metric', 'value', 'unit', eventTime].includes(col)) continue;
    const m = columns[col];
    colExprs.push(`${m ? columnSql(c, m, `columns.${col}`) : 'CAST(NULL AS VARCHAR)'} AS ${ident(col)}`);
  }
  // Date-time columns (other than a readings time) are normalised the same way as reading times.
  const timeCols = ds.columns.filter((col) => ds.columnTypes[col]?.format === 'date-time' && !(r && col === eventTime) && columns[col] !== undefined);
  const timeParts = timeCols.map((col) => ({ col, ...timeSql(c, `a.${ident(col)}`, undefined) }));
  let readingCols = '';
  if (r) {
    const t = `nullif(trim(${srcCol(c, r.time, 'readings.time')}), '')`;
    const tm = timeSql(c, t, r.time_format);
    readingCols = `,
      nullif(trim(${srcCol(c, r.code, 'readings.code')}), '') AS _code,
      nullif(trim(${srcCol(c, r.value, 'readings.value')}), '') AS _value_text,
      ${r.unit ? `nullif(trim(${srcCol(c, r.unit, 'readings.unit')}), '')` : 'CAST(NULL AS VARCHAR)'} AS _unit_text,
      ${tm.ts} AS _ts, ${tm.err} AS _time_err, ${t} AS _time_text`;
  }
  const sqlA =
    `CREATE OR REPLACE TEMP TABLE imp_a AS SELECT s._row, s._line, ${only} AS _only_ok, ${onlyReason} AS _only_reason,
       ${colExprs.join(',\n       ')}${readingCols}
     FROM ${ident(src)} s`;
  await db.run(sqlA, usedParams(sqlA, c.params));
  if (r) await mapReadings(db, c, opts);
  else await mapPlain(db, c, ds, timeParts);
  return counts(db, ds);
}

async function mapReadings(db: Db, c: Ctx, opts: MapOptions): Promise<void> {
  await db.run(`CREATE OR REPLACE TEMP TABLE imp_b AS
    SELECT a.*, k.code AS _known, k.metric AS _metric, k.flag_op, k.flag_than, k.skip AS _skip, coalesce(k.has_values, false) AS _has_values,
      coalesce(a._unit_text, k.unit, mu.unit) AS _from_unit,
      CASE WHEN k.flag_op IS NOT NULL THEN coalesce(k.unit, mu.unit) ELSE mu.unit END AS _to_unit,
      mu.unit AS _canonical_unit,
      ans.num AS _answer
    FROM imp_a a
    LEFT JOIN imp_codes k ON k.code = a._code
    LEFT JOIN imp_metric_units mu ON mu.metric = k.metric
    LEFT JOIN imp_answers ans ON ans.code = a._code AND ans.answer = lower(a._value_text)`);
  // One UCUM conversion per distinct (from, to) pair, computed in JS, joined back in SQL.
  const pairs = await db.all<{ f: string; t: string }>(
    'SELECT DISTINCT _from_unit AS f, _to_unit AS t FROM imp_b WHERE _from_unit IS NOT NULL AND _to_unit IS NOT NULL AND _metric IS NOT NULL AND NOT _has_values',
  );
  await db.run('CREATE OR REPLACE TEMP TABLE imp_conv (f VARCHAR, t VARCHAR, scale DOUBLE, "offset" DOUBLE, reason VARCHAR)');
  for (const p of pairs) {
    const cv = conversion(p.f, p.t, opts.molarMass);
    await db.run('INSERT INTO imp_conv VALUES ($f, $t, $s, $o, $r)', { f: p.f, t: p.t, s: cv.scale, o: cv.offset, r: cv.reason });
  }
  // A converted value is rounded to 9 decimal places: that removes the binary noise of the factors (100.4 [degF] is
  // 38 Cel, not 38.000000000001634) and stays far below any instrument's resolution. Same-unit values are untouched.
  const conv = `CASE WHEN cv.scale = 1 AND cv."offset" = 0 THEN try_cast(b._value_text AS DOUBLE)
    ELSE round(try_cast(b._value_text AS DOUBLE) * cv.scale + cv."offset", 9) END`;
  const flag = `CASE b.flag_op WHEN '<' THEN ${conv} < b.flag_than WHEN '<=' THEN ${conv} <= b.flag_than WHEN '>' THEN ${conv} > b.flag_than
    WHEN '>=' THEN ${conv} >= b.flag_than WHEN '=' THEN ${conv} = b.flag_than END`;
  const cols = await db.all<{ column_name: string }>("SELECT column_name FROM (DESCRIBE imp_a) WHERE NOT starts_with(column_name, '_')");
  const plain = cols.map((x) => `b.${ident(x.column_name)}`);
  const sqlC = `CREATE OR REPLACE TEMP TABLE imp_c AS
    SELECT b.*, cv.reason AS _unit_reason,
      CASE
        WHEN NOT b._only_ok THEN 'skip'
        WHEN b._code IS NULL OR b._known IS NULL THEN 'skip'
        WHEN b._skip IS NOT NULL THEN 'skip'
        WHEN b._value_text IS NULL OR b._value_text IN (SELECT marker FROM imp_markers) THEN 'missing'
        WHEN b._has_values AND b._answer IS NULL THEN 'quarantine'
        WHEN NOT b._has_values AND try_cast(b._value_text AS DOUBLE) IS NULL THEN 'quarantine'
        WHEN NOT b._has_values AND cv.scale IS NULL THEN 'quarantine'
        WHEN b._ts IS NULL THEN 'quarantine'
        ELSE 'ok' END AS _status,
      CASE
        WHEN NOT b._only_ok THEN b._only_reason
        WHEN b._code IS NULL THEN 'no code'
        WHEN b._known IS NULL THEN 'code not mapped'
        WHEN b._skip IS NOT NULL THEN b._skip
        WHEN b._value_text IS NULL THEN '(empty)'
        WHEN b._value_text IN (SELECT marker FROM imp_markers) THEN b._value_text
        WHEN b._has_values AND b._answer IS NULL THEN 'answer ' || b._value_text || ' of code ' || b._code || ' is not in its values map'
        WHEN NOT b._has_values AND try_cast(b._value_text AS DOUBLE) IS NULL THEN 'value ' || b._value_text || ' is not a number'
        WHEN NOT b._has_values AND cv.scale IS NULL THEN coalesce(cv.reason, 'unit ' || b._from_unit || ' cannot be converted to ' || b._to_unit)
        WHEN b._ts IS NULL THEN CASE b._time_err ${Object.entries(TIME_MESSAGES).map(([k, v]) => `WHEN ${bind(c, k)} THEN ${bind(c, v)}`).join(' ')} END
        END AS _reason,
      CASE
        WHEN b._has_values AND b._answer IS NULL THEN 'enum'
        WHEN NOT b._has_values AND try_cast(b._value_text AS DOUBLE) IS NULL THEN 'type'
        WHEN NOT b._has_values AND cv.scale IS NULL THEN 'unit'
        WHEN b._ts IS NULL THEN b._time_err END AS _keyword,
      CASE
        WHEN b._has_values AND b._answer IS NULL THEN 'value'
        WHEN NOT b._has_values AND try_cast(b._value_text AS DOUBLE) IS NULL THEN 'value'
        WHEN NOT b._has_values AND cv.scale IS NULL THEN 'unit'
        ELSE 'measured_at' END AS _field,
      CASE
        WHEN NOT b._has_values AND try_cast(b._value_text AS DOUBLE) IS NOT NULL AND cv.scale IS NULL THEN b._from_unit
        WHEN b._ts IS NULL AND (b._has_values OR cv.scale IS NOT NULL) THEN b._time_text
        ELSE b._value_text END AS _bad_value,
      CASE WHEN b._has_values THEN b._answer
           WHEN b.flag_op IS NOT NULL THEN CAST(${flag} AS INTEGER)::DOUBLE
           ELSE ${conv} END AS _value
    FROM imp_b b LEFT JOIN imp_conv cv ON cv.f = b._from_unit AND cv.t = b._to_unit`;
  await db.run(sqlC, usedParams(sqlC, c.params));
  await db.run(`CREATE OR REPLACE TEMP TABLE ${MAPPED_TABLE} AS
    SELECT ${plain.filter((p) => !['b."metric"', 'b."value"', 'b."unit"', 'b."measured_at"'].includes(p)).join(', ')}${plain.length ? ',' : ''}
      b._metric AS metric, b._value AS value, b._canonical_unit AS unit,
      strftime(b._ts, '%Y-%m-%dT%H:%M:%S.%fZ') AS measured_at,
      b._row, b._line, b._value_text AS original_value, b._from_unit AS original_unit, b._code AS original_code,
      b._status, b._reason, b._keyword, b._field, b._bad_value
    FROM imp_c b ORDER BY b._row`);
  await db.run('DROP TABLE IF EXISTS imp_b; DROP TABLE IF EXISTS imp_c');
}

async function mapPlain(db: Db, c: Ctx, ds: DatasetSchema, timeParts: { col: string; ts: string; err: string }[]): Promise<void> {
  const select = ds.columns.map((col) => {
    const tp = timeParts.find((p) => p.col === col);
    if (tp) return `strftime(${tp.ts}, '%Y-%m-%dT%H:%M:%S.%fZ') AS ${ident(col)}`;
    const type = ds.columnTypes[col]?.type;
    if (type === 'number' || type === 'integer') return `try_cast(a.${ident(col)} AS DOUBLE) AS ${ident(col)}`;
    return `a.${ident(col)}`;
  });
  const typeChecks = ds.columns
    .filter((col) => ['number', 'integer'].includes(ds.columnTypes[col]?.type ?? ''))
    .map((col) => ({ col, bad: `(a.${ident(col)} IS NOT NULL AND try_cast(a.${ident(col)} AS DOUBLE) IS NULL)` }));
  const timeBad = timeParts.map((p) => ({ col: p.col, bad: `(a.${ident(p.col)} IS NOT NULL AND (${p.err}) IS NOT NULL)`, err: p.err }));
  const anyBad = [...typeChecks.map((t) => t.bad), ...timeBad.map((t) => t.bad)];
  const keyword = [...typeChecks.map((t) => `WHEN ${t.bad} THEN 'type'`), ...timeBad.map((t) => `WHEN ${t.bad} THEN ${t.err}`)];
  const field = [...typeChecks, ...timeBad].map((t) => `WHEN ${t.bad} THEN ${bind(c, t.col)}`);
  const badValue = [...typeChecks, ...timeBad].map((t) => `WHEN ${t.bad} THEN a.${ident(t.col)}`);
  const reason = [
    ...typeChecks.map((t) => `WHEN ${t.bad} THEN 'value ' || a.${ident(t.col)} || ' is not a number'`),
    ...timeBad.map((t) => `WHEN ${t.bad} THEN CASE ${t.err} ${Object.entries(TIME_MESSAGES).map(([k, v]) => `WHEN ${bind(c, k)} THEN ${bind(c, v)}`).join(' ')} END`),
  ];
  const bad = anyBad.length ? anyBad.join(' OR ') : 'false';
  const sql = `CREATE OR REPLACE TEMP TABLE ${MAPPED_TABLE} AS
    SELECT ${select.join(', ')}, a._row, a._line,
      CAST(NULL AS VARCHAR) AS original_value, CAST(NULL AS VARCHAR) AS original_unit, CAST(NULL AS VARCHAR) AS original_code,
      CASE WHEN NOT a._only_ok THEN 'skip' WHEN ${bad} THEN 'quarantine' ELSE 'ok' END AS _status,
      CASE WHEN NOT a._only_ok THEN a._only_reason ${reason.join(' ')} END AS _reason,
      CASE WHEN NOT a._only_ok THEN CAST(NULL AS VARCHAR) ${keyword.join(' ')} END AS _keyword,
      CASE WHEN NOT a._only_ok THEN CAST(NULL AS VARCHAR) ${field.join(' ')} END AS _field,
      CASE WHEN NOT a._only_ok THEN CAST(NULL AS VARCHAR) ${badValue.join(' ')} END AS _bad_value
    FROM imp_a a ORDER BY a._row`;
  await db.run(sql, usedParams(sql, c.params));
}

async function counts(db: Db, ds: DatasetSchema): Promise<MapCounts> {
  return (await countsBy(db, ds, '0')).get(0) ?? emptyCounts();
}

function emptyCounts(): MapCounts {
  return { rows_read: 0, mapped: 0, quarantined_by_keyword: {}, skipped: {}, missing: {}, unmapped_codes: {}, by_metric: {} };
}

/**
 * The counts of imp_mapped per group: `groupExpr` is the SQL of a row's group (an INTEGER column naming its file when
 * several files were mapped at once, or '0'). Groups without rows are absent from the map.
 */
export async function countsBy(db: Db, ds: DatasetSchema, groupExpr: string): Promise<Map<number, MapCounts>> {
  const out = new Map<number, MapCounts>();
  const get = (g: number): MapCounts => {
    let c = out.get(g);
    if (!c) out.set(g, (c = emptyCounts()));
    return c;
  };
  const byStatus = await db.all<{ g: number; s: string; reason: string | null; keyword: string | null; n: number }>(
    `SELECT ${groupExpr}::INTEGER AS g, _status AS s, _reason AS reason, _keyword AS keyword, count(*)::INTEGER AS n FROM ${MAPPED_TABLE} GROUP BY ALL ORDER BY ALL`,
  );
  for (const r of byStatus) {
    const c = get(r.g);
    c.rows_read += r.n;
    if (r.s === 'ok' || r.s === 'quarantine') c.mapped += r.n;
    if (r.s === 'quarantine') c.quarantined_by_keyword[r.keyword ?? 'mapping'] = (c.quarantined_by_keyword[r.keyword ?? 'mapping'] ?? 0) + r.n;
    if (r.s === 'skip') c.skipped[r.reason ?? 'skipped'] = (c.skipped[r.reason ?? 'skipped'] ?? 0) + r.n;
    if (r.s === 'missing') c.missing[r.reason ?? '(empty)'] = (c.missing[r.reason ?? '(empty)'] ?? 0) + r.n;
  }
  if (ds.columns.includes('metric')) {
    for (const r of await db.all<{ g: number; code: string; n: number }>(
      `SELECT g, code, n FROM (
         SELECT g, code, n, row_number() OVER (PARTITION BY g ORDER BY n DESC, code) AS k FROM (
           SELECT ${groupExpr}::INTEGER AS g, original_code AS code, count(*)::INTEGER AS n
           FROM ${MAPPED_TABLE} WHERE _status = 'skip' AND _reason = 'code not mapped' GROUP BY ALL))
       WHERE k <= 20 ORDER BY g, k`,
    )) get(r.g).unmapped_codes[r.code] = r.n;
    for (const r of await db.all<{ g: number; metric: string; n: number }>(
      `SELECT ${groupExpr}::INTEGER AS g, metric, count(*)::INTEGER AS n FROM ${MAPPED_TABLE} WHERE _status = 'ok' GROUP BY ALL ORDER BY g, metric`,
    )) get(r.g).by_metric[r.metric] = r.n;
  }
  return out;
}
