/**
 * The scratch columns of the point builder (`point-builder.ts`): a field column of one key and
 * kind (`FieldCol`: typed arrays, validity bits, UTF-8 string bytes with offsets), plus the small
 * helpers it shares with the tag column (`tag-column.ts`). What a point is, how it is checked
 * and how layouts open and close is the builder's.
 * @module
 */
import type { FieldType } from '../../types.js';
import { FieldKind, type FieldColumn } from './layout.js';

export const kFloat = FieldKind.FLOAT;
export const kInt64 = FieldKind.INT64;
export const kBool = FieldKind.BOOL;
export const kString = FieldKind.STRING;
export type Kind = typeof kFloat | typeof kInt64 | typeof kBool | typeof kString;

export const kUtf8 = new TextEncoder();
export const kNoBytes = new Uint8Array(0);
export const kNoInts = new Int32Array(0);
const kNoFloats = new Float64Array(0);
const kNoBigInts = new BigInt64Array(0);
const kNoBuffer = Buffer.alloc(0);

/** Scratch bytes for string values (never handed out: a layout gets a copy). */
function ownBuffer(bytes: number): Buffer {
  return Buffer.allocUnsafeSlow(bytes);
}

/** The map, emptied first when it holds `limit` entries (as `EscapeCache`). */
export function bounded<K, V>(map: Map<K, V>, limit: number): Map<K, V> {
  if (map.size >= limit) map.clear();
  return map;
}

// ---- columns under construction --------------------------------------------------------------
//
// Scratch columns belong to the builder, not to a layout: a column of a key (and, for fields, a
// kind) is reused by every layout that has that key, so that a layout costs no allocation but its
// own copy (one ArrayBuffer, exactly its size, made when it closes). A column's arrays cover rows
// 0 .. cap - 1 and grow when a row beyond is written (a key that comes late, or rarely, costs
// little); rows beyond `cap` have no value. Closing a layout copies its rows out and zeroes what it
// used; a column that its last layout filled sparsely lets its arrays go.

/** Fewest rows a column's arrays are made for. */
export const kMinColumnRows = 8;

export interface FieldInfo {
  /** The key, checked and escaped, UTF-8. */
  readonly key: Uint8Array;
  readonly declared: FieldType | undefined;
}

/** Whole 8-byte words for `n` bytes (every array of a layout's buffer starts 8-byte aligned). */
export function a8(n: number): number {
  return (n + 7) & ~7;
}

/** Copies `n` bytes of `src` to `dst` at `at` (a loop for a few bytes: cheaper than a view). */
export function copyBytes(dst: Uint8Array, at: number, src: Uint8Array, n: number): void {
  if (n <= 64) {
    for (let i = 0; i < n; i++) dst[at + i] = src[i]!;
  } else dst.set(n === src.length ? src : src.subarray(0, n), at);
}

/** Rows `cap` rounded up to a power of two, at least `kMinColumnRows`. */
export function capFor(rows: number): number {
  let cap = kMinColumnRows;
  while (cap < rows) cap *= 2;
  return cap;
}

