/**
 * Column sinks: the typed storage of one column of one series, grown as rows come (int64 words,
 * Float64, Utf8 bytes and offsets, tag dictionaries hashed over their bytes, bits, nulls), and
 * the Arrow data they end as; `Speculative`, an undeclared column as read.
 */
import { Bool, type Data, Float64, Int64, TimeUnit, Timestamp, Utf8, makeData, makeVector } from 'apache-arrow';
import type { ColumnTyper, Kind } from '../arrow-typing.js';
import { mixHash } from './escapes.js';
import { asBuffer } from './scanner.js';
import { copyI32, copyU8, kSmallRows, type Slab } from './slab.js';

/** What a sink holds: a declared type's storage, generic values, or an undeclared column read speculatively. */
export const enum K {
  GENERIC = 0,
  TIME = 1,
  INT = 2,
  FLOAT = 3,
  STRING = 4,
  TAG = 5,
  BOOL = 6,
  /** An undeclared column before its first value: it becomes NUMBERS, STRINGS or GENERIC. */
  UNDECIDED = 7,
  /** An undeclared column of numbers (never a bigint) and nulls: typed when the statement ends. */
  NUMBERS = 8,
  /** An undeclared column of strings (no lone surrogate) and nulls: typed when the statement ends. */
  STRINGS = 9,
}

export function kindCode(kind: Kind | undefined): K {
  switch (kind) {
    case 'time': return K.TIME;
    case 'integer': return K.INT;
    case 'float': return K.FLOAT;
    case 'string': return K.STRING;
    case 'tag': return K.TAG;
    case 'boolean': return K.BOOL;
    default: return K.GENERIC;
  }
}

function growU8(a: Uint8Array, size: number): Uint8Array {
  const g = new Uint8Array(size);
  g.set(a);
  return g;
}

function growI32(a: Int32Array, size: number): Int32Array {
  const g = new Int32Array(size);
  g.set(a);
  return g;
}

const EMPTY_U8 = new Uint8Array(0);
const EMPTY_I32 = new Int32Array(0);
const EMPTY_F64 = new Float64Array(0);

export class Speculative {
  constructor(
    readonly n: number,
    readonly nulls: number,
    /** Arrow validity (1 = valid), undefined without nulls. */
    readonly nullBitmap: Uint8Array | undefined,
    /** Numbers: the values (0 at nulls). */
    readonly f64: Float64Array,
    /** Strings: the UTF-8 bytes and offsets. */
    readonly bytes: Uint8Array,
    readonly offsets: Int32Array,
  ) {}

  get strings(): boolean {
    return this.offsets.length > 0;
  }

  valid(i: number): boolean {
    return this.nullBitmap === undefined || (this.nullBitmap[i >> 3]! & (1 << (i & 7))) !== 0;
  }

  /** The generic values. */
  values(): unknown[] {
    const out = new Array<unknown>(this.n);
    const buf = asBuffer(this.bytes);
    for (let i = 0; i < this.n; i++) {
      if (!this.valid(i)) out[i] = null;
      else out[i] = this.strings ? buf.toString('utf8', this.offsets[i]!, this.offsets[i + 1]!) : this.f64[i];
    }
    return out;
  }

  validity(): { nullCount: number; nullBitmap?: Uint8Array } {
    return this.nullBitmap === undefined ? { nullCount: 0 } : { nullCount: this.nulls, nullBitmap: this.nullBitmap };
  }
}

/** What a sink's data is finished with: the converter's time type, dictionary types and slab. */
type SinkOwner = Pick<ColumnTyper, 'timeType' | 'dictType'> & { readonly slab: Slab };

export class Sink {
  kind: number;
  cap = 0;
  nulls = 0;
  /** 1 bit per row, set for a null (allocated at the first null). */
  nullBits: Uint8Array = EMPTY_U8;
  /** time / integer: two 32-bit words per row (little-endian int64). */
  words: Int32Array = EMPTY_I32;
  /** time with ISO strings: the same buffer as `words`. */
  iso = false;
  f64: Float64Array = EMPTY_F64;
  /** tag: dictionary indices. string: offsets (cap + 1). */
  ints: Int32Array = EMPTY_I32;
  /** string: the UTF-8 bytes; tag: the dictionary's bytes, entries one after the other. */
  bytes: Uint8Array = EMPTY_U8;
  pos = 0;
  /** boolean: 1 bit per row. */
  bits: Uint8Array = EMPTY_U8;
  // tag dictionary: open addressing over entry numbers + 1.
  table: Int32Array = EMPTY_I32;
  count = 0;
  entStart: Int32Array = EMPTY_I32;
  entHash: Int32Array = EMPTY_I32;
  generic: unknown[] = [];

