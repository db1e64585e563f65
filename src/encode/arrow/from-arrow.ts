/**
 * Arrow record batches to the columnar layout (`../columnar/layout.ts`), reading Arrow's own
 * buffers: `values`, `nullBitmap`, `valueOffsets`, dictionary indices and `dictionary`. Most
 * columns are taken as they are (zero copy); narrower types are widened once per batch; each
 * dictionary entry is checked and escaped once (and once per dictionary, across batches).
 *
 * Arrow is read structurally (type ids and buffers), never through `instanceof`, so that a
 * table made by another copy of `apache-arrow` works too.
 *
 * Which column is what:
 * - time: `timeColumn`, else the table's only `Timestamp` column, else a column named `time`;
 *   none: every row gets the time of the write (`nowNs()`, strictly increasing, as for points
 *   without a time). Timestamp (s, ms, us, ns; a time zone changes nothing: Arrow timestamps are
 *   UTC instants), Date (day, millisecond), integers (already in the write's precision, as a
 *   point's number/bigint time) and Utf8 (ISO 8601, as a point's string time). Converted to the
 *   precision exactly, in BigInt (floor division toward the past, as `floorDiv`). A null time
 *   is "now", as for a point without a time.
 * - tags: dictionary-encoded string columns (aioinflux's Categorical rule), the columns named in
 *   `tagColumns` (strings, integers, floats, booleans: written as `String(value)`, as the point
 *   encoder does for non-string tag values), and the constant `tags` of the write (a row's own
 *   non-empty value of the same key wins). A null or empty value leaves the tag out.
 * - fields: every other column, in column order. Float16/32/64: float. Int8..Int64,
 *   Uint8..Uint32: integer (`i`). Uint64: integer when <= 2^63 - 1, else the row is refused.
 *   Bool: boolean. Utf8, LargeUtf8: string. Null-typed columns (all null) are left out.
 *   `fieldTypes` may declare a Float column `integer` (each value must be a safe integer, as
 *   for points), an Int8..Int32/Uint8..Uint32 column `float`, or a dictionary column `string`
 *   (a string field instead of a tag).
 *
 * Errors, consistently:
 * - `InvalidOptionError`: the options do not fit the table (a `timeColumn` or `tagColumns`
 *   name that is not a column, a `fieldTypes` declaration the column's type cannot take, two
 *   roles for one column, several Timestamp columns and no `timeColumn`).
 * - `InvalidPointError`: the data cannot be written. Per row (row index counted across the
 *   batches of the write; element; key = column name): bad values, rows without a field,
 *   out-of-range times, unwritable names. Per column (a type that has no line-protocol
 *   equivalent, e.g. List or Struct; two columns with the same name): the index of the first
 *   row of the batch, the column as key, and the type in the reason.
 * @module
 */
import { InvalidOptionError, InvalidPointError, type PointElement } from '../../errors.js';
import type { FieldType, Precision } from '../../types.js';
import { checkFieldKey, checkMeasurement, checkTagName, escapeMeasurement, escapeTag, reservedKeyReason } from '../escape.js';
import { MAX_TIME_NS, MIN_TIME_NS, NS_PER, floorDiv, nowNs, parseIsoToNs } from '../time.js';
import { FieldKind, type Bitmap, type ColumnarLayout, type FieldColumn, type TagColumn } from '../columnar/layout.js';

// ---- Arrow, structurally ---------------------------------------------------------------------

/** Arrow type ids (`Type` of apache-arrow), and the enums of some type parameters. */
const Type = {
  Null: 1, Int: 2, Float: 3, Binary: 4, Utf8: 5, Bool: 6, Decimal: 7, Date: 8, Time: 9, Timestamp: 10,
  LargeUtf8: 20, Dictionary: -1,
} as const;
const kTimeUnitNs = [1_000_000_000n, 1_000_000n, 1_000n, 1n] as const; // TimeUnit SECOND, MILLISECOND, MICROSECOND, NANOSECOND
const kDateUnitDay = 0;
const kFloatHalf = 0;
const kFloatSingle = 1;

/** The parts of an Arrow `DataType` read here. */
export interface ArrowType {
  readonly typeId: number;
  readonly bitWidth?: number;
  readonly isSigned?: boolean;
  readonly precision?: number;
  readonly unit?: number;
  readonly timezone?: string | null;
  readonly dictionary?: ArrowType;
  readonly indices?: ArrowType;
  toString(): string;
}
/** The parts of an Arrow `Data` read here. */
export interface ArrowData {
  readonly type: ArrowType;
  readonly offset: number;
  readonly length: number;
  readonly nullCount: number;
  /** A typed array for the types read here (`unknown`: a Struct's `values` are row proxies). */
  readonly values: unknown;
  readonly valueOffsets?: Int32Array | BigInt64Array;
  readonly nullBitmap?: Uint8Array;
  readonly dictionary?: { readonly data: readonly ArrowData[] };
  readonly children: readonly ArrowData[];
}
export interface ArrowField {
  readonly name: string;
  readonly type: ArrowType;
}
export interface ArrowSchema {
  readonly fields: readonly ArrowField[];
}
/** An Arrow `RecordBatch`, structurally. */
export interface ArrowRecordBatch {
  readonly schema: ArrowSchema;
  readonly data: { readonly children: readonly ArrowData[] };
  readonly numRows: number;
}
/** An Arrow `Table`, structurally. */
export interface ArrowTable {
  readonly schema: ArrowSchema;
  readonly batches: readonly ArrowRecordBatch[];
}

