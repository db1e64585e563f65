/**
 * influxd's value scanners, ported (models/points.go `scanNumber`, `scanBoolean`, and the
 * `strconv` parses behind them): each takes the bytes of a field value or a timestamp and
 * answers where it ends, or influxd's reason for refusing it, allocating nothing for a value
 * that parses. The walk over a line that calls them is `parse.ts`.
 * @module
 */
import { ascii } from './go-text.js';
import { COMMA, SP } from './scan.js';

export const INT64_MIN = -9223372036854775808n;
export const INT64_MAX = 9223372036854775807n;
const ERR_NUMBER = 'invalid number';
const ERR_BOOLEAN = 'invalid boolean';

/** ASCII text as bytes (digit strings compared byte by byte). */
export const digitBytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const INT64_MAX_DIGITS = digitBytes('9223372036854775807');
const INT64_MIN_DIGITS = digitBytes('9223372036854775808');

/** A byte that may start or continue a number for influxd's scanner: a digit or `.`. */
export function isNumeric(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46;
}

/**
 * Whether the unsigned decimal digits [s, e) are at most `bound` (digits, no leading zero).
 * No allocation: leading zeros are skipped, then lengths and bytes compared.
 */
export function digitsAtMost(buf: Uint8Array, s: number, e: number, bound: Uint8Array): boolean {
  while (s < e && buf[s] === 48) s++;
  const len = e - s;
  if (len !== bound.length) return len < bound.length;
  for (let k = 0; k < len; k++) {
    const d = buf[s + k]! - bound[k]!;
    if (d !== 0) return d < 0;
  }
  return true;
}

/**
 * Go `strconv.ParseFloat` (bitSize 64) succeeds on [s, e), for the bytes influxd's scanner lets
 * through (digits, one `.`, `e`/`E` with a sign, a leading `-`): the syntax
 * `[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?`, and a finite value (overflow is an error, underflow
 * gives 0). The magnitude is judged from the digits and the exponent; only a value within a
 * decade of the largest double is converted.
 */
function goFloatOk(buf: Uint8Array, s: number, e: number): boolean {
  let i = s;
  if (i < e && (buf[i] === 43 || buf[i] === 45)) i++;
  let intDigits = 0; // significant digits before the point
  let leadZeros = 0; // zeros after the point before the first significant digit (when intDigits is 0)
  let mantissa = 0;
  let nonZero = false;
  for (; i < e && buf[i]! >= 48 && buf[i]! <= 57; i++, mantissa++) {
    if (buf[i] !== 48 || nonZero) {
      nonZero = true;
      intDigits++;
    }
  }
  if (i < e && buf[i] === 46) {
    i++;
    for (; i < e && buf[i]! >= 48 && buf[i]! <= 57; i++, mantissa++) {
      if (buf[i] !== 48) nonZero = true;
      else if (!nonZero) leadZeros++;
    }
  }
  if (mantissa === 0) return false;
  let exp = 0;
  if (i < e && (buf[i] === 101 || buf[i] === 69)) {
    i++;
    let neg = false;
    if (i < e && (buf[i] === 43 || buf[i] === 45)) neg = buf[i++] === 45;
    const ds = i;
    for (; i < e && buf[i]! >= 48 && buf[i]! <= 57; i++) if (exp < 1e6) exp = exp * 10 + (buf[i]! - 48);
    if (i === ds) return false;
    if (neg) exp = -exp;
  }
  if (i !== e) return false;
  if (!nonZero) return true;
  // The value is in [10^(m-1), 10^m).
  const m = (intDigits > 0 ? intDigits : -leadZeros) + exp;
  if (m <= 308) return true;
  if (m >= 310) return false;
  return Number.isFinite(Number(ascii(buf, s, e)));
}

