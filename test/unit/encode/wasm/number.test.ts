// biome-ignore-all lint/correctness/noPrecisionLoss: literals beyond a double's precision are what these cases test
// WASM number formatting (assembly/number/) must produce exactly the bytes of JS `String(x)`
// (with -0 written as "-0", the encoder's convention) and of BigInt#toString for integers.
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildNumberTestExports, type NumberTestExports } from '../../../helpers/wasm-build.js';

/** What the encoder writes for a finite double. */
const expected = (x: number): string => (Object.is(x, -0) ? '-0' : String(x));

const F64_MAX_CHARS = 25;

function makeFormatters(ex: NumberTestExports) {
  const scratch = ex.scratch();
  const read = (len: number) => Buffer.from(ex.memory.buffer, scratch, len).toString('latin1');
  return {
    f64: (x: number) => read(ex.formatF64(x)),
    i64: (x: bigint) => read(ex.formatI64(x)),
    u64: (x: bigint) => read(ex.formatU64(x)),
    /** Formats x after filling the scratch region with 0xAA; also returns whether bytes past the end were touched. */
    f64Guarded: (x: number) => {
      const bytes = new Uint8Array(ex.memory.buffer, scratch, 64);
      bytes.fill(0xaa);
      const len = ex.formatF64(x);
      const clobbered = bytes.subarray(len).some((b) => b !== 0xaa);
      return { text: read(len), len, clobbered };
    },
  };
}

const f64FromBits = (() => {
  const f = new Float64Array(1);
  const b = new BigUint64Array(f.buffer);
  return (bits: bigint) => {
    b[0] = BigInt.asUintN(64, bits);
    return f[0]!;
  };
})();

function fixedCases(): number[] {
  const xs = [
    0, -0, 1, -1, 0.1, 0.2 + 0.1, 1 / 3, 123456789012345680000, 1e21, 1e-7, 1.5e-7, 1e-6, 5e-324,
    2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308, 9007199254740993, 4.35, 0.3,
    63.414885615, 1e20, 1e-5, 0.000001234, 1.234e-7, 123e-20, 1e22, 1e23, 9.999999999999999e22,
    2 ** 53, 2 ** 53 - 1, 2 ** 53 + 2, 2 ** 63, 2 ** 64, 4294967295, 4294967296, 0.5, 100, 1234567.125,
    -1.7976931348623157e308, -5e-324, 1.0000000000000002, 0.9999999999999999, 2 ** -1074 * 3,
    Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, Number.EPSILON, Math.PI, Math.E, 12345678901234567890,
    999999999999999900000, 999999999999999999999, 0.000001, 0.0000001, 1e300 * 10, 299792458, 6.02214076e23,
  ];
  for (let k = -323; k <= 308; k++) xs.push(Number(`1e${k}`), -Number(`1e${k}`));
  for (let k = -1074; k <= 1023; k++) xs.push(2 ** k, -(2 ** k), 2 ** k * 3);
  // Neighbours of powers of two/ten (interval-boundary cases for the shortest-digit search).
  for (let k = -1074; k <= 1023; k += 7) {
    const bits = new BigUint64Array(new Float64Array([2 ** k]).buffer)[0]!;
    xs.push(f64FromBits(bits + 1n), f64FromBits(bits - 1n));
  }
  return xs.filter((x) => Number.isFinite(x));
}

