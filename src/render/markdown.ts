// A GitHub-flavoured Markdown table (for CI job summaries and issues): numbers right-aligned, pipes escaped.
import type { TabularResult } from '../core/read/result.js';
import type { TextSink } from '../core/export/output.js';
import { cellText, isNumericKind } from './cells.js';

function escapeCell(s: string): string {
  return s.replaceAll('\\', '\\\\').replaceAll('|', '\\|').replace(/\r?\n/g, '<br>');
}

export async function renderMarkdown(result: TabularResult, sink: TextSink): Promise<number> {
  const cols = result.columns;
  sink.write(`| ${cols.map((c) => escapeCell(c.name)).join(' | ')} |\n`);
  sink.write(`|${cols.map((c) => (isNumericKind(c.kind) ? ' ---: ' : ' --- ')).join('|')}|\n`);
  let n = 0;
  for await (const batch of result.rows) {
    sink.write(batch.map((row) => `| ${cols.map((c) => escapeCell(cellText(row[c.name]))).join(' | ')} |\n`).join(''));
    n += batch.length;
  }
  return n;
}
