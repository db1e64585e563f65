/**
 * The `arrow` output format (alias `dataframe`): Apache Arrow tables, the DataFrame of this port.
 *
 * Shape, as aioinflux's DataFrames:
 * - one statement with one series: a `Table`;
 * - one statement with several series (GROUP BY, or `FROM a, b`): a `Map<key, Table>`, the key
 *   being `measurement,tag=value,...` (tags sorted by key, nothing escaped: aioinflux's name);
 * - one statement without series: an empty `Map` (aioinflux's empty dict);
 * - several statements: an array with one such entry (Table or Map) per statement.
 *
 * Column types come from the server's schema (`SchemaCache`), not from the JSON values:
 * time -> Timestamp(ns, 'UTC'), float -> Float64, integer -> Int64, string -> Utf8,
 * boolean -> Bool, tags -> Dictionary<Utf8, Int32>. A series' GROUP BY tags become constant
 * dictionary columns after the others (aioinflux's `df[k] = v`), and every table carries
 * schema metadata `measurement`, `tags` (JSON), `statement_id` and `key`.
 *
 * Columns the schema does not name (function results such as `mean`, `count`, aliases, SHOW
 * statements) get a type inferred from their values, see `inferKind`. Nanosecond times and
 * int64 values are exact: columns are built straight into `BigInt64Array`s, never through
 * Arrow's builders (which carry timestamps as milliseconds in a double).
 */
import {
  Bool, type Data, Dictionary, Float64, Int32, Int64, Null, type RecordBatch, type Table, TimeUnit, Timestamp, Uint64, Utf8, type Vector, makeData, makeVector,
} from 'apache-arrow';
import { parseIsoToNs } from '../../encode/time.js';
import { InfluxDBResponseError } from '../../errors.js';
import type { Epoch } from '../../types.js';
import type { QueryResponse, Series } from '../response.js';
import { statementResult, toRecordBatch, type ConstantSource } from './batch.js';
import type { MeasurementSchema } from './schema.js';
import type { ColumnType } from '../../types.js';

/** A column type that can be forced with `columnTypes` (types.ts). */
export type { ColumnType } from '../../types.js';

/** Sync lookup of a measurement's schema; `undefined` when unknown (types are then inferred). */
export type SchemaLookup = (measurement: string) => MeasurementSchema | undefined;
/** As `SchemaLookup`, possibly asynchronous (for chunked streams). */
export type AsyncSchemaLookup = (measurement: string) => MeasurementSchema | undefined | Promise<MeasurementSchema | undefined>;

export type ArrowStatementResult = Table | Map<string, Table>;
export type ArrowResult = ArrowStatementResult | ArrowStatementResult[];

export interface ArrowOptions {
  /**
   * Unit of numeric times in the answer (the query's `epoch`; default `n`). `n`, `u`, `ms`, `s`
   * map to the matching Timestamp unit; `m` and `h` are converted to seconds. RFC 3339 strings
   * (a query without epoch) are read exactly into nanoseconds whatever this says.
   */
  epoch?: Epoch;
  /** Force the type of columns by name, e.g. `{ max: 'integer' }` for `SELECT max(int_field)`. */
  columnTypes?: Record<string, ColumnType>;
  /** Add a series' GROUP BY tags as constant dictionary columns (default true, as aioinflux). */
  groupTagColumns?: boolean;
}

export {
  columnField, field, kFieldKind, kMetaKey, kMetaMeasurement, kMetaPartial, kMetaStatementId, kMetaTags, seriesBatch, seriesKey,
} from './batch.js';

/** The type a column is built as (shared with `json-columns/`). */
export type Kind = 'time' | 'float' | 'integer' | 'unsigned' | 'string' | 'boolean' | 'tag' | 'null';
/** One column's values (`undefined` counts as null). */
export type Column = readonly unknown[];

export const kLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
export const kTwo32 = 4294967296;
const kInt64Min = -(2n ** 63n);
const kInt64Max = 2n ** 63n - 1n;
const kUint64Max = 2n ** 64n - 1n;

// ---------------------------------------------------------------------------------------------
// Column builders (shared with `json-columns/`). Each walks one column once, filling typed arrays; `undefined`
// means a value does not fit the type (the caller then infers the type from the values).

