/**
 * Point objects → columnar layouts (`src/encode/columnar/point-builder.ts`) → the columnar
 * encoder, against the point encoder (`encodeSync`): random point sequences (several
 * measurements and schemas, tags with empty/null/number/boolean values and hostile names, extra
 * tags, fields of every kind in varying orders, declared types, times of every input kind,
 * invalid points, small bodies) give the same bodies, lines and skipped rows, or the same first
 * error. The clock is replaced by a deterministic one, reset before each encoder runs, so that
 * points without a time compare too (the builder must read it as often and in the same order).
 * Then the standard workload, and how schemas split layouts.
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { EncodedBody } from '../../../../src/encode/body-builder.js';
import { FieldKind } from '../../../../src/encode/columnar/layout.js';
import { PointColumnBuilder, type PointBuilderOptions, type PointLayout } from '../../../../src/encode/columnar/point-builder.js';
import { encodePointsColumnar, pointsToLayouts } from '../../../../src/encode/columnar/point-layouts.js';
import { ColumnarBodyWriter, encodeLayout, encodeLayoutToBodies } from '../../../../src/encode/columnar/ts-encoder.js';
import { encodeSync } from '../../../../src/encode/input.js';
import type { FieldValue, Point, TagValue } from '../../../../src/encode/point-encoder.js';
import { formatNsAsIso } from '../../../../src/encode/time.js';
import { InvalidOptionError, InvalidPointError } from '../../../../src/errors.js';
import type { FieldType, Precision } from '../../../../src/options/index.js';
import { makeWorkload, toPoints } from '../../../helpers/generators.js';

// A deterministic clock: every read moves it on, so a different number or order of reads shows.
const clock = vi.hoisted(() => ({ t: 0n }));
vi.mock('../../../../src/encode/time.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../../src/encode/time.js')>();
  return { ...real, nowNs: () => (clock.t += 1_000_003n) };
});
const kClockStart = 1_704_067_200_123_456_789n;
beforeEach(() => {
  clock.t = kClockStart;
});

// ---- the paths -------------------------------------------------------------------------------

interface Written {
  bodies: EncodedBody[];
  lines: number;
  skippedRows: number[];
}
type Outcome = { ok: true; out: Written; layouts?: PointLayout[] } | { ok: false; error: unknown };

function run(fn: () => Written | { out: Written; layouts: PointLayout[] }): Outcome {
  clock.t = kClockStart;
  try {
    const r = fn();
    return 'out' in r ? { ok: true, ...r } : { ok: true, out: r };
  } catch (error) {
    return { ok: false, error };
  }
}

const reference = (points: unknown[], options: PointBuilderOptions, maxBodyBytes: number): Outcome =>
  run(() => encodeSync(points, options, maxBodyBytes));

const viaHelper = (points: unknown[], options: PointBuilderOptions, maxBodyBytes: number): Outcome =>
  run(() => encodePointsColumnar(points as Point[], options, maxBodyBytes));

/**
 * The builder without `maxBodyBytes`, as the pool may drive it: layouts taken as they close;
 * when `add()` refuses a point, the layouts before it are encoded first (a line too large in
 * them is the first error), then the refusal is reported.
 */
function viaBuilder(points: unknown[], options: PointBuilderOptions, maxBodyBytes: number): Outcome {
  return run(() => {
    const writer = new ColumnarBodyWriter(maxBodyBytes);
    const skippedRows: number[] = [];
    const layouts: PointLayout[] = [];
    const encode = (ls: PointLayout[]) => {
      for (const l of ls) {
        layouts.push(l);
        encodeLayout(l, writer, { rowBase: l.rowBase, nonFinite: options.nonFinite, invalidRows: options.invalidRows, allowNewlinesInStrings: options.allowNewlinesInStrings, skippedRows });
      }
    };
    let b: PointColumnBuilder | undefined;
    for (let i = 0; i < points.length; i++) {
      b ??= new PointColumnBuilder(options);
      try {
        b.add(points[i] as Point, i);
      } catch (e) {
        encode(b.flush());
        throw e;
      }
      if (b.hasReady) encode(b.takeReady());
    }
    if (b !== undefined) encode(b.flush());
    const lines = writer.lineCount;
    return { out: { bodies: writer.finish(), lines, skippedRows }, layouts };
  });
}

const bytes = (bodies: readonly EncodedBody[]) => Buffer.concat(bodies.map((b) => b.body));
const text = (bodies: readonly EncodedBody[]) => bytes(bodies).toString('utf8');

/** Byte for byte (the text first, for a readable difference). */
function expectBytes(got: Buffer, want: Buffer): void {
  if (!got.equals(want)) expect(got.toString('utf8')).toBe(want.toString('utf8'));
  expect(got.equals(want)).toBe(true);
}

