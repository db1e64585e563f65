/**
 * How a columnar layout crosses to the encoder workers, and what comes back.
 *
 * Main thread: `LayoutPacker` copies the rows to encode of a `ColumnarLayout` into ONE
 * `SharedArrayBuffer` (a memcpy per column and range: `Uint8Array.prototype.set` over byte
 * views, no per-row JavaScript) and describes where each array sits in it (`WireLayout`: numbers
 * and names, structured-cloned into each task for a few hundred bytes; the buffer itself is
 * shared, not copied, by every task that reads it).
 *
 * Why a copy, and why shared rather than transferred: some layout arrays are views into the
 * user's Arrow buffers, which must not be detached, so every byte is copied once anyway; one
 * shared copy serves every row range of the layout (dictionaries included, whatever their size),
 * and stays readable if a task must be run again after its worker died.
 *
 * Worker: `unpackRange()` builds a `ColumnarLayout` of typed-array views over that buffer for
 * one row range, starting at a multiple of 8 rows so that every bitmap (validity, booleans,
 * invalid times) starts at bit 0 of a byte, as the encoder reads it. String offsets are the
 * only arrays rebuilt (rebased to the range's first byte) so that the range's layout holds the
 * range's bytes only: per-row work, but in the worker, in parallel.
 *
 * This module is imported by the worker: it imports nothing but layout types.
 * @module
 */
import type { Precision } from '../types.js';
import { FieldKind, type Bitmap, type ColumnarLayout, type FieldColumn, type TagColumn } from '../encode/columnar/layout.js';

/** A typed array inside the shared buffer: byte offset and element count. `null`: no array. */
export type Span = readonly [byteOffset: number, length: number];

export interface WireTag {
  readonly name: string;
  readonly key: Span;
  readonly keyInvalid: number;
  readonly indices: Span | null;
  readonly validity: Span | null;
  readonly dictData: Span;
  readonly dictOffsets: Span;
  readonly dictInvalid: Span | null;
  readonly fallback: number;
}

export interface WireField {
  readonly name: string;
  readonly key: Span;
  readonly keyInvalid: number;
  readonly kind: FieldKind;
  readonly validity: Span | null;
  /** Values (per row, or the string bytes from `stringBase`). */
  readonly values: Span;
  /** STRING: the layout's own (absolute) offsets of the packed rows, `rows + 1` of them. */
  readonly offsets: Span | null;
  /** STRING: the layout offset of the first packed byte (`offsets[0]` of the packed rows). */
  readonly stringBase: number;
}

/**
 * The packed rows of a layout: packed row `p` is layout row `first + p`, where `first` is a
 * multiple of 8 (so packed bitmaps are the layout's bitmaps from byte `first >> 3`).
 */
export interface WireLayout {
  readonly buffer: SharedArrayBuffer;
  /** Rows packed. */
  readonly rows: number;
  /** Global index of packed row 0 (the layout's `rowBase` + `first`). */
  readonly rowBase: number;
  readonly precision: Precision;
  readonly measurement: Span;
  readonly time: Span;
  readonly timeInvalid: Span | null;
  readonly tags: readonly WireTag[];
  readonly fields: readonly WireField[];
}

/** Rows `from .. to` (packed rows) of one packed layout. */
export interface Segment {
  readonly layout: WireLayout;
  readonly from: number;
  readonly to: number;
}

/** Test-only failure injected into a task (honoured only when the worker's env has FASTINFLUX_POOL_TEST=1). */
export type CrashForTest = 'exit' | 'exitOnFirstAttempt' | 'throw' | 'uncaught';

export interface EncodeTask {
  readonly segments: readonly Segment[];
  readonly maxBodyBytes: number;
  readonly nonFinite: 'error' | 'skipField' | undefined;
  readonly invalidRows: 'error' | 'skip' | undefined;
  readonly allowNewlinesInStrings: boolean | undefined;
  /** 0, then 1 when the task is run again after its worker died. */
  readonly attempt: number;
  readonly crashForTest?: CrashForTest;
}

/** A body as it crosses back: its ArrayBuffer is transferred (the Buffer arrives as a Uint8Array). */
export interface WireBody {
  readonly body: Uint8Array;
  readonly lines: number;
}

export type EncodeTaskResult =
  | { readonly ok: true; readonly bodies: readonly WireBody[]; readonly lines: number; readonly skipped: readonly number[] }
  /** The kernel refused a row: what it threw (an `InvalidPointError`), with the segment it was in. */
  | { readonly ok: false; readonly kind: 'invalid-point'; readonly segment: number; readonly row: number; readonly element: string; readonly key: string | undefined; readonly reason: string }
  /** Anything else the worker threw while encoding (a bug, memory): not retried. */
  | { readonly ok: false; readonly kind: 'failure'; readonly name: string; readonly message: string; readonly stack: string | undefined };

