// A streaming byte pre-scan of a CSV file (plain or .gz): BOM, header fields, delimiter, line ending, and the map
// from DuckDB's line numbers (records and blank lines; quoted newlines not counted) to physical lines. DuckDB does
// the parsing and the checks; this scan only counts, so memory stays bounded whatever the file size.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { toIoError } from '../../errors.js';

export interface LineShift {
  /** From this DuckDB line number on ... */
  d: number;
  /** ... the physical line is d + delta (delta = quoted newlines seen before). */
  delta: number;
}

export interface CsvScan {
  /** Decompressed size in bytes. */
  bytes: number;
  bom: boolean;
  /** The file holds no header at all (zero bytes, or only a BOM / blank lines). */
  empty: boolean;
  delimiter: string;
  newline: 'LF' | 'CRLF' | 'CR' | 'none';
  /** Header fields as written (BOM stripped, quotes removed). */
  header: string[];
  /** Data records after the header, not counting blank lines. */
  records: number;
  /** DuckDB line numbers (header = 1) of blank lines after the header, ascending. DuckDB skips them. */
  blankLines: number[];
  /** Where quoted newlines shift physical lines away from DuckDB's numbering, ascending by d. */
  shifts: LineShift[];
  /** A quoted field was still open at the end of the file. */
  openQuoteAtEnd: boolean;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const HEADER_CAP = 1 << 20;

/** Picks the delimiter among , ; TAB | by which occurs most often in the header line (outside quotes); ',' on a tie. */
export function sniffDelimiter(headerLine: string): string {
  const counts = new Map<string, number>([[',', 0], ['\t', 0], [';', 0], ['|', 0]]);
  let inQ = false;
  for (const ch of headerLine) {
    if (ch === '"') inQ = !inQ;
    else if (!inQ && counts.has(ch)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  let best = ',';
  for (const [ch, n] of counts) if (n > (counts.get(best) ?? 0)) best = ch;
  return best;
}

/** Splits one CSV record (the header) into fields, RFC 4180 quoting with "" as an escaped quote. */
export function parseCsvRecord(text: string, delimiter: string): string[] {
  const out: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let atStart = true;
  while (i < text.length) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += ch;
    } else if (ch === '"' && atStart) {
      quoted = true;
      atStart = false;
    } else if (ch === delimiter) {
      out.push(field);
      field = '';
      atStart = true;
      i++;
      continue;
    } else {
      field += ch;
      atStart = false;
    }
    i++;
  }
  out.push(field);
  return out;
}

/**
 * Scans `path` once. `delimiter` overrides sniffing. Throws IoError when the file cannot be read or is not gzip
 * although named .gz.
 */
export async function scanCsv(
  path: string,
  options: { delimiter?: string | undefined; gzip?: boolean; header?: boolean; quoting?: boolean } = {},
): Promise<CsvScan> {
  const quoting = options.quoting !== false;
  const gzip = options.gzip ?? /\.gz$/i.test(path);
  let delim = options.delimiter === undefined ? -1 : options.delimiter.charCodeAt(0);
  let bytes = 0;
  let first = true;
  let bom = false;
  // Header capture.
  let inHeader = options.header !== false;
  const headerParts: Buffer[] = [];
  let headerLen = 0;
  let headerBytes: Buffer | undefined;
  let sawAnyHeaderByte = false;
  let headerEnded = false;
  // Record state.
  let inQuotes = false;
  let quotePending = false; // saw a quote inside quotes; the next byte decides (escaped quote or end of quotes)
  let atFieldStart = true;
  let lineHasContent = false;
  let crPending = false; // last byte was CR outside quotes (a following LF belongs to it)
  let crInQuotes = false;
  let d = 1; // DuckDB line number of the current record (header, when there is one, = 1)
  let embedded = 0;
  let delta = 0;
  let records = 0;
  let newline: CsvScan['newline'] = 'none';
  const blankLines: number[] = [];
  const shifts: LineShift[] = [];

  const endRecord = (): void => {
    if (inHeader) {
      inHeader = false;
      if (!lineHasContent && !sawAnyHeaderByte) {
        // Blank lines before the header: DuckDB skips them too; keep waiting for the header.
        inHeader = true;
        return;
      }
      headerEnded = true;
    } else if (!lineHasContent) {
      blankLines.push(d);
    } else {
      records++;
    }
    d++;
    if (embedded > 0) {
      delta += embedded;
      embedded = 0;
      shifts.push({ d, delta });
    }
    atFieldStart = true;
    lineHasContent = false;
  };

  const processSlow = (buf: Buffer, from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const b = buf[i] as number;
      if (crPending) {
        crPending = false;
        if (b === LF) {
          if (newline === 'CR') newline = 'CRLF';
          continue;
        }
      }
      if (crInQuotes) {
        crInQuotes = false;
        if (b === LF) continue;
      }
      if (quotePending) {
        quotePending = false;
        if (b === QUOTE) continue; // escaped quote, still inside
        inQuotes = false;
      }
      if (inQuotes) {
        if (b === QUOTE) quotePending = true;
        else if (b === LF) embedded++;
        else if (b === CR) {
          embedded++;
          crInQuotes = true;
        }
        continue;
      }
      if (b === LF || b === CR) {
        if (newline === 'none') newline = b === LF ? 'LF' : 'CR';
        if (b === CR) crPending = true;
        endRecord();
        continue;
      }
      if (inHeader) sawAnyHeaderByte = true;
      lineHasContent = true;
      if (b === QUOTE && atFieldStart) {
        inQuotes = true;
        atFieldStart = false;
      } else if (b === delim) atFieldStart = true;
      else atFieldStart = false;
    }
  };