export function bytesOf(a: Float64Array | BigInt64Array | Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export class FieldCol {
  readonly name: string;
  readonly key: Uint8Array;
  readonly declared: FieldType | undefined;
  readonly kind: Kind;
  /** Rows the arrays cover. */
  cap = 0;
  /** Rows with a value in the open layout. */
  count = 0;
  /** The row last written (for a rollback). */
  last = -1;
  /** Number of the layout that used it last. */
  used = -1;
  valid: Uint8Array = kNoBytes;
  f64: Float64Array = kNoFloats;
  i64: BigInt64Array = kNoBigInts;
  /** Int32 words of `i64`. */
  w32: Int32Array = kNoInts;
  /** The values as bytes (FLOAT, INT64). */
  vbytes: Uint8Array = kNoBytes;
  bits: Uint8Array = kNoBytes;
  /** STRING: `offs[0 .. upto]` are set; `bytes[0 .. len)` are used. */
  offs: Int32Array = kNoInts;
  obytes: Uint8Array = kNoBytes;
  bytes: Buffer = kNoBuffer;
  len = 0;
  upto = 0;

  constructor(name: string, info: FieldInfo, kind: Kind) {
    this.name = name;
    this.key = info.key;
    this.declared = info.declared;
    this.kind = kind;
  }

  /** Makes the arrays cover `rows` rows (keeping the rows written); returns the rows added. */
  grow(rows: number): number {
    const cap = capFor(rows);
    const old = this.cap;
    if (cap <= old) return 0;
    const valid = new Uint8Array(cap >> 3);
    valid.set(this.valid);
    this.valid = valid;
    switch (this.kind) {
      case kFloat: {
        const f64 = new Float64Array(cap);
        f64.set(this.f64);
        this.f64 = f64;
        this.vbytes = bytesOf(f64);
        break;
      }
      case kInt64: {
        const i64 = new BigInt64Array(cap);
        i64.set(this.i64);
        this.i64 = i64;
        this.w32 = new Int32Array(i64.buffer);
        this.vbytes = bytesOf(i64);
        break;
      }
      case kBool: {
        const bits = new Uint8Array(cap >> 3);
        bits.set(this.bits);
        this.bits = bits;
        break;
      }
      default: {
        const offs = new Int32Array(cap + 1);
        offs.set(this.offs);
        this.offs = offs;
        this.obytes = bytesOf(offs);
        if (this.bytes.length === 0) this.bytes = ownBuffer(Math.max(256, cap * 4));
      }
    }
    this.cap = cap;
    return cap - old;
  }

  /** Room for `n` more string bytes. */
  reserveBytes(n: number): Buffer {
    const need = this.len + n;
    if (need <= this.bytes.length) return this.bytes;
    if (need > 0x7fff_ffff) throw new RangeError('point builder: over 2 GB of string values in one layout');
    const next = ownBuffer(Math.min(0x7fff_ffff, Math.max(need, this.bytes.length * 2)));
    this.bytes.copy(next, 0, 0, this.len);
    this.bytes = next;
    return next;
  }

  /** Bytes of its copy for a layout of `rows` rows. */
  size(rows: number): number {
    const nb = (rows + 7) >> 3;
    const validity = this.count === rows ? 0 : a8(nb);
    switch (this.kind) {
      case kFloat:
      case kInt64:
        return validity + rows * 8;
      case kBool:
        return validity + a8(nb);
      default:
        return validity + a8((rows + 1) * 4) + a8(this.len);
    }
  }

  /** Copies rows `0 .. rows - 1` into `buf` from byte `at` (zeroed). */
  copy(buf: ArrayBuffer, u8: Uint8Array, at: number, rows: number): FieldColumn {
    const nb = (rows + 7) >> 3;
    const covered = Math.min(rows, this.cap);
    const coveredBytes = (covered + 7) >> 3;
    let validity: Uint8Array | null = null;
    if (this.count !== rows) {
      copyBytes(u8, at, this.valid, coveredBytes);
      validity = new Uint8Array(buf, at, nb);
      at += a8(nb);
    }
    // Object literals, not a spread of a common part: a spread takes microseconds.
    const { name, key } = this;
    switch (this.kind) {
      case kFloat:
        copyBytes(u8, at, this.vbytes, covered * 8);
        return { name, key, keyInvalid: 0, validity, kind: kFloat, values: new Float64Array(buf, at, rows) };
      case kInt64:
        copyBytes(u8, at, this.vbytes, covered * 8);
        return { name, key, keyInvalid: 0, validity, kind: kInt64, values: new BigInt64Array(buf, at, rows) };
      case kBool:
        copyBytes(u8, at, this.bits, coveredBytes);
        return { name, key, keyInvalid: 0, validity, kind: kBool, values: new Uint8Array(buf, at, nb) };
      default: {
        const upto = this.upto;
        copyBytes(u8, at, this.obytes, (upto + 1) * 4);
        const offsets = new Int32Array(buf, at, rows + 1);
        for (let u = upto + 1; u <= rows; u++) offsets[u] = this.len;
        at += a8((rows + 1) * 4);
        copyBytes(u8, at, this.bytes, this.len);
        return { name, key, keyInvalid: 0, validity, kind: kString, offsets, values: new Uint8Array(buf, at, this.len) };
      }
    }
  }

  /**
   * Rows `0 .. rows - 1` as a column whose arrays are views of this one's (no copy): valid until
   * the column is reset. Returns the column rows it had to add (a column shorter than the layout).
   */
  view(rows: number): { column: FieldColumn; grown: number } {
    const grown = this.cap < rows ? this.grow(rows) : 0;
    const nb = (rows + 7) >> 3;
    const validity = this.count === rows ? null : this.valid.subarray(0, nb);
    const { name, key } = this;
    let column: FieldColumn;
    switch (this.kind) {
      case kFloat:
        column = { name, key, keyInvalid: 0, validity, kind: kFloat, values: this.f64.subarray(0, rows) };
        break;
      case kInt64:
        column = { name, key, keyInvalid: 0, validity, kind: kInt64, values: this.i64.subarray(0, rows) };
        break;
      case kBool:
        column = { name, key, keyInvalid: 0, validity, kind: kBool, values: this.bits.subarray(0, nb) };
        break;
      default: {
        // Rows after the last value end where it ends (as the copy's offsets do).
        const offs = this.offs;
        for (let u = this.upto + 1; u <= rows; u++) offs[u] = this.len;
        column = { name, key, keyInvalid: 0, validity, kind: kString, offsets: offs.subarray(0, rows + 1), values: this.bytes.subarray(0, this.len) };
      }
    }
    return { column, grown };
  }

  /** Ready for the next layout; lets the arrays go when the last one filled them sparsely. */
  reset(rows: number): void {
    if (this.count > 0) this.valid.fill(0, 0, (Math.min(rows, this.cap) + 7) >> 3);
    if (this.cap > 64 && this.count * 8 < this.cap) this.release();
    this.count = 0;
    this.last = -1;
    this.len = 0;
    this.upto = 0;
  }

  release(): void {
    this.cap = 0;
    this.valid = kNoBytes;
    this.f64 = kNoFloats;
    this.i64 = kNoBigInts;
    this.w32 = kNoInts;
    this.vbytes = kNoBytes;
    this.bits = kNoBytes;
    this.offs = kNoInts;
    this.obytes = kNoBytes;
    this.bytes = kNoBuffer;
  }
}
