/**
 * Well-formed UTF-8, byte by byte: the one table of the project (the Unicode Standard's table
 * 3-7: no overlong forms, no surrogates, nothing above U+10FFFF). The columnar encoder checks
 * string fields with it as it copies them (`../columnar/value-writers.ts`); the parser checks
 * names and shows bytes as Go does with it (`parse.ts`).
 * @module
 */

/**
 * The number of continuation bytes (1 to 3) of the well-formed sequence that starts at `i`
 * (its lead byte `buf[i]` is 0x80 or above) and ends before `end`; -1 when there is none.
 */
export function utf8Tail(buf: Uint8Array, i: number, end: number): number {
  const c = buf[i]!;
  let n: number;
  // The second byte's range narrows after E0, ED, F0 and F4 (overlong, surrogate, > U+10FFFF).
  let lo = 0x80;
  let hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) n = 1;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 2;
    if (c === 0xe0) lo = 0xa0;
    else if (c === 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 3;
    if (c === 0xf0) lo = 0x90;
    else if (c === 0xf4) hi = 0x8f;
  } else return -1;
  if (i + n >= end) return -1;
  const c1 = buf[i + 1]!;
  if (c1 < lo || c1 > hi) return -1;
  for (let k = 2; k <= n; k++) {
    const ck = buf[i + k]!;
    if (ck < 0x80 || ck > 0xbf) return -1;
  }
  return n;
}