// ---- options ---------------------------------------------------------------------------------

/** The Arrow-specific write options (as `client.write(table, options)` takes them). */
export interface ArrowWriteOptions {
  /** Measurement of every row (required). */
  measurement?: string;
  /** The time column; default: the only Timestamp column, else a column named `time`, else none (now). */
  timeColumn?: string;
  /** Columns written as tags besides the dictionary-encoded string columns. */
  tagColumns?: readonly string[];
  /** Constant tags added to every row (a row's own non-empty value of the same key wins). */
  tags?: Record<string, string>;
  /** Declared field types: `integer` for a float column, `float` for a <= 32-bit integer column, `string` for a dictionary column. */
  fieldTypes?: Record<string, FieldType>;
  /** A row with no non-null field: refuse the write (default), or leave it out and report it. */
  invalidRows?: 'error' | 'skip';
  /** NaN / ±Infinity in a float column: refuse the write (default), or leave that field out. */
  nonFinite?: 'error' | 'skipField';
}

/** Options of one Arrow encode: the write's options, resolved. */
export interface ArrowEncodeOptions extends ArrowWriteOptions {
  precision: Precision;
  allowNewlinesInStrings?: boolean;
}

function showType(t: ArrowType): string {
  try {
    return String(t);
  } catch {
    return `type id ${t.typeId}`;
  }
}

// ---- buffers ---------------------------------------------------------------------------------

/** `n` bits of `bitmap` starting at bit `offset`, re-based to bit 0 (a view when `offset` is a multiple of 8). */
function rebaseBits(bitmap: Uint8Array, offset: number, n: number): Uint8Array {
  const bytes = (n + 7) >> 3;
  if ((offset & 7) === 0) return bitmap.subarray(offset >> 3, (offset >> 3) + bytes);
  const out = new Uint8Array(bytes);
  const shift = offset & 7;
  let src = offset >> 3;
  for (let k = 0; k < bytes; k++, src++) out[k] = ((bitmap[src]! >> shift) | ((bitmap[src + 1] ?? 0) << (8 - shift))) & 0xff;
  return out;
}

/** The validity of `d` re-based to bit 0, or null when every value is present. */
function validityOf(d: ArrowData): Bitmap {
  const bm = d.nullBitmap;
  if (bm === undefined || bm === null || bm.length === 0 || d.nullCount === 0) return null;
  return rebaseBits(bm, d.offset, d.length);
}

function isValid(bm: Bitmap, i: number): boolean {
  return bm === null || (bm[i >> 3]! & (1 << (i & 7))) !== 0;
}

type TypedArray = Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array | BigUint64Array | Float32Array | Float64Array;

/** Int32 words of a 64-bit typed array. */
function words64(a: BigInt64Array | BigUint64Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length * 2);
}

/** Exact IEEE half to double. */
function halfToDouble(h: number): number {
  const sign = (h & 0x8000) !== 0 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m === 0 ? sign * Infinity : NaN;
  return sign * (1024 + m) * 2 ** (e - 25);
}

/** Absolute Int32 offsets of a Utf8 / LargeUtf8 column, `rows + 1` of them. */
function offsets32(d: ArrowData, what: () => string): Int32Array {
  const o = d.valueOffsets!;
  if (o instanceof Int32Array) return o;
  // LargeUtf8: 64-bit offsets; the layout takes 32-bit ones (a batch holds under 2 GB of text).
  const w = words64(o as BigInt64Array);
  const out = new Int32Array(o.length);
  for (let k = 0; k < o.length; k++) {
    const lo = w[2 * k]!;
    if (w[2 * k + 1] !== 0 || lo < 0) throw new Error(`${what()}: LargeUtf8 data over 2 GB in one batch is not supported`);
    out[k] = lo;
  }
  return out;
}

const kNoBytes = new Uint8Array(0);
/** The data bytes of a Utf8 / Bool column (Arrow may leave them out when there are none). */
function bytesOf(d: ArrowData): Uint8Array {
  return (d.values as unknown as Uint8Array | undefined) ?? kNoBytes;
}

const kUtf8 = new TextEncoder();
const kFatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Escaped tag-value dictionary (layout form). */
interface TagDict {
  data: Uint8Array;
  offsets: Int32Array;
  invalid: Uint8Array | null;
}

