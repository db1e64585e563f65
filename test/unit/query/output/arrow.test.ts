/**
 * The `arrow` output (src/query/output/arrow.ts) on hand-written answers: aioinflux's shapes
 * (Table, Map keyed `measurement,tag=value`, array per statement), types from the schema,
 * exact int64 and nanosecond times, nulls, inference for undeclared columns, chunked batches.
 */
import { Table, tableFromIPC, tableToIPC, TimeUnit, Type, type RecordBatch } from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  exactInt64Values, kFieldKind, responseChunksToRecordBatches, responseToArrow, seriesKey, SeriesConverter, type ArrowResult,
} from '../../../../src/query/output/arrow.js';
import { formatChunks, formatResponse, resolveOutput } from '../../../../src/query/output/index.js';
import { SchemaCache, type InfluxFieldType, type MeasurementSchema } from '../../../../src/query/output/schema.js';
import type { QueryResponse, QueryValue, Series } from '../../../../src/query/response.js';
import { col, oneChunkInt64s } from '../../../helpers/arrow-read.js';

const I64_MAX = 9223372036854775807n;
const I64_MIN = -9223372036854775808n;
const T0 = 1700000000123456789n;

function schema(fields: Record<string, InfluxFieldType>, tags: string[] = []): MeasurementSchema {
  return { fields: new Map(Object.entries(fields)), tags: new Set(tags) };
}

const cpuSchema = schema({ b: 'boolean', f: 'float', i: 'integer', s: 'string' }, ['host', 'region']);
const schemas: Record<string, MeasurementSchema> = { cpu: cpuSchema, mem: schema({ free: 'float', used: 'integer' }, ['dc', 'host']) };
const lookup = (m: string): MeasurementSchema | undefined => schemas[m];

function answer(...statements: Array<Series[] | undefined>): QueryResponse {
  return { results: statements.map((s, i) => (s === undefined ? { statement_id: i } : { statement_id: i, series: s })) };
}

function asTable(r: ArrowResult): Table {
  expect(r).toBeInstanceOf(Table);
  return r as Table;
}

function typeName(t: Table | RecordBatch, name: string): string {
  return String(col(t, name).type);
}

// What influxd 1.6.7 answered for `SELECT * FROM cpu` (epoch=ns), see the integration test.
const cpuSeries: Series = {
  name: 'cpu',
  columns: ['time', 'b', 'f', 'host', 'i', 'region', 's'],
  values: [
    [5, null, 1, 'a', 1, 'us', null],
    [T0, true, 1.5, 'a', I64_MAX, 'us', 'x'],
    [T0 + 1n, false, 2, 'b', I64_MIN, 'eu', null],
  ],
};

describe('types from the schema', () => {
  const t = asTable(responseToArrow(answer([cpuSeries]), lookup));

  it('maps time, float, integer, string, tag and boolean columns', () => {
    expect(t.schema.fields.map((f) => [f.name, String(f.type), f.metadata.get(kFieldKind)])).toEqual([
      ['time', 'Timestamp<NANOSECOND, UTC>', 'time'],
      ['b', 'Bool', 'field'],
      ['f', 'Float64', 'field'],
      ['host', 'Dictionary<Int32, Utf8>', 'tag'],
      ['i', 'Int64', 'field'],
      ['region', 'Dictionary<Int32, Utf8>', 'tag'],
      ['s', 'Utf8', 'field'],
    ]);
    expect(t.numRows).toBe(3);
    const time = col(t, 'time').type;
    expect(time.typeId).toBe(Type.Timestamp);
    expect((time as unknown as { unit: TimeUnit }).unit).toBe(TimeUnit.NANOSECOND);
    expect((time as unknown as { timezone: string }).timezone).toBe('UTC');
  });

  it('keeps nanosecond times exact in the BigInt64Array of the time column', () => {
    const values = col(t, 'time').data[0]!.values;
    expect(values).toBeInstanceOf(BigInt64Array);
    expect([...values]).toEqual([5n, T0, T0 + 1n]);
  });

  it('keeps int64 values exact, down to -2^63 and up to 2^63-1', () => {
    expect(oneChunkInt64s(t, 'i')).toEqual([1n, I64_MAX, I64_MIN]);
    expect([...col(t, 'i')]).toEqual([1n, I64_MAX, I64_MIN]);
  });

  it('reads a float field whose JSON value looks like an integer as Float64', () => {
    expect([...col(t, 'f')]).toEqual([1, 1.5, 2]);
    expect(col(t, 'f').data[0]!.values).toBeInstanceOf(Float64Array);
  });

  it('marks nulls in validity bitmaps', () => {
    expect([...col(t, 'b')]).toEqual([null, true, false]);
    expect(col(t, 'b').nullCount).toBe(1);
    expect([...col(t, 's')]).toEqual([null, 'x', null]);
    expect(col(t, 's').nullCount).toBe(2);
    expect(col(t, 'f').nullCount).toBe(0);
  });

  it('dictionary-encodes tag values', () => {
    const host = col(t, 'host');
    expect([...host]).toEqual(['a', 'a', 'b']);
    expect([...host.data[0]!.values]).toEqual([0, 0, 1]);
    expect([...host.data[0]!.dictionary!]).toEqual(['a', 'b']);
  });

  it('sets aioinflux name and origin in the schema metadata', () => {
    expect(Object.fromEntries(t.schema.metadata)).toEqual({ measurement: 'cpu', statement_id: '0', key: 'cpu' });
  });

  it('is usable through the ordinary Arrow API (rows as objects)', () => {
    const row = t.get(1)!.toJSON();
    expect(row).toMatchObject({ b: true, f: 1.5, host: 'a', i: I64_MAX, region: 'us', s: 'x' });
  });
});

