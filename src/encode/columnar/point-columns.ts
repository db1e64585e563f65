/**
 * The scratch columns of the point builder (`point-builder.ts`): a field column of one key and
 * kind (`FieldCol`: typed arrays, validity bits, UTF-8 string bytes with offsets) and a tag column
 * of one key (`TagCol`: dictionary indices per row, and a dictionary per layout whose values are
 * checked and escaped once per column, not once per layout), plus the small helpers they share.
 * What a point is, how it is checked and how layouts open and close is the builder's.
 * @module
 */
import type { FieldType } from '../../types.js';
import { checkTagName, escapeTag } from '../escape.js';
import { pairHash } from '../line-protocol/series.js';
import { FieldKind, type FieldColumn, type TagColumn } from './layout.js';

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

/** Values a tag column remembers (their ids and escaped bytes) before it starts over, at a layout's end. */
const kMaxTagValues = 50_000;
/** Bytes of a dictionary kept from one layout to the next, at most. */
const kMaxKeptDictBytes = 1 << 20;
/** Slots of a tag column's cache of recent values, at least and at most (powers of two). */
const kMinCacheSlots = 64;
const kMaxCacheSlots = 16_384;

/**
 * Slot of a tag value in a column's cache of recent values: a few of its characters and its
 * length, no loop (values seen again are found by this slot and one string comparison, without
 * hashing the whole string as a `Map` does; a value whose slot holds another takes the `Map`).
 * The last characters weigh most: values often differ by a numeric suffix (`host-17`).
 */
function slotOf(v: string, mask: number): number {
  const n = v.length;
  if (n < 3) return (v.charCodeAt(0) + 11 * (v.charCodeAt(n - 1) + 11 * n)) & mask;
  return (v.charCodeAt(n - 1) + 11 * v.charCodeAt(n - 2) + 121 * v.charCodeAt(n - 3) + 1331 * (n + v.charCodeAt(n >> 1) + 3 * v.charCodeAt(n >> 2))) & mask;
}

/**
 * A tag column. Every value it is given gets an id, once for the column (checked and escaped
 * then; invalid values get none), kept across layouts up to `kMaxTagValues` values; a layout's
 * dictionary is the ids its rows use, in the order they came, entry 0 being the empty one (no
 * value) and entry 1 the extra tag's value when the write has one for this key (`fallback`).
 */
export class TagCol {
  readonly name: string;
  readonly key: Uint8Array;
  /** Bytes of `,key=`. */
  readonly prefix: number;
  /** Id of each value seen; the escaped bytes of each id, and the series hash of its `key=value`. */
  readonly #ids = new Map<string, number>();
  #valueBytes: Uint8Array[] = [];
  #valueHashes: number[] = [];
  /** The pair hash of each dictionary entry (entry 0: none), for the lanes (columnar/lanes.ts). */
  #entryHashes: Int32Array = new Int32Array(16);
  /** Recent values and their ids, by `slotOf`. */
  #cacheValues: (string | undefined)[] = [];
  #cacheIds: Int32Array = kNoInts;
  #mask = -1;
  /** Dictionary entry of each id in the open layout, 0 when not in it yet. */
  #entryOf: Int32Array = new Int32Array(16);
  /** Id of each dictionary entry (entry 0: none). */
  readonly #entryIds: number[] = [-1];
  /** Bytes of each dictionary entry. */
  readonly entryBytes: number[] = [0];
  /** The dictionary as the layout gets it: the entries' bytes one after the other, and where each ends. */
  #dictData: Uint8Array = new Uint8Array(64);
  #dictEnds: Int32Array = new Int32Array(16);
  dictBytes = 0;
  cap = 0;
  indices: Int32Array = kNoInts;
  ibytes: Uint8Array = kNoBytes;
  /** Rows with a value of their own (an index other than 0) in the open layout. */
  own = 0;
  used = -1;
  /** The extra tag's entry (1), or -1. */
  readonly fallback: number = -1;
  /** Bytes the fallback adds to a series key (`,key=value`), 0 without one. */
  readonly fallbackBytes: number = 0;
  readonly #fallbackValue: string | undefined;

  constructor(name: string, key: Uint8Array, fallback?: { value: string; bytes: Uint8Array }) {
    this.name = name;
    this.key = key;
    this.prefix = key.length + 2;
    this.#fallbackValue = fallback?.value;
    this.#resize(kMinCacheSlots);
    if (fallback !== undefined) {
      this.fallback = this.#addEntry(this.#newId(fallback.value, fallback.bytes));
      this.fallbackBytes = this.prefix + fallback.bytes.length;
    }
  }

  /** Entries in the open layout's dictionary (the empty one included). */
  get entries(): number {
    return this.#entryIds.length;
  }

