// f64 -> ASCII exactly like ECMAScript Number::toString(x) (= JS `String(x)`), written straight
// into linear memory, except that negative zero is written as "-0" (the line-protocol encoder's
// convention; JS would print "0").
//
// Digits: Ryu (Ulf Adams, "Ryū: fast float-to-string conversion", PLDI 2018), a port of the
// reference d2s.c (portable 64-bit variant, 125-bit multiplier tables from ryu-tables.ts). Ryu
// yields the shortest digit string d1..dk (as the integer `output`) and exponent `exp` with
// output * 10^exp round-tripping to x; among shortest candidates it takes the one closest to x, and
// on an exact tie the even one -- precisely the choice ECMAScript's Number::toString prescribes
// (the std library's Grisu2 `dtoa` is not always shortest and is deliberately not used).
//
// Layout (ECMA-262 Number::toString, with n = exp + k the decimal-point position):
//   k <= n <= 21   digits followed by n - k zeros          123, 100000000000000000000
//   0 <  n <= 21   d1..dn '.' dn+1..dk                      1.5, 63.414885615
//  -6 <  n <= 0    "0." (-n zeros) digits                   0.000001, 0.1
//   otherwise      d1 ['.' d2..dk] 'e' ('+'|'-') |n - 1|    1e+21, 1e-7, 1.5e-7, 5e-324
//
// NaN and +-Infinity never reach the encoder (rejected earlier); should one arrive anyway it is
// written as JS would write it ("NaN", "Infinity", "-Infinity") -- no trap, no garbage.
//
// Buffer contract: at most 25 bytes are written ("-0.0000012345678901234567" is the longest),
// and no byte at or beyond ptr + 25 is touched.
//
// One file of about 440 lines: one algorithm (d2s, then the ES layout), whose steps share the
// decimal digits and exponent it computes.

import {
  DOUBLE_POW5_INV_SPLIT,
  DOUBLE_POW5_SPLIT,
  DOUBLE_POW5_INV_TABLE_SIZE,
  DOUBLE_POW5_TABLE_SIZE,
} from "./ryu-tables";
import { DIGIT_PAIRS, POW10 } from "./digit-tables";
import { decimalLength64, writeDigits64, writeU64 } from "./digits";

/** Maximum number of bytes `writeF64` writes. */
export const F64_MAX_CHARS: i32 = 25;

/** High 64 bits of the 128-bit product a * b. */
// @ts-ignore: decorator
@inline function umulh(a: u64, b: u64): u64 {
  const aLo = a & 0xFFFFFFFF;
  const aHi = a >> 32;
  const bLo = b & 0xFFFFFFFF;
  const bHi = b >> 32;
  const b00 = aLo * bLo;
  const b01 = aLo * bHi;
  const b10 = aHi * bLo;
  const b11 = aHi * bHi;
  const mid1 = b10 + (b00 >> 32); // no overflow: (2^32-1)^2 + (2^32-1) < 2^64
  const mid2 = b01 + (mid1 & 0xFFFFFFFF); // same
  return b11 + (mid1 >> 32) + (mid2 >> 32);
}

/** Bits 64+dist .. 127+dist of the 128-bit value hi:lo, i.e. (hi:lo) >> dist truncated to 64 bits. */
// @ts-ignore: decorator
@inline function shiftRight128(lo: u64, hi: u64, dist: i32): u64 {
  // 0 < dist < 64 always holds here: gen-tables.mjs asserts dist in [53, 61] for every exponent.
  return (hi << <u64>(64 - dist)) | (lo >> <u64>dist);
}

/** ceil(log2(5^e)) for 1 <= e <= 3528, and 1 for e = 0. */
// @ts-ignore: decorator
@inline function pow5bits(e: i32): i32 {
  return <i32>(<u32>(e * 1217359) >> 19) + 1;
}