describe('shapes (as aioinflux)', () => {
  const grouped: Series[] = [
    { name: 'cpu', tags: { host: 'a', region: 'us' }, columns: ['time', 'f'], values: [[1, 1], [2, 2]] },
    { name: 'cpu', tags: { region: 'eu', host: 'b' }, columns: ['time', 'f'], values: [[3, 3]] },
  ];

  it('one series: a Table', () => {
    expect(responseToArrow(answer([cpuSeries]), lookup)).toBeInstanceOf(Table);
  });

  it('GROUP BY: a Map keyed "measurement,tag=value,..." with tags sorted, group tags as constant columns', () => {
    const r = responseToArrow(answer(grouped), lookup);
    expect(r).toBeInstanceOf(Map);
    const m = r as Map<string, Table>;
    expect([...m.keys()]).toEqual(['cpu,host=a,region=us', 'cpu,host=b,region=eu']);
    const b = m.get('cpu,host=b,region=eu')!;
    expect(b.schema.fields.map((f) => [f.name, f.metadata.get(kFieldKind)])).toEqual([['time', 'time'], ['f', 'field'], ['host', 'group_tag'], ['region', 'group_tag']]);
    expect([...col(b, 'host')]).toEqual(['b']);
    expect(typeName(b, 'region')).toBe('Dictionary<Int32, Utf8>');
    expect(JSON.parse(b.schema.metadata.get('tags')!)).toEqual({ region: 'eu', host: 'b' });
    expect(b.schema.metadata.get('key')).toBe('cpu,host=b,region=eu');
    // Same types and dictionary ids: the tables of one answer concatenate.
    const all = new Table([...m.values()].flatMap((x) => x.batches));
    expect([...col(all, 'host')]).toEqual(['a', 'a', 'b']);
    expect(oneChunkInt64s(m.get('cpu,host=a,region=us')!, 'time')).toEqual([1n, 2n]);
  });

  it('groupTagColumns: false leaves the group tags in the key only', () => {
    const m = responseToArrow(answer(grouped), lookup, { groupTagColumns: false }) as Map<string, Table>;
    expect(m.get('cpu,host=a,region=us')!.schema.fields.map((f) => f.name)).toEqual(['time', 'f']);
  });

  it('several statements: an array, one entry per statement; a statement without series is an empty Map', () => {
    const r = responseToArrow(answer([cpuSeries], grouped, undefined), lookup);
    expect(Array.isArray(r)).toBe(true);
    const [a, b, c] = r as [Table, Map<string, Table>, Map<string, Table>];
    expect(a).toBeInstanceOf(Table);
    expect(a.schema.metadata.get('statement_id')).toBe('0');
    expect(b).toBeInstanceOf(Map);
    expect(b.get('cpu,host=a,region=us')!.schema.metadata.get('statement_id')).toBe('1');
    expect(c).toEqual(new Map());
    expect(responseToArrow(answer(undefined), lookup)).toEqual(new Map());
  });

  it('a series without values is an empty table with the declared types', () => {
    const t = asTable(responseToArrow(answer([{ name: 'cpu', columns: ['time', 'f', 'host', 'mean'] }]), lookup));
    expect(t.numRows).toBe(0);
    expect(t.schema.fields.map((f) => String(f.type))).toEqual(['Timestamp<NANOSECOND, UTC>', 'Float64', 'Dictionary<Int32, Utf8>', 'Null']);
  });

  it('seriesKey follows aioinflux', () => {
    expect(seriesKey({ name: 'h2o', tags: { location: 'santa_monica', a: '1' } })).toBe('h2o,a=1,location=santa_monica');
  });
});

