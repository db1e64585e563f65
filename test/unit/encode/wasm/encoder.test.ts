/**
 * The WASM encoder (assembly/ + src/encode/wasm/) against the columnar TypeScript encoder
 * (`encodeLayout` of src/encode/columnar/ts-encoder.ts), which is the reference: for the same
 * layout, options, row ranges and writer, the same bodies (bytes, line counts, cuts under small
 * `maxBodyBytes`), the same first error (message, row, element, key), the same skipped rows and
 * the same writer state when it stops. Both builds: release (-O3, no checks) and debug (asserts).
 *
 * Layouts come two ways: from random Arrow tables through `ArrowLayoutBuilder` (what users
 * write), and built directly (what the contract in layout.ts allows: corrupt dictionary indices,
 * invalid UTF-8, invalid dictionary entries, fallbacks, 64 KB strings, every bitmap shape). Then
 * float formatting over every magnitude, the memory protocol's edge cases (growth, full lists,
 * reuse), and the standard workload. One file of about 770 lines: the arbitraries and the
 * runner of both encoders are shared by its sections.
 */
import { readFileSync } from 'node:fs';
import * as A from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ArrowEncodeOptions } from '../../../../src/encode/arrow/index.js';
import { ErrorCode, FieldKind, type ColumnarLayout, type FieldColumn, type TagColumn } from '../../../../src/encode/columnar/layout.js';
import { ColumnarBodyWriter, encodeLayout, type ColumnarEncodeOptions } from '../../../../src/encode/columnar/ts-encoder.js';
import { MAX_STRING_FIELD_BYTES } from '../../../../src/encode/point-encoder.js';
import { getEncoderModule } from '../../../../src/encode/wasm/module.js';
import * as P from '../../../../src/encode/wasm/protocol.js';
import { encodeLayoutWasm, WasmEncoder } from '../../../../src/encode/wasm/wasm-encoder.js';
import type { FieldType, Precision } from '../../../../src/options/index.js';
import { batchLayouts, buildTable, nsTimes, writeOptionsOf, type RandomTableSpec } from '../../../helpers/arrow-tables.js';
import { makeWorkload, prng, toArrowTable } from '../../../helpers/generators.js';


type EncodeFn = (layout: ColumnarLayout, writer: ColumnarBodyWriter, options: ColumnarEncodeOptions) => void;

const release = new WasmEncoder(getEncoderModule('release'));
const debug = new WasmEncoder(getEncoderModule('debug'));
const kEncoders: readonly (readonly [string, EncodeFn])[] = [
  ['release', (l, w, o) => release.encodeLayout(l, w, o)],
  ['debug', (l, w, o) => debug.encodeLayout(l, w, o)],
];

// ---- running both encoders -------------------------------------------------------------------

/** One call of an encoder: a layout, its rowBase, and a row range of it. */
interface Call {
  layout: ColumnarLayout;
  rowBase: number;
  from: number;
  to: number;
}
interface RunOptions {
  maxBodyBytes: number;
  nonFinite?: 'error' | 'skipField';
  invalidRows?: 'error' | 'skip';
  allowNewlinesInStrings?: boolean;
}
interface Outcome {
  /** The bodies (after an error too: the writer as it was left). */
  bodies: { text: string; bytes: number; lines: number }[];
  lineCount: number;
  skipped: number[];
  error?: { name: string; message: string; pointIndex: number; element: string; key: string | undefined; reason: string };
}

function run(encode: EncodeFn, calls: readonly Call[], o: RunOptions): Outcome {
  const writer = new ColumnarBodyWriter(o.maxBodyBytes);
  const skipped: number[] = [];
  let error: Outcome['error'];
  try {
    for (const c of calls) {
      encode(c.layout, writer, {
        rowBase: c.rowBase, from: c.from, to: c.to, nonFinite: o.nonFinite, invalidRows: o.invalidRows,
        allowNewlinesInStrings: o.allowNewlinesInStrings, skippedRows: skipped,
      });
    }
  } catch (e) {
    const err = e as { name: string; message: string; pointIndex: number; element: string; key: string | undefined; reason: string };
    if (typeof err.pointIndex !== 'number') throw e;
    error = { name: err.name, message: err.message, pointIndex: err.pointIndex, element: err.element, key: err.key, reason: err.reason };
  }
  const lineCount = writer.lineCount;
  // latin1: one character per byte, so invalid UTF-8 compares exactly.
  const bodies = writer.finish().map((b) => ({ text: b.body.toString('latin1'), bytes: b.body.length, lines: b.lines }));
  return { bodies, lineCount, skipped, error };
}

/** Runs the TypeScript encoder and both WASM builds; expects identical outcomes. Returns the reference. */
function expectSameAsTs(calls: readonly Call[], o: RunOptions): Outcome {
  const ts = run(encodeLayout, calls, o);
  for (const [name, encode] of kEncoders) {
    const wasm = run(encode, calls, o);
    if (wasm.error?.message !== ts.error?.message) {
      throw new Error(`${name}: error ${JSON.stringify(wasm.error?.message)}, expected ${JSON.stringify(ts.error?.message)}`);
    }
    expect(wasm.error, name).toEqual(ts.error);
    expect(wasm.skipped, name).toEqual(ts.skipped);
    expect(wasm.lineCount, name).toBe(ts.lineCount);
    expect(wasm.bodies.map((b) => [b.bytes, b.lines]), name).toEqual(ts.bodies.map((b) => [b.bytes, b.lines]));
    for (let k = 0; k < ts.bodies.length; k++) {
      if (wasm.bodies[k]!.text !== ts.bodies[k]!.text) expect(Buffer.from(wasm.bodies[k]!.text, 'latin1').toString(), `${name} body ${k}`).toBe(Buffer.from(ts.bodies[k]!.text, 'latin1').toString());
    }
  }
  return ts;
}

/** Splits [0, rows) into consecutive ranges at the given cut points (as the pool splits layouts). */
function ranges(layout: ColumnarLayout, rowBase: number, cuts: readonly number[]): Call[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < layout.rows))].sort((a, b) => a - b);
  const calls: Call[] = [];
  let prev = 0;
  for (const c of [...points, layout.rows]) {
    calls.push({ layout, rowBase, from: prev, to: c });
    prev = c;
  }
  return calls;
}

// ---- the protocol's twin files ----------------------------------------------------------------