export class Validity {
  bitmap: Uint8Array | undefined;
  nulls = 0;
  constructor(readonly length: number) {}
  clear(i: number): void {
    const b = (this.bitmap ??= new Uint8Array((this.length + 7) >> 3).fill(0xff));
    b[i >> 3]! &= ~(1 << (i & 7));
    this.nulls++;
  }
}

export function props(v: Validity): { nullCount: number; nullBitmap?: Uint8Array } {
  return v.bitmap === undefined ? { nullCount: 0 } : { nullCount: v.nulls, nullBitmap: v.bitmap };
}

export function buildFloat(col: Column, n: number, acceptBigint: boolean): Data | undefined {
  const values = new Float64Array(n);
  const valid = new Validity(n);
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if (typeof v === 'number') values[i] = v;
    else if (v === null || v === undefined) valid.clear(i);
    else if (typeof v === 'bigint' && acceptBigint) values[i] = Number(v);
    else return undefined;
  }
  return makeData({ type: new Float64(), length: n, data: values, ...props(valid) });
}

/**
 * Fills a BigInt64Array from numbers and bigints (times scaled by `mul`). Bigints are stored as
 * they are and read back to check the range (a store wraps modulo 2^64); safe integers are
 * written as two 32-bit halves, with no BigInt allocated per value.
 */
export function fillInt64(col: Column, n: number, unsigned: boolean, mul: number, isoStrings: boolean): { values: BigInt64Array; valid: Validity } | undefined {
  const values = new BigInt64Array(n);
  const store: BigInt64Array | BigUint64Array = unsigned ? new BigUint64Array(values.buffer) : values;
  const words = kLittleEndian ? new Int32Array(values.buffer) : undefined;
  const valid = new Validity(n);
  const bigMul = BigInt(mul);
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if (typeof v === 'bigint') {
      const b = mul === 1 ? v : v * bigMul;
      store[i] = b;
      if (store[i] !== b) return undefined;
    } else if (typeof v === 'number') {
      const x = v * mul;
      if (words !== undefined && (x | 0) === x && (x >= 0 || !unsigned)) {
        words[2 * i] = x;
        words[2 * i + 1] = x >> 31;
      } else if (words !== undefined && Number.isSafeInteger(x) && (x >= 0 || !unsigned)) {
        const h = Math.floor(x / kTwo32);
        words[2 * i] = (x - h * kTwo32) | 0;
        words[2 * i + 1] = h;
      } else if (Number.isInteger(v)) {
        // Beyond 2^53 a number is one JSON wrote with an exponent: exact as a double, in range or not.
        const b = BigInt(v) * bigMul;
        store[i] = b;
        if (store[i] !== b) return undefined;
      } else {
        return undefined;
      }
    } else if (v === null || v === undefined) {
      valid.clear(i);
    } else if (typeof v === 'string' && isoStrings) {
      const ns = parseIsoToNs(v);
      if (typeof ns === 'string') return undefined;
      values[i] = ns;
    } else {
      return undefined;
    }
  }
  return { values, valid };
}

export function buildInt64(col: Column, n: number, unsigned = false): Data | undefined {
  const filled = fillInt64(col, n, unsigned, 1, false);
  if (filled === undefined) return undefined;
  // A Uint64 column is filled as int64 bit patterns: the same bytes.
  if (unsigned) return makeData({ type: new Uint64(), length: n, data: new BigUint64Array(filled.values.buffer), ...props(filled.valid) });
  return makeData({ type: new Int64(), length: n, data: filled.values, ...props(filled.valid) });
}