describe('columns the schema does not name', () => {
  // influxd 1.6.7: SELECT mean(f), count(i), max(i), sum(i), first(s) FROM cpu GROUP BY host
  const agg: Series[] = [
    { name: 'cpu', tags: { host: 'a' }, columns: ['time', 'mean', 'count', 'max', 'sum', 'first'], values: [[0, 1.25, 2, I64_MAX, I64_MIN, 'x']] },
    { name: 'cpu', tags: { host: 'b' }, columns: ['time', 'mean', 'count', 'max', 'sum', 'first'], values: [[0, 2, 1, 5, 5, null]] },
  ];

  it('infers: fractional -> Float64, count -> Int64, bigints -> Int64, strings -> Utf8', () => {
    const m = responseToArrow(answer(agg), lookup) as Map<string, Table>;
    const a = m.get('cpu,host=a')!;
    expect(['mean', 'count', 'max', 'sum', 'first'].map((c) => typeName(a, c))).toEqual(['Float64', 'Int64', 'Int64', 'Int64', 'Utf8']);
    expect(oneChunkInt64s(a, 'max')).toEqual([I64_MAX]);
    // The type chosen for a column sticks for the other series of the answer (when the values fit).
    const b = m.get('cpu,host=b')!;
    expect(['mean', 'count', 'max', 'sum', 'first'].map((c) => typeName(b, c))).toEqual(['Float64', 'Int64', 'Int64', 'Int64', 'Utf8']);
    expect([...col(b, 'mean')]).toEqual([2]);
    expect([...col(b, 'first')]).toEqual([null]);
  });

  it('integral numbers without a hint are Float64 (JSON writes 2.0 as 2), all-null is Null, mixed kinds are strings', () => {
    const t = asTable(responseToArrow(answer([{ name: 'cpu', columns: ['time', 'max', 'nothing', 'mixed', 'flag'], values: [[1, 3, null, 1, true], [2, 4, null, 'a', false]] }]), lookup));
    expect(['max', 'nothing', 'mixed', 'flag'].map((c) => typeName(t, c))).toEqual(['Float64', 'Null', 'Utf8', 'Bool']);
    expect([...col(t, 'mixed')]).toEqual(['1', 'a']);
    expect([...col(t, 'nothing')]).toEqual([null, null]);
  });

  it('columnTypes forces a type by name', () => {
    const t = asTable(responseToArrow(answer([{ name: 'cpu', columns: ['time', 'max', 'label'], values: [[1, 3, 'x'], [2, 4, 'x']] }]), lookup, { columnTypes: { max: 'integer', label: 'tag' } }));
    expect(typeName(t, 'max')).toBe('Int64');
    expect(typeName(t, 'label')).toBe('Dictionary<Int32, Utf8>');
    expect(oneChunkInt64s(t, 'max')).toEqual([3n, 4n]);
  });

  it('falls back to inference when a value does not fit the declared type', () => {
    // e.g. `SELECT mean(i) AS i`: a float in an integer field's column.
    const t = asTable(responseToArrow(answer([{ name: 'cpu', columns: ['time', 'i', 'b'], values: [[1, 1.5, 'yes']] }]), lookup));
    expect(typeName(t, 'i')).toBe('Float64');
    expect(typeName(t, 'b')).toBe('Utf8');
  });

  it('a tag named like a field comes back as name_1 and is read as a tag', () => {
    const conf = schema({ x: 'float' }, ['x']);
    const t = asTable(responseToArrow(answer([{ name: 'conf', columns: ['time', 'x', 'x_1'], values: [[1, 1, 't']] }]), () => conf));
    expect([typeName(t, 'x'), typeName(t, 'x_1')]).toEqual(['Float64', 'Dictionary<Int32, Utf8>']);
  });

  it('SELECT * FROM cpu, mem: columns of the other measurement get its types', () => {
    const cols = ['time', 'b', 'dc', 'f', 'free', 'host', 'i', 'region', 's', 'used'];
    const m = responseToArrow(answer([
      { name: 'cpu', columns: cols, values: [[5, null, null, 1, null, 'a', 1, 'us', null, null]] },
      { name: 'mem', columns: cols, values: [[1, null, null, null, null, 'a', null, null, null, 3]] },
    ]), lookup) as Map<string, Table>;
    const mem = m.get('mem')!;
    expect(cols.map((c) => typeName(mem, c))).toEqual([
      'Timestamp<NANOSECOND, UTC>', 'Bool', 'Dictionary<Int32, Utf8>', 'Float64', 'Float64', 'Dictionary<Int32, Utf8>', 'Int64',
      'Dictionary<Int32, Utf8>', 'Utf8', 'Int64',
    ]);
    expect(oneChunkInt64s(mem, 'used')).toEqual([3n]);
  });

  it('inference never fails: fractional with huge integers is Float64, beyond int64 Uint64, beyond uint64 Float64', () => {
    const t = asTable(responseToArrow(answer([{
      name: 'cpu',
      columns: ['time', 'mix', 'u', 'neg', 'huge', 'exp'],
      values: [[1, 1.5, 2n ** 63n, 2n ** 63n, 2n ** 64n, 1e20], [2, 2n ** 60n, 1, -1, 1, 2]],
    }]), lookup));
    expect(['mix', 'u', 'neg', 'huge', 'exp'].map((c) => typeName(t, c))).toEqual(['Float64', 'Uint64', 'Float64', 'Float64', 'Float64']);
    expect([...col(t, 'mix')]).toEqual([1.5, 2 ** 60]);
    expect([...exactInt64Values(col(t, 'u'))]).toEqual([2n ** 63n, 1n]);
  });

  it('a column typed by an earlier series keeps its type when the values fit, else is inferred again', () => {
    const m = responseToArrow(answer([
      { name: 'cpu', tags: { host: 'a' }, columns: ['time', 'max'], values: [[0, 5n ** 25n]] },
      { name: 'cpu', tags: { host: 'b' }, columns: ['time', 'max'], values: [[0, 7]] },
      { name: 'cpu', tags: { host: 'c' }, columns: ['time', 'max'], values: [[0, 7.5]] },
    ]), lookup) as Map<string, Table>;
    expect([...m.values()].map((t) => typeName(t, 'max'))).toEqual(['Int64', 'Int64', 'Float64']);
  });

  it('SHOW answers (no schema at all) are typed from their values', () => {
    const t = asTable(responseToArrow(answer([{ name: '', columns: ['name', 'duration', 'replicaN', 'default'], values: [['autogen', '0s', 1, true]] }])));
    expect(t.schema.fields.map((f) => String(f.type))).toEqual(['Utf8', 'Utf8', 'Float64', 'Bool']);
  });
});