/** `scanNumber`: the end of the number starting at `i`, or the error text. */
export function scanNumber(buf: Uint8Array, i: number, end: number): number | string {
  const start = i;
  let isInt = false;
  let isUnsigned = false;
  if (i < end && buf[i] === 45) {
    i++;
    if (i === end) return ERR_NUMBER;
  }
  let decimal = false;
  let scientific = false;
  for (;;) {
    if (i >= end) break;
    const c = buf[i]!;
    if (c === COMMA || c === SP) break;
    if (c === 105 /* i */ && i > start && !(isInt || isUnsigned)) {
      isInt = true;
      i++;
      continue;
    } else if (c === 117 /* u */ && i > start && !(isInt || isUnsigned)) {
      isUnsigned = true;
      i++;
      continue;
    }
    if (c === 46) {
      if (decimal) return ERR_NUMBER;
      decimal = true;
    }
    if (i > start && (c === 101 || c === 69)) {
      scientific = true;
      i++;
      continue;
    }
    if ((c === 43 || c === 45) && (buf[i - 1] === 101 || buf[i - 1] === 69)) {
      i++;
      continue;
    }
    if (i + 2 < end && (c === 78 || c === 110)) return ERR_NUMBER;
    if (!isNumeric(c)) return ERR_NUMBER;
    i++;
  }
  if ((isInt || isUnsigned) && (decimal || scientific)) return ERR_NUMBER;
  let digits = i - start;
  if (isInt) digits--;
  if (decimal) digits--;
  if (buf[start] === 45) digits--;
  if (digits === 0) return ERR_NUMBER;
  if (isInt) {
    if (buf[i - 1] !== 105) return ERR_NUMBER;
    // influxd parses integers of 19 characters or more (sign included) to check the range.
    if (i - 1 - start >= 19) {
      const neg = buf[start] === 45;
      const ds = neg ? start + 1 : start;
      let inRange = true;
      for (let k = ds; k < i - 1; k++) if (buf[k]! < 48 || buf[k]! > 57) inRange = false;
      if (!inRange || !digitsAtMost(buf, ds, i - 1, neg ? INT64_MIN_DIGITS : INT64_MAX_DIGITS)) {
        const s = ascii(buf, start, i - 1);
        const r = parseIntText(s);
        if (typeof r === 'string') return `unable to parse integer ${s}: ${r}`;
      }
    }
  } else if (isUnsigned) {
    // influxd 1.x OSS parses with uint64 support off: every `u` number is invalid.
    return ERR_NUMBER;
  } else if (scientific || i - start >= 25) {
    if (!goFloatOk(buf, start, i)) return 'invalid float';
  }
  return i;
}

/** Whether [s, s+len) holds the ASCII text `word`. */
export function bytesAre(buf: Uint8Array, s: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if (buf[s + k] !== word.charCodeAt(k)) return false;
  return true;
}

/** `scanBoolean`: the end of the boolean starting at `i`, or the error text. */
export function scanBoolean(buf: Uint8Array, i: number, end: number): number | string {
  const start = i;
  const c = buf[i];
  if (i < end && c !== 116 && c !== 102 && c !== 84 && c !== 70) return ERR_BOOLEAN;
  i++;
  while (i < end && buf[i] !== COMMA && buf[i] !== SP) i++;
  const len = i - start;
  if (len === 1) return i;
  if ((c === 116 || c === 84) && len !== 4) return ERR_BOOLEAN;
  if ((c === 102 || c === 70) && len !== 5) return ERR_BOOLEAN;
  const valid = len === 4
    ? bytesAre(buf, start, 'true') || bytesAre(buf, start, 'TRUE') || bytesAre(buf, start, 'True')
    : bytesAre(buf, start, 'false') || bytesAre(buf, start, 'FALSE') || bytesAre(buf, start, 'False');
  return valid ? i : ERR_BOOLEAN;
}

export function parseIntText(s: string): bigint | string {
  if (!/^-?\d+$/.test(s)) return `strconv.ParseInt: parsing "${s}": invalid syntax`;
  const v = BigInt(s);
  if (v < INT64_MIN || v > INT64_MAX) return `strconv.ParseInt: parsing "${s}": value out of range`;
  return v;
}
