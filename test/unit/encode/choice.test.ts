/**
 * `encode(data, { encoder })` (src/encode/encode.ts, routed by src/encode/route.ts): `ts`, `wasm`
 * and `auto` give byte-identical output, or the same error (class, point index, element, key,
 * reason, message), for random point arrays and random Arrow tables, record batches and readers;
 * line protocol passes through untouched with every choice; a bad `encoder` value is refused.
 */
import * as A from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encode, type EncodeOptions } from '../../../src/encode/encode.js';
import { POOL_MIN_POINTS, routeOf } from '../../../src/encode/route.js';
import type { FieldValue, Point } from '../../../src/encode/point-encoder.js';
import { InvalidOptionError, InvalidPointError } from '../../../src/errors.js';
import { buildTable, nsTimes, type ColumnType } from '../../helpers/arrow-tables.js';

const kChoices = ['ts', 'wasm', 'auto'] as const;

type Outcome = { ok: true; bytes: Buffer } | { ok: false; error: unknown };

function describeError(e: unknown): unknown {
  if (e instanceof InvalidPointError) return { class: 'InvalidPointError', index: e.pointIndex, element: e.element, key: e.key, reason: e.reason, message: e.message };
  if (e instanceof Error) return { class: e.constructor.name, message: e.message };
  return e;
}

/** encode() with each choice; `input()` is called per choice (a reader can be read once). */
function outcomes(input: () => unknown, options: EncodeOptions): Record<string, Outcome> {
  const out: Record<string, Outcome> = {};
  for (const encoder of kChoices) {
    try {
      out[encoder] = { ok: true, bytes: encode(input() as Point[], { ...options, encoder }) };
    } catch (error) {
      out[encoder] = { ok: false, error };
    }
  }
  return out;
}

/** The same bytes (the text first, for a readable difference), or the same error, from every choice. */
function expectSame(out: Record<string, Outcome>): Outcome {
  const ref = out.ts!;
  for (const encoder of ['wasm', 'auto']) {
    const got = out[encoder]!;
    if (!ref.ok) {
      if (got.ok) throw new Error(`ts refused (${String(ref.error)}) but ${encoder} wrote:\n${got.bytes.toString()}`);
      expect(describeError(got.error), encoder).toEqual(describeError(ref.error));
      continue;
    }
    if (!got.ok) throw got.error;
    if (!got.bytes.equals(ref.bytes)) expect(got.bytes.toString('utf8'), encoder).toBe(ref.bytes.toString('utf8'));
    expect(got.bytes.equals(ref.bytes), encoder).toBe(true);
  }
  return ref;
}

// ---- generators ------------------------------------------------------------------------------

const kNames = ['host', 'region', 'a b', 'x,y', 'k=v', 'ü€', '"q"', 'a\\b', '😀', 'usage'];
const nameArb = fc.constantFrom(...kNames);
const cleanText = fc.oneof(fc.constantFrom('', 'a b', 'x,y=z', 'say "hi"', 'back\\slash', 'é€😀', 'B'), fc.string({ maxLength: 8 }).filter((s) => !/[\n\r\t\0]/.test(s) && !/[\ud800-\udfff]/.test(s)));
/** Mostly valid; sometimes a value every encoder must refuse (or skip, with the options). */
const dirty = <T>(clean: fc.Arbitrary<T>, bad: readonly T[]) => fc.oneof({ arbitrary: clean, weight: 30 }, { arbitrary: fc.constantFrom(...bad), weight: 1 });
const tagValueArb = dirty(cleanText, ['a\nb', 'c\rd', 'x\ud800']);
const doubleArb = dirty(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 1e21, 5e-324, 0.1, 1 / 3, -1.5)), [NaN, Infinity, -Infinity]);
const int64Arb = dirty(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), [2n ** 63n, -(2n ** 63n) - 1n]);
const stringArb = dirty(cleanText, ['line\nbreak', 'cr\r', 'lone\udc00']);
const fieldArb: fc.Arbitrary<FieldValue | null> = fc.oneof(doubleArb, int64Arb, stringArb, fc.boolean(), fc.constant(null));
const timeArb = fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n });

// Every point has a time: a point without one reads the clock, and each encoder would read it at another moment.
const pointArb: fc.Arbitrary<Point> = fc.record({
  measurement: dirty(fc.constantFrom('cpu', 'a b', 'x,y', 'ü€', 'm'), ['bad\nname']),
  tags: fc.dictionary(nameArb, tagValueArb, { maxKeys: 3 }),
  fields: fc.dictionary(fc.constantFrom('v', 'w', 's', 'b', 'a b', '😀'), fieldArb, { maxKeys: 4 }),
  time: timeArb,
}) as fc.Arbitrary<Point>;

