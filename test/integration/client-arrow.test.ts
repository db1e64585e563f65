/**
 * Arrow through the client, both ways, against the real influxd: aioinflux's DataFrame example,
 * a round trip of every supported type (nulls, dictionary tags, hostile strings, every
 * timestamp unit) from write() to query({ output: 'arrow' }), record-batch streams, skipped rows.
 */
import * as A from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxDBClient, InvalidOptionError, InvalidPointError, encode } from '../../src/index.js';
import { int64s } from '../helpers/arrow-read.js';
import { sharedInfluxUrl, uniqueDb } from '../helpers/server.js';

const url = sharedInfluxUrl();
let client: InfluxDBClient;
let db: string;

const dict = (values: (string | null)[]) => A.vectorFromArray(values, new A.Dictionary(new A.Utf8(), new A.Int32()));
const utf8 = (values: (string | null)[]) => A.vectorFromArray(values, new A.Utf8());
/** A Timestamp column built from the raw int64 values (Arrow's builders would go through ms doubles). */
function timestamps(unit: A.TimeUnit, raw: bigint[]): A.Vector {
  const type = new A.Timestamp(unit, 'UTC');
  return A.makeVector(A.makeData({ type, length: raw.length, data: BigInt64Array.from(raw) }));
}

beforeAll(async () => {
  db = uniqueDb('carrow');
  client = new InfluxDBClient({ url, db });
  await client.createDatabase();
});

afterAll(async () => {
  await client.dropDatabase();
  await client.close();
});

