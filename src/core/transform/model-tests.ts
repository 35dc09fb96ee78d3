// Model tests: after a run, each built table is checked against its header's tests (grain unique and not null,
// ranges, accepted values, row expectations). In an incremental run a partitioned model is checked on the
// partitions the run rebuilt. Each check counts failing rows (or duplicated keys) in one query.
import type { Db, Params } from '../../db/db.js';
import { ident } from '../../db/sql.js';
import type { Model, ModelTest } from './models.js';
import { partitionPredicate } from './scope.js';

export interface TestResult {
  model: string;
  test: string;
  status: 'pass' | 'fail';
  /** Rows failing the test; for unique, the number of keys that occur more than once. */
  failures: number;
}

/**
 * A row-level test as the condition a failing row meets, with its bound parameters (names prefixed by `prefix`);
 * undefined for unique, which counts keys rather than rows.
 */
export function failingRowCondition(test: ModelTest, prefix = ''): { sql: string; params: Record<string, string | number> } | undefined {
  switch (test.kind) {
    case 'unique':
      return undefined;
    case 'not_null':
      return { sql: `${ident(test.column)} IS NULL`, params: {} };
    case 'range': {
      const conds: string[] = [];
      const params: Record<string, number> = {};
      if (test.min !== null) {
        conds.push(`${ident(test.column)} < $${prefix}min`);
        params[`${prefix}min`] = test.min;
      }
      if (test.max !== null) {
        conds.push(`${ident(test.column)} > $${prefix}max`);
        params[`${prefix}max`] = test.max;
      }
      return { sql: conds.length > 0 ? `(${conds.join(' OR ')})` : 'false', params };
    }
    case 'accepted_values': {
      const names = test.values.map((_, i) => `$${prefix}v${i}`);
      const params = Object.fromEntries(test.values.map((v, i) => [`${prefix}v${i}`, v]));
      return { sql: `${ident(test.column)} IS NOT NULL AND ${ident(test.column)} NOT IN (${names.join(', ')})`, params };
    }
    case 'expect':
      // The expression comes from the model file (project code), never from user input.
      return { sql: `(${test.expression}) IS NOT TRUE`, params: {} };
  }
}

/**
 * The counting query for one test, with its bound parameters (names prefixed by `prefix`). `where` limits the
 * rows checked.
 */
export function testQuery(model: Model, test: ModelTest, where = 'true', prefix = ''): { sql: string; params: Record<string, string | number> } {
  const table = ident(model.name);
  const row = failingRowCondition(test, prefix);
  if (row) return { sql: `SELECT count(*)::BIGINT AS failures FROM ${table} WHERE ${where} AND ${row.sql}`, params: row.params };
  const cols = (test as Extract<ModelTest, { kind: 'unique' }>).columns.map(ident).join(', ');
  return {
    sql: `SELECT count(*)::BIGINT AS failures FROM (SELECT ${cols} FROM ${table} WHERE ${where} GROUP BY ${cols} HAVING count(*) > 1)`,
    params: {},
  };
}

/**
 * Runs every test of `model` in one statement: the row-level tests as filtered counts over one scan, and each unique
 * test as the rows whose key hash repeats the previous one in hash order (issue 18: a scan per test read
 * telemetry_risk a dozen times, and grouping its event_id strings to find duplicates cost more CPU than hashes).
 * Equal keys hash alike, so no repeated hash proves the keys unique; otherwise (a duplicate, or a hash collision)
 * the exact query counts the keys that occur more than once. `scoped` checks only the partitions in scope
 * (incremental runs), read once. Returns one result per test, in header order.
 */
export async function runModelTests(db: Db, model: Model, scoped: boolean): Promise<TestResult[]> {
  if (model.tests.length === 0) return [];
  // Incremental: the partitions in scope are read once into a materialized CTE that shadows the table's name.
  const scope = scoped && model.partition ? `WITH ${ident(model.name)} AS MATERIALIZED (SELECT * FROM main.${ident(model.name)} WHERE ${partitionPredicate(model)})\n` : '';
  const counts: string[] = ['count(*)::BIGINT AS n'];
  const params: Params = {};
  model.tests.forEach((t, i) => {
    const row = failingRowCondition(t, `t${i}_`);
    if (row) {
      Object.assign(params, row.params);
      counts.push(`(count(*) FILTER (WHERE ${row.sql}))::BIGINT AS t${i}`);
    } else if (t.kind === 'unique') {
      // Rows whose key hash equals the one before it in hash order: a sort of the hashes, which cost about half
      // the CPU of the hash set a distinct count builds (5M telemetry_risk keys: 0.6 against 1.1 CPU s).
      const h = `hash(${t.columns.map(ident).join(', ')})`;
      counts.push(`(SELECT count(*) FILTER (WHERE h = prev) FROM (SELECT h, lag(h) OVER (ORDER BY h) AS prev FROM (SELECT ${h} AS h FROM ${ident(model.name)})))::BIGINT AS t${i}`);
    }
  });
  const sql = `${scope}SELECT ${counts.join(',\n  ')}\nFROM ${ident(model.name)}`;
  const row = (await db.all(sql, params))[0] ?? {};
  const results: TestResult[] = [];
  for (const [i, t] of model.tests.entries()) {
    let failures = Number(row[`t${i}`] ?? 0);
    if (t.kind === 'unique') {
      // A repeated hash: count the duplicated keys exactly (a collision alone counts none).
      failures = failures === 0 ? 0 : Number((await db.all(`${scope}${testQuery(model, t).sql}`))[0]?.failures ?? 0);
    }
    results.push({ model: model.name, test: t.name, status: failures === 0 ? 'pass' : 'fail', failures });
  }
  return results;
}