describe('memory protocol', () => {
  it('assembly/protocol.ts and src/encode/wasm/protocol.ts agree, and with layout.ts', () => {
    const text = readFileSync(new URL('../../../../assembly/protocol.ts', import.meta.url), 'utf8');
    const asConsts = Object.fromEntries([...text.matchAll(/export const (\w+): i32 = (-?\d+);/g)].map((m) => [m[1]!, Number(m[2])]));
    const tsConsts = Object.fromEntries(Object.entries(P).filter(([, v]) => typeof v === 'number'));
    expect(Object.keys(asConsts).length).toBeGreaterThan(80);
    expect(tsConsts).toEqual(asConsts);
    for (const [k, v] of Object.entries(FieldKind)) expect(asConsts[`KIND_${k}`], k).toBe(v);
    for (const [k, v] of Object.entries(ErrorCode)) expect(asConsts[`ERR_${k}`], k).toBe(v);
    expect(P.MAX_STRING_BYTES).toBe(MAX_STRING_FIELD_BYTES);
  });

  it('the module reports the protocol version, and an unknown variant is refused', () => {
    const exports = new WebAssembly.Instance(getEncoderModule()).exports as { protocolVersion(): number };
    expect(exports.protocolVersion()).toBe(P.PROTOCOL_VERSION);
    expect(() => getEncoderModule('fast' as never)).toThrow(/unknown WASM encoder variant/);
    expect(getEncoderModule()).toBe(getEncoderModule('release'));
  });
});

// ---- Arrow tables ------------------------------------------------------------------------------

const kHostileChars = [',', ' ', '=', '"', '\\', 'a', 'z', 'é', '€', '😀', '#', '_', '\n', '\r', '\t', '\0'];
const hostile = (maxLength: number) => fc.array(fc.constantFrom(...kHostileChars), { minLength: 1, maxLength }).map((a) => a.join(''));
const nameArb = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom('host', 'region', 'usage_user', 'status', 'a b', 'x,y', 'k=v', 'ü€', 'Z', 'a\\b', '😀', '"q"') },
  { weight: 4, arbitrary: hostile(6) },
  { weight: 1, arbitrary: fc.constantFrom('time', '_field', '_measurement', '', 'end\\') },
).filter((s) => !/^(0|[1-9]\d*)$/.test(s) && s !== '__proto__');
const tagValueArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('host-1', 'us-west-3', 'a b', 'x,y=z', 'ü', '', 'B') },
  { weight: 2, arbitrary: hostile(5) },
);
const stringValueArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('ok', 'degraded', '', 'say "hi"', 'C:\\path\\', '\\', '"', 'ünï€😀', 'abcdefghijklmnopqrstuvwxyz0123456789') },
  { weight: 2, arbitrary: hostile(20) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
);
/** Doubles of every magnitude, and the awkward ones. */
const kAwkwardDoubles = [-0, 0, 1e21, 1e-7, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308, 63.414885615, 0.1, 0.3,
  123456789.123, 2 ** 53, 2 ** 53 + 2, -(2 ** 31), 2 ** 31, 2 ** 31 - 1, 1e15, 1e15 - 1, 999999999999999.9, 1e16, 1e-5, 1e-6, 9.999999999999999e-6, 1.5e-7,
  0.000001, 0.00001, 4.35, 1 / 3, 2 / 3, 100, 99.99999999999999, 1e20, 1e22, 123e-20, NaN, Infinity, -Infinity];
const doubleArb = fc.oneof(
  { weight: 4, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.constantFrom(...kAwkwardDoubles) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 100_000_000_000 }).map((n) => n / 1e9) },
  { weight: 1, arbitrary: fc.double({ min: -2.2250738585072014e-308, max: 2.2250738585072014e-308 }) },
);
const int64Arb = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constantFrom(-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 2n ** 53n + 1n, -(2n ** 31n) - 1n, 10n ** 18n, 10n ** 19n - 1n));
const uint64Arb = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom(2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n, 0n));

interface Kind {
  arb: fc.Arbitrary<unknown>;
  type: () => A.DataType;
  tagColumn?: boolean;
  declared?: FieldType;
}
const kKinds: Record<string, Kind> = {
  f64: { arb: doubleArb, type: () => new A.Float64() },
  f32: { arb: doubleArb, type: () => new A.Float32() },
  f16: { arb: doubleArb, type: () => new A.Float16() },
  i8: { arb: fc.integer({ min: -128, max: 127 }), type: () => new A.Int8() },
  i32: { arb: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), type: () => new A.Int32() },
  i64: { arb: int64Arb, type: () => new A.Int64() },
  u32: { arb: fc.integer({ min: 0, max: 2 ** 32 - 1 }), type: () => new A.Uint32() },
  u64: { arb: uint64Arb, type: () => new A.Uint64() },
  bool: { arb: fc.boolean(), type: () => new A.Bool() },
  utf8: { arb: stringValueArb, type: () => new A.Utf8() },
  lutf8: { arb: stringValueArb, type: () => new A.LargeUtf8() },
  dictField: { arb: stringValueArb, type: () => new A.Dictionary(new A.Utf8(), new A.Int32()), declared: 'string' },
  f64AsInt: { arb: fc.oneof(fc.integer().map((n) => n * 1000), doubleArb, fc.constantFrom(2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 53)), type: () => new A.Float64(), declared: 'integer' },
  i32AsFloat: { arb: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), type: () => new A.Int32(), declared: 'float' },
  dictTag: { arb: tagValueArb, type: () => new A.Dictionary(new A.Utf8(), new A.Int32()) },
  dictTag8: { arb: tagValueArb, type: () => new A.Dictionary(new A.Utf8(), new A.Int8()) },
  utf8Tag: { arb: tagValueArb, type: () => new A.Utf8(), tagColumn: true },
  i64Tag: { arb: int64Arb, type: () => new A.Int64(), tagColumn: true },
  f64Tag: { arb: doubleArb, type: () => new A.Float64(), tagColumn: true },
};

/** Time columns of every unit (values mostly in range once converted, sometimes anything). */
const kTimeUnits: Record<string, { src: bigint; vector: (raw: bigint[]) => A.Vector }> = {
  s: { src: 1_000_000_000n, vector: (raw) => A.makeVector({ type: new A.TimestampSecond(), data: BigInt64Array.from(raw), length: raw.length } as never) },
  ms: { src: 1_000_000n, vector: (raw) => A.makeVector({ type: new A.TimestampMillisecond(), data: BigInt64Array.from(raw), length: raw.length } as never) },
  us: { src: 1_000n, vector: (raw) => A.makeVector({ type: new A.TimestampMicrosecond(), data: BigInt64Array.from(raw), length: raw.length } as never) },
  ns: { src: 1n, vector: nsTimes },
  dateDay: { src: 86_400_000_000_000n, vector: (raw) => A.makeVector({ type: new A.DateDay(), data: Int32Array.from(raw, (r) => Number(BigInt.asIntN(32, r))), length: raw.length } as never) },
  int64: { src: 1n, vector: (raw) => A.makeVector(BigInt64Array.from(raw)) },
};

/** A random table whose column `time` has unit `timeUnit`; `cuts` split each layout into row ranges. */
interface TableSpec extends RandomTableSpec {
  timeUnit: string;
  cuts: number[];
}

