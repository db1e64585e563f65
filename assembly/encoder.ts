// The line-protocol encoder over the columnar layout (src/encode/columnar/layout.ts), laid out in
// linear memory by the glue as protocol.ts describes.
//
// It is encodeLayout of src/encode/columnar/ts-encoder.ts row for row: same bytes, same checks
// in the same order (so the same first error), same rows skipped, and the same body cuts,
// decided here with the writer's rule (a line that would take the open body over maxBodyBytes
// starts a new one) and reported as segments, so that the glue replays them into the writer.
//
// Speed notes (why the code looks the way it does):
// - Short copies (measurement, `,key=value` tag entries, `,key=` field prefixes) move 8 bytes at
//   a time and may overrun their end by up to 7 bytes, on both sides: every input region is
//   padded (SLACK) and a line reserves LINE_SLACK output bytes; the next write overwrites the
//   overrun. A `memory.copy` per tag would cost a call into the engine each.
// - Tag entries are expanded once per call into `,key=value` (prepare.ts), so a tag is one copy.
// - String values are checked and escaped 8 bytes at a time while no byte needs a look
//   (ASCII other than `"`, `\`, `\n`, `\r`), byte by byte around the ones that do (string.ts).
// - Times: the digits of t / 10^8 are kept from row to row (see writeTime).
// - Per-call state lives in globals, read once from the header by encode().

import { writeI32, writeI64, writeU64 } from "./number/index";
import { writeFloat } from "./float";
import { digits8 } from "./swar";
import { STR_INVALID_UTF8, STR_NEWLINE, writeString } from "./string";
import { bitAt, copyShort, header, i32At, ptrAt } from "./access";
import {
  H_FLAGS, H_OUT_PTR, H_OUT_CAP, H_OUT_LEN, H_NEXT_ROW, H_ERR_CODE, H_ERR_ROW, H_ERR_COLUMN,
  H_ERR_ENTRY, H_ERR_DETAIL, H_SEG_PTR, H_SEG_CAP, H_SEG_COUNT, H_SKIP_PTR, H_SKIP_CAP, H_SKIP_COUNT,
  H_NEED, H_MEAS_PTR, H_MEAS_LEN, H_TIME_BASE, H_HAS_TIME_INVALID, H_TIME_INVALID_BASE, H_N_TAGS,
  H_TAGS_PTR, H_N_FIELDS, H_FIELDS_PTR, H_FIXED, H_LIMIT, H_BODY_LEN, H_N_STRINGS, H_STRINGS_PTR,
  T_KEY_INVALID, T_HAS_INDICES, T_INDICES_BASE, T_HAS_VALIDITY, T_VALIDITY_BASE, T_ENTRIES,
  T_HAS_INVALID, T_DICT_INVALID, T_FALLBACK, T_EXP_DATA, T_EXP_OFFSETS, T_SIMPLE, TAG_BYTES, F_KIND,
  F_KEY_LEN, F_KEY_INVALID, F_HAS_VALIDITY, F_VALIDITY_BASE, F_VALUES_BASE, F_OFFSETS_BASE,
  F_PREFIX_PTR, F_PREFIX_LEN, FIELD_BYTES, S_END, S_LINES, S_CUT, S_FIRST_END, SEGMENT_BYTES, SLACK,
  LINE_SLACK, STATUS_DONE, STATUS_FULL, STATUS_NEED_ROOM, STATUS_ERROR, FLAG_SKIP_NON_FINITE,
  FLAG_SKIP_ROWS, FLAG_ALLOW_NEWLINES, KIND_FLOAT, KIND_INT32, KIND_INT64, KIND_UINT64, KIND_BOOL,
  KIND_STRING, KIND_FLOAT_AS_INT, ERR_TAG_KEY, ERR_TAG_VALUE, ERR_FIELD_KEY, ERR_FIELD_NON_FINITE,
  ERR_FIELD_NOT_SAFE_INTEGER, ERR_FIELD_INT64_RANGE, ERR_STRING_TOO_LONG, ERR_STRING_INVALID_UTF8,
  ERR_STRING_NEWLINE, ERR_NO_FIELD, ERR_TIME_RANGE, ERR_LINE_TOO_LARGE, ERR_SERIES_KEY_TOO_LONG,
  MAX_STRING_BYTES, MAX_KEY_BYTES,
} from "./protocol";

// ---- encode ----------------------------------------------------------------------------------

