/**
 * The columnar encoder's value writers: numbers and strings written as line protocol straight
 * into a body's bytes, with no string per value. Each returns the position after what it wrote
 * (the caller has reserved the room: `kMaxNumberBytes` for a number). `writeFloat` is
 * `formatFloat` byte for byte, and `assembly/float.ts` follows it step for step.
 * @module
 */
import { utf8Tail } from '../line-protocol/utf8.js';

// ---- numbers ---------------------------------------------------------------------------------

/** "00" .. "99" as ASCII pairs: two digits per division. */
const kPairs = (() => {
  const t = new Uint8Array(200);
  for (let i = 0; i < 100; i++) {
    t[2 * i] = 48 + ((i / 10) | 0);
    t[2 * i + 1] = 48 + (i % 10);
  }
  return t;
})();

/** Writes the digits of 0 <= v <= 2^31 so that the last one lands at `end - 1` (the caller counted them). */
function fillDigits(buf: Uint8Array, end: number, v: number, start: number): void {
  let p = end;
  while (p - start >= 2) {
    const q = (v / 100) | 0;
    const r = (v - q * 100) << 1;
    buf[--p] = kPairs[r + 1]!;
    buf[--p] = kPairs[r]!;
    v = q;
  }
  if (p > start) buf[--p] = 48 + v;
}

/** Writes a non-negative integer below 2^31 + 1 as decimal digits. */
function writeSmallUint(buf: Uint8Array, pos: number, v: number): number {
  const n = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5
    : v < 1000000 ? 6 : v < 10000000 ? 7 : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
  fillDigits(buf, pos + n, v, pos);
  return pos + n;
}

/** Writes exactly nine digits (zero-padded) of 0 <= v < 1e9. */
function writePad9(buf: Uint8Array, pos: number, v: number): number {
  fillDigits(buf, pos + 9, v, pos);
  return pos + 9;
}

/**
 * floor(v / d) for integers 0 <= v < 2^53 and d = 10^k (k <= 22, exact): the quotient of the
 * doubles may round up to the next integer, which the exact remainder v - q * d (integers
 * below 2^53) reveals and corrects.
 */
function floorDivExact(v: number, d: number): number {
  const q = Math.floor(v / d);
  const r = v - q * d;
  return r < 0 ? q - 1 : r >= d ? q + 1 : q;
}

/** Writes a non-negative integer below 2^53. */
export function writeUintDouble(buf: Uint8Array, pos: number, v: number): number {
  if (v <= 2147483648) return writeSmallUint(buf, pos, v);
  const q = floorDivExact(v, 1e9);
  pos = writeSmallUint(buf, pos, q);
  return writePad9(buf, pos, v - q * 1e9);
}

/**
 * Writes the unsigned 64-bit integer `hi * 2^32 + lo` (both as uint32 numbers). Above 2^53:
 * q = floor(d / 1e9) from the nearest double d (off by at most one), then the remainder
 * exactly, modulo 2^32 (it lies in [-1e9, 2e9), which an int32 tells apart), then q corrected.
 * (Not `floorDivExact`: d is not the value here, so the remainder is taken from `lo`.)
 */
export function writeUint64(buf: Uint8Array, pos: number, lo: number, hi: number): number {
  const d = hi * 4294967296 + lo;
  if (hi < 0x200000) return writeUintDouble(buf, pos, d);
  let q = Math.floor(d / 1e9);
  let r = (lo - Math.imul(q | 0, 1000000000)) | 0;
  if (r < 0) {
    q -= 1;
    r += 1000000000;
  } else if (r >= 1000000000) {
    q += 1;
    r -= 1000000000;
  }
  pos = writeUintDouble(buf, pos, q);
  return writePad9(buf, pos, r);
}

/** Writes the signed 64-bit integer whose little-endian int32 words are `lo`, `hi`. */
export function writeInt64(buf: Uint8Array, pos: number, lo: number, hi: number): number {
  if (hi === 0 && lo >= 0) return writeSmallUint(buf, pos, lo);
  if (hi === -1 && lo < 0) {
    buf[pos] = 45;
    return writeSmallUint(buf, pos + 1, -lo);
  }
  if (hi < 0) {
    buf[pos++] = 45;
    // Two's complement negation of the 64-bit value; -2^63 becomes 2^63 unsigned.
    const nlo = (~lo + 1) >>> 0;
    const nhi = (nlo === 0 ? ~hi + 1 : ~hi) >>> 0;
    return writeUint64(buf, pos, nlo, nhi);
  }
  return writeUint64(buf, pos, lo >>> 0, hi);
}

/** Writes an int32 as digits. */
export function writeInt32(buf: Uint8Array, pos: number, v: number): number {
  if (v < 0) {
    buf[pos++] = 45;
    v = -v;
  }
  return writeSmallUint(buf, pos, v);
}

