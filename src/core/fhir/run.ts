// runView: one ViewDefinition over a staged table into a TEMP table, on the compiled engine (one DuckDB SELECT) or
// the reference engine (FHIRPath.js per resource), or `auto`: compiled when the view compiles, else reference.
import type { Db } from '../../db/db.js';
import { ident, quoteAnyIdent } from '../../db/sql.js';
import { ConfigError, InterruptedError, QueryError, UsageError } from '../../errors.js';
import { compileChecked, FHIR_MACROS } from './compile.js';
import { runReferenceEngine } from './reference.js';
import { checkView, type CheckedView, type ViewDefinition } from './view.js';

export type FhirEngine = 'compiled' | 'reference';

export interface RunViewOptions {
  /** The staged table (stageFhir's). */
  source: string;
  /** The TEMP table to (re)create with the view's rows. */
  target: string;
  engine: FhirEngine | 'auto';
  /** Adds _file, _line, _entry, _resource_id (where each row came from). */
  lineage?: boolean;
  /**
   * The compiled engine's mode: typed (the default: each resource parsed once into a STRUCT, see typed.ts) when the
   * view stays in its subset, else json; json forces the JSON mode (tests compare the two).
   */
  compiledMode?: 'typed' | 'json';
  signal?: AbortSignal;
}

/** Compiles a view to DuckDB SQL over the staged table `fhir_resources`, or says why it cannot. */
export function compileView(view: ViewDefinition): { sql: string; params: Record<string, string | number | boolean> } | { refused: string } {
  return compileChecked(checkView(view), 'fhir_resources', false);
}

/** Handles whose connection holds the compiled engine's temp macros already. */
const macrosMade = new WeakSet<object>();

function targetDdl(checked: CheckedView, target: string, lineage: boolean): string {
  const cols = checked.columns.map((c) => `${quoteAnyIdent(c.name)} ${c.duckType}`);
  if (lineage) cols.push('_file VARCHAR', '_line BIGINT', '_entry BIGINT', '_resource_id VARCHAR');
  return `CREATE OR REPLACE TEMP TABLE ${ident(target)} (${cols.join(', ')})`;
}

/** A DuckDB error() raised by the compiled SQL (a FHIRPath runtime error) becomes the same ConfigError as the reference's. */
function compiledFailure(e: unknown, checked: CheckedView): never {
  if (e instanceof QueryError && /FHIRPath: |where: /.test(e.message)) {
    const why = e.message.replace(/^.*?(FHIRPath: |where: )/, '$1');
    throw new ConfigError(`ViewDefinition ${checked.name}: ${why}`, {
      hint: 'a column whose path gives several values needs "collection": true; a where path must give a boolean',
      cause: e,
    });
  }
  throw e;
}

/**
 * Runs a ViewDefinition over a staged table into TEMP table `target` (the view's columns in order, plus _file,
 * _line, _entry, _resource_id when lineage is true). Throws ConfigError for an invalid view, UsageError when the
 * compiled engine is asked for a view it cannot compile.
 */
export async function runView(db: Db, view: ViewDefinition, opts: RunViewOptions): Promise<{ engine: FhirEngine; rows: number }> {
  const checked = checkView(view);
  const lineage = opts.lineage === true;
  if (opts.signal?.aborted) throw new InterruptedError(`running view ${checked.name}`);
  const compiled = opts.engine === 'reference' ? undefined : compileChecked(checked, opts.source, lineage, opts.compiledMode);
  if (compiled && 'refused' in compiled && opts.engine === 'compiled') {
    throw new UsageError(`ViewDefinition ${checked.name}: ${compiled.refused}`, { hint: 'run it with --engine reference (or auto)' });
  }
  await db.run(targetDdl(checked, opts.target, lineage));
  // Ctrl-C stops the running statement (DuckDB interrupt) and ends in InterruptedError.
  const interrupt = db.interruptOn(opts.signal);
  try {
    return await runEngine(db, checked, compiled, opts, lineage);
  } catch (e) {
    if (opts.signal?.aborted) throw new InterruptedError(`running view ${checked.name}`);
    throw e;
  } finally {
    interrupt.remove();
  }
}

async function runEngine(
  db: Db,
  checked: CheckedView,
  compiled: ReturnType<typeof compileChecked> | undefined,
  opts: RunViewOptions,
  lineage: boolean,
): Promise<{ engine: FhirEngine; rows: number }> {
  if (compiled && 'sql' in compiled) {
    if (!macrosMade.has(db)) {
      for (const m of FHIR_MACROS) await db.run(m);
      macrosMade.add(db);
    }
    try {
      await db.run(`INSERT INTO ${ident(opts.target)} ${compiled.sql}`, compiled.params);
    } catch (e) {
      compiledFailure(e, checked);
    }
    const rows = Number(await db.scalar(`SELECT count(*)::DOUBLE FROM ${ident(opts.target)}`));
    return { engine: 'compiled', rows };
  }
  const rows = await runReferenceEngine(db, checked, { source: opts.source, target: opts.target, lineage, signal: opts.signal });
  return { engine: 'reference', rows };
}