// Per-call state, read from the header by encode().
let gSkipNonFinite = false;
let gAllowNewlines = false;
let gMeasPtr: usize = 0;
let gMeasLen: usize = 0;
let gTimeBase: usize = 0;
let gHasTimeInvalid = false;
let gTimeInvalidBase: usize = 0;
let gNTags: i32 = 0;
let gTags: usize = 0;
let gNFields: i32 = 0;
let gFields: usize = 0;

/** Records the first error (row i): encode() returns STATUS_ERROR. Always returns 0 (no position). */
function fail(code: i32, i: i32, column: i32, entry: i32, detail: i32): usize {
  const h = header();
  store<i32>(h + H_ERR_CODE, code);
  store<i32>(h + H_ERR_ROW, i);
  store<i32>(h + H_ERR_COLUMN, column);
  store<i32>(h + H_ERR_ENTRY, entry);
  store<i32>(h + H_ERR_DETAIL, detail);
  return 0;
}

/** Whether row i has a field that would be written (rowHasField of src/encode/columnar/layout-error.ts). */
function rowHasField(i: i32): bool {
  for (let c = 0; c < gNFields; c++) {
    const d = gFields + <usize>(c * FIELD_BYTES);
    if (i32At(d, F_HAS_VALIDITY) != 0 && !bitAt(ptrAt(d, F_VALIDITY_BASE), i)) continue;
    if (gSkipNonFinite) {
      const kind = i32At(d, F_KIND);
      if (kind == KIND_FLOAT || kind == KIND_FLOAT_AS_INT) {
        const x = load<f64>(ptrAt(d, F_VALUES_BASE) + (<usize>i << 3));
        if (x - x != 0) continue;
      }
    }
    return true;
  }
  return false;
}

/**
 * Writes row i's line at `pos` (room checked by the caller). Returns the end of the line, or 0
 * after fail() recorded why the row is refused. Checks come in ts-encoder.ts's order: tags in
 * key order (key, then value), fields in column order (value, then key), no field, series key
 * size, time.
 */