const optionsArb: fc.Arbitrary<EncodeOptions> = fc.record({
  nonFinite: fc.constantFrom('error', 'skipField') as fc.Arbitrary<'error' | 'skipField'>,
  invalidRows: fc.constantFrom('error', 'skip') as fc.Arbitrary<'error' | 'skip'>,
  allowNewlinesInStrings: fc.boolean(),
  tags: fc.option(fc.dictionary(fc.constantFrom('dc', 'host'), cleanText, { maxKeys: 2 }), { nil: undefined }),
});

// Arrow columns: a kind, then `rows` values of that kind.
type ColumnKind = 'tag' | 'float' | 'int' | 'uint' | 'string' | 'bool';
const kColumnTypes: Record<ColumnKind, ColumnType> = {
  tag: { type: () => new A.Dictionary(new A.Utf8(), new A.Int32()) },
  float: { type: () => new A.Float64() },
  int: { type: () => new A.Int64() },
  uint: { type: () => new A.Uint64() },
  string: { type: () => new A.Utf8() },
  bool: { type: () => new A.Bool() },
};
const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 6 });
const kColumnValues: Record<ColumnKind, fc.Arbitrary<unknown>> = {
  tag: nullable(tagValueArb),
  float: nullable(doubleArb),
  int: nullable(int64Arb.filter((v) => v >= -(2n ** 63n) && v < 2n ** 63n)), // Int64 holds only int64
  uint: nullable(dirty(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), [2n ** 63n, 2n ** 64n - 1n])),
  string: nullable(stringArb),
  bool: nullable(fc.boolean()),
};

interface TableSpec {
  columns: { name: string; kind: ColumnKind; values: unknown[] }[];
  times: bigint[];
  /** Row indices where the table is cut into record batches. */
  cuts: number[];
}

const tableArb: fc.Arbitrary<TableSpec> = fc.integer({ min: 1, max: 40 }).chain((rows) => fc.record({
  columns: fc.uniqueArray(
    fc.tuple(fc.constantFrom(...kNames), fc.constantFrom(...(Object.keys(kColumnTypes) as ColumnKind[]))),
    { minLength: 1, maxLength: 6, selector: ([name]) => name },
  ).chain((cols) => fc.tuple(...cols.map(([name, kind]) => fc.array(kColumnValues[kind], { minLength: rows, maxLength: rows }).map((values) => ({ name, kind, values }))))),
  times: fc.array(timeArb, { minLength: rows, maxLength: rows }),
  cuts: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, rows - 1) }), { maxLength: 2 }),
}));

/** The spec's table: a nanosecond time column, then its columns, cut into record batches at `cuts`. */
function tableOf(spec: TableSpec): A.Table {
  return buildTable({ columns: spec.columns, slice: [0, spec.times.length], splits: spec.cuts }, kColumnTypes, { time: nsTimes(spec.times) }).table;
}

const tableOptions = (spec: TableSpec, o: EncodeOptions): EncodeOptions => ({
  ...o, measurement: 'm', timeColumn: 'time', fieldTypes: Object.fromEntries(spec.columns.filter((c) => c.kind === 'string').map((c) => [c.name, 'string' as const])),
});

// ---- properties ------------------------------------------------------------------------------

describe('encode(): ts, wasm and auto give the same bytes or the same error', () => {
  it('random arrays of points (property)', () => {
    const seen = { ok: 0, refused: 0 };
    fc.assert(fc.property(fc.array(pointArb, { minLength: 1, maxLength: 30 }), optionsArb, (points, o) => {
      seen[expectSame(outcomes(() => points, o)).ok ? 'ok' : 'refused']++;
    }), { numRuns: 400 });
    // Both sides were exercised: bytes compared, and errors compared.
    expect(Math.min(seen.ok, seen.refused)).toBeGreaterThan(40);
  });

  it('random Arrow tables, their record batches, and IPC readers over them (property)', () => {
    const seen = { ok: 0, refused: 0 };
    fc.assert(fc.property(tableArb, optionsArb, (spec, o) => {
      const table = tableOf(spec);
      const options = tableOptions(spec, o);
      const ref = expectSame(outcomes(() => table, options));
      seen[ref.ok ? 'ok' : 'refused']++;
      // A reader yields the same rows: the same outcome as the table.
      const ipc = A.tableToIPC(table, 'stream');
      const fromReader = expectSame(outcomes(() => A.RecordBatchReader.from(ipc), options));
      if (ref.ok && fromReader.ok) expect(fromReader.bytes.toString()).toBe(ref.bytes.toString());
      if (!ref.ok && !fromReader.ok) expect(describeError(fromReader.error)).toEqual(describeError(ref.error));
      expectSame(outcomes(() => table.batches[0]!, options));
    }), { numRuns: 150 });
    expect(Math.min(seen.ok, seen.refused)).toBeGreaterThan(15);
  });

  it(`auto on ${POOL_MIN_POINTS} points and more (the WebAssembly encoder here): the same bytes, the same first error`, () => {
    const n = POOL_MIN_POINTS + 5;
    const points: Point[] = Array.from({ length: n }, (_, i) => ({
      measurement: 'cpu', tags: { host: `h${i % 7}`, 'a b': i % 3 ? 'x,y' : '' }, fields: { v: i / 7, n: BigInt(i) - 10n, s: `s "${i}"`, ok: i % 2 === 0 }, time: 1_700_000_000_000_000_000n + BigInt(i),
    }));
    expect(routeOf(points, 'auto', true)).toBe('wasm');
    expect(routeOf(points.slice(0, 10), 'auto', true)).toBe('ts');
    expect(expectSame(outcomes(() => points, {})).ok).toBe(true);
    points[15_000] = { ...points[15_000]!, fields: { v: NaN } };
    const out = expectSame(outcomes(() => points, {}));
    expect(describeError(out.ok ? undefined : out.error)).toMatchObject({ class: 'InvalidPointError', index: 15_000, key: 'v' });
  });
});

