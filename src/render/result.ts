// Picks the text renderer for an output format (report, query). Binary formats (parquet, arrow) are written by
// the core and have no renderer.
import type { TextRenderer } from '../core/read/result.js';
import type { OutputFormat } from '../core/export/formats.js';
import { renderCsv } from './csv.js';
import { htmlRenderer } from './html.js';
import { renderJson, renderNdjson, renderVegaLite } from './json.js';
import { renderMarkdown } from './markdown.js';
import { tableRenderer } from './table.js';

export interface RenderOptions {
  color?: boolean | undefined;
  /** Terminal width for the table. */
  width?: number | undefined;
  /** Table rows shown at most (a TTY gets a cap; a file or pipe gets everything). */
  maxRows?: number | undefined;
  generator?: string | undefined;
}

export function rendererFor(format: OutputFormat, options: RenderOptions = {}): TextRenderer | undefined {
  switch (format) {
    case 'table':
      return tableRenderer({ color: options.color, width: options.width, maxRows: options.maxRows });
    case 'json':
      return renderJson;
    case 'ndjson':
      return renderNdjson;
    case 'csv':
      return renderCsv;
    case 'markdown':
      return renderMarkdown;
    case 'html':
      return htmlRenderer({ generator: options.generator });
    case 'vega-lite':
      return renderVegaLite;
    default:
      return undefined;
  }
}
