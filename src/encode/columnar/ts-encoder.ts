/**
 * The columnar encoder in TypeScript: a `ColumnarLayout` (see `layout.ts`) to line protocol,
 * written byte by byte into request bodies, without a string or an object per row. This file is
 * the walk over the layout (`encodeLayout`: columns hoisted into flat arrays, then one loop over
 * the rows); the bodies are `body-writer.ts`, the values `value-writers.ts`, the wording of a
 * refusal `layout-error.ts`. Their public names are exported from here too, where the pool,
 * the point and Arrow builders and the WASM glue import them.
 *
 * It is the reference the WASM encoder must match, and it matches the point encoder: for the
 * same rows, the same bytes, the same bodies (cut at the same line ends under `maxBodyBytes`),
 * and the same first error (same row, element, key and reason), checked in the point encoder's
 * order within a row: measurement, tags in key order (key, then value), fields in column order
 * (value, then key), the empty field set, the series key's size, the time, the line's size.
 * @module
 */
import type { InvalidPointError } from '../../errors.js';
import type { EncodedBody } from '../body-builder.js';
import { MAX_STRING_FIELD_BYTES } from '../point-encoder.js';
import { ColumnarBodyWriter } from './body-writer.js';
import { ErrorCode, FieldKind, type ColumnarLayout } from './layout.js';
import { kMaxKeyBytes, layoutError, rowHasField, rowsWithoutField } from './layout-error.js';
import { kMaxNumberBytes, kStringInvalidUtf8, writeFloat, writeInt32, writeInt64, writeStringValue, writeUintDouble } from './value-writers.js';

export { ColumnarBodyWriter } from './body-writer.js';
export { layoutError, rowHasField, rowsWithoutField } from './layout-error.js';

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
  // Locals: an imported constant is loaded from its module cell at every use in the loop.
  const maxKeyBytes = kMaxKeyBytes;
  const maxStringBytes = MAX_STRING_FIELD_BYTES;

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
        if (len > maxStringBytes) throw fail(ErrorCode.STRING_TOO_LONG, i, c, -1, len);
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
    if (first) throw fail(ErrorCode.NO_FIELD, i, -1, -1, rowsWithoutField(fields, i, to, rowBase, skipNonFinite));
    if (checkSeriesKey && seriesBytes + keyBytes + 4 > maxKeyBytes) throw fail(ErrorCode.SERIES_KEY_TOO_LONG, i, -1, -1, seriesBytes + keyBytes + 4);
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