function writeRow(i: i32, pos: usize): usize {
  const lineStart = pos;
  copyShort(pos, gMeasPtr, gMeasLen);
  pos += gMeasLen;

  for (let t = 0; t < gNTags; t++) {
    const d = gTags + <usize>(t * TAG_BYTES);
    const entries = i32At(d, T_ENTRIES);
    const expOffsets = ptrAt(d, T_EXP_OFFSETS);
    if (i32At(d, T_SIMPLE) != 0) {
      // The common case (a dictionary column, every row valid, nothing invalid, no fallback):
      // an index in range is one copy (of nothing for an empty entry); any other writes nothing,
      // as the general path below would.
      const e = load<i32>(ptrAt(d, T_INDICES_BASE) + (<usize>i << 2));
      if (<u32>e < <u32>entries) {
        const eo = expOffsets + (<usize>e << 2);
        const a = load<i32>(eo);
        const len = <usize>(load<i32>(eo, 4) - a);
        copyShort(pos, ptrAt(d, T_EXP_DATA) + <usize>a, len);
        pos += len;
      }
      continue;
    }
    let e: i32 = -1;
    if (i32At(d, T_HAS_INDICES) != 0) {
      if (i32At(d, T_HAS_VALIDITY) == 0 || bitAt(ptrAt(d, T_VALIDITY_BASE), i)) {
        e = load<i32>(ptrAt(d, T_INDICES_BASE) + (<usize>i << 2));
        if (<u32>e < <u32>entries) {
          // An empty entry is no value.
          const eo = expOffsets + (<usize>e << 2);
          if (load<i32>(eo) == load<i32>(eo, 4)) e = -1;
        } else if (e != entries) {
          // Out of range (corrupt indices): no value, as the TypeScript encoder reads it.
          e = -1;
        }
      }
    }
    if (e < 0) {
      e = i32At(d, T_FALLBACK);
      if (e < 0) continue;
    }
    if (i32At(d, T_KEY_INVALID) != 0) return fail(ERR_TAG_KEY, i, t, -1, 0);
    if (i32At(d, T_HAS_INVALID) != 0 && (e >= entries || load<u8>(ptrAt(d, T_DICT_INVALID) + <usize>e) != 0)) {
      return fail(ERR_TAG_VALUE, i, t, e, 0);
    }
    // e == entries (corrupt indices) writes nothing, as in the TypeScript encoder.
    if (e >= entries) continue;
    const eo = expOffsets + (<usize>e << 2);
    const a = load<i32>(eo);
    const len = <usize>(load<i32>(eo, 4) - a);
    copyShort(pos, ptrAt(d, T_EXP_DATA) + <usize>a, len);
    pos += len;
  }

  const seriesBytes = <i32>(pos - lineStart);
  let keyBytes: i32 = 0;
  let first = true;
  for (let c = 0; c < gNFields; c++) {
    const d = gFields + <usize>(c * FIELD_BYTES);
    if (i32At(d, F_HAS_VALIDITY) != 0 && !bitAt(ptrAt(d, F_VALIDITY_BASE), i)) continue;
    const kind = i32At(d, F_KIND);
    const values = ptrAt(d, F_VALUES_BASE);
    // The value is checked before the key, as the point encoder does.
    let x: f64 = 0;
    let strStart: i32 = 0;
    let strLen: i32 = 0;
    if (kind == KIND_FLOAT || kind == KIND_FLOAT_AS_INT) {
      x = load<f64>(values + (<usize>i << 3));
      if (x - x != 0) {
        // NaN or +-Infinity.
        if (gSkipNonFinite) continue;
        return fail(kind == KIND_FLOAT ? ERR_FIELD_NON_FINITE : ERR_FIELD_NOT_SAFE_INTEGER, i, c, -1, 0);
      }
      if (kind == KIND_FLOAT_AS_INT && !(Math.abs(x) <= 9007199254740991.0 && Math.trunc(x) == x)) {
        return fail(ERR_FIELD_NOT_SAFE_INTEGER, i, c, -1, 0);
      }
    } else if (kind == KIND_UINT64) {
      if (load<i64>(values + (<usize>i << 3)) < 0) return fail(ERR_FIELD_INT64_RANGE, i, c, -1, 0);
    } else if (kind == KIND_STRING) {
      const o = ptrAt(d, F_OFFSETS_BASE) + (<usize>i << 2);
      strStart = load<i32>(o);
      strLen = load<i32>(o, 4) - strStart;
      if (strLen > MAX_STRING_BYTES) return fail(ERR_STRING_TOO_LONG, i, c, -1, strLen);
    }
    if (i32At(d, F_KEY_INVALID) != 0) {
      // A string is checked while it is written, so write it (the line is discarded anyway).
      if (kind == KIND_STRING) {
        const r = writeString(pos, values + <usize>strStart, strLen, gAllowNewlines);
        if (r == STR_INVALID_UTF8) return fail(ERR_STRING_INVALID_UTF8, i, c, -1, 0);
        if (r == STR_NEWLINE) return fail(ERR_STRING_NEWLINE, i, c, -1, 0);
      }
      return fail(ERR_FIELD_KEY, i, c, -1, 0);
    }
    // influxd counts the longest field key of the line in bytes.
    const keyLen = i32At(d, F_KEY_LEN);
    if (keyLen > keyBytes) keyBytes = keyLen;
    const prefixLen = ptrAt(d, F_PREFIX_LEN);
    copyShort(pos, ptrAt(d, F_PREFIX_PTR), prefixLen);
    if (first) {
      store<u8>(pos, 0x20); // the first field follows a space, not a comma
      first = false;
    }
    pos += prefixLen;
    switch (kind) {
      case KIND_FLOAT: {
        pos += <usize>writeFloat(pos, x);
        break;
      }
      case KIND_FLOAT_AS_INT: {
        if (x < 0) {
          store<u8>(pos, 0x2D);
          pos++;
          x = -x;
        }
        pos += <usize>writeU64(pos, <u64><i64>x); // x <= 2^53 - 1: the signed conversion is exact
        store<u8>(pos, 0x69);
        pos++;
        break;
      }
      case KIND_INT32: {
        pos += <usize>writeI32(pos, load<i32>(values + (<usize>i << 2)));
        store<u8>(pos, 0x69);
        pos++;
        break;
      }
      case KIND_INT64:
      case KIND_UINT64: {
        pos += <usize>writeI64(pos, load<i64>(values + (<usize>i << 3)));
        store<u8>(pos, 0x69);
        pos++;
        break;
      }
      case KIND_BOOL: {
        if (bitAt(values, i)) {
          store<u32>(pos, 0x65757274); // "true"
          pos += 4;
        } else {
          store<u32>(pos, 0x736C6166); // "fals"
          store<u8>(pos, 0x65, 4); // "e"
          pos += 5;
        }
        break;
      }
      default: {
        const r = writeString(pos, values + <usize>strStart, strLen, gAllowNewlines);
        if (r == STR_INVALID_UTF8) return fail(ERR_STRING_INVALID_UTF8, i, c, -1, 0);
        if (r == STR_NEWLINE) return fail(ERR_STRING_NEWLINE, i, c, -1, 0);
        pos = r;
      }
    }
  }
  if (first) return fail(ERR_NO_FIELD, i, -1, -1, 0);
  if (seriesBytes + keyBytes + 4 > MAX_KEY_BYTES) return fail(ERR_SERIES_KEY_TOO_LONG, i, -1, -1, seriesBytes + keyBytes + 4);
  if (gHasTimeInvalid && bitAt(gTimeInvalidBase, i)) return fail(ERR_TIME_RANGE, i, -1, -1, 0);
  store<u8>(pos, 0x20);
  pos = writeTime(pos + 1, load<i64>(gTimeBase + (<usize>i << 3)));
  store<u8>(pos, 0x0A);
  return pos + 1;
}

