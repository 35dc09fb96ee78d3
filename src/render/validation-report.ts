// Renders a validation report: a readable table (counts per file, top failing rules with examples), JSON
// (schemas/validation-report.schema.json), JUnit XML (one test case per file and rule) and GitHub workflow
// annotations (::error file=...,line=...::..., capped).
import { Chalk, type ChalkInstance } from 'chalk';
import type { FileReport, ValidationReport } from '../core/validate/index.js';
import { renderTextTable } from './text-table.js';

export type ValidationFormat = 'table' | 'json' | 'junit' | 'github';

export interface ValidationRenderOptions {
  color?: boolean;
  /** Examples printed per file (table) or annotations in all (github). */
  limitErrors?: number;
}

export function renderValidationReport(report: ValidationReport, format: ValidationFormat, options: ValidationRenderOptions = {}): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'junit':
      return renderJunit(report);
    case 'github':
      return renderGithub(report, options.limitErrors ?? 50);
    default:
      return renderTable(report, options);
  }
}

function renderTable(report: ValidationReport, options: ValidationRenderOptions): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const out: string[] = [];
  out.push(
    renderTextTable(report.files, [
      { header: 'file', value: (f) => f.path },
      { header: 'dataset', value: (f) => f.dataset },
      { header: 'engine', value: (f) => f.engine },
      { header: 'read', value: (f) => f.rows_read, align: 'right' },
      { header: 'valid', value: (f) => f.rows_valid, align: 'right' },
      { header: 'quarantined', value: (f) => f.rows_quarantined, align: 'right' },
      { header: 'result', value: (f) => (f.passed ? 'passed' : 'FAILED') },
    ]).replace(/FAILED/g, c.red('FAILED')).replace(/passed$/gm, c.green('passed')),
  );
  const limit = options.limitErrors ?? 10;
  for (const f of report.files) out.push(...fileDetail(f, limit, c));
  const t = report.totals;
  const verdict = report.passed ? c.green('PASSED') : c.red('FAILED');
  out.push(`${verdict}: ${t.files} file(s), ${t.rows_read.toLocaleString('en-US')} rows read, ${t.rows_valid.toLocaleString('en-US')} valid, ` +
    `${t.rows_quarantined.toLocaleString('en-US')} quarantined (max invalid ${report.max_invalid} per file)\n`);
  return out.join('\n');
}

function fileDetail(f: FileReport, limit: number, c: ChalkInstance): string[] {
  const lines: string[] = [];
  const rules = Object.entries(f.failures_by_rule);
  const warns = Object.entries(f.warnings_by_rule);
  if (f.file_errors.length === 0 && rules.length === 0 && warns.length === 0 && f.notes.length === 0 && f.engine_reasons.length === 0) return lines;
  lines.push(c.bold(f.path));
  for (const e of f.file_errors) lines.push(`  ${c.red('file error')} ${e.keyword}: ${e.message}`);
  if (f.engine === 'ajv' && f.engine_reasons.length) lines.push(`  engine ajv: ${f.engine_reasons.slice(0, 3).join('; ')}${f.engine_reasons.length > 3 ? '; ...' : ''}`);
  if (rules.length) lines.push(`  failing rules: ${rules.map(([r, n]) => `${r} ${n.toLocaleString('en-US')}`).join(', ')}`);
  if (warns.length) lines.push(`  warnings (not quarantined): ${warns.map(([r, n]) => `${r} ${n.toLocaleString('en-US')}`).join(', ')}`);
  for (const e of f.examples.slice(0, limit)) {
    const where = `line ${e.line}${e.field ? ` ${e.field}` : ''}`;
    const value = e.value === null ? '' : ` (value ${JSON.stringify(e.value.length > 60 ? `${e.value.slice(0, 57)}...` : e.value)})`;
    lines.push(`  ${e.severity === 'warn' ? c.yellow('warn ') : c.red('error')} ${where}: ${e.keyword} ${e.message}${value}`);
  }
  if (f.quarantine_path) lines.push(`  quarantine: ${f.quarantine_path}`);
  for (const n of f.notes) lines.push(`  note: ${n}`);
  lines.push('');
  return lines;
}

function xml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch] as string)
    // XML 1.0 forbids most control characters even escaped.
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD');
}

