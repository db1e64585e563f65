/**
 * Point objects to columnar layouts (`layout.ts`), on the main thread, so that the columnar
 * encoder (`ts-encoder.ts`, or the WASM one, in the pool) writes them like tables.
 *
 * Consecutive points of one measurement go into one layout's growing typed arrays (times as
 * int64 in the write's precision, floats, int64s, bit-packed booleans, UTF-8 strings with
 * offsets, tag values as indices into a per-column dictionary whose entries are checked and
 * escaped once): no object per point beyond the user's own. The arrays are the builder's, reused
 * by every layout; a layout that closes is copied into one `ArrayBuffer` of its own, exactly its
 * size (its arrays are views into it). The bytes are the point encoder's (`point-encoder.ts`),
 * byte for byte, in the input order:
 *
 * - a layout's tag columns are the union of the points' tag keys: a point without a value for a
 *   key has dictionary entry 0 (empty: the tag is left out, or the write's extra tag of that key
 *   is written instead, which is the column's `fallback`);
 * - its field columns are in an order that every point's fields follow: a point may leave
 *   fields out (null, undefined, a key it does not have, a non-finite number skipped by
 *   `nonFinite: 'skipField'`: validity bit off) and may bring new keys (a new column, empty for
 *   the rows before). A point whose keys come in an order the columns cannot follow (`{b, a}`
 *   after `{a, b}`), or whose value kind differs from its column's (a string where the column
 *   holds floats), closes the layout and opens a new one. So do another measurement, a gap in
 *   the point indices, `maxRows` rows and `maxStringBytes` bytes of string values.
 * - numbers are floats, or int64 when `fieldTypes` declares them `integer` (a bigint and a
 *   declared-integer number share the INT64 column); no layout holds NaN or ±Infinity.
 *
 * Errors: `add()` checks each point as the point encoder does, and throws for the first invalid
 * point the very `InvalidPointError` the point encoder throws (same index, element, key and
 * message: when `add()` finds a point invalid, it asks a `PointEncoder` of the same options to
 * word the error). So the layouts carry no invalid name, value or time (`keyInvalid` 0,
 * `dictInvalid` and `timeInvalid` null), and their encoding cannot fail, with one exception:
 * a line larger than a whole request body, which depends on `maxBodyBytes`. Give the builder
 * `maxBodyBytes` and `add()` checks that too; otherwise the encoder reports it
 * (`LINE_TOO_LARGE`), so encode the layouts closed before a point that `add()` refused before
 * reporting that point's error: an error in them comes first. With `invalidRows: 'skip'`, a
 * point without a field becomes an empty row that the encoder leaves out and reports in
 * `skippedRows`, given the same `invalidRows` option.
 *
 * Times: a point without one gets `nowNs()` when it is added, read at the point in the checks
 * where the point encoder reads it (last, after every other check), so the clock is read in the
 * same order and as often.
 *
 * Cost: a layout has a fixed cost (here about 4 µs to close; the columnar encoder's own setup
 * per layout is of the same order), so input that changes measurement every point or few points
 * makes layouts of a row or a few, and is faster through the point encoder (runs of 1: ~4x
 * slower than it; runs of 8: on par; runs of 64 and more: faster). `pendingRows` / the layouts'
 * `rows` tell a caller how long its runs are.
 *
 * Longer than the house's 400 lines, on purpose: one class whose hot path (`#row`, once per
 * point) reads the builder's private state and caches directly; split across modules it would
 * need accessors or shared mutable state on that path. Its columns are in `point-columns.ts` and
 * `tag-column.ts`, the all-at-once helpers (`pointsToLayouts`, `encodePointsColumnar`) in
 * `point-layouts.ts`.
 * @module
 */
import { InvalidOptionError, InvalidPointError } from '../../errors.js';
import type { FieldType, Precision } from '../../types.js';
import { LineTooLargeError } from '../body-builder.js';
import { checkFieldKey, checkMeasurement, checkTagName, escapeMeasurement, escapeTag, reservedKeyReason } from '../escape.js';
import { MAX_STRING_FIELD_BYTES, PointEncoder, pointProp, type Point, type PointEncoderOptions } from '../point-encoder.js';
import { MAX_TIME_NS, MIN_TIME_NS, NS_PER, floorDiv, nowNs, parseIsoToNs } from '../time.js';
import type { ColumnarLayout, FieldColumn, TagColumn } from './layout.js';
import { FieldCol, bounded, bytesOf, capFor, copyBytes, kBool, kFloat, kInt64, kMinColumnRows, kNoBytes, kString, kUtf8, type FieldInfo, type Kind } from './point-columns.js';
import { TagCol } from './tag-column.js';

