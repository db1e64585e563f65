// The memory protocol between the JS glue (src/encode/wasm/wasm-encoder.ts) and the encoder.
//
// Every number here has a twin of the same name in src/encode/wasm/protocol.ts; a unit test
// (test/unit/wasm-encoder.test.ts) parses this file and checks that the two agree, and
// `protocolVersion()` lets the glue refuse a stale build/encoder.wasm.
//
// Linear memory, from `headerAddress()` (= __heap_base rounded up to 16) upwards. Everything past
// __heap_base belongs to the glue: the encoder never allocates (runtime stub, no `new`), so
// nothing else writes there.
//
//   header        HEADER_BYTES: the words below (i32, or f64 where it says so)
//   descriptors   TAG_BYTES per tag column, then FIELD_BYTES per field column
//   static        measurement, keys, dictionaries (copied once per encodeLayout call)
//   derived       written by prepare(): per tag `,key=value` for every entry, per field `,key=`
//   skip list     i32 row indices of rows left out (invalidRows: 'skip')
//   segments      SEGMENT_BYTES each: how the output splits into request bodies
//   window        the row arrays of rows [from, to) of the current window (copied per window)
//   output        line protocol; always the last region, so growing memory grows it in place
//
// Row arrays are addressed by *row number of the layout*: the glue copies only rows
// [from, to) and stores `base = address - from * size` (bitmaps: `address - (from >> 3)`), so
// row i is at base + i * size. The subtraction may wrap around 2^32; wasm32 address arithmetic
// wraps the same way, so base + i * size lands on the copy. The `HAS_*` words say whether an
// optional array is present (a base may legitimately be 0).

/** Bumped whenever anything in this file changes meaning. */
export const PROTOCOL_VERSION: i32 = 1;

// ---- header (byte offsets from headerAddress()) ------------------------------------------------

/** i32: bit 0 nonFinite 'skipField', bit 1 invalidRows 'skip', bit 2 allowNewlinesInStrings. */
export const H_FLAGS: i32 = 0;
/** i32: address of the output region. */
export const H_OUT_PTR: i32 = 4;
/** i32: bytes usable in the output region (memory extends SLACK bytes further). */
export const H_OUT_CAP: i32 = 8;
/** i32 (out): bytes written to the output region. */
export const H_OUT_LEN: i32 = 12;
/** i32 (out): the first row not yet handled (lines written or skipped). */
export const H_NEXT_ROW: i32 = 16;
/** i32 (out, status ERROR): an ErrorCode of src/encode/columnar/layout.ts. */
export const H_ERR_CODE: i32 = 20;
/** i32 (out): the layout row of the error. */
export const H_ERR_ROW: i32 = 24;
/** i32 (out): tag or field column index (-1: none). */
export const H_ERR_COLUMN: i32 = 28;
/** i32 (out): dictionary entry (TAG_VALUE; -1: none). */
export const H_ERR_ENTRY: i32 = 32;
/** i32 (out): byte count (STRING_TOO_LONG, LINE_TOO_LARGE, SERIES_KEY_TOO_LONG). */
export const H_ERR_DETAIL: i32 = 36;
/** i32: address of the segment list. */
export const H_SEG_PTR: i32 = 40;
/** i32: capacity of the segment list, in segments (>= 2). */
export const H_SEG_CAP: i32 = 44;
/** i32 (out): segments written. */
export const H_SEG_COUNT: i32 = 48;
/** i32: address of the skip list. */
export const H_SKIP_PTR: i32 = 52;
/** i32: capacity of the skip list, in rows. */
export const H_SKIP_CAP: i32 = 56;
/** i32 (out): rows in the skip list. */
export const H_SKIP_COUNT: i32 = 60;
/** i32: address and length of the measurement (escaped). */
export const H_MEAS_PTR: i32 = 68;
export const H_MEAS_LEN: i32 = 72;
/** i32: base of the int64 times (row i at base + 8 i). */
export const H_TIME_BASE: i32 = 76;
/** i32: 1 when there is a timeInvalid bitmap, at base H_TIME_INVALID_BASE. */
export const H_HAS_TIME_INVALID: i32 = 80;
export const H_TIME_INVALID_BASE: i32 = 84;
/** i32: tag columns, and the address of their descriptors. */
export const H_N_TAGS: i32 = 88;
export const H_TAGS_PTR: i32 = 92;
/** i32: field columns, and the address of their descriptors. */
export const H_N_FIELDS: i32 = 96;
export const H_FIELDS_PTR: i32 = 100;
/** i32: where prepare() may write derived data (bytes reserved by the glue: H_DERIVED_CAP). */
export const H_DERIVED_PTR: i32 = 104;
export const H_DERIVED_CAP: i32 = 108;
/** i32 (out of prepare): output bytes a line needs besides its string values (each counted twice). */
export const H_FIXED: i32 = 112;
/** f64: maxBodyBytes (compared as JS numbers are). */
export const H_LIMIT: i32 = 120;
/** f64: bytes already in the writer's open body when the call starts. */
export const H_BODY_LEN: i32 = 128;
/** f64 (out, status NEED_ROOM): output bytes the next row may need. */
export const H_NEED: i32 = 136;
/** i32 (out of prepare): string field columns, and the address of their descriptor addresses. */
export const H_N_STRINGS: i32 = 144;
export const H_STRINGS_PTR: i32 = 148;
export const HEADER_BYTES: i32 = 256;

// ---- tag descriptor (byte offsets, all i32) --------------------------------------------------

