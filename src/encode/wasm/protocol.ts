/**
 * The memory protocol between the glue (`wasm-encoder.ts`) and the encoder module: the twin of
 * `assembly/protocol.ts`, which describes the regions, the header, the descriptors and the
 * statuses. Same names, same values (a unit test parses the AssemblyScript file and compares;
 * `PROTOCOL_VERSION` is checked against the module's `protocolVersion()` at instantiation).
 * @module
 */
/** Bumped whenever anything in this file changes meaning. */
export const PROTOCOL_VERSION = 1;
/** i32: bit 0 nonFinite 'skipField', bit 1 invalidRows 'skip', bit 2 allowNewlinesInStrings. */
export const H_FLAGS = 0;
/** i32: address of the output region. */
export const H_OUT_PTR = 4;
/** i32: bytes usable in the output region (memory extends SLACK bytes further). */
export const H_OUT_CAP = 8;
/** i32 (out): bytes written to the output region. */
export const H_OUT_LEN = 12;
/** i32 (out): the first row not yet handled (lines written or skipped). */
export const H_NEXT_ROW = 16;
/** i32 (out, status ERROR): an ErrorCode of src/encode/columnar/layout.ts. */
export const H_ERR_CODE = 20;
/** i32 (out): the layout row of the error. */
export const H_ERR_ROW = 24;
/** i32 (out): tag or field column index (-1: none). */
export const H_ERR_COLUMN = 28;
/** i32 (out): dictionary entry (TAG_VALUE; -1: none). */
export const H_ERR_ENTRY = 32;
/** i32 (out): byte count (STRING_TOO_LONG, LINE_TOO_LARGE, SERIES_KEY_TOO_LONG). */
export const H_ERR_DETAIL = 36;
/** i32: address of the segment list. */
export const H_SEG_PTR = 40;
/** i32: capacity of the segment list, in segments (>= 2). */
export const H_SEG_CAP = 44;
/** i32 (out): segments written. */
export const H_SEG_COUNT = 48;
/** i32: address of the skip list. */
export const H_SKIP_PTR = 52;
/** i32: capacity of the skip list, in rows. */
export const H_SKIP_CAP = 56;
/** i32 (out): rows in the skip list. */
export const H_SKIP_COUNT = 60;
/** i32: address and length of the measurement (escaped). */
export const H_MEAS_PTR = 68;
export const H_MEAS_LEN = 72;
/** i32: base of the int64 times (row i at base + 8 i). */
export const H_TIME_BASE = 76;
/** i32: 1 when there is a timeInvalid bitmap, at base H_TIME_INVALID_BASE. */
export const H_HAS_TIME_INVALID = 80;
export const H_TIME_INVALID_BASE = 84;
/** i32: tag columns, and the address of their descriptors. */
export const H_N_TAGS = 88;
export const H_TAGS_PTR = 92;
/** i32: field columns, and the address of their descriptors. */
export const H_N_FIELDS = 96;
export const H_FIELDS_PTR = 100;
/** i32: where prepare() may write derived data (bytes reserved by the glue: H_DERIVED_CAP). */
export const H_DERIVED_PTR = 104;
export const H_DERIVED_CAP = 108;
/** i32 (out of prepare): output bytes a line needs besides its string values (each counted twice). */
export const H_FIXED = 112;
/** f64: maxBodyBytes (compared as JS numbers are). */
export const H_LIMIT = 120;
/** f64: bytes already in the writer's open body when the call starts. */
export const H_BODY_LEN = 128;
/** f64 (out, status NEED_ROOM): output bytes the next row may need. */
export const H_NEED = 136;
/** i32 (out of prepare): string field columns, and the address of their descriptor addresses. */
export const H_N_STRINGS = 144;
export const H_STRINGS_PTR = 148;
export const HEADER_BYTES = 256;
export const T_KEY_PTR = 0;
export const T_KEY_LEN = 4;
export const T_KEY_INVALID = 8;
/** 0: a constant tag (every row takes the fallback). */
export const T_HAS_INDICES = 12;
export const T_INDICES_BASE = 16;
export const T_HAS_VALIDITY = 20;
export const T_VALIDITY_BASE = 24;
/** Escaped entries: data, and entries + 1 i32 offsets into it. */
export const T_DICT_DATA = 28;
export const T_DICT_OFFSETS = 32;
export const T_ENTRIES = 36;
export const T_HAS_INVALID = 40;
/** One byte per entry, 1 = cannot be written. */
export const T_DICT_INVALID = 44;
/** Entry of a row without a value of its own; -1: none. */
export const T_FALLBACK = 48;
/** Derived (prepare): `,key=value` per entry (empty for an empty entry), and entries + 1 offsets. */
export const T_EXP_DATA = 52;
export const T_EXP_OFFSETS = 56;
/** Derived (prepare): 1 when the row loop may take the short path (indices, no validity, nothing invalid, no fallback). */
export const T_SIMPLE = 60;
export const TAG_BYTES = 64;
/** A FieldKind of src/encode/columnar/layout.ts. */
export const F_KIND = 0;
export const F_KEY_PTR = 4;
export const F_KEY_LEN = 8;
export const F_KEY_INVALID = 12;
export const F_HAS_VALIDITY = 16;
export const F_VALIDITY_BASE = 20;
/** Values (FLOAT*: f64, INT32: i32, INT64/UINT64: i64, BOOL: bitmap, STRING: UTF-8 data base). */
export const F_VALUES_BASE = 24;
/** STRING: base of the i32 offsets (row i's value is data[off[i] .. off[i + 1])). */
export const F_OFFSETS_BASE = 28;
/** Derived (prepare): `,key=`. */
export const F_PREFIX_PTR = 32;
export const F_PREFIX_LEN = 36;
export const FIELD_BYTES = 64;
/** Output offset of the segment's end. A segment starts where the previous one ended (or at 0). */
export const S_END = 0;
/** Lines in the segment. */
export const S_LINES = 4;
/** 1: the body is cut before this segment (its first line did not fit the open body). */
export const S_CUT = 8;
/** Output offset of the end of the segment's first line. */
export const S_FIRST_END = 12;
export const SEGMENT_BYTES = 16;
/**
 * Bytes every input region is padded with, and that memory extends past the output's capacity:
 * short copies move 8 bytes at a time and may read and write up to 7 bytes past the end.
 */