export interface PointBuilderOptions extends PointEncoderOptions {
  /** Rows per layout at most (default 65,536). */
  maxRows?: number;
  /** A layout is closed once its string field values take this many bytes (default 16 MiB). */
  maxStringBytes?: number;
  /**
   * The write's `maxBodyBytes`: when given, `add()` also refuses a point whose line cannot fit
   * a request body (as the point encoder's body builder does), so that encoding never fails.
   */
  maxBodyBytes?: number;
}

/** A layout of consecutive points: row `i` is the point of index `rowBase + i`. */
export interface PointLayout extends ColumnarLayout {
  /** Index of the point of row 0 (pass it as the encoder's `rowBase`). */
  readonly rowBase: number;
}

/** What `#row` found. */
const kOk = 0;
/** The point does not fit the open layout (key order or value kind): open another. */
const kConflict = 1;
/** The point is invalid: the point encoder words the error. */
const kError = 2;
/** No field to write, and `invalidRows: 'skip'`: an empty row. */
const kEmptyRow = 3;

const kMaxInt64 = 9223372036854775807n;
const kMinInt64 = -9223372036854775808n;
/** influxd's MaxKeyLength: measurement + tags + field key + 4 bytes. */
const kMaxKeyBytes = 65_535;
const kTwo32 = 4294967296;
/** Bytes of the longest number as written: a float (`-1.2345678901234567e-308`) or an int64 + `i`. */
const kNumberBytes = 26;
/** A space, the longest int64 time (`-9223372036854775808`) and the newline. */
const kTimeBytes = 22;

/** The point encoder's cheap range check of number times, per precision. */
const kMaxTimeNumber: Record<Precision, number> = {
  n: Number(MAX_TIME_NS), u: Number(MAX_TIME_NS / NS_PER.u), ms: Number(MAX_TIME_NS / NS_PER.ms),
  s: Number(MAX_TIME_NS / NS_PER.s), m: Number(MAX_TIME_NS / NS_PER.m), h: Number(MAX_TIME_NS / NS_PER.h),
};
const kMaxDateMs = Number(MAX_TIME_NS / 1_000_000n);
const kMsPerUnit: Partial<Record<Precision, number>> = { s: 1_000, m: 60_000, h: 3_600_000 };

const kNoReasons: ReadonlyMap<number, string> = new Map();

/** Floor division of two safe integers, exact (as the point encoder's). */
function floorDivNumber(a: number, b: number): number {
  let q = Math.floor(a / b);
  if (q * b > a) q -= 1;
  else if ((q + 1) * b <= a) q += 1;
  return q;
}


/** The layout being filled (one instance per builder, reset for each layout). */
class OpenLayout {
  active = false;
  measurement = '';
  mBytes: Uint8Array = kNoBytes;
  rowBase = 0;
  rows = 0;
  /** Field columns in column order. */
  readonly fields: FieldCol[] = [];
  readonly fieldMap = new Map<string, FieldCol>();
  /** Tag columns in use, sorted by key. */
  readonly tags: TagCol[] = [];
  readonly tagMap = new Map<string, TagCol>();
  /** The tag keys of the last point, in its order, and their columns: most points repeat them. */
  readonly lastTagKeys: string[] = [];
  readonly lastTagCols: TagCol[] = [];
  /** Series key bytes of a row without tags of its own: the measurement and the extra tags. */
  baseSeries = 0;
  strBytes = 0;
  /** Values written, and column rows allocated while this layout was open (bounds sparse layouts). */
  values = 0;
  cells = 0;
}

// ---- the builder -----------------------------------------------------------------------------

/** A layout closes when it has allocated more column rows than this, beyond 8 per value it holds. */
const kSparseCells = 1 << 20;
/** Scratch column rows kept across layouts beyond those the last layout used. */
const kKeptCells = 1 << 22;

