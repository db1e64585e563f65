/**
 * The byte-level JSON reader under the `arrow` parser: the bail-out to the generic path, the
 * end-of-token cursor, literals, the loop over an array's or object's items, numbers (`readFloat`,
 * also the float cells of cells.ts), and any JSON value read exactly as `parseExactJson` gives it
 * (numbers, strings with their escapes, arrays, objects) from UTF-8 bytes.
 */
import { C, hex4, skipWs } from '../../json/bytes.js';

const kTwo53 = 9007199254740992;
export const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/** Thrown inside the parser when the answer is not the plain shape: it is then redone on the generic path. */
export class Bail {
  readonly bail = true;
}
export const BAIL = new Bail();
export function bail(): never {
  throw BAIL;
}

/**
 * What a read leaves besides its value (no allocation per token): `end`, the position after the
 * token most recently read; `rows`, the rows `parseRows` wrote to (also when it gave up: what a
 * sink must clear to be reused). Module state is safe: set and read synchronously, never across
 * a `yield`.
 */
export const cursor = { end: 0, rows: 0 };

export function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= C.ZERO && c <= C.NINE;
}

export function expectLiteral(b: Uint8Array, p: number, literal: string): number {
  for (let i = 0; i < literal.length; i++) if (b[p + i] !== literal.charCodeAt(i)) bail();
  return p + literal.length;
}

// Arrays and objects, whoever reads their items (`parseValue`, grammar.ts):
//   for (p = firstItem(b, p, C.LBRACKET, C.RBRACKET); p >= 0; p = nextItem(b, cursor.end, C.RBRACKET)) { read the item at p }
// leaves `cursor.end` past the closing bracket. (The rows of `values` have a loop of their own, cells.ts.)

/** At `open` (else a bail): the position of the first item, or -1 for an empty container, `cursor.end` then past it. */
export function firstItem(b: Uint8Array, p: number, open: number, close: number): number {
  if (b[p] !== open) bail();
  p = skipWs(b, p + 1);
  if (b[p] !== close) return p;
  cursor.end = p + 1;
  return -1;
}

/** After an item ending at `p`: the position of the next one, or -1 at `close`, `cursor.end` then past it; anything else bails. */
export function nextItem(b: Uint8Array, p: number, close: number): number {
  p = skipWs(b, p);
  const d = b[p];
  if (d === C.COMMA) return skipWs(b, p + 1);
  if (d !== close) bail();
  cursor.end = p + 1;
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Generic values: exactly what `parseExactJson` gives (integer literals beyond 2^53 as bigint).

/**
 * A number into `out[r]`: `Number(text)`, with an exact fast path for short decimals; the position
 * after it, or -1 for invalid grammar or (`noBigint`) an integer literal beyond 2^53, which
 * `parseExactJson` makes a bigint. The float cells of `values` (cells.ts) and `parseNumber`.
 */
export function readFloat(b: Buffer, p: number, out: Float64Array, r: number, noBigint = false): number {
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
  // m and 10^k exact: the quotient is correctly rounded, as Number() of the text.
  if (digits <= 15 || (digits === 16 && m < kTwo53)) {
    const v = frac === 0 ? m : m / POW10[frac]!;
    out[r] = neg ? -v : v;
  } else if (noBigint && frac === 0) {
    return -1;
  } else {
    out[r] = Number(b.toString('latin1', start, p));
  }
  return p;
}

/** Where `parseNumber` has `readFloat` put a number. */
const oneNumber = new Float64Array(1);

/** Reads a number at `p` exactly as `parseExactJson` (integer literals beyond 2^53 as bigint); sets `cursor.end`. */
function parseNumber(b: Buffer, p: number): number | bigint {
  const end = readFloat(b, p, oneNumber, 0, true);
  if (end >= 0) {
    cursor.end = end;
    return oneNumber[0]!;
  }
  // Invalid grammar, or an integer literal beyond 2^53: digits only, no leading zero.
  const first = b[p] === C.MINUS ? p + 1 : p;
  let q = first;
  while (isDigit(b[q])) q++;
  const c = b[q];
  if (q === first || b[first] === C.ZERO || c === C.DOT || c === C.LOWER_E || c === C.UPPER_E) bail();
  cursor.end = q;
  return BigInt(b.toString('latin1', p, q));
}

/** Reads the string whose opening quote is at `p` into a JS string (lone surrogates kept); sets `cursor.end`. */
export function parseString(b: Buffer, p: number): string {
  const start = p + 1;
  let q = start;
  let c = b[q];
  while (c !== C.QUOTE && c !== C.BACKSLASH && c !== undefined && c >= 0x20) c = b[++q];
  if (c === C.QUOTE) {
    cursor.end = q + 1;
    return b.toString('utf8', start, q);
  }
  if (c !== C.BACKSLASH) bail();
  let out = b.toString('utf8', start, q);
  let run = q;
  for (;;) {
    c = b[q];
    if (c === C.QUOTE) {
      cursor.end = q + 1;
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
        const unit = hex4(b, q + 2);
        if (unit < 0) bail();
        // Code units one by one: pairs combine, lone surrogates stay, as JSON.parse.
        out += String.fromCharCode(unit);
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

/** Reads `"key" :` at `p` (whitespace skipped); sets `cursor.end` past the colon and whitespace. */
export function parseKey(b: Buffer, p: number): string {
  if (b[p] !== C.QUOTE) bail();
  const key = parseString(b, p);
  p = skipWs(b, cursor.end);
  if (b[p] !== C.COLON) bail();
  cursor.end = skipWs(b, p + 1);
  return key;
}

/** Any JSON value at `p` (whitespace skipped); sets `cursor.end`. */
export function parseValue(b: Buffer, p: number): unknown {
  const c = b[p];
  switch (c) {
    case C.QUOTE:
      return parseString(b, p);
    case C.LBRACKET: {
      const arr: unknown[] = [];
      for (p = firstItem(b, p, C.LBRACKET, C.RBRACKET); p >= 0; p = nextItem(b, cursor.end, C.RBRACKET)) arr.push(parseValue(b, p));
      return arr;
    }
    case C.LBRACE: {
      const obj: Record<string, unknown> = {};
      for (p = firstItem(b, p, C.LBRACE, C.RBRACE); p >= 0; p = nextItem(b, cursor.end, C.RBRACE)) {
        const key = parseKey(b, p);
        setProperty(obj, key, parseValue(b, cursor.end));
      }
      return obj;
    }
    case C.LOWER_T:
      cursor.end = expectLiteral(b, p, 'true');
      return true;
    case C.LOWER_F:
      cursor.end = expectLiteral(b, p, 'false');
      return false;
    case C.LOWER_N:
      cursor.end = expectLiteral(b, p, 'null');
      return null;
    default:
      if (c === C.MINUS || isDigit(c)) return parseNumber(b, p);
      return bail();
  }
}

export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