// ---- what each choice runs -------------------------------------------------------------------

describe('routing in the calling thread', () => {
  const table = new A.Table({ v: A.vectorFromArray([1, 2], new A.Float64()) });
  it('wasm: the WebAssembly encoder for point arrays and Arrow input; ts: the TypeScript encoders; auto: WebAssembly for Arrow', () => {
    const points = [{ measurement: 'm', fields: { v: 1 } }];
    expect(routeOf(points, 'wasm', true)).toBe('wasm');
    expect(routeOf(table, 'wasm', true)).toBe('wasm');
    expect(routeOf(table, 'auto', true)).toBe('wasm');
    expect(routeOf(table, 'ts', true)).toBe('ts');
    expect(routeOf(points, 'ts', true)).toBe('ts');
    // write() keeps its pool: what encode() runs here, write() sends to the workers.
    expect(routeOf(points, 'wasm', false)).toBe('pool');
    expect(routeOf(table, 'wasm', false)).toBe('pool');
    expect(routeOf(table, 'auto', false)).toBe('wasm');
  });
});

// ---- errors ------------------------------------------------------------------------------------

describe('errors are the same with every choice', () => {
  const ok = (i: number): Point => ({ measurement: 'm', tags: { t: 'a' }, fields: { v: i }, time: BigInt(i + 1) });
  const cases: [string, Point, EncodeOptions?, Record<string, unknown>?][] = [
    ['NaN', { measurement: 'm', fields: { v: NaN }, time: 1n }, {}, { key: 'v' }],
    ['Infinity', { measurement: 'm', fields: { v: 1, w: -Infinity }, time: 1n }, {}, { key: 'w' }],
    ['a newline in a tag value', { measurement: 'm', tags: { t: 'a\nb' }, fields: { v: 1 }, time: 1n }, {}, { element: 'tags', key: 't' }],
    ['int64 overflow', { measurement: 'm', fields: { n: 2n ** 63n }, time: 1n }, {}, { key: 'n' }],
    ['a newline in a string field', { measurement: 'm', fields: { s: 'a\nb' }, time: 1n }, {}, { key: 's' }],
    ['a lone surrogate', { measurement: 'm', fields: { s: 'x\ud800' }, time: 1n }],
    ['no field', { measurement: 'm', fields: { v: null }, time: 1n }],
    ['time as a field key', { measurement: 'm', fields: { time: 1 }, time: 1n }],
    ['a time out of range', { measurement: 'm', fields: { v: 1 }, time: 2n ** 63n - 1n }],
    ['an unsafe integer declared integer', { measurement: 'm', fields: { i: 2 ** 53 }, time: 1n }, { fieldTypes: { i: 'integer' } }, { key: 'i' }],
  ];
  for (const [name, bad, options = {}, expected = {}] of cases) {
    it(`points: ${name}`, () => {
      const out = expectSame(outcomes(() => [ok(0), ok(1), bad, ok(3)], options));
      expect(out.ok).toBe(false);
      const e = (out as { error: unknown }).error;
      expect(e).toBeInstanceOf(InvalidPointError);
      expect(describeError(e)).toMatchObject({ index: 2, ...expected });
    });
  }

  const tableCases: [string, Record<string, A.Vector>, Record<string, unknown>][] = [
    ['NaN', { v: A.vectorFromArray([1, NaN], new A.Float64()) }, { index: 1, key: 'v' }],
    ['a newline in a tag', { t: A.vectorFromArray(['a', 'b\nc'], new A.Dictionary(new A.Utf8(), new A.Int32())), v: A.vectorFromArray([1, 2], new A.Float64()) }, { key: 't' }],
    ['Uint64 above int64', { u: A.vectorFromArray([1n, 2n ** 63n], new A.Uint64()) }, { index: 1, key: 'u' }],
    ['a row without a field', { v: A.vectorFromArray([1, null], new A.Float64()) }, { index: 1 }],
    ['a newline in a string', { s: A.vectorFromArray(['x', 'a\nb'], new A.Utf8()) }, { index: 1, key: 's' }],
  ];
  for (const [name, columns, expected] of tableCases) {
    it(`Arrow: ${name}`, () => {
      const table = new A.Table({ time: A.makeVector({ type: new A.TimestampNanosecond(), data: BigInt64Array.from([1n, 2n]), length: 2 } as never), ...columns });
      for (const input of [table, table.batches[0]!]) {
        const out = expectSame(outcomes(() => input, { measurement: 'm', fieldTypes: { s: 'string' } }));
        expect(out.ok).toBe(false);
        expect(describeError((out as { error: unknown }).error)).toMatchObject({ class: 'InvalidPointError', ...expected });
      }
    });
  }

  it('Arrow: a stray item among record batches', () => {
    const table = new A.Table({ v: A.vectorFromArray([1, 2], new A.Float64()) });
    const out = expectSame(outcomes(() => [table.batches[0]!, { measurement: 'm', fields: { v: 1 } }], { measurement: 'm' }));
    expect(describeError((out as { error: unknown }).error)).toMatchObject({ class: 'InvalidPointError', index: 2 });
  });
});

