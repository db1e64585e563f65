/**
 * The columnar layout: one batch of rows, ready to be written as line protocol by a column
 * encoder (`ts-encoder.ts` here; a WASM module next). Everything the encoder reads is a plain
 * typed array or a number, so the same layout can be copied into linear memory as is:
 *
 * - names (measurement, keys, tag values) are already checked and escaped, as UTF-8 bytes;
 * - times are int64 in the write's precision (already converted, already range-checked);
 * - every column carries an optional validity bitmap: bit `i` (LSB first, byte `i >> 3`,
 *   starting at bit 0 of byte 0) set = row `i` has a value; `null` = every row has a value;
 * - strings are Arrow-style: `Int32Array` offsets (rows + 1, absolute) into a `Uint8Array`.
 *
 * What the encoder cannot know from bytes (the reason a name was refused, the original text of
 * a refused time) lives in `meta` and in the `name` strings: JavaScript reads them to word the
 * error once the encoder has reported *where* it stopped (an `ErrorCode`, a row, a column).
 * A WASM encoder ignores them.
 *
 * Lines are the point encoder's, byte for byte: measurement, then tags sorted by key (JS string
 * order of the unescaped keys), then fields in column order, then the time:
 * `m,t1=v1,t2=v2 f1=1,f2=2i,f3="s",f4=true 1704067200000000000\n`.
 * @module
 */
import type { Precision } from '../../types.js';

/** How a field column's values are stored and written. */
export const FieldKind = {
  /** `Float64Array` values, written like `formatFloat` (`String(x)`, `-0` kept). NaN/±Inf are refused (or skipped). */
  FLOAT: 1,
  /** `Int32Array` values (Arrow Int8/16/32, Uint8/16), written as digits + `i`. */
  INT32: 2,
  /** `BigInt64Array` values (Arrow Int64, Uint32), written as digits + `i`. */
  INT64: 3,
  /**
   * `BigInt64Array` holding Arrow Uint64 bits as is: a value whose top bit is set (read as a
   * negative int64) is above 2^63 - 1 and is refused (`FIELD_INT64_RANGE`); the rest as INT64.
   */
  UINT64: 4,
  /** Bit-packed `Uint8Array` (LSB first, bit offset 0), written as `true` / `false`. */
  BOOL: 5,
  /**
   * `Int32Array` offsets (rows + 1) into a `Uint8Array` of raw UTF-8 (not escaped). The encoder
   * checks each value (at most 64 KB, well-formed UTF-8, no `\n`/`\r` unless allowed) and
   * escapes `"` and `\` byte by byte.
   */
  STRING: 6,
  /** `Float64Array` values declared `integer` by `fieldTypes`: each must be a safe integer, written + `i`. */
  FLOAT_AS_INT: 7,
} as const;
export type FieldKind = (typeof FieldKind)[keyof typeof FieldKind];

/**
 * Where and why the encoder stopped. The encoder reports (code, row, column index, entry);
 * `layoutError()` in `layout-error.ts` turns that into the `InvalidPointError` the point encoder
 * would have thrown for the same row.
 */