// The digits of the last time's t / 10^8, for times in [gTimeLo, gTimeHi) (empty at first).
let gTimeLo: i64 = 0;
let gTimeHi: i64 = 0;
let gTimeDigits0: u64 = 0;
let gTimeDigits1: u64 = 0;
let gTimeDigitsLen: usize = 0;
// @ts-ignore: decorator
@lazy const TIME_SCRATCH: usize = memory.data(32, 8);

/**
 * Writes a time (writeI64), faster for runs of close times, which is what time series are: a
 * time of 9 digits or more is t / 10^8 (up to 11 digits) then 8 digits, and the first part
 * changes every 10^8 units (0.1 s in nanoseconds), so its digits are kept and only the last 8
 * are made per row (one SWAR word, no 64-bit division).
 */
// @ts-ignore: decorator
@inline function writeTime(pos: usize, t: i64): usize {
  if (t >= gTimeLo && t < gTimeHi) {
    store<u64>(pos, gTimeDigits0);
    store<u64>(pos, gTimeDigits1, 8);
    pos += gTimeDigitsLen;
    store<u64>(pos, digits8(<u32>(t - gTimeLo)));
    return pos + 8;
  }
  if (t < 100000000) return pos + <usize>writeI64(pos, t);
  const q = t / 100000000;
  gTimeLo = q * 100000000;
  gTimeHi = gTimeLo + 100000000;
  gTimeDigitsLen = <usize>writeI64(TIME_SCRATCH, q);
  gTimeDigits0 = load<u64>(TIME_SCRATCH);
  gTimeDigits1 = load<u64>(TIME_SCRATCH, 8);
  store<u64>(pos, gTimeDigits0);
  store<u64>(pos, gTimeDigits1, 8);
  pos += gTimeDigitsLen;
  store<u64>(pos, digits8(<u32>(t - gTimeLo)));
  return pos + 8;
}

/**
 * Encodes rows [from, to) of the current window into the output region, until they are done,
 * a list is full, or a row is refused (see STATUS_*). Lines are cut into bodies as
 * ColumnarBodyWriter cuts them, starting from H_BODY_LEN bytes in the open body; the cuts come
 * back as segments. A row is either wholly written (its line) or wholly not: on FULL and
 * NEED_ROOM the glue calls again from H_NEXT_ROW.
 */
