// String field values as line protocol writes them: `"` + the value, `"` and `\` escaped, `"`,
// checked on the way (well-formed UTF-8; no `\n`/`\r` unless allowed). writeString is
// writeStringValue of src/encode/columnar/value-writers.ts, 8 bytes at a time while no byte
// needs a look (ASCII other than `"`, `\`, `\n`, `\r`), byte by byte around the ones that do.

// @ts-ignore: decorator
@inline const ONES: u64 = 0x0101010101010101;
// @ts-ignore: decorator
@inline const HIGHS: u64 = 0x8080808080808080;

/** Nonzero iff some byte of x is zero. */
// @ts-ignore: decorator
@inline function hasZeroByte(x: u64): u64 {
  return (x - ONES) & ~x & HIGHS;
}

/** Nonzero iff some byte of w is non-ASCII, `"`, `\`, `\n` or `\r`. */
// @ts-ignore: decorator
@inline function needsLook(w: u64): u64 {
  return (w & HIGHS)
    | hasZeroByte(w ^ (ONES * 0x22))
    | hasZeroByte(w ^ (ONES * 0x5C))
    | hasZeroByte(w ^ (ONES * 0x0A))
    | hasZeroByte(w ^ (ONES * 0x0D));
}

/** writeString results that are not positions (output addresses are far above these). */
// @ts-ignore: decorator
@inline export const STR_INVALID_UTF8: usize = 0;
// @ts-ignore: decorator
@inline export const STR_NEWLINE: usize = 1;

/**
 * Writes `"` + the escaped bytes of src[0 .. len) + `"` at dst, checking them as
 * writeStringValue of value-writers.ts does: well-formed UTF-8 (no overlong forms, surrogates or
 * values above U+10FFFF), then no `\n`/`\r` unless allowed. Returns the end, or STR_*.
 */
export function writeString(dst: usize, src: usize, len: i32, allowNewlines: bool): usize {
  store<u8>(dst, 0x22);
  let p = dst + 1;
  let newline = false;
  let j: i32 = 0;
  while (j < len) {
    if (j + 8 <= len) {
      const w = load<u64>(src + <usize>j);
      if (needsLook(w) == 0) {
        store<u64>(p, w);
        p += 8;
        j += 8;
        continue;
      }
    }
    const c = <u32>load<u8>(src + <usize>j);
    if (c < 0x80) {
      if (c == 0x22 || c == 0x5C) {
        store<u8>(p, 0x5C);
        p++;
      } else if (c == 0x0A || c == 0x0D) newline = true;
      store<u8>(p, <u8>c);
      p++;
      j++;
      continue;
    }
    let n: i32;
    let lo: u32 = 0x80;
    let hi: u32 = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) n = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      else if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      else if (c == 0xF4) hi = 0x8F;
    } else return STR_INVALID_UTF8;
    if (j + n >= len) return STR_INVALID_UTF8;
    const c1 = <u32>load<u8>(src + <usize>j, 1);
    if (c1 < lo || c1 > hi) return STR_INVALID_UTF8;
    for (let k = 2; k <= n; k++) {
      const ck = <u32>load<u8>(src + <usize>(j + k));
      if (ck < 0x80 || ck > 0xBF) return STR_INVALID_UTF8;
    }
    store<u8>(p, <u8>c);
    store<u8>(p, <u8>c1, 1);
    for (let k = 2; k <= n; k++) store<u8>(p + <usize>k, load<u8>(src + <usize>(j + k)));
    p += <usize>(n + 1);
    j += n + 1;
  }
  if (newline && !allowNewlines) return STR_NEWLINE;
  store<u8>(p, 0x22);
  return p + 1;
}
