/**
 * Reading Arrow's buffers: validity bitmaps re-based to bit 0, 64-bit words, half floats,
 * Utf8/LargeUtf8 offsets and bytes, dictionary indices. Each turns a buffer into what the
 * columnar layout takes (`../columnar/layout.ts`), as a view where it can, else as one copy.
 * @module
 */
import type { Bitmap } from '../columnar/layout.js';
import type { ArrowData } from './schema.js';

/** `n` bits of `bitmap` starting at bit `offset`, re-based to bit 0 (a view when `offset` is a multiple of 8). */
export function rebaseBits(bitmap: Uint8Array, offset: number, n: number): Uint8Array {
  const bytes = (n + 7) >> 3;
  if ((offset & 7) === 0) return bitmap.subarray(offset >> 3, (offset >> 3) + bytes);
  const out = new Uint8Array(bytes);
  const shift = offset & 7;
  let src = offset >> 3;
  for (let k = 0; k < bytes; k++, src++) out[k] = ((bitmap[src]! >> shift) | ((bitmap[src + 1] ?? 0) << (8 - shift))) & 0xff;
  return out;
}

/** The validity of `d` re-based to bit 0, or null when every value is present. */
export function validityOf(d: ArrowData): Bitmap {
  const bm = d.nullBitmap;
  if (bm === undefined || bm === null || bm.length === 0 || d.nullCount === 0) return null;
  return rebaseBits(bm, d.offset, d.length);
}

/** Whether bit `i` of `bm` is set (null: every bit is). */
export function isValid(bm: Bitmap, i: number): boolean {
  return bm === null || (bm[i >> 3]! & (1 << (i & 7))) !== 0;
}

export type TypedArray = Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array | BigUint64Array | Float32Array | Float64Array;

/** Int32 words of a 64-bit typed array. */
export function words64(a: BigInt64Array | BigUint64Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length * 2);
}

/** Exact IEEE half to double. */
export function halfToDouble(h: number): number {
  const sign = (h & 0x8000) !== 0 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m === 0 ? sign * Infinity : NaN;
  return sign * (1024 + m) * 2 ** (e - 25);
}

/** Absolute Int32 offsets of a Utf8 / LargeUtf8 column, `rows + 1` of them. */
export function offsets32(d: ArrowData, what: () => string): Int32Array {
  const o = d.valueOffsets!;
  if (o instanceof Int32Array) return o;
  // LargeUtf8: 64-bit offsets; the layout takes 32-bit ones (a batch holds under 2 GB of text).
  const w = words64(o as BigInt64Array);
  const out = new Int32Array(o.length);
  for (let k = 0; k < o.length; k++) {
    const lo = w[2 * k]!;
    if (w[2 * k + 1] !== 0 || lo < 0) throw new Error(`${what()}: LargeUtf8 data over 2 GB in one batch is not supported`);
    out[k] = lo;
  }
  return out;
}

const kNoBytes = new Uint8Array(0);
/** The data bytes of a Utf8 / Bool column (Arrow may leave them out when there are none). */
export function bytesOf(d: ArrowData): Uint8Array {
  return (d.values as unknown as Uint8Array | undefined) ?? kNoBytes;
}

export const kUtf8 = new TextEncoder();
export const kFatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Calls `each(bytes | null)` for every value of a Utf8 / LargeUtf8 Data (null for a null). */
export function forEachUtf8(d: ArrowData, what: () => string, each: (bytes: Uint8Array | null) => void): void {
  const offs = offsets32(d, what);
  const values = bytesOf(d);
  const valid = validityOf(d);
  for (let i = 0; i < d.length; i++) each(isValid(valid, i) ? values.subarray(offs[i]!, offs[i + 1]!) : null);
}

/** Dictionary indices as Int32Array (a view when they are Int32 already). */
export function indices32(d: ArrowData, what: () => string): Int32Array {
  const v = d.values as TypedArray;
  if (v instanceof Int32Array) return v;
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
    const w = words64(v);
    const out = new Int32Array(v.length);
    for (let k = 0; k < v.length; k++) {
      const lo = w[2 * k]!;
      out[k] = w[2 * k + 1] === 0 && lo >= 0 ? lo : -1;
    }
    return out;
  }
  if (v instanceof Uint32Array) {
    const out = new Int32Array(v.length);
    for (let k = 0; k < v.length; k++) out[k] = v[k]! > 0x7fffffff ? -1 : v[k]!;
    return out;
  }
  if (ArrayBuffer.isView(v)) return new Int32Array(v as unknown as ArrayLike<number>);
  throw new Error(`${what()}: unreadable dictionary indices`);
}
