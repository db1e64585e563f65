/**
 * The `values` array of a series: its rows, each cell written straight into its column's sink
 * (ints and times as int64 words without BigInt, floats, strings and tags as bytes, booleans,
 * ISO times, speculative columns). A cell returns the position after it, or -1 when the value
 * does not fit the column (the series is then read again generically); invalid JSON bails.
 */
import { parseIsoToNs } from '../../../encode/time.js';
import { C, skipWs } from '../../json/bytes.js';
import { kTwo32 } from '../arrow-columns.js';
import { hashBytes, scratch, unescapeToScratch } from './escapes.js';
import { POW10, bail, cursor, expectLiteral, parseString, parseValue, readFloat } from './scanner.js';
import { K, type Sink } from './sinks.js';

const kTwo31 = 2147483648;

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
export function writeSafe(words: Int32Array, r: number, x: number): void {
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
    end = cursor.end;
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
  const end = cursor.end;
  s.ints[r] = s.dictIndex(scratch, 0, len, hashBytes(scratch, 0, len));
  return end;
}

/** A time column whose first value is an ISO string: strings parsed to ns, numbers as they are. */
function cellIsoTime(b: Buffer, p: number, s: Sink, r: number): number {
  if (b[p] === C.QUOTE) {
    const text = parseString(b, p);
    const ns = parseIsoToNs(text);
    if (typeof ns === 'string') return -1;
    // As `values[i] = ns` in fillInt64 (arrow-columns.ts; stored modulo 2^64).
    new BigInt64Array(s.words.buffer, 8 * r, 1)[0] = ns;
    return cursor.end;
  }
  return cellInt(b, p, s, r, 1);
}

/** A cell of an undeclared column (not null): kept typed while the values allow, else generic. */
function cellSpeculative(b: Buffer, p: number, s: Sink, r: number, ch: number | undefined): number {
  const isNumber = ch === C.MINUS || (ch !== undefined && ch >= C.ZERO && ch <= C.NINE);
  if (s.kind === K.UNDECIDED) {
    if (isNumber) s.decide(true);
    else if (ch === C.QUOTE) s.decide(false);
    else s.toGeneric(r);
  }
  let end = -1;
  if (s.kind === K.NUMBERS && isNumber) end = readFloat(b, p, s.f64, r, true);
  else if (s.kind === K.STRINGS && ch === C.QUOTE) end = cellString(b, p, s, r);
  if (end >= 0) return end;
  if (s.kind !== K.GENERIC) s.toGeneric(r);
  s.generic.push(parseValue(b, p));
  return cursor.end;
}

/**
 * Reads the rows of a `values` array (p after its `[`, whitespace skipped) into the sinks.
 * Returns the number of rows and sets `cursor.end` past the closing `]`, or -1 when a value does not
 * fit its typed column.
 */
export function parseRows(b: Buffer, p: number, sinks: Sink[], mul: number): number {
  const ncols = sinks.length;
  let r = 0;
  let cap = 0;
  cursor.rows = 0;
  if (b[p] === C.RBRACKET) {
    cursor.end = p + 1;
    return 0;
  }
  for (;;) {
    if (b[p] !== C.LBRACKET) bail();
    cursor.rows = r + 1;
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
          if (ch === C.LOWER_N && s.kind !== K.GENERIC) {
            p = expectLiteral(b, p, 'null');
            s.setNull(r);
          } else {
            switch (s.kind) {
              case K.TIME:
                if (r === 0 && ch === C.QUOTE) s.iso = true;
                p = s.iso ? cellIsoTime(b, p, s, r) : cellInt(b, p, s, r, mul);
                break;
              case K.INT: p = cellInt(b, p, s, r, 1); break;
              case K.FLOAT: p = readFloat(b, p, s.f64, r); break;
              case K.UNDECIDED:
              case K.NUMBERS:
              case K.STRINGS: p = cellSpeculative(b, p, s, r, ch); break;
              case K.STRING: p = ch === C.QUOTE ? cellString(b, p, s, r) : -1; break;
              case K.TAG: p = ch === C.QUOTE ? cellTag(b, p, s, r) : -1; break;
              case K.BOOL:
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
                p = cursor.end;
                break;
            }
            if (p < 0) return -1;
          }
        } else {
          parseValue(b, p);
          p = cursor.end;
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
      cursor.end = p + 1;
      return r;
    } else {
      bail();
    }
  }
}