  /** The dictionary entry of value `v` (not empty) in the open layout, added if new; -1 when `v` cannot be a tag value. */
  entry(v: string): number {
    const slot = slotOf(v, this.#mask);
    let id: number;
    if (this.#cacheValues[slot] === v) id = this.#cacheIds[slot]!;
    else {
      id = this.#idOf(v);
      if (id < 0) return -1;
      this.#cacheValues[slot] = v;
      this.#cacheIds[slot] = id;
    }
    const e = this.#entryOf[id]!;
    return e !== 0 ? e : this.#addEntry(id);
  }

  #idOf(v: string): number {
    const id = this.#ids.get(v);
    if (id !== undefined) return id;
    if (checkTagName(v) !== undefined) return -1;
    return this.#newId(v, kUtf8.encode(escapeTag(v)));
  }

  #newId(v: string, bytes: Uint8Array): number {
    const id = this.#valueBytes.length;
    this.#valueBytes.push(bytes);
    this.#valueHashes.push(pairHash(this.key, bytes));
    this.#ids.set(v, id);
    if (id >= this.#entryOf.length) {
      const entryOf = new Int32Array(this.#entryOf.length * 2);
      entryOf.set(this.#entryOf);
      this.#entryOf = entryOf;
    }
    // A cache of at least four slots per value (a few collisions), up to its largest.
    if (id * 4 > this.#mask + 1 && this.#mask + 1 < kMaxCacheSlots) this.#resize((this.#mask + 1) * 4);
    return id;
  }

  #resize(slots: number): void {
    this.#cacheValues = new Array<string | undefined>(slots).fill(undefined);
    this.#cacheIds = new Int32Array(slots);
    this.#mask = slots - 1;
  }

  #addEntry(id: number): number {
    const e = this.#entryIds.length;
    const bytes = this.#valueBytes[id]!;
    const n = bytes.length;
    const at = this.dictBytes;
    if (at + n > this.#dictData.length) {
      const data = new Uint8Array(Math.max(at + n, this.#dictData.length * 2));
      data.set(this.#dictData.subarray(0, at));
      this.#dictData = data;
    }
    copyBytes(this.#dictData, at, bytes, n);
    if (e + 1 >= this.#dictEnds.length) {
      const ends = new Int32Array(this.#dictEnds.length * 2);
      ends.set(this.#dictEnds);
      this.#dictEnds = ends;
    }
    this.#dictEnds[e + 1] = at + n;
    if (e >= this.#entryHashes.length) {
      const hashes = new Int32Array(this.#entryHashes.length * 2);
      hashes.set(this.#entryHashes);
      this.#entryHashes = hashes;
    }
    this.#entryHashes[e] = this.#valueHashes[id]!;
    this.#entryIds.push(id);
    this.entryBytes.push(n);
    this.dictBytes = at + n;
    this.#entryOf[id] = e;
    return e;
  }

  grow(rows: number): number {
    const cap = capFor(rows);
    const old = this.cap;
    if (cap <= old) return 0;
    const indices = new Int32Array(cap);
    indices.set(this.indices);
    this.indices = indices;
    this.ibytes = bytesOf(indices);
    this.cap = cap;
    return cap - old;
  }

  size(rows: number): number {
    return (this.own > 0 ? a8(rows * 4) : 0) + a8(this.dictBytes) + a8((this.#entryIds.length + 1) * 4);
  }

  copy(buf: ArrayBuffer, u8: Uint8Array, at: number, rows: number): TagColumn {
    let indices: Int32Array | null = null;
    if (this.own > 0) {
      copyBytes(u8, at, this.ibytes, Math.min(rows, this.cap) * 4);
      indices = new Int32Array(buf, at, rows);
      at += a8(rows * 4);
    }
    const n = this.#entryIds.length;
    copyBytes(u8, at, this.#dictData, this.dictBytes);
    const dictData = new Uint8Array(buf, at, this.dictBytes);
    at += a8(this.dictBytes);
    copyBytes(u8, at, new Uint8Array(this.#dictEnds.buffer, 0, (n + 1) * 4), (n + 1) * 4);
    const dictOffsets = new Int32Array(buf, at, n + 1);
    return { name: this.name, key: this.key, keyInvalid: 0, indices, validity: null, dictData, dictOffsets, dictInvalid: null, fallback: this.fallback, pairHashes: this.#entryHashes.slice(0, n) };
  }

  /** Like `copy`, as views of this column's arrays (no copy): valid until the column is reset. */
  view(rows: number): { column: TagColumn; grown: number } {
    const grown = this.own > 0 && this.cap < rows ? this.grow(rows) : 0;
    const n = this.#entryIds.length;
    return {
      column: {
        name: this.name, key: this.key, keyInvalid: 0, indices: this.own > 0 ? this.indices.subarray(0, rows) : null, validity: null,
        dictData: this.#dictData.subarray(0, this.dictBytes), dictOffsets: this.#dictEnds.subarray(0, n + 1), dictInvalid: null,
        fallback: this.fallback, pairHashes: this.#entryHashes.subarray(0, n),
      },
      grown,
    };
  }

  reset(rows: number): void {
    if (this.own > 0) this.indices.fill(0, 0, Math.min(rows, this.cap));
    if (this.cap > 64 && this.own * 8 < this.cap) {
      this.cap = 0;
      this.indices = kNoInts;
      this.ibytes = kNoBytes;
    }
    this.own = 0;
    // A dictionary no larger than the layout it served serves the next one too (its values come
    // again, most of them): unused entries cost their bytes in the copy, not a lookup per row.
    const keep = this.fallback >= 0 ? 2 : 1;
    const ids = this.#entryIds;
    if (ids.length > keep && (ids.length > rows + keep || this.dictBytes > kMaxKeptDictBytes || this.#valueBytes.length > kMaxTagValues)) {
      for (let e = keep; e < ids.length; e++) this.#entryOf[ids[e]!] = 0;
      ids.length = keep;
      this.entryBytes.length = keep;
      this.dictBytes = keep === 2 ? this.entryBytes[1]! : 0;
    }
    if (this.#valueBytes.length > kMaxTagValues) this.#forget();
  }

  /** Forgets every value but the extra tag's (id 0, entry 1). */
  #forget(): void {
    const fallbackBytes = this.fallback >= 0 ? this.#valueBytes[this.#entryIds[1]!]! : undefined;
    this.#ids.clear();
    this.#valueBytes = [];
    this.#valueHashes = [];
    this.#entryOf = new Int32Array(16);
    this.#resize(kMinCacheSlots);
    if (fallbackBytes !== undefined) {
      this.#newId(this.#fallbackValue!, fallbackBytes);
      this.#entryIds[1] = 0;
      this.#entryOf[0] = 1;
    }
  }
}