export function buildUtf8(col: Column, n: number, stringify: boolean): Data | undefined {
  const offsets = new Int32Array(n + 1);
  const valid = new Validity(n);
  // Optimistic ASCII pass: characters copied straight into the byte buffer.
  let bytes = new Uint8Array(Math.max(64, n * 8));
  let pos = 0;
  let i = 0;
  ascii: for (; i < n; i++) {
    const v = col[i];
    let s: string;
    if (typeof v === 'string') s = v;
    else if (v === null || v === undefined) {
      valid.clear(i);
      offsets[i + 1] = pos;
      continue;
    } else if (stringify) s = String(v);
    else return undefined;
    const len = s.length;
    if (pos + len > bytes.length) {
      const grown = new Uint8Array(Math.max(bytes.length * 2, pos + len));
      grown.set(bytes.subarray(0, pos));
      bytes = grown;
    }
    for (let j = 0; j < len; j++) {
      const code = s.charCodeAt(j);
      if (code > 0x7f) break ascii;
      bytes[pos + j] = code;
    }
    pos += len;
    offsets[i + 1] = pos;
  }
  if (i === n) return makeData({ type: new Utf8(), length: n, data: bytes.subarray(0, pos), valueOffsets: offsets, ...props(valid) });
  // Row i has a non-ASCII character: encode it and the rest string by string (a lone surrogate
  // becomes U+FFFD, 3 bytes, as Buffer.byteLength counts it).
  let buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (; i < n; i++) {
    const v = col[i];
    let s: string;
    if (typeof v === 'string') s = v;
    else if (v === null || v === undefined) {
      valid.clear(i);
      offsets[i + 1] = pos;
      continue;
    } else if (stringify) s = String(v);
    else return undefined;
    const len = Buffer.byteLength(s, 'utf8');
    if (pos + len > bytes.length) {
      const grown = new Uint8Array(Math.max(bytes.length * 2, pos + len));
      grown.set(bytes.subarray(0, pos));
      bytes = grown;
      buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    buf.write(s, pos, len, 'utf8');
    pos += len;
    offsets[i + 1] = pos;
  }
  return makeData({ type: new Utf8(), length: n, data: bytes.subarray(0, pos), valueOffsets: offsets, ...props(valid) });
}

export function utf8Vector(values: string[]): Vector<Utf8> {
  return makeVector(buildUtf8(values, values.length, false) as Data<Utf8>);
}

export function buildDictionary(col: Column, n: number, type: Dictionary<Utf8, Int32>): Data | undefined {
  const indices = new Int32Array(n);
  const valid = new Validity(n);
  const seen = new Map<string, number>();
  const values: string[] = [];
  let last: string | undefined;
  let lastIndex = 0;
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if (typeof v === 'string') {
      if (v !== last) {
        let k = seen.get(v);
        if (k === undefined) {
          k = values.length;
          seen.set(v, k);
          values.push(v);
        }
        last = v;
        lastIndex = k;
      }
      indices[i] = lastIndex;
    } else if (v === null || v === undefined) {
      valid.clear(i);
    } else {
      return undefined;
    }
  }
  return makeData({ type, length: n, data: indices, dictionary: utf8Vector(values), ...props(valid) });
}

export function buildBool(col: Column, n: number): Data | undefined {
  const bits = new Uint8Array((n + 7) >> 3);
  const valid = new Validity(n);
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if (v === true) bits[i >> 3]! |= 1 << (i & 7);
    else if (v === null || v === undefined) valid.clear(i);
    else if (v !== false) return undefined;
  }
  return makeData({ type: new Bool(), length: n, data: bits, ...props(valid) });
}

/** What the numbers of a column say about its type (the number part of `inferKind`). */
/** 10^21: Go's JSON encoder writes a float64 at or above it with an exponent, never in plain digits. */
const kNotInfluxd = 10n ** 21n;

export class NumberStats {
  fractional = false;
  bigints = 0;
  beyondInt64 = false;
  beyondUint64 = false;
  negative = false;

  number(v: number): void {
    if (!Number.isInteger(v)) this.fractional = true;
    else if (!Number.isSafeInteger(v)) {
      this.bigints++;
      if (v >= 2 ** 63 || v < -(2 ** 63)) this.beyondInt64 = true;
      if (v >= 2 ** 64) this.beyondUint64 = true;
    }
    if (v < 0) this.negative = true;
  }

  bigint(v: bigint): void {
    // InfluxDB writes int64 and uint64 fields, and floats below 1e21 in plain digits (Go's 'f'
    // format; above, an exponent): an integer literal of 1e21 or more is no value it stores, and
    // no Arrow type holds it exactly (Float64 would make it Infinity or round it). Say so.
    if (v >= kNotInfluxd || v <= -kNotInfluxd) {
      const digits = (v < 0n ? -v : v).toString().length;
      throw new InfluxDBResponseError(
        `the answer holds an integer of ${digits} digits, beyond what InfluxDB stores (int64, uint64, or a float written in plain digits below 1e21): ` +
          "no Arrow column holds it exactly; output: 'raw' reads it as a bigint",
        { reason: 'invalid' },
      );
    }
    this.bigints++;
    if (v > kInt64Max || v < kInt64Min) this.beyondInt64 = true;
    if (v > kUint64Max) this.beyondUint64 = true;
    if (v < 0n) this.negative = true;
  }