function describeError(e: unknown): unknown {
  if (e instanceof InvalidPointError) return { class: 'InvalidPointError', index: e.pointIndex, element: e.element, key: e.key, reason: e.reason, message: e.message };
  if (e instanceof Error) return { class: e.constructor.name, message: e.message };
  return e;
}

function expectSame(ref: Outcome, got: Outcome): void {
  if (!ref.ok) {
    if (got.ok) throw new Error(`the point encoder refused (${String(ref.error)}) but the builder path wrote:\n${text(got.out.bodies)}`);
    expect(describeError(got.error)).toEqual(describeError(ref.error));
    return;
  }
  if (!got.ok) throw got.error;
  expectBytes(bytes(got.out.bodies), bytes(ref.out.bodies));
  expect(got.out.bodies.map((b) => [b.body.length, b.lines])).toEqual(ref.out.bodies.map((b) => [b.body.length, b.lines]));
  expect(got.out.lines).toBe(ref.out.lines);
  expect(got.out.skippedRows).toEqual(ref.out.skippedRows);
}

/** Layouts cover the points in order: contiguous row bases, then each layout alone gives its share of the bytes. */
function expectLayoutsInOrder(layouts: readonly PointLayout[], options: PointBuilderOptions, expected: Buffer): void {
  let next = layouts[0]?.rowBase ?? 0;
  for (const l of layouts) {
    expect(l.rowBase).toBe(next);
    expect(l.rows).toBeGreaterThan(0);
    next += l.rows;
  }
  const opts = { nonFinite: options.nonFinite, invalidRows: options.invalidRows, allowNewlinesInStrings: options.allowNewlinesInStrings };
  const parts = layouts.map((l) => bytes(encodeLayoutToBodies(l, 2 ** 31 - 1, { ...opts, rowBase: l.rowBase })));
  expectBytes(Buffer.concat(parts), expected);
}

// ---- random points ---------------------------------------------------------------------------

/**
 * Generators come clean (values the point encoder writes, empty/null ones included) or dirty
 * (with values it refuses, mixed in): clean sequences run long and reach many layouts, dirty
 * ones test the first error. A clean sequence may still get one bad point, anywhere.
 */
type W<T> = readonly [weight: number, arbitrary: fc.Arbitrary<T>];
function mix<T>(dirty: boolean, clean: readonly W<T>[], bad: readonly W<T>[]): fc.Arbitrary<T> {
  const all = dirty ? [...clean, ...bad] : clean;
  return fc.oneof(...all.map(([weight, arbitrary]) => ({ weight, arbitrary })));
}