/** floor(log10(2^e)) for 0 <= e <= 1650. */
// @ts-ignore: decorator
@inline function log10Pow2(e: i32): i32 {
  return <i32>(<u32>(e * 78913) >> 18);
}

/** floor(log10(5^e)) for 0 <= e <= 2620. */
// @ts-ignore: decorator
@inline function log10Pow5(e: i32): i32 {
  return <i32>(<u32>(e * 732923) >> 20);
}

/** Largest p with 5^p | value (value > 0). */
function pow5Factor(value: u64): i32 {
  let count = 0;
  for (;;) {
    const q = value / 5;
    if (value - q * 5 != 0) break;
    value = q;
    ++count;
  }
  return count;
}

// @ts-ignore: decorator
@inline function multipleOfPowerOf5(value: u64, p: i32): bool {
  return pow5Factor(value) >= p;
}

// @ts-ignore: decorator
@inline function multipleOfPowerOf2(value: u64, p: i32): bool {
  // p < 63 at every call site.
  return (value & ((<u64>1 << <u64>p) - 1)) == 0;
}

/** "NaN" / "Infinity" / "-Infinity" (never expected; keeps stray input harmless). */
function writeNonFinite(ptr: usize, bits: u64): i32 {
  if ((bits << 12) != 0) {
    store<u16>(ptr, 0x614E); // "Na"
    store<u8>(ptr, 0x4E, 2); // "N"
    return 3;
  }
  let p = ptr;
  if (<i64>bits < 0) {
    store<u8>(p, 0x2D);
    p++;
  }
  store<u64>(p, 0x74696E69666E49); // "Infinit" (little endian, 7 bytes + a 0 byte we overwrite)
  store<u8>(p, 0x79, 7); // "y"
  return <i32>(p + 8 - ptr);
}

/**
 * Writes `x` at `ptr` exactly as JS `String(x)` would (but "-0" for negative zero).
 * Returns the number of bytes written (1..25). Never allocates.
 */