  /** The kind of a column of these numbers (at least one), named `name`. */
  kind(name: string): Kind {
    if (this.fractional) return 'float';
    if (this.bigints > 0 || /^count(_|$)/.test(name)) {
      if (!this.beyondInt64) return 'integer';
      return this.negative || this.beyondUint64 ? 'float' : 'unsigned';
    }
    return 'float';
  }
}

/**
 * The type of a column the schema does not name, from its values:
 * - no values (all null): Null;
 * - strings only: Utf8; booleans only: Bool;
 * - numbers: Float64 when any is fractional (bigints then lose digits beyond 2^53); otherwise
 *   Int64 when any is a bigint (beyond 2^53: an integer the server wrote exactly) or the column
 *   is named `count` / `count_*` (COUNT is always an integer), else Float64 (JSON writes a float
 *   `2.0` as `2`, so integral numbers prove nothing); integers beyond int64 become Uint64
 *   (Float64 when some are negative or beyond 2^64: floats InfluxDB wrote in plain digits); an
 *   integer of 1e21 or more is no value InfluxDB stores: InfluxDBResponseError (NumberStats);
 * - a mix of kinds: Utf8 of `String(value)`.
 */
export function inferKind(col: Column, n: number, name: string): Kind {
  const nums = new NumberStats();
  let numbers = 0;
  let strings = 0;
  let booleans = 0;
  for (let i = 0; i < n; i++) {
    const v = col[i];
    switch (typeof v) {
      case 'number':
        numbers++;
        nums.number(v);
        break;
      case 'bigint':
        nums.bigint(v);
        break;
      case 'string':
        strings++;
        break;
      case 'boolean':
        booleans++;
        break;
      default:
        break;
    }
  }
  const kinds = (numbers + nums.bigints > 0 ? 1 : 0) + (strings > 0 ? 1 : 0) + (booleans > 0 ? 1 : 0);
  if (kinds === 0) return 'null';
  if (kinds > 1) return 'string';
  if (strings > 0) return 'string';
  if (booleans > 0) return 'boolean';
  return nums.kind(name);
}

// ---------------------------------------------------------------------------------------------

export function timeUnitFor(epoch: Epoch | undefined): { unit: TimeUnit; mul: number } {
  switch (epoch ?? 'n') {
    case 'n': return { unit: TimeUnit.NANOSECOND, mul: 1 };
    case 'u': return { unit: TimeUnit.MICROSECOND, mul: 1 };
    case 'ms': return { unit: TimeUnit.MILLISECOND, mul: 1 };
    case 's': return { unit: TimeUnit.SECOND, mul: 1 };
    case 'm': return { unit: TimeUnit.SECOND, mul: 60 };
    case 'h': return { unit: TimeUnit.SECOND, mul: 3600 };
  }
}

/**
 * The typing rules of a converter, on columns (shared with `json-columns/`): the Dictionary
 * type of each tag column name and the sticky kind of each inferred column, kept for all the
 * batches of one response or chunked stream.
 */
export class ColumnTyper {
  readonly options: ArrowOptions;
  readonly timeType: Timestamp;
  readonly timeMul: number;
  readonly #dictTypes = new Map<string, Dictionary<Utf8, Int32>>();
  sticky = new Map<string, Kind>();

  constructor(options: ArrowOptions = {}) {
    this.options = options;
    const { unit, mul } = timeUnitFor(options.epoch);
    this.timeType = new Timestamp(unit, 'UTC');
    this.timeMul = mul;
  }

  dictType(name: string): Dictionary<Utf8, Int32> {
    let t = this.#dictTypes.get(name);
    if (t === undefined) this.#dictTypes.set(name, (t = new Dictionary(new Utf8(), new Int32())));
    return t;
  }