const tableArb: fc.Arbitrary<TableSpec> = fc.oneof({ weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 4, arbitrary: fc.integer({ min: 4, max: 40 }) })
  .chain((rows) => fc.record({
    rows: fc.constant(rows),
    precision: fc.constantFrom<Precision>('n', 'u', 'ms', 's', 'm', 'h'),
    timeUnit: fc.constantFrom(...Object.keys(kTimeUnits)),
    columns: fc.uniqueArray(fc.record({ name: nameArb, kind: fc.constantFrom(...Object.keys(kKinds)) }), { minLength: 1, maxLength: 7, selector: (c) => c.name })
      .chain((cols) => fc.tuple(...cols.map((c) => fc.array(fc.option(kKinds[c.kind]!.arb, { freq: 6 }), { minLength: rows, maxLength: rows })))
        .map((vals) => cols.map((c, i) => ({ ...c, values: vals[i] as unknown[] })))),
    measurement: fc.constantFrom('cpu', 'cpu load', 'a,b', 'ü€', 'weather\\x'),
    extraTags: fc.dictionary(fc.constantFrom('host', 'region', 'asset_class', 'a b'), fc.constantFrom('equities', 'x y', '', 'eu,west'), { maxKeys: 2 }),
    nonFinite: fc.constantFrom<'error' | 'skipField'>('error', 'skipField'),
    invalidRows: fc.constantFrom<'error' | 'skip'>('error', 'skip'),
    allowNewlines: fc.boolean(),
    slice: fc.tuple(fc.nat(rows), fc.nat(rows)).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as [number, number]),
    splits: fc.uniqueArray(fc.nat(rows), { maxLength: 3 }),
    cuts: fc.uniqueArray(fc.nat(rows), { maxLength: 3 }),
    maxBodyBytes: fc.oneof(fc.constant(2 ** 31 - 1), fc.integer({ min: 40, max: 600 })),
  }).chain((spec) => fc.array(
    fc.oneof(
      { weight: 8, arbitrary: fc.bigInt({ min: -(2n ** 62n) / kTimeUnits[spec.timeUnit]!.src, max: (2n ** 62n) / kTimeUnits[spec.timeUnit]!.src }) },
      { weight: 1, arbitrary: fc.constantFrom(-(2n ** 63n), 2n ** 63n - 1n, -1n, 0n, 1_704_067_200_000_000_000n) },
    ),
    { minLength: rows, maxLength: rows },
  ).map((times) => ({ ...spec, times }))))
  .map((spec) => ({ ...spec, columns: spec.columns.filter((c) => c.name !== 'time') }));

/** The layouts of a table's batches, with their rowBase (undefined: the builder refused the table). */
function layoutsOf(table: A.Table, options: ArrowEncodeOptions): { layout: ColumnarLayout; rowBase: number }[] | undefined {
  try {
    return batchLayouts(table, options);
  } catch {
    return undefined;
  }
}

describe('WASM bytes === TypeScript bytes, Arrow tables', () => {
  it('random tables of every type, sliced, in batches and in row ranges (property)', () => {
    let written = 0;
    let refused = 0;
    let built = 0;
    fc.assert(
      fc.property(tableArb, (spec) => {
        const options = writeOptionsOf(spec, kKinds, 'time');
        const layouts = layoutsOf(buildTable(spec, kKinds, { time: kTimeUnits[spec.timeUnit]!.vector(spec.times) }).table, options);
        if (layouts === undefined) return;
        built++;
        const calls = layouts.flatMap(({ layout, rowBase }) => ranges(layout, rowBase, spec.cuts));
        const ts = expectSameAsTs(calls, { maxBodyBytes: spec.maxBodyBytes, nonFinite: spec.nonFinite, invalidRows: spec.invalidRows, allowNewlinesInStrings: spec.allowNewlines });
        if (ts.error === undefined) written++;
        else refused++;
      }),
      { numRuns: Number(process.env.WASM_RUNS ?? 400) },
    );
    expect(built).toBeGreaterThan(100);
    expect(written).toBeGreaterThan(30);
    expect(refused).toBeGreaterThan(30);
  });

  it('wide valid tables: many rows, nulls, every time unit, small bodies (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.constantFrom<Precision>('n', 'u', 'ms', 's'),
        fc.constantFrom(...Object.keys(kTimeUnits)),
        fc.integer({ min: 0, max: 2 ** 30 }),
        fc.oneof(fc.constant(5_000_000), fc.integer({ min: 200, max: 5000 })),
        (rows, precision, unit, seed, maxBodyBytes) => {
          const rnd = prng(seed);
          const floats = fc.sample(doubleArb.filter(Number.isFinite), { numRuns: rows, seed });
          const ints = fc.sample(int64Arb, { numRuns: rows, seed });
          const strs = fc.sample(stringValueArb.filter((s) => !/[\n\r]/.test(s)), { numRuns: 50, seed });
          const span = Math.min(2 ** 30, Number(2n ** 62n / kTimeUnits[unit]!.src));
          const times = Array.from({ length: rows }, () => BigInt(Math.floor((rnd() - 0.5) * span)));
          const hosts = Array.from({ length: 50 }, (_, k) => `host-${k}`);
          const table = new A.Table({
            time: kTimeUnits[unit]!.vector(times),
            host: A.vectorFromArray(Array.from({ length: rows }, () => (rnd() < 0.1 ? null : hosts[Math.floor(rnd() * 50)]!)), new A.Dictionary(new A.Utf8(), new A.Int32())),
            f: A.vectorFromArray(floats.map((x) => (rnd() < 0.1 ? null : x)), new A.Float64()),
            n: A.vectorFromArray(ints, new A.Int64()),
            s: A.vectorFromArray(Array.from({ length: rows }, () => (rnd() < 0.1 ? null : strs[Math.floor(rnd() * strs.length)]!)), new A.Utf8()),
            ok: A.vectorFromArray(Array.from({ length: rows }, () => (rnd() < 0.1 ? null : rnd() < 0.5)), new A.Bool()),
          });
          const layouts = layoutsOf(table, { measurement: 'm', precision, tags: { dc: 'eu 1' } })!;
          const calls = layouts.flatMap(({ layout, rowBase }) => ranges(layout, rowBase, [Math.floor(rnd() * rows), Math.floor(rnd() * rows)]));
          const ts = expectSameAsTs(calls, { maxBodyBytes });
          expect(ts.error?.message).toBeUndefined();
        },
      ),
      { numRuns: 40 },
    );
  });
});

// ---- layouts built directly ----------------------------------------------------------------------

