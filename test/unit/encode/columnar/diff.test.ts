/**
 * The columnar encoder (src/encode/columnar, src/encode/arrow) against the point encoder:
 * random Arrow tables (every supported type, nulls, dictionary tags, hostile names and strings,
 * every time unit, int64 extremes, awkward floats, sliced and multi-batch tables, small body
 * limits) give exactly the bytes and bodies that `PointEncoder` gives for the same rows as point
 * objects, or exactly the same error. Then every error case with its message, and the opt-in skips.
 * One file of about 770 lines: the arbitraries, the point-encoder replay and the error helpers
 * are shared by its sections.
 */
import * as A from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeArrow, encodeArrowSync, isArrowInput, isArrowRecordBatch, isArrowTable, type ArrowEncodeOptions } from '../../../../src/encode/arrow/index.js';
import type { EncodedBody } from '../../../../src/encode/body-builder.js';
import { FieldKind, type ColumnarLayout } from '../../../../src/encode/columnar/layout.js';
import { encodeLayoutToBodies } from '../../../../src/encode/columnar/ts-encoder.js';
import { writeFloat, writeInt64, writeUint64 } from '../../../../src/encode/columnar/value-writers.js';
import { encodeSync } from '../../../../src/encode/input.js';
import { formatFloat, type Point, type PointEncoderOptions } from '../../../../src/encode/point-encoder.js';
import { formatNsAsIso, floorDiv, NS_PER } from '../../../../src/encode/time.js';
import { InvalidOptionError, InvalidPointError } from '../../../../src/errors.js';
import type { FieldType, Precision } from '../../../../src/options/index.js';
import { buildTable, writeOptionsOf, type RandomTableSpec } from '../../../helpers/arrow-tables.js';
import { prng } from '../../../helpers/generators.js';

const kBig = 2 ** 31 - 1;

// ---- the two paths ---------------------------------------------------------------------------

type Outcome = { ok: true; bodies: EncodedBody[]; skipped?: number[] } | { ok: false; error: unknown };

function run(fn: () => { bodies: EncodedBody[]; skipped?: number[] }): Outcome {
  try {
    return { ok: true, ...fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

function text(bodies: EncodedBody[]): string {
  return Buffer.concat(bodies.map((b) => b.body)).toString('utf8');
}

const kNoField = 'no field with a value: a point needs at least one field';

/**
 * Same bodies, or the same error (same row, element, key and reason; for rows without a field,
 * the columnar reason starts with the point encoder's and names the rows).
 * `rowOf` maps a point's index back to its table row (rows skipped by invalidRows: 'skip').
 */
function expectSame(points: Outcome, columnar: Outcome, rowOf: (i: number) => number = (i) => i): void {
  if (!points.ok) {
    if (columnar.ok) throw new Error(`point encoder refused (${String(points.error)}) but the columnar encoder wrote:\n${text(columnar.bodies)}`);
    const p = points.error as InvalidPointError;
    const c = columnar.error as InvalidPointError;
    expect(p).toBeInstanceOf(InvalidPointError);
    if (!(c instanceof InvalidPointError)) throw c;
    expect({ row: c.pointIndex, element: c.element, key: c.key }).toEqual({ row: rowOf(p.pointIndex), element: p.element, key: p.key });
    if (p.reason === kNoField) expect(c.reason.startsWith(kNoField)).toBe(true);
    else expect(c.reason).toBe(p.reason);
    return;
  }
  if (!columnar.ok) throw columnar.error;
  expect(text(columnar.bodies)).toBe(text(points.bodies));
  expect(columnar.bodies.map((b) => [b.body.length, b.lines])).toEqual(points.bodies.map((b) => [b.body.length, b.lines]));
}

// ---- column kinds ----------------------------------------------------------------------------

/** Characters that need escaping somewhere, or are refused somewhere. */
const kHostileChars = [',', ' ', '=', '"', '\\', 'a', 'b', 'z', 'é', '€', '😀', '#', '_'];
const kRefusedChars = ['\t', '\n', '\r', '\0'];
const hostile = (maxLength: number) => fc.array(
  fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...kHostileChars) }, { weight: 1, arbitrary: fc.constantFrom(...kRefusedChars) }),
  { minLength: 1, maxLength },
).map((a) => a.join(''));
/** Mostly writable names: fewer newlines and tabs. */
const nameArb = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom('host', 'region', 'rack', 'usage_user', 'status', 'a b', 'x,y', 'k=v', 'ü€', 'Z', 'a\\b', 'c\\\\d', '😀', '"q"', '#h') },
  { weight: 6, arbitrary: hostile(6) },
  { weight: 1, arbitrary: fc.constantFrom('time', '_field', '_measurement', '', 'end\\', '\tx') },
).filter((s) => !/^(0|[1-9]\d*)$/.test(s) && s !== '__proto__');
const tagValueArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('host-1', 'us-west-3', 'a b', 'x,y=z', 'ü', '', 'B', 'E') },
  { weight: 2, arbitrary: hostile(5) },
);
const stringValueArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('ok', 'degraded', '', 'say "hi"', 'C:\\path\\', '\\', '"', 'ünï€😀') },
  { weight: 2, arbitrary: hostile(8) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }) },
);
const doubleArb = fc.oneof(
  { weight: 4, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.constantFrom(-0, 0, 1e21, 1e-7, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 63.414885615, 0.1, 123456789.123, 2 ** 53, -(2 ** 31), 2 ** 31) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 100_000_000_000 }).map((n) => n / 1e9) },
);
const int64Arb = fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constantFrom(-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n, 2n ** 53n + 1n, -(2n ** 31n) - 1n));
const uint64Arb = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom(2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n, 0n), fc.bigInt({ min: 0n, max: 2n ** 40n }));