// ---- passthrough and options -------------------------------------------------------------------

describe('line protocol and mixed input', () => {
  it('passes line protocol through untouched with every choice', () => {
    const lines = 'cpu,host=a v=1 1\ncpu,host=b v=2 2\n';
    for (const input of [lines, Buffer.from(lines), [lines, Buffer.from('m v=3i 3\n')]]) {
      const out = expectSame(outcomes(() => input, {}));
      expect(out.ok && out.bytes.toString()).toBe(typeof input === 'string' || Buffer.isBuffer(input) ? lines : `${lines}m v=3i 3\n`);
    }
  });

  it('line protocol mixed with points, a single point, and a generator of points: the same with every choice', () => {
    const p: Point = { measurement: 'm', tags: { t: 'a b' }, fields: { v: 1.5, s: 'q"' }, time: 5n };
    expectSame(outcomes(() => ['raw v=1 1', p], {}));
    expectSame(outcomes(() => p, {}));
    expectSame(outcomes(() => (function* () { yield p; yield p; })(), {}));
    expect(encode(p, { encoder: 'wasm' }).toString()).toBe('m,t=a\\ b v=1.5,s="q\\"" 5\n');
  });
});

describe('the encoder option', () => {
  it('an unknown value is an InvalidOptionError naming the option and the choices', () => {
    const points = [{ measurement: 'm', fields: { v: 1 }, time: 1n }];
    for (const bad of ['pool', 'WASM', '', 42, null]) {
      const e = (() => {
        try {
          encode(points, { encoder: bad as never });
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(e, String(bad)).toBeInstanceOf(InvalidOptionError);
      expect((e as Error).message).toContain("encode options.encoder must be one of 'ts', 'wasm', 'auto'");
    }
  });

  it('undefined means auto; the other options are checked as before', () => {
    const points = [{ measurement: 'm', fields: { v: 1 }, time: 1n }];
    expect(encode(points, { encoder: undefined }).toString()).toBe('m v=1 1\n');
    expect(() => encode(points, { encoder: 'ts', nonFinite: 'drop' as never })).toThrow(InvalidOptionError);
    expect(() => encode(points, 'ts' as never)).toThrow('encode options must be an object');
  });

  it('async input is still refused; a synchronous Arrow reader is taken', async () => {
    async function* gen(): AsyncGenerator<Point> {
      yield { measurement: 'm', fields: { v: 1 } };
    }
    for (const encoder of kChoices) expect(() => encode(gen(), { encoder })).toThrow(InvalidOptionError);
    const table = new A.Table({ v: A.vectorFromArray([1, 2], new A.Float64()) });
    const ipc = A.tableToIPC(table, 'stream');
    const asyncReader = await A.RecordBatchReader.from((async function* () { yield ipc; })());
    expect(() => encode(asyncReader as never, { measurement: 'm' })).toThrow(InvalidOptionError);
    for (const encoder of kChoices) {
      expect(encode(A.RecordBatchReader.from(ipc), { measurement: 'm', encoder }).toString()).toMatch(/^m v=1 \d+\nm v=2 \d+\n$/);
    }
  });
});
