/**
 * The `arrow` output straight from the JSON text: a parser specialised for InfluxDB 1.x `/query`
 * answers that writes every cell into its column's typed storage as it reads it, instead of
 * building a JS array per row (`parseExactJson`) and walking them again (`responseToArrow`).
 *
 * The result is the one `responseToArrow(checkQueryResponse(parseExactJson(text), 200), schemaFor,
 * options)` gives — same tables, types, values, nulls, metadata, Map keys, statement arrays, and
 * the same errors — in about a fifth of the time (1M rows of the standard workload: ~0.4 s
 * instead of ~2 s, JSON parsing included).
 *
 * How:
 * - The answer is read as UTF-8 bytes (a `Uint8Array` as undici delivers it: no decoding of the
 *   whole body; a `string` is encoded once). Strings without escapes are copied as bytes; tags
 *   are dictionary-encoded with a hash table over their bytes (no JS string per cell).
 * - When a series starts (`name` and `columns` precede `values` in influxd's answers), the
 *   schema of its measurement gives each column a typed sink: time / integer -> int64 words
 *   (19-digit ns times without any BigInt), float -> Float64Array, string -> Utf8 offsets + bytes,
 *   tag -> dictionary indices, boolean -> bits; nulls go to a validity bitmap.
 * - Columns the series' own schema does not name (aggregates, no schema, other measurements)
 *   are read speculatively as numbers or strings (else as generic values) and typed when the
 *   statement ends — the other measurements of the statement may declare them; otherwise the
 *   type is inferred from the values — exactly as `SeriesConverter` does.
 * - A value that does not fit its column's declared type (a schema changed since it was read),
 *   an ISO time in a non-first row, a key order other than influxd's, ... make the series be
 *   read again generically (values as `parseExactJson` would give them, typed by the same rules).
 *   Anything stranger (invalid JSON, a shape `responseToArrow` would choke on) makes the whole
 *   answer go through the original path, so even the errors are the same.
 *
 * The column typing rules (declared / sticky / inferred) and the column builders are
 * `SeriesConverter`'s own, imported from `arrow.ts` (`ColumnTyper` works on columns; its sticky
 * kinds are shared with the typed columns built here); the batches (fields, metadata, GROUP BY
 * tag columns) and a statement's Table / Map come from `batch.ts`, as for `SeriesConverter`.
 */
import { isUtf8 } from 'node:buffer';
import {
  Bool, Data, Float64, Int64, RecordBatch, TimeUnit, Timestamp, Utf8, Vector, makeData, makeVector,
} from 'apache-arrow';
import { parseIsoToNs } from '../../encode/time.js';
import { InfluxDBQueryError } from '../../errors.js';
import { parseExactJson } from '../exact-json.js';
import { C, hexValue, skipWs } from '../json/bytes.js';
import { checkQueryResponse, type QueryResponse, type Series } from '../response.js';
import {
  ColumnTyper, NumberStats, kLittleEndian, kTwo32, responseToArrow, utf8Vector,
  type ArrowOptions, type ArrowResult, type AsyncSchemaLookup, type Column, type Kind, type SchemaLookup,
} from './arrow.js';
import { statementResult, toRecordBatch, type ConstantSource } from './batch.js';
import type { MeasurementSchema } from './schema.js';

// ---------------------------------------------------------------------------------------------
// Bytes.

const kTwo31 = 2147483648;
const kTwo53 = 9007199254740992;
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
const EMPTY_U8 = new Uint8Array(0);
const EMPTY_I32 = new Int32Array(0);
const EMPTY_F64 = new Float64Array(0);

/** Thrown inside the parser when the answer is not the plain shape: it is then redone on the generic path. */
class Bail {
  readonly bail = true;
}
const BAIL = new Bail();
function bail(): never {
  throw BAIL;
}

/**
 * End of the token most recently read (a second return value without allocating). Module state
 * is safe: it is set and read synchronously, never across a `yield`.
 */
let gEnd = 0;

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= C.ZERO && c <= C.NINE;
}

function expectLiteral(b: Uint8Array, p: number, literal: string): number {
  for (let i = 0; i < literal.length; i++) if (b[p + i] !== literal.charCodeAt(i)) bail();
  return p + literal.length;
}

// ---------------------------------------------------------------------------------------------
// Generic values: exactly what `parseExactJson` gives (integer literals beyond 2^53 as bigint).

/** Reads a number at `p` (grammar checked); sets `gEnd`. */
function parseNumber(b: Buffer, p: number): number | bigint {
  const start = p;
  let c = b[p];
  let neg = false;
  if (c === C.MINUS) {
    neg = true;
    c = b[++p];
  }
  if (!isDigit(c)) bail();
  let m = 0;
  let digits = 0;
  if (c === C.ZERO) {
    p++;
    digits = 1;
    c = b[p];
    if (isDigit(c)) bail();
  } else {
    do {
      m = m * 10 + (c! - C.ZERO);
      digits++;
      c = b[++p];
    } while (isDigit(c));
  }
  const intDigits = digits;
  let fracDigits = 0;
  let exponent = false;
  if (c === C.DOT) {
    c = b[++p];
    if (!isDigit(c)) bail();
    do {
      m = m * 10 + (c! - C.ZERO);
      digits++;
      fracDigits++;
      c = b[++p];
    } while (isDigit(c));
  }
  if (c === C.LOWER_E || c === C.UPPER_E) {
    exponent = true;
    c = b[++p];
    if (c === C.PLUS || c === C.MINUS) c = b[++p];
    if (!isDigit(c)) bail();
    do c = b[++p];
    while (isDigit(c));
  }
  gEnd = p;
  if (!exponent && fracDigits === 0) {
    // An integer literal: ≤ 15 digits is exact and safe; ≥ 17 never safe; 16 digits: check.
    if (intDigits <= 15) return neg ? -m : m;
    const slice = b.toString('latin1', start, p);
    if (intDigits > 16) return BigInt(slice);
    const n = Number(slice);
    return Number.isSafeInteger(n) ? n : BigInt(slice);
  }
  // m and 10^k exact: the quotient is correctly rounded, as Number() of the text.
  if (!exponent && (digits <= 15 || (digits === 16 && m < kTwo53))) {
    const v = m / POW10[fracDigits]!;
    return neg ? -v : v;
  }
  return Number(b.toString('latin1', start, p));
}

/** Reads the string whose opening quote is at `p` into a JS string (lone surrogates kept); sets `gEnd`. */
function parseString(b: Buffer, p: number): string {
  const start = p + 1;
  let q = start;
  let c = b[q];
  while (c !== C.QUOTE && c !== C.BACKSLASH && c !== undefined && c >= 0x20) c = b[++q];
  if (c === C.QUOTE) {
    gEnd = q + 1;
    return b.toString('utf8', start, q);
  }
  if (c !== C.BACKSLASH) bail();
  let out = b.toString('utf8', start, q);
  let run = q;
  for (;;) {
    c = b[q];
    if (c === C.QUOTE) {
      gEnd = q + 1;
      return run < q ? out + b.toString('utf8', run, q) : out;
    }
    if (c === undefined || c < 0x20) bail();
    if (c !== C.BACKSLASH) {
      q++;
      continue;
    }
    if (run < q) out += b.toString('utf8', run, q);
    const e = b[q + 1];
    switch (e) {
      case C.QUOTE: out += '"'; break;
      case C.BACKSLASH: out += '\\'; break;
      case C.SLASH: out += '/'; break;
      case 0x62: out += '\b'; break;
      case 0x66: out += '\f'; break;
      case 0x6e: out += '\n'; break;
      case 0x72: out += '\r'; break;
      case 0x74: out += '\t'; break;
      case 0x75: {
        const h0 = hexValue(b[q + 2]);
        const h1 = hexValue(b[q + 3]);
        const h2 = hexValue(b[q + 4]);
        const h3 = hexValue(b[q + 5]);
        if ((h0 | h1 | h2 | h3) < 0) bail();
        // Code units one by one: pairs combine, lone surrogates stay, as JSON.parse.
        out += String.fromCharCode((h0 << 12) | (h1 << 8) | (h2 << 4) | h3);
        q += 4;
        break;
      }
      default:
        bail();
    }
    q += 2;
    run = q;
  }
}

