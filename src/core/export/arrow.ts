// Arrow IPC (file format, .arrow / Feather v2) from a DuckDB query: node-api has no Arrow export, so rows stream
// out a chunk at a time, each column is copied into typed buffers by hand (strings as UTF-8 bytes + offsets,
// far faster than vectorFromArray), and every ~64k rows become one RecordBatch written straight to disk.
import { closeSync, openSync, writeSync } from 'node:fs';
import {
  DuckDBTypeId,
  doubleFromDecimalValue,
  type DuckDBListType,
  type DuckDBListVector,
  type DuckDBType,
  type DuckDBValue,
  type DuckDBVector,
} from '@duckdb/node-api';
import type { Data, DataType, Field } from 'apache-arrow';
import type { Db, Params } from '../../db/db.js';
import { InterruptedError, isSurgctlError, QueryError, toIoError, type SurgctlError } from '../../errors.js';
import { jsonSafeConverter } from '../read/values.js';

type Arrow = typeof import('apache-arrow');

const BATCH_ROWS = 65_536;

class Validity {
  bits = new Uint8Array(256);
  nulls = 0;
  set(i: number, valid: boolean): void {
    const byte = i >> 3;
    if (byte >= this.bits.length) {
      const next = new Uint8Array(Math.max(this.bits.length * 2, byte + 1));
      next.set(this.bits);
      this.bits = next;
    }
    if (valid) this.bits[byte] = (this.bits[byte] ?? 0) | (1 << (i & 7));
    else this.nulls++;
  }
  take(length: number): { nullCount: number; nullBitmap?: Uint8Array } {
    const out = this.nulls === 0 ? { nullCount: 0 } : { nullCount: this.nulls, nullBitmap: this.bits.slice(0, (length + 7) >> 3) };
    this.bits = new Uint8Array(256);
    this.nulls = 0;
    return out;
  }
}

interface Builder {
  readonly type: DataType;
  length: number;
  /** Appends items [from, from + count) of a DuckDB vector. */
  append(vector: DuckDBVector, from: number, count: number): void;
  /** The built Data for everything appended since the last finish, and a reset. */
  finish(): Data;
}

type Typed = Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array | BigUint64Array;

function grow<T extends Typed>(arr: T, need: number): T {
  if (need <= arr.length) return arr;
  const Ctor = arr.constructor as new (n: number) => T;
  const next = new Ctor(Math.max(need, arr.length * 2));
  (next as unknown as { set(a: T): void }).set(arr);
  return next;
}

function fixedBuilder<T extends Typed>(
  arrow: Arrow,
  type: DataType,
  make: (n: number) => T,
  read: (value: DuckDBValue) => number | bigint,
): Builder {
  let values = make(1024);
  const validity = new Validity();
  const b: Builder = {
    type,
    length: 0,
    append(vector, from, count) {
      values = grow(values, b.length + count);
      for (let i = 0; i < count; i++) {
        const v = vector.getItem(from + i);
        const at = b.length + i;
        if (v === null) validity.set(at, false);
        else {
          validity.set(at, true);
          (values as unknown as (number | bigint)[])[at] = read(v);
        }
      }
      b.length += count;
    },
    finish() {
      const length = b.length;
      const data = arrow.makeData({ type: type as never, length, data: values.slice(0, length), ...validity.take(length) } as never) as Data;
      values = make(1024);
      b.length = 0;
      return data;
    },
  };
  return b;
}

function boolBuilder(arrow: Arrow): Builder {
  let bits = new Uint8Array(128);
  const validity = new Validity();
  const b: Builder = {
    type: new arrow.Bool(),
    length: 0,
    append(vector, from, count) {
      bits = grow(bits, ((b.length + count) >> 3) + 1);
      for (let i = 0; i < count; i++) {
        const v = vector.getItem(from + i);
        const at = b.length + i;
        validity.set(at, v !== null);
        if (v === true) bits[at >> 3] = (bits[at >> 3] ?? 0) | (1 << (at & 7));
      }
      b.length += count;
    },
    finish() {
      const length = b.length;
      const data = arrow.makeData({ type: new arrow.Bool(), length, data: bits.slice(0, (length + 7) >> 3), ...validity.take(length) });
      bits = new Uint8Array(128);
      b.length = 0;
      return data;
    },
  };
  return b;
}