describe('times', () => {
  it('epoch ms/u/s give the matching Timestamp unit; m and h become seconds', () => {
    const s = (v: QueryValue): QueryResponse => answer([{ name: 'cpu', columns: ['time', 'f'], values: [[v, 1]] }]);
    const unitOf = (t: ArrowResult): TimeUnit => (col(asTable(t), 'time').type as unknown as { unit: TimeUnit }).unit;
    expect(unitOf(responseToArrow(s(1700000000123), lookup, { epoch: 'ms' }))).toBe(TimeUnit.MILLISECOND);
    expect(unitOf(responseToArrow(s(1700000000123456), lookup, { epoch: 'u' }))).toBe(TimeUnit.MICROSECOND);
    const h = asTable(responseToArrow(s(2), lookup, { epoch: 'h' }));
    expect(unitOf(h)).toBe(TimeUnit.SECOND);
    expect(oneChunkInt64s(h, 'time')).toEqual([7200n]);
    expect(oneChunkInt64s(asTable(responseToArrow(s(-3), lookup, { epoch: 'm' })), 'time')).toEqual([-180n]);
  });

  it('RFC 3339 strings (a query without epoch) are read exactly into nanoseconds', () => {
    const t = asTable(responseToArrow(answer([{ name: 'cpu', columns: ['time', 'f'], values: [['2023-11-14T22:13:20.123456789Z', 1], ['1969-12-31T23:59:59.999999999Z', 2], ['1970-01-01T00:00:00Z', 3]] }]), lookup));
    expect(oneChunkInt64s(t, 'time')).toEqual([T0, -1n, 0n]);
    expect((col(t, 'time').type as unknown as { unit: TimeUnit }).unit).toBe(TimeUnit.NANOSECOND);
  });

  it('property: any int64 time, as number or bigint, lands exactly in the time column', () => {
    fc.assert(fc.property(fc.array(fc.bigInt(I64_MIN + 2n, I64_MAX - 2n), { minLength: 1, maxLength: 30 }), (times) => {
      // As parseExactJson would give them: numbers when safe, bigints beyond.
      const values = times.map((t, i) => [Number.isSafeInteger(Number(t)) && BigInt(Number(t)) === t ? Number(t) : t, i]);
      const t = asTable(responseToArrow(answer([{ name: 'cpu', columns: ['time', 'f'], values }]), lookup));
      expect(oneChunkInt64s(t, 'time')).toEqual(times);
    }));
  });
});

