/**
 * Arrow columns from JS values, for the `arrow` output (arrow.ts's `SeriesConverter` and the
 * JSON-bytes parser, json-columns/): one builder per type, each walking a column once into
 * typed arrays, never through Arrow's builders (which carry timestamps as millisecond doubles);
 * and `exactInt64Values`, the exact read back of 64-bit columns. Which builder a column gets is
 * arrow-typing.ts's decision.
 */
import { Bool, type Data, type Dictionary, Float64, Int64, type Int32, Uint64, Utf8, type Vector, makeData, makeVector } from 'apache-arrow';
import { parseIsoToNs } from '../../encode/time.js';

/** One column's values (`undefined` counts as null). */
export type Column = readonly unknown[];

export const kLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
export const kTwo32 = 4294967296;

// Each builder returns `undefined` when a value does not fit the type (the caller then infers
// the type from the values).

export class Validity {
  bitmap: Uint8Array | undefined;
  nulls = 0;
  constructor(readonly length: number) {}
  clear(i: number): void {
    const b = (this.bitmap ??= new Uint8Array((this.length + 7) >> 3).fill(0xff));
    b[i >> 3]! &= ~(1 << (i & 7));
    this.nulls++;
  }
}

export function props(v: Validity): { nullCount: number; nullBitmap?: Uint8Array } {
  return v.bitmap === undefined ? { nullCount: 0 } : { nullCount: v.nulls, nullBitmap: v.bitmap };
}

export function buildFloat(col: Column, n: number, acceptBigint: boolean): Data | undefined {
  const values = new Float64Array(n);
  const valid = new Validity(n);
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if (typeof v === 'number') values[i] = v;
    else if (v === null || v === undefined) valid.clear(i);
    else if (typeof v === 'bigint' && acceptBigint) values[i] = Number(v);
    else return undefined;
  }
  return makeData({ type: new Float64(), length: n, data: values, ...props(valid) });
}

/**
 * Fills a BigInt64Array from numbers and bigints (times scaled by `mul`). Bigints are stored as
 * they are and read back to check the range (a store wraps modulo 2^64); safe integers are
 * written as two 32-bit halves, with no BigInt allocated per value.
 */
export function fillInt64(col: Column, n: number, unsigned: boolean, mul: number, isoStrings: boolean): { values: BigInt64Array; valid: Validity } | undefined {
  const values = new BigInt64Array(n);
  const store: BigInt64Array | BigUint64Array = unsigned ? new BigUint64Array(values.buffer) : values;
  const words = kLittleEndian ? new Int32Array(values.buffer) : undefined;
  const valid = new Validity(n);
  const bigMul = BigInt(mul);
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if (typeof v === 'bigint') {
      const b = mul === 1 ? v : v * bigMul;
      store[i] = b;
      if (store[i] !== b) return undefined;
    } else if (typeof v === 'number') {
      const x = v * mul;
      if (words !== undefined && (x | 0) === x && (x >= 0 || !unsigned)) {
        words[2 * i] = x;
        words[2 * i + 1] = x >> 31;
      } else if (words !== undefined && Number.isSafeInteger(x) && (x >= 0 || !unsigned)) {
        const h = Math.floor(x / kTwo32);
        words[2 * i] = (x - h * kTwo32) | 0;
        words[2 * i + 1] = h;
      } else if (Number.isInteger(v)) {
        // Beyond 2^53 a number is one JSON wrote with an exponent: exact as a double, in range or not.
        const b = BigInt(v) * bigMul;
        store[i] = b;
        if (store[i] !== b) return undefined;
      } else {
        return undefined;
      }
    } else if (v === null || v === undefined) {
      valid.clear(i);
    } else if (typeof v === 'string' && isoStrings) {
      const ns = parseIsoToNs(v);
      if (typeof ns === 'string') return undefined;
      values[i] = ns;
    } else {
      return undefined;
    }
  }
  return { values, valid };
}

export function buildInt64(col: Column, n: number, unsigned = false): Data | undefined {
  const filled = fillInt64(col, n, unsigned, 1, false);
  if (filled === undefined) return undefined;
  // A Uint64 column is filled as int64 bit patterns: the same bytes.
  if (unsigned) return makeData({ type: new Uint64(), length: n, data: new BigUint64Array(filled.values.buffer), ...props(filled.valid) });
  return makeData({ type: new Int64(), length: n, data: filled.values, ...props(filled.valid) });
}

