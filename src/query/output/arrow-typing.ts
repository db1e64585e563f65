/**
 * The typing rules of the `arrow` output, on columns (shared by arrow.ts's `SeriesConverter` and
 * the JSON-bytes parser, json-columns/): its options, the kinds a column is built as, the type
 * inferred for a column the schema does not name (`inferKind`, `NumberStats`), the time unit of
 * an epoch, and `ColumnTyper`, which picks each column's kind (declared, sticky or inferred) and
 * its builder (arrow-columns.ts).
 */
import { type Data, Dictionary, Int32, Null, TimeUnit, Timestamp, Utf8, makeData } from 'apache-arrow';
import { InfluxDBResponseError } from '../../errors.js';
import type { ColumnType, Epoch } from '../../types.js';
import { buildBool, buildDictionary, buildFloat, buildInt64, buildUtf8, fillInt64, props, type Column } from './arrow-columns.js';
import type { MeasurementSchema } from './schema.js';

/** A column type that can be forced with `columnTypes` (types.ts). */
export type { ColumnType } from '../../types.js';

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

/** The type a column is built as (shared with `json-columns/`). */
export type Kind = 'time' | 'float' | 'integer' | 'unsigned' | 'string' | 'boolean' | 'tag' | 'null';

const kInt64Min = -(2n ** 63n);
const kInt64Max = 2n ** 63n - 1n;
const kUint64Max = 2n ** 64n - 1n;
/** 10^21: Go's JSON encoder writes a float64 at or above it with an exponent, never in plain digits. */
const kNotInfluxd = 10n ** 21n;

/** What the numbers of a column say about its type (the number part of `inferKind`). */
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