describe('values', () => {
  it('property: integer, float, string, boolean columns with nulls round-trip exactly', () => {
    const row = fc.tuple(
      fc.option(fc.bigInt(I64_MIN, I64_MAX), { nil: null }),
      fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
      fc.option(fc.string({ unit: 'binary' }), { nil: null }),
      fc.option(fc.boolean(), { nil: null }),
      fc.option(fc.constantFrom('a', 'b', 'é', '🙂', ''), { nil: null }),
    );
    const s = schema({ i: 'integer', f: 'float', s: 'string', b: 'boolean' }, ['t']);
    fc.assert(fc.property(fc.array(row, { maxLength: 40 }), (rows) => {
      const values: QueryValue[][] = rows.map(([i, f, str, b, tag], k) => [k, i !== null && Number.isSafeInteger(Number(i)) ? Number(i) : i, f, str, b, tag]);
      const t = asTable(responseToArrow(answer([{ name: 'm', columns: ['time', 'i', 'f', 's', 'b', 't'], values }]), () => s));
      expect(t.schema.fields.map((x) => String(x.type))).toEqual(['Timestamp<NANOSECOND, UTC>', 'Int64', 'Float64', 'Utf8', 'Bool', 'Dictionary<Int32, Utf8>']);
      expect([...col(t, 'i')]).toEqual(rows.map((r) => r[0]));
      expect([...col(t, 'f')].map((x) => (Object.is(x, -0) ? 0 : x))).toEqual(rows.map((r) => (Object.is(r[1], -0) ? 0 : r[1])));
      // Lone surrogates cannot be UTF-8: they read back as U+FFFD, like any UTF-8 encoder writes them.
      expect([...col(t, 's')]).toEqual(rows.map((r) => (r[2] === null ? null : r[2].toWellFormed())));
      expect([...col(t, 'b')]).toEqual(rows.map((r) => r[3]));
      expect([...col(t, 't')]).toEqual(rows.map((r) => r[4]));
    }));
  });

  it('non-ASCII strings after ASCII ones keep their offsets', () => {
    const t = asTable(responseToArrow(answer([{ name: 'cpu', columns: ['time', 's'], values: [[1, 'plain'], [2, null], [3, 'héllo'], [4, '🙂'], [5, 'z']] }]), lookup));
    expect([...col(t, 's')]).toEqual(['plain', null, 'héllo', '🙂', 'z']);
  });
});

