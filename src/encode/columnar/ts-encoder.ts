/**
 * The columnar encoder in TypeScript: a `ColumnarLayout` (see `layout.ts`) to line protocol,
 * written byte by byte into request bodies, without a string or an object per row.
 *
 * It is the reference the WASM encoder must match, and it matches the point encoder: for the
 * same rows, the same bytes, the same bodies (cut at the same line ends under `maxBodyBytes`),
 * and the same first error (same row, element, key and reason), checked in the point encoder's
 * order within a row: measurement, tags in key order (key, then value), fields in column order
 * (value, then key), the empty field set, the series key's size, the time, the line's size.
 * @module
 */
import { InvalidPointError } from '../../errors.js';
import { LineTooLargeError, type EncodedBody } from '../body-builder.js';
import { checkFieldKey, checkTagName, reservedKeyReason } from '../escape.js';
import { MAX_STRING_FIELD_BYTES } from '../point-encoder.js';
import { ErrorCode, FieldKind, type ColumnarLayout, type FieldColumn } from './layout.js';

// ---- request bodies --------------------------------------------------------------------------

/** Room kept above `maxBodyBytes` in a body's buffer, so that the line that crosses the limit fits before it moves. */
const kSlackBytes = 64 * 1024;

/**
 * Request bodies being written: a growing Buffer that is cut at a line end whenever the next
 * line would take it over `maxBodyBytes` (as `BodyBuilder` does). Shared by every layout of one
 * write, so that bodies are packed across batches.
 */
export class ColumnarBodyWriter {
  readonly limit: number;
  /** The current body's bytes; valid up to `len`. Replaced when it grows or is cut. */
  buf: Buffer;
  len = 0;
  /** Lines in the current body. */
  #lines = 0;
  #done = 0;
  readonly #bodies: EncodedBody[] = [];

  readonly #alloc: (bytes: number) => Buffer;

  /**
   * `alloc` may hand back a recycled buffer of at least the size asked (the batch writer reuses
   * acknowledged bodies: fewer large allocations, far fewer full GCs).
   */
  constructor(maxBodyBytes: number, initialBytes = 64 * 1024, alloc: (bytes: number) => Buffer = Buffer.allocUnsafe) {
    this.limit = maxBodyBytes;
    this.#alloc = alloc;
    this.buf = alloc(Math.min(initialBytes, maxBodyBytes + kSlackBytes));
  }

  /** Makes room for `n` more bytes after `len` and returns the buffer to write them to. */
  reserve(n: number): Buffer {
    const need = this.len + n;
    if (need <= this.buf.length) return this.buf;
    // Double, capped just above the body limit: small writes stay small, big ones copy O(log n) times.
    const size = Math.max(need, Math.min(this.buf.length * 2, this.limit + kSlackBytes));
    const next = this.#alloc(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
    return next;
  }

  /**
   * Ends the line written at `start .. len` (its `\n` included). Returns the line's size when it
   * cannot fit any body (the caller reports it), else 0; cuts the body first when needed.
   */
  commit(start: number): number {
    const bytes = this.len - start;
    if (this.len > this.limit) {
      if (bytes > this.limit) return bytes;
      if (this.#lines > 0) {
        this.#bodies.push({ body: this.buf.subarray(0, start), lines: this.#lines });
        const next = this.#alloc(this.buf.length);
        this.buf.copy(next, 0, start, this.len);
        this.buf = next;
        this.len = bytes;
        this.#done += this.#lines;
        this.#lines = 0;
      }
    }
    this.#lines++;
    return 0;
  }

  /** Lines written so far. */
  get lineCount(): number {
    return this.#done + this.#lines;
  }