/** Builds a tag dictionary from entry strings (null = no value); invalid entries keep their raw bytes. */
class TagDictBuilder {
  readonly #parts: Uint8Array[] = [];
  readonly #offsets: number[] = [0];
  #invalid: number[] | null = null;
  #size = 0;

  /** Adds an entry from its JS string (null: no value). */
  addString(s: string | null): number {
    if (s === null || s === '') return this.#push(new Uint8Array(0), false);
    const bad = checkTagName(s);
    return this.#push(kUtf8.encode(bad === undefined ? escapeTag(s) : s), bad !== undefined);
  }

  /** Adds an entry from raw UTF-8 bytes. */
  addBytes(bytes: Uint8Array): number {
    if (bytes.length === 0) return this.#push(bytes, false);
    let s: string;
    try {
      s = kFatalUtf8.decode(bytes);
    } catch {
      return this.#push(bytes, true);
    }
    return this.addString(s);
  }

  #push(bytes: Uint8Array, invalid: boolean): number {
    const e = this.#offsets.length - 1;
    this.#parts.push(bytes);
    this.#size += bytes.length;
    this.#offsets.push(this.#size);
    if (invalid) (this.#invalid ??= []).push(e);
    return e;
  }

  get entries(): number {
    return this.#offsets.length - 1;
  }

