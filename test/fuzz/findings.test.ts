// What the fuzz harness found (bench/RESULTS.md, "Fuzz (issue 12)"), each shrunk counterexample kept as a regression
// case and checked by the same property as the fuzz run (checkCase: no exit 3, no stack trace, rows add up, the fast
// path, exact staging, ajv and load agree).
import { describe, it } from 'vitest';
import { loadDatasetSchema, type JsonSchema } from '../../src/core/schemas.js';
import { checkCase } from './properties.js';

const header = (dataset: string): string => loadDatasetSchema(dataset).columns.join(',');
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

const FINDINGS: { id: string; dataset: string; schema?: JsonSchema; text: string; expectedRows?: number }[] = [
  // F6: a lone CR mixed with LF (first line ends in CR, or one CR inside LF lines) was exit 3 from DuckDB.
  { id: 'F6 header ends in CR, rows in LF', dataset: 'vitals',
    text: `${header('vitals')}\r"RE-1",PA-1,heart_rate,0,%,2025-03-01T10:00:00Z\nRE-1,,heart_rate,0,%,2025-03-01T10:00:00Z` },
  { id: 'F6 one lone CR between LF lines', dataset: 'telemetry',
    text: `${header('telemetry')}\nEV-1,PR-1,PA-1,RO-1,arm_1,stapler,closure,1,2,3,,2025-03-01T10:00:00Z\rEV-2,PR-1,PA-1,RO-1,arm_1,stapler,closure,1,2,3,,2025-03-01T10:00:00Z\n` },
  // F1: CRLF then LF.
  { id: 'F1 CRLF and LF', dataset: 'procedures',
    text: `${header('procedures')}\r\nPR-1,PA-1,RO-1,SU-1,colectomy,2025-03-01T08:00:00Z,2025-03-01T10:00:00Z,completed\nPR-2,PA-1,RO-1,SU-1,colectomy,2025-03-01T08:00:00Z,2025-03-01T10:00:00Z,completed\r\n` },
  // F2: U+FEFF starting a cell (node-api's decoder used to strip it for ajv only).
  { id: 'F2 U+FEFF as a cell', dataset: 'telemetry',
    text: `${header('telemetry')}\n,PR-1,PA-1,RO-1,arm_1,needle_driver,docking,0,0,0,\uFEFF,2016-12-31T23:59:60Z` },
  // F3: a trailing delimiter on the fast path.
  { id: 'F3 trailing delimiter', dataset: 'vitals', text: `${header('vitals')}\nRE-1,PA-1,heart_rate,0,%,2016-12-31T23:59:60Z,` },
  // F4: an offset without minutes, in an Excel file (BOM, CRLF).
  { id: 'F4 +05 offset', dataset: 'procedures',
    text: `\uFEFF${header('procedures')}\r\n,PA-1,RO-1,,prostatectomy,2025-03-01T10:00:00Z,2025-03-01T10:00:00+05,` },
  // F7: a NUL byte in a data line: the exact path and ajv refuse the file (csv_binary), the fast path read it.
  { id: 'F7 NUL byte in a cell', dataset: 'telemetry',
    text: `\uFEFF${header('telemetry')}\r\nID\u00001,PR-1,PA-1,,,needle_driver,docking,0,0,0,,2025-03-01T10:00:00Z\r\nEV-1,PR-1,PA-1,RO-1,arm_1,needle_driver,DOCKING,0,0,0,,2025-03-01T10:00:00Z\r\n` },
  // F5: a blank line in a one-column file was a NULL row for the exact path, ajv and load (DuckDB reads it so), and the
  // rows after it were numbered a line early; the fast path skipped it. A blank line is not a row, on every path.
  { id: 'F5 one column, header and a blank line', dataset: 'fuzz', schema: { properties: { c0: { type: 'boolean' } } }, text: 'c0\n\n', expectedRows: 0 },
  { id: 'F5 one column, a blank line between rows', dataset: 'fuzz',
    schema: { properties: { c0: { type: 'string' } }, required: ['c0'] }, text: 'c0\na\n\nb\n', expectedRows: 2 },
  { id: 'F5 one-column built-in file with blank lines (load too)', dataset: 'patients', text: 'patient_id\nPA-1\n\n\nPA-2\n\n', expectedRows: 2 },
];

describe('fuzz findings stay fixed', () => {
  for (const f of FINDINGS) {
    it(f.id, async () => {
      await checkCase({ style: 'finding', dataset: f.dataset, schema: f.schema, bytes: bytes(f.text), expectedRows: f.expectedRows }, { load: true });
    });
  }
});