type Role = 'tag' | 'field';
interface Kind {
  role: Role;
  /** Value generator (nulls are added around it). */
  arb: fc.Arbitrary<unknown>;
  /** Values the point encoder accepts, for tables meant to be written (default: `arb`). */
  clean?: fc.Arbitrary<unknown>;
  type: () => A.DataType;
  /** How the row's value appears in a point (from Arrow's own `get`). */
  toPoint: (v: unknown) => unknown;
  /** Extra write options this column needs. */
  tagColumn?: boolean;
  declared?: FieldType;
  float?: boolean;
}
const cleanDouble = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-0, 0, 1e21, 1e-7, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 63.414885615, 0.1),
  fc.integer({ min: 0, max: 100_000_000_000 }).map((n) => n / 1e9),
);
const cleanString = stringValueArb.filter((v) => !/[\n\r]/.test(v));
const cleanTag = fc.constantFrom('host-1', 'us-west-3', 'a b', 'x,y=z', 'ü', '', 'B', 'E', 'a\\b', '"q"');
const big = (v: unknown) => (v === null ? null : BigInt(v as number | bigint));
const same = (v: unknown) => v;
const kKinds: Record<string, Kind> = {
  f64: { role: 'field', arb: doubleArb, clean: cleanDouble, type: () => new A.Float64(), toPoint: same, float: true },
  f32: { role: 'field', arb: doubleArb, clean: cleanDouble, type: () => new A.Float32(), toPoint: same, float: true },
  f16: { role: 'field', arb: doubleArb, clean: cleanDouble, type: () => new A.Float16(), toPoint: same, float: true },
  i8: { role: 'field', arb: fc.integer({ min: -128, max: 127 }), type: () => new A.Int8(), toPoint: big },
  i16: { role: 'field', arb: fc.integer({ min: -32768, max: 32767 }), type: () => new A.Int16(), toPoint: big },
  i32: { role: 'field', arb: fc.integer({ min: -(2 ** 31), max: kBig }), type: () => new A.Int32(), toPoint: big },
  i64: { role: 'field', arb: int64Arb, type: () => new A.Int64(), toPoint: big },
  u8: { role: 'field', arb: fc.integer({ min: 0, max: 255 }), type: () => new A.Uint8(), toPoint: big },
  u16: { role: 'field', arb: fc.integer({ min: 0, max: 65535 }), type: () => new A.Uint16(), toPoint: big },
  u32: { role: 'field', arb: fc.integer({ min: 0, max: 2 ** 32 - 1 }), type: () => new A.Uint32(), toPoint: big },
  u64: { role: 'field', arb: uint64Arb, clean: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), type: () => new A.Uint64(), toPoint: big },
  bool: { role: 'field', arb: fc.boolean(), type: () => new A.Bool(), toPoint: same },
  utf8: { role: 'field', arb: stringValueArb, clean: cleanString, type: () => new A.Utf8(), toPoint: same },
  lutf8: { role: 'field', arb: stringValueArb, clean: cleanString, type: () => new A.LargeUtf8(), toPoint: same },
  dictField: { role: 'field', arb: stringValueArb, clean: cleanString, type: () => new A.Dictionary(new A.Utf8(), new A.Int32()), toPoint: same, declared: 'string' },
  f64AsInt: { role: 'field', arb: fc.oneof(fc.integer().map((n) => n * 1000), doubleArb), clean: fc.integer().map((n) => n * 1000), type: () => new A.Float64(), toPoint: same, declared: 'integer', float: true },
  i32AsFloat: { role: 'field', arb: fc.integer({ min: -(2 ** 31), max: kBig }), type: () => new A.Int32(), toPoint: same, declared: 'float' },
  u32AsFloat: { role: 'field', arb: fc.integer({ min: 0, max: 2 ** 32 - 1 }), type: () => new A.Uint32(), toPoint: same, declared: 'float' },
  dictTag: { role: 'tag', arb: tagValueArb, clean: cleanTag, type: () => new A.Dictionary(new A.Utf8(), new A.Int32()), toPoint: same },
  dictTag8: { role: 'tag', arb: tagValueArb, clean: cleanTag, type: () => new A.Dictionary(new A.Utf8(), new A.Int8()), toPoint: same },
  dictTagLarge: { role: 'tag', arb: tagValueArb, clean: cleanTag, type: () => new A.Dictionary(new A.LargeUtf8(), new A.Uint16()), toPoint: same },
  utf8Tag: { role: 'tag', arb: tagValueArb, clean: cleanTag, type: () => new A.Utf8(), toPoint: same, tagColumn: true },
  i32Tag: { role: 'tag', arb: fc.integer({ min: -5, max: 5 }), type: () => new A.Int32(), toPoint: same, tagColumn: true },
  i64Tag: { role: 'tag', arb: int64Arb, type: () => new A.Int64(), toPoint: same, tagColumn: true },
  f64Tag: { role: 'tag', arb: doubleArb, type: () => new A.Float64(), toPoint: same, tagColumn: true },
  boolTag: { role: 'tag', arb: fc.boolean(), type: () => new A.Bool(), toPoint: same, tagColumn: true },
};
const kKindNames = Object.keys(kKinds);

// ---- time kinds ------------------------------------------------------------------------------

interface TimeKind {
  /** Value generator in the column's unit. */
  arb: fc.Arbitrary<bigint>;
  /** Values in range in every precision. */
  clean: fc.Arbitrary<bigint>;
  /** The Arrow vector of the raw values. */
  vector: (raw: bigint[]) => A.Vector;
  /** The point's time for a raw value, in precision p. */
  toPoint: (raw: bigint, p: Precision) => bigint | string;
}
const int64Time = fc.oneof(
  { weight: 5, arbitrary: fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }) },
  { weight: 3, arbitrary: fc.bigInt({ min: -(10n ** 13n), max: 10n ** 13n }) },
  { weight: 2, arbitrary: fc.bigInt({ min: 1_700_000_000_000_000_000n, max: 1_800_000_000_000_000_000n }) },
  { weight: 1, arbitrary: fc.constantFrom(-(2n ** 63n), 2n ** 63n - 1n, -9223372036854775806n, 9223372036854775806n, -1n, 0n, 1n) },
);
/** floorDiv(raw * src, NS_PER[p]): the exact instant in precision p, rounded toward the past. */
const convert = (src: bigint) => (raw: bigint, p: Precision) => floorDiv(raw * src, NS_PER[p]);
/** Mostly in range once converted to nanoseconds, sometimes anything. */
const timeIn = (src: bigint) => fc.oneof(
  { weight: 8, arbitrary: fc.bigInt({ min: -(2n ** 63n) / src, max: (2n ** 63n - 1n) / src }) },
  { weight: 1, arbitrary: int64Time },
);
function timestamp(unit: A.TimeUnit, src: bigint, tz: string | null): TimeKind {
  return {
    arb: timeIn(src),
    clean: fc.bigInt({ min: -(2n ** 62n) / src, max: 2n ** 62n / src }),
    vector: (raw) => A.makeVector({ type: new A.Timestamp(unit, tz), data: BigInt64Array.from(raw), length: raw.length } as never),
    toPoint: convert(src),
  };
}
const kTimeKinds: Record<string, TimeKind> = {
  tsS: timestamp(A.TimeUnit.SECOND, 1_000_000_000n, null),
  tsMs: timestamp(A.TimeUnit.MILLISECOND, 1_000_000n, 'Europe/Paris'),
  tsUs: timestamp(A.TimeUnit.MICROSECOND, 1_000n, null),
  tsNs: timestamp(A.TimeUnit.NANOSECOND, 1n, 'UTC'),
  dateDay: {
    arb: fc.oneof(fc.bigInt({ min: -(2n ** 31n), max: 2n ** 31n - 1n }), fc.bigInt({ min: -110_000n, max: 110_000n })),
    clean: fc.bigInt({ min: -50_000n, max: 50_000n }),
    vector: (raw) => A.makeVector({ type: new A.DateDay(), data: Int32Array.from(raw, Number), length: raw.length } as never),
    toPoint: convert(86_400_000_000_000n),
  },
  dateMs: {
    arb: timeIn(1_000_000n),
    clean: fc.bigInt({ min: -(2n ** 62n) / 1_000_000n, max: 2n ** 62n / 1_000_000n }),
    vector: (raw) => A.makeVector({ type: new A.DateMillisecond(), data: BigInt64Array.from(raw), length: raw.length } as never),
    toPoint: convert(1_000_000n),
  },
  int64: { arb: int64Time, clean: fc.bigInt({ min: -1_000_000n, max: 1_000_000n }), vector: (raw) => A.makeVector(BigInt64Array.from(raw)), toPoint: (raw) => raw },
  int32: { arb: fc.integer({ min: -(2 ** 31), max: kBig }).map(BigInt), clean: fc.bigInt({ min: -1_000_000n, max: 1_000_000n }), vector: (raw) => A.makeVector(Int32Array.from(raw, Number)), toPoint: (raw) => raw },
  iso: {
    arb: fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }),
    clean: fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }),
    vector: (raw) => A.vectorFromArray(raw.map((r) => formatNsAsIso(r)), new A.Utf8()),
    toPoint: (raw) => formatNsAsIso(raw),
  },
};