const kHostileChars = [',', ' ', '=', '"', '\\', 'a', 'b', 'z', 'é', '€', '😀', '#', '_', '0'];
const kRefusedChars = ['\t', '\n', '\r', '\0', '\ud800'];
/** Strings of characters that need escaping somewhere; dirty: sometimes refused ones too. */
const hostile = (maxLength: number, dirty: boolean) => fc.array(
  mix(dirty, [[14, fc.constantFrom(...kHostileChars)]], [[1, fc.constantFrom(...kRefusedChars)]]),
  { minLength: 1, maxLength },
).map((a) => a.join(''));
/** Names the point encoder accepts (a backslash only before a character it can be followed by). */
const cleanName = (maxLength: number) => hostile(maxLength, false).filter((s) => !/\\([, ="]|$)/.test(s) && !s.startsWith('#'));

const measurementArb = (dirty: boolean) => mix<string>(dirty,
  [[20, fc.constantFrom('cpu', 'mem', 'cpu load', 'a,b', 'm=1', 'ü€', 'w\\x')], [1, cleanName(5)]],
  [[2, fc.constantFrom('', '#c', 'end\\', '\tm', 'a\nb')], [1, hostile(5, true)]]);
const tagKeyArb = (dirty: boolean) => mix<string>(dirty,
  [[20, fc.constantFrom('host', 'region', 'rack', 'dc', 'a b', 'x,y', 'k=v', 'ü€', 'Z', '1', '__proto__')], [2, cleanName(4)]],
  [[2, fc.constantFrom('time', '_field', '_measurement', 'end\\', 'n\nl')]]);
const tagValueArb = (dirty: boolean) => mix<TagValue>(dirty, [
  [12, fc.constantFrom('host-1', 'host-2', 'us-west', 'a b', 'x,y=z', 'ü', 'B', 'a\\b', '"q"', '#h')],
  [3, fc.constantFrom<TagValue>('', null, undefined)],
  [2, fc.oneof(fc.integer({ min: -3, max: 3 }), fc.double(), fc.boolean(), fc.bigInt({ min: -5n, max: 5n }))],
  [2, cleanName(5)],
], [[2, hostile(5, true)], [1, fc.constantFrom({} as unknown as TagValue, 'end\\', 'a\nb')]]);
const fieldKeyArb = (dirty: boolean) => mix<string>(dirty,
  [[20, fc.constantFrom('usage', 'count', 'status', 'ok', 'f e', 'a,b', 'x=y', 'ü', '2', '__proto__', 'host')], [2, cleanName(4)]],
  [[2, fc.constantFrom('time', '_measurement', '\tk', 'end\\', '')]]);

type FieldKindName = 'float' | 'bigint' | 'declInt' | 'string' | 'bool';
const kKinds: readonly FieldKindName[] = ['float', 'bigint', 'declInt', 'string', 'bool'];

const cleanDouble = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-0, 0, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 63.414885615, 0.1, 2 ** 53),
  fc.integer({ min: 0, max: 100_000_000_000 }).map((n) => n / 1e9),
);
const stringArb = (dirty: boolean) => mix<string>(dirty, [
  [6, fc.constantFrom('ok', 'degraded', '', 'say "hi"', 'C:\\path\\', '\\', '"', 'ünï€😀', 'tab\there')],
  [3, hostile(8, false)],
  [1, fc.string({ unit: 'grapheme', maxLength: 10 }).filter((s) => !/[\n\r]/.test(s))],
], [[3, hostile(8, true)], [1, fc.string({ unit: 'binary', maxLength: 6 })]]);
function valueArb(kind: FieldKindName, dirty: boolean): fc.Arbitrary<FieldValue> {
  switch (kind) {
    case 'float': return mix<FieldValue>(dirty, [[20, cleanDouble]], [[2, fc.constantFrom(NaN, Infinity, -Infinity)]]);
    case 'bigint': return mix<FieldValue>(dirty, [
      [20, fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })],
      [4, fc.constantFrom(0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n)],
    ], [[2, fc.constantFrom(2n ** 63n, -(2n ** 63n) - 1n)]]);
    case 'declInt': return mix<FieldValue>(dirty,
      [[20, fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.constantFrom(-0, 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 32, -(2 ** 32), -1))]],
      [[2, fc.constantFrom(2 ** 53, 1.5, NaN, Infinity)]]);
    case 'string': return stringArb(dirty);
    case 'bool': return fc.boolean();
  }
}
/** A field value: mostly its template's kind, sometimes nothing; dirty: sometimes another kind or type. */
const fieldArb = (kind: FieldKindName, dirty: boolean) => mix<FieldValue>(dirty,
  [[24, valueArb(kind, dirty)], [dirty ? 3 : 1, fc.constantFrom(null, undefined)]],
  [[2, fc.constantFrom(...kKinds).chain((k) => valueArb(k, dirty))], [1, fc.constantFrom({} as unknown as FieldValue, [1] as unknown as FieldValue)]]);

const kNsPer: Record<Precision, bigint> = { n: 1n, u: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };
function timeArb(p: Precision, dirty: boolean): fc.Arbitrary<unknown> {
  const per = kNsPer[p];
  const maxT = 9223372036854775806n / per;
  const maxMs = Number(9223372036854775806n / 1_000_000n);
  return mix<unknown>(dirty, [
    [4, fc.bigInt({ min: 1_600_000_000_000_000_000n / per, max: 1_900_000_000_000_000_000n / per })],
    [2, fc.bigInt({ min: -maxT, max: maxT })],
    [1, fc.constantFrom(maxT, -maxT, 0n, -1n)],
    [3, fc.maxSafeInteger().map((n) => (Math.abs(n) > Number(maxT) ? n % Number(maxT) : n))],
    [3, fc.integer({ min: -maxMs, max: maxMs }).map((ms) => new Date(ms))],
    [1, fc.constantFrom(new Date(0), new Date(-1), new Date(1_704_067_200_123))],
    [3, fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }).map(formatNsAsIso)],
    [1, fc.constantFrom('2024-01-01', '2024-01-01T00:00:00', '2024-02-29T12:34:56.123456789+05:30', '2024-01-01 10:00:00.5-0800', '1677-09-21T00:12:43.145224194Z')],
    [3, fc.constantFrom(undefined, null)],
  ], [
    [1, fc.constantFrom(maxT + 1n, -maxT - 1n, 2n ** 63n, 2 ** 53, 1.5, NaN, -Infinity, Number(maxT) * 2 + 1e6)],
    [1, fc.constantFrom(new Date(NaN), new Date(8.64e15), new Date(-8.64e15))],
    [1, fc.constantFrom('2262-04-12T00:00:00Z', '1677-09-21T00:00:00Z', 'yesterday', '2023-02-29', '2024-13-01', '2024-01-01T24:00:00Z')],
    [1, fc.constantFrom(true, {})],
  ]);
}