const utf8 = (s: string) => new TextEncoder().encode(s);
/** Byte sequences: valid, escapes, newlines, and every kind of invalid UTF-8. */
const kByteSeqs: readonly number[][] = [
  [0x61], [0x7a], [0x20], [0x2c], [0x3d], [0x22], [0x5c], [0x0a], [0x0d], [0x09], [0x00], [0x7f],
  [0xc3, 0xa9], [0xe2, 0x82, 0xac], [0xf0, 0x9f, 0x98, 0x80], [0xed, 0x9f, 0xbf], [0xee, 0x80, 0x80], [0xf4, 0x8f, 0xbf, 0xbf], [0xe0, 0xa0, 0x80], [0xf0, 0x90, 0x80, 0x80],
  // invalid: lone continuation, overlong, surrogates, above U+10FFFF, truncated, bad lead bytes
  [0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xf0, 0x80, 0x80, 0x80],
  [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc3], [0xff], [0xfe], [0xe2, 0x28, 0xa1], [0xc3, 0x28],
];
const bytesArb = (maxParts: number): fc.Arbitrary<Uint8Array> => fc.oneof(
  { weight: 12, arbitrary: fc.array(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...kByteSeqs.slice(0, 20)) }, { weight: 1, arbitrary: fc.constantFrom(...kByteSeqs.slice(20)) }), { maxLength: maxParts }).map((parts) => Uint8Array.from(parts.flat())) },
  { weight: 3, arbitrary: fc.constantFrom('', 'ok', 'degraded', 'abcdefghijklmnop', 'abcdefghijklmnopqrstuvwxyz"0123456789', 'ünï€😀 x').map(utf8) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 24 }) },
);
/** Long strings around the 64 KB limit, rarely (they are slow to compare). */
const longBytesArb = fc.constantFrom(MAX_STRING_FIELD_BYTES - 1, MAX_STRING_FIELD_BYTES, MAX_STRING_FIELD_BYTES + 1, 70_000).chain((n) =>
  fc.constantFrom(0x61, 0x22, 0x5c, 0xe2).map((b) => (b === 0xe2 ? utf8('€'.repeat(Math.ceil(n / 3))).subarray(0, n) : new Uint8Array(n).fill(b))));

const bitmapArb = (rows: number): fc.Arbitrary<Uint8Array | null> => fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.array(fc.boolean(), { minLength: rows, maxLength: rows }).map(toBits) },
  { weight: 1, arbitrary: fc.array(fc.boolean(), { minLength: rows, maxLength: rows }).map((b) => toBits(b).subarray(0, Math.max(0, ((rows + 7) >> 3) - 1))) },
);

function toBits(bits: readonly boolean[]): Uint8Array {
  const out = new Uint8Array((bits.length + 7) >> 3);
  bits.forEach((b, i) => {
    if (b) out[i >> 3]! |= 1 << (i & 7);
  });
  return out;
}

/** Concatenates byte strings into (data, offsets), the offsets starting at `start` past `start` junk bytes. */
function pack(values: readonly Uint8Array[], start: number): { data: Uint8Array; offsets: Int32Array } {
  const offsets = new Int32Array(values.length + 1);
  let size = start;
  offsets[0] = start;
  values.forEach((v, i) => {
    size += v.length;
    offsets[i + 1] = size;
  });
  const data = new Uint8Array(size + 3).fill(0x23);
  for (const [i, v] of values.entries()) data.set(v, offsets[i]!);
  return { data, offsets };
}

const tagArb = (rows: number, name: string): fc.Arbitrary<TagColumn> => fc.record({
  entries: fc.array(fc.oneof({ weight: 10, arbitrary: bytesArb(4) }, { weight: 1, arbitrary: fc.constant(new Uint8Array(33_000).fill(0x74)) }), { minLength: 1, maxLength: 6 }),
  keyInvalid: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }),
  constant: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  indices: fc.array(fc.oneof({ weight: 20, arbitrary: fc.nat(5) }, { weight: 1, arbitrary: fc.integer({ min: -3, max: 9 }) }), { minLength: rows, maxLength: rows }),
  validity: bitmapArb(rows),
  invalid: fc.option(fc.array(fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }), { minLength: 6, maxLength: 6 }), { freq: 3 }),
  fallback: fc.integer({ min: -1, max: 5 }),
  shortInvalid: fc.boolean(),
}).map((r): TagColumn => {
  const dict = pack(r.entries, 0);
  const entries = r.entries.length;
  // Mostly in range; now and then exactly `entries` or beyond (corrupt), which both encoders read alike.
  const indices = r.constant ? null : Int32Array.from(r.indices, (e) => (e <= 5 ? e % entries : e));
  return {
    name, key: utf8(name.replace(/[ ,=]/g, '\\$&')), keyInvalid: r.keyInvalid, indices, validity: r.constant ? null : r.validity,
    dictData: dict.data.subarray(0, dict.offsets[entries]), dictOffsets: dict.offsets,
    dictInvalid: r.invalid === null ? null : Uint8Array.from(r.invalid.slice(0, r.shortInvalid ? entries : 6)),
    fallback: r.fallback < entries ? r.fallback : -1,
  };
});

const fieldArb = (rows: number, name: string): fc.Arbitrary<FieldColumn> => fc.constantFrom(1, 2, 3, 4, 5, 6, 6, 7).chain((kind) => {
  const base = fc.record({
    keyInvalid: fc.oneof({ weight: 15, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }),
    validity: bitmapArb(rows),
    long: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  });
  const key = utf8(name.replace(/[ ,=]/g, '\\$&'));
  switch (kind) {
    case FieldKind.FLOAT:
    case FieldKind.FLOAT_AS_INT:
      return fc.tuple(base, fc.array(kind === FieldKind.FLOAT ? doubleArb : fc.oneof(fc.integer().map((n) => n * 1000), doubleArb, fc.constantFrom(2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 53, -0)), { minLength: rows, maxLength: rows }), fc.nat(rows))
        .map(([b, v, at]) => {
          // Now and then a non-finite value for sure (fc.double() gives few).
          if (b.long && rows > 0) v[at % rows] = [NaN, Infinity, -Infinity][at % 3]!;
          return { name, key, keyInvalid: b.keyInvalid, validity: b.validity, kind, values: Float64Array.from(v) } as FieldColumn;
        });
    case FieldKind.INT32:
      return fc.tuple(base, fc.array(fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(-(2 ** 31), 2 ** 31 - 1, 0, -1)), { minLength: rows, maxLength: rows }))
        .map(([b, v]) => ({ name, key, keyInvalid: b.keyInvalid, validity: b.validity, kind, values: Int32Array.from(v) }) as FieldColumn);
    case FieldKind.INT64:
    case FieldKind.UINT64:
      return fc.tuple(base, fc.array(kind === FieldKind.INT64 ? int64Arb : uint64Arb.map((u) => BigInt.asIntN(64, u)), { minLength: rows, maxLength: rows }))
        .map(([b, v]) => ({ name, key, keyInvalid: b.keyInvalid, validity: b.validity, kind, values: BigInt64Array.from(v) }) as FieldColumn);
    case FieldKind.BOOL:
      return fc.tuple(base, fc.array(fc.boolean(), { minLength: rows, maxLength: rows }))
        .map(([b, v]) => ({ name, key, keyInvalid: b.keyInvalid, validity: b.validity, kind, values: toBits(v) }) as FieldColumn);
    default:
      return fc.tuple(base, fc.array(bytesArb(10), { minLength: rows, maxLength: rows }), fc.nat(rows), longBytesArb, fc.nat(5)).map(([b, v, at, long, start]) => {
        if (b.long && rows > 0) v[at % rows] = long;
        const { data, offsets } = pack(v, start);
        return { name, key, keyInvalid: b.keyInvalid, validity: b.validity, kind: FieldKind.STRING, offsets, values: data } as FieldColumn;
      });
  }
});