// ---- main thread: packing ----------------------------------------------------------------------

type Typed = Uint8Array | Int32Array | Float64Array | BigInt64Array;

const bytesOf = (a: Typed, start: number, count: number) => new Uint8Array(a.buffer, a.byteOffset + start * a.BYTES_PER_ELEMENT, count * a.BYTES_PER_ELEMENT);

/** A per-row array to copy range by range: how its rows map to bytes. */
type RowCopy =
  | { readonly how: 'rows'; readonly src: Typed; readonly at: number }
  /** String offsets: rows + 1 of them. */
  | { readonly how: 'offsets'; readonly src: Int32Array; readonly at: number }
  | { readonly how: 'bits'; readonly src: Uint8Array; readonly at: number }
  /** String bytes of the rows, through their offsets; `base` = the offset of the first packed byte. */
  | { readonly how: 'strings'; readonly src: Uint8Array; readonly offsets: Int32Array; readonly base: number; readonly at: number };

/**
 * Rows `from .. to` of a layout (with the rows before `from` down to a multiple of 8) in a
 * shared buffer. The buffer is allocated, and the per-layout arrays (names, dictionaries) copied,
 * at construction; the per-row arrays are copied range by range (`fill`) just before each range's
 * task is sent, so that the first workers start while later ranges are still being copied.
 */
export class LayoutPacker {
  readonly wire: WireLayout;
  /** The layout row of packed row 0 (a multiple of 8). */
  readonly first: number;
  readonly #copies: RowCopy[] = [];

  /**
   * `allocate(bytes)` gives the shared buffer (default: a new one); the pool passes one that
   * reuses the buffers of finished encodes, whose pages are already mapped (a fresh buffer costs
   * a page fault per 4 KB on first write: most of the packing time).
   */
  constructor(layout: ColumnarLayout, rowBase: number, from: number, to: number, allocate: (bytes: number) => SharedArrayBuffer = (n) => new SharedArrayBuffer(n)) {
    const first = from & ~7;
    const n = to - first;
    this.first = first;
    let size = 0;
    const statics: { at: number; src: Uint8Array }[] = [];
    const reserve = (bytes: number): number => {
      const at = size;
      size += (bytes + 7) & ~7;
      return at;
    };
    /** A whole array, copied now. */
    const all = (a: Typed): Span => {
      const at = reserve(a.byteLength);
      statics.push({ at, src: bytesOf(a, 0, a.length) });
      return [at, a.length];
    };
    /** Rows of a per-row array, copied by `fill`. */
    const rows = (a: Typed, count = n, how: 'rows' | 'offsets' = 'rows'): Span => {
      const at = reserve(count * a.BYTES_PER_ELEMENT);
      this.#copies.push({ how, src: a as Int32Array, at });
      return [at, count];
    };
    const bits = (b: Bitmap): Span | null => {
      if (b === null) return null;
      const lo = Math.min(first >> 3, b.length);
      const count = Math.min((to + 7) >> 3, b.length) - lo;
      const at = reserve(count);
      this.#copies.push({ how: 'bits', src: b, at });
      return [at, count];
    };
    const measurement = all(layout.measurement);
    const time = rows(layout.time);
    const timeInvalid = bits(layout.timeInvalid);
    const tags: WireTag[] = layout.tags.map((t: TagColumn) => ({
      name: t.name,
      key: all(t.key),
      keyInvalid: t.keyInvalid,
      indices: t.indices === null ? null : rows(t.indices),
      validity: bits(t.validity),
      dictData: all(t.dictData),
      dictOffsets: all(t.dictOffsets),
      dictInvalid: t.dictInvalid === null ? null : all(t.dictInvalid),
      fallback: t.fallback,
    }));
    const fields: WireField[] = layout.fields.map((f: FieldColumn) => {
      const base = { name: f.name, key: all(f.key), keyInvalid: f.keyInvalid, kind: f.kind, validity: bits(f.validity) };
      switch (f.kind) {
        case FieldKind.BOOL:
          return { ...base, values: bits(f.values)!, offsets: null, stringBase: 0 };
        case FieldKind.STRING: {
          const lo = f.offsets[first]!;
          const count = f.offsets[to]! - lo;
          const at = reserve(count);
          this.#copies.push({ how: 'strings', src: f.values, offsets: f.offsets, base: lo, at });
          return { ...base, values: [at, count] as Span, offsets: rows(f.offsets, n + 1, 'offsets'), stringBase: lo };
        }
        default:
          return { ...base, values: rows(f.values), offsets: null, stringBase: 0 };
      }
    });
    const buffer = allocate(Math.max(size, 8));
    const dst = new Uint8Array(buffer);
    for (const c of statics) dst.set(c.src, c.at);
    this.wire = { buffer, rows: n, rowBase: rowBase + first, precision: layout.meta.precision, measurement, time, timeInvalid, tags, fields };
  }