/** JUnit XML: a testsuite per file, a testcase per failing rule (failure) plus one "rows" case for the gate. */
function renderJunit(report: ValidationReport): string {
  const suites = report.files.map((f) => {
    const cases: string[] = [];
    const gate = f.passed
      ? `    <testcase classname="${xml(f.dataset)}" name="${xml(`${f.path}: gate`)}"/>`
      : `    <testcase classname="${xml(f.dataset)}" name="${xml(`${f.path}: gate`)}">\n      <failure message="${xml(
          `${f.rows_quarantined} of ${f.rows_read} rows quarantined${f.file_errors.length ? `; ${f.file_errors.map((e) => e.message).join('; ')}` : ''}`,
        )}" type="gate"/>\n    </testcase>`;
    cases.push(gate);
    for (const [rule, n] of Object.entries(f.failures_by_rule)) {
      const ex = f.examples.filter((e) => e.severity === 'error' && (e.keyword === rule || e.message.includes(`(rule ${rule})`))).slice(0, 5);
      const body = ex.map((e) => `line ${e.line}${e.field ? ` ${e.field}` : ''}: ${e.message}${e.value === null ? '' : ` (value ${JSON.stringify(e.value)})`}`).join('\n');
      cases.push(`    <testcase classname="${xml(f.dataset)}" name="${xml(`${f.path}: ${rule}`)}">\n      <failure message="${xml(`${n} row(s) fail ${rule}`)}" type="${xml(rule)}">${xml(body)}</failure>\n    </testcase>`);
    }
    for (const [rule, n] of Object.entries(f.warnings_by_rule)) {
      cases.push(`    <testcase classname="${xml(f.dataset)}" name="${xml(`${f.path}: ${rule} (warning)`)}">\n      <system-out>${xml(`${n} row(s) reported by ${rule}; not quarantined`)}</system-out>\n    </testcase>`);
    }
    const failures = (f.passed ? 0 : 1) + Object.keys(f.failures_by_rule).length;
    return `  <testsuite name="${xml(f.path)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0">\n${cases.join('\n')}\n  </testsuite>`;
  });
  const tests = report.files.reduce((n, f) => n + 1 + Object.keys(f.failures_by_rule).length + Object.keys(f.warnings_by_rule).length, 0);
  const failures = report.files.reduce((n, f) => n + (f.passed ? 0 : 1) + Object.keys(f.failures_by_rule).length, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="surgctl validate" tests="${tests}" failures="${failures}" errors="0">\n${suites.join('\n')}\n</testsuites>\n`;
}

/** GitHub annotation properties and message escaping (workflow commands). */
function ghProp(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/:/g, '%3A').replace(/,/g, '%2C');
}
function ghMsg(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function renderGithub(report: ValidationReport, cap: number): string {
  const out: string[] = [];
  let printed = 0;
  let total = 0;
  for (const f of report.files) {
    for (const e of f.file_errors) out.push(`::error file=${ghProp(f.path)},title=${ghProp(e.keyword)}::${ghMsg(e.message)}`);
    for (const e of f.examples) {
      total++;
      if (printed >= cap) continue;
      printed++;
      const level = e.severity === 'warn' ? 'warning' : 'error';
      const value = e.value === null ? '' : ` (value ${JSON.stringify(e.value)})`;
      out.push(`::${level} file=${ghProp(f.path)},line=${e.line},title=${ghProp(`${e.keyword}${e.field ? ` ${e.field}` : ''}`)}::${ghMsg(`${e.field ? `${e.field}: ` : ''}${e.message}${value}`)}`);
    }
    const summary = `${f.path}: ${f.rows_read} read, ${f.rows_valid} valid, ${f.rows_quarantined} quarantined${f.quarantine_path ? ` (${f.quarantine_path})` : ''}`;
    out.push(f.passed ? `::notice file=${ghProp(f.path)}::${ghMsg(summary)}` : `::error file=${ghProp(f.path)},title=validation gate::${ghMsg(summary)}`);
  }
  if (total > printed) out.push(`::notice::${total - printed} more annotation(s) not shown (--limit-errors ${cap}); the quarantine files hold every failing row`);
  return `${out.join('\n')}\n`;
}
