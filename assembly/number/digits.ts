// Integer -> decimal ASCII, written straight into linear memory.
//
// All writers take a destination pointer, write ASCII bytes there and return the number of bytes
// written. They never allocate. Digits are produced right to left, two at a time, from the
// 200-byte "00".."99" table in a static data segment (digit-tables.ts, generated).

import { DIGIT_PAIRS, POW10 } from "./digit-tables";

/** Number of decimal digits of `v` (1 for 0). At most 20. */
// @ts-ignore: decorator
@inline export function decimalLength64(v: u64): i32 {
  // t = floor(log10(2) * bitLength(v)) is either the exact digit count - 1 or one too many.
  // (v | 1 instead of v makes 0 count as one digit; it changes nothing else because 10^t, t >= 1, is even.)
  const v1 = v | 1;
  const t = ((64 - <i32>clz<u64>(v1)) * 1233) >>> 12;
  return t + 1 - <i32>(v1 < load<u64>(POW10 + (<usize>t << 3)));
}

/** Number of decimal digits of `v` (1 for 0). At most 10. */
// @ts-ignore: decorator
@inline export function decimalLength32(v: u32): i32 {
  const v1 = v | 1;
  const t = ((32 - <i32>clz<u32>(v1)) * 1233) >>> 12;
  return t + 1 - <i32>(<u64>v1 < load<u64>(POW10 + (<usize>t << 3)));
}

/** Writes the decimal digits of `v` so that the last digit lands at `end - 1` (no padding). */
// @ts-ignore: decorator
@inline export function writeDigits32(end: usize, v: u32): void {
  while (v >= 100) {
    const q = v / 100;
    const r = v - q * 100;
    end -= 2;
    store<u16>(end, load<u16>(DIGIT_PAIRS + (<usize>r << 1)));
    v = q;
  }
  if (v >= 10) {
    store<u16>(end - 2, load<u16>(DIGIT_PAIRS + (<usize>v << 1)));
  } else {
    store<u8>(end - 1, <u8>(0x30 + v));
  }
}

/** Writes the decimal digits of `v` so that the last digit lands at `end - 1` (no padding). */
// @ts-ignore: decorator
@inline export function writeDigits64(end: usize, v: u64): void {
  // Peel off 8 digits at a time with one 64-bit division until the rest fits 32 bits (at most twice).
  while (v > 0xFFFFFFFF) {
    const q = v / 100000000;
    const r = <u32>(v - q * 100000000); // 8 digits, zero padded
    const hi4 = r / 10000;
    const lo4 = r - hi4 * 10000;
    const a = hi4 / 100;
    const b = hi4 - a * 100;
    const c = lo4 / 100;
    const d = lo4 - c * 100;
    store<u16>(end - 8, load<u16>(DIGIT_PAIRS + (<usize>a << 1)));
    store<u16>(end - 6, load<u16>(DIGIT_PAIRS + (<usize>b << 1)));
    store<u16>(end - 4, load<u16>(DIGIT_PAIRS + (<usize>c << 1)));
    store<u16>(end - 2, load<u16>(DIGIT_PAIRS + (<usize>d << 1)));
    end -= 8;
    v = q;
  }
  writeDigits32(end, <u32>v);
}

/** Writes `v` in decimal at `ptr`; returns the byte count (1..10). */
// @ts-ignore: decorator
@inline export function writeU32(ptr: usize, v: u32): i32 {
  const len = decimalLength32(v);
  writeDigits32(ptr + <usize>len, v);
  return len;
}

/** Writes `v` in decimal at `ptr`; returns the byte count (1..20). */
// @ts-ignore: decorator
@inline export function writeU64(ptr: usize, v: u64): i32 {
  // writeU32's body, not a call to it: the call changes how binaryen allocates writeFloat's
  // locals (one more local.tee in its fast path of the release build).
  if (v <= 0xFFFFFFFF) {
    const len32 = decimalLength32(<u32>v);
    writeDigits32(ptr + <usize>len32, <u32>v);
    return len32;
  }
  const len = decimalLength64(v);
  writeDigits64(ptr + <usize>len, v);
  return len;
}

/**
 * Writes the signed `v` (i32 or i64: `T`) in decimal at `ptr`, with a leading '-' if negative;
 * returns the byte count. Compiled once per type and inlined (no cost over two copies).
 */
// @ts-ignore: decorator
@inline function writeSigned<T>(ptr: usize, v: T): i32 {
  if (v < 0) {
    store<u8>(ptr, 0x2D); // '-'
    // 0 - v wraps for MIN_VALUE to 2^(bits - 1), which is exactly its magnitude unsigned.
    if (sizeof<T>() == 8) return 1 + writeU64(ptr + 1, <u64>(0 - v));
    return 1 + writeU32(ptr + 1, <u32>(0 - v));
  }
  if (sizeof<T>() == 8) return writeU64(ptr, <u64>v);
  return writeU32(ptr, <u32>v);
}

/** Writes `v` in decimal at `ptr` (with a leading '-' if negative); returns the byte count (1..20). */
// @ts-ignore: decorator
@inline export function writeI64(ptr: usize, v: i64): i32 {
  return writeSigned<i64>(ptr, v);
}

/** Writes `v` in decimal at `ptr` (with a leading '-' if negative); returns the byte count (1..11). */
// @ts-ignore: decorator
@inline export function writeI32(ptr: usize, v: i32): i32 {
  return writeSigned<i32>(ptr, v);
}