// ---- random tables ---------------------------------------------------------------------------

/** A random table whose time column, of kind `timeKind`, is named `timeName`. */
interface TableSpec extends RandomTableSpec {
  timeKind: string;
  timeName: string;
}

const cleanNameArb = fc.constantFrom('host', 'region', 'rack', 'usage_user', 'status', 'a b', 'x,y', 'k=v', 'ü€', 'Z', 'a\\b', 'c\\\\d', '😀', '"q"', '#h', 'LUY', 'BEM', 'AJW', 'tag');
/** Tables that the point encoder writes (clean) or, as often, anything (mostly refused somewhere). */
const tableArb: fc.Arbitrary<TableSpec> = fc.tuple(
  fc.boolean(),
  fc.oneof({ weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) }, { weight: 4, arbitrary: fc.integer({ min: 4, max: 30 }) }),
).chain(([clean, rows]) =>
  fc.record({
    rows: fc.constant(rows),
    precision: fc.constantFrom<Precision>('n', 'u', 'ms', 's', 'm', 'h'),
    timeKind: fc.constantFrom(...Object.keys(kTimeKinds)),
    timeName: fc.constantFrom('time', 'ts', 'when'),
    columns: fc.uniqueArray(
      fc.record({ name: clean ? cleanNameArb : nameArb, kind: fc.constantFrom(...kKindNames) }),
      { minLength: 1, maxLength: 7, selector: (c) => c.name },
    ).chain((cols) => fc.tuple(...cols.map((c) => fc.array(fc.option(clean ? (kKinds[c.kind]!.clean ?? kKinds[c.kind]!.arb) : kKinds[c.kind]!.arb, { freq: 6 }), { minLength: rows, maxLength: rows })))
      .map((vals) => cols.map((c, i) => ({ ...c, values: vals[i] as unknown[] })))),
    measurement: fc.constantFrom('cpu', 'cpu load', 'a,b', 'm=1', 'ü€', 'weather\\x'),
    extraTags: fc.dictionary(fc.constantFrom('host', 'region', 'asset_class', 'a b', 'rack'), fc.constantFrom('equities', 'x y', '', 'eu,west'), { maxKeys: 2 }),
    nonFinite: fc.constantFrom<'error' | 'skipField'>('error', 'skipField'),
    invalidRows: fc.constantFrom<'error' | 'skip'>('error', 'skip'),
    allowNewlines: fc.boolean(),
    slice: fc.tuple(fc.nat(rows), fc.nat(rows)).map(([a, b]) => (Math.random() < 0.5 ? [0, rows] : [Math.min(a, b), Math.max(a, b)]) as [number, number]),
    splits: fc.uniqueArray(fc.nat(rows), { maxLength: 3 }),
    maxBodyBytes: fc.oneof(fc.constant(kBig), fc.integer({ min: 40, max: 600 })),
  }).chain((spec) => fc.array(clean ? kTimeKinds[spec.timeKind]!.clean : kTimeKinds[spec.timeKind]!.arb, { minLength: rows, maxLength: rows }).map((times) => ({ ...spec, times }))),
).map((spec) => ({ ...spec, columns: spec.columns.filter((c) => c.name !== spec.timeName) }));

/** The rows [a, b) as point objects, read through Arrow's own getters; with the row index of each. */
function toPoints(spec: TableSpec, full: A.Table): { points: Point[]; rows: number[] } {
  const points: Point[] = [];
  const rows: number[] = [];
  const [a, b] = spec.slice;
  const timeKind = kTimeKinds[spec.timeKind]!;
  for (let r = a; r < b; r++) {
    const tags: Record<string, unknown> = {};
    const fields: Record<string, unknown> = {};
    let hasField = false;
    for (const c of spec.columns) {
      const kind = kKinds[c.kind]!;
      let v = full.getChild(c.name)!.get(r) as unknown;
      if (v === null || v === undefined) v = null;
      else v = kind.toPoint(v);
      if (kind.role === 'tag') tags[c.name] = v;
      else {
        if (kind.float && spec.nonFinite === 'skipField' && typeof v === 'number' && !Number.isFinite(v)) v = null;
        fields[c.name] = v;
        if (v !== null) hasField = true;
      }
    }
    if (!hasField && spec.invalidRows === 'skip') continue;
    points.push({ tags: tags as Point['tags'], fields: fields as Point['fields'], time: timeKind.toPoint(spec.times[r]!, spec.precision) });
    rows.push(r - a);
  }
  return { points, rows };
}

function pointOptions(spec: TableSpec): PointEncoderOptions {
  const o = writeOptionsOf(spec, kKinds, spec.timeName);
  return { precision: spec.precision, measurement: o.measurement, tags: o.tags, fieldTypes: o.fieldTypes, allowNewlinesInStrings: spec.allowNewlines };
}

