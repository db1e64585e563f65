// Floats as line protocol writes them: exactly `String(x)`, but `-0` for negative zero.
//
// writeFloat is writeFloat of src/encode/columnar/value-writers.ts, step for step, so that both
// take the same path for every double: the integer path for |x| < 2^31, a fast path for
// 1e-5 <= |x| < 1e15 with at most 15 significant digits, and the general (Ryu) writer of
// ./number for the rest. See the TypeScript version for why the fast path is exact: with
// 10^(e-1) <= |x| < 10^e and K = 15 - e, m = round(|x| * 10^K) is the only integer whose
// m / 10^K reads back as |x|, and when it does, m without its trailing zeros is the shortest
// round-trip digit string -- what String(x) prints. On this workload (floats with 9 decimals)
// it is about three times faster than Ryu's 128-bit multiplications, which wasm has to do in
// 32-bit pieces.

import { writeF64, writeI32, writeU64, decimalLength64, writeDigits64 } from "./number/index";
import { digits8 } from "./swar";

/** 10^0 .. 10^22 as doubles (all exact). */
// @ts-ignore: decorator
@lazy const POW10F: usize = memory.data<f64>([
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]);

// @ts-ignore: decorator
@inline function pow10f(k: i32): f64 {
  return load<f64>(POW10F + (<usize>k << 3));
}

/** "00000000" as a little-endian u64. */
// @ts-ignore: decorator
@inline const ZEROS8: u64 = 0x3030303030303030;

/**
 * Writes the finite double `v` at `dst` as `String(v)` (`-0` for negative zero) and returns the
 * byte count. May write up to 24 bytes past the returned end (scratch only; the caller keeps
 * LINE_SLACK bytes of room), never more than 48 bytes from `dst` in all.
 */
export function writeFloat(dst: usize, v: f64): i32 {
  if (v == 0) {
    if (reinterpret<i64>(v) < 0) {
      store<u16>(dst, 0x302D); // "-0"
      return 2;
    }
    store<u8>(dst, 0x30);
    return 1;
  }
  // Integers of int32 range print as their digits.
  if (v > -2147483648.0 && v < 2147483648.0) {
    const iv = <i32>v;
    if (<f64>iv == v) return writeI32(dst, iv);
  }
  const a = Math.abs(v);
  if (a >= 1 && a < 1e15) {
    // e: the number of integer digits. floor(log10(a)) is t or t + 1 for t = floor(log10(2^b)),
    // 2^b <= a < 2^(b+1): one comparison gives the e the TypeScript loop finds (10^(e-1) <= a < 10^e).
    const b = <i32>(reinterpret<u64>(a) >> 52) - 1023;
    const t = (b * 1233) >> 12;
    const e = t + 1 + <i32>(a >= pow10f(t + 1));
    const K = 15 - e;
    const p = pow10f(K);
    // Ties cannot pass the check below (the true a * 10^K is within 1/16 of the product, and only
    // an integer within 1/8 of it can read back), so the rounding direction of ties is moot.
    const m = nearest<f64>(a * p);
    if (m / p == a) {
      let q = dst;
      if (v < 0) {
        store<u8>(q, 0x2D);
        q++;
      }
      // m / 10^K reads back as a, so its integer part is floor(a) (e digits) and the fraction
      // m - floor(a) * 10^K lies in [0, 10^K), all exact in doubles (below 2^50).
      const whole = Math.floor(a);
      const frac = m - whole * p;
      if (frac == 0) return <i32>(q - dst) + writeU64(q, <u64><i64>whole);
      // The fraction as 16 zero-padded digits, in two SWAR words. Its first 16 - K = e + 1
      // characters are padding, which the integer part and the point then overwrite: no byte
      // moves, no loads of what was just stored. frac * 1e-8 (a product: cheaper than a
      // division) is within 2^-32 of the quotient frac / 10^8 < 10^6, whose fractional part is
      // 0 or at least 10^-8: its floor is the quotient's or, for a whole quotient approached from
      // below, one less. The exact remainder (integers below 2^53) tells which. (For every
      // multiple of 10^8 below 10^14 the product happens to be exact; the fix-ups are insurance.)
      let fh = Math.floor(frac * 1e-8);
      let fl = frac - fh * 1e8;
      if (fl >= 1e8) {
        fh += 1;
        fl -= 1e8;
      } else if (fl < 0) {
        fh -= 1;
        fl += 1e8;
      }
      // (Signed conversions: a single instruction; the unsigned ones are not, in V8.)
      const w0 = digits8(<u32><i32>fh);
      const w1 = digits8(<u32><i32>fl);
      store<u64>(q, w0);
      store<u64>(q, w1, 8);
      writeDigits64(q + <usize>e, <u64><i64>whole);
      store<u8>(q + <usize>e, 0x2E);
      // Trailing zeros: the last characters are the high bytes of w1 (then of w0); frac != 0, so
      // fewer than K of them.
      const x1 = w1 ^ ZEROS8;
      const tz = x1 != 0 ? <i32>(clz<u64>(x1) >> 3) : 8 + <i32>(clz<u64>(w0 ^ ZEROS8) >> 3);
      return <i32>(q - dst) + 16 - tz;
    }
  } else if (a >= 1e-5 && a < 1) {
    // e <= 0 zeros after the point: the same rounded products as the TypeScript loop decide e.
    let e: i32 = 0;
    while (e > -4 && a * pow10f(1 - e) < 1) e--;
    const K = 15 - e;
    const p = pow10f(K);
    const m = nearest<f64>(a * p);
    if (m / p == a) {
      let q = dst;
      if (v < 0) {
        store<u8>(q, 0x2D);
        q++;
      }
      const mi = <u64><i64>m;
      const D = decimalLength64(mi);
      let end: usize;
      if (D > K) {
        // (m / 10^K >= 1: cannot read back as a < 1; kept for safety.) Integer part of D - K
        // digits, then the K fraction digits moved one to the right for the point.
        writeDigits64(q + <usize>D, mi);
        const point = q + <usize>(D - K);
        const lo = load<u64>(point);
        const hi = load<u64>(point, 8);
        store<u64>(point, lo, 1);
        store<u64>(point, hi, 9);
        store<u8>(point, 0x2E);
        end = q + <usize>D + 1;
      } else {
        // "0." then K - D zeros (K <= 19), then the D digits.
        store<u16>(q, 0x2E30); // "0."
        store<u64>(q, ZEROS8, 2);
        store<u64>(q, ZEROS8, 10);
        store<u64>(q, ZEROS8, 18);
        end = q + 2 + <usize>K;
        writeDigits64(end, mi);
      }
      // Trailing zeros of the fraction, then a bare point.
      while (load<u8>(end - 1) == 0x30) end--;
      if (load<u8>(end - 1) == 0x2E) end--;
      return <i32>(end - dst);
    }
  }
  return writeF64(dst, v);
}

/** Writes the non-negative integer v < 2^53 (a safe integer's magnitude). */
// @ts-ignore: decorator
@inline export function writeUintDouble(dst: usize, v: f64): i32 {
  return writeU64(dst, <u64><i64>v);
}