function utf8Builder(arrow: Arrow, text: (value: DuckDBValue) => string): Builder {
  const encoder = new TextEncoder();
  let offsets = new Int32Array(1025);
  let bytes = new Uint8Array(1 << 16);
  let used = 0;
  const validity = new Validity();
  const b: Builder = {
    type: new arrow.Utf8(),
    length: 0,
    append(vector, from, count) {
      offsets = grow(offsets, b.length + count + 1);
      for (let i = 0; i < count; i++) {
        const v = vector.getItem(from + i);
        const at = b.length + i;
        if (v === null) validity.set(at, false);
        else {
          validity.set(at, true);
          const s = typeof v === 'string' ? v : text(v);
          // UTF-8 needs at most 3 bytes per UTF-16 code unit.
          if (used + s.length * 3 > bytes.length) bytes = grow(bytes, Math.max(bytes.length * 2, used + s.length * 3));
          used += encoder.encodeInto(s, bytes.subarray(used)).written;
        }
        offsets[at + 1] = used;
      }
      b.length += count;
    },
    finish() {
      const length = b.length;
      const data = arrow.makeData({
        type: new arrow.Utf8(),
        length,
        valueOffsets: offsets.slice(0, length + 1),
        data: bytes.slice(0, used),
        ...validity.take(length),
      });
      offsets = new Int32Array(1025);
      bytes = new Uint8Array(1 << 16);
      used = 0;
      b.length = 0;
      return data;
    },
  };
  return b;
}

function listBuilder(arrow: Arrow, child: Builder): Builder {
  let offsets = new Int32Array(1025);
  const validity = new Validity();
  const type = new arrow.List(new arrow.Field('item', child.type, true));
  const b: Builder = {
    type,
    length: 0,
    append(vector, from, count) {
      const list = vector as DuckDBListVector;
      offsets = grow(offsets, b.length + count + 1);
      for (let i = 0; i < count; i++) {
        const row = from + i;
        const at = b.length + i;
        const value = list.getItem(row);
        validity.set(at, value !== null);
        if (value !== null) {
          const len = list.getEntryLength(row);
          if (len > 0) child.append(list.childVector, list.getEntryOffset(row), len);
        }
        offsets[at + 1] = child.length;
      }
      b.length += count;
    },
    finish() {
      const length = b.length;
      const childData = child.finish();
      const data = arrow.makeData({ type, length, valueOffsets: offsets.slice(0, length + 1), child: childData, ...validity.take(length) });
      offsets = new Int32Array(1025);
      b.length = 0;
      return data;
    },
  };
  return b;
}