  /** The declared kind of a column, or undefined when it must be inferred. */
  declared(name: string, index: number, schema: MeasurementSchema | undefined, others: readonly MeasurementSchema[]): Kind | undefined {
    const forced = this.options.columnTypes?.[name];
    if (forced !== undefined) return forced;
    if (name === 'time' && index === 0) return 'time';
    const lookup = (s: MeasurementSchema): Kind | undefined => {
      const f = s.fields.get(name);
      if (f !== undefined) return f;
      if (s.tags.has(name)) return 'tag';
      // A tag named like a field comes back as `name_1` (`name_2`, ...).
      const m = /^(.*)_\d+$/.exec(name);
      if (m !== null && s.tags.has(m[1]!) && s.fields.has(m[1]!)) return 'tag';
      return undefined;
    };
    if (schema !== undefined) {
      const k = lookup(schema);
      if (k !== undefined) return k;
    }
    // `SELECT * FROM a, b`: every series has the columns of all measurements.
    for (const s of others) {
      if (s === schema) continue;
      const k = lookup(s);
      if (k !== undefined) return k;
    }
    return undefined;
  }

  /**
   * `declared`: the schema's type, strict (a string in an integer column is a mismatch);
   * `sticky`: the type an earlier series' column got, strict too (a bigint in a Float64 column
   * means the column is really integers); `inferred`: the type `inferKind` chose, lenient.
   */
  build(kind: Kind, col: Column, n: number, name: string, mode: 'declared' | 'sticky' | 'inferred'): Data | undefined {
    switch (kind) {
      case 'time': {
        const firstIso = n > 0 && typeof col[0] === 'string';
        const filled = fillInt64(col, n, false, firstIso ? 1 : this.timeMul, firstIso);
        if (filled === undefined) return undefined;
        const type = firstIso && this.timeType.unit !== TimeUnit.NANOSECOND ? new Timestamp(TimeUnit.NANOSECOND, 'UTC') : this.timeType;
        return makeData({ type, length: n, data: filled.values, ...props(filled.valid) });
      }
      case 'float': return buildFloat(col, n, mode !== 'sticky');
      case 'integer': return buildInt64(col, n);
      case 'unsigned': return buildInt64(col, n, true);
      case 'string': return buildUtf8(col, n, mode !== 'declared');
      case 'boolean': return buildBool(col, n);
      case 'tag': return buildDictionary(col, n, this.dictType(name));
      case 'null': {
        for (let i = 0; i < n; i++) if (col[i] !== null && col[i] !== undefined) return undefined;
        return makeData({ type: new Null(), length: n });
      }
    }
  }

  column(col: Column, n: number, name: string, declared: Kind | undefined): { data: Data; kind: Kind } {
    if (declared !== undefined) {
      const d = this.build(declared, col, n, name, 'declared');
      if (d !== undefined) return { data: d, kind: declared };
    } else {
      const sticky = this.sticky.get(name);
      if (sticky !== undefined) {
        const d = this.build(sticky, col, n, name, 'sticky');
        if (d !== undefined) return { data: d, kind: sticky };
      }
    }
    // Undeclared, or a value that does not fit the declared type (a schema changed since it was read).
    let kind = inferKind(col, n, name);
    let d = this.build(kind, col, n, name, 'inferred');
    if (d === undefined) {
      // Not expected (inferKind picks a type all values fit); strings hold anything.
      kind = 'string';
      d = this.build(kind, col, n, name, 'inferred')!;
    }
    if (kind !== 'null') this.sticky.set(name, kind);
    return { data: d, kind };
  }
}

/** GROUP BY tag columns with a dictionary and indices of their own. */
const freshConstants: ConstantSource = {
  constantVector: (value) => utf8Vector([value]),
  zeroIndices: (n) => new Int32Array(n),
};

/**
 * Turns series into record batches. One converter per response or per chunked stream: the
 * Dictionary type of each tag column name (and so its dictionary id) and the type chosen for
 * each inferred column are shared by all its batches, so batches of one series (chunks) and
 * same-shaped tables can be concatenated (`new Table([...])`).
 */
export class SeriesConverter {
  readonly #typer: ColumnTyper;

  constructor(options: ArrowOptions = {}) {
    this.#typer = new ColumnTyper(options);
  }