function setProperty(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

/** Reads `"key" :` at `p` (whitespace skipped); sets `gEnd` past the colon and whitespace. */
function parseKey(b: Buffer, p: number): string {
  if (b[p] !== C.QUOTE) bail();
  const key = parseString(b, p);
  p = skipWs(b, gEnd);
  if (b[p] !== C.COLON) bail();
  gEnd = skipWs(b, p + 1);
  return key;
}

/** Any JSON value at `p` (whitespace skipped); sets `gEnd`. */
function parseValue(b: Buffer, p: number): unknown {
  const c = b[p];
  switch (c) {
    case C.QUOTE:
      return parseString(b, p);
    case C.LBRACKET: {
      const arr: unknown[] = [];
      p = skipWs(b, p + 1);
      if (b[p] === C.RBRACKET) {
        gEnd = p + 1;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(b, p));
        p = skipWs(b, gEnd);
        const d = b[p];
        if (d === C.COMMA) p = skipWs(b, p + 1);
        else if (d === C.RBRACKET) break;
        else bail();
      }
      gEnd = p + 1;
      return arr;
    }
    case C.LBRACE: {
      const obj: Record<string, unknown> = {};
      p = skipWs(b, p + 1);
      if (b[p] === C.RBRACE) {
        gEnd = p + 1;
        return obj;
      }
      for (;;) {
        const key = parseKey(b, p);
        setProperty(obj, key, parseValue(b, gEnd));
        p = skipWs(b, gEnd);
        const d = b[p];
        if (d === C.COMMA) p = skipWs(b, p + 1);
        else if (d === C.RBRACE) break;
        else bail();
      }
      gEnd = p + 1;
      return obj;
    }
    case C.LOWER_T:
      gEnd = expectLiteral(b, p, 'true');
      return true;
    case C.LOWER_F:
      gEnd = expectLiteral(b, p, 'false');
      return false;
    case C.LOWER_N:
      gEnd = expectLiteral(b, p, 'null');
      return null;
    default:
      if (c === C.MINUS || isDigit(c)) return parseNumber(b, p);
      return bail();
  }
}

// ---------------------------------------------------------------------------------------------
// Escaped strings into UTF-8 bytes (typed string and tag columns).

let scratch: Uint8Array = new Uint8Array(256);

/**
 * Decodes the string starting after its opening quote at `start` (the first escape at `q`)
 * into `scratch` as UTF-8; returns its length and sets `gEnd` past the closing quote, or -1
 * for a lone surrogate (Utf8 turns it into U+FFFD while a dictionary keeps it apart: such a
 * series is done generically).
 */