describe('reading back', () => {
  it('exactInt64Values reads the int64 buffers of one or several chunks', () => {
    const m = responseToArrow(answer([
      { name: 'cpu', tags: { host: 'a' }, columns: ['time', 'i'], values: [[T0, I64_MAX], [T0 + 1n, null]] },
      { name: 'cpu', tags: { host: 'b' }, columns: ['time', 'i'], values: [[T0 + 2n, I64_MIN]] },
    ]), lookup) as Map<string, Table>;
    const all = new Table([...m.values()].flatMap((t) => t.batches));
    expect([...exactInt64Values(col(all, 'time'))]).toEqual([T0, T0 + 1n, T0 + 2n]);
    expect([...exactInt64Values(col(all, 'i'))]).toEqual([I64_MAX, 0n, I64_MIN]);
    expect(col(all, 'i').isValid(1)).toBe(false);
    expect(exactInt64Values(col(m.get('cpu,host=b')!, 'time'))).toBeInstanceOf(BigInt64Array);
    expect(() => exactInt64Values(col(all, 'host'))).toThrow(/not a 64-bit integer column/);
  });

  it('tables survive the Arrow IPC stream format with exact times and metadata', () => {
    const t = asTable(responseToArrow(answer([cpuSeries]), lookup));
    const back = tableFromIPC(tableToIPC(t, 'stream'));
    expect([...exactInt64Values(col(back, 'time'))]).toEqual([5n, T0, T0 + 1n]);
    expect([...exactInt64Values(col(back, 'i'))]).toEqual([1n, I64_MAX, I64_MIN]);
    expect([...col(back, 'host')]).toEqual(['a', 'a', 'b']);
    expect(back.schema.metadata.get('key')).toBe('cpu');
    expect(back.schema.fields[3]!.metadata.get(kFieldKind)).toBe('tag');
  });
});

describe('chunked: record batches', () => {
  async function* chunks(...cs: QueryResponse[]): AsyncGenerator<QueryResponse> {
    for (const c of cs) yield c;
  }
  // influxd 1.6.7: SELECT * FROM cpu GROUP BY host; SELECT * FROM mem with chunk_size=1
  const cols = ['time', 'b', 'f', 'i', 'region', 's'];
  const stream = [
    { results: [{ statement_id: 0, series: [{ name: 'cpu', tags: { host: 'a' }, columns: cols, values: [[5, null, 1, 1, 'us', null]], partial: true }], partial: true }] },
    { results: [{ statement_id: 0, series: [{ name: 'cpu', tags: { host: 'a' }, columns: cols, values: [[T0, true, 1.5, I64_MAX, 'us', 'x']] }], partial: true }] },
    { results: [{ statement_id: 0, series: [{ name: 'cpu', tags: { host: 'b' }, columns: cols, values: [[T0 + 1n, false, 2, I64_MIN, 'eu', null]] }] }] },
    { results: [{ statement_id: 1, series: [{ name: 'mem', columns: ['time', 'dc', 'free', 'host', 'used'], values: [[1, null, null, 'a', 3]], partial: true }], partial: true }] },
    { results: [{ statement_id: 1, series: [{ name: 'mem', columns: ['time', 'dc', 'free', 'host', 'used'], values: [[2, 'x', 4, null, null]] }] }] },
  ] as QueryResponse[];

  it('yields one batch per series per chunk, with metadata telling where it belongs', async () => {
    const asked: string[] = [];
    const batches: RecordBatch[] = [];
    for await (const b of responseChunksToRecordBatches(chunks(...stream), async (m) => {
      asked.push(m);
      return lookup(m);
    })) batches.push(b);
    expect(asked).toEqual(['cpu', 'mem']); // once per measurement
    expect(batches.map((b) => [b.schema.metadata.get('statement_id'), b.schema.metadata.get('key'), b.schema.metadata.get('partial') ?? '', b.numRows])).toEqual([
      ['0', 'cpu,host=a', 'true', 1], ['0', 'cpu,host=a', '', 1], ['0', 'cpu,host=b', '', 1], ['1', 'mem', 'true', 1], ['1', 'mem', '', 1],
    ]);
    expect(batches[0]!.schema.metadata.get('measurement')).toBe('cpu');
    // The batches of one series share their types (dictionary ids too): they concatenate.
    const a = new Table(batches.slice(0, 2));
    expect([...col(a, 'time')].length).toBe(2);
    expect(a.getChild('time')!.data.flatMap((d) => [...(d.values as BigInt64Array)])).toEqual([5n, T0]);
    expect(a.getChild('i')!.data.flatMap((d) => [...(d.values as BigInt64Array)])).toEqual([1n, I64_MAX]);
    expect([...col(a, 'region')]).toEqual(['us', 'us']);
    expect(typeName(batches[3]!, 'dc')).toBe('Dictionary<Int32, Utf8>');
    expect(oneChunkInt64s(batches[4]!, 'time')).toEqual([2n]);
  });

  it('works without a schema lookup (types inferred) and stops reading when the consumer stops', async () => {
    let pulled = 0;
    async function* counting(): AsyncGenerator<QueryResponse> {
      for (const c of stream) {
        pulled++;
        yield c;
      }
    }
    for await (const b of responseChunksToRecordBatches(counting())) {
      expect(typeName(b, 'region')).toBe('Utf8');
      break;
    }
    expect(pulled).toBe(1);
  });
});