/** Writes `digits` digits of the integer 0 <= v < 2^53, zero-padded on the left. */
function writePadded(buf: Uint8Array, pos: number, v: number, digits: number): number {
  let end = pos + digits;
  if (v >= 1e9) {
    const hi = floorDivExact(v, 1e9);
    fillDigits(buf, end, v - hi * 1e9, end - 9);
    end -= 9;
    v = hi;
  }
  fillDigits(buf, end, v, pos);
  return pos + digits;
}

/** 10^k, exact as doubles for k <= 22. */
const kPow10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * Writes a finite float exactly as `formatFloat` (`String(x)`; `-0` as `-0`).
 *
 * Fast path, for 1e-5 <= |x| < 1e15: with 10^(e-1) <= |x| < 10^e, take K = 15 - e decimals, so
 * that y = |x| * 10^K < 10^15 < 2^50, and m = round(y). Below 2^50 the spacing of doubles
 * around |x| is under a quarter of 10^-K, so at most one integer m' has m' / 10^K read back as
 * |x|, and it is m (y is off by at most 1/16). If m / 10^K !== |x| (both exact doubles: the
 * division is the correctly rounded value of the decimal m * 10^-K, which is what parsing it
 * gives), no decimal of at most K places reads back as |x|: `String(x)`, which needs more
 * digits. Otherwise every shorter decimal that reads back is m with trailing zeros dropped (by
 * the same uniqueness), so m's digits without their trailing zeros are the shortest
 * round-trip form: what `String(x)` prints, in plain decimal notation in this range.
 */
export function writeFloat(buf: Uint8Array, pos: number, v: number): number {
  if (v === 0) {
    if (1 / v < 0) {
      buf[pos] = 45;
      buf[pos + 1] = 48;
      return pos + 2;
    }
    buf[pos] = 48;
    return pos + 1;
  }
  // Integers below 2^31 print as their digits in String() too.
  if (v > -2147483648 && v < 2147483648 && (v | 0) === v) return writeInt32(buf, pos, v);
  const a = v < 0 ? -v : v;
  if (a >= 1e-5 && a < 1e15) {
    // e: the number of integer digits (<= 0 below 1); K = 15 - e.
    let e = 0;
    if (a >= 1) {
      e = 1;
      while (e < 15 && a >= kPow10[e]!) e++;
    } else {
      while (e > -4 && a * kPow10[1 - e]! < 1) e--;
    }
    const K = 15 - e;
    const p = kPow10[K]!;
    const m = Math.round(a * p);
    if (m / p === a) {
      if (v < 0) buf[pos++] = 45;
      const whole = floorDivExact(m, p);
      const frac = m - whole * p;
      pos = writeUintDouble(buf, pos, whole);
      if (frac === 0) return pos;
      buf[pos++] = 46;
      pos = writePadded(buf, pos, frac, K);
      while (buf[pos - 1] === 48) pos--;
      return pos;
    }
  }
  const s = String(v);
  for (let j = 0; j < s.length; j++) buf[pos + j] = s.charCodeAt(j);
  return pos + s.length;
}

/** Largest `formatFloat` output (`-2.2250738585072014e-308`) and largest int64 + `i`, rounded up. */
export const kMaxNumberBytes = 26;

// ---- strings ---------------------------------------------------------------------------------

/** `writeStringValue`'s refusals: the value is not well-formed UTF-8, or holds a `\n`/`\r` not allowed. */
export const kStringInvalidUtf8 = -1;
export const kStringNewline = -2;

/**
 * Writes `"` + the escaped UTF-8 of `data[a..b)` + `"`, checking it byte by byte: well-formed
 * UTF-8 (no overlong forms, surrogates or values above U+10FFFF), then no `\n`/`\r` unless
 * allowed. Returns the new position, or a negative `kString*` code.
 */
export function writeStringValue(buf: Uint8Array, pos: number, data: Uint8Array, a: number, b: number, allowNewlines: boolean): number {
  buf[pos++] = 34;
  let newline = false;
  let j = a;
  while (j < b) {
    const c = data[j]!;
    if (c < 0x80) {
      if (c === 34 || c === 92) buf[pos++] = 92;
      else if (c === 10 || c === 13) newline = true;
      buf[pos++] = c;
      j++;
      continue;
    }
    const n = utf8Tail(data, j, b);
    if (n < 0) return kStringInvalidUtf8;
    buf[pos++] = c;
    for (let k = 1; k <= n; k++) buf[pos++] = data[j + k]!;
    j += n + 1;
  }
  if (newline && !allowNewlines) return kStringNewline;
  buf[pos++] = 34;
  return pos;
}