/**
 * Accumulates point objects into layouts. One instance per write. `add()` every point in
 * order with its index in the write; take the layouts closed so far with `takeReady()` (to
 * encode them while more points come), and the rest with `flush()`.
 */
export class PointColumnBuilder {
  readonly #precision: Precision;
  readonly #nsPer: bigint;
  readonly #tMin: bigint;
  readonly #tMax: bigint;
  readonly #maxTimeNumber: number;
  readonly #defaultMeasurement: string | undefined;
  readonly #fieldTypes: Record<string, FieldType> | undefined;
  readonly #allowNewlines: boolean;
  readonly #skipNonFinite: boolean;
  readonly #skipEmpty: boolean;
  readonly #maxRows: number;
  readonly #maxStringBytes: number;
  readonly #maxBodyBytes: number;
  /** Words the errors: the point encoder itself, with the same options. */
  readonly #ref: PointEncoder;
  // Checked and escaped names, as UTF-8 (null: cannot be written), across layouts.
  readonly #measurements = new Map<string, Uint8Array | null>();
  readonly #tagKeys = new Map<string, Uint8Array | null>();
  readonly #fieldKeys = new Map<string, FieldInfo | null>();
  // Scratch columns, by key (fields: by kind, then key); the extra tags' columns.
  readonly #tagScratch = new Map<string, TagCol>();
  readonly #fieldScratch: Map<string, FieldCol>[] = [];
  readonly #extraCols: TagCol[] = [];
  #scratchCells = 0;
  #time = new BigInt64Array(kMinColumnRows);
  #tw = new Int32Array(this.#time.buffer);
  #tbytes = bytesOf(this.#time);
  readonly #L = new OpenLayout();
  #layoutNo = 0;
  #ready: PointLayout[] = [];
  /** Where `addAll` sends closed layouts (views); undefined: they are copied into `#ready`. */
  #emit: ((layout: PointLayout) => void) | undefined;
  /** Upper bound of the bytes of the line of the row just added (with `maxBodyBytes`). */
  #lineBound = 0;