interface RawSpec {
  layout: ColumnarLayout;
  rowBase: number;
  cuts: number[];
  options: RunOptions;
}

const rawArb: fc.Arbitrary<RawSpec> = fc.oneof({ weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 5, arbitrary: fc.integer({ min: 4, max: 30 }) }).chain((rows) => fc.record({
  rows: fc.constant(rows),
  measurement: fc.oneof(fc.constantFrom('cpu', 'a\\,b', 'ü€', 'm').map(utf8), bytesArb(3).filter((b) => b.length > 0)),
  tagNames: fc.uniqueArray(fc.constantFrom('a', 'b b', 'host', 'region', 'time', 'x,y', 'z', 'ü', '', '\n'), { maxLength: 4 }),
  fieldNames: fc.uniqueArray(fc.oneof(
    { weight: 30, arbitrary: fc.constantFrom('f', 'g', 'usage_user', 'long_key_'.repeat(5), 'x y', 'time', 'ü', '"q"', '\t') },
    // A key that makes the series key too long for influxd whatever the tags.
    { weight: 1, arbitrary: fc.constant('K'.repeat(65_530)) },
  ), { minLength: 0, maxLength: 5 }),
  time: fc.array(int64Arb, { minLength: rows, maxLength: rows }),
  timeInvalid: fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.array(fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }), { minLength: rows, maxLength: rows }) }),
  rowBase: fc.oneof(fc.constant(0), fc.nat(1_000_000)),
  cuts: fc.uniqueArray(fc.nat(rows), { maxLength: 4 }),
  maxBodyBytes: fc.oneof(fc.constant(2 ** 31 - 1), fc.integer({ min: 30, max: 800 }), fc.constant(Infinity)),
  nonFinite: fc.constantFrom<'error' | 'skipField'>('error', 'skipField'),
  invalidRows: fc.constantFrom<'error' | 'skip'>('error', 'skip'),
  allowNewlines: fc.boolean(),
}).chain((r) => fc.tuple(
  fc.tuple(...[...r.tagNames].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((n) => tagArb(r.rows, n))),
  fc.tuple(...r.fieldNames.map((n) => fieldArb(r.rows, n))),
).map(([tags, fields]): RawSpec => {
  const timeReasons = new Map<number, string>();
  r.timeInvalid?.forEach((bad, i) => {
    if (bad && i % 2 === 0) timeReasons.set(i, `time ${i} is out of range`);
  });
  return {
    layout: {
      rows: r.rows, measurement: r.measurement, time: BigInt64Array.from(r.time), timeInvalid: r.timeInvalid === null ? null : toBits(r.timeInvalid),
      tags, fields, meta: { precision: 'n', timeReasons },
    },
    rowBase: r.rowBase,
    cuts: r.cuts,
    options: { maxBodyBytes: r.maxBodyBytes, nonFinite: r.nonFinite, invalidRows: r.invalidRows, allowNewlinesInStrings: r.allowNewlines },
  };
})));