export function writeF64(ptr: usize, x: f64): i32 {
  const bits = reinterpret<u64>(x);
  const ieeeMantissa = bits & 0x000FFFFFFFFFFFFF;
  const ieeeExponent = <i32>(bits >> 52) & 0x7FF;
  if (ieeeExponent == 0x7FF) return writeNonFinite(ptr, bits);

  let p = ptr;
  if (<i64>bits < 0) {
    store<u8>(p, 0x2D); // '-' (also for -0, see header)
    p++;
  }
  if (ieeeExponent == 0 && ieeeMantissa == 0) {
    store<u8>(p, 0x30); // '0'
    return <i32>(p + 1 - ptr);
  }

  // Fast path: integers in [1, 2^53) print as themselves (their shortest form is the exact integer,
  // and ES prints integers below 1e21 without exponent).
  {
    const e2i = ieeeExponent - 1075;
    if (<u32>(e2i + 52) <= 52) {
      const m = ieeeMantissa | (<u64>1 << 52);
      const s = <u64>(-e2i);
      const iv = m >> s;
      if ((iv << s) == m) return <i32>(p - ptr) + writeU64(p, iv);
    }
  }

  // ---- Ryu d2d: step 1, decode into m2 * 2^e2 (with 2 extra bits for the interval bounds) ----
  let e2: i32;
  let m2: u64;
  if (ieeeExponent == 0) {
    e2 = 1 - 1023 - 52 - 2;
    m2 = ieeeMantissa;
  } else {
    e2 = ieeeExponent - 1023 - 52 - 2;
    m2 = ieeeMantissa | (<u64>1 << 52);
  }
  const acceptBounds = (m2 & 1) == 0;

  // Step 2: interval of valid representations: mm = mv - 1 - mmShift < mv = 4 m2 < mp = mv + 2.
  const mv = m2 << 2;
  const mmShift = <u32>(ieeeMantissa != 0 || ieeeExponent <= 1);

  // Step 3: convert to a decimal power base with the 128-bit multipliers.
  let e10: i32;
  let q: i32;
  let mul: usize;
  let j: i32;
  if (e2 >= 0) {
    q = log10Pow2(e2) - <i32>(e2 > 3);
    e10 = q;
    const k = 125 + pow5bits(q) - 1; // DOUBLE_POW5_INV_BITCOUNT + pow5bits(q) - 1
    j = -e2 + q + k;
    mul = DOUBLE_POW5_INV_SPLIT + (<usize>q << 4);
  } else {
    q = log10Pow5(-e2) - <i32>(-e2 > 1);
    e10 = q + e2;
    const i = -e2 - q;
    const k = pow5bits(i) - 125; // pow5bits(i) - DOUBLE_POW5_BITCOUNT
    j = q - k;
    mul = DOUBLE_POW5_SPLIT + (<usize>i << 4);
  }

  // mulShiftAll64: vr = (4m2 * mul) >> j, vp = ((4m2 + 2) * mul) >> j, vm = ((4m2 - 1 - mmShift) * mul) >> j,
  // computed from the single 192-bit product P = (2 m2) * mul (words lo:mid:hi).
  // Debug builds check the ranges gen-tables.mjs proves (compiled out with --noAssert).
  assert(j - 64 - 1 >= 1 && j - 64 <= 63, "ryu: shift distance out of range");
  assert(e2 >= 0 ? q < DOUBLE_POW5_INV_TABLE_SIZE : -e2 - q < DOUBLE_POW5_TABLE_SIZE, "ryu: table index out of range");
  const mulLo = load<u64>(mul);
  const mulHi = load<u64>(mul, 8);
  const m = m2 << 1; // < 2^54
  const lo = m * mulLo;
  const t0 = umulh(m, mulLo);
  const t1 = m * mulHi;
  let hi = umulh(m, mulHi);
  const mid = t0 + t1;
  hi += <u64>(mid < t0);

  let vr = shiftRight128(mid, hi, j - 64 - 1);
  let vp: u64;
  let vm: u64;
  {
    // P + mul
    const lo2 = lo + mulLo;
    const c2 = mulHi + <u64>(lo2 < lo); // mulHi < 2^61: cannot wrap
    const mid2 = mid + c2;
    const hi2 = hi + <u64>(mid2 < mid);
    vp = shiftRight128(mid2, hi2, j - 64 - 1);
  }
  if (mmShift == 1) {
    // P - mul = (4m2 - 2) * mul / 2
    const lo3 = lo - mulLo;
    const b3 = mulHi + <u64>(lo3 > lo);
    const mid3 = mid - b3;
    const hi3 = hi - <u64>(mid < b3);
    vm = shiftRight128(mid3, hi3, j - 64 - 1);
  } else {
    // 2P - mul = (4m2 - 1) * mul
    const lo3 = lo << 1;
    const mid3 = (mid << 1) | (lo >> 63);
    const hi3 = (hi << 1) | (mid >> 63);
    const lo4 = lo3 - mulLo;
    const b4 = mulHi + <u64>(lo4 > lo3);
    const mid4 = mid3 - b4;
    const hi4 = hi3 - <u64>(mid3 < b4);
    vm = shiftRight128(mid4, hi4, j - 64);
  }

  // Is the exact value of vr / vm (before truncation) free of a fractional part?
  let vmIsTrailingZeros = false;
  let vrIsTrailingZeros = false;
  if (e2 >= 0) {
    if (q <= 21) {
      // Only one of mp, mv, and mm can be a multiple of 5, if any.
      if (mv % 5 == 0) {
        vrIsTrailingZeros = multipleOfPowerOf5(mv, q);
      } else if (acceptBounds) {
        vmIsTrailingZeros = multipleOfPowerOf5(mv - 1 - <u64>mmShift, q);
      } else {
        vp -= <u64>multipleOfPowerOf5(mv + 2, q);
      }
    }
  } else {
    if (q <= 1) {
      // mv = 4 m2 has at least 2 trailing zero bits.
      vrIsTrailingZeros = true;
      if (acceptBounds) {
        // mm = mv - 1 - mmShift has 1 trailing zero bit iff mmShift == 1.
        vmIsTrailingZeros = mmShift == 1;
      } else {
        // mp = mv + 2 always has at least one trailing zero bit.
        --vp;
      }
    } else if (q < 63) {
      vrIsTrailingZeros = multipleOfPowerOf2(mv, q);
    }
  }

  // Step 4: find the shortest representation in the interval, correctly rounded.
  let removed: i32 = 0;
  let output: u64;
  if (vmIsTrailingZeros || vrIsTrailingZeros) {
    // General case (~0.7%): track exactness to implement round-half-even and inclusive bounds.
    let lastRemovedDigit: u32 = 0;
    for (;;) {
      const vpDiv10 = vp / 10;
      const vmDiv10 = vm / 10;
      if (vpDiv10 <= vmDiv10) break;
      const vmMod10 = <u32>(vm - vmDiv10 * 10);
      const vrDiv10 = vr / 10;
      const vrMod10 = <u32>(vr - vrDiv10 * 10);
      vmIsTrailingZeros &= vmMod10 == 0;
      vrIsTrailingZeros &= lastRemovedDigit == 0;
      lastRemovedDigit = vrMod10;
      vr = vrDiv10;
      vp = vpDiv10;
      vm = vmDiv10;
      ++removed;
    }
    if (vmIsTrailingZeros) {
      for (;;) {
        const vmDiv10 = vm / 10;
        const vmMod10 = <u32>(vm - vmDiv10 * 10);
        if (vmMod10 != 0) break;
        const vpDiv10 = vp / 10;
        const vrDiv10 = vr / 10;
        const vrMod10 = <u32>(vr - vrDiv10 * 10);
        vrIsTrailingZeros &= lastRemovedDigit == 0;
        lastRemovedDigit = vrMod10;
        vr = vrDiv10;
        vp = vpDiv10;
        vm = vmDiv10;
        ++removed;
      }
    }
    if (vrIsTrailingZeros && lastRemovedDigit == 5 && (vr & 1) == 0) {
      // Exactly halfway: round to even.
      lastRemovedDigit = 4;
    }
    // Take vr + 1 if vr is outside the bounds or we need to round up.
    output = vr + <u64>((vr == vm && (!acceptBounds || !vmIsTrailingZeros)) || lastRemovedDigit >= 5);
    // Defensive (Ryu's output has no trailing zeros here, but ES layout relies on it).
    while (output > 9 && output % 10 == 0) {
      output /= 10;
      ++removed;
    }
  } else {
    // Common case (~99.3%): the exact value is not at a tie, so only the last removed digit matters.
    // The number r of removable digits is the largest r with floor(vp / 10^r) > floor(vm / 10^r);
    // that predicate is monotone in r, so find r greedily in steps of 8, 4, 2, 1 instead of one
    // digit at a time (fewer 64-bit divisions; vr is divided once at the end). The steps stay
    // unrolled, each with its constant divisor (which the engine turns into a multiplication): a
    // loop or a helper taking the divisor would divide for real.
    let vpCur = vp;
    let vmCur = vm;
    {
      const vpD = vpCur / 100000000;
      const vmD = vmCur / 100000000;
      if (vpD > vmD) {
        vpCur = vpD;
        vmCur = vmD;
        removed = 8;
        // Up to 19 digits may go: try another 8.
        const vpD2 = vpCur / 100000000;
        const vmD2 = vmCur / 100000000;
        if (vpD2 > vmD2) {
          vpCur = vpD2;
          vmCur = vmD2;
          removed = 16;
        }
      }
    }
    {
      const vpD = vpCur / 10000;
      const vmD = vmCur / 10000;
      if (vpD > vmD) {
        vpCur = vpD;
        vmCur = vmD;
        removed += 4;
      }
    }
    {
      const vpD = vpCur / 100;
      const vmD = vmCur / 100;
      if (vpD > vmD) {
        vpCur = vpD;
        vmCur = vmD;
        removed += 2;
      }
    }
    {
      const vpD = vpCur / 10;
      const vmD = vmCur / 10;
      if (vpD > vmD) {
        vmCur = vmD;
        removed += 1;
      }
    }
    assert(removed <= 19, "ryu: removed too many digits");
    let roundUp = false;
    if (removed > 0) {
      const pow = load<u64>(POW10 + (<usize>removed << 3));
      const vrDiv = vr / pow;
      const rem = vr - vrDiv * pow;
      // last removed digit >= 5  <=>  rem >= 5 * 10^(removed - 1)  (= pow / 2)
      roundUp = rem >= (pow >> 1);
      vr = vrDiv;
    }
    vm = vmCur;
    // Take vr + 1 if vr is outside the bounds (vr == vm and mm excluded) or we need to round up.
    output = vr + <u64>(vr == vm || roundUp);
  }
  const exp = e10 + removed;

  // ---- ECMAScript layout ----
  const olength = decimalLength64(output); // 1..17
  assert(olength >= 1 && olength <= 17 && output % 10 != 0, "ryu: bad digit string");
  const n = exp + olength; // position of the decimal point relative to the first digit
  if (n <= 21 && n >= olength) {
    // Integer without exponent: digits then n - olength zeros.
    writeDigits64(p + <usize>olength, output);
    const end = p + <usize>n;
    for (let z = p + <usize>olength; z < end; z++) store<u8>(z, 0x30);
    return <i32>(end - ptr);
  }
  if (n <= 21 && n > 0) {
    // d1..dn '.' rest: write all digits one byte to the right, then move the integer part back left.
    writeDigits64(p + 1 + <usize>olength, output);
    for (let i: usize = 0; i < <usize>n; i++) store<u8>(p + i, load<u8>(p + i + 1));
    store<u8>(p + <usize>n, 0x2E); // '.'
    return <i32>(p + 1 + <usize>olength - ptr);
  }
  if (n <= 0 && n > -6) {
    // "0." then -n zeros then the digits.
    store<u16>(p, 0x2E30); // "0."
    const z0 = p + 2;
    const zEnd = z0 + <usize>(-n);
    for (let z = z0; z < zEnd; z++) store<u8>(z, 0x30);
    const end = zEnd + <usize>olength;
    writeDigits64(end, output);
    return <i32>(end - ptr);
  }
  // Exponential form.
  let e = n - 1;
  if (olength == 1) {
    store<u8>(p, <u8>(0x30 + <u32>output));
    p += 1;
  } else {
    writeDigits64(p + 1 + <usize>olength, output);
    store<u8>(p, load<u8>(p, 1));
    store<u8>(p, 0x2E, 1); // '.'
    p += 1 + <usize>olength;
  }
  if (e < 0) {
    store<u16>(p, 0x2D65); // "e-"
    e = -e;
  } else {
    store<u16>(p, 0x2B65); // "e+"
  }
  p += 2;
  // 1 <= |e| <= 324 here (|e| = 0 would have taken a branch above).
  if (e >= 100) {
    const h = e / 100;
    store<u8>(p, <u8>(0x30 + h));
    store<u16>(p + 1, load<u16>(DIGIT_PAIRS + (<usize>(e - h * 100) << 1)));
    p += 3;
  } else if (e >= 10) {
    store<u16>(p, load<u16>(DIGIT_PAIRS + (<usize>e << 1)));
    p += 2;
  } else {
    store<u8>(p, <u8>(0x30 + e));
    p += 1;
  }
  return <i32>(p - ptr);
}