function jsonText(value: DuckDBValue, type: DuckDBType): string {
  const v = jsonSafeConverter(value, type, jsonSafeConverter);
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A builder for a DuckDB column type; types Arrow JS cannot take directly become UTF-8 text. */
function builderFor(arrow: Arrow, type: DuckDBType): Builder {
  const asNumber = (v: DuckDBValue) => v as number;
  const asBigint = (v: DuckDBValue) => v as bigint;
  const micros = (v: DuckDBValue) => (v as { micros: bigint }).micros;
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return boolBuilder(arrow);
    case DuckDBTypeId.TINYINT:
      return fixedBuilder(arrow, new arrow.Int8(), (n) => new Int8Array(n), asNumber);
    case DuckDBTypeId.SMALLINT:
      return fixedBuilder(arrow, new arrow.Int16(), (n) => new Int16Array(n), asNumber);
    case DuckDBTypeId.INTEGER:
      return fixedBuilder(arrow, new arrow.Int32(), (n) => new Int32Array(n), asNumber);
    case DuckDBTypeId.BIGINT:
      return fixedBuilder(arrow, new arrow.Int64(), (n) => new BigInt64Array(n), asBigint);
    case DuckDBTypeId.UTINYINT:
      return fixedBuilder(arrow, new arrow.Uint8(), (n) => new Uint8Array(n), asNumber);
    case DuckDBTypeId.USMALLINT:
      return fixedBuilder(arrow, new arrow.Uint16(), (n) => new Uint16Array(n), asNumber);
    case DuckDBTypeId.UINTEGER:
      return fixedBuilder(arrow, new arrow.Uint32(), (n) => new Uint32Array(n), asNumber);
    case DuckDBTypeId.UBIGINT:
      return fixedBuilder(arrow, new arrow.Uint64(), (n) => new BigUint64Array(n), asBigint);
    case DuckDBTypeId.FLOAT:
      return fixedBuilder(arrow, new arrow.Float32(), (n) => new Float32Array(n), asNumber);
    case DuckDBTypeId.DOUBLE:
      return fixedBuilder(arrow, new arrow.Float64(), (n) => new Float64Array(n), asNumber);
    case DuckDBTypeId.DECIMAL:
      return fixedBuilder(arrow, new arrow.Float64(), (n) => new Float64Array(n), doubleFromDecimalValue);
    case DuckDBTypeId.DATE:
      return fixedBuilder(arrow, new arrow.DateDay(), (n) => new Int32Array(n), (v) => (v as { days: number }).days);
    case DuckDBTypeId.TIMESTAMP_TZ:
      return fixedBuilder(arrow, new arrow.Timestamp(arrow.TimeUnit.MICROSECOND, 'UTC'), (n) => new BigInt64Array(n), micros);
    case DuckDBTypeId.TIMESTAMP:
      return fixedBuilder(arrow, new arrow.Timestamp(arrow.TimeUnit.MICROSECOND), (n) => new BigInt64Array(n), micros);
    case DuckDBTypeId.LIST:
      return listBuilder(arrow, builderFor(arrow, (type as DuckDBListType).valueType));
    default:
      return utf8Builder(arrow, (v) => jsonText(v, type));
  }
}

/**
 * Streams the rows of `sql` (values bound from params) into an Arrow IPC file at `path` (written as given; the
 * caller handles temporary names). Returns the row count. Throws QueryError when the query fails, InterruptedError
 * when `signal` aborts (checked between chunks).
 */
export async function writeArrowFile(db: Db, sql: string, params: Params | undefined, path: string, signal?: AbortSignal): Promise<number> {
  const arrow = await import('apache-arrow');
  let fd: number | undefined;
  const fail = (e: unknown): SurgctlError =>
    isSurgctlError(e) ? e : new QueryError((e as Error).message.split('\n')[0] ?? 'query failed', sql, params, { cause: e });
  try {
    const result = await db.stream(sql, params).catch((e: unknown) => {
      throw fail(e);
    });
    const names = result.columnNames();
    const types = result.columnTypes();
    const builders = types.map((t) => builderFor(arrow, t));
    const fields: Field[] = builders.map((b, i) => new arrow.Field(names[i] ?? `col${i}`, b.type, true));
    const schema = new arrow.Schema(fields);
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      throw toIoError(path, e, 'write');
    }
    const writer = new arrow.RecordBatchFileWriter();
    const out = fd;
    const drained = (async () => {
      for await (const bytes of writer) writeSync(out, bytes);
    })();
    let rows = 0;
    let pending = 0;
    const flush = (): void => {
      const children = builders.map((b) => b.finish());
      const data = arrow.makeData({ type: new arrow.Struct(fields), length: pending, nullCount: 0, children });
      writer.write(new arrow.RecordBatch(schema, data));
      pending = 0;
    };
    try {
      for await (const chunk of result) {
        if (signal?.aborted) throw new InterruptedError('export stopped');
        const n = chunk.rowCount;
        if (n === 0) continue;
        for (let c = 0; c < builders.length; c++) builders[c]?.append(chunk.getColumnVector(c), 0, n);
        pending += n;
        rows += n;
        if (pending >= BATCH_ROWS) flush();
      }
      // DuckDB's interrupt ends a stream as if it were done: a stream the signal reached is not whole.
      if (signal?.aborted) throw new InterruptedError('export stopped');
    } catch (e) {
      writer.abort();
      await drained.catch(() => undefined);
      throw fail(e);
    }
    if (pending > 0 || rows === 0) flush();
    writer.finish();
    writer.close();
    await drained;
    return rows;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