describe('WASM bytes === TypeScript bytes, layouts built directly', () => {
  it('hostile layouts: invalid UTF-8, invalid entries, fallbacks, corrupt indices, 64 KB strings (property)', () => {
    const codes = new Map<string, number>();
    fc.assert(
      fc.property(rawArb, (spec) => {
        const ts = expectSameAsTs(ranges(spec.layout, spec.rowBase, spec.cuts), spec.options);
        const reason = ts.error === undefined ? 'written' : ts.error.reason.replace(/\d+/g, 'N').slice(0, 24);
        codes.set(reason, (codes.get(reason) ?? 0) + 1);
      }),
      { numRuns: Number(process.env.WASM_RUNS ?? 500) },
    );
    // Every kind of stop was reached at least once.
    const seen = [...codes.keys()].join('\n');
    if (process.env.WASM_SHOW) console.log([...codes].sort((a, b) => b[1] - a[1]));
    // (Reasons with digits replaced by N, cut at 24 characters.)
    // (The frequent ones; every error code has its own test below.)
    for (const r of ['written', 'string value is not vali', 'value ', 'key ', 'no field with a value: a', 'declared integer, but ', 'N is outside the intN ra', 'series key of N bytes (m', 'a line of N bytes does n']) {
      expect(`\n${seen}\n`, `no outcome starting with ${JSON.stringify(r)}`).toContain(`\n${r}`);
    }
  });

  it('every error code, at a row after written ones, with its message', () => {
    const rows = 14;
    const base = (): ColumnarLayout => ({
      rows, measurement: utf8('m'), time: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i) * 1000n), timeInvalid: null,
      tags: [{ name: 'host', key: utf8('host'), keyInvalid: 0, indices: Int32Array.from({ length: rows }, (_, i) => i % 2), validity: null, dictData: utf8('ab'), dictOffsets: Int32Array.of(0, 1, 2), dictInvalid: null, fallback: -1 }],
      fields: [
        { name: 'f', key: utf8('f'), keyInvalid: 0, validity: null, kind: FieldKind.FLOAT, values: Float64Array.from({ length: rows }, (_, i) => i / 3) },
        { name: 's', key: utf8('s'), keyInvalid: 0, validity: null, kind: FieldKind.STRING, ...strings(Array.from({ length: rows }, (_, i) => utf8(`v${i}`))) },
      ],
      meta: { precision: 'n', timeReasons: new Map([[2, 'the reason of row 2']]) },
    });
    const strings = (v: Uint8Array[]) => {
      const { data, offsets } = pack(v, 0);
      return { values: data, offsets };
    };
    const withField = (l: ColumnarLayout, k: number, f: Partial<FieldColumn>): ColumnarLayout => ({ ...l, fields: l.fields.map((x, j) => (j === k ? { ...x, ...f } as FieldColumn : x)) });
    const stringsWith = (row: number, v: Uint8Array) => strings(Array.from({ length: rows }, (_, i) => (i === row ? v : utf8(`v${i}`))));
    const cases: [string, ColumnarLayout, RegExp, Partial<RunOptions>?][] = [
      ['TAG_KEY', { ...base(), tags: [{ ...base().tags[0]!, name: 'time', keyInvalid: 1 }] }, /^"time" is not allowed/],
      ['TAG_VALUE', { ...base(), tags: [{ ...base().tags[0]!, dictData: utf8('a\n'), dictOffsets: Int32Array.of(0, 1, 2), dictInvalid: Uint8Array.of(0, 1) }] }, /^value /],
      ['FIELD_KEY', withField(base(), 1, { name: '_field', keyInvalid: 1 }), /^"_field" is reserved/],
      ['FIELD_NON_FINITE', withField(base(), 0, { values: Float64Array.from({ length: rows }, (_, i) => (i === 3 ? -Infinity : i)) }), /^-Infinity cannot be written/],
      ['FIELD_NOT_SAFE_INTEGER', withField(base(), 0, { kind: FieldKind.FLOAT_AS_INT, values: Float64Array.from({ length: rows }, (_, i) => (i === 3 ? 2 ** 53 : i)) }), /^declared integer, but 9007199254740992 is not a safe integer/],
      ['FIELD_INT64_RANGE', withField(base(), 0, { kind: FieldKind.UINT64, values: BigInt64Array.from({ length: rows }, (_, i) => (i === 3 ? -2n : BigInt(i))) }), /^18446744073709551614 is outside the int64 range/],
      ['STRING_TOO_LONG', withField(base(), 1, stringsWith(3, new Uint8Array(MAX_STRING_FIELD_BYTES + 1).fill(0x61))), /^string value of 65537 bytes/],
      ['STRING_INVALID_UTF8', withField(base(), 1, stringsWith(3, Uint8Array.of(0x61, 0xed, 0xa0, 0x80))), /^string value is not valid UTF-8/],
      ['STRING_NEWLINE', withField(base(), 1, stringsWith(3, utf8('a\r\nb'))), /^string value contains a newline/],
      ['NO_FIELD', { ...base(), fields: base().fields.map((f) => ({ ...f, validity: toBits(Array.from({ length: rows }, (_, i) => i < 3)) })) }, /^no field with a value: .* \(rows 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, … have no non-null field/],
      ['NO_FIELD (non-finite skipped)', withField({ ...base(), fields: [base().fields[0]!] }, 0, { values: Float64Array.from({ length: rows }, (_, i) => (i === 3 || i === 9 ? NaN : i)) }), /\(rows 103, 109 have no/, { nonFinite: 'skipField' }],
      ['TIME_RANGE', { ...base(), timeInvalid: toBits(Array.from({ length: rows }, (_, i) => i === 2)) }, /^the reason of row 2$/],
      ['TIME_RANGE (no reason)', { ...base(), timeInvalid: toBits(Array.from({ length: rows }, (_, i) => i === 4)) }, /^cannot be written$/],
      ['LINE_TOO_LARGE', withField(base(), 1, stringsWith(3, new Uint8Array(100).fill(0x62))), /^a line of 1\d\d bytes does not fit a request body of at most 60 bytes/, { maxBodyBytes: 60 }],
      ['SERIES_KEY_TOO_LONG', withField(base(), 0, { name: 'k', key: new Uint8Array(65_530).fill(0x6b) }), /^series key of 65542 bytes/],
    ];
    for (const [name, layout, reason, options] of cases) {
      const ts = expectSameAsTs(ranges(layout, 100, [2]), { maxBodyBytes: 1e9, ...options });
      expect(ts.error?.reason, name).toMatch(reason);
      expect(ts.error!.pointIndex, name).toBeGreaterThanOrEqual(100);
    }
    // A sequence cut short at the end of a value, even when the next value's bytes would complete it.
    for (const [a, b] of [[[0xe2, 0x82], [0xac, 0x61]], [[0xf0, 0x9f, 0x98], [0x80]], [[0xc3], [0xa9]], [[0x61, 0xed], [0x9f, 0xbf]]]) {
      const layout = withField(base(), 1, strings(Array.from({ length: rows }, (_, i) => (i === 5 ? Uint8Array.from(a!) : i === 6 ? Uint8Array.from(b!) : utf8(`v${i}`)))));
      expect(expectSameAsTs(ranges(layout, 0, []), { maxBodyBytes: 1e9 }).error?.reason).toBe('string value is not valid UTF-8');
    }
    // The series key limit, to the byte: m + ",host=a" + key + 4 = 65535 is written, 65536 is not.
    expect(expectSameAsTs(ranges(withField(base(), 0, { name: 'k', key: new Uint8Array(65_523).fill(0x6b) }), 0, []), { maxBodyBytes: 1e9 }).error).toBeUndefined();
    expect(expectSameAsTs(ranges(withField(base(), 0, { name: 'k', key: new Uint8Array(65_524).fill(0x6b) }), 0, []), { maxBodyBytes: 1e9 }).error?.reason).toMatch(/^series key of 65536 bytes/);
    // The options that turn some of them off.
    expectSameAsTs(ranges(cases[3]![1], 0, []), { maxBodyBytes: 1e9, nonFinite: 'skipField' });
    expectSameAsTs(ranges(cases[8]![1], 0, []), { maxBodyBytes: 1e9, allowNewlinesInStrings: true });
    const skipped = expectSameAsTs(ranges(cases[9]![1], 0, [5]), { maxBodyBytes: 1e9, invalidRows: 'skip' });
    expect(skipped.skipped).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  });

  it('arrays shorter than the layout says are read as the TypeScript encoder reads them', () => {
    const rows = 20;
    const base: ColumnarLayout = {
      rows, measurement: utf8('m'), time: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i)), timeInvalid: Uint8Array.of(0),
      tags: [{ name: 'host', key: utf8('host'), keyInvalid: 0, indices: Int32Array.from({ length: 9 }, (_, i) => i % 3), validity: null, dictData: utf8('abc'), dictOffsets: Int32Array.of(0, 1, 2, 3), dictInvalid: null, fallback: 1 }],
      fields: [
        { name: 'f', key: utf8('f'), keyInvalid: 0, validity: Uint8Array.of(0xfe, 0xff), kind: FieldKind.FLOAT, values: Float64Array.from({ length: 12 }, (_, i) => i / 4) },
        { name: 'b', key: utf8('b'), keyInvalid: 0, validity: null, kind: FieldKind.BOOL, values: Uint8Array.of(0x5a) },
      ],
      meta: { precision: 'n', timeReasons: new Map() },
    };
    for (const nonFinite of ['error', 'skipField'] as const) {
      for (const invalidRows of ['error', 'skip'] as const) {
        expectSameAsTs(ranges(base, 0, [3, 10]), { maxBodyBytes: 1e9, nonFinite, invalidRows });
        const shortInvalid = { ...base, tags: [{ ...base.tags[0]!, dictInvalid: Uint8Array.of(0, 0) }] };
        expectSameAsTs(ranges(shortInvalid, 0, [3, 10]), { maxBodyBytes: 1e9, nonFinite, invalidRows });
      }
    }
  });

  it('lines larger than a body, at the first row and after others, leave the writer as the TypeScript encoder does', () => {
    const rows = 6;
    const values = ['a', 'b'.repeat(200), 'c', 'd'.repeat(50), 'e'.repeat(300), 'f'].map(utf8);
    const { data, offsets } = pack(values, 0);
    const layout: ColumnarLayout = {
      rows, measurement: utf8('m'), time: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i)), timeInvalid: null, tags: [],
      fields: [{ name: 's', key: utf8('s'), keyInvalid: 0, validity: null, kind: FieldKind.STRING, offsets, values: data }],
      meta: { precision: 'n', timeReasons: new Map() },
    };
    for (const maxBodyBytes of [20, 100, 250, 400]) {
      for (const from of [0, 1, 2]) expectSameAsTs([{ layout, rowBase: 7, from, to: rows }], { maxBodyBytes });
    }
  });
});