describe('writing Arrow tables', () => {
  it('aioinflux\'s DataFrame example: measurement, tag_columns and an extra tag', async () => {
    const times = ['2017-06-24T08:45:17.929097Z', '2017-06-24T10:15:17.929097Z', '2017-06-24T11:45:17.929097Z'];
    const df = new A.Table({
      time: timestamps(A.TimeUnit.MICROSECOND, times.map((t) => BigInt(Date.parse(t)) * 1000n + 97n)),
      LUY: A.vectorFromArray([2.545409, -0.306673, 0.894738], new A.Float64()),
      BEM: A.vectorFromArray([5.173134, -1.132941, -0.561979], new A.Float64()),
      AJW: A.vectorFromArray([5.532397, -2.130625, -1.48794], new A.Float64()),
      tag: utf8(['B', 'E', 'B']),
    });
    await client.write(df, { measurement: 'prices', tagColumns: ['tag'], tags: { asset_class: 'equities' } });
    const r = await client.query('SELECT * FROM prices', { output: 'arrow' }) as A.Table;
    expect(r.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'time:Timestamp<NANOSECOND, UTC>', 'AJW:Float64', 'BEM:Float64', 'LUY:Float64',
      'asset_class:Dictionary<Int32, Utf8>', 'tag:Dictionary<Int32, Utf8>',
    ]);
    expect(int64s(r, 'time')[0]).toBe(BigInt(Date.parse(times[0]!)) * 1_000_000n + 97_000n);
    expect([...r.getChild('LUY')!]).toEqual([2.545409, -0.306673, 0.894738]);
    expect([...r.getChild('tag')!]).toEqual(['B', 'E', 'B']);
    expect([...r.getChild('asset_class')!]).toEqual(['equities', 'equities', 'equities']);
  });

  it('round-trips every supported type, nulls and hostile strings into query({ output: "arrow" })', async () => {
    const hostile = ['a,b c=d', 'quote " and \\ backslash', 'trailing\\', 'über 🚀', null, ''];
    const n = hostile.length;
    const t = new A.Table({
      ts: timestamps(A.TimeUnit.NANOSECOND, Array.from({ length: n }, (_, i) => 1704067200000000001n + BigInt(i))),
      host: dict(['h1', 'h2', null, 'h1', 'h3', 'h2']),
      f: A.vectorFromArray([1.5, null, -0, 5e-324, 1e21, 63.414885615], new A.Float64()),
      i: A.vectorFromArray([9223372036854775807n, -9223372036854775808n, null, 0n, 1n, -1n], new A.Int64()),
      i8: A.vectorFromArray([1, 2, 3, null, -128, 127], new A.Int8()),
      u32: A.vectorFromArray([4294967295, 0, 1, 2, 3, null], new A.Uint32()),
      b: A.vectorFromArray([true, false, null, true, false, true], new A.Bool()),
      s: utf8(hostile),
    });
    await client.write(t, { measurement: 'all_types', timeColumn: 'ts' });
    const r = await client.query('SELECT * FROM all_types', { output: 'arrow' }) as A.Table;
    expect(r.numRows).toBe(n);
    expect(r.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'time:Timestamp<NANOSECOND, UTC>', 'b:Bool', 'f:Float64', 'host:Dictionary<Int32, Utf8>', 'i:Int64', 'i8:Int64', 's:Utf8', 'u32:Int64',
    ]);
    expect(int64s(r, 'time')).toEqual(Array.from({ length: n }, (_, i) => 1704067200000000001n + BigInt(i)));
    const i = r.getChild('i')!;
    expect([0, 1, 3, 4, 5].map((k) => (i.data[0]!.values as BigInt64Array)[k])).toEqual([9223372036854775807n, -9223372036854775808n, 0n, 1n, -1n]);
    expect(i.get(2)).toBeNull();
    expect([...r.getChild('f')!].map((x) => (x === null ? null : Object.is(x, -0) ? '-0' : x))).toEqual([1.5, null, '-0', 5e-324, 1e21, 63.414885615]);
    expect([...r.getChild('b')!]).toEqual([true, false, null, true, false, true]);
    expect([...r.getChild('s')!]).toEqual(['a,b c=d', 'quote " and \\ backslash', 'trailing\\', 'über 🚀', null, '']);
    expect([...r.getChild('host')!]).toEqual(['h1', 'h2', null, 'h1', 'h3', 'h2']);
    expect([...r.getChild('i8')!].map((x) => (x === null ? null : Number(x)))).toEqual([1, 2, 3, null, -128, 127]);
    expect([...r.getChild('u32')!].map((x) => (x === null ? null : Number(x)))).toEqual([4294967295, 0, 1, 2, 3, null]);
  });

  it('stores every timestamp unit, and Date columns, exactly', async () => {
    const base = 1704067200n; // seconds
    const tables: Array<[string, A.Table]> = [
      ['s', new A.Table({ time: timestamps(A.TimeUnit.SECOND, [base]), v: A.vectorFromArray([1], new A.Float64()) })],
      ['ms', new A.Table({ time: timestamps(A.TimeUnit.MILLISECOND, [base * 1000n + 123n]), v: A.vectorFromArray([2], new A.Float64()) })],
      ['us', new A.Table({ time: timestamps(A.TimeUnit.MICROSECOND, [base * 1_000_000n + 123_456n]), v: A.vectorFromArray([3], new A.Float64()) })],
      ['ns', new A.Table({ time: timestamps(A.TimeUnit.NANOSECOND, [base * 1_000_000_000n + 123_456_789n]), v: A.vectorFromArray([4], new A.Float64()) })],
      ['date', new A.Table({ time: A.vectorFromArray([new Date(Number(base) * 1000 + 5)], new A.DateMillisecond()), v: A.vectorFromArray([5], new A.Float64()) })],
    ];
    for (const [unit, t] of tables) await client.write(t, { measurement: `unit_${unit}` });
    const got: Record<string, bigint> = {};
    for (const [unit] of tables) got[unit] = int64s(await client.query(`SELECT * FROM unit_${unit}`, { output: 'arrow' }) as A.Table, 'time')[0]!;
    expect(got).toEqual({
      s: 1704067200000000000n, ms: 1704067200123000000n, us: 1704067200123456000n, ns: 1704067200123456789n, date: 1704067200005000000n,
    });
  });

  it('takes record batches from an IPC stream, sync or async', async () => {
    const t = new A.Table({
      time: timestamps(A.TimeUnit.NANOSECOND, [1n, 2n, 3n]),
      v: A.vectorFromArray([1, 2, 3], new A.Float64()),
    });
    const ipc = A.tableToIPC(t, 'stream');
    await client.write(A.RecordBatchReader.from(ipc), { measurement: 'ipc_sync' });
    async function* chunks() {
      yield ipc.subarray(0, 100);
      yield ipc.subarray(100);
    }
    const reader = await A.RecordBatchReader.from(chunks());
    await client.write(reader, { measurement: 'ipc_async' });
    async function* batches() {
      for (const b of t.batches) yield b;
    }
    await client.write(batches(), { measurement: 'ipc_gen' });
    for (const m of ['ipc_sync', 'ipc_async', 'ipc_gen']) {
      expect((await client.query(`SELECT count(v) FROM ${m}`)).results[0]!.series![0]!.values![0]![1]).toBe(3);
    }
  });

  it('rejects a row without fields, naming it, or skips it and reports it when asked', async () => {
    const t = new A.Table({
      time: timestamps(A.TimeUnit.NANOSECOND, [1n, 2n, 3n, 4n]),
      v: A.vectorFromArray([1, null, 3, null], new A.Float64()),
    });
    const err = await client.write(t, { measurement: 'skips' }).catch((e: unknown) => e) as InvalidPointError;
    expect(err).toBeInstanceOf(InvalidPointError);
    expect(err.message).toMatch(/rows 1, 3 have no non-null field/);
    expect((await client.query('SELECT count(v) FROM skips')).results[0]!.series).toBeUndefined();
    const report = await client.write(t, { measurement: 'skips', invalidRows: 'skip' });
    expect(report).toEqual({ written: 2, skipped: 2, skippedRows: [1, 3] });
    expect((await client.query('SELECT count(v) FROM skips')).results[0]!.series![0]!.values![0]![1]).toBe(2);
  });

  it('rejects NaN in a float column by default, or leaves the field out', async () => {
    const t = new A.Table({
      time: timestamps(A.TimeUnit.NANOSECOND, [1n, 2n]),
      v: A.vectorFromArray([Number.NaN, 2], new A.Float64()),
      w: A.vectorFromArray([1, 2], new A.Float64()),
    });
    await expect(client.write(t, { measurement: 'nan' })).rejects.toThrow(/invalid point #0: field "v": NaN cannot be written/);
    await client.write(t, { measurement: 'nan', nonFinite: 'skipField' });
    const r = await client.query('SELECT v, w FROM nan', { epoch: 'n' });
    expect(r.results[0]!.series![0]!.values).toEqual([[1, null, 1], [2, 2, 2]]);
  });

  it('names the column of an unsupported type, and a missing time column', async () => {
    const list = new A.Table({ v: A.vectorFromArray([[1, 2]], new A.List(new A.Field('x', new A.Int32()))) });
    await expect(client.write(list, { measurement: 'bad' })).rejects.toThrow(/"v".*List/);
    const t = new A.Table({ v: A.vectorFromArray([1], new A.Float64()) });
    await expect(client.write(t, { measurement: 'bad', timeColumn: 'when' })).rejects.toBeInstanceOf(InvalidOptionError);
  });

  it('encode() gives the same bytes for a table as for the equivalent points', () => {
    const t = new A.Table({
      time: timestamps(A.TimeUnit.NANOSECOND, [1n]),
      host: dict(['a b']),
      v: A.vectorFromArray([0.5], new A.Float64()),
    });
    expect(encode(t, { measurement: 'm' }).toString()).toBe('m,host=a\\ b v=0.5 1\n');
    expect(encode({ measurement: 'm', tags: { host: 'a b' }, fields: { v: 0.5 }, time: 1n }).toString()).toBe('m,host=a\\ b v=0.5 1\n');
  });
});
