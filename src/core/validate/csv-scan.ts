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
  /** DuckDB line numbers (header = 1) of blank lines after the header, ascending. A blank line is not a row: DuckDB
   * skips it in a file of several columns; in a one-column file it reads a NULL row, which stageCsv drops. */
  blankLines: number[];
  /** Where quoted newlines shift physical lines away from DuckDB's numbering, ascending by d. */
  shifts: LineShift[];
  /** A quoted field was still open at the end of the file. */
  openQuoteAtEnd: boolean;
  /** Record terminators outside quotes, by kind (a file written by two tools can mix them). */
  terminators: { lf: number; crlf: number; cr: number };
  /** Why the file is not UTF-8 text, from its first bytes (a UTF-16/32 BOM, a NUL byte, a binary format's magic
   * bytes, invalid UTF-8 in the header line); undefined for a text file. */
  notText: NotText | undefined;
}

export interface NotText {
  keyword: 'csv_utf16' | 'csv_utf32' | 'csv_binary' | 'csv_invalid_utf8';
  message: string;
}

/** Whether the record terminators outside quotes are of more than one kind (e.g. CRLF, then LF). */
export function mixesLineEndings(scan: CsvScan): boolean {
  const t = scan.terminators;
  return [t.lf, t.crlf, t.cr].filter((n) => n > 0).length > 1;
}

/** Byte offset of the first invalid UTF-8 sequence in buf, or -1. With `partial`, a sequence cut off at the end of
 * buf is not counted (more bytes follow). */
export function firstInvalidUtf8(buf: Uint8Array, partial = false): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) [n, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [n, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [n, min] = [3, 0x10000];
    else return i;
    if (i + n >= buf.length) return partial ? -1 : i;
    let cp = b & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const c = buf[i + k] as number;
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

const MAGIC: [number[], string][] = [
  [[0x50, 0x41, 0x52, 0x31], 'a Parquet file'],
  [[0x50, 0x4b, 0x03, 0x04], 'a ZIP archive (an Excel .xlsx workbook is one)'],
  [[0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
  [[0x25, 0x50, 0x44, 0x46], 'a PDF document'],
  [[0xd0, 0xcf, 0x11, 0xe0], 'an old Excel/Office document'],
  [[0x1f, 0x8b], 'gzip data'],
];

const SNIFF_BYTES = 1 << 16;

/** Tells from the first bytes of a file (up to 64 KiB) whether it is UTF-8 text; see CsvScan.notText. */
export function sniffText(head: Buffer): NotText | undefined {
  const starts = (bytes: number[]): boolean => bytes.every((b, i) => head[i] === b);
  if (starts([0xff, 0xfe, 0x00, 0x00]) || starts([0x00, 0x00, 0xfe, 0xff])) {
    return { keyword: 'csv_utf32', message: 'the file is UTF-32 text (it starts with a UTF-32 byte order mark); surgctl reads UTF-8' };
  }
  if (starts([0xff, 0xfe]) || starts([0xfe, 0xff])) {
    return { keyword: 'csv_utf16', message: 'the file is UTF-16 text (it starts with a UTF-16 byte order mark); surgctl reads UTF-8' };
  }
  for (const [bytes, what] of MAGIC) {
    if (starts(bytes)) return { keyword: 'csv_binary', message: `the file is ${what}, not CSV text` };
  }
  const sample = head.subarray(0, SNIFF_BYTES);
  const nul = sample.indexOf(0);
  if (nul !== -1) {
    return { keyword: 'csv_binary', message: `the file is binary, not CSV text: a NUL byte at byte offset ${nul} (line ${lineAt(sample, nul)})` };
  }
  let headerEnd = sample.indexOf(0x0a);
  if (headerEnd === -1) headerEnd = sample.length;
  const cr = sample.subarray(0, headerEnd).indexOf(0x0d);
  if (cr !== -1) headerEnd = cr;
  const bad = firstInvalidUtf8(sample.subarray(0, headerEnd), headerEnd === SNIFF_BYTES);
  if (bad !== -1) {
    return { keyword: 'csv_invalid_utf8', message: `the header line is not valid UTF-8: byte 0x${(sample[bad] as number).toString(16).padStart(2, '0')} at byte offset ${bad} (line 1)` };
  }
  return undefined;
}

function lineAt(buf: Buffer, offset: number): number {
  let line = 1;
  for (let i = buf.indexOf(0x0a); i !== -1 && i < offset; i = buf.indexOf(0x0a, i + 1)) line++;
  return line;
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
  const terminators = { lf: 0, crlf: 0, cr: 0 };
  const headParts: Buffer[] = [];
  let headLen = 0;

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
          terminators.crlf++;
          if (newline === 'CR') newline = 'CRLF';
          continue;
        }
        terminators.cr++;
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
        else terminators.lf++;
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
    // Every LF, CRLF and lone CR ends a record, whatever the first line ended with: DuckDB does, and a file that
    // mixes them must be seen as mixed (it is then read from an LF copy). The next CR and LF are found once each.
    const next = (byte: number, at: number): number => {
      const j = buf.indexOf(byte, at);
      return j === -1 ? buf.length : j;
    };
    let lf = -1;
    let cr = -1;
    while (i < to) {
      if (crPending) {
        crPending = false;
        if (buf[i] === LF) {
          terminators.crlf++;
          if (newline === 'CR') newline = 'CRLF';
          i++;
          continue;
        }
        terminators.cr++;
      }
      if (lf < i) lf = next(LF, i);
      if (cr < i) cr = next(CR, i);
      const j = Math.min(lf, cr);
      if (j >= to) {
        lineHasContent = true;
        return;
      }
      if (j > i) lineHasContent = true;
      if (buf[j] === CR) {
        // Counted when the next byte is seen (CRLF or a lone CR), maybe in the next chunk.
        if (newline === 'none') newline = 'CR';
        crPending = true;
      } else {
        if (newline === 'none') newline = 'LF';
        terminators.lf++;
      }
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
        if (headLen < SNIFF_BYTES) {
          headParts.push(c.subarray(0, SNIFF_BYTES - headLen));
          headLen += Math.min(c.length, SNIFF_BYTES - headLen);
        }
        feed(c);
      });
      stream.on('end', () => resolveP());
    });
  } catch (e) {
    throw toIoError(path, e, 'read');
  }
  if (crPending) terminators.cr++;
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
    terminators,
    notText: sniffText(Buffer.concat(headParts)),
  };
}