  constructor(kind: number) {
    this.kind = kind;
    if (kind === K.TAG) {
      this.table = new Int32Array(64);
      this.entStart = new Int32Array(33);
      this.entHash = new Int32Array(32);
      this.bytes = new Uint8Array(256);
    } else if (kind === K.STRING) {
      this.ints = new Int32Array(1);
      this.bytes = new Uint8Array(256);
    }
  }

  grow(cap: number): void {
    if (this.nullBits.length > 0) this.nullBits = growU8(this.nullBits, (cap + 7) >> 3);
    switch (this.kind) {
      case K.TIME:
      case K.INT: this.words = growI32(this.words, 2 * cap); break;
      case K.FLOAT:
      case K.NUMBERS: {
        const g = new Float64Array(cap);
        g.set(this.f64);
        this.f64 = g;
        break;
      }
      case K.STRING:
      case K.STRINGS: this.ints = growI32(this.ints, cap + 1); break;
      case K.TAG: this.ints = growI32(this.ints, cap); break;
      case K.BOOL: this.bits = growU8(this.bits, (cap + 7) >> 3); break;
      default: break;
    }
    this.cap = cap;
  }

  setNull(r: number): void {
    if (this.kind === K.GENERIC) {
      this.generic.push(null);
      return;
    }
    if (this.nullBits.length === 0) this.nullBits = new Uint8Array((this.cap + 7) >> 3);
    this.nullBits[r >> 3]! |= 1 << (r & 7);
    this.nulls++;
    if (this.kind === K.STRING || this.kind === K.STRINGS) this.ints[r + 1] = this.pos;
  }

  /** An undecided column's first value is a number (true) or a string (false). */
  decide(numbers: boolean): void {
    if (numbers) {
      this.kind = K.NUMBERS;
      this.f64 = new Float64Array(this.cap);
    } else {
      this.kind = K.STRINGS;
      this.ints = new Int32Array(this.cap + 1);
      this.bytes = new Uint8Array(256);
    }
  }

  /** A speculative column meets a value it cannot hold: its first `r` rows become generic values. */
  toGeneric(r: number): void {
    const out = new Array<unknown>(r);
    const nb = this.nullBits;
    const isNull = (i: number): boolean => nb.length > 0 && (nb[i >> 3]! & (1 << (i & 7))) !== 0;
    for (let i = 0; i < r; i++) {
      if (this.kind === K.UNDECIDED || isNull(i)) out[i] = null;
      else if (this.kind === K.NUMBERS) out[i] = this.f64[i];
      else out[i] = asBuffer(this.bytes).toString('utf8', this.ints[i]!, this.ints[i + 1]!);
    }
    this.generic = out;
    this.kind = K.GENERIC;
  }

  /** A K.NUMBERS / K.STRINGS column as read (`n` rows). */
  speculative(n: number): Speculative {
    let nullBitmap: Uint8Array | undefined;
    if (this.nulls > 0) {
      nullBitmap = new Uint8Array((n + 7) >> 3);
      for (let j = 0; j < nullBitmap.length; j++) nullBitmap[j] = ~this.nullBits[j]!;
    }
    if (this.kind === K.NUMBERS) return new Speculative(n, this.nulls, nullBitmap, this.f64.slice(0, n), EMPTY_U8, EMPTY_I32);
    return new Speculative(n, this.nulls, nullBitmap, EMPTY_F64, this.bytes.slice(0, this.pos), this.ints.slice(0, n + 1));
  }

  /** A cell the row does not have (a short row): `undefined` in a generic column, else null. */
  setMissing(r: number): void {
    if (this.kind === K.GENERIC) this.generic.push(undefined);
    else this.setNull(r);
  }

  ensureBytes(extra: number): void {
    if (this.pos + extra > this.bytes.length) this.bytes = growU8(this.bytes, Math.max(this.bytes.length * 2, this.pos + extra));
  }