// ---- floats ----------------------------------------------------------------------------------------

/** A one-column layout of doubles. */
function floatLayout(values: Float64Array, kind: typeof FieldKind.FLOAT | typeof FieldKind.FLOAT_AS_INT = FieldKind.FLOAT): ColumnarLayout {
  return {
    rows: values.length, measurement: utf8('m'), time: new BigInt64Array(values.length), timeInvalid: null, tags: [],
    fields: [{ name: 'x', key: utf8('x'), keyInvalid: 0, validity: null, kind, values }],
    meta: { precision: 'n', timeReasons: new Map() },
  };
}

function expectFloats(values: Float64Array): void {
  const layout = floatLayout(values);
  const ts = expectSameAsTs([{ layout, rowBase: 0, from: 0, to: values.length }], { maxBodyBytes: 2 ** 31 - 1, nonFinite: 'skipField', invalidRows: 'skip' });
  // And both are String(x) (with -0 kept).
  const lines = ts.bodies.map((b) => b.text).join('').split('\n');
  let k = 0;
  for (const x of values) {
    if (!Number.isFinite(x)) continue;
    const want = Object.is(x, -0) ? '-0' : String(x);
    if (lines[k] !== `m x=${want} 0`) expect(lines[k]).toBe(`m x=${want} 0`);
    k++;
  }
}

describe('floats: String(x) in every range', () => {
  it('random bit patterns (all magnitudes, subnormals), decimals, awkward values', () => {
    const n = 200_000;
    const bits = new BigUint64Array(n);
    const rnd = prng(7);
    for (let i = 0; i < n; i++) bits[i] = (BigInt(Math.floor(rnd() * 2 ** 32)) << 32n) | BigInt(Math.floor(rnd() * 2 ** 32));
    const all = new Float64Array(bits.buffer);
    expectFloats(all);
    // Subnormals, and numbers of 1..17 significant digits around every power of ten.
    const more: number[] = [...kAwkwardDoubles];
    for (let i = 0; i < 20_000; i++) more.push(Math.floor(rnd() * 2 ** 52) * 5e-324, rnd() * 2.2250738585072014e-308);
    for (let e = -30; e <= 30; e++) {
      for (let d = 1; d <= 17; d++) {
        const m = Math.floor(rnd() * 10 ** d);
        more.push(Number(`${m}e${e - d}`), -Number(`${m}e${e - d}`), 10 ** e, nextUp(10 ** e), nextUp(-(10 ** e)));
      }
    }
    // The workload's shape: 9 decimals in 0..100, and k decimals in general.
    for (let i = 0; i < 50_000; i++) more.push(Math.round(rnd() * 1e11) / 1e9, Math.round(rnd() * 10 ** (i % 16)) / 10 ** (i % 12), (rnd() - 0.5) * 10 ** ((i % 40) - 20));
    expectFloats(Float64Array.from(more));
  });

  it('fast-check doubles (property)', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.double(), fc.double({ min: -1e-300, max: 1e-300 }), fc.double({ min: 1e14, max: 1e16 }), fc.double({ min: 1e-7, max: 1e-4 })), { minLength: 1, maxLength: 300 }), (xs) => {
      expectFloats(Float64Array.from(xs));
    }), { numRuns: 200 });
  });

  it('floats declared integer: safe integers and the ones that are not', () => {
    const values = Float64Array.from([0, -0, 1, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 123456789012345, 1e15, 2 ** 31, -(2 ** 31), 4294967296.0]);
    expectSameAsTs([{ layout: floatLayout(values, FieldKind.FLOAT_AS_INT), rowBase: 0, from: 0, to: values.length }], { maxBodyBytes: 1e9 });
    for (const bad of [2 ** 53, 0.5, -1e300, NaN, Infinity]) {
      const ts = expectSameAsTs([{ layout: floatLayout(Float64Array.of(1, bad), FieldKind.FLOAT_AS_INT), rowBase: 3, from: 0, to: 2 }], { maxBodyBytes: 1e9 });
      expect(ts.error?.pointIndex).toBe(4);
    }
  });
});

// ---- times --------------------------------------------------------------------------------------------

describe('times', () => {
  it('every int64, runs of close times across 10^8 boundaries, and jumps back and forth', () => {
    const times: bigint[] = [];
    const edges = [0n, 1n, -1n, 99_999_999n, 100_000_000n, 100_000_001n, -100_000_000n, 9_999_999_999_999_999n, 10n ** 16n, 10n ** 18n - 1n, 10n ** 18n,
      2n ** 63n - 1n, -(2n ** 63n), -(2n ** 63n) + 1n, 2n ** 62n, 1_704_067_200_000_000_000n];
    for (const e of edges) for (let d = -3n; d <= 3n; d++) times.push(BigInt.asIntN(64, e + d));
    // Runs, as time series have them: 1 ms, 1 s and 37 ns apart, crossing many 10^8 boundaries.
    for (const step of [1_000_000n, 1_000_000_000n, 37n, 99_999_999n]) for (let k = 0n; k < 3000n; k++) times.push(1_704_067_199_999_000_000n + k * step);
    // Back and forth between two runs.
    for (let k = 0n; k < 500n; k++) times.push(k % 2n === 0n ? 1_000_000_000n + k : 2_000_000_000_000n - k);
    const rnd = prng(3);
    for (let k = 0; k < 5000; k++) times.push(BigInt.asIntN(64, (BigInt(Math.floor(rnd() * 2 ** 32)) << 32n) | BigInt(Math.floor(rnd() * 2 ** 32))));
    const rows = times.length;
    const layout: ColumnarLayout = {
      rows, measurement: utf8('m'), time: BigInt64Array.from(times), timeInvalid: null, tags: [],
      fields: [{ name: 'v', key: utf8('v'), keyInvalid: 0, validity: null, kind: FieldKind.INT64, values: BigInt64Array.from(times) }],
      meta: { precision: 'n', timeReasons: new Map() },
    };
    const ts = expectSameAsTs(ranges(layout, 0, [100, 5000]), { maxBodyBytes: 2 ** 31 - 1 });
    const lines = ts.bodies.map((b) => b.text).join('').split('\n');
    times.forEach((t, k) => {
      if (lines[k] !== `m v=${t}i ${t}`) expect(lines[k]).toBe(`m v=${t}i ${t}`);
    });
  });
});