  /**
   * Copies the per-row data of layout rows `from .. to`, from `from` rounded down to a multiple
   * of 8 (the rows a range's views start at; rows copied twice get the same bytes).
   */
  fill(from: number, to: number): void {
    const a = Math.max(this.first, from & ~7);
    const p = a - this.first;
    const dst = new Uint8Array(this.wire.buffer);
    for (const c of this.#copies) {
      switch (c.how) {
        case 'rows':
          dst.set(bytesOf(c.src, a, to - a), c.at + p * c.src.BYTES_PER_ELEMENT);
          break;
        case 'offsets':
          dst.set(bytesOf(c.src, a, to + 1 - a), c.at + p * 4);
          break;
        case 'bits': {
          const lo = Math.min(a >> 3, c.src.length);
          const hi = Math.min((to + 7) >> 3, c.src.length);
          dst.set(c.src.subarray(lo, hi), c.at + (lo - (this.first >> 3)));
          break;
        }
        case 'strings': {
          const lo = c.offsets[a]!;
          dst.set(c.src.subarray(lo, c.offsets[to]!), c.at + (lo - c.base));
          break;
        }
      }
    }
  }
}

// ---- worker: views over the shared buffer -----------------------------------------------------

const kNoReasons: ReadonlyMap<number, string> = new Map();

/**
 * The layout of packed rows `from .. to` of `w`, as views (string offsets rebased): returns the
 * layout, which starts at packed row `start` (`from` rounded down to a multiple of 8), and the
 * range within it.
 */
export function unpackRange(w: WireLayout, from: number, to: number): { layout: ColumnarLayout; start: number } {
  const buf = w.buffer;
  const start = from & ~7;
  const n = to - start;
  const u8 = (s: Span, at = 0, count = s[1] - at) => new Uint8Array(buf, s[0] + at, count);
  const i32 = (s: Span, at = 0, count = s[1] - at) => new Int32Array(buf, s[0] + 4 * at, count);
  const bits = (s: Span | null): Bitmap => {
    if (s === null) return null;
    const at = Math.min(start >> 3, s[1]);
    return u8(s, at, Math.min((to + 7) >> 3, s[1]) - at);
  };
  const tags: TagColumn[] = w.tags.map((t) => ({
    name: t.name,
    key: u8(t.key),
    keyInvalid: t.keyInvalid,
    indices: t.indices === null ? null : i32(t.indices, start, n),
    validity: bits(t.validity),
    dictData: u8(t.dictData),
    dictOffsets: i32(t.dictOffsets),
    dictInvalid: t.dictInvalid === null ? null : u8(t.dictInvalid),
    fallback: t.fallback,
  }));
  const fields: FieldColumn[] = w.fields.map((f): FieldColumn => {
    const base = { name: f.name, key: u8(f.key), keyInvalid: f.keyInvalid, validity: bits(f.validity) };
    switch (f.kind) {
      case FieldKind.FLOAT:
      case FieldKind.FLOAT_AS_INT:
        return { ...base, kind: f.kind, values: new Float64Array(buf, f.values[0] + 8 * start, n) };
      case FieldKind.INT32:
        return { ...base, kind: f.kind, values: i32(f.values, start, n) };
      case FieldKind.INT64:
      case FieldKind.UINT64:
        return { ...base, kind: f.kind, values: new BigInt64Array(buf, f.values[0] + 8 * start, n) };
      case FieldKind.BOOL:
        return { ...base, kind: f.kind, values: bits(f.values)! };
      case FieldKind.STRING: {
        const src = i32(f.offsets!, start, n + 1);
        const lo = src[0]!;
        const offsets = new Int32Array(n + 1);
        for (let k = 0; k <= n; k++) offsets[k] = src[k]! - lo;
        return { ...base, kind: f.kind, offsets, values: u8(f.values, lo - f.stringBase, src[n]! - lo) };
      }
      default:
        throw new Error(`unknown field kind ${String((f as WireField).kind)}`);
    }
  });
  const layout: ColumnarLayout = {
    rows: n,
    measurement: u8(w.measurement),
    time: new BigInt64Array(buf, w.time[0] + 8 * start, n),
    timeInvalid: bits(w.timeInvalid),
    tags,
    fields,
    // Messages are worded on the main thread, from the user's layout (see encoder-pool.ts).
    meta: { precision: w.precision, timeReasons: kNoReasons },
  };
  return { layout, start };
}