  /** Index of the dictionary entry with these bytes (hash `h`), adding it when new. */
  dictIndex(src: Uint8Array, start: number, len: number, h: number): number {
    const table = this.table;
    const mask = table.length - 1;
    let slot = mixHash(h) & mask;
    for (;;) {
      const e = table[slot]!;
      if (e === 0) break;
      if (this.entHash[e - 1] === h) {
        const s = this.entStart[e - 1]!;
        if (this.entStart[e]! - s === len) {
          const bytes = this.bytes;
          let i = 0;
          while (i < len && bytes[s + i] === src[start + i]) i++;
          if (i === len) return e - 1;
        }
      }
      slot = (slot + 1) & mask;
    }
    // New entry.
    const k = this.count;
    this.ensureBytes(len);
    const bytes = this.bytes;
    const pos = this.pos;
    for (let i = 0; i < len; i++) bytes[pos + i] = src[start + i]!;
    this.pos = pos + len;
    if (k + 1 >= this.entHash.length) {
      this.entHash = growI32(this.entHash, this.entHash.length * 2);
      this.entStart = growI32(this.entStart, this.entHash.length + 1);
    }
    this.entHash[k] = h;
    this.entStart[k + 1] = this.pos;
    this.count = k + 1;
    table[slot] = k + 1;
    if (2 * this.count > table.length) this.rehash();
    return k;
  }

  rehash(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let k = 0; k < this.count; k++) {
      let slot = mixHash(this.entHash[k]!) & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = k + 1;
    }
    this.table = table;
  }

  /** Ready for another series, once `rows` rows were written (pooled sinks of small series). */
  reset(rows: number): void {
    const nb = (rows + 7) >> 3;
    if (this.nullBits.length > 0) this.nullBits.fill(0, 0, nb);
    this.nulls = 0;
    this.iso = false;
    this.pos = 0;
    switch (this.kind) {
      case K.TIME:
      case K.INT: this.words.fill(0, 0, 2 * rows); break;
      case K.FLOAT: this.f64.fill(0, 0, rows); break;
      case K.TAG:
        this.ints.fill(0, 0, rows);
        this.table.fill(0);
        this.count = 0;
        break;
      case K.BOOL: this.bits.fill(0, 0, nb); break;
      default: break;
    }
  }

  /** The Arrow data of the `n` rows read: copies into the slab for a small series, else the sink's own arrays. */
  finish(n: number, conv: SinkOwner, name: string): Data {
    const small = n <= kSmallRows;
    const slab = conv.slab;
    let validity: { nullCount: number; nullBitmap?: Uint8Array } = { nullCount: 0 };
    if (this.nulls > 0) {
      const bm = small ? slab.u8((n + 7) >> 3) : new Uint8Array((n + 7) >> 3);
      const nb = this.nullBits;
      for (let j = 0; j < bm.length; j++) bm[j] = ~nb[j]!;
      validity = { nullCount: this.nulls, nullBitmap: bm };
    }
    switch (this.kind) {
      case K.TIME:
      case K.INT: {
        let values: BigInt64Array;
        if (small) {
          values = slab.i64(n);
          new Int32Array(values.buffer, values.byteOffset, 2 * n).set(this.words.subarray(0, 2 * n));
        } else {
          values = new BigInt64Array(this.cap === n ? this.words.buffer : this.words.buffer.slice(0, n * 8));
        }
        if (this.kind === K.INT) return makeData({ type: new Int64(), length: n, data: values, ...validity });
        const type = this.iso && conv.timeType.unit !== TimeUnit.NANOSECOND ? new Timestamp(TimeUnit.NANOSECOND, 'UTC') : conv.timeType;
        return makeData({ type, length: n, data: values, ...validity });
      }
      case K.FLOAT: {
        let values: Float64Array;
        if (small) {
          values = slab.f64(n);
          values.set(this.f64.subarray(0, n));
        } else {
          values = this.cap === n ? this.f64 : this.f64.slice(0, n);
        }
        return makeData({ type: new Float64(), length: n, data: values, ...validity });
      }
      case K.STRING:
        return makeData({ type: new Utf8(), length: n, data: copyU8(this.bytes, this.pos, slab, small), valueOffsets: copyI32(this.ints, n + 1, slab, small), ...validity });
      case K.BOOL:
        return makeData({ type: new Bool(), length: n, data: copyU8(this.bits, (n + 7) >> 3, slab, small), ...validity });
      case K.TAG: {
        const k = this.count;
        const dictionary = makeVector(makeData({
          type: new Utf8(), length: k, nullCount: 0, data: copyU8(this.bytes, this.pos, slab, small), valueOffsets: copyI32(this.entStart, k + 1, slab, small),
        }));
        const indices = small ? copyI32(this.ints, n, slab, true) : this.cap === n ? this.ints : this.ints.slice(0, n);
        return makeData({ type: conv.dictType(name), length: n, data: indices, dictionary, ...validity });
      }
      default:
        throw new Error('generic columns are typed by the converter');
    }
  }
}