// ---- the memory protocol's edges --------------------------------------------------------------------

/** A string-field layout: `rows` rows of `bytes` bytes each (optionally with nulls making rows empty). */
function stringLayout(rows: number, bytes: (i: number) => number, validity: Uint8Array | null = null): ColumnarLayout {
  const values = Array.from({ length: rows }, (_, i) => new Uint8Array(bytes(i)).fill(0x61 + (i % 26)));
  const { data, offsets } = pack(values, 0);
  return {
    rows, measurement: utf8('m'), time: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i)), timeInvalid: null, tags: [],
    fields: [{ name: 's', key: utf8('s'), keyInvalid: 0, validity, kind: FieldKind.STRING, offsets, values: data }],
    meta: { precision: 'n', timeReasons: new Map() },
  };
}

describe('memory protocol edges', () => {
  it('grows the output region for lines bigger than it, and keeps working afterwards', () => {
    // Each row: a 64 KB string of `"` (128 KB escaped); 40 rows > the 2 MB output region.
    const quotes = (rows: number) => {
      const l = stringLayout(rows, () => MAX_STRING_FIELD_BYTES);
      (l.fields[0] as { values: Uint8Array }).values.fill(0x22);
      return l;
    };
    const enc = new WasmEncoder();
    for (const layout of [quotes(40), stringLayout(3, () => 10), quotes(3)]) {
      const ts = new ColumnarBodyWriter(1e9);
      encodeLayout(layout, ts);
      const wasm = new ColumnarBodyWriter(1e9);
      enc.encodeLayout(layout, wasm);
      expect(Buffer.concat(wasm.finish().map((b) => b.body)).equals(Buffer.concat(ts.finish().map((b) => b.body)))).toBe(true);
    }
    // A single line wider than the output region (7 strings of 64 KB escaped twice: ~900 KB) x 4 rows.
    const wide: ColumnarLayout = { ...quotes(4), fields: Array.from({ length: 7 }, (_, k) => ({ ...quotes(4).fields[0]!, name: `s${k}`, key: utf8(`s${k}`) })) };
    expectSameAsTs([{ layout: wide, rowBase: 0, from: 0, to: 4 }], { maxBodyBytes: 5_000_000 });
  });

  it('windows over large strings, and a full output region mid-window', () => {
    expectSameAsTs(ranges(stringLayout(20_000, (i) => (i * 7919) % 600), 0, [1, 9000, 15_000]), { maxBodyBytes: 1_000_000 });
  });

  it('more skipped rows than the skip list holds', () => {
    const rows = 20_000;
    const validity = toBits(Array.from({ length: rows }, (_, i) => i % 7 === 3));
    const ts = expectSameAsTs([{ layout: stringLayout(rows, () => 3, validity), rowBase: 5, from: 0, to: rows }], { maxBodyBytes: 1e9, invalidRows: 'skip' });
    expect(ts.skipped.length).toBeGreaterThan(4096);
  });

  it('more body cuts than the segment list holds', () => {
    const ts = expectSameAsTs([{ layout: stringLayout(5000, (i) => i % 40), rowBase: 0, from: 0, to: 5000 }], { maxBodyBytes: 60 });
    expect(ts.bodies.length).toBeGreaterThan(2000);
  });

  it('bodies continue across calls and layouts in one writer', () => {
    const a = stringLayout(300, (i) => i % 13);
    const b = floatLayout(Float64Array.from({ length: 500 }, (_, i) => i / 7));
    for (const maxBodyBytes of [50, 1000, 1e9]) {
      expectSameAsTs([...ranges(a, 0, [17, 100]), { layout: b, rowBase: 300, from: 0, to: 500 }, ...ranges(a, 800, [250])], { maxBodyBytes });
    }
  });

  it('an empty range writes nothing; a range outside the layout is refused', () => {
    const layout = stringLayout(10, () => 3);
    const w = new ColumnarBodyWriter(100);
    release.encodeLayout(layout, w, { from: 4, to: 4 });
    expect(w.lineCount).toBe(0);
    expect(() => release.encodeLayout(layout, w, { from: 0, to: 11 })).toThrow(RangeError);
    expect(() => release.encodeLayout(layout, w, { from: -1 })).toThrow(RangeError);
  });

  it('encodeLayoutWasm uses a shared instance', () => {
    const layout = stringLayout(100, (i) => i % 5);
    expectSameAsTs([{ layout, rowBase: 0, from: 0, to: 100 }], { maxBodyBytes: 200 });
    const a = new ColumnarBodyWriter(200);
    encodeLayoutWasm(layout, a, {});
    const b = new ColumnarBodyWriter(200);
    encodeLayout(layout, b, {});
    expect(a.finish().map((x) => x.body.toString())).toEqual(b.finish().map((x) => x.body.toString()));
  });

  it('the boundary call is cheap', () => {
    expect(release.noopCalls(1000)).toBe(0);
  });
});

// ---- the standard workload ------------------------------------------------------------------------

describe('the standard workload', () => {
  it('100k rows: the same bytes and bodies as the TypeScript encoder', () => {
    const w = makeWorkload(100_000);
    const layouts = layoutsOf(toArrowTable(w), { measurement: 'cpu', precision: 'n' })!;
    const calls = layouts.map(({ layout, rowBase }) => ({ layout, rowBase, from: 0, to: layout.rows }));
    for (const maxBodyBytes of [5_000_000, 100_000]) {
      const ts = expectSameAsTs(calls, { maxBodyBytes });
      expect(ts.lineCount).toBe(100_000);
      expect(ts.bodies[0]!.text.slice(0, 60)).toMatch(/^cpu,host=host-\d+,rack=rack-\d+,region=[a-z-]+\d usage_user=/);
    }
  });
});

/** The next double above x > 0 (below, for x < 0: away from zero). */
function nextUp(x: number): number {
  const b = new BigInt64Array(Float64Array.of(x).buffer);
  b[0]! += 1n;
  return new Float64Array(b.buffer)[0]!;
}