export const T_KEY_PTR: i32 = 0;
export const T_KEY_LEN: i32 = 4;
export const T_KEY_INVALID: i32 = 8;
/** 0: a constant tag (every row takes the fallback). */
export const T_HAS_INDICES: i32 = 12;
export const T_INDICES_BASE: i32 = 16;
export const T_HAS_VALIDITY: i32 = 20;
export const T_VALIDITY_BASE: i32 = 24;
/** Escaped entries: data, and entries + 1 i32 offsets into it. */
export const T_DICT_DATA: i32 = 28;
export const T_DICT_OFFSETS: i32 = 32;
export const T_ENTRIES: i32 = 36;
export const T_HAS_INVALID: i32 = 40;
/** One byte per entry, 1 = cannot be written. */
export const T_DICT_INVALID: i32 = 44;
/** Entry of a row without a value of its own; -1: none. */
export const T_FALLBACK: i32 = 48;
/** Derived (prepare): `,key=value` per entry (empty for an empty entry), and entries + 1 offsets. */
export const T_EXP_DATA: i32 = 52;
export const T_EXP_OFFSETS: i32 = 56;
/** Derived (prepare): 1 when the row loop may take the short path (indices, no validity, nothing invalid, no fallback). */
export const T_SIMPLE: i32 = 60;
export const TAG_BYTES: i32 = 64;

// ---- field descriptor (byte offsets, all i32) ------------------------------------------------

/** A FieldKind of src/encode/columnar/layout.ts. */
export const F_KIND: i32 = 0;
export const F_KEY_PTR: i32 = 4;
export const F_KEY_LEN: i32 = 8;
export const F_KEY_INVALID: i32 = 12;
export const F_HAS_VALIDITY: i32 = 16;
export const F_VALIDITY_BASE: i32 = 20;
/** Values (FLOAT*: f64, INT32: i32, INT64/UINT64: i64, BOOL: bitmap, STRING: UTF-8 data base). */
export const F_VALUES_BASE: i32 = 24;
/** STRING: base of the i32 offsets (row i's value is data[off[i] .. off[i + 1])). */
export const F_OFFSETS_BASE: i32 = 28;
/** Derived (prepare): `,key=`. */
export const F_PREFIX_PTR: i32 = 32;
export const F_PREFIX_LEN: i32 = 36;
export const FIELD_BYTES: i32 = 64;

// ---- segment (byte offsets, all i32) ---------------------------------------------------------

/** Output offset of the segment's end. A segment starts where the previous one ended (or at 0). */
export const S_END: i32 = 0;
/** Lines in the segment. */
export const S_LINES: i32 = 4;
/** 1: the body is cut before this segment (its first line did not fit the open body). */
export const S_CUT: i32 = 8;
/** Output offset of the end of the segment's first line. */
export const S_FIRST_END: i32 = 12;
export const SEGMENT_BYTES: i32 = 16;

// ---- the rest --------------------------------------------------------------------------------

/**
 * Bytes every input region is padded with, and that memory extends past the output's capacity:
 * short copies move 8 bytes at a time and may read and write up to 7 bytes past the end.
 */
export const SLACK: i32 = 64;
/** Room a line needs beyond its parts, for those 8-byte copies. */
export const LINE_SLACK: i32 = 64;

/** encode() results. */
export const STATUS_DONE: i32 = 0;
/** Output, segment list or skip list full: flush, then call again from H_NEXT_ROW. */
export const STATUS_FULL: i32 = 1;
/** The output region is empty and still too small for the next row: grow it to H_NEED bytes. */
export const STATUS_NEED_ROOM: i32 = 2;
/** H_ERR_* describe the first refused row; the output holds the lines before it. */
export const STATUS_ERROR: i32 = 3;

/** Flags (H_FLAGS). */
export const FLAG_SKIP_NON_FINITE: i32 = 1;
export const FLAG_SKIP_ROWS: i32 = 2;
export const FLAG_ALLOW_NEWLINES: i32 = 4;

/** FieldKind of src/encode/columnar/layout.ts. */
export const KIND_FLOAT: i32 = 1;
export const KIND_INT32: i32 = 2;
export const KIND_INT64: i32 = 3;
export const KIND_UINT64: i32 = 4;
export const KIND_BOOL: i32 = 5;
export const KIND_STRING: i32 = 6;
export const KIND_FLOAT_AS_INT: i32 = 7;

/** ErrorCode of src/encode/columnar/layout.ts. */
export const ERR_TAG_KEY: i32 = 1;
export const ERR_TAG_VALUE: i32 = 2;
export const ERR_FIELD_KEY: i32 = 3;
export const ERR_FIELD_NON_FINITE: i32 = 4;
export const ERR_FIELD_NOT_SAFE_INTEGER: i32 = 5;
export const ERR_FIELD_INT64_RANGE: i32 = 6;
export const ERR_STRING_TOO_LONG: i32 = 7;
export const ERR_STRING_INVALID_UTF8: i32 = 8;
export const ERR_STRING_NEWLINE: i32 = 9;
export const ERR_NO_FIELD: i32 = 10;
export const ERR_TIME_RANGE: i32 = 11;
export const ERR_LINE_TOO_LARGE: i32 = 12;
export const ERR_SERIES_KEY_TOO_LONG: i32 = 13;

/** MAX_STRING_FIELD_BYTES of src/encode/point-encoder.ts (64 KB). */
export const MAX_STRING_BYTES: i32 = 65536;
/** influxd's MaxKeyLength (measurement + tags + field key + 4). */
export const MAX_KEY_BYTES: i32 = 65535;