/** `bytes` with room for `need` bytes from `pos` (doubled at least), the first `pos` kept. */
function roomFor(bytes: Uint8Array<ArrayBuffer>, pos: number, need: number): Uint8Array<ArrayBuffer> {
  if (pos + need <= bytes.length) return bytes;
  const grown = new Uint8Array(Math.max(bytes.length * 2, pos + need));
  grown.set(bytes.subarray(0, pos));
  return grown;
}

export function buildUtf8(col: Column, n: number, stringify: boolean): Data | undefined {
  const offsets = new Int32Array(n + 1);
  const valid = new Validity(n);
  let bytes = new Uint8Array(Math.max(64, n * 8));
  // Optimistic ASCII: characters copied straight into the bytes until a row has a non-ASCII one;
  // from that row on, strings are encoded one by one through `buf` (a lone surrogate becomes
  // U+FFFD, 3 bytes, as Buffer.byteLength counts it).
  let buf: Buffer | undefined;
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const v = col[i];
    let s: string;
    if (typeof v === 'string') s = v;
    else if (v === null || v === undefined) {
      valid.clear(i);
      offsets[i + 1] = pos;
      continue;
    } else if (stringify) s = String(v);
    else return undefined;
    if (buf === undefined) {
      const len = s.length;
      bytes = roomFor(bytes, pos, len);
      let j = 0;
      for (; j < len; j++) {
        const code = s.charCodeAt(j);
        if (code > 0x7f) break;
        bytes[pos + j] = code;
      }
      if (j === len) {
        pos += len;
        offsets[i + 1] = pos;
        continue;
      }
      buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    const len = Buffer.byteLength(s, 'utf8');
    const room = roomFor(bytes, pos, len);
    if (room !== bytes) {
      bytes = room;
      buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    buf.write(s, pos, len, 'utf8');
    pos += len;
    offsets[i + 1] = pos;
  }
  return makeData({ type: new Utf8(), length: n, data: bytes.subarray(0, pos), valueOffsets: offsets, ...props(valid) });
}

export function utf8Vector(values: string[]): Vector<Utf8> {
  return makeVector(buildUtf8(values, values.length, false) as Data<Utf8>);
}

export function buildDictionary(col: Column, n: number, type: Dictionary<Utf8, Int32>): Data | undefined {
  const indices = new Int32Array(n);
  const valid = new Validity(n);
  const seen = new Map<string, number>();
  const values: string[] = [];
  let last: string | undefined;
  let lastIndex = 0;
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if (typeof v === 'string') {
      if (v !== last) {
        let k = seen.get(v);
        if (k === undefined) {
          k = values.length;
          seen.set(v, k);
          values.push(v);
        }
        last = v;
        lastIndex = k;
      }
      indices[i] = lastIndex;
    } else if (v === null || v === undefined) {
      valid.clear(i);
    } else {
      return undefined;
    }
  }
  return makeData({ type, length: n, data: indices, dictionary: utf8Vector(values), ...props(valid) });
}

export function buildBool(col: Column, n: number): Data | undefined {
  const bits = new Uint8Array((n + 7) >> 3);
  const valid = new Validity(n);
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if (v === true) bits[i >> 3]! |= 1 << (i & 7);
    else if (v === null || v === undefined) valid.clear(i);
    else if (v !== false) return undefined;
  }
  return makeData({ type: new Bool(), length: n, data: bits, ...props(valid) });
}

/**
 * The exact 64-bit values of an Int64, Uint64 or Timestamp column, all chunks together (a view
 * when there is one chunk). Arrow's `get()` returns timestamps as millisecond doubles; this
 * reads the int64 buffers instead. Null slots hold 0: check `vector.isValid(i)`.
 */
export function exactInt64Values(vector: Vector): BigInt64Array | BigUint64Array {
  const parts = vector.data.map((d) => {
    const v = d.values as unknown;
    if (!(v instanceof BigInt64Array) && !(v instanceof BigUint64Array)) throw new TypeError(`not a 64-bit integer column: ${String(vector.type)}`);
    return v.subarray(d.offset, d.offset + d.length);
  });
  if (parts.length === 1) return parts[0]!;
  const out = parts[0] instanceof BigUint64Array ? new BigUint64Array(vector.length) : new BigInt64Array(vector.length);
  let pos = 0;
  for (const p of parts) {
    out.set(p as never, pos);
    pos += p.length;
  }
  return out;
}
