/**
 * The byte-level JSON reader under the `arrow` parser: the bail-out to the generic path, the
 * end-of-token cursor, literals, and any JSON value read exactly as `parseExactJson` gives it
 * (numbers, strings with their escapes, arrays, objects) from UTF-8 bytes.
 */
import { C, hexValue, skipWs } from '../../json/bytes.js';

export const kTwo53 = 9007199254740992;
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

// ---------------------------------------------------------------------------------------------
// Generic values: exactly what `parseExactJson` gives (integer literals beyond 2^53 as bigint).

/** Reads a number at `p` (grammar checked); sets `cursor.end`. */
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
  cursor.end = p;
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
      p = skipWs(b, p + 1);
      if (b[p] === C.RBRACKET) {
        cursor.end = p + 1;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(b, p));
        p = skipWs(b, cursor.end);
        const d = b[p];
        if (d === C.COMMA) p = skipWs(b, p + 1);
        else if (d === C.RBRACKET) break;
        else bail();
      }
      cursor.end = p + 1;
      return arr;
    }
    case C.LBRACE: {
      const obj: Record<string, unknown> = {};
      p = skipWs(b, p + 1);
      if (b[p] === C.RBRACE) {
        cursor.end = p + 1;
        return obj;
      }
      for (;;) {
        const key = parseKey(b, p);
        setProperty(obj, key, parseValue(b, cursor.end));
        p = skipWs(b, cursor.end);
        const d = b[p];
        if (d === C.COMMA) p = skipWs(b, p + 1);
        else if (d === C.RBRACE) break;
        else bail();
      }
      cursor.end = p + 1;
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
