// Renders a validation report: a readable table (counts per file, top failing rules with examples), JSON
// (schemas/validation-report.schema.json), JUnit XML (one test case per file: its gate) and GitHub workflow
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

/** Escapes element text: only &, < and > need it (quotes stay readable in system-out and failure bodies). */
function xmlText(s: string): string {
  return xml(s).replace(/&quot;/g, '"').replace(/&apos;/g, "'");
}

function xml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch] as string)
    // XML 1.0 forbids most control characters even escaped.
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD');
}

/**
 * JUnit XML: a testsuite per file holding one testcase, the file's gate. Only a file that failed the gate
 * (--max-invalid exceeded, or a file-level error) is a failure, so the XML agrees with the exit code; a file within
 * the allowed rate passes, with its quarantined rows (by rule, examples, the quarantine file) in its system-out.
 */
function renderJunit(report: ValidationReport): string {
  const suites = report.files.map((f) => {
    const share = f.rows_read === 0 ? 0 : (f.rows_quarantined / f.rows_read) * 100;
    const counts = `${f.rows_quarantined} of ${f.rows_read} rows quarantined (${share.toFixed(2)}%)`;
    const detail: string[] = [];
    for (const e of f.file_errors) detail.push(`file error ${e.keyword}: ${e.message}`);
    const rules = Object.entries(f.failures_by_rule);
    if (rules.length) detail.push(`failing rules: ${rules.map(([r, n]) => `${r} ${n}`).join(', ')}`);
    const warns = Object.entries(f.warnings_by_rule);
    if (warns.length) detail.push(`warnings (not quarantined): ${warns.map(([r, n]) => `${r} ${n}`).join(', ')}`);
    for (const e of f.examples) {
      detail.push(`${e.severity === 'warn' ? 'warn' : 'error'} line ${e.line}${e.field ? ` ${e.field}` : ''}: ${e.keyword} ${e.message}${e.value === null ? '' : ` (value ${JSON.stringify(e.value)})`}`);
    }
    if (f.quarantine_path) detail.push(`quarantine: ${f.quarantine_path}`);
    for (const n of f.notes) detail.push(`note: ${n}`);
    const open = `    <testcase classname="${xml(f.dataset)}" name="${xml(f.path)}">`;
    const body = f.passed
      ? `${detail.length || f.rows_quarantined ? `\n      <system-out>${xmlText([`${counts}, within --max-invalid ${report.max_invalid}`, ...detail].join('\n'))}</system-out>` : ''}`
      : `\n      <failure message="${xml(`${counts}, more than --max-invalid ${report.max_invalid}${f.file_errors.length ? `; ${f.file_errors.map((e) => e.message).join('; ')}` : ''}`)}" type="gate">${xmlText(detail.join('\n'))}</failure>`;
    const testcase = body === '' ? `    <testcase classname="${xml(f.dataset)}" name="${xml(f.path)}"/>` : `${open}${body}\n    </testcase>`;
    return `  <testsuite name="${xml(f.path)}" tests="1" failures="${f.passed ? 0 : 1}" errors="0" skipped="0">\n${testcase}\n  </testsuite>`;
  });
  const failures = report.files.filter((f) => !f.passed).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="surgctl validate" tests="${report.files.length}" failures="${failures}" errors="0">\n${suites.join('\n')}\n</testsuites>\n`;
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