  constructor(options: PointBuilderOptions) {
    // The point encoder checks the extra tags up front and throws as it would.
    this.#ref = new PointEncoder(options);
    const p = options.precision;
    if (!Object.hasOwn(NS_PER, p)) throw new InvalidOptionError(`precision must be one of n, u, ms, s, m, h (got ${String(p)})`);
    this.#precision = p;
    this.#nsPer = NS_PER[p];
    this.#tMin = -floorDiv(-MIN_TIME_NS, this.#nsPer);
    this.#tMax = floorDiv(MAX_TIME_NS, this.#nsPer);
    this.#maxTimeNumber = kMaxTimeNumber[p];
    this.#defaultMeasurement = options.measurement;
    this.#fieldTypes = options.fieldTypes === undefined ? undefined : Object.assign(Object.create(null) as Record<string, FieldType>, options.fieldTypes);
    this.#allowNewlines = options.allowNewlinesInStrings ?? false;
    this.#skipNonFinite = options.nonFinite === 'skipField';
    this.#skipEmpty = options.invalidRows === 'skip';
    this.#maxRows = positiveInt(options.maxRows, 65_536, 'maxRows');
    this.#maxStringBytes = positiveInt(options.maxStringBytes, 16 * 1024 * 1024, 'maxStringBytes');
    this.#maxBodyBytes = options.maxBodyBytes === undefined ? 0 : positiveInt(options.maxBodyBytes, 0, 'maxBodyBytes');
    for (const [k, v] of Object.entries(options.tags ?? {})) {
      // As the point encoder writes them (a non-string value as its text); checked by its constructor.
      const value = String(v);
      if (value === '') continue;
      const col = new TagCol(k, this.#tagKeyBytes(k)!, { value, bytes: kUtf8.encode(escapeTag(value)) });
      this.#extraCols.push(col);
      this.#tagScratch.set(k, col);
    }
    this.#extraCols.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Adds the point of index `index` (its index in the write, for errors and `rowBase`).
   * Throws the point encoder's `InvalidPointError` when the point cannot be written; the
   * builder holds nothing of that point then.
   */
  add(point: Point, index: number): void {
    if (typeof point !== 'object' || point === null) this.#refuse(point, index);
    const m = (pointProp(point, 'measurement') as Point['measurement']) ?? this.#defaultMeasurement;
    const L = this.#L;
    if (!L.active || L.measurement !== m || L.rowBase + L.rows !== index || L.rows >= this.#maxRows || L.strBytes >= this.#maxStringBytes) {
      if (typeof m !== 'string') this.#refuse(point, index);
      const mBytes = this.#measurementBytes(m);
      if (mBytes === null) this.#refuse(point, index);
      this.#open(m, mBytes, index);
    }
    let status = this.#row(L, point);
    if (status === kConflict) {
      this.#rollback(L);
      this.#open(L.measurement, L.mBytes, index);
      status = this.#row(L, point);
    }
    if (status === kError || status === kConflict) {
      this.#rollback(L);
      this.#refuse(point, index);
    }
    if (status === kOk && this.#maxBodyBytes !== 0 && this.#lineBound > this.#maxBodyBytes) this.#checkLine(L, point, index);
    L.rows++;
  }

  /** Rows in the layouts not taken yet (the open one included). */
  get pendingRows(): number {
    let n = this.#L.active ? this.#L.rows : 0;
    for (const l of this.#ready) n += l.rows;
    return n;
  }

  /** Whether layouts have been closed since the last `takeReady()` / `flush()`. */
  get hasReady(): boolean {
    return this.#ready.length > 0;
  }

  /** The layouts closed so far (not the open one), in order. */
  takeReady(): PointLayout[] {
    const out = this.#ready;
    this.#ready = [];
    return out;
  }

  /** Closes the open layout and returns every layout not taken yet, in order. */
  flush(): PointLayout[] {
    this.#close();
    return this.takeReady();
  }

  /**
   * Adds `points` (indices 0 ..) and hands each layout to `emit` as it closes, as VIEWS of the
   * builder's own columns (no copy: valid during the call only, for an encoder in this thread).
   * On an invalid point (or an error from `emit`) the builder is left empty and the error thrown.
   */
  addAll(points: readonly Point[], emit: (layout: PointLayout) => void): void {
    if (this.#L.active || this.#ready.length > 0) throw new Error('point builder: addAll() with points added by add() not flushed');
    this.#emit = emit;
    try {
      for (let i = 0; i < points.length; i++) this.add(points[i]!, i);
      this.#close();
    } catch (e) {
      this.#emit = undefined;
      this.#close(false);
      throw e;
    } finally {
      this.#emit = undefined;
    }
  }

  // ---- one point -----------------------------------------------------------------------------

  /** Writes the point into row `L.rows` (not counted yet). */
  #row(L: OpenLayout, point: Point): number {
    const r = L.rows;
    let series = L.baseSeries;

    const tags = pointProp(point, 'tags') as Point['tags'];
    if (tags !== undefined && tags !== null) {
      if (typeof tags !== 'object') return kError;
      const keys = L.lastTagKeys;
      const cols = L.lastTagCols;
      let j = 0;
      for (const k in tags) {
        // Own properties only: for…in also yields enumerable keys of the prototype chain.
        // (`hasOwnProperty.call`, not `Object.hasOwn`: V8 drops the check for keys of the object's own
        // enumeration cache, which these are but for keys of a prototype.)
        // biome-ignore lint/suspicious/noPrototypeBuiltins: faster than Object.hasOwn here (see above)
        if (!Object.prototype.hasOwnProperty.call(tags, k)) continue;
        let v = tags[k];
        if (v === undefined || v === null) continue;
        if (typeof v !== 'string') {
          if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') v = String(v);
          else return kError;
        }
        if (v === '') continue;
        let col: TagCol | undefined;
        if (keys[j] === k) col = cols[j]!;
        else {
          col = L.tagMap.get(k) ?? this.#addTagColumn(L, k);
          if (col === undefined) return kError;
          keys[j] = k;
          cols[j] = col;
        }
        j++;
        const e = col.entry(v);
        if (e < 0) return kError;
        if (r >= col.cap && !this.#room(L, col.grow(r + 1))) return kConflict;
        col.indices[r] = e;
        col.own++;
        series += col.prefix + col.entryBytes[e]! - col.fallbackBytes;
      }
    }

    const fields = pointProp(point, 'fields') as Point['fields'];
    if (typeof fields !== 'object' || fields === null) return kError;
    const cols = L.fields;
    const byte = r >> 3;
    const mask = 1 << (r & 7);
    let c = 0;
    let written = 0;
    let longestKey = 0;
    let bound = 0;
    let strBytes = 0;
    for (const key in fields) {
      // biome-ignore lint/suspicious/noPrototypeBuiltins: faster than Object.hasOwn here (see the tags' loop)
      if (!Object.prototype.hasOwnProperty.call(fields, key)) continue;
      const v = fields[key];
      if (v === undefined || v === null) continue;
      let col = c < cols.length && cols[c]!.name === key ? cols[c] : L.fieldMap.get(key);
      const declared = col !== undefined ? col.declared : this.#fieldTypes?.[key];
      let kind: Kind;
      switch (typeof v) {
        case 'number':
          if (declared === undefined || declared === 'float') {
            if (v - v !== 0) {
              // NaN or ±Infinity.
              if (this.#skipNonFinite) continue;
              return kError;
            }
            kind = kFloat;
          } else if (declared === 'integer' && Number.isSafeInteger(v)) kind = kInt64;
          else return kError;
          break;
        case 'bigint':
          if ((declared !== undefined && declared !== 'integer') || v > kMaxInt64 || v < kMinInt64) return kError;
          kind = kInt64;
          break;
        case 'string':
          if (declared !== undefined && declared !== 'string') return kError;
          kind = kString;
          break;
        case 'boolean':
          if (declared !== undefined && declared !== 'boolean') return kError;
          kind = kBool;
          break;
        default:
          return kError;
      }
      if (col === undefined) {
        col = this.#addFieldColumn(L, key, kind, c);
        if (col === undefined) return kError;
      } else if (cols[c] !== col) {
        const at = cols.indexOf(col, c);
        if (at < 0) return kConflict;
        c = at;
      }
      if (col.kind !== kind) return kConflict;
      c++;
      if (r >= col.cap && !this.#room(L, col.grow(r + 1))) return kConflict;
      switch (kind) {
        case kFloat:
          col.f64[r] = v as number;
          bound += kNumberBytes;
          break;
        case kInt64:
          if (typeof v === 'bigint') col.i64[r] = v;
          else {
            const hi = Math.floor((v as number) / kTwo32);
            col.w32[2 * r] = ((v as number) - hi * kTwo32) | 0;
            col.w32[2 * r + 1] = hi;
          }
          bound += kNumberBytes;
          break;
        case kBool:
          if (v) col.bits[byte]! |= mask;
          else col.bits[byte]! &= ~mask;
          bound += 5;
          break;
        default: {
          const n = this.#writeString(col, r, v as string);
          if (n < 0) return kError;
          strBytes += n;
          // Quotes, and a backslash at most per byte.
          bound += 2 + 2 * n;
        }
      }
      col.valid[byte]! |= mask;
      col.count++;
      col.last = r;
      const keyBytes = col.key.length;
      if (keyBytes > longestKey) longestKey = keyBytes;
      bound += keyBytes + 2;
      written++;
    }
    if (written === 0) return this.#skipEmpty ? kEmptyRow : kError;
    // influxd's limit on the series key, counting the longest written field key, as the point encoder does.
    if (series + longestKey + 4 > kMaxKeyBytes) return kError;

    // The time, last (the point encoder reads the clock after every other check).
    if (r >= this.#time.length) this.#growTime(r + 1);
    const t = pointProp(point, 'time') as Point['time'];
    if (t === undefined || t === null) this.#time[r] = floorDiv(nowNs(), this.#nsPer);
    else if (typeof t === 'number') {
      if (!Number.isSafeInteger(t) || Math.abs(t) > this.#maxTimeNumber) return kError;
      const hi = Math.floor(t / kTwo32);
      this.#tw[2 * r] = (t - hi * kTwo32) | 0;
      this.#tw[2 * r + 1] = hi;
    } else if (typeof t === 'bigint') {
      if (t < this.#tMin || t > this.#tMax) return kError;
      this.#time[r] = t;
    } else if (typeof t === 'string') {
      const ns = parseIsoToNs(t);
      if (typeof ns === 'string' || ns > MAX_TIME_NS || ns < MIN_TIME_NS) return kError;
      this.#time[r] = this.#precision === 'n' ? ns : floorDiv(ns, this.#nsPer);
    } else if (t instanceof Date) {
      const ms = t.getTime();
      if (Number.isNaN(ms) || Math.abs(ms) > kMaxDateMs) return kError;
      const p = this.#precision;
      if (p === 'n') this.#time[r] = BigInt(ms) * 1_000_000n;
      else if (p === 'u') this.#time[r] = BigInt(ms) * 1_000n;
      else {
        const x = p === 'ms' ? ms : floorDivNumber(ms, kMsPerUnit[p]!);
        const hi = Math.floor(x / kTwo32);
        this.#tw[2 * r] = (x - hi * kTwo32) | 0;
        this.#tw[2 * r + 1] = hi;
      }
    } else return kError;

    L.strBytes += strBytes;
    L.values += written;
    this.#lineBound = series + bound + kTimeBytes;
    return kOk;
  }

  /**
   * Appends a string value's UTF-8 bytes for row `r`; its byte count, or -1 when the point
   * encoder refuses it (over 64 KB, a lone surrogate, a newline that is not allowed).
   */
  #writeString(col: FieldCol, r: number, s: string): number {
    const n = s.length;
    if (n * 3 > MAX_STRING_FIELD_BYTES && Buffer.byteLength(s) > MAX_STRING_FIELD_BYTES) return -1;
    // Rows without a value since the last one end where they start.
    const offs = col.offs;
    const start = col.len;
    for (let u = col.upto; u < r;) offs[++u] = start;
    col.upto = r;
    const b = col.reserveBytes(n * 3);
    const allowNewlines = this.#allowNewlines;
    let p = start;
    let i = 0;
    for (; i < n; i++) {
      const ch = s.charCodeAt(i);
      if (ch >= 0x80) break;
      if ((ch === 10 || ch === 13) && !allowNewlines) return -1;
      b[p++] = ch;
    }
    if (i < n) {
      if (!s.isWellFormed()) return -1;
      if (!allowNewlines && (s.includes('\n', i) || s.includes('\r', i))) return -1;
      p = start + b.write(s, start);
    }
    col.len = p;
    offs[r + 1] = p;
    col.upto = r + 1;
    return p - start;
  }

  /** The exact line size, when its bound is over `maxBodyBytes`: refused as the body builder would. */
  #checkLine(L: OpenLayout, point: Point, index: number): void {
    // The point encoder's line; a missing time as the one taken (no second clock read). A given
    // time stays as given: a time in range may floor to one whose multiple is not (1677 in h).
    const time = (pointProp(point, 'time') as Point['time']) ?? this.#time[L.rows]!;
    const line = this.#ref.encode({ measurement: pointProp(point, 'measurement') as Point['measurement'], tags: pointProp(point, 'tags') as Point['tags'], fields: pointProp(point, 'fields') as Point['fields'], time }, index);
    const bytes = line === undefined ? 0 : Buffer.byteLength(line) + 1;
    if (bytes > this.#maxBodyBytes) {
      this.#rollback(L);
      throw new InvalidPointError(index, 'point', undefined, new LineTooLargeError(bytes, this.#maxBodyBytes).message);
    }
  }

  /** Throws the point encoder's error for a point found invalid. */
  #refuse(point: unknown, index: number): never {
    this.#ref.encode(point as Point, index);
    throw new Error(`point builder: point #${index} was refused, but the point encoder writes it (a bug in point-builder.ts)`);
  }

  /** Undoes what `#row` wrote into row `L.rows`. */
  #rollback(L: OpenLayout): void {
    const r = L.rows;
    for (const t of L.tags) {
      if (r < t.cap && t.indices[r] !== 0) {
        t.indices[r] = 0;
        t.own--;
      }
    }
    let emptied = false;
    for (const f of L.fields) {
      if (f.last === r) {
        f.valid[r >> 3]! &= ~(1 << (r & 7));
        f.count--;
        f.last = -1;
        if (f.kind === kString) {
          f.len = f.offs[r]!;
          f.upto = r;
        }
      }
      if (f.count === 0) emptied = true;
    }
    if (emptied) {
      // Columns opened by this point only: gone, so that they do not constrain the next points.
      for (let c = L.fields.length - 1; c >= 0; c--) {
        const f = L.fields[c]!;
        if (f.count === 0) {
          L.fields.splice(c, 1);
          L.fieldMap.delete(f.name);
          this.#scratchCells -= f.cap;
          f.reset(0);
          this.#scratchCells += f.cap;
        }
      }
    }
  }

  /** Whether the open layout may allocate `cells` more column rows (a sparse layout closes instead). */
  #room(L: OpenLayout, cells: number): boolean {
    this.#scratchCells += cells;
    L.cells += cells;
    return L.rows === 0 || L.cells <= 8 * (L.values + L.rows) + kSparseCells;
  }

  #growTime(rows: number): void {
    const time = new BigInt64Array(capFor(rows));
    time.set(this.#time);
    this.#time = time;
    this.#tw = new Int32Array(time.buffer);
    this.#tbytes = bytesOf(time);
  }

  // ---- layouts -------------------------------------------------------------------------------

  #open(measurement: string, mBytes: Uint8Array, rowBase: number): void {
    this.#close();
    const L = this.#L;
    L.active = true;
    L.measurement = measurement;
    L.mBytes = mBytes;
    L.rowBase = rowBase;
    L.baseSeries = mBytes.length;
    const no = ++this.#layoutNo;
    for (const col of this.#extraCols) {
      col.used = no;
      L.tags.push(col);
      L.tagMap.set(col.name, col);
      L.baseSeries += col.fallbackBytes;
    }
  }

  /** Closes the open layout: to `#emit` (views), or copied into the ready list; with `keep` false, dropped. */
  #close(keep = true): void {
    const L = this.#L;
    if (!L.active) return;
    const rows = L.rows;
    try {
      if (rows > 0 && keep) {
        if (this.#emit !== undefined) this.#emit(this.#view(L));
        else this.#ready.push(this.#build(L));
      }
    } finally {
      this.#resetColumns(L, rows);
    }
  }

  /** The columns ready for the next layout. */
  #resetColumns(L: OpenLayout, rows: number): void {
    let cells = this.#scratchCells;
    for (const t of L.tags) {
      cells -= t.cap;
      t.reset(rows);
      cells += t.cap;
    }
    for (const f of L.fields) {
      cells -= f.cap;
      f.reset(rows);
      cells += f.cap;
    }
    this.#scratchCells = cells;
    L.active = false;
    L.rows = 0;
    L.fields.length = 0;
    L.fieldMap.clear();
    L.tags.length = 0;
    L.tagMap.clear();
    L.lastTagKeys.length = 0;
    L.lastTagCols.length = 0;
    L.strBytes = 0;
    L.values = 0;
    L.cells = 0;
    if (this.#scratchCells > kKeptCells) this.#trimScratch();
  }

  /** Lets go of the scratch columns the last layout did not use. */
  #trimScratch(): void {
    let cells = 0;
    for (const [k, t] of this.#tagScratch) {
      if (t.used === this.#layoutNo) cells += t.cap;
      else if (t.fallback < 0) this.#tagScratch.delete(k);
    }
    for (const byKind of this.#fieldScratch) {
      if (byKind === undefined) continue;
      for (const [k, f] of byKind) {
        if (f.used === this.#layoutNo) cells += f.cap;
        else byKind.delete(k);
      }
    }
    this.#scratchCells = cells;
  }

  /** The open layout's rows as views of the scratch columns (the time array is the builder's). */
  #view(L: OpenLayout): PointLayout {
    const rows = L.rows;
    const tags: TagColumn[] = [];
    for (const t of L.tags) {
      if (t.own === 0 && t.fallback < 0) continue;
      const v = t.view(rows);
      this.#scratchCells += v.grown;
      tags.push(v.column);
    }
    const fields: FieldColumn[] = [];
    for (const f of L.fields) {
      if (f.count === 0) continue;
      const v = f.view(rows);
      this.#scratchCells += v.grown;
      fields.push(v.column);
    }
    return {
      rowBase: L.rowBase, rows, measurement: L.mBytes, time: this.#time.subarray(0, rows), timeInvalid: null,
      tags, fields, meta: { precision: this.#precision, timeReasons: kNoReasons },
    };
  }

  /** The open layout's rows, copied into one buffer of their own. */
  #build(L: OpenLayout): PointLayout {
    const rows = L.rows;
    let size = rows * 8;
    let nTags = 0;
    for (const t of L.tags) {
      if (t.own > 0 || t.fallback >= 0) {
        size += t.size(rows);
        nTags++;
      }
    }
    for (const f of L.fields) if (f.count > 0) size += f.size(rows);
    const buf = new ArrayBuffer(size);
    const u8 = new Uint8Array(buf);
    copyBytes(u8, 0, this.#tbytes, rows * 8);
    const time = new BigInt64Array(buf, 0, rows);
    let at = rows * 8;
    const tags: TagColumn[] = [];
    if (nTags > 0) {
      for (const t of L.tags) {
        if (t.own === 0 && t.fallback < 0) continue;
        tags.push(t.copy(buf, u8, at, rows));
        at += t.size(rows);
      }
    }
    const fields: FieldColumn[] = [];
    for (const f of L.fields) {
      if (f.count === 0) continue;
      fields.push(f.copy(buf, u8, at, rows));
      at += f.size(rows);
    }
    return {
      rowBase: L.rowBase, rows, measurement: L.mBytes, time, timeInvalid: null,
      tags, fields, meta: { precision: this.#precision, timeReasons: kNoReasons },
    };
  }

  #addTagColumn(L: OpenLayout, k: string): TagCol | undefined {
    let col = this.#tagScratch.get(k);
    if (col === undefined) {
      const key = this.#tagKeyBytes(k);
      if (key === null) return undefined;
      col = new TagCol(k, key);
      this.#tagScratch.set(k, col);
    }
    col.used = this.#layoutNo;
    // Kept sorted by key (JS string order), as the point encoder sorts a line's tags.
    const tags = L.tags;
    let i = tags.length;
    tags.push(col);
    for (; i > 0 && tags[i - 1]!.name > k; i--) tags[i] = tags[i - 1]!;
    tags[i] = col;
    L.tagMap.set(k, col);
    return col;
  }

  #addFieldColumn(L: OpenLayout, k: string, kind: Kind, at: number): FieldCol | undefined {
    const byKind = (this.#fieldScratch[kind] ??= new Map());
    let col = byKind.get(k);
    if (col === undefined) {
      let info = this.#fieldKeys.get(k);
      if (info === undefined) {
        const ok = reservedKeyReason(k) === undefined && checkFieldKey(k) === undefined;
        info = ok ? { key: kUtf8.encode(escapeTag(k)), declared: this.#fieldTypes?.[k] } : null;
        bounded(this.#fieldKeys, 10_000).set(k, info);
      }
      if (info === null) return undefined;
      col = new FieldCol(k, info, kind);
      byKind.set(k, col);
    }
    col.used = this.#layoutNo;
    L.fields.splice(at, 0, col);
    L.fieldMap.set(k, col);
    return col;
  }

  // ---- names ---------------------------------------------------------------------------------

  #measurementBytes(m: string): Uint8Array | null {
    let b = this.#measurements.get(m);
    if (b === undefined) {
      b = checkMeasurement(m) === undefined ? kUtf8.encode(escapeMeasurement(m)) : null;
      bounded(this.#measurements, 1_000).set(m, b);
    }
    return b;
  }

  #tagKeyBytes(k: string): Uint8Array | null {
    let b = this.#tagKeys.get(k);
    if (b === undefined) {
      b = reservedKeyReason(k) === undefined && checkTagName(k) === undefined ? kUtf8.encode(escapeTag(k)) : null;
      bounded(this.#tagKeys, 10_000).set(k, b);
    }
    return b;
  }

}

function positiveInt(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < 1) throw new InvalidOptionError(`point builder option ${name} must be a positive integer (got ${String(v)})`);
  return v;
}