/**
 * Writes a copy of a CSV file (plain or .gz) to `out` with every record terminator outside quotes (CRLF, LF or a lone
 * CR) as LF; bytes inside quoted fields are kept. Line counts do not change, so line numbers stay the same. For files
 * that mix line endings, which DuckDB's CSV reader refuses. Streaming; throws IoError.
 */
export async function writeLfCopy(path: string, out: string, options: { delimiter: string; gzip: boolean; quoting?: boolean }): Promise<void> {
  const { Transform } = await import('node:stream');
  const { pipeline } = await import('node:stream/promises');
  const { createWriteStream } = await import('node:fs');
  const delim = options.delimiter.charCodeAt(0);
  const quoting = options.quoting !== false;
  let inQuotes = false;
  let quotePending = false;
  let atFieldStart = true;
  let crPending = false;
  let offset = 0;
  const BOM = [0xef, 0xbb, 0xbf];
  const normalise = new Transform({
    transform(chunk: Buffer, _enc, done) {
      const o = Buffer.allocUnsafe(chunk.length + 1);
      let n = 0;
      for (let i = 0; i < chunk.length; i++, offset++) {
        const b = chunk[i] as number;
        if (offset < 3 && BOM[offset] === b) {
          o[n++] = b;
          continue;
        }
        if (crPending) {
          crPending = false;
          if (b === LF) continue;
        }
        if (quotePending) {
          quotePending = false;
          if (b === QUOTE) {
            o[n++] = b;
            continue;
          }
          inQuotes = false;
        }
        if (inQuotes) {
          if (b === QUOTE) quotePending = true;
          o[n++] = b;
          continue;
        }
        if (b === CR || b === LF) {
          o[n++] = LF;
          crPending = b === CR;
          atFieldStart = true;
          continue;
        }
        if (b === QUOTE && atFieldStart && quoting) inQuotes = true;
        atFieldStart = b === delim;
        o[n++] = b;
      }
      done(null, o.subarray(0, n));
    },
  });
  try {
    const raw = createReadStream(path, { highWaterMark: 1 << 20 });
    await (options.gzip ? pipeline(raw, createGunzip(), normalise, createWriteStream(out)) : pipeline(raw, normalise, createWriteStream(out)));
  } catch (e) {
    throw toIoError(path, e, 'read');
  }
}