describe('columnar bytes === point encoder bytes', () => {
  it('random tables of every type (property)', () => {
    let written = 0;
    let refused = 0;
    fc.assert(
      fc.property(tableArb, (spec) => {
        const { table, full } = buildTable(spec, kKinds, { [spec.timeName]: kTimeKinds[spec.timeKind]!.vector(spec.times) });
        const { points, rows } = toPoints(spec, full);
        const p = run(() => ({ bodies: encodeSync(points, pointOptions(spec), spec.maxBodyBytes).bodies }));
        const c = run(() => {
          const r = encodeArrowSync(table, writeOptionsOf(spec, kKinds, spec.timeName), spec.maxBodyBytes);
          return { bodies: r.bodies, skipped: r.skippedRows };
        });
        expectSame(p, c, (i) => rows[i] ?? i);
        if (c.ok) {
          written++;
          // Rows left out are exactly those without a field.
          const kept = new Set(rows);
          const expectedSkipped = [];
          for (let r = 0; r < spec.slice[1] - spec.slice[0]; r++) if (!kept.has(r)) expectedSkipped.push(r);
          expect(c.skipped).toEqual(expectedSkipped);
        } else refused++;
      }),
      { numRuns: Number(process.env.COLUMNAR_RUNS ?? 400) },
    );
    // Both outcomes must be well represented for the property to mean anything.
    expect(written).toBeGreaterThan(40);
    expect(refused).toBeGreaterThan(40);
  });

  it('wide valid tables: no errors, many rows, dictionary tags, exact floats (property)', () => {
    const validTag = fc.constantFrom('host-1', 'us-west-3', 'a b', 'x,y=z', 'ü', '', 'B');
    const validString = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !/[\n\r]/.test(s));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.constantFrom<Precision>('n', 'u', 'ms', 's'),
        fc.integer({ min: 0, max: 2 ** 20 }),
        (rows, precision, seed) => {
          const rnd = prng(seed);
          const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
          const tagPool = fc.sample(validTag, 20);
          const strPool = fc.sample(validString, 20);
          const floats = fc.sample(fc.double({ noNaN: true, noDefaultInfinity: true }), rows);
          const ints = fc.sample(int64Arb, rows);
          const times = fc.sample(fc.bigInt({ min: -(2n ** 62n) / 1000n, max: 2n ** 62n / 1000n }), rows);
          const host = Array.from({ length: rows }, () => (rnd() < 0.1 ? null : pick(tagPool)));
          const status = Array.from({ length: rows }, () => (rnd() < 0.1 ? null : pick(strPool)));
          const table = new A.Table({
            time: A.makeVector({ type: new A.TimestampMicrosecond(), data: BigInt64Array.from(times), length: rows } as never),
            host: A.vectorFromArray(host, new A.Dictionary(new A.Utf8(), new A.Int32())),
            f: A.vectorFromArray(floats, new A.Float64()),
            n: A.vectorFromArray(ints, new A.Int64()),
            s: A.vectorFromArray(status, new A.Utf8()),
            ok: A.vectorFromArray(Array.from({ length: rows }, () => rnd() < 0.5), new A.Bool()),
          });
          const points: Point[] = [];
          for (let i = 0; i < rows; i++) {
            points.push({ tags: { host: host[i] }, fields: { f: floats[i], n: ints[i], s: status[i], ok: table.getChild('ok')!.get(i) as boolean }, time: floorDiv(times[i]! * 1000n, NS_PER[precision]) });
          }
          const opts = { measurement: 'm', precision };
          const p = encodeSync(points, opts, kBig).bodies;
          const c = encodeArrowSync(table, opts, kBig);
          expect(text(c.bodies)).toBe(text(p));
          expect(c.lines).toBe(rows);
        },
      ),
      { numRuns: 60 },
    );
  });
});

// ---- the digit writers -----------------------------------------------------------------------

describe('digit writers', () => {
  const buf = new Uint8Array(64);
  it('int64 words as digits === BigInt toString (property)', () => {
    fc.assert(fc.property(int64Arb, (v) => {
      const w = new Int32Array(BigInt64Array.of(v).buffer);
      const end = writeInt64(buf, 0, w[0]!, w[1]!);
      expect(Buffer.from(buf.subarray(0, end)).toString()).toBe(v.toString());
    }), { numRuns: 5000 });
  });
  it('uint64 as digits (property)', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (v) => {
      const w = new Uint32Array(BigUint64Array.of(v).buffer);
      const end = writeUint64(buf, 0, w[0]!, w[1]!);
      expect(Buffer.from(buf.subarray(0, end)).toString()).toBe(v.toString());
    }), { numRuns: 5000 });
  });
  it('floats === formatFloat (property)', () => {
    fc.assert(fc.property(doubleArb.filter(Number.isFinite), (v) => {
      const end = writeFloat(buf, 0, v);
      expect(Buffer.from(buf.subarray(0, end)).toString()).toBe(formatFloat(v));
    }), { numRuns: 20000 });
  });
});

// ---- errors, one by one ----------------------------------------------------------------------

const kOpts: ArrowEncodeOptions = { measurement: 'm', precision: 'n' };
const ns = (...v: bigint[]) => A.makeVector({ type: new A.TimestampNanosecond(), data: BigInt64Array.from(v), length: v.length } as never);
const enc = (table: A.Table | A.RecordBatch, opts: Partial<ArrowEncodeOptions> = {}, max = kBig) => encodeArrowSync(table, { ...kOpts, ...opts }, max);
const lines = (table: A.Table | A.RecordBatch, opts: Partial<ArrowEncodeOptions> = {}) => text(enc(table, opts).bodies);

function pointError(fn: () => unknown): InvalidPointError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidPointError);
    expect((e as InvalidPointError).code).toBe('FI_ERR_INVALID_POINT');
    return e as InvalidPointError;
  }
  throw new Error('expected an InvalidPointError');
}
function optionError(fn: () => unknown): InvalidOptionError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidOptionError);
    return e as InvalidOptionError;
  }
  throw new Error('expected an InvalidOptionError');
}
/** A Utf8 vector from raw bytes per value (for invalid UTF-8). */
function rawUtf8(values: number[][]): A.Vector {
  const offsets = new Int32Array(values.length + 1);
  const bytes: number[] = [];
  values.forEach((v, i) => {
    bytes.push(...v);
    offsets[i + 1] = bytes.length;
  });
  return A.makeVector(A.makeData({ type: new A.Utf8(), length: values.length, valueOffsets: offsets, data: Uint8Array.from(bytes) }));
}