  build(): TagDict {
    const data = new Uint8Array(this.#size);
    let o = 0;
    for (const p of this.#parts) {
      data.set(p, o);
      o += p.length;
    }
    let invalid: Uint8Array | null = null;
    if (this.#invalid !== null) {
      invalid = new Uint8Array(this.entries);
      for (const e of this.#invalid) invalid[e] = 1;
    }
    return { data, offsets: Int32Array.from(this.#offsets), invalid };
  }
}

/** Calls `each(bytes | null)` for every value of a Utf8 / LargeUtf8 Data (null for a null). */
function forEachUtf8(d: ArrowData, what: () => string, each: (bytes: Uint8Array | null) => void): void {
  const offs = offsets32(d, what);
  const values = bytesOf(d);
  const valid = validityOf(d);
  for (let i = 0; i < d.length; i++) each(isValid(valid, i) ? values.subarray(offs[i]!, offs[i + 1]!) : null);
}

function isStringType(t: ArrowType | undefined): boolean {
  return t !== undefined && (t.typeId === Type.Utf8 || t.typeId === Type.LargeUtf8);
}

/** Dictionary indices as Int32Array (a view when they are Int32 already). */
function indices32(d: ArrowData, what: () => string): Int32Array {
  const v = d.values as TypedArray;
  if (v instanceof Int32Array) return v;
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
    const w = words64(v);
    const out = new Int32Array(v.length);
    for (let k = 0; k < v.length; k++) {
      const lo = w[2 * k]!;
      out[k] = w[2 * k + 1] === 0 && lo >= 0 ? lo : -1;
    }
    return out;
  }
  if (v instanceof Uint32Array) {
    const out = new Int32Array(v.length);
    for (let k = 0; k < v.length; k++) out[k] = v[k]! > 0x7fffffff ? -1 : v[k]!;
    return out;
  }
  if (ArrayBuffer.isView(v)) return new Int32Array(v as unknown as ArrayLike<number>);
  throw new Error(`${what()}: unreadable dictionary indices`);
}

// ---- the plan: what each column of a schema becomes ------------------------------------------

type ColumnRole =
  | { role: 'tag'; index: number; name: string; type: ArrowType }
  | { role: 'field'; index: number; name: string; type: ArrowType; declared: FieldType | undefined }
  | { role: 'drop' };

interface Plan {
  readonly timeIndex: number;
  readonly timeName: string | undefined;
  readonly columns: readonly ColumnRole[];
}

const kTimeTypeIds = new Set<number>([Type.Timestamp, Type.Date, Type.Int, Type.Utf8, Type.LargeUtf8]);
const kTagTypeIds = new Set<number>([Type.Utf8, Type.LargeUtf8, Type.Int, Type.Float, Type.Bool]);
/** Field types; a Dictionary reaches the fields only when declared string (checked in the plan). */
const kFieldTypeIds = new Set<number>([Type.Float, Type.Int, Type.Bool, Type.Utf8, Type.LargeUtf8, Type.Dictionary]);
const kSupportedFields = 'Float16/32/64, Int8..Int64, Uint8..Uint64, Bool, Utf8, LargeUtf8 (and Dictionary<Utf8> as a tag)';

/** Per-column data problem, at the batch's first row. */
function columnError(rowBase: number, element: PointElement, name: string | undefined, reason: string): InvalidPointError {
  return new InvalidPointError(rowBase, element, name, reason);
}

/**
 * Turns the record batches of one write into layouts. One instance per write: it caches the
 * plan per schema and the escaped dictionaries, and holds the constant tags.
 */
export class ArrowLayoutBuilder {
  readonly #options: ArrowEncodeOptions;
  readonly #precision: Precision;
  readonly #measurement: Uint8Array;
  readonly #extraTags: readonly (readonly [string, string])[];
  readonly #tagColumns: ReadonlySet<string>;
  readonly #fieldTypes: Record<string, FieldType>;
  readonly #plans = new WeakMap<object, Plan>();
  readonly #dicts = new WeakMap<object, TagDict>();
  readonly #constTags = new Map<string, TagColumn>();

  constructor(options: ArrowEncodeOptions) {
    this.#options = options;
    this.#precision = options.precision;
    if (!Object.hasOwn(NS_PER, options.precision)) throw new InvalidOptionError(`precision must be one of n, u, ms, s, m, h (got ${String(options.precision)})`);
    if (options.invalidRows !== undefined && options.invalidRows !== 'error' && options.invalidRows !== 'skip') {
      throw new InvalidOptionError(`write options.invalidRows must be 'error' or 'skip' (got ${String(options.invalidRows)})`);
    }
    if (options.nonFinite !== undefined && options.nonFinite !== 'error' && options.nonFinite !== 'skipField') {
      throw new InvalidOptionError(`write options.nonFinite must be 'error' or 'skipField' (got ${String(options.nonFinite)})`);
    }
    if (options.timeColumn !== undefined && typeof options.timeColumn !== 'string') {
      throw new InvalidOptionError(`write options.timeColumn must be a string (got ${typeof options.timeColumn})`);
    }
    const tagColumns = options.tagColumns ?? [];
    if (!Array.isArray(tagColumns) || tagColumns.some((c) => typeof c !== 'string')) {
      throw new InvalidOptionError('write options.tagColumns must be an array of column names');
    }
    this.#tagColumns = new Set(tagColumns);
    this.#fieldTypes = Object.assign(Object.create(null) as Record<string, FieldType>, options.fieldTypes ?? {});
    // The constant tags, checked up front like the point encoder's extra tags.
    const extra: [string, string][] = [];
    for (const [k, v] of Object.entries(options.tags ?? {})) {
      if (typeof v !== 'string') throw new InvalidOptionError(`write options.tags.${k} must be a string (got ${typeof v})`);
      const bad = reservedKeyReason(k) ?? checkTagName(k) ?? (v === '' ? undefined : checkTagName(v));
      if (bad !== undefined) throw new InvalidPointError(0, 'tags', k, `extra tag: ${bad}`);
      if (v !== '') extra.push([k, v]);
    }
    this.#extraTags = extra;
    const m = options.measurement;
    if (m === undefined) throw new InvalidPointError(0, 'measurement', undefined, 'missing: give the point a measurement or pass { measurement } to write()');
    if (typeof m !== 'string') throw new InvalidPointError(0, 'measurement', undefined, `must be a string (got ${typeof m})`);
    const badMeasurement = checkMeasurement(m);
    if (badMeasurement !== undefined) throw new InvalidPointError(0, 'measurement', undefined, badMeasurement);
    this.#measurement = kUtf8.encode(escapeMeasurement(m));
  }

  #plan(schema: ArrowSchema, rowBase: number): Plan {
    const cached = this.#plans.get(schema);
    if (cached !== undefined) return cached;
    const fields = schema.fields;
    const names = fields.map((f) => f.name);
    const list = () => names.map((n) => JSON.stringify(n)).join(', ');
    const opts = this.#options;
    let timeIndex = -1;
    if (opts.timeColumn !== undefined) {
      timeIndex = names.indexOf(opts.timeColumn);
      if (timeIndex < 0) throw new InvalidOptionError(`write options.timeColumn ${JSON.stringify(opts.timeColumn)} is not a column of the table (columns: ${list()})`);
    } else {
      const stamps = fields.flatMap((f, i) => (f.type.typeId === Type.Timestamp ? [i] : []));
      if (stamps.length === 1) timeIndex = stamps[0]!;
      else if (names.includes('time')) timeIndex = names.indexOf('time');
      else if (stamps.length > 1) {
        throw new InvalidOptionError(`the table has ${stamps.length} Timestamp columns (${stamps.map((i) => JSON.stringify(names[i])).join(', ')}): pass write options.timeColumn to choose one`);
      }
    }
    if (timeIndex >= 0 && names.indexOf(names[timeIndex]!) !== names.lastIndexOf(names[timeIndex]!)) {
      throw new InvalidOptionError(`several columns are named ${JSON.stringify(names[timeIndex])}: the time column must be unique`);
    }
    for (const c of this.#tagColumns) {
      if (!names.includes(c)) throw new InvalidOptionError(`write options.tagColumns names ${JSON.stringify(c)}, which is not a column of the table (columns: ${list()})`);
      if (c === names[timeIndex]) throw new InvalidOptionError(`column ${JSON.stringify(c)} is the time column and cannot also be a tag`);
      if (this.#fieldTypes[c] !== undefined) throw new InvalidOptionError(`column ${JSON.stringify(c)} is in both tagColumns and fieldTypes`);
    }
    const columns: ColumnRole[] = fields.map((f, index): ColumnRole => {
      const { name, type } = f;
      if (index === timeIndex || type.typeId === Type.Null) return { role: 'drop' };
      const declared = this.#fieldTypes[name];
      if (this.#tagColumns.has(name)) return { role: 'tag', index, name, type };
      if (type.typeId === Type.Dictionary) {
        if (declared === undefined) return { role: 'tag', index, name, type };
        if (declared !== 'string' || !isStringType(type.dictionary)) {
          throw new InvalidOptionError(`write options.fieldTypes.${name} is ${declared}, but column ${JSON.stringify(name)} is ${showType(type)}: a dictionary column can only be declared string`);
        }
        return { role: 'field', index, name, type, declared };
      }
      if (declared !== undefined) {
        const natural = naturalFieldType(type);
        const ok = declared === natural
          || (declared === 'integer' && natural === 'float')
          || (declared === 'float' && natural === 'integer' && (type.bitWidth ?? 64) <= 32);
        if (!ok && natural !== undefined) {
          throw new InvalidOptionError(`write options.fieldTypes.${name} is ${declared}, but column ${JSON.stringify(name)} is ${showType(type)}`
            + (declared === 'float' && natural === 'integer' ? ': only integer columns of at most 32 bits are written as floats' : ''));
        }
      }
      return { role: 'field', index, name, type, declared };
    });
    // Types without a line-protocol equivalent: refused whether or not the batch has rows.
    if (timeIndex >= 0 && !kTimeTypeIds.has(fields[timeIndex]!.type.typeId)) {
      throw columnError(rowBase, 'time', undefined, `column ${JSON.stringify(names[timeIndex])} has Arrow type ${showType(fields[timeIndex]!.type)}, which is not a time: use Timestamp, Date, an integer in the write's precision or ISO 8601 strings`);
    }
    for (const c of columns) {
      if (c.role === 'tag') {
        const t = c.type;
        if (t.typeId === Type.Dictionary ? !isStringType(t.dictionary) : !kTagTypeIds.has(t.typeId)) {
          throw columnError(rowBase, 'tags', c.name, t.typeId === Type.Dictionary
            ? `unsupported Arrow type ${showType(t)}: a dictionary tag column must hold strings`
            : `unsupported Arrow type ${showType(t)} for a tag column (strings, dictionaries of strings, integers, floats and booleans can be tags)`);
        }
      } else if (c.role === 'field' && !kFieldTypeIds.has(c.type.typeId)) {
        throw columnError(rowBase, 'fields', c.name, `unsupported Arrow type ${showType(c.type)} (supported: ${kSupportedFields})`);
      }
    }
    // Duplicate names within a role: a line cannot hold the same tag or field key twice.
    const seen = new Set<string>();
    for (const c of columns) {
      if (c.role === 'drop') continue;
      const k = `${c.role}:${c.name}`;
      if (seen.has(k)) throw columnError(rowBase, c.role === 'tag' ? 'tags' : 'fields', c.name, `several columns are named ${JSON.stringify(c.name)}: a line cannot hold the same key twice`);
      seen.add(k);
    }
    const plan: Plan = { timeIndex, timeName: timeIndex >= 0 ? names[timeIndex] : undefined, columns };
    this.#plans.set(schema, plan);
    return plan;
  }

  /** The layout of one record batch; `rowBase` is the index of its first row in the write. */
  layout(batch: ArrowRecordBatch, rowBase: number): ColumnarLayout {
    const plan = this.#plan(batch.schema, rowBase);
    const children = batch.data.children;
    const rows = batch.numRows;
    if (rows === 0) {
      return { rows, measurement: this.#measurement, time: new BigInt64Array(0), timeInvalid: null, tags: [], fields: [], meta: { precision: this.#precision, timeReasons: new Map() } };
    }
    const tags: TagColumn[] = [];
    const fields: FieldColumn[] = [];
    for (const c of plan.columns) {
      if (c.role === 'tag') tags.push(this.#tagColumn(c.name, children[c.index]!, rowBase));
      else if (c.role === 'field') fields.push(this.#fieldColumn(c.name, children[c.index]!, c.declared, rowBase));
    }
    // Constant tags: merged into the column of the same key (as its fallback), else a column of their own.
    for (const [k, v] of this.#extraTags) {
      const at = tags.findIndex((t) => t.name === k);
      if (at >= 0) tags[at] = withFallback(tags[at]!, v);
      else tags.push(this.#constTag(k, v));
    }
    tags.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

    const timeData = plan.timeIndex >= 0 ? children[plan.timeIndex]! : undefined;
    const { time, timeInvalid, timeReasons } = this.#time(plan.timeName, timeData, rows, rowBase);
    return { rows, measurement: this.#measurement, time, timeInvalid, tags, fields, meta: { precision: this.#precision, timeReasons } };
  }

  #constTag(k: string, v: string): TagColumn {
    let t = this.#constTags.get(k);
    if (t === undefined) {
      const b = new TagDictBuilder();
      b.addString(v);
      const d = b.build();
      t = {
        name: k, key: kUtf8.encode(escapeTag(k)), keyInvalid: 0, indices: null, validity: null,
        dictData: d.data, dictOffsets: d.offsets, dictInvalid: null, fallback: 0,
      };
      this.#constTags.set(k, t);
    }
    return t;
  }

  // ---- tags --------------------------------------------------------------------------------

  #tagColumn(name: string, d: ArrowData, rowBase: number): TagColumn {
    const what = () => `column ${JSON.stringify(name)}`;
    const keyBad = reservedKeyReason(name) ?? checkTagName(name);
    const key = keyBad === undefined ? kUtf8.encode(escapeTag(name)) : new Uint8Array(0);
    const type = d.type;
    let dict: TagDict;
    let indices: Int32Array;
    let validity = validityOf(d);
    if (type.typeId === Type.Dictionary) {
      if (!isStringType(type.dictionary) || d.dictionary === undefined) {
        throw columnError(rowBase, 'tags', name, `unsupported Arrow type ${showType(type)}: a dictionary tag column must hold strings`);
      }
      dict = this.#escapedDict(d.dictionary, what);
      indices = indices32(d, what);
      const entries = dict.offsets.length - 1;
      for (let i = 0; i < d.length; i++) {
        if (!isValid(validity, i)) continue;
        const e = indices[i]!;
        if (e < 0 || e >= entries) throw new InvalidPointError(rowBase + i, 'tags', name, `dictionary index ${e} is out of range (${entries} entries): the Arrow data is corrupt`);
      }
    } else {
      ({ dict, indices } = internTagValues(d, type, what, () => columnError(rowBase, 'tags', name,
        `unsupported Arrow type ${showType(type)} for a tag column (strings, dictionaries of strings, integers, floats and booleans can be tags)`)));
      validity = null; // nulls became empty entries
    }
    return {
      name, key, keyInvalid: keyBad === undefined ? 0 : 1, indices, validity,
      dictData: dict.data, dictOffsets: dict.offsets, dictInvalid: dict.invalid, fallback: -1,
    };
  }

  /** A dictionary's entries, checked and escaped once (cached per dictionary across batches). */
  #escapedDict(dictionary: { readonly data: readonly ArrowData[] }, what: () => string): TagDict {
    const hit = this.#dicts.get(dictionary);
    if (hit !== undefined) return hit;
    const b = new TagDictBuilder();
    for (const chunk of dictionary.data) {
      forEachUtf8(chunk, what, (bytes) => {
        if (bytes === null) b.addString(null);
        else b.addBytes(bytes);
      });
    }
    const dict = b.build();
    this.#dicts.set(dictionary, dict);
    return dict;
  }

  // ---- fields ------------------------------------------------------------------------------

  #fieldColumn(name: string, d: ArrowData, declared: FieldType | undefined, rowBase: number): FieldColumn {
    const keyBad = reservedKeyReason(name) ?? checkFieldKey(name);
    const base = { name, key: keyBad === undefined ? kUtf8.encode(escapeTag(name)) : new Uint8Array(0), keyInvalid: keyBad === undefined ? 0 : 1 };
    const type = d.type;
    const what = () => `column ${JSON.stringify(name)}`;
    const validity = validityOf(d);
    const n = d.length;
    switch (type.typeId) {
      case Type.Float: {
        let values: Float64Array;
        if (type.precision === kFloatHalf) {
          const h = d.values as unknown as Uint16Array;
          values = new Float64Array(n);
          for (let i = 0; i < n; i++) values[i] = halfToDouble(h[i]!);
        } else if (type.precision === kFloatSingle) values = new Float64Array(d.values as unknown as Float32Array);
        else values = d.values as unknown as Float64Array;
        return { ...base, validity, kind: declared === 'integer' ? FieldKind.FLOAT_AS_INT : FieldKind.FLOAT, values };
      }
      case Type.Int: {
        const v = d.values as TypedArray;
        if (declared === 'float') return { ...base, validity, kind: FieldKind.FLOAT, values: new Float64Array(v as unknown as ArrayLike<number>) };
        if (v instanceof Int32Array) return { ...base, validity, kind: FieldKind.INT32, values: v };
        if (v instanceof BigInt64Array) return { ...base, validity, kind: FieldKind.INT64, values: v };
        if (v instanceof BigUint64Array) return { ...base, validity, kind: FieldKind.UINT64, values: new BigInt64Array(v.buffer, v.byteOffset, v.length) };
        if (v instanceof Uint32Array) {
          const values = new BigInt64Array(n);
          const w = new Uint32Array(values.buffer);
          for (let i = 0; i < n; i++) w[2 * i] = v[i]!;
          return { ...base, validity, kind: FieldKind.INT64, values };
        }
        return { ...base, validity, kind: FieldKind.INT32, values: new Int32Array(v as unknown as ArrayLike<number>) };
      }
      case Type.Bool:
        return { ...base, validity, kind: FieldKind.BOOL, values: rebaseBits(bytesOf(d), d.offset, n) };
      case Type.Utf8:
      case Type.LargeUtf8:
        return { ...base, validity, kind: FieldKind.STRING, offsets: offsets32(d, what), values: bytesOf(d) };
      case Type.Dictionary: {
        // Declared string: the dictionary's raw values, gathered row by row.
        return { ...base, ...gatherDictionaryStrings(d, what) };
      }
      default:
        throw columnError(rowBase, 'fields', name, `unsupported Arrow type ${showType(type)} (supported: ${kSupportedFields})`);
    }
  }

  // ---- time --------------------------------------------------------------------------------

  #time(name: string | undefined, d: ArrowData | undefined, rows: number, rowBase: number): { time: BigInt64Array; timeInvalid: Bitmap; timeReasons: Map<number, string> } {
    const p = this.#precision;
    const dst = NS_PER[p];
    const reasons = new Map<number, string>();
    if (d === undefined) {
      const time = new BigInt64Array(rows);
      for (let i = 0; i < rows; i++) time[i] = floorDiv(nowNs(), dst);
      return { time, timeInvalid: null, timeReasons: reasons };
    }
    const type = d.type;
    const validity = validityOf(d);
    let invalid: Uint8Array | null = null;
    const refuse = (i: number, reason: string) => {
      invalid ??= new Uint8Array((rows + 7) >> 3);
      invalid[i >> 3]! |= 1 << (i & 7);
      reasons.set(i, reason);
    };
    // A time t in the precision is written when t * NS_PER[p] is in range (the point encoder's rule for bigint times).
    const tMin = -floorDiv(-MIN_TIME_NS, dst);
    const tMax = floorDiv(MAX_TIME_NS, dst);
    const outOfRange = (t: bigint) => `${t} (${p}) is outside InfluxDB's time range`;

    if (type.typeId === Type.Utf8 || type.typeId === Type.LargeUtf8) {
      const time = new BigInt64Array(rows);
      let i = 0;
      forEachUtf8(d, () => `column ${JSON.stringify(name)}`, (bytes) => {
        if (bytes === null) time[i] = floorDiv(nowNs(), dst);
        else {
          let text: string | undefined;
          try {
            text = kFatalUtf8.decode(bytes);
          } catch {
            refuse(i, 'the time text is not valid UTF-8');
          }
          if (text !== undefined) {
            const ns = parseIsoToNs(text);
            if (typeof ns === 'string') refuse(i, ns);
            else if (ns > MAX_TIME_NS || ns < MIN_TIME_NS) refuse(i, `${text} is outside InfluxDB's time range (1677-09-21 to 2262-04-11)`);
            else time[i] = p === 'n' ? ns : floorDiv(ns, dst);
          }
        }
        i++;
      });
      return { time, timeInvalid: invalid, timeReasons: reasons };
    }

    let src: bigint; // nanoseconds per unit of the column's values
    if (type.typeId === Type.Timestamp) src = kTimeUnitNs[type.unit ?? 1] ?? 1_000_000n;
    else if (type.typeId === Type.Date) src = type.unit === kDateUnitDay ? 86_400_000_000_000n : 1_000_000n;
    else if (type.typeId === Type.Int) src = dst;
    else {
      throw columnError(rowBase, 'time', undefined, `column ${JSON.stringify(name)} has Arrow type ${showType(type)}, which is not a time: use Timestamp, Date, an integer in the write's precision or ISO 8601 strings`);
    }
    const v = d.values as TypedArray;
    if (v instanceof BigInt64Array && src === dst && validity === null) {
      // Zero copy: already in the precision; only the range is checked (two words per row, no BigInt).
      const w = words64(v);
      const approxMax = Number(tMax) * (1 - 1e-12);
      for (let i = 0; i < rows; i++) {
        const approx = w[2 * i + 1]! * 4294967296 + (w[2 * i]! >>> 0);
        if (approx < approxMax && approx > -approxMax) continue;
        const t = v[i]!;
        if (t < tMin || t > tMax) refuse(i, outOfRange(t));
      }
      return { time: v, timeInvalid: invalid, timeReasons: reasons };
    }
    const time = new BigInt64Array(rows);
    const up = src >= dst && src % dst === 0n ? src / dst : 0n; // multiply by
    const down = src < dst && dst % src === 0n ? dst / src : 0n; // floor-divide by
    for (let i = 0; i < rows; i++) {
      if (!isValid(validity, i)) {
        time[i] = floorDiv(nowNs(), dst);
        continue;
      }
      const raw = v[i]!;
      const x = typeof raw === 'bigint' ? raw : BigInt(raw);
      const t = up === 1n ? x : up !== 0n ? x * up : down !== 0n ? floorDiv(x, down) : floorDiv(x * src, dst);
      if (t < tMin || t > tMax) refuse(i, outOfRange(t));
      else time[i] = t;
    }
    return { time, timeInvalid: invalid, timeReasons: reasons };
  }
}

/** The field type a column takes without a declaration. */
function naturalFieldType(t: ArrowType): FieldType | undefined {
  switch (t.typeId) {
    case Type.Float: return 'float';
    case Type.Int: return 'integer';
    case Type.Bool: return 'boolean';
    case Type.Utf8:
    case Type.LargeUtf8: return 'string';
    default: return undefined;
  }
}

/** A copy of a tag column with `value` appended to its dictionary as the fallback entry. */
function withFallback(t: TagColumn, value: string): TagColumn {
  const bytes = kUtf8.encode(escapeTag(value));
  const entries = t.dictOffsets.length - 1;
  const dictData = new Uint8Array(t.dictData.length + bytes.length);
  dictData.set(t.dictData, 0);
  dictData.set(bytes, t.dictData.length);
  const dictOffsets = new Int32Array(entries + 2);
  dictOffsets.set(t.dictOffsets, 0);
  dictOffsets[entries + 1] = dictData.length;
  let dictInvalid = t.dictInvalid;
  if (dictInvalid !== null) {
    dictInvalid = new Uint8Array(entries + 1);
    dictInvalid.set(t.dictInvalid!, 0);
  }
  return { ...t, dictData, dictOffsets, dictInvalid, fallback: entries };
}

/** A non-dictionary tag column as dictionary indices + escaped entries (one entry per distinct value). */
function internTagValues(d: ArrowData, type: ArrowType, what: () => string, unsupported: () => Error): { dict: TagDict; indices: Int32Array } {
  const n = d.length;
  const b = new TagDictBuilder();
  const empty = b.addString(null);
  const indices = new Int32Array(n);
  const valid = validityOf(d);
  switch (type.typeId) {
    case Type.Utf8:
    case Type.LargeUtf8: {
      // Keyed by the raw bytes (as latin1 text, one char per byte): each distinct value is decoded and escaped once.
      const seen = new Map<string, number>();
      const offs = offsets32(d, what);
      const values = bytesOf(d);
      const buf = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
      for (let i = 0; i < n; i++) {
        if (!isValid(valid, i)) {
          indices[i] = empty;
          continue;
        }
        const k = buf.toString('latin1', offs[i]!, offs[i + 1]!);
        let e = seen.get(k);
        if (e === undefined) {
          e = b.addBytes(values.subarray(offs[i]!, offs[i + 1]!));
          seen.set(k, e);
        }
        indices[i] = e;
      }
      break;
    }
    case Type.Int:
    case Type.Float: {
      const seen = new Map<number | bigint, number>();
      const v = d.values as TypedArray;
      const half = type.typeId === Type.Float && type.precision === kFloatHalf;
      for (let i = 0; i < n; i++) {
        if (!isValid(valid, i)) {
          indices[i] = empty;
          continue;
        }
        const x = half ? halfToDouble(v[i] as number) : v[i]!;
        let e = seen.get(x);
        if (e === undefined) {
          e = b.addString(String(x));
          seen.set(x, e);
        }
        indices[i] = e;
      }
      break;
    }
    case Type.Bool: {
      const t = b.addString('true');
      const f = b.addString('false');
      const bits = bytesOf(d);
      for (let i = 0; i < n; i++) {
        if (!isValid(valid, i)) indices[i] = empty;
        else {
          const j = d.offset + i;
          indices[i] = (bits[j >> 3]! & (1 << (j & 7))) !== 0 ? t : f;
        }
      }
      break;
    }
    default:
      throw unsupported();
  }
  return { dict: b.build(), indices };
}

/** A Dictionary<Utf8> column declared `string`: its values gathered into offsets + bytes. */
function gatherDictionaryStrings(d: ArrowData, what: () => string): { kind: typeof FieldKind.STRING; validity: Bitmap; offsets: Int32Array; values: Uint8Array } {
  const entries: (Uint8Array | null)[] = [];
  for (const chunk of d.dictionary?.data ?? []) forEachUtf8(chunk, what, (bytes) => entries.push(bytes));
  const indices = indices32(d, what);
  const rowValid = validityOf(d);
  const n = d.length;
  let size = 0;
  let validity: Uint8Array | null = null;
  for (let i = 0; i < n; i++) {
    const e = isValid(rowValid, i) ? entries[indices[i]!] : null;
    if (e === null || e === undefined) {
      validity ??= new Uint8Array((n + 7) >> 3).fill(0xff);
      validity[i >> 3]! &= ~(1 << (i & 7));
    } else size += e.length;
  }
  const values = new Uint8Array(size);
  const offsets = new Int32Array(n + 1);
  let o = 0;
  for (let i = 0; i < n; i++) {
    if (isValid(validity, i)) {
      const e = entries[indices[i]!]!;
      values.set(e, o);
      o += e.length;
    }
    offsets[i + 1] = o;
  }
  return { kind: FieldKind.STRING, validity, offsets, values };
}