interface Template {
  measurement: string | undefined;
  tagKeys: string[];
  fields: [string, FieldKindName][];
}
const templateArb = (dirty: boolean, hasDefault: boolean): fc.Arbitrary<Template> => fc.record({
  measurement: hasDefault ? fc.option(measurementArb(dirty), { freq: 3, nil: undefined }) : measurementArb(dirty),
  tagKeys: fc.uniqueArray(tagKeyArb(dirty), { maxLength: 4 }),
  fields: fc.uniqueArray(fc.tuple(fieldKeyArb(dirty), fc.constantFrom(...kKinds)), { minLength: dirty ? 1 : 2, maxLength: 5, selector: (f) => f[0] }),
});

interface Case {
  options: PointBuilderOptions;
  maxBodyBytes: number;
  points: unknown[];
}

const optionsArb = (dirty: boolean) => fc.record({
  precision: fc.constantFrom<Precision>('n', 'u', 'ms', 's', 'm', 'h'),
  measurement: mix<string | undefined>(dirty, [[3, fc.constant(undefined)], [2, fc.constantFrom('dflt', 'cpu', 'a b')]], [[1, fc.constantFrom('#x', '')]]),
  tags: mix<Record<string, string> | undefined>(dirty, [
    [3, fc.constant(undefined)],
    [2, fc.dictionary(fc.constantFrom('dc', 'host', 'rack', 'z z', 'ü'), fc.constantFrom('eu', '', 'h0', 'a,b'))],
  ], [[1, fc.constantFrom<Record<string, string>>({ time: 'x' }, { ok: 'a\nb' }, { 'b\\': '' })]]),
  nonFinite: fc.constantFrom<'error' | 'skipField'>('error', 'skipField'),
  invalidRows: fc.constantFrom<'error' | 'skip'>('error', 'skip'),
  allowNewlinesInStrings: fc.boolean(),
  maxRows: fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 6 })),
  /** Declared types beyond the templates' own: some right, some wrong. */
  extraTypes: dirty
    ? fc.dictionary(fc.constantFrom('usage', 'count', 'status', 'ok', 'ü'), fc.constantFrom<FieldType>('float', 'integer', 'string', 'boolean'), { maxKeys: 2 })
    : fc.constant({}),
});

const kWeirdPoints: unknown[] = [null, 42, undefined, true, { measurement: 'm' }, { measurement: 'm', fields: null }, { measurement: 'm', fields: 'x' }, { measurement: 'm', fields: {} }];

const caseArb: fc.Arbitrary<Case> = fc.boolean().chain((dirty) => fc.tuple(
  fc.constant(dirty),
  optionsArb(dirty),
  fc.oneof({ weight: 4, arbitrary: fc.constant(5_000_000) }, { weight: 2, arbitrary: fc.integer({ min: 60, max: 600 }) }),
)).chain(([dirty, o, maxBodyBytes]) => fc.tuple(
  fc.constant(dirty), fc.constant(o), fc.constant(maxBodyBytes),
  fc.array(templateArb(dirty, o.measurement !== undefined), { minLength: 1, maxLength: 3 }),
)).chain(([dirty, o, maxBodyBytes, templates]) => {
  const fieldTypes: Record<string, FieldType> = { ...o.extraTypes };
  for (const t of templates) for (const [k, kind] of t.fields) if (kind === 'declInt') fieldTypes[k] = 'integer';
  const { extraTypes: _, ...rest } = o;
  const options: PointBuilderOptions = { ...rest, fieldTypes: Object.keys(fieldTypes).length > 0 ? fieldTypes : undefined };
  const fromTemplate = (t: Template) => fc.record({
    measurement: mix<unknown>(dirty, [[12, fc.constant(t.measurement)]], [[1, fc.oneof(measurementArb(true), fc.constantFrom(undefined, null, 5))]]),
    tags: mix<unknown>(dirty, [
      [12, fc.tuple(...t.tagKeys.map(() => tagValueArb(dirty))).map((vs) => Object.fromEntries(t.tagKeys.map((k, i) => [k, vs[i]])))],
      [2, fc.constantFrom(undefined, null)],
    ], [[1, fc.constantFrom('host=a', 5)]]),
    fields: fc.tuple(fc.tuple(...t.fields.map(([, kind]) => fieldArb(kind, dirty))), fc.constantFrom('keep', 'keep', 'keep', 'keep', 'keep', 'reverse', 'drop-first', 'add'))
      .map(([vs, how]) => {
        let entries: [string, FieldValue][] = t.fields.map(([k], i) => [k, vs[i]]);
        if (how === 'reverse') entries = entries.reverse();
        else if (how === 'drop-first') entries = entries.slice(1);
        else if (how === 'add') entries.splice(1, 0, ['new', 1.5]);
        return Object.fromEntries(entries);
      }),
    time: timeArb(o.precision, dirty),
  }).map((p) => {
    const point: Record<string, unknown> = { fields: p.fields };
    if (p.measurement !== undefined) point.measurement = p.measurement;
    if (p.tags !== undefined) point.tags = p.tags;
    if (p.time !== undefined) point.time = p.time;
    return point;
  });
  const pointArb = mix<unknown>(dirty, [[40, fc.nat(templates.length - 1).chain((i) => fromTemplate(templates[i]!))]], [[1, fc.constantFrom(...kWeirdPoints)]]);
  return fc.record({
    options: fc.constant(options),
    maxBodyBytes: fc.constant(maxBodyBytes),
    points: fc.tuple(
      fc.array(pointArb, { maxLength: dirty ? 30 : 80 }),
      // One bad point somewhere, sometimes, in a clean sequence.
      fc.oneof(
        { weight: 6, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.constantFrom<unknown>(...kWeirdPoints, { measurement: 'cpu', fields: { v: NaN } }, { measurement: 'cpu', tags: { time: 'x' }, fields: { v: 1 } }, { measurement: 'cpu', fields: { v: 1 }, time: 'never' })) },
      ),
    ).map(([ps, bad]) => {
      if (bad !== null && !dirty) ps.splice(bad[0] % (ps.length + 1), 0, bad[1]);
      return ps;
    }),
  });
});