function unescapeToScratch(b: Uint8Array, start: number, q: number): number {
  let n = 0;
  const ensure = (extra: number): void => {
    if (n + extra > scratch.length) {
      const grown = new Uint8Array(Math.max(scratch.length * 2, n + extra));
      grown.set(scratch.subarray(0, n));
      scratch = grown;
    }
  };
  ensure(q - start);
  scratch.set(b.subarray(start, q), 0);
  n = q - start;
  for (;;) {
    const c = b[q];
    if (c === C.QUOTE) {
      gEnd = q + 1;
      return n;
    }
    if (c === undefined || c < 0x20) bail();
    ensure(4);
    if (c !== C.BACKSLASH) {
      scratch[n++] = c;
      q++;
      continue;
    }
    const e = b[q + 1];
    let byte = -1;
    switch (e) {
      case C.QUOTE: byte = 0x22; break;
      case C.BACKSLASH: byte = 0x5c; break;
      case C.SLASH: byte = 0x2f; break;
      case 0x62: byte = 0x08; break;
      case 0x66: byte = 0x0c; break;
      case 0x6e: byte = 0x0a; break;
      case 0x72: byte = 0x0d; break;
      case 0x74: byte = 0x09; break;
      case 0x75: break;
      default: bail();
    }
    if (byte >= 0) {
      scratch[n++] = byte;
      q += 2;
      continue;
    }
    const h0 = hexValue(b[q + 2]);
    const h1 = hexValue(b[q + 3]);
    const h2 = hexValue(b[q + 4]);
    const h3 = hexValue(b[q + 5]);
    if ((h0 | h1 | h2 | h3) < 0) bail();
    let cp = (h0 << 12) | (h1 << 8) | (h2 << 4) | h3;
    q += 6;
    if (cp >= 0xd800 && cp <= 0xdfff) {
      if (cp >= 0xdc00 || b[q] !== C.BACKSLASH || b[q + 1] !== 0x75) return -1;
      const l0 = hexValue(b[q + 2]);
      const l1 = hexValue(b[q + 3]);
      const l2 = hexValue(b[q + 4]);
      const l3 = hexValue(b[q + 5]);
      if ((l0 | l1 | l2 | l3) < 0) bail();
      const lo = (l0 << 12) | (l1 << 8) | (l2 << 4) | l3;
      if (lo < 0xdc00 || lo > 0xdfff) return -1;
      q += 6;
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    if (cp < 0x80) {
      scratch[n++] = cp;
    } else if (cp < 0x800) {
      scratch[n++] = 0xc0 | (cp >> 6);
      scratch[n++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      scratch[n++] = 0xe0 | (cp >> 12);
      scratch[n++] = 0x80 | ((cp >> 6) & 0x3f);
      scratch[n++] = 0x80 | (cp & 0x3f);
    } else {
      scratch[n++] = 0xf0 | (cp >> 18);
      scratch[n++] = 0x80 | ((cp >> 12) & 0x3f);
      scratch[n++] = 0x80 | ((cp >> 6) & 0x3f);
      scratch[n++] = 0x80 | (cp & 0x3f);
    }
  }
}

function hashBytes(src: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) h = Math.imul(h ^ src[i]!, 0x01000193);
  return h;
}

function mixHash(h: number): number {
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h;
}

// ---------------------------------------------------------------------------------------------
// Column sinks: the typed storage of one column of one series, grown as rows come.

const K_GENERIC = 0;
const K_TIME = 1;
const K_INT = 2;
const K_FLOAT = 3;
const K_STRING = 4;
const K_TAG = 5;
const K_BOOL = 6;
/** An undeclared column before its first value: it becomes K_NUMBERS, K_STRINGS or K_GENERIC. */
const K_UNDECIDED = 7;
/** An undeclared column of numbers (never a bigint) and nulls: typed when the statement ends. */
const K_NUMBERS = 8;
/** An undeclared column of strings (no lone surrogate) and nulls: typed when the statement ends. */
const K_STRINGS = 9;

function kindCode(kind: Kind | undefined): number {
  switch (kind) {
    case 'time': return K_TIME;
    case 'integer': return K_INT;
    case 'float': return K_FLOAT;
    case 'string': return K_STRING;
    case 'tag': return K_TAG;
    case 'boolean': return K_BOOL;
    default: return K_GENERIC;
  }
}

function growU8(a: Uint8Array, size: number): Uint8Array {
  const g = new Uint8Array(size);
  g.set(a);
  return g;
}

function growI32(a: Int32Array, size: number): Int32Array {
  const g = new Int32Array(size);
  g.set(a);
  return g;
}

/** Rows up to which a series' columns are copied into a shared slab (and its sinks reused). */
const kSmallRows = 4096;
const kSlabBytes = 512 * 1024;

/**
 * Small output arrays as views of one big buffer: an ArrayBuffer of its own costs about a
 * microsecond, which dominates for answers of many small series (GROUP BY *). The views of one
 * answer (or chunked stream) share buffers of 512 KiB; fresh memory is zeroed.
 */
class Slab {
  #buffer = new ArrayBuffer(0);
  #pos = 0;

  #take(bytes: number): number {
    const size = (bytes + 7) & ~7;
    if (this.#pos + size > this.#buffer.byteLength) {
      this.#buffer = new ArrayBuffer(Math.max(kSlabBytes, size));
      this.#pos = 0;
    }
    const offset = this.#pos;
    this.#pos += size;
    return offset;
  }

  u8(n: number): Uint8Array {
    const offset = this.#take(n);
    return new Uint8Array(this.#buffer, offset, n);
  }

  i32(n: number): Int32Array {
    const offset = this.#take(4 * n);
    return new Int32Array(this.#buffer, offset, n);
  }

  f64(n: number): Float64Array {
    const offset = this.#take(8 * n);
    return new Float64Array(this.#buffer, offset, n);
  }

  i64(n: number): BigInt64Array {
    const offset = this.#take(8 * n);
    return new BigInt64Array(this.#buffer, offset, n);
  }
}

/**
 * An undeclared column read speculatively: numbers (exactly the values `parseExactJson` gives,
 * no bigint) or strings (UTF-8), with nulls, at least one non-null. The converter types it as
 * `SeriesConverter` would the generic values, building the common cases straight from these
 * arrays (see `ColumnConverter.#speculativeColumn`).
 */
class Speculative {
  constructor(
    readonly n: number,
    readonly nulls: number,
    /** Arrow validity (1 = valid), undefined without nulls. */
    readonly nullBitmap: Uint8Array | undefined,
    /** Numbers: the values (0 at nulls). */
    readonly f64: Float64Array,
    /** Strings: the UTF-8 bytes and offsets. */
    readonly bytes: Uint8Array,
    readonly offsets: Int32Array,
  ) {}

  get strings(): boolean {
    return this.offsets.length > 0;
  }

  valid(i: number): boolean {
    return this.nullBitmap === undefined || (this.nullBitmap[i >> 3]! & (1 << (i & 7))) !== 0;
  }

  /** The generic values. */
  values(): unknown[] {
    const out = new Array<unknown>(this.n);
    const buf = asBuffer(this.bytes);
    for (let i = 0; i < this.n; i++) {
      if (!this.valid(i)) out[i] = null;
      else out[i] = this.strings ? buf.toString('utf8', this.offsets[i]!, this.offsets[i + 1]!) : this.f64[i];
    }
    return out;
  }

  validity(): { nullCount: number; nullBitmap?: Uint8Array } {
    return this.nullBitmap === undefined ? { nullCount: 0 } : { nullCount: this.nulls, nullBitmap: this.nullBitmap };
  }
}

class Sink {
  kind: number;
  cap = 0;
  nulls = 0;
  /** 1 bit per row, set for a null (allocated at the first null). */
  nullBits: Uint8Array = EMPTY_U8;
  /** time / integer: two 32-bit words per row (little-endian int64). */
  words: Int32Array = EMPTY_I32;
  /** time with ISO strings: the same buffer as `words`. */
  iso = false;
  f64: Float64Array = EMPTY_F64;
  /** tag: dictionary indices. string: offsets (cap + 1). */
  ints: Int32Array = EMPTY_I32;
  /** string: the UTF-8 bytes; tag: the dictionary's bytes, entries one after the other. */
  bytes: Uint8Array = EMPTY_U8;
  pos = 0;
  /** boolean: 1 bit per row. */
  bits: Uint8Array = EMPTY_U8;
  // tag dictionary: open addressing over entry numbers + 1.
  table: Int32Array = EMPTY_I32;
  count = 0;
  entStart: Int32Array = EMPTY_I32;
  entHash: Int32Array = EMPTY_I32;
  generic: unknown[] = [];

  constructor(kind: number) {
    this.kind = kind;
    if (kind === K_TAG) {
      this.table = new Int32Array(64);
      this.entStart = new Int32Array(33);
      this.entHash = new Int32Array(32);
      this.bytes = new Uint8Array(256);
    } else if (kind === K_STRING) {
      this.ints = new Int32Array(1);
      this.bytes = new Uint8Array(256);
    }
  }

  grow(cap: number): void {
    if (this.nullBits.length > 0) this.nullBits = growU8(this.nullBits, (cap + 7) >> 3);
    switch (this.kind) {
      case K_TIME:
      case K_INT: this.words = growI32(this.words, 2 * cap); break;
      case K_FLOAT:
      case K_NUMBERS: {
        const g = new Float64Array(cap);
        g.set(this.f64);
        this.f64 = g;
        break;
      }
      case K_STRING:
      case K_STRINGS: this.ints = growI32(this.ints, cap + 1); break;
      case K_TAG: this.ints = growI32(this.ints, cap); break;
      case K_BOOL: this.bits = growU8(this.bits, (cap + 7) >> 3); break;
      default: break;
    }
    this.cap = cap;
  }

  setNull(r: number): void {
    if (this.kind === K_GENERIC) {
      this.generic.push(null);
      return;
    }
    if (this.nullBits.length === 0) this.nullBits = new Uint8Array((this.cap + 7) >> 3);
    this.nullBits[r >> 3]! |= 1 << (r & 7);
    this.nulls++;
    if (this.kind === K_STRING || this.kind === K_STRINGS) this.ints[r + 1] = this.pos;
  }

  /** An undecided column's first value is a number (true) or a string (false). */
  decide(numbers: boolean): void {
    if (numbers) {
      this.kind = K_NUMBERS;
      this.f64 = new Float64Array(this.cap);
    } else {
      this.kind = K_STRINGS;
      this.ints = new Int32Array(this.cap + 1);
      this.bytes = new Uint8Array(256);
    }
  }

  /** A speculative column meets a value it cannot hold: its first `r` rows become generic values. */
  toGeneric(r: number): void {
    const out = new Array<unknown>(r);
    const nb = this.nullBits;
    const isNull = (i: number): boolean => nb.length > 0 && (nb[i >> 3]! & (1 << (i & 7))) !== 0;
    for (let i = 0; i < r; i++) {
      if (this.kind === K_UNDECIDED || isNull(i)) out[i] = null;
      else if (this.kind === K_NUMBERS) out[i] = this.f64[i];
      else out[i] = asBuffer(this.bytes).toString('utf8', this.ints[i]!, this.ints[i + 1]!);
    }
    this.generic = out;
    this.kind = K_GENERIC;
  }

  /** A K_NUMBERS / K_STRINGS column as read (`n` rows). */
  speculative(n: number): Speculative {
    let nullBitmap: Uint8Array | undefined;
    if (this.nulls > 0) {
      nullBitmap = new Uint8Array((n + 7) >> 3);
      for (let j = 0; j < nullBitmap.length; j++) nullBitmap[j] = ~this.nullBits[j]!;
    }
    if (this.kind === K_NUMBERS) return new Speculative(n, this.nulls, nullBitmap, this.f64.slice(0, n), EMPTY_U8, EMPTY_I32);
    return new Speculative(n, this.nulls, nullBitmap, EMPTY_F64, this.bytes.slice(0, this.pos), this.ints.slice(0, n + 1));
  }

  /** A cell the row does not have (a short row): `undefined` in a generic column, else null. */
  setMissing(r: number): void {
    if (this.kind === K_GENERIC) this.generic.push(undefined);
    else this.setNull(r);
  }

  ensureBytes(extra: number): void {
    if (this.pos + extra > this.bytes.length) this.bytes = growU8(this.bytes, Math.max(this.bytes.length * 2, this.pos + extra));
  }

  /** Index of the dictionary entry with these bytes (hash `h`), adding it when new. */
  dictIndex(src: Uint8Array, start: number, len: number, h: number): number {
    const table = this.table;
    const mask = table.length - 1;
    let slot = mixHash(h) & mask;
    for (;;) {
      const e = table[slot]!;
      if (e === 0) break;
      if (this.entHash[e - 1] === h) {
        const s = this.entStart[e - 1]!;
        if (this.entStart[e]! - s === len) {
          const bytes = this.bytes;
          let i = 0;
          while (i < len && bytes[s + i] === src[start + i]) i++;
          if (i === len) return e - 1;
        }
      }
      slot = (slot + 1) & mask;
    }
    // New entry.
    const k = this.count;
    this.ensureBytes(len);
    const bytes = this.bytes;
    const pos = this.pos;
    for (let i = 0; i < len; i++) bytes[pos + i] = src[start + i]!;
    this.pos = pos + len;
    if (k + 1 >= this.entHash.length) {
      this.entHash = growI32(this.entHash, this.entHash.length * 2);
      this.entStart = growI32(this.entStart, this.entHash.length + 1);
    }
    this.entHash[k] = h;
    this.entStart[k + 1] = this.pos;
    this.count = k + 1;
    table[slot] = k + 1;
    if (2 * this.count > table.length) this.rehash();
    return k;
  }

  rehash(): void {
    const table = new Int32Array(this.table.length * 2);
    const mask = table.length - 1;
    for (let k = 0; k < this.count; k++) {
      let slot = mixHash(this.entHash[k]!) & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = k + 1;
    }
    this.table = table;
  }

  /** Ready for another series, once `rows` rows were written (pooled sinks of small series). */
  reset(rows: number): void {
    const nb = (rows + 7) >> 3;
    if (this.nullBits.length > 0) this.nullBits.fill(0, 0, nb);
    this.nulls = 0;
    this.iso = false;
    this.pos = 0;
    switch (this.kind) {
      case K_TIME:
      case K_INT: this.words.fill(0, 0, 2 * rows); break;
      case K_FLOAT: this.f64.fill(0, 0, rows); break;
      case K_TAG:
        this.ints.fill(0, 0, rows);
        this.table.fill(0);
        this.count = 0;
        break;
      case K_BOOL: this.bits.fill(0, 0, nb); break;
      default: break;
    }
  }

  /** The Arrow data of the `n` rows read: copies into the slab for a small series, else the sink's own arrays. */
  finish(n: number, conv: ColumnConverter, name: string): Data {
    const small = n <= kSmallRows;
    const slab = conv.slab;
    let validity: { nullCount: number; nullBitmap?: Uint8Array } = { nullCount: 0 };
    if (this.nulls > 0) {
      const bm = small ? slab.u8((n + 7) >> 3) : new Uint8Array((n + 7) >> 3);
      const nb = this.nullBits;
      for (let j = 0; j < bm.length; j++) bm[j] = ~nb[j]!;
      validity = { nullCount: this.nulls, nullBitmap: bm };
    }
    switch (this.kind) {
      case K_TIME:
      case K_INT: {
        let values: BigInt64Array;
        if (small) {
          values = slab.i64(n);
          new Int32Array(values.buffer, values.byteOffset, 2 * n).set(this.words.subarray(0, 2 * n));
        } else {
          values = new BigInt64Array(this.cap === n ? this.words.buffer : this.words.buffer.slice(0, n * 8));
        }
        if (this.kind === K_INT) return makeData({ type: new Int64(), length: n, data: values, ...validity });
        const type = this.iso && conv.timeType.unit !== TimeUnit.NANOSECOND ? new Timestamp(TimeUnit.NANOSECOND, 'UTC') : conv.timeType;
        return makeData({ type, length: n, data: values, ...validity });
      }
      case K_FLOAT: {
        let values: Float64Array;
        if (small) {
          values = slab.f64(n);
          values.set(this.f64.subarray(0, n));
        } else {
          values = this.cap === n ? this.f64 : this.f64.slice(0, n);
        }
        return makeData({ type: new Float64(), length: n, data: values, ...validity });
      }
      case K_STRING:
        return makeData({ type: new Utf8(), length: n, data: copyU8(this.bytes, this.pos, slab, small), valueOffsets: copyI32(this.ints, n + 1, slab, small), ...validity });
      case K_BOOL:
        return makeData({ type: new Bool(), length: n, data: copyU8(this.bits, (n + 7) >> 3, slab, small), ...validity });
      case K_TAG: {
        const k = this.count;
        const dictionary = makeVector(makeData({
          type: new Utf8(), length: k, nullCount: 0, data: copyU8(this.bytes, this.pos, slab, small), valueOffsets: copyI32(this.entStart, k + 1, slab, small),
        }));
        const indices = small ? copyI32(this.ints, n, slab, true) : this.cap === n ? this.ints : this.ints.slice(0, n);
        return makeData({ type: conv.dictType(name), length: n, data: indices, dictionary, ...validity });
      }
      default:
        throw new Error('generic columns are typed by the converter');
    }
  }
}

function copyU8(a: Uint8Array, n: number, slab: Slab, small: boolean): Uint8Array {
  if (!small) return a.slice(0, n);
  const out = slab.u8(n);
  out.set(a.subarray(0, n));
  return out;
}

function copyI32(a: Int32Array, n: number, slab: Slab, small: boolean): Int32Array {
  if (!small) return a.slice(0, n);
  const out = slab.i32(n);
  out.set(a.subarray(0, n));
  return out;
}

// ---------------------------------------------------------------------------------------------
// The cells of typed columns. Each returns the position after the cell, or -1 when the value
// does not fit the column (the series is then read again generically); invalid JSON bails.

/** Writes the int64 `±(hi * 10^k + lo)` (hi < 10^15, lo < 10^k, k ≤ 4) as two words; false when out of range. */
function writeBigDigits(words: Int32Array, r: number, neg: boolean, hi: number, k: number, lo: number): boolean {
  const M = POW10[k]!;
  // hi = a * 2^17 + bq, so X = a*M*2^17 + (bq*M + lo), every product below 2^53.
  const a = Math.floor(hi / 131072);
  const bq = hi - a * 131072;
  const t1 = bq * M + lo;
  const u = a * M;
  const uLow = u % 32768;
  const t1Low = t1 % kTwo32;
  let low = uLow * 131072 + t1Low;
  let high = (u - uLow) / 32768 + (t1 - t1Low) / kTwo32;
  if (low >= kTwo32) {
    low -= kTwo32;
    high += 1;
  }
  if (!neg) {
    if (high >= kTwo31) return false;
    words[2 * r] = low;
    words[2 * r + 1] = high;
    return true;
  }
  if (high > kTwo31 || (high === kTwo31 && low > 0)) return false;
  if (low === 0) {
    words[2 * r] = 0;
    words[2 * r + 1] = -high;
  } else {
    words[2 * r] = kTwo32 - low;
    words[2 * r + 1] = ~high;
  }
  return true;
}

/** Writes a safe integer as two words. */
function writeSafe(words: Int32Array, r: number, x: number): void {
  const h = Math.floor(x / kTwo32);
  words[2 * r] = (x - h * kTwo32) | 0;
  words[2 * r + 1] = h;
}

/** An integer literal into an int64 column (times scaled by `mul`). */
function cellInt(b: Buffer, p: number, s: Sink, r: number, mul: number): number {
  let neg = false;
  if (b[p] === C.MINUS) {
    neg = true;
    p++;
  }
  // `b[p] - C.ZERO` is NaN past the end: every comparison below is then false.
  let d = b[p]! - C.ZERO;
  if (!(d >= 0 && d <= 9)) return -1;
  let v = d;
  p++;
  if (v === 0) {
    d = b[p]! - C.ZERO;
    if (d >= 0 && d <= 9) return -1;
  } else {
    // Up to 15 digits are exact in a double.
    const limit = p + 14;
    for (;;) {
      d = b[p]! - C.ZERO;
      if (!(d >= 0 && d <= 9) || p === limit) break;
      v = v * 10 + d;
      p++;
    }
    if (d >= 0 && d <= 9) {
      // 16 digits or more: the rest (at most 4 for an int64) apart.
      let lo = 0;
      let k = 0;
      do {
        lo = lo * 10 + d;
        k++;
        d = b[++p]! - C.ZERO;
      } while (d >= 0 && d <= 9);
      const c = b[p];
      if (c === C.DOT || c === C.LOWER_E || c === C.UPPER_E) return -1;
      if (k > 4 || mul !== 1) return -1;
      return writeBigDigits(s.words, r, neg, v, k, lo) ? p : -1;
    }
  }
  const c = b[p];
  if (c === C.DOT || c === C.LOWER_E || c === C.UPPER_E) return -1;
  let x = neg ? -v : v;
  if (mul !== 1) {
    x *= mul;
    if (!Number.isSafeInteger(x)) return -1;
  }
  writeSafe(s.words, r, x);
  return p;
}

/** A number into a Float64 column: `Number(text)`, with the exact fast path for short decimals. */
function cellFloat(b: Buffer, p: number, out: Float64Array, r: number, noBigint = false): number {
  const start = p;
  let c = b[p];
  let neg = false;
  if (c === C.MINUS) {
    neg = true;
    c = b[++p];
  }
  if (c === undefined || c < C.ZERO || c > C.NINE) return -1;
  let m = 0;
  let digits = 0;
  if (c === C.ZERO) {
    digits = 1;
    c = b[++p];
    if (c !== undefined && c >= C.ZERO && c <= C.NINE) return -1;
  } else {
    do {
      m = m * 10 + (c - C.ZERO);
      digits++;
      c = b[++p];
    } while (c !== undefined && c >= C.ZERO && c <= C.NINE);
  }
  let frac = 0;
  if (c === C.DOT) {
    c = b[++p];
    if (c === undefined || c < C.ZERO || c > C.NINE) return -1;
    do {
      m = m * 10 + (c - C.ZERO);
      digits++;
      frac++;
      c = b[++p];
    } while (c !== undefined && c >= C.ZERO && c <= C.NINE);
  }
  if (c === C.LOWER_E || c === C.UPPER_E) {
    c = b[++p];
    if (c === C.PLUS || c === C.MINUS) c = b[++p];
    if (c === undefined || c < C.ZERO || c > C.NINE) return -1;
    do c = b[++p];
    while (c !== undefined && c >= C.ZERO && c <= C.NINE);
    out[r] = Number(b.toString('latin1', start, p));
    return p;
  }
  if (digits <= 15 || (digits === 16 && m < kTwo53)) {
    const v = frac === 0 ? m : m / POW10[frac]!;
    out[r] = neg ? -v : v;
  } else if (noBigint && frac === 0) {
    // An integer literal beyond 2^53: parseExactJson makes it a bigint.
    return -1;
  } else {
    out[r] = Number(b.toString('latin1', start, p));
  }
  return p;
}

/** A string into a Utf8 column (p at the opening quote). */
function cellString(b: Buffer, p: number, s: Sink, r: number): number {
  const start = p + 1;
  let q = start;
  let c = b[q];
  while (c !== C.QUOTE && c !== C.BACKSLASH && c !== undefined && c >= 0x20) c = b[++q];
  let src: Uint8Array = b;
  let from = start;
  let len: number;
  let end: number;
  if (c === C.QUOTE) {
    len = q - start;
    end = q + 1;
  } else {
    if (c !== C.BACKSLASH) bail();
    len = unescapeToScratch(b, start, q);
    if (len < 0) return -1;
    end = gEnd;
    src = scratch;
    from = 0;
  }
  s.ensureBytes(len);
  const bytes = s.bytes;
  const pos = s.pos;
  if (len > 32) bytes.set(src.subarray(from, from + len), pos);
  else for (let i = 0; i < len; i++) bytes[pos + i] = src[from + i]!;
  s.pos = pos + len;
  s.ints[r + 1] = s.pos;
  return end;
}

/** A string into a dictionary column (p at the opening quote). */
function cellTag(b: Buffer, p: number, s: Sink, r: number): number {
  const start = p + 1;
  let q = start;
  let h = 0x811c9dc5 | 0;
  let c = b[q];
  while (c !== C.QUOTE && c !== C.BACKSLASH && c !== undefined && c >= 0x20) {
    h = Math.imul(h ^ c, 0x01000193);
    c = b[++q];
  }
  if (c === C.QUOTE) {
    s.ints[r] = s.dictIndex(b, start, q - start, h);
    return q + 1;
  }
  if (c !== C.BACKSLASH) bail();
  const len = unescapeToScratch(b, start, q);
  if (len < 0) return -1;
  const end = gEnd;
  s.ints[r] = s.dictIndex(scratch, 0, len, hashBytes(scratch, 0, len));
  return end;
}

/** A time column whose first value is an ISO string: strings parsed to ns, numbers as they are. */
function cellIsoTime(b: Buffer, p: number, s: Sink, r: number): number {
  if (b[p] === C.QUOTE) {
    const text = parseString(b, p);
    const ns = parseIsoToNs(text);
    if (typeof ns === 'string') return -1;
    // As `values[i] = ns` in arrow.ts (stored modulo 2^64).
    new BigInt64Array(s.words.buffer, 8 * r, 1)[0] = ns;
    return gEnd;
  }
  return cellInt(b, p, s, r, 1);
}

/** A cell of an undeclared column (not null): kept typed while the values allow, else generic. */
function cellSpeculative(b: Buffer, p: number, s: Sink, r: number, ch: number | undefined): number {
  const isNumber = ch === C.MINUS || (ch !== undefined && ch >= C.ZERO && ch <= C.NINE);
  if (s.kind === K_UNDECIDED) {
    if (isNumber) s.decide(true);
    else if (ch === C.QUOTE) s.decide(false);
    else s.toGeneric(r);
  }
  let end = -1;
  if (s.kind === K_NUMBERS && isNumber) end = cellFloat(b, p, s.f64, r, true);
  else if (s.kind === K_STRINGS && ch === C.QUOTE) end = cellString(b, p, s, r);
  if (end >= 0) return end;
  if (s.kind !== K_GENERIC) s.toGeneric(r);
  s.generic.push(parseValue(b, p));
  return gEnd;
}

/** Rows `parseRows` wrote to (also when it gave up): what a sink must clear to be reused. */
let gRows = 0;

/**
 * Reads the rows of a `values` array (p after its `[`, whitespace skipped) into the sinks.
 * Returns the number of rows and sets `gEnd` past the closing `]`, or -1 when a value does not
 * fit its typed column.
 */
function parseRows(b: Buffer, p: number, sinks: Sink[], mul: number): number {
  const ncols = sinks.length;
  let r = 0;
  let cap = 0;
  gRows = 0;
  if (b[p] === C.RBRACKET) {
    gEnd = p + 1;
    return 0;
  }
  for (;;) {
    if (b[p] !== C.LBRACKET) bail();
    gRows = r + 1;
    if (r === cap) {
      cap = cap === 0 ? 64 : cap * 2;
      for (let c = 0; c < ncols; c++) if (sinks[c]!.cap < cap) sinks[c]!.grow(cap);
    }
    p = skipWs(b, p + 1);
    let c = 0;
    if (b[p] !== C.RBRACKET) {
      for (;;) {
        if (c < ncols) {
          const s = sinks[c]!;
          const ch = b[p];
          if (ch === C.LOWER_N && s.kind !== K_GENERIC) {
            p = expectLiteral(b, p, 'null');
            s.setNull(r);
          } else {
            switch (s.kind) {
              case K_TIME:
                if (r === 0 && ch === C.QUOTE) s.iso = true;
                p = s.iso ? cellIsoTime(b, p, s, r) : cellInt(b, p, s, r, mul);
                break;
              case K_INT: p = cellInt(b, p, s, r, 1); break;
              case K_FLOAT: p = cellFloat(b, p, s.f64, r); break;
              case K_UNDECIDED:
              case K_NUMBERS:
              case K_STRINGS: p = cellSpeculative(b, p, s, r, ch); break;
              case K_STRING: p = ch === C.QUOTE ? cellString(b, p, s, r) : -1; break;
              case K_TAG: p = ch === C.QUOTE ? cellTag(b, p, s, r) : -1; break;
              case K_BOOL:
                if (ch === C.LOWER_T) {
                  p = expectLiteral(b, p, 'true');
                  s.bits[r >> 3]! |= 1 << (r & 7);
                } else if (ch === C.LOWER_F) {
                  p = expectLiteral(b, p, 'false');
                } else {
                  p = -1;
                }
                break;
              default:
                s.generic.push(parseValue(b, p));
                p = gEnd;
                break;
            }
            if (p < 0) return -1;
          }
        } else {
          parseValue(b, p);
          p = gEnd;
        }
        c++;
        let d = b[p];
        if (d !== C.COMMA && d !== C.RBRACKET) {
          p = skipWs(b, p);
          d = b[p];
        }
        if (d === C.COMMA) {
          p++;
          const e = b[p];
          if (e === C.SPACE || e === C.LF || e === C.CR || e === C.TAB) p = skipWs(b, p);
        } else if (d === C.RBRACKET) {
          break;
        } else {
          bail();
        }
      }
    }
    for (; c < ncols; c++) sinks[c]!.setMissing(r);
    r++;
    p++;
    let d = b[p];
    if (d !== C.COMMA && d !== C.RBRACKET) {
      p = skipWs(b, p);
      d = b[p];
    }
    if (d === C.COMMA) {
      p = skipWs(b, p + 1);
    } else if (d === C.RBRACKET) {
      gEnd = p + 1;
      return r;
    } else {
      bail();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Column typing: SeriesConverter's rules (`ColumnTyper` of arrow.ts), plus the speculative columns.

/** An undeclared column: generic values, or read speculatively. */
type LooseColumn = Column | Speculative;

/** `inferKind` of a speculative column of numbers (at least one). */
function inferNumbers(col: Speculative, name: string): Kind {
  const nums = new NumberStats();
  const f = col.f64;
  for (let i = 0; i < col.n; i++) if (col.valid(i)) nums.number(f[i]!);
  return nums.kind(name);
}

/** `buildInt64` of a speculative column of numbers; undefined when one is not an int64. */
function numbersToInt64(col: Speculative): Data | undefined {
  const n = col.n;
  const values = new BigInt64Array(n);
  const words = new Int32Array(values.buffer);
  const f = col.f64;
  for (let i = 0; i < n; i++) {
    if (!col.valid(i)) continue;
    const x = f[i]!;
    if (kLittleEndian && Number.isSafeInteger(x)) {
      writeSafe(words, i, x);
    } else if (Number.isInteger(x)) {
      const b = BigInt(x);
      values[i] = b;
      if (values[i] !== b) return undefined;
    } else {
      return undefined;
    }
  }
  return makeData({ type: new Int64(), length: n, data: values, ...col.validity() });
}

/** One series as read: typed columns already built, the others as generic values. */
interface PendingSeries {
  name: string | undefined;
  tags: Record<string, string> | undefined;
  columns: string[];
  n: number;
  partial: unknown;
  /** Per column: the Data of a typed column (with its declared kind), or the generic values. */
  typed: (Data | undefined)[];
  typedKinds: (Kind | undefined)[];
  generic: (LooseColumn | undefined)[];
  /** The measurement's schema, looked up once for a SELECT series. */
  schema: MeasurementSchema | undefined;
  looked: boolean;
}

function isSelect(s: PendingSeries): boolean {
  return s.name !== undefined && s.columns[0] === 'time';
}

/** `SeriesConverter` on columns; one per answer or per chunked stream (dictionary types and sticky kinds shared). */
class ColumnConverter extends ColumnTyper implements ConstantSource {
  readonly #constants = new Map<string, Vector<Utf8>>();
  readonly #pool: Sink[][] = [[], [], [], [], [], [], []];
  readonly slab = new Slab();

  /** A sink for a column of this kind (a reused one when a small series released it). */
  takeSink(kind: number): Sink {
    return this.#pool[kind]!.pop() ?? new Sink(kind);
  }

  /** Gives back a sink after its series, `rows` rows written (the arrays of a big series were handed over: not reused). */
  releaseSink(sink: Sink, rows: number): void {
    if (sink.kind === K_GENERIC || sink.kind >= K_UNDECIDED || rows > kSmallRows || sink.table.length > 8192) return;
    const pool = this.#pool[sink.kind]!;
    if (pool.length >= 64) return;
    sink.reset(rows);
    pool.push(sink);
  }

  /**
   * `column` for a speculative column, without its generic values where the outcome is plain:
   * strings end as Utf8 of their bytes (unless declared a tag), numbers as Float64 or Int64.
   * Anything else goes the generic way (nothing is changed before, so that is exact).
   */
  #speculativeColumn(col: Speculative, n: number, name: string, declared: Kind | undefined): { data: Data; kind: Kind } {
    const generic = (): { data: Data; kind: Kind } => this.column(col.values(), n, name, declared);
    if (col.strings) {
      // Strict float / integer / boolean builds fail on a string; 'string' (declared, sticky or
      // inferred: every value is a string) gives these bytes.
      if (declared !== undefined && declared !== 'string' && declared !== 'float' && declared !== 'integer' && declared !== 'boolean') return generic();
      const data = makeData({ type: new Utf8(), length: n, data: col.bytes, valueOffsets: col.offsets, ...col.validity() });
      if (declared === 'string' || (declared === undefined && this.sticky.get(name) === 'string')) return { data, kind: 'string' };
      this.sticky.set(name, 'string');
      return { data, kind: 'string' };
    }
    // Numbers: 'float' always fits, 'integer' when every value is an int64; the other kinds
    // fail strictly, except what needs the generic values (unsigned, stringified, time).
    const build = (kind: Kind, mode: 'declared' | 'sticky' | 'inferred'): Data | undefined | 'generic' => {
      switch (kind) {
        case 'float': return makeData({ type: new Float64(), length: n, data: col.f64, ...col.validity() });
        case 'integer': return numbersToInt64(col);
        case 'boolean': case 'tag': case 'null': return undefined;
        case 'string': return mode === 'declared' ? undefined : 'generic';
        default: return 'generic';
      }
    };
    if (declared !== undefined) {
      const d = build(declared, 'declared');
      if (d === 'generic') return generic();
      if (d !== undefined) return { data: d, kind: declared };
    } else {
      const sticky = this.sticky.get(name);
      if (sticky !== undefined) {
        const d = build(sticky, 'sticky');
        if (d === 'generic') return generic();
        if (d !== undefined) return { data: d, kind: sticky };
      }
    }
    const kind = inferNumbers(col, name);
    const d = build(kind, 'inferred');
    if (d === 'generic' || d === undefined) return generic();
    this.sticky.set(name, kind);
    return { data: d, kind };
  }

  /** A GROUP BY tag's dictionary: one per value, shared by the batches of the answer (the values are equal). */
  constantVector(value: string): Vector<Utf8> {
    let dictionary = this.#constants.get(value);
    if (dictionary === undefined) this.#constants.set(value, (dictionary = utf8Vector([value])));
    return dictionary;
  }

  zeroIndices(n: number): Int32Array {
    return n <= kSmallRows ? this.slab.i32(n) : new Int32Array(n);
  }

  #toRecordBatch(series: PendingSeries, statementId: unknown, schema: MeasurementSchema | undefined, others: readonly MeasurementSchema[]): RecordBatch {
    const n = series.n;
    return toRecordBatch(this, series, statementId, n, (name, c) => {
      const typed = series.typed[c];
      if (typed !== undefined) return { data: typed, kind: series.typedKinds[c]! };
      const col = series.generic[c]!;
      const declared = this.declared(name, c, schema, others);
      return col instanceof Speculative ? this.#speculativeColumn(col, n, name, declared) : this.column(col, n, name, declared);
    }, this);
  }

  /** The batches of one statement's series (the schemas of all of them known). */
  statementBatches(seriesList: PendingSeries[], statementId: unknown): RecordBatch[] {
    const own = seriesList.map((s) => (isSelect(s) ? s.schema : undefined));
    const all = [...new Set(own.filter((s): s is MeasurementSchema => s !== undefined))];
    return seriesList.map((s, i) => this.#toRecordBatch(s, statementId, own[i], all));
  }
}

// ---------------------------------------------------------------------------------------------
// The document. Generators that yield a measurement name whenever they need its schema (so
// that the same parser serves sync and async lookups).

type Need = Generator<string, void, MeasurementSchema | undefined>;

interface StatementOut {
  statementId: unknown;
  /** The statement's `error` (only strings count, as in `checkQueryResponse`). */
  error: unknown;
  series: PendingSeries[];
  batches: RecordBatch[];
}

interface DocumentOut {
  error: unknown;
  hasResults: boolean;
  statements: StatementOut[];
}

function transpose(rows: unknown, ncols: number): { n: number; cols: unknown[][] } {
  if (rows === null) return { n: 0, cols: Array.from({ length: ncols }, () => []) };
  if (!Array.isArray(rows)) bail();
  const n = rows.length;
  const cols: unknown[][] = Array.from({ length: ncols }, () => new Array<unknown>(n));
  for (let i = 0; i < n; i++) {
    const row: unknown = rows[i];
    if (!Array.isArray(row)) bail();
    for (let c = 0; c < ncols; c++) cols[c]![i] = row[c];
  }
  return { n, cols };
}

/** Reads the series object at `p`; returns it with `gEnd` past it. */
function* parseSeries(b: Buffer, p: number, conv: ColumnConverter, out: { series?: PendingSeries }): Need {
  if (b[p] !== C.LBRACE) bail();
  const s: PendingSeries = {
    name: undefined, tags: undefined, columns: [], n: 0, partial: undefined, typed: [], typedKinds: [], generic: [], schema: undefined, looked: false,
  };
  let seen = 0;
  const once = (bit: number): void => {
    if (seen & bit) bail();
    seen |= bit;
  };
  let hasColumns = false;
  let hasValues = false;
  let rawRows: unknown;
  p = skipWs(b, p + 1);
  if (b[p] !== C.RBRACE) {
    for (;;) {
      const key = parseKey(b, p);
      p = gEnd;
      switch (key) {
        case 'name': {
          once(1);
          const v = parseValue(b, p);
          if (typeof v !== 'string') bail();
          s.name = v;
          break;
        }
        case 'tags': {
          once(2);
          const v = parseValue(b, p);
          if (typeof v !== 'object' || v === null || Array.isArray(v)) bail();
          for (const k of Object.keys(v)) if (typeof (v as Record<string, unknown>)[k] !== 'string') bail();
          s.tags = v as Record<string, string>;
          break;
        }
        case 'columns': {
          once(4);
          const v = parseValue(b, p);
          if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) bail();
          s.columns = v as string[];
          hasColumns = true;
          break;
        }
        case 'values': {
          once(8);
          hasValues = true;
          if (!hasColumns) {
            // Columns not known yet: read generically, typed when the series ends.
            rawRows = parseValue(b, p);
            break;
          }
          if (b[p] === C.LOWER_N) {
            gEnd = expectLiteral(b, p, 'null');
            break;
          }
          if (b[p] !== C.LBRACKET) bail();
          if (s.name !== undefined && s.columns[0] === 'time') {
            s.schema = yield s.name;
            s.looked = true;
          }
          const ncols = s.columns.length;
          const kinds: (Kind | undefined)[] = s.columns.map((name, c) => conv.declared(name, c, s.schema, []));
          let sinks = kinds.map((k) => (k === undefined ? new Sink(K_UNDECIDED) : conv.takeSink(kLittleEndian ? kindCode(k) : K_GENERIC)));
          const start = skipWs(b, p + 1);
          let n = parseRows(b, start, sinks, conv.timeMul);
          if (n < 0) {
            // A value does not fit its declared type: read the series again, generically.
            const used = gRows;
            for (const sink of sinks) conv.releaseSink(sink, used);
            sinks = kinds.map(() => new Sink(K_GENERIC));
            n = parseRows(b, start, sinks, conv.timeMul);
          }
          s.n = n;
          for (let c = 0; c < ncols; c++) {
            const sink = sinks[c]!;
            if (sink.kind === K_GENERIC) {
              s.generic[c] = sink.generic;
            } else if (sink.kind === K_UNDECIDED) {
              s.generic[c] = new Array<unknown>(n).fill(null);
            } else if (sink.kind === K_NUMBERS || sink.kind === K_STRINGS) {
              s.generic[c] = sink.speculative(n);
            } else {
              s.typed[c] = sink.finish(n, conv, s.columns[c]!);
              s.typedKinds[c] = kinds[c];
              conv.releaseSink(sink, n);
            }
          }
          break;
        }
        case 'partial':
          once(16);
          s.partial = parseValue(b, p);
          break;
        default:
          parseValue(b, p);
          break;
      }
      p = skipWs(b, gEnd);
      const d = b[p];
      if (d === C.COMMA) p = skipWs(b, p + 1);
      else if (d === C.RBRACE) break;
      else bail();
    }
  }
  const end = p + 1;
  // `series.columns.forEach` in arrow.ts needs columns.
  if (!hasColumns) bail();
  if (hasValues && rawRows !== undefined) {
    const { n, cols } = transpose(rawRows, s.columns.length);
    s.n = n;
    s.generic = cols;
  } else if (s.n === 0) {
    // No values (or null, or an empty array).
    s.typed = [];
    s.generic = s.columns.map(() => []);
  }
  if (!s.looked && isSelect(s)) {
    s.schema = yield s.name!;
    s.looked = true;
  }
  gEnd = end;
  out.series = s;
}

function* parseStatement(b: Buffer, p: number, conv: ColumnConverter, out: StatementOut[], build: boolean): Need {
  if (b[p] !== C.LBRACE) bail();
  const st: StatementOut = { statementId: undefined, error: undefined, series: [], batches: [] };
  let seenSeries = false;
  p = skipWs(b, p + 1);
  if (b[p] !== C.RBRACE) {
    for (;;) {
      const key = parseKey(b, p);
      p = gEnd;
      if (key === 'series') {
        if (seenSeries) bail();
        seenSeries = true;
        if (b[p] === C.LOWER_N) {
          gEnd = expectLiteral(b, p, 'null');
        } else {
          if (b[p] !== C.LBRACKET) bail();
          p = skipWs(b, p + 1);
          if (b[p] === C.RBRACKET) {
            gEnd = p + 1;
          } else {
            for (;;) {
              const holder: { series?: PendingSeries } = {};
              yield* parseSeries(b, p, conv, holder);
              st.series.push(holder.series!);
              p = skipWs(b, gEnd);
              const d = b[p];
              if (d === C.COMMA) p = skipWs(b, p + 1);
              else if (d === C.RBRACKET) break;
              else bail();
            }
            gEnd = p + 1;
          }
        }
      } else if (key === 'statement_id') {
        st.statementId = parseValue(b, p);
      } else if (key === 'error') {
        st.error = parseValue(b, p);
      } else {
        parseValue(b, p);
      }
      p = skipWs(b, gEnd);
      const d = b[p];
      if (d === C.COMMA) p = skipWs(b, p + 1);
      else if (d === C.RBRACE) break;
      else bail();
    }
  }
  const end = p + 1;
  if (build) {
    st.batches = conv.statementBatches(st.series, st.statementId);
    st.series = [];
  }
  out.push(st);
  gEnd = end;
}

function* parseDocument(b: Buffer, conv: ColumnConverter, out: DocumentOut): Need {
  let p = skipWs(b, 0);
  if (b[p] !== C.LBRACE) bail();
  p = skipWs(b, p + 1);
  if (b[p] !== C.RBRACE) {
    for (;;) {
      const key = parseKey(b, p);
      p = gEnd;
      if (key === 'results') {
        if (out.hasResults) bail();
        out.hasResults = true;
        if (b[p] !== C.LBRACKET) bail();
        p = skipWs(b, p + 1);
        if (b[p] === C.RBRACKET) {
          gEnd = p + 1;
        } else {
          for (;;) {
            // A statement's batches are built when it ends, unless an earlier one failed.
            yield* parseStatement(b, p, conv, out.statements, !out.statements.some((s) => typeof s.error === 'string'));
            p = skipWs(b, gEnd);
            const d = b[p];
            if (d === C.COMMA) p = skipWs(b, p + 1);
            else if (d === C.RBRACKET) break;
            else bail();
          }
          gEnd = p + 1;
        }
      } else if (key === 'error') {
        out.error = parseValue(b, p);
      } else {
        parseValue(b, p);
      }
      p = skipWs(b, gEnd);
      const d = b[p];
      if (d === C.COMMA) p = skipWs(b, p + 1);
      else if (d === C.RBRACE) break;
      else bail();
    }
  }
  p = skipWs(b, p + 1);
  if (p < b.length) bail();
}

/** The errors `checkQueryResponse` throws for a parsed document (`undefined`: none, or a shape only the generic path reports). */
function documentError(doc: DocumentOut, status: number): Error | 'generic' | undefined {
  if (typeof doc.error === 'string') {
    return new InfluxDBQueryError(`query failed: ${doc.error}`, { status, serverMessage: doc.error, endpoint: 'query' });
  }
  if (!doc.hasResults) return 'generic';
  for (const st of doc.statements) {
    if (typeof st.error === 'string') {
      return new InfluxDBQueryError(`query failed in statement ${String(st.statementId)}: ${st.error}`, {
        status, serverMessage: st.error, endpoint: 'query', statementId: st.statementId as number,
      });
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Entry points.

function stripBom(bytes: Uint8Array): Uint8Array {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The text for these bytes: malformed UTF-8 as U+FFFD and, for a whole body, a BOM dropped (what
 * `res.body.text()` gives; `splitLines` keeps a BOM inside a chunked stream).
 */
function toText(body: string | Uint8Array, dropBom: boolean): string {
  if (typeof body === 'string') return body;
  return asBuffer(dropBom ? stripBom(body) : body).toString('utf8');
}

/** The body as UTF-8 bytes for the parser, or `undefined` when only the text path is exact for it. */
function toBytes(body: string | Uint8Array, dropBom: boolean): Buffer | undefined {
  if (typeof body === 'string') {
    // A lone surrogate in the text itself would not survive UTF-8.
    if (!body.isWellFormed()) return undefined;
    return Buffer.from(body, 'utf8');
  }
  const bytes = asBuffer(dropBom ? stripBom(body) : body);
  return isUtf8(bytes) ? bytes : Buffer.from(bytes.toString('utf8'), 'utf8');
}

/** Runs a parsing generator with a synchronous lookup; a bail (or any parser failure) comes back as `Bail`. */
function runSync(gen: Need, lookup: SchemaLookup): Bail | undefined {
  let schema: MeasurementSchema | undefined;
  for (;;) {
    let step: IteratorResult<string, void>;
    try {
      step = gen.next(schema);
    } catch {
      return BAIL;
    }
    if (step.done) return undefined;
    schema = lookup(step.value);
  }
}

async function runAsync(gen: Need, lookup: (m: string) => MeasurementSchema | undefined | Promise<MeasurementSchema | undefined>): Promise<Bail | undefined> {
  let schema: MeasurementSchema | undefined;
  for (;;) {
    let step: IteratorResult<string, void>;
    try {
      step = gen.next(schema);
    } catch {
      return BAIL;
    }
    if (step.done) return undefined;
    schema = await lookup(step.value);
  }
}

const noSchema = (): undefined => undefined;

/**
 * A whole `/query` answer (JSON text or its UTF-8 bytes) as Arrow tables: the same result as
 * `responseToArrow(checkQueryResponse(parseExactJson(text), status), schemaFor, options)`,
 * errors included (`SyntaxError` for invalid JSON, `InfluxDBQueryError` for an error inside the
 * answer, `InfluxDBResponseError` for an answer without `results`). `schemaFor` is called once
 * per SELECT series, when the series starts (see `jsonToArrowAsync` for an asynchronous lookup).
 */
export function jsonToArrow(body: string | Uint8Array, schemaFor: SchemaLookup | undefined, options: ArrowOptions = {}, status = 200): ArrowResult {
  const lookup = schemaFor ?? noSchema;
  const bytes = toBytes(body, true);
  if (bytes !== undefined) {
    const conv = new ColumnConverter(options);
    const doc: DocumentOut = { error: undefined, hasResults: false, statements: [] };
    if (runSync(parseDocument(bytes, conv, doc), lookup) === undefined) {
      const result = finishDocument(doc, status);
      if (result !== undefined) return result;
    }
  }
  return responseToArrow(checkQueryResponse(parseExactJson(toText(body, true)), status), lookup, options);
}

function finishDocument(doc: DocumentOut, status: number): ArrowResult | undefined {
  const err = documentError(doc, status);
  if (err === 'generic') return undefined;
  if (err !== undefined) throw err;
  const statements = doc.statements.map((st) => statementResult(st.batches));
  return statements.length === 1 ? statements[0]! : statements;
}

/**
 * As `jsonToArrow`, with an asynchronous lookup (e.g. `(m) => schemaCache.get(m, db)`): the
 * parse pauses at each SELECT series until its measurement's schema is known.
 */
export async function jsonToArrowAsync(body: string | Uint8Array, schemaFor: AsyncSchemaLookup | undefined, options: ArrowOptions = {}, status = 200): Promise<ArrowResult> {
  const lookup = schemaFor ?? noSchema;
  const bytes = toBytes(body, true);
  if (bytes !== undefined) {
    const conv = new ColumnConverter(options);
    const doc: DocumentOut = { error: undefined, hasResults: false, statements: [] };
    if ((await runAsync(parseDocument(bytes, conv, doc), lookup)) === undefined) {
      const result = finishDocument(doc, status);
      if (result !== undefined) return result;
    }
  }
  const resp = checkQueryResponse(parseExactJson(toText(body, true)), status);
  const schemas = new Map<string, MeasurementSchema | undefined>();
  for (const st of resp.results) {
    for (const s of st.series ?? []) {
      if (s.name !== undefined && s.columns[0] === 'time' && !schemas.has(s.name)) schemas.set(s.name, await lookup(s.name));
    }
  }
  return responseToArrow(resp, (m) => schemas.get(m), options);
}

function pendingFromSeries(series: Series): PendingSeries {
  const rows = series.values ?? [];
  const ncols = series.columns.length;
  const generic: unknown[][] = Array.from({ length: ncols }, () => new Array<unknown>(rows.length));
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    for (let c = 0; c < ncols; c++) generic[c]![i] = row[c];
  }
  return {
    name: series.name, tags: series.tags, columns: series.columns, n: rows.length, partial: series.partial,
    typed: [], typedKinds: [], generic, schema: undefined, looked: false,
  };
}

/**
 * Chunked answers (`chunked=true`): one converter per stream, fed each NDJSON line, as
 * `responseChunksToRecordBatches` over `checkQueryResponse(parseExactJson(line))` per chunk.
 * Each line gives one `RecordBatch` per series, in order; batches of one stream share their
 * dictionary types and inferred column types. `schemaFor` is asked once per measurement.
 */
export class JsonChunkConverter {
  readonly #conv: ColumnConverter;
  readonly #schemaFor: AsyncSchemaLookup | undefined;
  readonly #known = new Map<string, MeasurementSchema | undefined>();
  readonly #status: number;

  constructor(schemaFor?: AsyncSchemaLookup, options: ArrowOptions = {}, status = 200) {
    this.#conv = new ColumnConverter(options);
    this.#schemaFor = schemaFor;
    this.#status = status;
  }

  /** The batches of one line (a whole JSON document); throws as `checkQueryResponse` would. */
  async convert(line: string | Uint8Array): Promise<RecordBatch[]> {
    return this.#convert(line, false) as Promise<RecordBatch[]>;
  }

  /** As `convert`, synchronously: only when every measurement's schema is already known (or there is no lookup). */
  convertSync(line: string | Uint8Array): RecordBatch[] {
    return this.#convert(line, true) as RecordBatch[];
  }

  #lookupSync = (m: string): MeasurementSchema | undefined => {
    if (this.#schemaFor === undefined) return undefined;
    if (!this.#known.has(m)) throw new Error(`no schema known yet for measurement "${m}": use convert()`);
    return this.#known.get(m);
  };

  #lookupAsync = async (m: string): Promise<MeasurementSchema | undefined> => {
    if (this.#schemaFor === undefined) return undefined;
    if (!this.#known.has(m)) this.#known.set(m, await this.#schemaFor(m));
    return this.#known.get(m);
  };

  #convert(line: string | Uint8Array, sync: boolean): RecordBatch[] | Promise<RecordBatch[]> {
    const sticky = new Map(this.#conv.sticky);
    const bytes = toBytes(line, false);
    const doc: DocumentOut = { error: undefined, hasResults: false, statements: [] };
    const done = (bailed: Bail | undefined): RecordBatch[] | Promise<RecordBatch[]> => {
      if (bailed === undefined) {
        const err = documentError(doc, this.#status);
        if (err === undefined) return doc.statements.flatMap((st) => st.batches);
        if (err !== 'generic') throw err;
      }
      // The generic path, from the state before this line.
      this.#conv.sticky = sticky;
      const resp = checkQueryResponse(parseExactJson(toText(line, false)), this.#status);
      return sync ? this.#fromResponse(resp, this.#lookupSync) : this.#fromResponseAsync(resp);
    };
    // A line that throws (an error in the answer, a failed lookup) leaves the stream's state as it was.
    const restore = (err: unknown): never => {
      this.#conv.sticky = sticky;
      throw err;
    };
    if (sync) {
      try {
        return done(bytes === undefined ? BAIL : runSync(parseDocument(bytes, this.#conv, doc), this.#lookupSync));
      } catch (err) {
        return restore(err);
      }
    }
    const parsed = bytes === undefined ? Promise.resolve(BAIL) : runAsync(parseDocument(bytes, this.#conv, doc), this.#lookupAsync);
    return parsed.then(done).catch(restore);
  }

  #fromResponse(resp: QueryResponse, lookup: SchemaLookup): RecordBatch[] {
    const out: RecordBatch[] = [];
    for (const st of resp.results) {
      const pending = (st.series ?? []).map(pendingFromSeries);
      for (const s of pending) if (isSelect(s)) s.schema = lookup(s.name!);
      out.push(...this.#conv.statementBatches(pending, st.statement_id));
    }
    return out;
  }

  async #fromResponseAsync(resp: QueryResponse): Promise<RecordBatch[]> {
    for (const st of resp.results) {
      for (const s of st.series ?? []) if (s.name !== undefined && s.columns[0] === 'time') await this.#lookupAsync(s.name);
    }
    return this.#fromResponse(resp, (m) => this.#known.get(m));
  }
}

function isBlank(line: string | Uint8Array): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = typeof line === 'string' ? line.charCodeAt(i) : line[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false;
  }
  return true;
}

/**
 * Chunked + arrow from the NDJSON lines of the answer (e.g. `splitLines(res.body)`): what
 * `responseChunksToRecordBatches(parseNdjson(...) checked, schemaFor, options)` yields. Blank
 * lines are skipped.
 */
export async function* jsonChunksToRecordBatches(
  lines: AsyncIterable<string | Uint8Array>, schemaFor?: AsyncSchemaLookup, options: ArrowOptions = {}, status = 200,
): AsyncGenerator<RecordBatch, void, undefined> {
  const conv = new JsonChunkConverter(schemaFor, options, status);
  for await (const line of lines) {
    if (isBlank(line)) continue;
    yield* await conv.convert(line);
  }
}