  /** The bodies, in order. The writer must not be used afterwards. */
  finish(): EncodedBody[] {
    if (this.#lines > 0) this.#bodies.push({ body: this.buf.subarray(0, this.len), lines: this.#lines });
    this.#done += this.#lines;
    this.#lines = 0;
    return this.#bodies;
  }
}

// ---- numbers ---------------------------------------------------------------------------------

/** "00" .. "99" as ASCII pairs: two digits per division. */
const kPairs = (() => {
  const t = new Uint8Array(200);
  for (let i = 0; i < 100; i++) {
    t[2 * i] = 48 + ((i / 10) | 0);
    t[2 * i + 1] = 48 + (i % 10);
  }
  return t;
})();

/** Writes the digits of 0 <= v <= 2^31 so that the last one lands at `end - 1` (the caller counted them). */
function fillDigits(buf: Uint8Array, end: number, v: number, start: number): void {
  let p = end;
  while (p - start >= 2) {
    const q = (v / 100) | 0;
    const r = (v - q * 100) << 1;
    buf[--p] = kPairs[r + 1]!;
    buf[--p] = kPairs[r]!;
    v = q;
  }
  if (p > start) buf[--p] = 48 + v;
}

/** Writes a non-negative integer below 2^31 + 1 as decimal digits. */
function writeSmallUint(buf: Uint8Array, pos: number, v: number): number {
  const n = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5
    : v < 1000000 ? 6 : v < 10000000 ? 7 : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
  fillDigits(buf, pos + n, v, pos);
  return pos + n;
}

/** Writes exactly nine digits (zero-padded) of 0 <= v < 1e9. */
function writePad9(buf: Uint8Array, pos: number, v: number): number {
  fillDigits(buf, pos + 9, v, pos);
  return pos + 9;
}

/** Writes a non-negative integer below 2^53. */
function writeUintDouble(buf: Uint8Array, pos: number, v: number): number {
  if (v <= 2147483648) return writeSmallUint(buf, pos, v);
  let q = Math.floor(v / 1e9);
  let r = v - q * 1e9;
  if (r < 0) {
    q -= 1;
    r += 1e9;
  } else if (r >= 1e9) {
    q += 1;
    r -= 1e9;
  }
  pos = writeSmallUint(buf, pos, q);
  return writePad9(buf, pos, r);
}

/**
 * Writes the unsigned 64-bit integer `hi * 2^32 + lo` (both as uint32 numbers). Above 2^53:
 * q = floor(d / 1e9) from the nearest double d (off by at most one), then the remainder
 * exactly, modulo 2^32 (it lies in [-1e9, 2e9), which an int32 tells apart), then q corrected.
 */
function writeUint64(buf: Uint8Array, pos: number, lo: number, hi: number): number {
  const d = hi * 4294967296 + lo;
  if (hi < 0x200000) return writeUintDouble(buf, pos, d);
  let q = Math.floor(d / 1e9);
  let r = (lo - Math.imul(q | 0, 1000000000)) | 0;
  if (r < 0) {
    q -= 1;
    r += 1000000000;
  } else if (r >= 1000000000) {
    q += 1;
    r -= 1000000000;
  }
  pos = writeUintDouble(buf, pos, q);
  return writePad9(buf, pos, r);
}

/** Writes the signed 64-bit integer whose little-endian int32 words are `lo`, `hi`. */
function writeInt64(buf: Uint8Array, pos: number, lo: number, hi: number): number {
  if (hi === 0 && lo >= 0) return writeSmallUint(buf, pos, lo);
  if (hi === -1 && lo < 0) {
    buf[pos] = 45;
    return writeSmallUint(buf, pos + 1, -lo);
  }
  if (hi < 0) {
    buf[pos++] = 45;
    // Two's complement negation of the 64-bit value; -2^63 becomes 2^63 unsigned.
    const nlo = (~lo + 1) >>> 0;
    const nhi = (nlo === 0 ? ~hi + 1 : ~hi) >>> 0;
    return writeUint64(buf, pos, nlo, nhi);
  }
  return writeUint64(buf, pos, lo >>> 0, hi);
}

/** Writes an int32 as digits. */
function writeInt32(buf: Uint8Array, pos: number, v: number): number {
  if (v < 0) {
    buf[pos++] = 45;
    v = -v;
  }
  return writeSmallUint(buf, pos, v);
}

/** Writes `digits` digits of the integer 0 <= v < 2^53, zero-padded on the left. */
function writePadded(buf: Uint8Array, pos: number, v: number, digits: number): number {
  let end = pos + digits;
  if (v >= 1e9) {
    let hi = Math.floor(v / 1e9);
    let lo = v - hi * 1e9;
    if (lo < 0) {
      hi -= 1;
      lo += 1e9;
    } else if (lo >= 1e9) {
      hi += 1;
      lo -= 1e9;
    }
    fillDigits(buf, end, lo, end - 9);
    end -= 9;
    v = hi;
  }
  fillDigits(buf, end, v, pos);
  return pos + digits;
}

/** 10^k, exact as doubles for k <= 22. */
const kPow10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * Writes a finite float exactly as `formatFloat` (`String(x)`; `-0` as `-0`).
 *
 * Fast path, for 1e-5 <= |x| < 1e15: with 10^(e-1) <= |x| < 10^e, take K = 15 - e decimals, so
 * that y = |x| * 10^K < 10^15 < 2^50, and m = round(y). Below 2^50 the spacing of doubles
 * around |x| is under a quarter of 10^-K, so at most one integer m' has m' / 10^K read back as
 * |x|, and it is m (y is off by at most 1/16). If m / 10^K !== |x| (both exact doubles: the
 * division is the correctly rounded value of the decimal m * 10^-K, which is what parsing it
 * gives), no decimal of at most K places reads back as |x|: `String(x)`, which needs more
 * digits. Otherwise every shorter decimal that reads back is m with trailing zeros dropped (by
 * the same uniqueness), so m's digits without their trailing zeros are the shortest
 * round-trip form: what `String(x)` prints, in plain decimal notation in this range.
 */
function writeFloat(buf: Uint8Array, pos: number, v: number): number {
  if (v === 0) {
    if (1 / v < 0) {
      buf[pos] = 45;
      buf[pos + 1] = 48;
      return pos + 2;
    }
    buf[pos] = 48;
    return pos + 1;
  }
  // Integers below 2^31 print as their digits in String() too.
  if (v > -2147483648 && v < 2147483648 && (v | 0) === v) return writeInt32(buf, pos, v);
  const a = v < 0 ? -v : v;
  if (a >= 1e-5 && a < 1e15) {
    // e: the number of integer digits (<= 0 below 1); K = 15 - e.
    let e = 0;
    if (a >= 1) {
      e = 1;
      while (e < 15 && a >= kPow10[e]!) e++;
    } else {
      while (e > -4 && a * kPow10[1 - e]! < 1) e--;
    }
    const K = 15 - e;
    const p = kPow10[K]!;
    const m = Math.round(a * p);
    if (m / p === a) {
      if (v < 0) buf[pos++] = 45;
      let whole = Math.floor(m / p);
      let frac = m - whole * p;
      if (frac < 0) {
        whole -= 1;
        frac += p;
      } else if (frac >= p) {
        whole += 1;
        frac -= p;
      }
      pos = writeUintDouble(buf, pos, whole);
      if (frac === 0) return pos;
      buf[pos++] = 46;
      pos = writePadded(buf, pos, frac, K);
      while (buf[pos - 1] === 48) pos--;
      return pos;
    }
  }
  const s = String(v);
  for (let j = 0; j < s.length; j++) buf[pos + j] = s.charCodeAt(j);
  return pos + s.length;
}

/** Largest `formatFloat` output (`-2.2250738585072014e-308`) and largest int64 + `i`, rounded up. */
const kMaxNumberBytes = 26;

// ---- strings ---------------------------------------------------------------------------------

const kStringInvalidUtf8 = -1;
const kStringNewline = -2;

/**
 * Writes `"` + the escaped UTF-8 of `data[a..b)` + `"`, checking it byte by byte: well-formed
 * UTF-8 (no overlong forms, surrogates or values above U+10FFFF), then no `\n`/`\r` unless
 * allowed. Returns the new position, or a negative `kString*` code.
 */
function writeStringValue(buf: Uint8Array, pos: number, data: Uint8Array, a: number, b: number, allowNewlines: boolean): number {
  buf[pos++] = 34;
  let newline = false;
  let j = a;
  while (j < b) {
    const c = data[j]!;
    if (c < 0x80) {
      if (c === 34 || c === 92) buf[pos++] = 92;
      else if (c === 10 || c === 13) newline = true;
      buf[pos++] = c;
      j++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return kStringInvalidUtf8;
    if (j + n >= b) return kStringInvalidUtf8;
    const c1 = data[j + 1]!;
    if (c1 < lo || c1 > hi) return kStringInvalidUtf8;
    for (let k = 2; k <= n; k++) {
      const ck = data[j + k]!;
      if (ck < 0x80 || ck > 0xbf) return kStringInvalidUtf8;
    }
    buf[pos++] = c;
    buf[pos++] = c1;
    for (let k = 2; k <= n; k++) buf[pos++] = data[j + k]!;
    j += n + 1;
  }
  if (newline && !allowNewlines) return kStringNewline;
  buf[pos++] = 34;
  return pos;
}

// ---- errors ----------------------------------------------------------------------------------

const kFatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The reason a raw name (UTF-8 bytes) cannot be written, as `check` words it. */
function nameReason(bytes: Uint8Array, check: (s: string) => string | undefined): string {
  let s: string;
  try {
    s = kFatalUtf8.decode(bytes);
  } catch {
    return 'is not valid UTF-8';
  }
  return check(s) ?? 'cannot be written';
}

/** influxd's MaxKeyLength: measurement + tags + field key + 4 bytes. */
const kMaxKeyBytes = 65_535;


/** Longest list of row indices named in a message. */
const kMaxNamedRows = 10;

/**
 * The `InvalidPointError` for an encoder stop: `code` at local row `row` of `layout`, in tag or
 * field column `column`, dictionary entry `entry` (TAG_VALUE), `detail` (byte count for
 * STRING_TOO_LONG and LINE_TOO_LARGE; the rows found, as global indices, for NO_FIELD).
 */
export function layoutError(layout: ColumnarLayout, rowBase: number, code: ErrorCode, row: number, column = -1, entry = -1, detail?: number | readonly number[], limit = 0): InvalidPointError {
  const index = rowBase + row;
  switch (code) {
    case ErrorCode.TAG_KEY: {
      const name = layout.tags[column]!.name;
      return new InvalidPointError(index, 'tags', name, reservedKeyReason(name) ?? `key ${checkTagName(name) ?? 'cannot be written'}`);
    }
    case ErrorCode.TAG_VALUE: {
      const t = layout.tags[column]!;
      const bytes = t.dictData.subarray(t.dictOffsets[entry]!, t.dictOffsets[entry + 1]!);
      return new InvalidPointError(index, 'tags', t.name, `value ${nameReason(bytes, checkTagName)}`);
    }
    case ErrorCode.FIELD_KEY: {
      const name = layout.fields[column]!.name;
      return new InvalidPointError(index, 'fields', name, reservedKeyReason(name) ?? `key ${checkFieldKey(name) ?? 'cannot be written'}`);
    }
    case ErrorCode.FIELD_NON_FINITE: {
      const f = layout.fields[column]!;
      return new InvalidPointError(index, 'fields', f.name, `${String(f.values[row])} cannot be written: InfluxDB floats must be finite`);
    }
    case ErrorCode.FIELD_NOT_SAFE_INTEGER: {
      const f = layout.fields[column]!;
      return new InvalidPointError(index, 'fields', f.name, `declared integer, but ${String(f.values[row])} is not a safe integer: pass a bigint for values beyond 2^53`);
    }
    case ErrorCode.FIELD_INT64_RANGE: {
      const f = layout.fields[column]!;
      const v = BigInt.asUintN(64, f.values[row] as bigint);
      return new InvalidPointError(index, 'fields', f.name, `${v} is outside the int64 range`);
    }
    case ErrorCode.STRING_TOO_LONG:
      return new InvalidPointError(index, 'fields', layout.fields[column]!.name, `string value of ${detail as number} bytes is over InfluxDB's 64 KB limit`);
    case ErrorCode.STRING_INVALID_UTF8:
      return new InvalidPointError(index, 'fields', layout.fields[column]!.name, 'string value is not valid UTF-8');
    case ErrorCode.STRING_NEWLINE:
      return new InvalidPointError(index, 'fields', layout.fields[column]!.name, 'string value contains a newline; pass allowNewlinesInStrings: true to write it anyway');
    case ErrorCode.NO_FIELD: {
      const rows = (detail as readonly number[] | undefined) ?? [index];
      const named = rows.slice(0, kMaxNamedRows).join(', ') + (rows.length > kMaxNamedRows ? ', …' : '');
      const which = rows.length === 1 ? `row ${named} has` : `rows ${named} have`;
      return new InvalidPointError(index, 'fields', undefined,
        `no field with a value: a point needs at least one field (${which} no non-null field; pass invalidRows: 'skip' to leave such rows out)`);
    }
    case ErrorCode.TIME_RANGE:
      return new InvalidPointError(index, 'time', undefined, layout.meta.timeReasons.get(row) ?? 'cannot be written');
    case ErrorCode.LINE_TOO_LARGE:
      return new InvalidPointError(index, 'point', undefined, new LineTooLargeError(detail as number, limit).message);
    case ErrorCode.SERIES_KEY_TOO_LONG:
      return new InvalidPointError(index, 'point', undefined, `series key of ${detail as number} bytes (measurement, tags and field key) is over InfluxDB's limit of ${kMaxKeyBytes}`);
    default:
      return new InvalidPointError(index, 'point', undefined, `columnar encoder error ${String(code)}`);
  }
}

// ---- the encoder -----------------------------------------------------------------------------

export interface ColumnarEncodeOptions {
  /** Global index of the layout's row 0: errors and skipped rows count rows across batches. Default 0. */
  rowBase?: number;
  /** First row to encode (default 0). */
  from?: number;
  /** Row after the last one to encode (default `layout.rows`). */
  to?: number;
  /** NaN / ±Infinity in a float column: refuse the write (default), or leave that field out of the line. */
  nonFinite?: 'error' | 'skipField';
  /** A row with no field value: refuse the write (default), or leave the row out (listed in `skippedRows`). */
  invalidRows?: 'error' | 'skip';
  /** Accept `\n`/`\r` in string field values (as the point encoder's option). */
  allowNewlinesInStrings?: boolean;
  /** Receives the global indices of rows left out by `invalidRows: 'skip'`. */
  skippedRows?: number[];
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const kComma = Uint8Array.of(44);
const kSpace = Uint8Array.of(32);
const kEquals = Uint8Array.of(61);

/** Int32 words of an int64 array (little-endian: `[2i]` low, `[2i + 1]` high). */
function words(a: BigInt64Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length * 2);
}

/** Whether row `i` has at least one field that would be written (shared with the WASM glue). */
export function rowHasField(fields: readonly FieldColumn[], i: number, skipNonFinite: boolean): boolean {
  for (const f of fields) {
    const v = f.validity;
    if (v !== null && (v[i >> 3]! & (1 << (i & 7))) === 0) continue;
    if (skipNonFinite && (f.kind === FieldKind.FLOAT || f.kind === FieldKind.FLOAT_AS_INT) && !Number.isFinite(f.values[i]!)) continue;
    return true;
  }
  return false;
}

/**
 * Encodes rows `from .. to` of `layout` into `writer`. Throws the `InvalidPointError` of the
 * first bad row (for rows without a field, naming up to ten of them); with
 * `invalidRows: 'skip'`, such rows are left out, whatever else is wrong with them, and their
 * global indices pushed to `skippedRows`.
 */
export function encodeLayout(layout: ColumnarLayout, writer: ColumnarBodyWriter, options: ColumnarEncodeOptions = {}): void {
  const rowBase = options.rowBase ?? 0;
  const from = options.from ?? 0;
  const to = options.to ?? layout.rows;
  const skipNonFinite = options.nonFinite === 'skipField';
  const skipRows = options.invalidRows === 'skip';
  const allowNewlines = options.allowNewlinesInStrings ?? false;
  const skipped = options.skippedRows;
  const fail = (code: ErrorCode, row: number, column = -1, entry = -1, detail?: number | readonly number[]): InvalidPointError =>
    layoutError(layout, rowBase, code, row, column, entry, detail, writer.limit);

  // Per column, what the row loop reads, hoisted into flat arrays.
  const measurement = layout.measurement;
  const tags = layout.tags;
  const nTags = tags.length;
  // Per tag column, each entry as the bytes `,key=value` (empty for an empty entry): one copy per tag.
  const tagIdx: (Int32Array | null)[] = [];
  const tagValid: (Uint8Array | null)[] = [];
  const tagData: Uint8Array[] = [];
  const tagOffs: Int32Array[] = [];
  const tagBad: (Uint8Array | null)[] = [];
  const tagFallback: number[] = [];
  const tagKeyBad: boolean[] = [];
  let fixed = measurement.length + 1 /* space */ + 21 /* time */ + 1 /* newline */;
  for (const t of tags) {
    const entries = t.dictOffsets.length - 1;
    const prefix = concat([kComma, t.key, kEquals]);
    const offsets = new Int32Array(entries + 1);
    let size = 0;
    let longest = 0;
    for (let e = 0; e < entries; e++) {
      const len = t.dictOffsets[e + 1]! - t.dictOffsets[e]!;
      if (len > 0) size += prefix.length + len;
      offsets[e + 1] = size;
      longest = Math.max(longest, len);
    }
    const data = new Uint8Array(size);
    for (let e = 0; e < entries; e++) {
      if (offsets[e + 1] === offsets[e]) continue;
      data.set(prefix, offsets[e]);
      data.set(t.dictData.subarray(t.dictOffsets[e]!, t.dictOffsets[e + 1]!), offsets[e]! + prefix.length);
    }
    tagIdx.push(t.indices);
    tagValid.push(t.validity);
    tagData.push(data);
    tagOffs.push(offsets);
    tagBad.push(t.dictInvalid);
    tagFallback.push(t.fallback);
    tagKeyBad.push(t.keyInvalid !== 0);
    fixed += prefix.length + longest;
  }
  const fields = layout.fields;
  const nFields = fields.length;
  const firstPrefix: Uint8Array[] = [];
  const nextPrefix: Uint8Array[] = [];
  const kinds: number[] = [];
  const valid: (Uint8Array | null)[] = [];
  const f64: (Float64Array | null)[] = [];
  const i32: (Int32Array | null)[] = [];
  const bits: (Uint8Array | null)[] = [];
  const offs: (Int32Array | null)[] = [];
  const strData: (Uint8Array | null)[] = [];
  const stringCols: number[] = [];
  const fieldKeyBad: boolean[] = [];
  let longestKey = 0;
  for (let c = 0; c < nFields; c++) {
    const f = fields[c]!;
    fieldKeyBad.push(f.keyInvalid !== 0);
    longestKey = Math.max(longestKey, f.key.length);
    firstPrefix.push(concat([kSpace, f.key, kEquals]));
    nextPrefix.push(concat([kComma, f.key, kEquals]));
    kinds.push(f.kind);
    valid.push(f.validity);
    f64.push(f.kind === FieldKind.FLOAT || f.kind === FieldKind.FLOAT_AS_INT ? f.values : null);
    i32.push(f.kind === FieldKind.INT32 ? f.values : f.kind === FieldKind.INT64 || f.kind === FieldKind.UINT64 ? words(f.values) : null);
    bits.push(f.kind === FieldKind.BOOL ? f.values : null);
    offs.push(f.kind === FieldKind.STRING ? f.offsets : null);
    strData.push(f.kind === FieldKind.STRING ? f.values : null);
    if (f.kind === FieldKind.STRING) stringCols.push(c);
    fixed += f.key.length + 2 + kMaxNumberBytes;
  }
  const time = words(layout.time);
  const timeInvalid = layout.timeInvalid;
  const nStrings = stringCols.length;
  // The series key check is needed only when the longest possible one could be over the limit.
  let seriesMax = measurement.length + longestKey + 4;
  for (const o of tagOffs) {
    let longest = 0;
    for (let e = 0; e + 1 < o.length; e++) longest = Math.max(longest, o[e + 1]! - o[e]!);
    seriesMax += longest;
  }
  const checkSeriesKey = seriesMax > kMaxKeyBytes;

  for (let i = from; i < to; i++) {
    const byte = i >> 3;
    const mask = 1 << (i & 7);
    // A row that is left out is not checked any further (its tags or time do not matter).
    if (skipRows && !rowHasField(fields, i, skipNonFinite)) {
      skipped?.push(rowBase + i);
      continue;
    }
    // Room for the whole line: fixed parts, plus twice each string (every byte may need a backslash).
    let need = fixed;
    for (let s = 0; s < nStrings; s++) {
      const o = offs[stringCols[s]!]!;
      need += 2 * (o[i + 1]! - o[i]!);
    }
    const buf = writer.reserve(need);
    const start = writer.len;
    let pos = start;
    for (let j = 0; j < measurement.length; j++) buf[pos++] = measurement[j]!;

    for (let t = 0; t < nTags; t++) {
      const idx = tagIdx[t]!;
      const offsets = tagOffs[t]!;
      let e = -1;
      if (idx !== null) {
        const v = tagValid[t]!;
        if (v === null || (v[byte]! & mask) !== 0) {
          e = idx[i]!;
          if (offsets[e + 1]! === offsets[e]!) e = -1;
        }
      }
      if (e < 0) {
        e = tagFallback[t]!;
        if (e < 0) continue;
      }
      if (tagKeyBad[t]!) throw fail(ErrorCode.TAG_KEY, i, t);
      const bad = tagBad[t]!;
      if (bad !== null && bad[e] !== 0) throw fail(ErrorCode.TAG_VALUE, i, t, e);
      const data = tagData[t]!;
      const end = offsets[e + 1]!;
      for (let j = offsets[e]!; j < end; j++) buf[pos++] = data[j]!;
    }

    const seriesBytes = pos - start;
    let keyBytes = 0;
    let first = true;
    for (let c = 0; c < nFields; c++) {
      const v = valid[c]!;
      if (v !== null && (v[byte]! & mask) === 0) continue;
      const kind = kinds[c]!;
      // Check the value before the key, as the point encoder does.
      if (kind === FieldKind.FLOAT || kind === FieldKind.FLOAT_AS_INT) {
        const x = f64[c]![i]!;
        if (x - x !== 0) {
          // NaN or ±Infinity.
          if (skipNonFinite) continue;
          throw fail(kind === FieldKind.FLOAT ? ErrorCode.FIELD_NON_FINITE : ErrorCode.FIELD_NOT_SAFE_INTEGER, i, c);
        }
        if (kind === FieldKind.FLOAT_AS_INT && !Number.isSafeInteger(x)) throw fail(ErrorCode.FIELD_NOT_SAFE_INTEGER, i, c);
      } else if (kind === FieldKind.UINT64) {
        if (i32[c]![2 * i + 1]! < 0) throw fail(ErrorCode.FIELD_INT64_RANGE, i, c);
      } else if (kind === FieldKind.STRING) {
        const o = offs[c]!;
        const len = o[i + 1]! - o[i]!;
        if (len > MAX_STRING_FIELD_BYTES) throw fail(ErrorCode.STRING_TOO_LONG, i, c, -1, len);
      }
      if (fieldKeyBad[c]!) {
        // The value is checked first, as the point encoder does (a string only while it is written).
        if (kind === FieldKind.STRING) {
          const o = offs[c]!;
          const r = writeStringValue(buf, pos, strData[c]!, o[i]!, o[i + 1]!, allowNewlines);
          if (r < 0) throw fail(r === kStringInvalidUtf8 ? ErrorCode.STRING_INVALID_UTF8 : ErrorCode.STRING_NEWLINE, i, c);
        }
        throw fail(ErrorCode.FIELD_KEY, i, c);
      }
      const prefix = first ? firstPrefix[c]! : nextPrefix[c]!;
      first = false;
      // influxd counts the longest field key in bytes.
      if (checkSeriesKey && prefix.length - 2 > keyBytes) keyBytes = prefix.length - 2;
      for (let j = 0; j < prefix.length; j++) buf[pos++] = prefix[j]!;
      switch (kind) {
        case FieldKind.FLOAT:
          pos = writeFloat(buf, pos, f64[c]![i]!);
          break;
        case FieldKind.FLOAT_AS_INT: {
          let x = f64[c]![i]!;
          if (x < 0) {
            buf[pos++] = 45;
            x = -x;
          }
          pos = writeUintDouble(buf, pos, x);
          buf[pos++] = 105;
          break;
        }
        case FieldKind.INT32:
          pos = writeInt32(buf, pos, i32[c]![i]!);
          buf[pos++] = 105;
          break;
        case FieldKind.INT64:
        case FieldKind.UINT64: {
          const w = i32[c]!;
          pos = writeInt64(buf, pos, w[2 * i]!, w[2 * i + 1]!);
          buf[pos++] = 105;
          break;
        }
        case FieldKind.BOOL:
          if ((bits[c]![byte]! & mask) !== 0) {
            buf[pos] = 116; buf[pos + 1] = 114; buf[pos + 2] = 117; buf[pos + 3] = 101;
            pos += 4;
          } else {
            buf[pos] = 102; buf[pos + 1] = 97; buf[pos + 2] = 108; buf[pos + 3] = 115; buf[pos + 4] = 101;
            pos += 5;
          }
          break;
        default: {
          const o = offs[c]!;
          const r = writeStringValue(buf, pos, strData[c]!, o[i]!, o[i + 1]!, allowNewlines);
          if (r < 0) throw fail(r === kStringInvalidUtf8 ? ErrorCode.STRING_INVALID_UTF8 : ErrorCode.STRING_NEWLINE, i, c);
          pos = r;
        }
      }
    }
    if (first) {
      // Name the rows without a field: this one and the next ones of the layout, up to the limit.
      const rows = [rowBase + i];
      for (let k = i + 1; k < to && rows.length <= kMaxNamedRows; k++) {
        if (!rowHasField(fields, k, skipNonFinite)) rows.push(rowBase + k);
      }
      throw fail(ErrorCode.NO_FIELD, i, -1, -1, rows);
    }
    if (checkSeriesKey && seriesBytes + keyBytes + 4 > kMaxKeyBytes) throw fail(ErrorCode.SERIES_KEY_TOO_LONG, i, -1, -1, seriesBytes + keyBytes + 4);
    if (timeInvalid !== null && (timeInvalid[byte]! & mask) !== 0) throw fail(ErrorCode.TIME_RANGE, i);
    buf[pos++] = 32;
    pos = writeInt64(buf, pos, time[2 * i]!, time[2 * i + 1]!);
    buf[pos++] = 10;
    writer.len = pos;
    const tooLarge = writer.commit(start);
    if (tooLarge > 0) throw fail(ErrorCode.LINE_TOO_LARGE, i, -1, -1, tooLarge);
  }
}

/** Encodes a whole layout into request bodies of at most `maxBodyBytes` each. */
export function encodeLayoutToBodies(layout: ColumnarLayout, maxBodyBytes: number, options: ColumnarEncodeOptions = {}): EncodedBody[] {
  const writer = new ColumnarBodyWriter(maxBodyBytes);
  encodeLayout(layout, writer, options);
  return writer.finish();
}

/** @internal Exposed for tests of the digit writers. */
export const __numbers = { writeInt64, writeFloat, writeUint64 };