  // Fast path for a stretch with no quote character and no open quote: only newlines matter.
  const processFast = (buf: Buffer, from: number, to: number): void => {
    processFastInner(buf, from, to);
    if (to > from && !inQuotes) {
      const lastByte = buf[to - 1];
      atFieldStart = lastByte === delim || lastByte === LF || lastByte === CR;
    }
  };
  const processFastInner = (buf: Buffer, from: number, to: number): void => {
    let i = from;
    if (crPending) {
      crPending = false;
      if (buf[i] === LF && i < to) {
        if (newline === 'CR') newline = 'CRLF';
        i++;
      }
    }
    const term = newline === 'CR' ? CR : LF;
    while (i < to) {
      const j = buf.indexOf(term, i);
      if (j === -1 || j >= to) {
        if (to > i) {
          // A lone CR at the very end of the stretch may pair with an LF in the next chunk.
          const last = to - 1;
          if (term === LF && buf[last] === CR) {
            if (last > i) lineHasContent = true;
            // Treat as content-less CR: when LF follows, it is CRLF; handled by the slow path if not.
            processSlow(buf, last, to);
          } else lineHasContent = true;
        }
        return;
      }
      let contentEnd = j;
      if (term === LF && j > i && buf[j - 1] === CR) contentEnd = j - 1;
      if (contentEnd > i) lineHasContent = true;
      if (newline === 'none') newline = contentEnd < j ? 'CRLF' : 'LF';
      endRecord();
      i = j + 1;
    }
  };

  const feed = (chunk: Buffer): void => {
    let start = 0;
    if (first) {
      first = false;
      if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
        bom = true;
        start = 3;
      }
    }
    let i = start;
    while (i < chunk.length) {
      if (inHeader) {
        // Scan the header byte by byte (it is short), capturing its bytes.
        const begin = i;
        while (i < chunk.length && inHeader) {
          processSlow(chunk, i, i + 1);
          i++;
        }
        const part = chunk.subarray(begin, i);
        if (headerLen < HEADER_CAP) {
          headerParts.push(Buffer.from(part));
          headerLen += part.length;
        }
        if (headerEnded) {
          headerEnded = false;
          headerBytes = Buffer.concat(headerParts);
          headerParts.length = 0;
        }
        if (!inHeader && delim === -1) {
          const text = (headerBytes ?? Buffer.alloc(0)).toString('utf8').replace(/[\r\n]+$/, '');
          delim = sniffDelimiter(text).charCodeAt(0);
        }
        continue;
      }
      if (inQuotes || quotePending || crInQuotes) {
        // Finish the open quoted field byte by byte up to the next quote-free stretch.
        const q = chunk.indexOf(QUOTE, i);
        const stop = q === -1 ? chunk.length : q + 2 <= chunk.length ? q + 2 : chunk.length;
        processSlow(chunk, i, stop);
        i = stop;
        continue;
      }
      const q = quoting ? chunk.indexOf(QUOTE, i) : -1;
      if (q === -1) {
        processFast(chunk, i, chunk.length);
        return;
      }
      // Up to the line start before the quote, fast; from there, slow until the quote is closed.
      let lineStart = q;
      while (lineStart > i && chunk[lineStart - 1] !== LF && chunk[lineStart - 1] !== CR) lineStart--;
      if (lineStart > i) processFast(chunk, i, lineStart);
      processSlow(chunk, lineStart, q + 1);
      i = q + 1;
    }
  };

  try {
    const raw = createReadStream(path, { highWaterMark: 1 << 20 });
    const stream = gzip ? raw.pipe(createGunzip()) : raw;
    await new Promise<void>((resolveP, reject) => {
      raw.on('error', reject);
      stream.on('error', reject);
      stream.on('data', (c: Buffer) => {
        bytes += c.length;
        feed(c);
      });
      stream.on('end', () => resolveP());
    });
  } catch (e) {
    throw toIoError(path, e, 'read');
  }
  const openQuoteAtEnd = inQuotes && !quotePending;
  if (quotePending) inQuotes = false;
  // The last record may lack a terminator.
  if (inHeader) {
    if (sawAnyHeaderByte) {
      headerBytes = Buffer.concat(headerParts);
      inHeader = false;
    }
  } else if (lineHasContent || inQuotes) {
    records++;
  }
  const empty = options.header === false ? bytes === 0 || records === 0 : headerBytes === undefined;
  const headerText = headerBytes === undefined ? '' : headerBytes.toString('utf8').replace(/[\r\n]+$/, '');
  if (delim === -1) delim = sniffDelimiter(headerText).charCodeAt(0);
  const delimiter = String.fromCharCode(delim);
  return {
    bytes,
    bom,
    empty,
    delimiter,
    newline,
    header: headerBytes === undefined ? [] : parseCsvRecord(headerText, delimiter),
    records,
    blankLines,
    shifts,
    openQuoteAtEnd,
  };
}