describe('output dispatch (index.ts)', () => {
  it('resolveOutput accepts raw, iterable, arrow and the alias dataframe', () => {
    expect(resolveOutput('raw')).toBe('raw');
    expect(resolveOutput('iterable')).toBe('iterable');
    expect(resolveOutput('arrow')).toBe('arrow');
    expect(resolveOutput('dataframe')).toBe('arrow');
    expect(() => resolveOutput('json')).toThrow(/output must be one of 'raw', 'iterable', 'arrow', 'dataframe' \(got "json"\)/);
    expect(() => resolveOutput(undefined, 'query options.output')).toThrow(/query options.output must be/);
  });

  it('formatResponse / formatChunks apply each format, arrow with the schema cache', async () => {
    const resp = answer([cpuSeries]);
    const calls: string[] = [];
    const cache = new SchemaCache(async (q) => {
      calls.push(q);
      return answer(
        [{ name: 'cpu', columns: ['fieldKey', 'fieldType'], values: [['b', 'boolean'], ['f', 'float'], ['i', 'integer'], ['s', 'string']] }],
        [{ name: 'cpu', columns: ['tagKey'], values: [['host'], ['region']] }],
      );
    });
    expect(await formatResponse(resp, { output: 'raw' })).toBe(resp);
    const it = await formatResponse(resp, { output: 'iterable', parser: (x) => x[0] });
    expect([...(it as Iterable<unknown>)]).toEqual([5, T0, T0 + 1n]);
    const t = asTable((await formatResponse(resp, { output: 'arrow', schemas: cache, db: 'd' })) as ArrowResult);
    expect(typeName(t, 'host')).toBe('Dictionary<Int32, Utf8>');
    expect(calls).toEqual(['SHOW FIELD KEYS FROM "cpu"; SHOW TAG KEYS FROM "cpu"']);
    async function* one(): AsyncGenerator<QueryResponse> {
      yield resp;
    }
    const batches: RecordBatch[] = [];
    for await (const b of formatChunks(one(), { output: 'arrow', schemas: cache, db: 'd' }) as AsyncIterable<RecordBatch>) batches.push(b);
    expect(oneChunkInt64s(batches[0]!, 'i')).toEqual([1n, I64_MAX, I64_MIN]);
    expect(calls).toHaveLength(1); // cached
  });
});

describe('SeriesConverter', () => {
  it('builds 100k rows of the benchmark shape with exact values', () => {
    const n = 100_000;
    const values: QueryValue[][] = Array.from({ length: n }, (_, i) => [T0 + BigInt(i), i * 0.5, i, I64_MAX - BigInt(i), 'ok', `host-${i % 3}`, 'us-west-3', 'rack-5']);
    const s = schema({ a: 'float', b: 'float', c: 'integer', d: 'integer', e: 'string' }, ['host', 'region', 'rack']);
    const b = new SeriesConverter().toRecordBatch({ name: 'x', columns: ['time', 'a', 'b', 'c', 'e', 'host', 'region', 'rack'], values: values.map((r) => [r[0]!, r[1]!, r[2]!, r[3]!, r[4]!, r[5]!, r[6]!, r[7]!]) }, 0, s);
    const time = b.getChild('time')!.data[0]!.values as BigInt64Array;
    expect(time[n - 1]).toBe(T0 + BigInt(n - 1));
    expect((b.getChild('c')!.data[0]!.values as BigInt64Array)[n - 1]).toBe(I64_MAX - BigInt(n - 1));
    expect(b.getChild('host')!.get(n - 1)).toBe(`host-${(n - 1) % 3}`);
  });
});