describe.each([
  { name: 'release (-O3 --noAssert)', debug: false },
  { name: 'debug (assertions on)', debug: true },
])('wasm number formatting: $name', ({ debug }) => {
  let ex: NumberTestExports;
  let fmt: ReturnType<typeof makeFormatters>;

  beforeAll(async () => {
    ex = await buildNumberTestExports({ debug });
    fmt = makeFormatters(ex);
  }, 120_000);

  it('formats the fixed f64 cases exactly like String(x) (-0 -> "-0")', () => {
    const named: Array<[number, string]> = [
      [0, '0'],
      [-0, '-0'],
      [1, '1'],
      [-1, '-1'],
      [0.1, '0.1'],
      [0.2 + 0.1, '0.30000000000000004'],
      [1 / 3, '0.3333333333333333'],
      [123456789012345680000, '123456789012345680000'],
      [1e21, '1e+21'],
      [1e20, '100000000000000000000'],
      [1e-7, '1e-7'],
      [1.5e-7, '1.5e-7'],
      [1e-6, '0.000001'],
      [5e-324, '5e-324'],
      [2.2250738585072014e-308, '2.2250738585072014e-308'],
      [2.225073858507201e-308, '2.225073858507201e-308'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
          [9007199254740993, '9007199254740992'],
      [4.35, '4.35'],
      [0.3, '0.3'],
      [63.414885615, '63.414885615'],
    ];
    for (const [x, s] of named) expect(fmt.f64(x), `x = ${s}`).toBe(s);

    const bad: string[] = [];
    for (const x of fixedCases()) {
      const { text, len, clobbered } = fmt.f64Guarded(x);
      if (text !== expected(x) || len > F64_MAX_CHARS || clobbered) {
        bad.push(`${expected(x)} -> ${JSON.stringify(text)} (len ${len}${clobbered ? ', wrote past end' : ''})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('writes NaN / Infinity like String(x) instead of trapping (they never reach the encoder)', () => {
    expect(fmt.f64(NaN)).toBe('NaN');
    expect(fmt.f64(f64FromBits(0xfff8000000000001n))).toBe('NaN');
    expect(fmt.f64(Infinity)).toBe('Infinity');
    expect(fmt.f64(-Infinity)).toBe('-Infinity');
  });

  it('property: random bit patterns format like String(x)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (bits) => {
        const x = f64FromBits(bits);
        fc.pre(Number.isFinite(x));
        const { text, clobbered } = fmt.f64Guarded(x);
        return text === expected(x) && !clobbered;
      }),
      { numRuns: debug ? 20_000 : 100_000 },
    );
  });

  it('property: fc.double() values format like String(x)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => fmt.f64(x) === expected(x)),
      { numRuns: debug ? 20_000 : 100_000 },
    );
  });

  it('property: short decimals (toFixed 0..12 in 0..100, scaled by powers of ten) format like String(x)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: -30, max: 30 }),
        fc.boolean(),
        (v, digits, scale, neg) => {
          const base = Number(v.toFixed(digits));
          const x = (neg ? -1 : 1) * Number(`${base}e${scale}`);
          return fmt.f64(base) === expected(base) && fmt.f64(x) === expected(x);
        },
      ),
      { numRuns: debug ? 20_000 : 100_000 },
    );
    // The perf-workload shape: 9 decimals in 0..100 (e.g. 63.414885615).
    const bad: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const x = Number((Math.random() * 100).toFixed(9));
      if (fmt.f64(x) !== expected(x)) bad.push(expected(x));
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('i64: boundaries and random values match BigInt#toString', () => {
    const edges = [0n, 1n, -1n, 9n, 10n, 99n, 100n, 101n, -10n, 2n ** 31n - 1n, -(2n ** 31n), 2n ** 32n - 1n, 2n ** 32n,
      -(2n ** 32n), 2n ** 53n, 99999999n, 100000000n, 999999999999999999n, 1000000000000000000n,
      2n ** 63n - 1n, -(2n ** 63n), -(2n ** 63n) + 1n];
    for (let d = 1n; d < 10n ** 19n; d *= 10n) edges.push(d, d - 1n, -d, -(d - 1n));
    for (const v of edges) expect(fmt.i64(v), v.toString()).toBe(v.toString());
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => fmt.i64(v) === v.toString()),
      { numRuns: debug ? 20_000 : 100_000 },
    );
    // Small magnitudes too (the 32-bit fast path).
    fc.assert(fc.property(fc.integer(), (v) => fmt.i64(BigInt(v)) === String(v)), { numRuns: 20_000 });
  });

  it('u64: boundaries and random values match BigInt#toString', () => {
    const edges = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 63n, 2n ** 64n - 1n, 10n ** 19n, 10n ** 19n - 1n];
    for (const v of edges) expect(fmt.u64(v), v.toString()).toBe(v.toString());
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (v) => fmt.u64(v) === v.toString()),
      { numRuns: debug ? 20_000 : 100_000 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Bulk check: >= 10,000,000 doubles through one formatMany call per chunk.
// ---------------------------------------------------------------------------------------------

/** sfc32 seeded via splitmix32 (fast, deterministic: replay a failure with WASM_NUMBER_SEED=<seed>). */
function rng(seed: number) {
  let z = seed | 0;
  const splitmix32 = () => {
    z = (z + 0x9e3779b9) | 0;
    let t = z ^ (z >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
  let a = splitmix32();
  let b = splitmix32();
  let c = splitmix32();
  let d = splitmix32();
  const u32 = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) u32();
  return { u32, int: (n: number) => Math.floor((u32() / 2 ** 32) * n) };
}

describe('wasm number formatting: bulk check against String(x)', () => {
  const TOTAL = 10_000_000;
  const CHUNK = 500_000;
  let ex: NumberTestExports;

  beforeAll(async () => {
    ex = await buildNumberTestExports();
  }, 120_000);

  it(`formats ${TOTAL.toLocaleString('en-US')} random doubles (half random bits, half short decimals) exactly`, () => {
    const seed = Number(process.env.WASM_NUMBER_SEED ?? Date.now() % 2 ** 31);
    const r = rng(seed);
    const inPtr = ex.alloc(CHUNK * 8);
    const outPtr = ex.alloc(CHUNK * 26);
    const values = new Float64Array(CHUNK);
    const words = new Uint32Array(values.buffer);
    const digitChars = '0123456789';
    const mismatches: string[] = [];
    let checked = 0;
    let tWasm = 0;
    const t0 = performance.now();

    for (let done = 0; done < TOTAL; done += CHUNK) {
      const decimals = done >= TOTAL / 2;
      if (!decimals) {
        // Random bit patterns (uniform over the whole exponent range), NaN/Inf redrawn.
        for (let i = 0; i < CHUNK; i++) {
          do {
            words[2 * i] = r.u32();
            words[2 * i + 1] = r.u32();
          } while (!Number.isFinite(values[i]!));
        }
      } else {
        // Decimals with 1..17 significant digits, exponents across the whole double range
        // (parsing the string gives the double nearest to that short decimal).
        for (let i = 0; i < CHUNK; i++) {
          let x: number;
          do {
            const k = 1 + r.int(17);
            let s = digitChars[1 + r.int(9)]!;
            for (let j = 1; j < k; j++) s += digitChars[r.int(10)]!;
            const e10 = -324 + r.int(633) - (k - 1); // value ~ 10^(-324 .. 308)
            x = Number(`${r.int(2) ? '-' : ''}${s}e${e10}`);
          } while (!Number.isFinite(x));
          values[i] = x;
        }
      }
      const tw = performance.now();
      new Float64Array(ex.memory.buffer, inPtr, CHUNK).set(values);
      const len = ex.formatMany(inPtr, CHUNK, outPtr);
      tWasm += performance.now() - tw;
      const lines = Buffer.from(ex.memory.buffer, outPtr, len).toString('latin1').split('\n');
      if (lines.length !== CHUNK + 1) throw new Error(`expected ${CHUNK + 1} lines, got ${lines.length}`);
      for (let i = 0; i < CHUNK; i++) {
        const x = values[i]!;
        const want = Object.is(x, -0) ? '-0' : String(x);
        if (lines[i] !== want && mismatches.length < 20) mismatches.push(`${want} -> ${lines[i]}`);
      }
      checked += CHUNK;
    }
    const elapsed = performance.now() - t0;
    console.log(
      `[wasm-number] bulk: ${checked.toLocaleString('en-US')} doubles checked in ${(elapsed / 1000).toFixed(1)} s ` +
        `(wasm formatMany incl. copy-in: ${((tWasm * 1e6) / checked).toFixed(1)} ns/double), seed ${seed}`,
    );
    expect(checked).toBeGreaterThanOrEqual(10_000_000);
    expect(mismatches, `seed ${seed}`).toEqual([]);
  }, 120_000);

  it('formats 1,000,000 random i64 exactly (formatManyI64)', () => {
    const N = 1_000_000;
    const r = rng(Number(process.env.WASM_NUMBER_SEED ?? 12345));
    const inPtr = ex.alloc(N * 8);
    const outPtr = ex.alloc(N * 21);
    const words = new Uint32Array(N * 2);
    for (let i = 0; i < N; i++) {
      // Mix magnitudes: shift the random 64-bit pattern right by 0..63 bits.
      words[2 * i] = r.u32();
      words[2 * i + 1] = r.u32();
    }
    const ints = new BigInt64Array(words.buffer);
    for (let i = 0; i < N; i++) ints[i] = BigInt.asIntN(64, ints[i]! >> BigInt(r.int(64)));
    new BigInt64Array(ex.memory.buffer, inPtr, N).set(ints);
    const len = ex.formatManyI64(inPtr, N, outPtr);
    const lines = Buffer.from(ex.memory.buffer, outPtr, len).toString('latin1').split('\n');
    const bad: string[] = [];
    for (let i = 0; i < N; i++) if (lines[i] !== ints[i]!.toString() && bad.length < 10) bad.push(ints[i]!.toString());
    expect(bad).toEqual([]);
  });
});