export const ErrorCode = {
  /** A tag column's key cannot be written (reserved, or not a valid name): first row that has the tag. */
  TAG_KEY: 1,
  /** A dictionary entry cannot be written as a tag value (`dictInvalid[entry]`). */
  TAG_VALUE: 2,
  /** A field column's key cannot be written: first row that has a value in it. */
  FIELD_KEY: 3,
  /** NaN or ±Infinity in a float column (with `nonFinite: 'error'`). */
  FIELD_NON_FINITE: 4,
  /** FLOAT_AS_INT value that is not a safe integer. */
  FIELD_NOT_SAFE_INTEGER: 5,
  /** UINT64 value above 2^63 - 1. */
  FIELD_INT64_RANGE: 6,
  /** String value over 64 KB. */
  STRING_TOO_LONG: 7,
  /** String value that is not well-formed UTF-8. */
  STRING_INVALID_UTF8: 8,
  /** String value containing `\n` or `\r`. */
  STRING_NEWLINE: 9,
  /** A row with no field value (with `invalidRows: 'error'`). */
  NO_FIELD: 10,
  /** The row's time cannot be written (`timeInvalid` bit set; the reason is in `meta.timeReasons`). */
  TIME_RANGE: 11,
  /** One line is larger than a whole request body. */
  LINE_TOO_LARGE: 12,
  /**
   * The series key (measurement, tags, field key, + 4) is over influxd's 65,535 bytes, counting
   * the written field key that is longest in bytes, as influxd does.
   */
  SERIES_KEY_TOO_LONG: 13,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** A bit-packed validity (or boolean) bitmap: bit i = byte `i >> 3`, bit `i & 7`. `null`: all set. */
export type Bitmap = Uint8Array | null;

export interface TagColumn {
  /** The key as given (unescaped): JS-side, for sorting and for messages. */
  readonly name: string;
  /** The key, checked and escaped (`,` `=` space), UTF-8. */
  readonly key: Uint8Array;
  /**
   * 1 when the key cannot be written (reserved like `time`, or not a valid name): the encoder
   * stops at the first row that has this tag (`TAG_KEY`). 0 otherwise.
   */
  readonly keyInvalid: number;
  /**
   * Per row, the index of its value in the dictionary; `null` for a constant tag (an extra tag
   * of the write), whose rows all take `fallback`.
   */
  readonly indices: Int32Array | null;
  /** Rows that have a value (a null row takes `fallback`, or has no such tag). */
  readonly validity: Bitmap;
  /**
   * Dictionary entries, escaped once each, concatenated; entry `e` is
   * `dictData[dictOffsets[e] .. dictOffsets[e + 1])`. An empty entry is no value (a null or
   * empty string in the source: InfluxDB refuses empty tag values, so the tag is left out, and
   * the row takes `fallback`).
   */
  readonly dictData: Uint8Array;
  /** Entries + 1 offsets into `dictData`. */
  readonly dictOffsets: Int32Array;
  /**
   * One byte per entry, 1 = the entry cannot be written (newline, unrepresentable backslash,
   * invalid UTF-8): the encoder stops at the first row that uses it (`TAG_VALUE`). Such an
   * entry holds its raw bytes, unescaped, for the message. `null`: every entry is valid.
   */
  readonly dictInvalid: Uint8Array | null;
  /**
   * The entry a row takes when it has no value of its own: the write's extra tag of the same
   * key (`tags` option; the row's own value wins, as for points). -1: none, the tag is left out.
   */
  readonly fallback: number;
  /**
   * The component hash (line-protocol/series.ts) of each entry's `key=value`, when the builder
   * keeps them (the point builder, whose dictionaries change in place); else the lanes hash the
   * entries themselves. Read for the lanes only, never by the encoders.
   */
  readonly pairHashes?: Int32Array;
}

interface FieldBase {
  /** The key as given (unescaped): JS-side, for messages. */
  readonly name: string;
  /** The key, checked and escaped (`,` `=` space), UTF-8. */
  readonly key: Uint8Array;
  /** 1 when the key cannot be written: the encoder stops at the first row with a value here (`FIELD_KEY`). */
  readonly keyInvalid: number;
  /** Rows that have a value; a row without one leaves the field out of its line. */
  readonly validity: Bitmap;
}
export interface FloatField extends FieldBase {
  readonly kind: typeof FieldKind.FLOAT | typeof FieldKind.FLOAT_AS_INT;
  readonly values: Float64Array;
}
export interface Int32Field extends FieldBase {
  readonly kind: typeof FieldKind.INT32;
  readonly values: Int32Array;
}
export interface Int64Field extends FieldBase {
  readonly kind: typeof FieldKind.INT64 | typeof FieldKind.UINT64;
  readonly values: BigInt64Array;
}
export interface BoolField extends FieldBase {
  readonly kind: typeof FieldKind.BOOL;
  /** Bit-packed, LSB first, bit offset 0. */
  readonly values: Uint8Array;
}
export interface StringField extends FieldBase {
  readonly kind: typeof FieldKind.STRING;
  /** Rows + 1 offsets into `values` (absolute: `offsets[0]` need not be 0). */
  readonly offsets: Int32Array;
  /** Raw UTF-8 bytes, not escaped. */
  readonly values: Uint8Array;
}
export type FieldColumn = FloatField | Int32Field | Int64Field | BoolField | StringField;

/** JS-side details for messages; not read by the encoder. */
export interface LayoutMeta {
  /** The write's precision (times are already in it). */
  readonly precision: Precision;
  /** Why the time of a row with a `timeInvalid` bit cannot be written, by row. */
  readonly timeReasons: ReadonlyMap<number, string>;
}

export interface ColumnarLayout {
  /** Number of rows. Row indices in errors are `rowBase + i`. */
  readonly rows: number;
  /** The measurement, checked and escaped (`,` space), UTF-8. */
  readonly measurement: Uint8Array;
  /** Per row, the timestamp in the write's precision (`rows` values). */
  readonly time: BigInt64Array;
  /** Rows whose time cannot be written (out of InfluxDB's range, unparseable): `TIME_RANGE`. `null`: none. */
  readonly timeInvalid: Bitmap;
  /** Tag columns, sorted by `name` (JS string comparison), at most one per key. */
  readonly tags: readonly TagColumn[];
  /** Field columns in column order. */
  readonly fields: readonly FieldColumn[];
  readonly meta: LayoutMeta;
}

/** Whether bit `i` of a bitmap is set (`null` = all set). */
export function bit(bitmap: Bitmap, i: number): boolean {
  return bitmap === null || (bitmap[i >> 3]! & (1 << (i & 7))) !== 0;
}