export function encode(from: i32, to: i32): i32 {
  const h = header();
  const flags = i32At(h, H_FLAGS);
  gSkipNonFinite = (flags & FLAG_SKIP_NON_FINITE) != 0;
  gAllowNewlines = (flags & FLAG_ALLOW_NEWLINES) != 0;
  const skipRows = (flags & FLAG_SKIP_ROWS) != 0;
  gMeasPtr = ptrAt(h, H_MEAS_PTR);
  gMeasLen = ptrAt(h, H_MEAS_LEN);
  gTimeBase = ptrAt(h, H_TIME_BASE);
  gHasTimeInvalid = i32At(h, H_HAS_TIME_INVALID) != 0;
  gTimeInvalidBase = ptrAt(h, H_TIME_INVALID_BASE);
  gNTags = i32At(h, H_N_TAGS);
  gTags = ptrAt(h, H_TAGS_PTR);
  gNFields = i32At(h, H_N_FIELDS);
  gFields = ptrAt(h, H_FIELDS_PTR);
  const nStrings = i32At(h, H_N_STRINGS);
  const strings = ptrAt(h, H_STRINGS_PTR);
  const fixed = <u64>i32At(h, H_FIXED);

  const out = ptrAt(h, H_OUT_PTR);
  const outEnd = out + ptrAt(h, H_OUT_CAP);
  const limit = load<f64>(h + H_LIMIT);
  let bodyLen = load<f64>(h + H_BODY_LEN);
  const segs = ptrAt(h, H_SEG_PTR);
  const segCap = i32At(h, H_SEG_CAP);
  const skips = ptrAt(h, H_SKIP_PTR);
  const skipCap = i32At(h, H_SKIP_CAP);

  // The open segment: lines, whether the body is cut before it, end of its first line.
  let segCount: i32 = 0;
  let segLines: i32 = 0;
  let segCut: i32 = 0;
  let segFirstEnd: usize = 0;
  let skipCount: i32 = 0;
  let status = STATUS_DONE;
  let pos = out;
  let tail: usize = 0;
  let i = from;
  for (; i < to; i++) {
    // A row that is left out is not checked any further.
    if (skipRows && !rowHasField(i)) {
      if (skipCount == skipCap) {
        status = STATUS_FULL;
        break;
      }
      assert(skipCount < skipCap, "skip list overflow");
      store<i32>(skips + (<usize>skipCount << 2), i);
      skipCount++;
      continue;
    }
    // Room for the whole line: fixed parts, plus twice each string (every byte may need a backslash).
    let need = fixed;
    for (let s = 0; s < nStrings; s++) {
      const o = ptrAt(ptrAt(strings, <usize>s << 2), F_OFFSETS_BASE) + (<usize>i << 2);
      const len = load<i32>(o, 4) - load<i32>(o);
      // (A negative length, from corrupt offsets, writes `""` in both encoders.)
      if (len > 0) need += <u64>len << 1;
    }
    if (<u64>pos + need > <u64>outEnd) {
      if (pos == out) {
        store<f64>(h + H_NEED, <f64>need);
        status = STATUS_NEED_ROOM;
      } else status = STATUS_FULL;
      break;
    }
    const lineStart = pos;
    const end = writeRow(i, pos);
    if (end == 0) {
      status = STATUS_ERROR;
      break;
    }
    assert(end <= outEnd, "line past the output region");
    const len = <f64>(end - lineStart);
    // ColumnarBodyWriter.commit: a line larger than a body is refused; one that would take the
    // open body over the limit starts the next body.
    if (len > limit) {
      fail(ERR_LINE_TOO_LARGE, i, -1, -1, <i32>len);
      status = STATUS_ERROR;
      // The writer holds the refused line's bytes, uncommitted, when it reports it: so does the
      // glue (the output ends after it, the segments before it).
      tail = end;
      break;
    }
    if (bodyLen + len > limit) {
      // Close the open segment (the writer's body ends before this line) and open the next.
      if (segCount + 2 > segCap) {
        status = STATUS_FULL;
        break;
      }
      const sd = segs + <usize>(segCount * SEGMENT_BYTES);
      store<i32>(sd + S_END, <i32>(lineStart - out));
      store<i32>(sd + S_LINES, segLines);
      store<i32>(sd + S_CUT, segCut);
      store<i32>(sd + S_FIRST_END, <i32>segFirstEnd);
      segCount++;
      segLines = 1;
      segCut = 1;
      segFirstEnd = end - out;
      bodyLen = len;
    } else {
      if (segLines == 0) segFirstEnd = end - out;
      segLines++;
      bodyLen += len;
    }
    pos = end;
  }
  // The open segment ends where the last whole line ended.
  assert(segCount < segCap, "segment list overflow");
  const sd = segs + <usize>(segCount * SEGMENT_BYTES);
  store<i32>(sd + S_END, <i32>(pos - out));
  store<i32>(sd + S_LINES, segLines);
  store<i32>(sd + S_CUT, segCut);
  store<i32>(sd + S_FIRST_END, <i32>segFirstEnd);
  store<i32>(h + H_SEG_COUNT, segCount + 1);
  store<i32>(h + H_SKIP_COUNT, skipCount);
  store<i32>(h + H_OUT_LEN, <i32>((tail != 0 ? tail : pos) - out));
  store<i32>(h + H_NEXT_ROW, i);
  return status;
}