export const SLACK = 64;
/** Room a line needs beyond its parts, for those 8-byte copies. */
export const LINE_SLACK = 64;
/** encode() results. */
export const STATUS_DONE = 0;
/** Output, segment list or skip list full: flush, then call again from H_NEXT_ROW. */
export const STATUS_FULL = 1;
/** The output region is empty and still too small for the next row: grow it to H_NEED bytes. */
export const STATUS_NEED_ROOM = 2;
/** H_ERR_* describe the first refused row; the output holds the lines before it. */
export const STATUS_ERROR = 3;
/** Flags (H_FLAGS). */
export const FLAG_SKIP_NON_FINITE = 1;
export const FLAG_SKIP_ROWS = 2;
export const FLAG_ALLOW_NEWLINES = 4;
/** FieldKind of src/encode/columnar/layout.ts. */
export const KIND_FLOAT = 1;
export const KIND_INT32 = 2;
export const KIND_INT64 = 3;
export const KIND_UINT64 = 4;
export const KIND_BOOL = 5;
export const KIND_STRING = 6;
export const KIND_FLOAT_AS_INT = 7;
/** ErrorCode of src/encode/columnar/layout.ts. */
export const ERR_TAG_KEY = 1;
export const ERR_TAG_VALUE = 2;
export const ERR_FIELD_KEY = 3;
export const ERR_FIELD_NON_FINITE = 4;
export const ERR_FIELD_NOT_SAFE_INTEGER = 5;
export const ERR_FIELD_INT64_RANGE = 6;
export const ERR_STRING_TOO_LONG = 7;
export const ERR_STRING_INVALID_UTF8 = 8;
export const ERR_STRING_NEWLINE = 9;
export const ERR_NO_FIELD = 10;
export const ERR_TIME_RANGE = 11;
export const ERR_LINE_TOO_LARGE = 12;
export const ERR_SERIES_KEY_TOO_LONG = 13;
/** MAX_STRING_FIELD_BYTES of src/encode/point-encoder.ts (64 KB). */
export const MAX_STRING_BYTES = 65536;
/** influxd's MaxKeyLength (measurement + tags + field key + 4). */
export const MAX_KEY_BYTES = 65535;