describe('errors', () => {
  it('Uint64 above 2^63 - 1: names the row and the column', () => {
    const t = new A.Table({ time: ns(1n, 2n, 3n), big: A.vectorFromArray([1n, 2n ** 63n - 1n, 2n ** 63n], new A.Uint64()) });
    const e = pointError(() => enc(t));
    expect([e.pointIndex, e.element, e.key]).toEqual([2, 'fields', 'big']);
    expect(e.message).toBe('invalid point #2: field "big": 9223372036854775808 is outside the int64 range');
    expect(lines(t.slice(0, 2))).toBe('m big=1i 1\nm big=9223372036854775807i 2\n');
  });

  it('rows with no non-null field: refused, naming the rows; or skipped and reported', () => {
    const t = new A.Table({
      time: ns(...Array.from({ length: 15 }, (_, i) => BigInt(i))),
      tag: A.vectorFromArray(Array.from({ length: 15 }, () => 'x'), new A.Dictionary(new A.Utf8(), new A.Int32())),
      a: A.vectorFromArray([1, null, 3, null, 5, null, null, null, null, null, null, null, null, null, 15], new A.Float64()),
    });
    const e = pointError(() => enc(t));
    expect([e.pointIndex, e.element, e.key]).toEqual([1, 'fields', undefined]);
    expect(e.reason).toBe(`${kNoField} (rows 1, 3, 5, 6, 7, 8, 9, 10, 11, 12, … have no non-null field; pass invalidRows: 'skip' to leave such rows out)`);
    const one = pointError(() => enc(t.slice(0, 2)));
    expect(one.reason).toBe(`${kNoField} (row 1 has no non-null field; pass invalidRows: 'skip' to leave such rows out)`);
    const r = enc(t, { invalidRows: 'skip' });
    expect(r.skippedRows).toEqual([1, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(r.lines).toBe(4);
    expect(text(r.bodies)).toBe('m,tag=x a=1 0\nm,tag=x a=3 2\nm,tag=x a=5 4\nm,tag=x a=15 14\n');
  });

  it('row indices count across batches, and skipped rows too', () => {
    const t = new A.Table({ time: ns(0n, 1n, 2n, 3n), a: A.vectorFromArray([1, null, 2, null], new A.Int32()) });
    const two = new A.Table([...t.slice(0, 2).batches, ...t.slice(2).batches]);
    expect(two.batches.length).toBe(2);
    expect(pointError(() => enc(two)).pointIndex).toBe(1);
    expect(enc(two, { invalidRows: 'skip' }).skippedRows).toEqual([1, 3]);
    const late = new A.Table([...t.slice(0, 1).batches, ...t.slice(3).batches]);
    expect(pointError(() => enc(late)).pointIndex).toBe(1);
  });

  it('NaN and ±Infinity: refused with the row and column, or the field skipped', () => {
    const t = new A.Table({ time: ns(1n, 2n, 3n), x: A.vectorFromArray([1.5, NaN, -Infinity], new A.Float64()), y: A.vectorFromArray([1, 2, null], new A.Int8()) });
    const e = pointError(() => enc(t));
    expect(e.message).toBe('invalid point #1: field "x": NaN cannot be written: InfluxDB floats must be finite');
    expect(pointError(() => enc(t.slice(2))).reason).toBe('-Infinity cannot be written: InfluxDB floats must be finite');
    // Skipping the field leaves row 2 without fields: refused, or skipped too.
    expect(pointError(() => enc(t, { nonFinite: 'skipField' })).pointIndex).toBe(2);
    const r = enc(t, { nonFinite: 'skipField', invalidRows: 'skip' });
    expect(text(r.bodies)).toBe('m x=1.5,y=1i 1\nm y=2i 2\n');
    expect(r.skippedRows).toEqual([2]);
    // A float column declared integer refuses non-integers and NaN like points do.
    const d = new A.Table({ time: ns(1n, 2n), x: A.vectorFromArray([3, 1.5], new A.Float64()) });
    expect(pointError(() => enc(d, { fieldTypes: { x: 'integer' } })).reason).toBe('declared integer, but 1.5 is not a safe integer: pass a bigint for values beyond 2^53');
    expect(lines(d.slice(0, 1), { fieldTypes: { x: 'integer' } })).toBe('m x=3i 1\n');
  });

  it('unsupported column types: the column and its type', () => {
    const list = new A.Table({ time: ns(1n), l: A.vectorFromArray([[1, 2]], new A.List(new A.Field('item', new A.Int32()))) });
    const e = pointError(() => enc(list));
    expect([e.pointIndex, e.element, e.key]).toEqual([0, 'fields', 'l']);
    expect(e.reason).toMatch(/^unsupported Arrow type List<Int32> \(supported: Float16\/32\/64, Int8\.\.Int64/);
    const struct = new A.Table({ time: ns(1n), s: A.vectorFromArray([{ a: 1 }]) });
    expect(pointError(() => enc(struct)).reason).toMatch(/^unsupported Arrow type Struct<\{a:Float64\}>/);
    const dec = new A.Table({ time: ns(1n), t: A.makeVector({ type: new A.TimeMillisecond(), data: Int32Array.of(5), length: 1 } as never) });
    expect(pointError(() => enc(dec)).reason).toMatch(/^unsupported Arrow type Time32<MILLISECOND>/);
    const tag = new A.Table({ time: ns(1n), d: A.makeVector({ type: new A.DateDay(), data: Int32Array.of(5), length: 1 } as never), v: A.vectorFromArray([1], new A.Float64()) });
    expect(pointError(() => enc(tag, { tagColumns: ['d'] })).message).toMatch(/^invalid point #0: tag "d": unsupported Arrow type Date32<DAY> for a tag column/);
    const time = new A.Table({ time: A.vectorFromArray([1.5], new A.Float64()), v: A.vectorFromArray([1], new A.Float64()) });
    expect(pointError(() => enc(time)).message).toMatch(/^invalid point #0: time: column "time" has Arrow type Float64, which is not a time/);
  });

  it('invalid UTF-8 in a Utf8 column: refused, with the row (fields) or the entry (tags)', () => {
    const cases = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x61, 0x80]];
    for (const bad of cases) {
      const t = new A.Table({ time: ns(1n, 2n), s: rawUtf8([[0x6f, 0x6b], bad]) });
      const e = pointError(() => enc(t));
      expect(e.message).toBe('invalid point #1: field "s": string value is not valid UTF-8');
    }
    // Well-formed multi-byte sequences pass.
    const good = new A.Table({ time: ns(1n), s: rawUtf8([[0xc3, 0xbc, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xef, 0xbf, 0xbf]]) });
    expect(lines(good)).toBe('m s="ü€😀\uffff" 1\n');
    // As a tag (named in tagColumns): refused at the first row that uses it.
    const t = new A.Table({ time: ns(1n, 2n), tag: rawUtf8([[0x61], [0xff]]), v: A.vectorFromArray([1, 2], new A.Float64()) });
    expect(pointError(() => enc(t, { tagColumns: ['tag'] })).message).toBe('invalid point #1: tag "tag": value is not valid UTF-8');
  });

  it('newlines: refused in tags and keys; in strings unless allowed', () => {
    const t = new A.Table({
      time: ns(1n, 2n),
      tag: A.vectorFromArray(['ok', 'a\nb'], new A.Dictionary(new A.Utf8(), new A.Int32())),
      v: A.vectorFromArray([1, 2], new A.Float64()),
    });
    expect(pointError(() => enc(t)).message).toBe('invalid point #1: tag "tag": value must not contain a newline (\\n or \\r): line protocol has no escape for it');
    const s = new A.Table({ time: ns(1n), s: A.vectorFromArray(['a\r\nb'], new A.Utf8()) });
    expect(pointError(() => enc(s)).message).toBe('invalid point #0: field "s": string value contains a newline; pass allowNewlinesInStrings: true to write it anyway');
    expect(lines(s, { allowNewlinesInStrings: true })).toBe('m s="a\r\nb" 1\n');
    const k = new A.Table({ time: ns(1n), 'a\nb': A.vectorFromArray([1], new A.Float64()) });
    expect(pointError(() => enc(k)).message).toBe('invalid point #0: field "a\\nb": key must not contain a newline (\\n or \\r): line protocol has no escape for it');
  });

  it('strings over 64 KB are refused', () => {
    const t = new A.Table({ time: ns(1n), s: A.vectorFromArray(['x'.repeat(64 * 1024 + 1)], new A.Utf8()) });
    expect(pointError(() => enc(t)).reason).toBe("string value of 65537 bytes is over InfluxDB's 64 KB limit");
    expect(lines(new A.Table({ time: ns(1n), s: A.vectorFromArray(['x'.repeat(64 * 1024)], new A.Utf8()) })).length).toBe(64 * 1024 + 9);
  });

  it('measurement: missing, or not writable', () => {
    const t = new A.Table({ time: ns(1n), v: A.vectorFromArray([1], new A.Float64()) });
    expect(pointError(() => enc(t, { measurement: undefined })).message).toBe('invalid point #0: measurement: missing: give the point a measurement or pass { measurement } to write()');
    expect(pointError(() => enc(t, { measurement: '#m' })).reason).toBe('must not start with "#": InfluxDB reads the line as a comment and drops it');
    expect(pointError(() => enc(t, { measurement: '' })).reason).toBe('must not be empty');
  });

  it('extra tags are checked up front, like the point encoder does', () => {
    const t = new A.Table({ time: ns(1n), v: A.vectorFromArray([1], new A.Float64()) });
    expect(pointError(() => enc(t, { tags: { time: 'x' } })).message).toBe('invalid point #0: tag "time": extra tag: "time" is not allowed as a key: InfluxDB refuses it');
    expect(pointError(() => enc(t, { tags: { a: 'x\n' } })).reason).toMatch(/^extra tag: must not contain a newline/);
  });

  it('time out of range, in any unit', () => {
    const s = new A.Table({ time: A.makeVector({ type: new A.TimestampSecond(), data: BigInt64Array.of(0n, 9_300_000_000n), length: 2 } as never), v: A.vectorFromArray([1, 2], new A.Float64()) });
    expect(pointError(() => enc(s)).message).toBe("invalid point #1: time: 9300000000000000000 (n) is outside InfluxDB's time range");
    expect(pointError(() => enc(s, { precision: 's' })).reason).toBe("9300000000 (s) is outside InfluxDB's time range");
    expect(lines(s.slice(0, 1), { precision: 's' })).toBe('m v=1 0\n');
    const n = new A.Table({ time: ns(-(2n ** 63n)), v: A.vectorFromArray([1], new A.Float64()) });
    expect(pointError(() => enc(n)).reason).toBe("-9223372036854775808 (n) is outside InfluxDB's time range");
  });

  it('options that do not fit the table: InvalidOptionError', () => {
    const t = new A.Table({ a: ns(1n), b: ns(2n), v: A.vectorFromArray([1], new A.Float64()), s: A.vectorFromArray(['x'], new A.Utf8()) });
    expect(optionError(() => enc(t)).message).toBe('the table has 2 Timestamp columns ("a", "b"): pass write options.timeColumn to choose one');
    expect(optionError(() => enc(t, { timeColumn: 'c' })).message).toBe('write options.timeColumn "c" is not a column of the table (columns: "a", "b", "v", "s")');
    expect(optionError(() => enc(t, { timeColumn: 'a', tagColumns: ['zz'] })).message).toMatch(/^write options.tagColumns names "zz", which is not a column/);
    expect(optionError(() => enc(t, { timeColumn: 'a', tagColumns: ['a'] })).message).toBe('column "a" is the time column and cannot also be a tag');
    expect(optionError(() => enc(t, { timeColumn: 'a', fieldTypes: { s: 'integer' } })).message).toBe('write options.fieldTypes.s is integer, but column "s" is Utf8');
    expect(optionError(() => enc(t, { timeColumn: 'a', invalidRows: 'drop' as never })).message).toMatch(/invalidRows must be 'error' or 'skip'/);
    // With timeColumn, the other Timestamp column is an unsupported field.
    expect(pointError(() => enc(t, { timeColumn: 'a' })).message).toMatch(/^invalid point #0: field "b": unsupported Arrow type Timestamp<NANOSECOND>/);
  });
});

// ---- time ------------------------------------------------------------------------------------

describe('time', () => {
  it('every unit, with and without a zone, to every precision, exactly (floor toward the past)', () => {
    const units: [A.TimeUnit, bigint][] = [[A.TimeUnit.SECOND, 1_000_000_000n], [A.TimeUnit.MILLISECOND, 1_000_000n], [A.TimeUnit.MICROSECOND, 1_000n], [A.TimeUnit.NANOSECOND, 1n]];
    const raw = [0n, 1n, -1n, 1_704_067_200n, -1_704_067_201n, 999n, 59n, -61n, 3_600_000n];
    for (const [unit, src] of units) {
      for (const tz of [null, 'America/New_York']) {
        const t = new A.Table({ when: A.makeVector({ type: new A.Timestamp(unit, tz), data: BigInt64Array.from(raw), length: raw.length } as never), v: A.vectorFromArray(raw.map(() => 1), new A.Float64()) });
        for (const p of ['n', 'u', 'ms', 's', 'm', 'h'] as Precision[]) {
          const want = raw.map((r) => `m v=1 ${floorDiv(r * src, NS_PER[p])}\n`).join('');
          expect(lines(t, { precision: p })).toBe(want);
        }
      }
    }
    expect(lines(new A.Table({ when: A.makeVector({ type: new A.TimestampNanosecond(), data: BigInt64Array.of(-1n), length: 1 } as never), v: A.vectorFromArray([1], new A.Float64()) }), { precision: 'ms' })).toBe('m v=1 -1\n');
  });

  it('Date columns: days and milliseconds', () => {
    const t = new A.Table({
      d: A.makeVector({ type: new A.DateDay(), data: Int32Array.of(19723, -1), length: 2 } as never),
      v: A.vectorFromArray([1, 2], new A.Float64()),
    });
    expect(lines(t, { timeColumn: 'd' })).toBe('m v=1 1704067200000000000\nm v=2 -86400000000000\n');
    expect(lines(t, { timeColumn: 'd', precision: 'h' })).toBe('m v=1 473352\nm v=2 -24\n');
    const ms = new A.Table({ time: A.makeVector({ type: new A.DateMillisecond(), data: BigInt64Array.of(1704067200123n), length: 1 } as never), v: A.vectorFromArray([1], new A.Float64()) });
    expect(lines(ms)).toBe('m v=1 1704067200123000000\n');
    expect(lines(ms, { precision: 'u' })).toBe('m v=1 1704067200123000\n');
  });

  it('no time column: the time of the write, strictly increasing; a null time too', () => {
    const t = new A.Table({ v: A.vectorFromArray([1, 2, 3], new A.Float64()) });
    const before = BigInt(Date.now() - 1000) * 1_000_000n;
    const times = lines(t).trim().split('\n').map((l) => BigInt(l.split(' ')[2]!));
    expect(times[0]! > before).toBe(true);
    expect(times[1]! > times[0]! && times[2]! > times[1]!).toBe(true);
    const n = new A.Table({ time: A.vectorFromArray([null, 5n], new A.Int64()), v: A.vectorFromArray([1, 2], new A.Float64()) });
    const [a, b] = lines(n).trim().split('\n');
    expect(BigInt(a!.split(' ')[2]!) > before).toBe(true);
    expect(b).toBe('m v=2 5');
  });

  it('the time column: timeColumn, else the only Timestamp column, else "time"', () => {
    const t = new A.Table({ x: A.vectorFromArray([7n], new A.Int64()), stamp: ns(9n), time: A.vectorFromArray([8n], new A.Int64()) });
    // The only Timestamp column wins; "time" is then a field, which InfluxDB refuses (as for points).
    expect(pointError(() => enc(t)).message).toBe('invalid point #0: field "time": "time" is not allowed as a key: InfluxDB refuses it');
    expect(pointError(() => enc(t, { timeColumn: 'time' })).message).toMatch(/^invalid point #0: field "stamp": unsupported Arrow type Timestamp<NANOSECOND>/);
    const noStamp = new A.Table({ x: A.vectorFromArray([7n], new A.Int64()), time: A.vectorFromArray([8n], new A.Int64()) });
    expect(lines(noStamp)).toBe('m x=7i 8\n');
    expect(lines(noStamp, { precision: 's' })).toBe('m x=7i 8\n');
  });
});

describe('aioinflux DataFrame example, and tags', () => {
  it('prices with a Categorical tag, tagColumns and an extra tag', () => {
    const time = A.makeVector({ type: new A.TimestampMicrosecond('UTC'), data: BigInt64Array.of(1498293917929097n, 1498299317929097n), length: 2 } as never);
    const t = new A.Table({
      time,
      LUY: A.vectorFromArray([2.545409, -0.306673], new A.Float64()),
      BEM: A.vectorFromArray([5.173134, -1.132941], new A.Float64()),
      AJW: A.vectorFromArray([5.532397, -2.130625], new A.Float64()),
      tag: A.vectorFromArray(['B', 'E'], new A.Utf8()),
    });
    expect(lines(t, { measurement: 'prices', tagColumns: ['tag'], tags: { asset_class: 'equities' } })).toBe(
      'prices,asset_class=equities,tag=B LUY=2.545409,BEM=5.173134,AJW=5.532397 1498293917929097000\n'
      + 'prices,asset_class=equities,tag=E LUY=-0.306673,BEM=-1.132941,AJW=-2.130625 1498299317929097000\n');
  });

  it('a row\'s own tag wins over the extra tag; a null or empty one takes it', () => {
    const t = new A.Table({ time: ns(1n, 2n, 3n), host: A.vectorFromArray(['a', null, ''], new A.Dictionary(new A.Utf8(), new A.Int32())), v: A.vectorFromArray([1, 2, 3], new A.Float64()) });
    expect(lines(t, { tags: { host: 'dflt', zone: 'z' } })).toBe('m,host=a,zone=z v=1 1\nm,host=dflt,zone=z v=2 2\nm,host=dflt,zone=z v=3 3\n');
    expect(lines(t)).toBe('m,host=a v=1 1\nm v=2 2\nm v=3 3\n');
  });

  it('a dictionary column declared string is a string field', () => {
    const t = new A.Table({ time: ns(1n, 2n), s: A.vectorFromArray(['a"b', null], new A.Dictionary(new A.Utf8(), new A.Int32())), v: A.vectorFromArray([1, 2], new A.Int16()) });
    expect(lines(t, { fieldTypes: { s: 'string' } })).toBe('m s="a\\"b",v=1i 1\nm v=2i 2\n');
  });
});

describe('inputs', () => {
  const t = new A.Table({ time: ns(1n, 2n, 3n), v: A.vectorFromArray([1, 2, 3], new A.Float64()) });
  const want = 'm v=1 1\nm v=2 2\nm v=3 3\n';

  it('detects tables and batches, also from another copy of apache-arrow (by shape)', () => {
    expect(isArrowInput(t) && isArrowTable(t)).toBe(true);
    expect(isArrowInput(t.batches[0]) && isArrowRecordBatch(t.batches[0])).toBe(true);
    const foreignTable = { schema: t.schema, batches: t.batches };
    const foreignBatch = { schema: t.schema, data: t.batches[0]!.data, numRows: 3 };
    expect(isArrowTable(foreignTable) && isArrowRecordBatch(foreignBatch)).toBe(true);
    expect(isArrowInput([{ fields: { v: 1 } }]) || isArrowInput('m v=1') || isArrowInput(null)).toBe(false);
    expect(text(encodeArrowSync(foreignTable, kOpts, kBig).bodies)).toBe(want);
    expect(text(encodeArrowSync(foreignBatch, kOpts, kBig).bodies)).toBe(want);
  });

  it('an IPC reader, an async generator of batches, an array of batches', async () => {
    const ipc = A.tableToIPC(new A.Table([...t.slice(0, 1).batches, ...t.slice(1).batches]), 'stream');
    const reader = A.RecordBatchReader.from(ipc);
    expect(isArrowInput(reader)).toBe(true);
    expect(text((await encodeArrow(reader, kOpts, kBig)).bodies)).toBe(want);
    async function* gen() {
      for (const b of A.RecordBatchReader.from(ipc)) yield b;
    }
    const r = await encodeArrow(gen(), kOpts, 20);
    expect(text(r.bodies)).toBe(want);
    expect(r.bodies.map((b) => b.lines)).toEqual([2, 1]);
    expect(r.lines).toBe(3);
    expect(text((await encodeArrow([...t.batches, t], kOpts, kBig)).bodies)).toBe(want + want);
    await expect(encodeArrow([t.batches[0]!, { fields: {} }] as never, kOpts, kBig)).rejects.toThrow('invalid point #3: point: expected an Arrow RecordBatch or Table in the iterable, got Object');
  });

  it('a line larger than a body is refused like the point encoder does', () => {
    const e = pointError(() => enc(t, {}, 7));
    expect(e.message).toBe('invalid point #0: point: a line of 8 bytes does not fit a request body of at most 7 bytes');
    expect(enc(t, {}, 8).bodies.map((b) => b.body.toString())).toEqual(['m v=1 1\n', 'm v=2 2\n', 'm v=3 3\n']);
  });
});

describe('the layout, without Arrow (what a WASM encoder reads)', () => {
  const u8 = (s: string) => new TextEncoder().encode(s);
  const layout: ColumnarLayout = {
    rows: 3,
    measurement: u8('cpu\\ load'),
    time: BigInt64Array.of(1704067200000000000n, -1n, 0n),
    timeInvalid: null,
    tags: [
      // host: rows 0 and 2 from the dictionary, row 1 null (no fallback: left out).
      { name: 'host', key: u8('host'), keyInvalid: 0, indices: Int32Array.of(1, 0, 0), validity: Uint8Array.of(0b101), dictData: u8('ab\\ c'), dictOffsets: Int32Array.of(0, 1, 5), dictInvalid: null, fallback: -1 },
      // zone: a constant tag (extra tag of the write).
      { name: 'zone', key: u8('zone'), keyInvalid: 0, indices: null, validity: null, dictData: u8('eu'), dictOffsets: Int32Array.of(0, 2), dictInvalid: null, fallback: 0 },
    ],
    fields: [
      { name: 'f', key: u8('f'), keyInvalid: 0, validity: Uint8Array.of(0b011), kind: FieldKind.FLOAT, values: Float64Array.of(1.5, -0, NaN) },
      { name: 'i', key: u8('i'), keyInvalid: 0, validity: null, kind: FieldKind.INT32, values: Int32Array.of(-2147483648, 0, 7) },
      { name: 'l', key: u8('l'), keyInvalid: 0, validity: Uint8Array.of(0b100), kind: FieldKind.INT64, values: BigInt64Array.of(0n, 0n, -(2n ** 63n)) },
      { name: 'b', key: u8('b'), keyInvalid: 0, validity: null, kind: FieldKind.BOOL, values: Uint8Array.of(0b010) },
      { name: 's', key: u8('s'), keyInvalid: 0, validity: Uint8Array.of(0b001), kind: FieldKind.STRING, offsets: Int32Array.of(2, 6, 6, 6), values: u8('xxa"\\b') },
    ],
    meta: { precision: 'n', timeReasons: new Map() },
  };

  it('encodes every kind of column from plain typed arrays', () => {
    expect(text(encodeLayoutToBodies(layout, kBig))).toBe(
      'cpu\\ load,host=b\\ c,zone=eu f=1.5,i=-2147483648i,b=false,s="a\\"\\\\b" 1704067200000000000\n'
      + 'cpu\\ load,zone=eu f=-0,i=0i,b=true -1\n'
      + 'cpu\\ load,host=a,zone=eu i=7i,l=-9223372036854775808i,b=false 0\n');
  });

  it('encodes a row range, with row indices offset by rowBase', () => {
    expect(text(encodeLayoutToBodies(layout, kBig, { from: 1, to: 2 }))).toBe('cpu\\ load,zone=eu f=-0,i=0i,b=true -1\n');
    const bad = { ...layout, fields: [{ ...layout.fields[0]!, validity: null }] } as ColumnarLayout;
    const e = pointError(() => encodeLayoutToBodies(bad, kBig, { rowBase: 1000 }));
    expect(e.message).toBe('invalid point #1002: field "f": NaN cannot be written: InfluxDB floats must be finite');
  });
});

describe('more tables', () => {
  it('a table without rows writes nothing; duplicate column names are refused', () => {
    const empty = new A.Table({ time: ns(), v: A.vectorFromArray([], new A.Float64()) });
    expect(enc(empty)).toEqual({ bodies: [], lines: 0, skippedRows: [] });
    const v = A.vectorFromArray([1], new A.Float64());
    const schema = new A.Schema([new A.Field('time', new A.TimestampNanosecond()), new A.Field('v', new A.Float64()), new A.Field('v', new A.Float64())]);
    const data = A.makeData({ type: new A.Struct(schema.fields), length: 1, nullCount: 0, children: [ns(1n).data[0]!, v.data[0]!, v.data[0]!] });
    const dup = new A.RecordBatch(schema, data);
    expect(pointError(() => enc(dup)).message).toBe('invalid point #0: field "v": several columns are named "v": a line cannot hold the same key twice');
  });

  it('Null-typed columns are left out', () => {
    const t = new A.Table({ time: ns(1n), nothing: A.vectorFromArray([null], new A.Null()), v: A.vectorFromArray([1], new A.Float64()) });
    expect(lines(t)).toBe('m v=1 1\n');
  });

  it('tableFromArrays makes JS string arrays dictionaries: tags, unless declared string', () => {
    const t = A.tableFromArrays({ v: Float64Array.of(1), s: ['ok'] });
    expect(lines(t)).toMatch(/^m,s=ok v=1 \d+\n$/);
    expect(lines(t, { fieldTypes: { s: 'string' } })).toMatch(/^m v=1,s="ok" \d+\n$/);
  });
});

describe('series key size (measurement + tags + field key + 4 <= 65,535 bytes), as the point encoder counts it', () => {
  /** Both encoders on one row: the same line, or the same error. */
  function both(tag: string, fields: Record<string, number>): Outcome {
    const point = { tags: { t: tag }, fields, time: 1n };
    const p = run(() => ({ bodies: encodeSync([point], { precision: "n", measurement: "m" }, kBig).bodies }));
    const vectors: Record<string, A.Vector> = { time: ns(1n), t: A.vectorFromArray([tag], new A.Dictionary(new A.Utf8(), new A.Int32())) };
    for (const [k, v] of Object.entries(fields)) vectors[k] = A.vectorFromArray([v], new A.Float64());
    const c = run(() => ({ bodies: enc(new A.Table(vectors)).bodies }));
    expectSame(p, c);
    return c;
  }
  it('at the limit, over it, and with a multi-byte field key', () => {
    // m,t=<tag> + v + 4: 4 + tag + 1 + 4 bytes.
    expect(both('x'.repeat(65_535 - 9), { v: 1 }).ok).toBe(true);
    const over = both('x'.repeat(65_535 - 8), { v: 1 });
    expect(over.ok).toBe(false);
    expect((over as { error: InvalidPointError }).error.message).toBe("invalid point #0: point: series key of 65536 bytes (measurement, tags and field key) is over InfluxDB's limit of 65535");
    // The longest key in bytes is the one counted, as influxd does: '€€€' (9 bytes), not 'aaaa'.
    // m,t=<tag> + €€€ + 4: 4 + tag + 9 + 4 bytes.
    expect(both('x'.repeat(65_535 - 17), { aaaa: 1, '€€€': 2 }).ok).toBe(true);
    expect(both('x'.repeat(65_535 - 16), { aaaa: 1, '€€€': 2 }).ok).toBe(false);
    expect(both('😀'.repeat(16_380), { '😀😀': 1, abc: 2 }).ok).toBe(false);
  });
});
