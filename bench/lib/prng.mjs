/**
 * The one seeded PRNG of the benchmarks and the tests: mulberry32 (small, fast, good enough for
 * benchmark data and random test cases). `prng(seed)` returns a function giving floats in [0, 1).
 * Typed for the tests by prng.d.mts.
 */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