// ---- the property ----------------------------------------------------------------------------

describe('point builder against the point encoder', () => {
  it('random point sequences: same bodies, lines, skipped rows, or the same first error', () => {
    let errors = 0;
    let splits = 0;
    fc.assert(fc.property(caseArb, ({ options, maxBodyBytes, points }) => {
      const ref = reference(points, options, maxBodyBytes);
      expectSame(ref, viaHelper(points, options, maxBodyBytes));
      const built = viaBuilder(points, options, maxBodyBytes);
      expectSame(ref, built);
      if (!ref.ok) errors++;
      if (built.ok && ref.ok) {
        const layouts = built.layouts!;
        if (layouts.length > 1) splits++;
        expectLayoutsInOrder(layouts, options, bytes(ref.out.bodies));
        expect(layouts.reduce((n, l) => n + l.rows, 0)).toBe(points.length);
        for (const l of layouts) {
          // Names and times are checked when added: nothing for the encoder to refuse.
          expect(l.timeInvalid).toBeNull();
          for (const t of l.tags) expect([t.keyInvalid, t.dictInvalid]).toEqual([0, null]);
          for (const f of l.fields) expect(f.keyInvalid).toBe(0);
          expect(l.rows).toBeLessThanOrEqual(options.maxRows ?? 65_536);
        }
      }
    }), { numRuns: 3_000 });
    // The generator reaches both sides.
    expect(errors).toBeGreaterThan(300);
    expect(splits).toBeGreaterThan(300);
  });
});

// ---- the standard workload -------------------------------------------------------------------


describe('the standard workload', () => {
  it('100k points: the point encoder\'s bytes and bodies, in two layouts', async () => {
    const points = toPoints(makeWorkload(100_000));
    const options: PointBuilderOptions = { precision: 'n' };
    const ref = encodeSync(points, options, 5_000_000);
    const got = encodePointsColumnar(points, options, 5_000_000);
    expect(got.lines).toBe(100_000);
    expect(Buffer.concat(got.bodies.map((b) => b.body)).equals(Buffer.concat(ref.bodies.map((b) => b.body)))).toBe(true);
    expect(got.bodies.map((b) => [b.body.length, b.lines])).toEqual(ref.bodies.map((b) => [b.body.length, b.lines]));
    const layouts = [...pointsToLayouts(points, options)];
    expect(layouts.map((l) => [l.rowBase, l.rows])).toEqual([[0, 65_536], [65_536, 34_464]]);
    const l = layouts[0]!;
    expect(l.tags.map((t) => [t.name, t.indices !== null, t.dictOffsets.length - 1])).toEqual([['host', true, 1001], ['rack', true, 101], ['region', true, 11]]);
    expect(l.fields.map((f) => [f.name, f.kind, f.validity])).toEqual([
      ['usage_user', FieldKind.FLOAT, null], ['usage_system', FieldKind.FLOAT, null], ['requests', FieldKind.INT64, null], ['status', FieldKind.STRING, null],
    ]);
  });
});

// ---- layouts ---------------------------------------------------------------------------------

function layoutsOf(points: Point[], options: PointBuilderOptions = { precision: 'n' }): PointLayout[] {
  const layouts = [...pointsToLayouts(points, options)];
  expectLayoutsInOrder(layouts, options, bytes(encodeSync(points, options, 5_000_000).bodies));
  return layouts;
}
const shape = (layouts: PointLayout[]) => layouts.map((l) => ({
  rowBase: l.rowBase, rows: l.rows, m: Buffer.from(l.measurement).toString(),
  tags: l.tags.map((t) => t.name), fields: l.fields.map((f) => `${f.name}:${f.kind}${f.validity === null ? '' : '?'}`),
}));