  /**
   * One series as a record batch. `others` are the schemas of the other measurements of the
   * same statement (used for columns the series' own measurement does not have).
   */
  toRecordBatch(series: Series, statementId: number, schema: MeasurementSchema | undefined, others: readonly MeasurementSchema[] = []): RecordBatch {
    const typer = this.#typer;
    const rows = series.values ?? [];
    const n = rows.length;
    return toRecordBatch(typer, series, statementId, n, (name, c) => {
      const col = new Array<unknown>(n);
      for (let i = 0; i < n; i++) col[i] = rows[i]![c];
      return typer.column(col, n, name, typer.declared(name, c, schema, others));
    }, freshConstants);
  }
}

/**
 * The exact 64-bit values of an Int64, Uint64 or Timestamp column, all chunks together (a view
 * when there is one chunk). Arrow's `get()` returns timestamps as millisecond doubles; this
 * reads the int64 buffers instead. Null slots hold 0: check `vector.isValid(i)`.
 */
export function exactInt64Values(vector: Vector): BigInt64Array | BigUint64Array {
  const parts = vector.data.map((d) => {
    const v = d.values as unknown;
    if (!(v instanceof BigInt64Array) && !(v instanceof BigUint64Array)) throw new TypeError(`not a 64-bit integer column: ${String(vector.type)}`);
    return v.subarray(d.offset, d.offset + d.length);
  });
  if (parts.length === 1) return parts[0]!;
  const out = parts[0] instanceof BigUint64Array ? new BigUint64Array(vector.length) : new BigInt64Array(vector.length);
  let pos = 0;
  for (const p of parts) {
    out.set(p as never, pos);
    pos += p.length;
  }
  return out;
}

/** Series that are SELECT results (a `time` column first): the ones whose measurement has a schema. */
function isSelectSeries(s: Series): boolean {
  return s.name !== undefined && s.columns[0] === 'time';
}

function schemasOf(seriesList: readonly Series[], lookup: (m: string) => MeasurementSchema | undefined): { own: (MeasurementSchema | undefined)[]; all: MeasurementSchema[] } {
  const own = seriesList.map((s) => (isSelectSeries(s) ? lookup(s.name!) : undefined));
  const all = [...new Set(own.filter((s): s is MeasurementSchema => s !== undefined))];
  return { own, all };
}

/**
 * A query answer as Arrow tables (see the module comment for the shape). `schemaFor` gives the
 * field types and tag keys of a measurement (`SchemaCache.lookupFor(resp, db)`); without it, or
 * for measurements it does not know, types are inferred from the values.
 */
export function responseToArrow(resp: QueryResponse, schemaFor?: SchemaLookup, options: ArrowOptions = {}): ArrowResult {
  const converter = new SeriesConverter(options);
  const lookup = schemaFor ?? (() => undefined);
  const statements: ArrowStatementResult[] = resp.results.map((st) => {
    const seriesList = st.series ?? [];
    const { own, all } = schemasOf(seriesList, lookup);
    return statementResult(seriesList.map((s, i) => converter.toRecordBatch(s, st.statement_id, own[i], all)));
  });
  return statements.length === 1 ? statements[0]! : statements;
}

/**
 * Chunked + arrow: one `RecordBatch` per series of each chunk, as the chunks stream in. A batch's
 * `schema.metadata` says where it belongs: `statement_id`, `measurement`, `tags` (JSON), `key`
 * (aioinflux's `measurement,tag=value` name) and `partial: 'true'` when the series continues in
 * the next batch. Batches of one series share their types (dictionary ids included), so
 * `new Table(batchesOfOneSeries)` concatenates them.
 */
export async function* responseChunksToRecordBatches(
  chunks: AsyncIterable<QueryResponse>, schemaFor?: AsyncSchemaLookup, options: ArrowOptions = {},
): AsyncGenerator<RecordBatch, void, undefined> {
  const converter = new SeriesConverter(options);
  const known = new Map<string, MeasurementSchema | undefined>();
  for await (const chunk of chunks) {
    for (const st of chunk.results) {
      const seriesList = st.series ?? [];
      if (schemaFor !== undefined) {
        for (const s of seriesList) {
          if (isSelectSeries(s) && !known.has(s.name!)) known.set(s.name!, await schemaFor(s.name!));
        }
      }
      const { own, all } = schemasOf(seriesList, (m) => known.get(m));
      for (let i = 0; i < seriesList.length; i++) yield converter.toRecordBatch(seriesList[i]!, st.statement_id, own[i], all);
    }
  }
}