describe('layouts', () => {
  it('a new measurement, a field of another kind, or fields in an order the columns cannot follow open a new layout', () => {
    const layouts = layoutsOf([
      { measurement: 'a', fields: { x: 1, y: 2 }, time: 1n },
      { measurement: 'a', fields: { x: 3, y: 4 }, time: 2n },
      { measurement: 'b', fields: { x: 5 }, time: 3n },
      { measurement: 'a', fields: { x: 6 }, time: 4n },
      { measurement: 'a', fields: { x: 'six' }, time: 5n },
      { measurement: 'a', fields: { y: true, x: 'seven' }, time: 6n },
      { measurement: 'a', fields: { x: 'eight', y: false }, time: 7n },
    ]);
    expect(shape(layouts)).toEqual([
      { rowBase: 0, rows: 2, m: 'a', tags: [], fields: ['x:1', 'y:1'] },
      { rowBase: 2, rows: 1, m: 'b', tags: [], fields: ['x:1'] },
      { rowBase: 3, rows: 1, m: 'a', tags: [], fields: ['x:1'] },
      { rowBase: 4, rows: 2, m: 'a', tags: [], fields: ['y:5?', 'x:6'] },
      { rowBase: 6, rows: 1, m: 'a', tags: [], fields: ['x:6', 'y:5'] },
    ]);
  });

  it('missing, null and new fields, and other tag sets share a layout (validity bits, empty dictionary entries)', () => {
    const layouts = layoutsOf([
      { measurement: 'm', tags: { host: 'a' }, fields: { a: 1, c: 'x' }, time: 1n },
      { measurement: 'm', tags: { host: 'b', dc: 'eu' }, fields: { a: 2 }, time: 2n },
      { measurement: 'm', tags: {}, fields: { a: null, c: 'y' }, time: 3n },
      { measurement: 'm', tags: { dc: '', host: null }, fields: { a: 4, b: 5n, c: 'z' }, time: 4n },
      { measurement: 'm', fields: { b: 6n, c: undefined, d: true }, time: 5n },
      { measurement: 'm', tags: { rack: 7, host: 'a' }, fields: { a: NaN }, time: 6n },
    ], { precision: 'n', nonFinite: 'skipField', invalidRows: 'skip' });
    expect(shape(layouts)).toEqual([{ rowBase: 0, rows: 6, m: 'm', tags: ['dc', 'host', 'rack'], fields: ['a:1?', 'b:3?', 'd:5?', 'c:6?'] }]);
    expect(encodePointsColumnar([{ measurement: 'm', fields: { a: NaN } }], { precision: 'n', nonFinite: 'skipField', invalidRows: 'skip' }, 1000).skippedRows).toEqual([0]);
  });

  it('extra tags are the fallback of their column; a point\'s own non-empty value wins', () => {
    const points: Point[] = [
      { measurement: 'm', tags: { dc: 'us' }, fields: { v: 1 }, time: 1n },
      { measurement: 'm', tags: { dc: '' }, fields: { v: 2 }, time: 2n },
      { measurement: 'm', fields: { v: 3 }, time: 3n },
    ];
    const layouts = layoutsOf(points, { precision: 'n', tags: { dc: 'eu', zone: 'z 1' } });
    expect(layouts[0]!.tags.map((t) => [t.name, t.fallback, t.indices === null])).toEqual([['dc', 1, false], ['zone', 1, true]]);
    expect(text(encodePointsColumnar(points, { precision: 'n', tags: { dc: 'eu', zone: 'z 1' } }, 1000).bodies))
      .toBe('m,dc=us,zone=z\\ 1 v=1 1\nm,dc=eu,zone=z\\ 1 v=2 2\nm,dc=eu,zone=z\\ 1 v=3 3\n');
  });

  it('maxRows, a gap in the indices and maxStringBytes close the layout', () => {
    const p = (i: number): Point => ({ measurement: 'm', fields: { s: 'x'.repeat(10) }, time: BigInt(i) });
    const byRows = layoutsOf(Array.from({ length: 10 }, (_, i) => p(i)), { precision: 'n', maxRows: 4 });
    expect(byRows.map((l) => [l.rowBase, l.rows])).toEqual([[0, 4], [4, 4], [8, 2]]);
    const byBytes = layoutsOf(Array.from({ length: 10 }, (_, i) => p(i)), { precision: 'n', maxStringBytes: 25 });
    expect(byBytes.map((l) => [l.rowBase, l.rows])).toEqual([[0, 3], [3, 3], [6, 3], [9, 1]]);
    const b = new PointColumnBuilder({ precision: 'n' });
    b.add(p(0), 0);
    b.add(p(1), 1);
    expect(b.hasReady).toBe(false);
    b.add(p(5), 5);
    expect(b.hasReady).toBe(true);
    expect(b.pendingRows).toBe(3);
    expect(b.takeReady().map((l) => [l.rowBase, l.rows])).toEqual([[0, 2]]);
    expect(b.flush().map((l) => [l.rowBase, l.rows])).toEqual([[5, 1]]);
    expect(b.flush()).toEqual([]);
  });

  it('grows its arrays past the first capacity, and keeps every value', () => {
    const points: Point[] = Array.from({ length: 3000 }, (_, i) => ({
      measurement: 'm',
      tags: i % 3 === 0 ? { host: `h${i % 17}` } : { rack: `r${i % 5}` },
      fields: i % 7 === 0 ? { b: i % 2 === 0, n: BigInt(i) } : { f: i / 3, s: 'é'.repeat(i % 11), b: i % 3 === 0, n: -i },
      time: i * 1000,
    }));
    const options: PointBuilderOptions = { precision: 'ms', fieldTypes: { n: 'integer' } };
    const layouts = layoutsOf(points, options);
    expect(layouts).toHaveLength(1);
    expect(layouts[0]!.fields.map((f) => f.name)).toEqual(['f', 's', 'b', 'n']);
  });

  it('reuses its columns from layout to layout without carrying values over', () => {
    // Runs of 1 to 300 points of three measurements and changing schemas, sparse columns
    // included (their arrays let go of after a sparse layout), checked against the point encoder.
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const points: Point[] = [];
    while (points.length < 6000) {
      const m = ['cpu', 'mem', 'disk'][Math.floor(rand() * 3)]!;
      const run = 1 + Math.floor(rand() ** 3 * 300);
      for (let i = 0; i < run; i++) {
        const tags: Record<string, TagValue> = { host: `h${Math.floor(rand() * 20)}` };
        if (rand() < 0.1) tags.rare = `r${Math.floor(rand() * 3)}`;
        const fields: Record<string, FieldValue> = { v: rand() };
        if (rand() < 0.3) fields.s = 'ab"\\'.slice(0, Math.floor(rand() * 5));
        if (rand() < 0.05) fields.sparse = BigInt(Math.floor(rand() * 1000));
        if (rand() < 0.5) fields.b = rand() < 0.5;
        if (rand() < 0.02) fields.n = null;
        points.push({ measurement: m, tags, fields, time: BigInt(points.length) });
      }
    }
    const layouts = layoutsOf(points);
    expect(layouts.length).toBeGreaterThan(50);
  });

  it('a layout whose columns are sparse closes rather than allocate far beyond its values', () => {
    // Thirty keys, each at row j and row j + 40,000: the second value of each would grow its
    // column to 65,536 rows.
    const points: Point[] = Array.from({ length: 50_000 }, (_, i) => {
      const fields: Record<string, FieldValue> = { v: i };
      if (i < 30) fields[`k${i}`] = 1;
      else if (i >= 40_000 && i < 40_030) fields[`k${i - 40_000}`] = 2;
      return { measurement: 'm', fields, time: BigInt(i) };
    });
    const layouts = layoutsOf(points);
    expect(layouts.length).toBeGreaterThan(1);
    expect(layouts.length).toBeLessThan(30);
  });

  it('option checks', () => {
    expect(() => new PointColumnBuilder({ precision: 'n', maxRows: 0 })).toThrow(InvalidOptionError);
    expect(() => new PointColumnBuilder({ precision: 'x' as Precision })).toThrow(InvalidOptionError);
    // Extra tags are checked up front as the point encoder does (when there is a point, for encodeSync).
    const bad = { precision: 'n', tags: { time: 'x' } } as const;
    expectSame(reference([{ fields: { a: 1 } }], bad, 1000), viaHelper([{ fields: { a: 1 } }], bad, 1000));
    expect(() => new PointColumnBuilder(bad)).toThrow(/extra tag/);
    expect(encodePointsColumnar([], bad, 1000).lines).toBe(0);
  });
});

// ---- errors ----------------------------------------------------------------------------------

describe('errors', () => {
  const cases: [string, unknown[], PointBuilderOptions?][] = [
    ['non-finite float, then a bad tag', [{ measurement: 'm', fields: { v: 1 } }, { measurement: 'm', fields: { v: NaN } }, { measurement: 'm', tags: { t: 'a\nb' }, fields: { v: 1 } }]],
    ['string over 64 KB', [{ measurement: 'm', fields: { s: 'x'.repeat(65_537) }, time: 1n }]],
    ['string of 64 KB exactly', [{ measurement: 'm', fields: { s: 'é'.repeat(32_768) }, time: 1n }]],
    ['lone surrogate', [{ measurement: 'm', fields: { s: 'a\ud83d' }, time: 1n }]],
    ['newline in a string', [{ measurement: 'm', fields: { s: 'a\nb' }, time: 1n }]],
    ['newline allowed', [{ measurement: 'm', fields: { s: 'a\nb\r' }, time: 1n }], { precision: 'n', allowNewlinesInStrings: true }],
    ['declared integer, not safe', [{ measurement: 'm', fields: { i: 2 ** 53 } }], { precision: 'n', fieldTypes: { i: 'integer' } }],
    ['declared integer, NaN with skipField', [{ measurement: 'm', fields: { i: NaN } }], { precision: 'n', fieldTypes: { i: 'integer' }, nonFinite: 'skipField' }],
    ['a bigint declared float', [{ measurement: 'm', fields: { i: 1n } }], { precision: 'n', fieldTypes: { i: 'float' } }],
    ['series key too long', [{ measurement: 'm', tags: { a: 'x'.repeat(40_000), b: 'y'.repeat(25_530) }, fields: { v: 1 }, time: 1n }]],
    ['series key at the limit', [{ measurement: 'm', tags: { a: 'x'.repeat(40_000), b: 'y'.repeat(25_520) }, fields: { v: 1 }, time: 1n }]],
    ['skipped non-finite with a bad key is fine', [{ measurement: 'm', fields: { time: NaN, v: 1 }, time: 1n }], { precision: 'n', nonFinite: 'skipField' }],
    ['a bad key on a null field is fine', [{ measurement: 'm', tags: { time: null, _field: '' }, fields: { time: null, v: 1 }, time: 1n }]],
    ['empty point with a bad tag, skipped rows', [{ measurement: 'm', tags: { time: 'x' }, fields: { v: null } }], { precision: 'n', invalidRows: 'skip' }],
    ['empty point with a bad time, skipped rows', [{ measurement: 'm', fields: { v: null }, time: 'never' }], { precision: 'n', invalidRows: 'skip' }],
    ['time out of range', [{ measurement: 'm', fields: { v: 1 }, time: 9223372036854775807n }]],
    ['date out of range in s', [{ measurement: 'm', fields: { v: 1 }, time: new Date(8.64e15) }], { precision: 's' }],
  ];
  for (const [name, points, options = { precision: 'n' } as PointBuilderOptions] of cases) {
    it(name, () => {
      const ref = reference(points, options, 5_000_000);
      expectSame(ref, viaHelper(points, options, 5_000_000));
      expectSame(ref, viaBuilder(points, options, 5_000_000));
    });
  }

  it('the first error is the lowest index: a line too large for a body comes before a later invalid point', () => {
    const points: Point[] = [
      { measurement: 'm', fields: { v: 1 }, time: 1n },
      { measurement: 'm', fields: { s: 'x'.repeat(500) }, time: 2n },
      { measurement: 'm', fields: { v: 3 }, time: 3n },
      { measurement: 'm', fields: { v: NaN }, time: 4n },
    ];
    const ref = reference(points, { precision: 'n' }, 200);
    expect(describeError(ref.ok ? undefined : ref.error)).toMatchObject({ index: 1, element: 'point' });
    // Checked by add() when the builder knows maxBodyBytes, by the encoder otherwise.
    expectSame(ref, viaHelper(points, { precision: 'n' }, 200));
    expectSame(ref, viaBuilder(points, { precision: 'n' }, 200));
  });

  it('a refused point leaves nothing behind: the builder goes on from the points before it', () => {
    const b = new PointColumnBuilder({ precision: 'n' });
    b.add({ measurement: 'm', tags: { h: 'a' }, fields: { v: 1, s: 'one' }, time: 1n }, 0);
    expect(() => b.add({ measurement: 'm', tags: { h: 'b', k: 'x' }, fields: { s: 'two', w: 2, v: NaN }, time: 2n }, 1)).toThrow(
      'invalid point #1: field "v": NaN cannot be written: InfluxDB floats must be finite',
    );
    expect(() => b.add({ measurement: 'm', fields: { v: 1, s: 'x' }, time: 3n }, 2)).not.toThrow();
    const layouts = b.flush();
    expect(shape(layouts)).toEqual([
      { rowBase: 0, rows: 1, m: 'm', tags: ['h'], fields: ['v:1', 's:6'] },
      { rowBase: 2, rows: 1, m: 'm', tags: [], fields: ['v:1', 's:6'] },
    ]);
  });

  it('points without a time read the clock once each, in order', () => {
    const points: Point[] = [{ measurement: 'm', fields: { v: 1 } }, { measurement: 'm', fields: { v: 2 }, time: 5n }, { measurement: 'm', fields: { v: 3 } }];
    const got = viaHelper(points, { precision: 'u' }, 1000);
    expect(got.ok && text(got.out.bodies)).toBe(`m v=1 ${(kClockStart + 1_000_003n) / 1000n}\nm v=2 5\nm v=3 ${(kClockStart + 2_000_006n) / 1000n}\n`);
  });
});
